"""Fixtures and helpers for the browser tests of the static site (tests/e2e/test_site_*.py).

Every test shares one local stack, so each one makes its own data with a unique
token in titles and searches, and never depends on what other tests created.

Signing in: ``tests/e2e/test_site_auth.py`` signs in through the form, as a person
does (success, wrong password, sign-out, expiry). Every other test starts as an agent
who has already signed in in that tab: ``desk`` puts the demo agent's tokens (one
Cognito sign-in per session) into the tab's sessionStorage, exactly as the form
stores them, before the page's scripts run. That spares each test a page load and a
Cognito round trip, and a second tab of the same test is signed in too.
"""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pytest
import requests
from playwright.sync_api import BrowserContext, ConsoleMessage, Page, expect

from local_stack.cognito import sign_in
from tests.e2e.conftest import PROJECT_DIR, RunningStack

RESULTS_DIR = PROJECT_DIR / "test-results"
DEFAULT_TIMEOUT_MS = 10_000
# Where the site keeps its session (static-site/js/session.js).
SESSION_STORAGE_KEY = "support-desk.session"
# The first classification of a session pays the API's cold imports (anthropic SDK);
# on this 2-core machine under a full test run that can take several seconds.
expect.set_options(timeout=DEFAULT_TIMEOUT_MS)


@dataclass(frozen=True)
class AgentTokens:
    """What Cognito answered to the demo agent's sign-in."""

    id_token: str
    refresh_token: str
    username: str

    def stored_session(self) -> dict[str, Any]:
        """The site's sessionStorage entry for these tokens."""
        return {
            "idToken": self.id_token,
            "refreshToken": self.refresh_token,
            "expiresAt": jwt_claims(self.id_token)["exp"] * 1000,
            "username": self.username,
        }


def jwt_claims(token: str) -> dict[str, Any]:
    """The payload of a JWT (not verified: only for arranging tests)."""
    payload = token.split(".")[1]
    claims: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return claims


@dataclass
class Desk:
    """The site open in a browser page, plus direct API access for arranging data."""

    page: Page
    stack: RunningStack
    agent_headers: dict[str, str] = field(default_factory=dict)
    csp_violations: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    console_lines: list[str] = field(default_factory=list)

    def open(self, route: str) -> Page:
        """Load the site at a hash route such as ``#/tickets?search=x``."""
        self.page.goto(self.stack.site_url + route)
        return self.page

    @property
    def agent_username(self) -> str:
        return self.stack.state["agent_username"]

    def sign_in_with_form(self, username: str | None = None, password: str | None = None) -> None:
        """Fill in and send the sign-in form that is on the page, from the keyboard only."""
        page = self.page
        expect(page.get_by_role("heading", name="Agent sign-in")).to_be_visible()
        page.get_by_label("Email").fill(username or self.agent_username)
        page.get_by_label("Password").fill(password or self.stack.state["agent_password"])
        page.get_by_label("Password").press("Enter")

    def stored_session(self) -> dict[str, Any] | None:
        """What the page keeps in sessionStorage (None when signed out)."""
        text = self.page.evaluate(f"sessionStorage.getItem({SESSION_STORAGE_KEY!r})")
        return json.loads(text) if text else None

    def store_session(self, stored: dict[str, Any]) -> None:
        """Replace the page's stored session (it is read when the page loads)."""
        self.page.evaluate(
            "([key, value]) => sessionStorage.setItem(key, value)",
            [SESSION_STORAGE_KEY, json.dumps(stored)],
        )

    def api_find(self, text: str) -> list[dict[str, Any]]:
        """Every ticket whose title or description contains ``text``, as an agent sees them."""
        found: list[dict[str, Any]] = []
        url: str | None = f"{self.stack.api_url}/tickets/?search={quote(text)}&limit=100"
        while url:
            response = requests.get(url, headers=self.agent_headers, timeout=10)
            assert response.status_code == 200, response.text
            found.extend(response.json())
            url = response.links.get("next", {}).get("url")
            if url and url.startswith("/"):
                url = self.stack.api_url.removesuffix("/api") + url
        return found

    def api_find_at_least(self, text: str, count: int = 1) -> list[dict[str, Any]]:
        """``api_find`` once the search has caught up with ``count`` tickets.

        The search index is written from the table's stream (about a second later), so a
        search sent at once can miss a ticket created a moment before.
        """
        deadline = time.monotonic() + 10
        while len(found := self.api_find(text)) < count:
            assert time.monotonic() < deadline, f"the search never found {count} x {text}"
            time.sleep(0.2)
        return found

    def api_create(self, **fields: Any) -> dict[str, Any]:
        """Create a ticket through the API (behind the page's back)."""
        body = {
            "title": f"Ticket {unique()}",
            "description": "Created by a browser test.",
            **fields,
        }
        response = requests.post(f"{self.stack.api_url}/tickets/", json=body, timeout=10)
        assert response.status_code == 201, response.text
        ticket: dict[str, Any] = response.json()
        return ticket

    def api_get(self, ticket_id: str) -> dict[str, Any]:
        response = requests.get(
            f"{self.stack.api_url}/tickets/{ticket_id}/", headers=self.agent_headers, timeout=10
        )
        assert response.status_code == 200, response.text
        ticket: dict[str, Any] = response.json()
        return ticket

    def api_patch(self, ticket_id: str, changes: dict[str, Any], version: int) -> Any:
        """Change a ticket as another agent would (behind the page's back)."""
        return requests.patch(
            f"{self.stack.api_url}/tickets/{ticket_id}/",
            json=changes,
            headers={**self.agent_headers, "If-Match": f'"v{version}"'},
            timeout=10,
        )

    def api_stats(self) -> dict[str, Any]:
        response = requests.get(
            f"{self.stack.api_url}/tickets/stats/", headers=self.agent_headers, timeout=10
        )
        response.raise_for_status()
        stats: dict[str, Any] = response.json()
        return stats


