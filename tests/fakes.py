"""An in-memory TicketRepository for unit tests of the service layer.

It keeps the repository's contract (tests/contract checks both implementations
against the same tests) without DynamoDB: versions are checked, counters move
with every write, and pages follow the same newest-first order.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from chalicelib.cursor import PagePosition
from chalicelib.data.repository import (
    StaleTicket,
    TicketPage,
    counter_deltas,
    created_sort_key,
    field_text,
    position_of,
)
from chalicelib.domain import (
    Category,
    FieldChange,
    HistoryEntry,
    Priority,
    StatsCounts,
    Status,
    Ticket,
)
from chalicelib.errors import TicketNotFound

_FIELDS = ("title", "description", "category", "priority", "status")


class InMemoryTicketRepository:
    """The same behaviour as DynamoTicketRepository, in a dict."""

    def __init__(self) -> None:
        self.tickets: dict[str, Ticket] = {}
        self.counters: dict[str, int] = {}
        self.entries: dict[str, list[HistoryEntry]] = {}
        self.fail_next: list[Exception] = []
        self.writes = 0

    def _maybe_fail(self) -> None:
        if self.fail_next:
            raise self.fail_next.pop(0)

    def _count(self, before: Ticket | None, after: Ticket | None) -> None:
        for name, delta in counter_deltas(before, after).items():
            self.counters[name] = self.counters.get(name, 0) + delta

    def _record(
        self, ticket: Ticket, action: str, actor: str, changes: tuple[FieldChange, ...]
    ) -> None:
        self.entries.setdefault(ticket.id, []).append(
            HistoryEntry(ticket.id, ticket.version, action, actor, ticket.updated_at, changes)
        )

    def get(self, ticket_id: str) -> Ticket:
        try:
            return self.tickets[ticket_id]
        except KeyError as exc:
            raise TicketNotFound(ticket_id) from exc

    def create(self, ticket: Ticket, actor: str) -> None:
        self._maybe_fail()
        if ticket.id in self.tickets:
            raise StaleTicket()
        self.writes += 1
        self.tickets[ticket.id] = ticket
        self._count(None, ticket)
        self._record(
            ticket,
            "created",
            actor,
            tuple(FieldChange(f, None, field_text(getattr(ticket, f))) for f in _FIELDS),
        )

    def update(self, before: Ticket, after: Ticket, actor: str) -> None:
        self._maybe_fail()
        stored = self.tickets.get(before.id)
        if stored is None or stored.version != before.version:
            raise StaleTicket()
        self.writes += 1
        self.tickets[before.id] = after
        self._count(before, after)
        changes = tuple(
            FieldChange(f, field_text(getattr(before, f)), field_text(getattr(after, f)))
            for f in _FIELDS
            if getattr(before, f) != getattr(after, f)
        )
        self._record(after, "updated", actor, changes)

    def delete(self, ticket: Ticket, actor: str, deleted_at: datetime) -> None:
        self._maybe_fail()
        stored = self.tickets.get(ticket.id)
        if stored is None or stored.version != ticket.version:
            raise StaleTicket()
        self.writes += 1
        del self.tickets[ticket.id]
        self._count(ticket, None)
        self._record(
            replace(ticket, version=ticket.version + 1, updated_at=deleted_at), "deleted", actor, ()
        )

    def list_page(
        self,
        filters: dict[str, str],
        limit: int,
        after: PagePosition | None,
        search: str | None,
        scan_budget: int,
    ) -> TicketPage:
        ordered = sorted(
            (
                t
                for t in self.tickets.values()
                if all(getattr(t, f).value == v for f, v in filters.items())
            ),
            key=lambda t: created_sort_key(t.created_at, t.id),
            reverse=True,
        )
        if after is not None:
            ordered = [
                t for t in ordered if created_sort_key(t.created_at, t.id) < after.created_sk
            ]
        examined = 0
        matches: list[Ticket] = []
        needle = search.casefold() if search else None
        for ticket in ordered:
            examined += 1
            if (
                needle is None
                or needle in ticket.title.casefold()
                or needle in ticket.description.casefold()
            ):
                if len(matches) == limit:
                    return TicketPage(matches, position_of(matches[-1]), examined)
                matches.append(ticket)
            if needle is not None and examined >= scan_budget and examined < len(ordered):
                return TicketPage(matches, position_of(ticket), examined)
        return TicketPage(matches, None, examined)

    def stats(self) -> StatsCounts:
        c = self.counters
        return StatsCounts(
            total=c.get("total", 0),
            by_category={x: c.get(f"c_{x.value}", 0) for x in Category},
            by_priority={x: c.get(f"p_{x.value}", 0) for x in Priority},
            by_status={x: c.get(f"s_{x.value}", 0) for x in Status},
            days_with_tickets=sum(1 for k, v in c.items() if k.startswith("d_") and v > 0),
        )

    def history(self, ticket_id: str) -> list[HistoryEntry]:
        return list(self.entries.get(ticket_id, []))
