"""Ticket business logic: create, read, update, delete, list, stats, history.

Routes call these functions; these call the repository and the classifier.
"""

from __future__ import annotations

import base64
import random
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from chalicelib.classification.service import TicketClassifier
from chalicelib.cursor import CursorCodec, query_fingerprint
from chalicelib.data.repository import StaleTicket, TicketRepository, WriteContention
from chalicelib.domain import Classification, HistoryEntry, Status, Ticket
from chalicelib.errors import UpdateConflict, VersionMismatch
from chalicelib.observability import metrics
from chalicelib.validation import ClassifyRequest, ListQuery, NewTicket, TicketChanges

# Read-modify-write attempts when another writer got in between (no If-Match given).
MAX_WRITE_ATTEMPTS = 4
ANY_VERSION = "*"
IfMatch = frozenset[int] | str | None


def new_ticket_id() -> str:
    """Opaque, URL-safe, unguessable: 120 random bits in lowercase base32 (24 characters)."""
    return base64.b32encode(secrets.token_bytes(15)).decode("ascii").lower()


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class TicketList:
    """A page of tickets and the cursor of the next one, if any."""

    tickets: list[Ticket]
    next_cursor: str | None
    examined: int


class TicketService:
    """The ticket use cases, over an injected repository and classifier."""

    def __init__(
        self,
        repository: TicketRepository,
        classifier: TicketClassifier,
        cursor_codec: CursorCodec,
        search_scan_budget: int,
        clock: Callable[[], datetime] = utc_now,
        id_factory: Callable[[], str] = new_ticket_id,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._repository = repository
        self._classifier = classifier
        self._cursors = cursor_codec
        self._search_scan_budget = search_scan_budget
        self._clock = clock
        self._new_id = id_factory
        self._sleep = sleep

    def classify(self, request: ClassifyRequest) -> Classification:
        """A suggestion for the text (Claude, or offline with a warning)."""
        return self._classifier.classify(request.title, request.description)

    def create(self, new: NewTicket, actor: str, ticket_id: str | None = None) -> Ticket:
        """Store a new ticket, classifying it first when category or priority is missing.

        ``ticket_id`` (derived from an Idempotency-Key) makes a retried create land on
        the same item: if that ticket already exists, it is returned unchanged.
        """
        suggested_category = new.suggested_category
        suggested_priority = new.suggested_priority
        source = new.classification_source
        category, priority = new.category, new.priority
        if category is None or priority is None:
            suggestion = self._classifier.classify(new.title, new.description)
            suggested_category, suggested_priority = suggestion.category, suggestion.priority
            source = suggestion.source
            category = category or suggestion.category
            priority = priority or suggestion.priority
        now = self._clock()
        ticket = Ticket(
            id=ticket_id or self._new_id(),
            title=new.title,
            description=new.description,
            category=category,
            priority=priority,
            status=new.status,
            created_at=now,
            updated_at=now,
            version=1,
            suggested_category=suggested_category,
            suggested_priority=suggested_priority,
            classification_source=source,
        )
        try:
            self._with_retries(lambda: self._repository.create(ticket, actor))
        except StaleTicket:
            if ticket_id is None:
                raise
            return self._repository.get(ticket_id)  # an earlier attempt already created it
        metrics.add_metric(name="TicketsCreated", unit=MetricUnit.Count, value=1)
        return ticket

    def get(self, ticket_id: str) -> Ticket:
        """The ticket, or TicketNotFound."""
        return self._repository.get(ticket_id)

    def update(
        self, ticket_id: str, changes: TicketChanges, if_match: IfMatch, actor: str
    ) -> Ticket:
        """Apply a partial update atomically; 412 when ``if_match`` is stale."""
        for attempt in range(1, MAX_WRITE_ATTEMPTS + 1):
            current = self._repository.get(ticket_id)
            _check_precondition(current, if_match)
            fields = changes.as_dict()
            if all(getattr(current, name) == value for name, value in fields.items()):
                return current  # nothing changes: no write, no new version
            updated = replace(
                current, **fields, version=current.version + 1, updated_at=self._clock()
            )
            try:
                self._repository.update(current, updated, actor)
            except (StaleTicket, WriteContention) as exc:
                self._after_lost_race(exc, if_match, attempt)
                continue
            metrics.add_metric(name="TicketsUpdated", unit=MetricUnit.Count, value=1)
            return updated
        raise AssertionError("unreachable")  # pragma: no cover

    def delete(self, ticket_id: str, if_match: IfMatch, actor: str) -> None:
        """Delete the ticket (and count it out); 412 when ``if_match`` is stale."""
        for attempt in range(1, MAX_WRITE_ATTEMPTS + 1):
            current = self._repository.get(ticket_id)
            _check_precondition(current, if_match)
            try:
                self._repository.delete(current, actor, self._clock())
            except (StaleTicket, WriteContention) as exc:
                self._after_lost_race(exc, if_match, attempt)
                continue
            metrics.add_metric(name="TicketsDeleted", unit=MetricUnit.Count, value=1)
            return

    def _after_lost_race(self, exc: Exception, if_match: IfMatch, attempt: int) -> None:
        """Decide, after a write lost a race, whether to try again."""
        if isinstance(exc, StaleTicket) and if_match is not None:
            raise VersionMismatch(
                "The ticket was changed by someone else since you loaded it; "
                "reload it and apply your change again"
            ) from exc
        if attempt >= MAX_WRITE_ATTEMPTS:
            raise UpdateConflict(
                "The ticket is being changed by others right now; please retry"
            ) from exc
        self._sleep(random.uniform(0.01, 0.05) * attempt)

    def _with_retries(self, write: Callable[[], None]) -> None:
        for attempt in range(1, MAX_WRITE_ATTEMPTS + 1):
            try:
                write()
                return
            except WriteContention as exc:
                if attempt >= MAX_WRITE_ATTEMPTS:
                    raise UpdateConflict("The service is busy right now; please retry") from exc
                self._sleep(random.uniform(0.01, 0.05) * attempt)

    def list_tickets(self, query: ListQuery) -> TicketList:
        """One newest-first page of tickets for the query, with the next page's cursor."""
        filters = query.filters()
        fingerprint = query_fingerprint(filters, query.search)
        position = self._cursors.decode(query.cursor, fingerprint) if query.cursor else None
        page = self._repository.list_page(
            filters, query.limit, position, query.search, self._search_scan_budget
        )
        next_cursor = (
            self._cursors.encode(page.next_position, fingerprint) if page.next_position else None
        )
        return TicketList(page.tickets, next_cursor, page.examined)

    def stats(self) -> dict[str, Any]:
        """The dashboard figures, from the counters (constant reads)."""
        counts = self._repository.stats()
        average = (
            Decimal(counts.total) / Decimal(counts.days_with_tickets)
            if counts.days_with_tickets
            else Decimal(0)
        )
        return {
            "total_tickets": counts.total,
            "open_tickets": counts.by_status[Status.OPEN],
            "avg_tickets_per_day": float(average.quantize(Decimal("0.1"), ROUND_HALF_UP)),
            "priority_breakdown": {p.value: n for p, n in counts.by_priority.items()},
            "category_breakdown": {c.value: n for c, n in counts.by_category.items()},
            "status_breakdown": {s.value: n for s, n in counts.by_status.items()},
            "days_with_tickets": counts.days_with_tickets,
        }

    def history(self, ticket_id: str) -> list[HistoryEntry]:
        """The ticket's change history, oldest first; TicketNotFound if it never existed."""
        entries = self._repository.history(ticket_id)
        if not entries:
            self._repository.get(ticket_id)  # raises TicketNotFound when there is no ticket
        return entries


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
