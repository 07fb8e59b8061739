"""One contract, two implementations: the in-memory fake and DynamoDB.

DynamoDB runs twice: on the patched moto the local stack serves (local_stack.moto_patch)
and on plain moto 5.2.5, so the patch is held to the same contract as moto itself. The
DynamoDB side runs the real stream consumer (search index) between writes and reads,
as the deployed stack does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.data.items import ticket_pk, to_ticket_model
from chalicelib.data.lists import ListSpec
from chalicelib.data.models import TICKET_SK, TicketModel
from chalicelib.data.repository import DynamoTicketRepository, StaleTicket, TicketRepository
from chalicelib.domain import (
    Category,
    Delivery,
    Message,
    Priority,
    SortOrder,
    Status,
    Ticket,
    TicketSummary,
    WaitingOn,
)
from chalicelib.errors import TicketNotFound
from chalicelib.search.text import parse_search
from tests.conftest import REGION
from tests.fakes import InMemoryTicketRepository

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
_DIGITS = str.maketrans("0123456789", "abcdefghij")


@dataclass
class Store:
    repository: TicketRepository
    settle: Callable[[], None]


@pytest.fixture(params=["in-memory", "dynamodb-patched-moto", "dynamodb-plain-moto"])
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    if request.param == "in-memory":
        yield Store(InMemoryTicketRepository(), lambda: None)
        return
    table = request.getfixturevalue("table")
    endpoint = request.getfixturevalue("aws")
    if request.param == "dynamodb-plain-moto":
        endpoint = request.getfixturevalue("plain_moto")
    from chalicelib.events.stream import handle_stream_batch
    from local_stack.stream_poller import StreamPoller

    poller = StreamPoller(table, REGION, handle_stream_batch, endpoint, retry_pause_seconds=0.0)
    yield Store(DynamoTicketRepository(counter_shards=3), poller.drain)


def ticket(n: int, **changes: object) -> Ticket:
    base = Ticket(
        id="abcdefghijklmnopqrstuvwxyz"[n % 26] * 8 + f"{n:016d}".translate(_DIGITS),
        title=f"Ticket {n}",
        description=f"Description {n}",
        category=Category.BILLING,
        priority=Priority.LOW,
        status=Status.OPEN,
        created_at=T0 + timedelta(minutes=n),
        updated_at=T0 + timedelta(minutes=n),
        version=1,
        number=n,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def titles(page: object) -> list[str]:
    return [t.title for t in page.tickets]  # type: ignore[attr-defined]


def test_create_then_get_round_trips(store: Store) -> None:
    original = ticket(
        1, suggested_category=Category.ACCOUNT, customer_email="c@example.com", assignee="s"
    )
    store.repository.create(original, "customer")
    assert store.repository.get(original.id) == original
    assert store.repository.get_by_number(1) == original


def test_get_unknown_is_not_found(store: Store) -> None:
    with pytest.raises(TicketNotFound):
        store.repository.get("c" * 24)
    with pytest.raises(TicketNotFound):
        store.repository.get_by_number(999)


def test_numbers_increase(store: Store) -> None:
    first = store.repository.next_number()
    assert store.repository.next_number() == first + 1


def test_update_requires_the_read_version(store: Store) -> None:
    first = ticket(2)
    store.repository.create(first, "customer")
    second = replace(first, status=Status.CLOSED, version=2)
    store.repository.update(first, second, "agent")
    with pytest.raises(StaleTicket):
        store.repository.update(first, replace(first, status=Status.RESOLVED, version=2), "agent")
    assert store.repository.get(first.id) == second


def test_each_update_leaves_the_item_a_whole_write_would(store: Store) -> None:
    """An update writes only the attributes that change: what it leaves stored must be
    the very item a write of the whole ticket would have, optional fields set and
    cleared, list keys included, and the lists must follow."""
    repo = store.repository
    current = ticket(4, assignee="s", customer_email="c@example.com", waiting_on=None)
    repo.create(current, "customer")
    changes: list[dict[str, object]] = [
        {"status": Status.IN_PROGRESS},
        {"assignee": None, "priority": Priority.CRITICAL},
        {
            "title": "Renamed",
            "category": Category.TECHNICAL,
            "suggested_category": Category.ACCOUNT,
        },
        {"assignee": "k", "status": Status.RESOLVED, "waiting_on": WaitingOn.CUSTOMER},
        {"customer_email": None, "suggested_category": None, "status": Status.OPEN},
        {},  # nothing but the version and the time
    ]
    for step, change in enumerate(changes, start=1):
        after = replace(
            current,
            version=current.version + 1,
            updated_at=current.updated_at + timedelta(minutes=step),
            **change,  # type: ignore[arg-type]
        )
        repo.update(current, after, "agent")
        current = after
        assert repo.get(current.id) == current
        if isinstance(repo, DynamoTicketRepository):
            stored = TicketModel.get(ticket_pk(current.id), TICKET_SK, consistent_read=True)
            assert stored.serialize() == to_ticket_model(current).serialize()
    assert titles(repo.list_page(ListSpec({"assignee": frozenset({"k"})}), 10, None)) == ["Renamed"]
    assert titles(repo.list_page(ListSpec({"assignee": frozenset({"s"})}), 10, None)) == []
    assert titles(repo.list_page(ListSpec({"status": frozenset({"open"})}), 10, None)) == [
        "Renamed"
    ]
    assert titles(repo.list_page(ListSpec({"priority": frozenset({"low"})}), 10, None)) == []


def test_an_email_verified_while_an_update_was_in_flight_stays_verified(store: Store) -> None:
    """The emailed link marks the customer's address verified without a new version; an
    update read before that (a reply, a status change) must not undo it."""
    repo = store.repository
    before = ticket(6, customer_email="c@example.com", access_nonce="n1")
    repo.create(before, "customer")
    repo.mark_email_verified(before.id, "n1")
    after = replace(before, status=Status.IN_PROGRESS, version=2)
    repo.update(before, after, "agent")
    assert repo.get(before.id) == replace(after, customer_email_verified=True)


def test_delete_requires_the_read_version_and_an_id_is_never_reused(store: Store) -> None:
    first = ticket(3)
    store.repository.create(first, "customer")
    with pytest.raises(StaleTicket):
        store.repository.delete(replace(first, version=7), "agent", T0)
    store.repository.delete(first, "agent", T0 + timedelta(days=1))
    with pytest.raises(TicketNotFound):
        store.repository.get(first.id)
    with pytest.raises(TicketNotFound):
        store.repository.get_by_number(3)
    with pytest.raises(StaleTicket):
        store.repository.create(first, "customer")


def test_pages_follow_each_order_and_filter(store: Store) -> None:
    repo = store.repository
    statuses = [Status.OPEN, Status.IN_PROGRESS, Status.CLOSED, Status.RESOLVED]
    priorities = [Priority.LOW, Priority.CRITICAL, Priority.HIGH, Priority.MEDIUM]
    for n in range(1, 9):
        assignee = "s" if n % 3 == 0 else None
        repo.create(
            ticket(n, status=statuses[n % 4], priority=priorities[n % 4], assignee=assignee), "c"
        )
    page = repo.list_page(ListSpec(), 3, None)
    assert titles(page) == ["Ticket 8", "Ticket 7", "Ticket 6"]
    assert page.next_position is not None
    rest = repo.list_page(ListSpec(), 10, page.next_position)
    assert titles(rest) == ["Ticket 5", "Ticket 4", "Ticket 3", "Ticket 2", "Ticket 1"]
    assert rest.next_position is None
    unsolved = ListSpec({"status": frozenset({"open", "in_progress"})}, SortOrder.OLDEST)
    assert titles(repo.list_page(unsolved, 10, None)) == [
        "Ticket 1", "Ticket 4", "Ticket 5", "Ticket 8",
    ]  # fmt: skip
    by_priority = ListSpec({"status": frozenset({"open", "in_progress"})}, SortOrder.PRIORITY)
    first = repo.list_page(by_priority, 2, None)
    assert titles(first) == ["Ticket 1", "Ticket 5"]  # critical first, oldest first
    assert titles(repo.list_page(by_priority, 2, first.next_position)) == ["Ticket 4", "Ticket 8"]
    mine = ListSpec({"assignee": frozenset({"s"})})
    assert titles(repo.list_page(mine, 10, None)) == ["Ticket 6", "Ticket 3"]
    nobody_open = ListSpec({"assignee": frozenset({"none"}), "status": frozenset({"open"})})
    assert titles(repo.list_page(nobody_open, 10, None)) == ["Ticket 8", "Ticket 4"]


def test_a_lists_first_ticket_is_read_as_a_summary(store: Store) -> None:
    repo = store.repository
    unsolved = frozenset({"open", "in_progress"})
    assert repo.first_summary(ListSpec({"status": unsolved}, SortOrder.OLDEST)) is None
    statuses = [Status.RESOLVED, Status.IN_PROGRESS, Status.OPEN, Status.CLOSED]
    priorities = [Priority.LOW, Priority.HIGH, Priority.CRITICAL, Priority.MEDIUM]
    created = [ticket(n, status=statuses[n % 4], priority=priorities[n % 4]) for n in range(1, 9)]
    for made in created:
        repo.create(made, "c")
    by_title = {made.title: made for made in created}
    # The same ticket a page of the same list starts with, in every order and filter
    for spec in (
        ListSpec({"status": unsolved}, SortOrder.OLDEST),
        ListSpec({"status": unsolved}, SortOrder.NEWEST),
        ListSpec({"status": unsolved}, SortOrder.PRIORITY),
        ListSpec({"priority": frozenset({"medium"})}, SortOrder.OLDEST),
        ListSpec(),
    ):
        first = repo.list_page(spec, 1, None).tickets[0]
        expected = by_title[first.title]
        assert repo.first_summary(spec) == TicketSummary(
            expected.id, expected.number, expected.title, expected.priority, expected.created_at
        ), spec
    assert repo.first_summary(ListSpec({"status": unsolved}, SortOrder.OLDEST)).title == (
        "Ticket 1"
    )
    assert (
        repo.first_summary(
            ListSpec({"status": frozenset({"closed"}), "priority": frozenset({"low"})})
        )
        is None
    )


def test_search_matches_every_word_as_a_prefix_with_filters(store: Store) -> None:
    repo = store.repository
    repo.create(ticket(1, title="Refund please", description="Invoice INV-2024-0012"), "c")
    repo.create(ticket(2, title="Refunded twice", category=Category.TECHNICAL), "c")
    repo.create(ticket(3, title="Login", customer_email="ana@example.com"), "c")
    store.settle()

    def found(query: str, **filters: str) -> list[str]:
        spec = ListSpec(
            {name: frozenset({value}) for name, value in filters.items()},
            search=parse_search(query),
        )
        return titles(repo.list_page(spec, 10, None))

    assert found("refu") == ["Refunded twice", "Refund please"]
    assert found("refund inv 0012") == ["Refund please"]
    assert found("refu", category="technical") == ["Refunded twice"]
    assert found("ana@example.com") == ["Login"]
    assert found("#3") == ["Login"]
    assert found(ticket(2).id[:8]) == ["Refunded twice"]
    assert found("nothing") == []


def test_counters_and_history_follow_every_write(store: Store) -> None:
    repo = store.repository
    a, b = ticket(1), ticket(2, category=Category.TECHNICAL)
    repo.create(a, "customer")
    repo.create(b, "customer")
    repo.update(a, replace(a, category=Category.ACCOUNT, version=2), "agent-sub")
    repo.delete(b, "agent-sub", T0)
    stats = repo.stats(T0)
    assert stats.totals["total"] == 1
    assert stats.totals["c_account"] == 1
    assert stats.totals.get("c_technical", 0) == 0
    assert stats.totals["u"] == 1 and stats.totals["ua"] == 1
    assert stats.days["d_20260301"] == 1
    history = repo.history(a.id)
    assert [(h.action, h.actor) for h in history] == [
        ("created", "customer"),
        ("updated", "agent-sub"),
    ]
    assert [(c.field, c.old, c.new) for c in history[1].changes] == [
        ("category", "billing", "account")
    ]
    assert [h.action for h in repo.history(b.id)] == ["created", "deleted"]


def test_messages_are_paged_oldest_first_with_their_ticket(store: Store) -> None:
    repo = store.repository
    current = ticket(1)
    repo.create(current, "customer")
    for n in range(5):
        at = T0 + timedelta(hours=1, minutes=n)
        message = Message(f"m{n}", current.id, f"body {n}", n == 2, "agent", at, Delivery.NONE)
        updated = replace(
            current, version=current.version + 1, message_count=n + 1, last_message_at=at
        )
        repo.add_message(current, updated, message, "agent")
        current = updated
    first, after = repo.messages(current.id, 3, None)
    assert [m.body for m in first] == ["body 0", "body 1", "body 2"] and after
    second, end = repo.messages(current.id, 3, after)
    assert [m.body for m in second] == ["body 3", "body 4"] and end is None
    assert first[2].internal is True
    assert repo.get(current.id).message_count == 5
    with pytest.raises(StaleTicket):
        repo.add_message(ticket(1), replace(ticket(1), version=2), first[0], "agent")