def unique() -> str:
    """A token no other test (or seed ticket) contains: safe to search for."""
    return "zq" + uuid.uuid4().hex[:10]


@pytest.fixture(scope="session")
def agent_tokens(stack: RunningStack) -> AgentTokens:
    """One Cognito sign-in of the demo agent for the session (an ID token lasts an hour)."""
    state = stack.state
    result = sign_in(
        state["cognito_endpoint"],
        state["cognito_client_id"],
        state["agent_username"],
        state["agent_password"],
    )
    return AgentTokens(
        id_token=str(result["IdToken"]),
        refresh_token=str(result["RefreshToken"]),
        username=state["agent_username"],
    )


@pytest.fixture(scope="session")
def agent_headers(agent_tokens: AgentTokens) -> dict[str, str]:
    """``Authorization`` for the demo agent, for arranging and checking data via the API."""
    return {"Authorization": f"Bearer {agent_tokens.id_token}"}


# Runs before the page's own scripts in every document of the context. Seeds the
# session once per tab: after the test signs out, a reload stays signed out.
_SEED_SESSION = """
(([origin, key, value]) => {
  try {
    if (window.location.origin !== origin || sessionStorage.getItem("e2e-seeded")) return;
    sessionStorage.setItem("e2e-seeded", "1");
    sessionStorage.setItem(key, value);
  } catch (error) {}
})(%s);
"""


@pytest.fixture(name="desk")
def desk_fixture(
    page: Page,
    stack: RunningStack,
    agent_tokens: AgentTokens,
    agent_headers: dict[str, str],
    request: pytest.FixtureRequest,
) -> Iterator[Desk]:
    """The site in a fresh page, as the demo agent who has signed in in this tab.

    See the module docstring for why the tokens are put in sessionStorage rather
    than typed into the form for every test.
    """
    seed_session(page.context, stack, agent_tokens)
    yield from _watched_desk(page, stack, agent_headers, request, agent_tokens)


def seed_session(context: BrowserContext, stack: RunningStack, agent_tokens: AgentTokens) -> None:
    """Every tab of ``context`` starts signed in as the demo agent (as ``desk`` does).

    For contexts a test makes itself, such as the axe audit's ``bypass_csp=True`` one.
    """
    origin = stack.site_url.rstrip("/")
    seed = json.dumps([origin, SESSION_STORAGE_KEY, json.dumps(agent_tokens.stored_session())])
    context.add_init_script(_SEED_SESSION % seed)


@pytest.fixture(name="anonymous_desk")
def anonymous_desk_fixture(
    page: Page,
    stack: RunningStack,
    agent_tokens: AgentTokens,
    agent_headers: dict[str, str],
    request: pytest.FixtureRequest,
) -> Iterator[Desk]:
    """The site in a fresh page with nobody signed in (the API calls still act as an agent)."""
    yield from _watched_desk(page, stack, agent_headers, request, agent_tokens)


def _watched_desk(
    page: Page,
    stack: RunningStack,
    agent_headers: dict[str, str],
    request: pytest.FixtureRequest,
    agent_tokens: AgentTokens,
) -> Iterator[Desk]:
    """A Desk whose test fails on page errors, CSP violations or a token in the console.

    When a test fails, a full-page screenshot goes to test-results/.
    """
    page.set_default_timeout(DEFAULT_TIMEOUT_MS)
    desk = Desk(page=page, stack=stack, agent_headers=agent_headers)

    def on_console(message: ConsoleMessage) -> None:
        desk.console_lines.append(message.text)
        if "Content Security Policy" in message.text:
            desk.csp_violations.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: desk.page_errors.append(str(error)))
    yield desk
    # pytest-playwright records each phase's report on the item (rep_setup, rep_call).
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        RESULTS_DIR.mkdir(exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.nodeid)[-150:]
        path = RESULTS_DIR / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        print(f"\nScreenshot of the failed test: {path.relative_to(PROJECT_DIR)}")
    assert not desk.page_errors, f"uncaught errors in the page: {desk.page_errors}"
    assert not desk.csp_violations, f"CSP violations: {desk.csp_violations}"
    # Tokens never go to the console (a JWT starts with "eyJ": base64 of '{"').
    leaked = [line for line in desk.console_lines if "eyJ" in line]
    assert not leaked, f"a token was written to the console: {leaked}"
    assert "eyJ" not in page.url, "a token was put in the address"
