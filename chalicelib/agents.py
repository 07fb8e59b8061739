"""The agents' directory: who the members of the Cognito user pool are.

Agents are recorded by their stable Cognito ``sub`` (in the history, as authors and
as assignees); the directory turns a sub into the name and email shown today, and an
email into the agent it belongs to. Cognito's ListUsers is read at most once per
``cache_seconds`` per process.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from chalicelib.domain import CUSTOMER, Agent
from chalicelib.errors import ServiceUnavailable, ValidationFailed
from chalicelib.observability import logger

# A pool of a few hundred agents is read in a few pages; more is not a help desk.
_MAX_AGENTS = 2000


class AgentSource(Protocol):
    """Where agents come from (Cognito, or a list in tests)."""

    def list_agents(self) -> list[Agent]: ...


class CognitoAgentSource:
    """The user pool's users, through boto3 (locally: moto's Cognito)."""

    def __init__(self, user_pool_id: str, region: str) -> None:
        self._pool = user_pool_id
        self._region = region
        self._client: Any = None

    def list_agents(self) -> list[Agent]:
        """Every user of the pool (enabled or not), with sub, email and name."""
        if self._client is None:
            import boto3  # lazy: only requests that name agents pay for it

            self._client = boto3.client("cognito-idp", region_name=self._region)
        agents: list[Agent] = []
        token: str | None = None
        while len(agents) < _MAX_AGENTS:
            kwargs: dict[str, Any] = {"UserPoolId": self._pool, "Limit": 60}
            if token:
                kwargs["PaginationToken"] = token
            page = self._client.list_users(**kwargs)
            for user in page.get("Users", []):
                attributes = {a["Name"]: a["Value"] for a in user.get("Attributes", [])}
                sub = attributes.get("sub")
                email = attributes.get("email")
                if sub and email:
                    agents.append(
                        Agent(
                            id=sub,
                            email=email.lower(),
                            name=(attributes.get("name") or "").strip() or None,
                            enabled=bool(user.get("Enabled", True)),
                        )
                    )
            token = page.get("PaginationToken")
            if not token:
                break
        return agents


class AgentDirectory:
    """Cached lookups of agents by sub and by email."""

    def __init__(
        self,
        source: AgentSource | None,
        cache_seconds: int = 60,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._source = source
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._loaded_at: float | None = None
        self._by_id: dict[str, Agent] = {}
        self._by_email: dict[str, Agent] = {}

    def _load(self, force: bool = False) -> None:
        with self._lock:
            fresh = (
                self._loaded_at is not None
                and self._clock() - self._loaded_at < self._cache_seconds
            )
            if fresh and not force:
                return
            if self._source is None:
                raise ServiceUnavailable("The agents' directory is not configured", 5)
            try:
                agents = self._source.list_agents()
            except Exception as exc:
                logger.warning("agents directory unavailable", extra={"error": str(exc)})
                raise ServiceUnavailable(
                    "The agents' directory is unavailable right now; please retry shortly.", 5
                ) from exc
            self._by_id = {agent.id: agent for agent in agents}
            self._by_email = {agent.email: agent for agent in agents}
            self._loaded_at = self._clock()

    def agents(self) -> list[Agent]:
        """Every agent, sorted by display name."""
        self._load()
        return sorted(self._by_id.values(), key=lambda a: (a.display_name.casefold(), a.email))

    def by_id(self, agent_id: str) -> Agent | None:
        """The agent with this sub, or None (a removed agent, or the directory is down)."""
        try:
            self._load()
        except ServiceUnavailable:
            return None
        return self._by_id.get(agent_id)

    def assignable(self, email: str) -> Agent:
        """The enabled agent with this email; a 400 when there is none."""
        self._load()
        agent = self._by_email.get(email.lower())
        if agent is None:
            self._load(force=True)  # an agent added a moment ago
            agent = self._by_email.get(email.lower())
        if agent is None or not agent.enabled:
            message = f"{email} is not an agent of this desk (GET /api/agents/ lists them)"
            raise ValidationFailed(f"assignee: {message}", fields={"assignee": message})
        return agent

    def display_name(self, actor: str) -> str:
        """How an actor recorded in the history or on a message is shown to agents."""
        if actor == CUSTOMER:
            return "Customer"
        if "@" in actor:
            return actor  # recorded by email before subs were recorded
        agent = self.by_id(actor)
        return agent.display_name if agent else "A former agent"

    def email_of(self, agent_id: str | None) -> str | None:
        """The agent's current email, if the agent is known."""
        if agent_id is None:
            return None
        if "@" in agent_id:
            return agent_id
        agent = self.by_id(agent_id)
        return agent.email if agent else None

    def public_name(self, actor: str) -> str:
        """How an agent is named to a customer: their name if they set one, else "Support"."""
        agent = self.by_id(actor) if "@" not in actor else None
        return agent.name if agent and agent.name else "Support"
