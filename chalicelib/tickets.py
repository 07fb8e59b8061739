"""Ticket use cases: create, read, update, assign, delete, bulk changes, lists, history.

Routes call these functions; these call the repository, the classifier and the
agents' directory.
"""

from __future__ import annotations

import base64
import random
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from chalicelib.agents import AgentDirectory
from chalicelib.classification.service import TicketClassifier
from chalicelib.cursor import CursorCodec, query_fingerprint
from chalicelib.data.items import UNASSIGNED
from chalicelib.data.lists import ListSpec
from chalicelib.data.repository import StaleTicket, TicketRepository, WriteContention
from chalicelib.domain import (
    UNSOLVED,
    Actor,
    Classification,
    HistoryEntry,
    Status,
    Ticket,
    WaitingOn,
)
from chalicelib.errors import (
    AppError,
    IdempotencyKeyExpired,
    NoCustomerEmail,
    TicketNotFound,
    UpdateConflict,
    ValidationFailed,
    VersionMismatch,
)
from chalicelib.links import CustomerLinks
from chalicelib.observability import metrics
from chalicelib.validation import (
    ME,
    NOBODY,
    BulkRequest,
    ClassifyRequest,
    ListQuery,
    NewTicket,
    TicketChanges,
)

ANY_VERSION = "*"
IfMatch = frozenset[int] | str | None


