"""An in-memory TicketRepository for unit tests of the service layer.

It keeps the repository's contract (tests/contract checks both implementations
against the same tests) without DynamoDB: versions are checked, counters move
with every write, and lists and searches are answered by brute force with the
same semantics (filters, orders, references, every term matching), so it also
serves as the oracle the indexed search is compared with.
"""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import datetime, timedelta

from chalicelib.agents import AgentSource
from chalicelib.cursor import PagePosition
from chalicelib.data.counters import counter_deltas, month_key
from chalicelib.data.items import created_sort_key, history_sk, message_sk
from chalicelib.data.lists import ListSpec, TicketPage, passes, position_of
from chalicelib.data.repository import StaleTicket, creation_changes, recorded_changes
from chalicelib.domain import (
    PRIORITY_ORDER,
    Agent,
    HistoryEntry,
    Message,
    Notification,
    SortOrder,
    StatsCounts,
    Ticket,
    TicketSummary,
)
from chalicelib.errors import TicketNotFound
from chalicelib.search.text import email_term, short_ref_term, ticket_terms

_RANK = {priority: rank for rank, priority in enumerate(PRIORITY_ORDER)}


def order_key(ticket: Ticket, sort: SortOrder) -> tuple[int, str]:
    """Where a ticket sorts in a list (ascending)."""
    key = created_sort_key(ticket.created_at, ticket.id)
    if sort is SortOrder.PRIORITY:
        return (_RANK[ticket.priority], key)
    return (0, key)


def terms_of(ticket: Ticket, bodies: list[str]) -> frozenset[str]:
    """The terms a ticket is findable by (the same rule the indexer applies)."""
    special = [short_ref_term(ticket.id)]
    if ticket.customer_email:
        special.append(email_term(ticket.customer_email))
    return ticket_terms(special, [ticket.title, ticket.description, *bodies]).terms