def new_ticket_id() -> str:
    """Opaque, URL-safe, unguessable: 120 random bits in lowercase base32 (24 characters)."""
    return base64.b32encode(secrets.token_bytes(15)).decode("ascii").lower()


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class RetryBudget:
    """Retries of a write that lost a race: exponential backoff with full jitter, until
    a time budget (about 3 s) is spent. A database with row locks would have queued
    these writers; here they take turns."""

    BASE_SECONDS = 0.02
    CAP_SECONDS = 0.4

    def __init__(
        self,
        seconds: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self._seconds = seconds
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random()

    def attempts(self) -> Callable[[int], bool]:
        """A function called after each lost race: sleeps and says whether to try again."""
        deadline = self._clock() + self._seconds

        def again(attempt: int) -> bool:
            delay = self._rng.uniform(0, min(self.CAP_SECONDS, self.BASE_SECONDS * 2**attempt))
            if self._clock() + delay > deadline:
                return False
            self._sleep(delay)
            return True

        return again


@dataclass(frozen=True, slots=True)
class CreatedTicket:
    """A new ticket and the secret of the customer's private link (shown once)."""

    ticket: Ticket
    customer_key: str | None


@dataclass(frozen=True, slots=True)
class TicketList:
    """A page of tickets and the cursor of the next one, if any."""

    tickets: list[Ticket]
    next_cursor: str | None
    examined: int


@dataclass(frozen=True, slots=True)
class BulkOutcome:
    """What happened to one ticket of a bulk change."""

    ticket_id: str
    status: int
    ticket: Ticket | None = None
    error: AppError | None = None


class TicketService:
    """The ticket use cases, over an injected repository, classifier and directory."""

    def __init__(
        self,
        repository: TicketRepository,
        classifier: TicketClassifier,
        cursor_codec: CursorCodec,
        directory: AgentDirectory,
        links: CustomerLinks,
        retry: RetryBudget | None = None,
        clock: Callable[[], datetime] = utc_now,
        id_factory: Callable[[], str] = new_ticket_id,
    ) -> None:
        self._repository = repository
        self._classifier = classifier
        self._cursors = cursor_codec
        self._directory = directory
        self._links = links
        self._retry = retry or RetryBudget(3.0)
        self._clock = clock
        self._new_id = id_factory

    @property
    def links(self) -> CustomerLinks:
        """The customers' link issuer (for routes that show a link)."""
        return self._links

    def classify(self, request: ClassifyRequest) -> Classification:
        """A suggestion for the text (Claude, or offline with a warning)."""
        return self._classifier.classify(request.title, request.description)

    def create(self, new: NewTicket, actor: Actor, ticket_id: str | None = None) -> CreatedTicket:
        """Store a new ticket, with the server's own classification of its text.

        Customers' tickets always start open; a signed-in agent may set the status
        (logging a phone call already solved). Missing category or priority are
        taken from the classification; when both are given, no new Claude call is made:
        the cache is read for the suggestion the form showed (``suggestion_id``), else
        the offline classifier suggests.
        ``ticket_id`` (derived from an Idempotency-Key) makes a retried create land on
        the same item: if that id was ever used, the answer is a 409.
        """
        if new.status not in (None, Status.OPEN) and not actor.is_agent:
            message = "only a signed-in agent can set the status; a customer's ticket starts open"
            raise ValidationFailed(f"status: {message}", fields={"status": message})
        derived_id = ticket_id is not None
        needs_values = new.category is None or new.priority is None
        suggestion = self._classifier.classify(
            new.title, new.description, allow_llm=needs_values, suggestion_id=new.suggestion_id
        )
        now = self._clock()
        ticket_id = ticket_id or self._new_id()
        link = self._links.issue(ticket_id)
        status = new.status or Status.OPEN
        ticket = Ticket(
            id=ticket_id,
            number=self._repository.next_number(),
            title=new.title,
            description=new.description,
            category=new.category or suggestion.category,
            priority=new.priority or suggestion.priority,
            status=status,
            created_at=now,
            updated_at=now,
            version=1,
            suggested_category=suggestion.category,
            suggested_priority=suggestion.priority,
            classification_source=suggestion.source,
            suggested_confidence=suggestion.confidence,
            customer_email=new.customer_email,
            customer_name=new.customer_name,
            waiting_on=WaitingOn.AGENT if status in UNSOLVED else None,
            access_nonce=link.nonce,
            access_key_hash=link.key_hash,
            email_key_hash=link.email_key_hash,
        )
        try:
            self._write(lambda: self._repository.create(ticket, actor.id))
        except StaleTicket as exc:
            if not derived_id:
                raise
            raise IdempotencyKeyExpired(
                "This Idempotency-Key was already used for a ticket, and the record of that "
                "answer has expired; use a new key to create a new ticket"
            ) from exc
        metrics.add_metric(name="TicketsCreated", unit=MetricUnit.Count, value=1)
        return CreatedTicket(ticket, link.secret)

    def get(self, ticket_id: str) -> Ticket:
        """The ticket, or TicketNotFound."""
        return self._repository.get(ticket_id)

    def get_by_number(self, number: int) -> Ticket:
        """The ticket with this number, or TicketNotFound."""
        return self._repository.get_by_number(number)

    def update(
        self, ticket_id: str, changes: TicketChanges, if_match: IfMatch, actor: Actor
    ) -> Ticket:
        """Apply a partial update atomically; 412 when ``if_match`` is stale."""
        fields = changes.as_dict()
        if changes.assigns:
            email = changes.assignee
            fields["assignee"] = None if email is None else self._directory.assignable(email).id

        def attempt() -> Ticket:
            current = self._repository.get(ticket_id)
            _check_precondition(current, if_match)
            if all(getattr(current, name) == value for name, value in fields.items()):
                return current  # nothing changes: no write, no new version
            updated = replace(
                current, **fields, version=current.version + 1, updated_at=self._clock()
            )
            if updated.unsolved != current.unsolved or updated.status != current.status:
                updated = _waiting_after_status(current, updated)
            self._repository.update(current, updated, actor.id)
            metrics.add_metric(name="TicketsUpdated", unit=MetricUnit.Count, value=1)
            return updated

        result: Ticket = self._read_modify_write(attempt, if_match)
        return result

    def renew_link(self, ticket_id: str, actor: Actor) -> Ticket:
        """Issue the customer a new private link (the old one stops working); the mailer
        sends it to the customer's email."""

        def attempt() -> Ticket:
            current = self._repository.get(ticket_id)
            if not current.customer_email:
                raise NoCustomerEmail(
                    "This ticket has no customer email to send a link to", field="customer_email"
                )
            link = self._links.issue(current.id)
            updated = replace(
                current,
                access_nonce=link.nonce,
                access_key_hash=link.key_hash,
                email_key_hash=link.email_key_hash,
                version=current.version + 1,
                updated_at=self._clock(),
            )
            self._repository.update(current, updated, actor.id, action="link_renewed")
            return updated

        result: Ticket = self._read_modify_write(attempt, None)
        return result

    def delete(self, ticket_id: str, if_match: IfMatch, actor: Actor) -> None:
        """Delete the ticket (and count it out); 412 when ``if_match`` is stale."""

        def attempt() -> None:
            current = self._repository.get(ticket_id)
            _check_precondition(current, if_match)
            self._repository.delete(current, actor.id, self._clock())
            metrics.add_metric(name="TicketsDeleted", unit=MetricUnit.Count, value=1)

        self._read_modify_write(attempt, if_match)

    def bulk_update(self, request: BulkRequest, actor: Actor) -> list[BulkOutcome]:
        """Apply each item's changes, conditional on the version the agent saw; every
        ticket gets its own outcome (a 412 or a 404 never stops the others)."""
        outcomes: list[BulkOutcome] = []
        for item in request.items:
            try:
                ticket = self.update(item.ticket_id, item.changes, frozenset({item.version}), actor)
            except AppError as error:
                current = error.current if isinstance(error, VersionMismatch) else None
                outcomes.append(BulkOutcome(item.ticket_id, error.status_code, current, error))
                continue
            outcomes.append(BulkOutcome(item.ticket_id, 200, ticket))
        return outcomes

    def _read_modify_write(self, attempt: Callable[[], Any], if_match: IfMatch) -> Any:
        again = self._retry.attempts()
        tries = 0
        while True:
            try:
                return attempt()
            except (StaleTicket, WriteContention) as exc:
                if isinstance(exc, StaleTicket) and if_match is not None:
                    raise VersionMismatch(
                        "The ticket was changed by someone else since you loaded it; "
                        "reload it and apply your change again"
                    ) from exc
                tries += 1
                if not again(tries):
                    raise UpdateConflict(
                        "The ticket is being changed by others right now; please retry"
                    ) from exc

    def _write(self, write: Callable[[], None]) -> None:
        again = self._retry.attempts()
        tries = 0
        while True:
            try:
                write()
                return
            except WriteContention as exc:
                tries += 1
                if not again(tries):
                    raise UpdateConflict("The service is busy right now; please retry") from exc

    def list_spec(self, query: ListQuery, actor: Actor) -> tuple[ListSpec, dict[str, Any]]:
        """The data-level list for a validated query, and the filters its cursor is sealed to."""
        filters: dict[str, frozenset[str]] = {}
        if query.category is not None:
            filters["category"] = frozenset({query.category.value})
        if query.priority is not None:
            filters["priority"] = frozenset({query.priority.value})
        if query.unsolved:
            filters["status"] = frozenset(status.value for status in UNSOLVED)
        elif query.status is not None:
            filters["status"] = frozenset({query.status.value})
        if query.assignee is not None:
            if query.assignee == ME:
                if not actor.is_agent:
                    raise ValidationFailed("assignee=me needs a signed-in agent")
                filters["assignee"] = frozenset({actor.id})
            elif query.assignee == NOBODY:
                filters["assignee"] = frozenset({UNASSIGNED})
            else:
                filters["assignee"] = frozenset({self._directory.assignable(query.assignee).id})
        return ListSpec(filters, query.sort, query.search), filters

    def list_tickets(self, query: ListQuery, actor: Actor) -> TicketList:
        """One page of tickets for the query, with the next page's cursor."""
        spec, filters = self.list_spec(query, actor)
        search_text = query.search.text if query.search else None
        fingerprint = query_fingerprint(filters, search_text, query.sort.value)
        position = self._cursors.decode(query.cursor, fingerprint) if query.cursor else None
        page = self._repository.list_page(spec, query.limit, position)
        next_cursor = (
            self._cursors.encode(page.next_position, fingerprint) if page.next_position else None
        )
        return TicketList(page.tickets, next_cursor, page.examined)

    def history(self, ticket_id: str) -> list[HistoryEntry]:
        """The ticket's change history, oldest first; TicketNotFound if it never existed.

        The history outlives a deleted ticket (it is the audit log), ending with the
        "deleted" entry.
        """
        entries = self._repository.history(ticket_id)
        if not entries:
            raise TicketNotFound(ticket_id)
        return entries


def _waiting_after_status(before: Ticket, after: Ticket) -> Ticket:
    """Solved tickets wait on nobody; a reopened one waits on the agents again."""
    if not after.unsolved:
        return replace(after, waiting_on=None)
    if not before.unsolved and after.waiting_on is None:
        return replace(after, waiting_on=WaitingOn.AGENT)
    return after


def _check_precondition(current: Ticket, if_match: IfMatch) -> None:
    if if_match is None or if_match == ANY_VERSION:
        return
    if isinstance(if_match, frozenset) and current.version in if_match:
        return
    raise VersionMismatch(
        f"The ticket has changed since you loaded it (it is now at version {current.version}); "
        "review the current version and apply your change again",
        current=current,
        current_version=current.version,
    )