class InMemoryTicketRepository:
    """The same behaviour as DynamoTicketRepository, in dicts."""

    def __init__(self) -> None:
        self.tickets: dict[str, Ticket] = {}
        self.totals: dict[str, int] = {}
        self.days: dict[str, dict[str, int]] = {}
        self.entries: dict[str, list[HistoryEntry]] = {}
        self.threads: dict[str, list[Message]] = {}
        self.numbers: dict[int, str] = {}
        self.sequence = 0
        self.fail_next: list[Exception] = []
        self.writes = 0

    def _maybe_fail(self) -> None:
        if self.fail_next:
            raise self.fail_next.pop(0)

    def _count(self, before: Ticket | None, after: Ticket | None) -> None:
        deltas = counter_deltas(before, after)
        for name, delta in deltas.totals.items():
            self.totals[name] = self.totals.get(name, 0) + delta
        for month, values in deltas.months.items():
            target = self.days.setdefault(month, {})
            for name, delta in values.items():
                target[name] = target.get(name, 0) + delta

    def _record(self, ticket: Ticket, action: str, actor: str, changes: tuple[object, ...]) -> None:
        entries = self.entries.setdefault(ticket.id, [])
        if any(entry.version == ticket.version for entry in entries):
            raise StaleTicket()
        entries.append(
            HistoryEntry(ticket.id, ticket.version, action, actor, ticket.updated_at, changes)  # type: ignore[arg-type]
        )

    # ---- reads ----

    def get(self, ticket_id: str) -> Ticket:
        try:
            return self.tickets[ticket_id]
        except KeyError as exc:
            raise TicketNotFound(ticket_id) from exc

    def get_by_number(self, number: int) -> Ticket:
        if number not in self.numbers:
            raise TicketNotFound(f"#{number}")
        return self.get(self.numbers[number])

    def next_number(self) -> int:
        self.sequence += 1
        return self.sequence

    def history(self, ticket_id: str) -> list[HistoryEntry]:
        return sorted(self.entries.get(ticket_id, []), key=lambda e: history_sk(e.version))

    def messages(
        self, ticket_id: str, limit: int, after: str | None
    ) -> tuple[list[Message], str | None]:
        ordered = sorted(
            self.threads.get(ticket_id, []), key=lambda m: message_sk(m.created_at, m.id)
        )
        if after:
            ordered = [m for m in ordered if message_sk(m.created_at, m.id) > after]
        page = ordered[:limit]
        more = len(ordered) > limit
        return page, message_sk(page[-1].created_at, page[-1].id) if more else None

    def latest_messages(self, ticket_id: str, count: int) -> list[Message]:
        ordered = sorted(
            self.threads.get(ticket_id, []), key=lambda m: message_sk(m.created_at, m.id)
        )
        return ordered[-count:]

    def mark_email_verified(self, ticket_id: str, nonce: str) -> None:
        ticket = self.tickets.get(ticket_id)
        if ticket is not None and ticket.access_nonce == nonce:
            self.tickets[ticket_id] = replace(ticket, customer_email_verified=True)

    def notifications(self, ticket_id: str) -> list[Notification]:
        return []

    def stats(self, today: datetime) -> StatsCounts:
        first = today.replace(day=1)
        months = {month_key(today), month_key(first - timedelta(days=1))}
        days: dict[str, int] = {}
        for month in months:
            for name, value in self.days.get(month, {}).items():
                days[name] = days.get(name, 0) + value
        return StatsCounts(totals=dict(self.totals), days=days)

    def matching(self, spec: ListSpec) -> list[Ticket]:
        """Every ticket the list shows, in its order (brute force)."""
        found = [t for t in self.tickets.values() if passes(t, spec.filters)]
        search = spec.search
        if search is not None and search.terms:
            found = [
                t
                for t in found
                if set(search.terms) <= terms_of(t, [m.body for m in self.threads.get(t.id, [])])
            ]
        elif search is not None:
            found = []
        found.sort(key=lambda t: order_key(t, spec.sort), reverse=spec.sort is SortOrder.NEWEST)
        return found

    def referenced(self, spec: ListSpec) -> list[Ticket]:
        """The tickets a search's reference names (pinned first on page one)."""
        reference = spec.search.reference if spec.search else None
        if reference is None:
            return []
        if reference.kind == "id":
            ids = [reference.value]
        elif reference.kind == "number":
            number = int(reference.value)
            ids = [self.numbers[number]] if number in self.numbers else []
        else:
            ids = [i for i in self.tickets if i.startswith(reference.value)]
        found = [self.tickets[i] for i in ids if i in self.tickets]
        found = [t for t in found if passes(t, spec.filters)]
        found.sort(key=lambda t: order_key(t, spec.sort), reverse=spec.sort is SortOrder.NEWEST)
        return found

    def first_summary(self, spec: ListSpec) -> TicketSummary | None:
        assert spec.search is None
        first = next(iter(self.matching(spec)), None)
        if first is None:
            return None
        return TicketSummary(first.id, first.number, first.title, first.priority, first.created_at)

    def list_page(self, spec: ListSpec, limit: int, after: PagePosition | None) -> TicketPage:
        pinned = self.referenced(spec)
        exclude = {t.id for t in pinned}
        if spec.search is not None and spec.search.reference_only:
            return TicketPage(pinned[:limit] if after is None else [], None, 0)
        rest = [t for t in self.matching(spec) if t.id not in exclude]
        if after is not None:
            rest = [t for t in rest if _is_after(t, after, spec.sort)]
        first = pinned if after is None else []
        room = max(limit - len(first), 1)
        page = rest[:room]
        more = len(rest) > room
        # As DynamoDB's list reads: the tickets without the customer's access secrets.
        shown = [
            replace(t, access_nonce=None, access_key_hash=None, email_key_hash=None)
            for t in first + page
        ]
        return TicketPage(shown, position_of(page[-1], spec.sort) if more else None, 0)

    # ---- writes ----

    def create(self, ticket: Ticket, actor: str) -> None:
        self._maybe_fail()
        if ticket.id in self.tickets or ticket.id in self.entries:
            raise StaleTicket()
        self.writes += 1
        self.tickets[ticket.id] = ticket
        if ticket.number is not None:
            self.numbers[ticket.number] = ticket.id
        self._count(None, ticket)
        self._record(ticket, "created", actor, creation_changes(ticket))

    def update(self, before: Ticket, after: Ticket, actor: str, action: str = "updated") -> None:
        self._maybe_fail()
        stored = self.tickets.get(before.id)
        if stored is None or stored.version != before.version:
            raise StaleTicket()
        self.writes += 1
        self.tickets[after.id] = _changed(stored, before, after)
        self._count(before, after)
        changes = recorded_changes(before, after)
        if changes or action != "updated":
            self._record(after, action, actor, changes)

    def add_message(self, before: Ticket, after: Ticket, message: Message, actor: str) -> None:
        self._maybe_fail()
        stored = self.tickets.get(before.id)
        if stored is None or stored.version != before.version:
            raise StaleTicket()
        self.writes += 1
        self.tickets[after.id] = _changed(stored, before, after)
        self.threads.setdefault(after.id, []).append(message)
        self._count(before, after)
        changes = recorded_changes(before, after)
        if changes:
            reopened = not before.unsolved and after.unsolved
            self._record(after, "reopened" if reopened else "updated", actor, changes)

    def delete(self, ticket: Ticket, actor: str, deleted_at: datetime) -> None:
        self._maybe_fail()
        stored = self.tickets.get(ticket.id)
        if stored is None or stored.version != ticket.version:
            raise StaleTicket()
        self.writes += 1
        del self.tickets[ticket.id]
        if ticket.number is not None:
            self.numbers.pop(ticket.number, None)
        self._count(ticket, None)
        gone = replace(ticket, version=ticket.version + 1, updated_at=deleted_at)
        self._record(gone, "deleted", actor, ())


def _is_after(ticket: Ticket, after: PagePosition, sort: SortOrder) -> bool:
    key = created_sort_key(ticket.created_at, ticket.id)
    if sort is SortOrder.NEWEST:
        return key < after.created_sk
    if sort is SortOrder.OLDEST:
        return key > after.created_sk
    rank = _RANK[ticket.priority]
    after_rank = next(r for p, r in _RANK.items() if p.value == after.priority)
    return rank > after_rank or (rank == after_rank and key > after.created_sk)


class StaticAgents(AgentSource):
    """A fixed list of agents, for the directory in unit tests."""

    def __init__(self, *agents: Agent) -> None:
        self.agents = list(agents)

    def list_agents(self) -> list[Agent]:
        return list(self.agents)


def _changed(stored: Ticket, before: Ticket, after: Ticket) -> Ticket:
    """``stored`` with the fields that differ from ``before`` to ``after``: as DynamoDB's
    update writes only those, a field written without a new version (the customer's email
    verification) survives an update read before it."""
    return replace(
        stored,
        **{
            f.name: getattr(after, f.name)
            for f in fields(Ticket)
            if getattr(after, f.name) != getattr(before, f.name)
        },
    )
