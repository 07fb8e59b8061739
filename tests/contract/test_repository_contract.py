"""One contract, two implementations: the in-memory fake and DynamoDB.

DynamoDB runs twice: on the patched moto the local stack serves (local_stack.moto_patch)
and on plain moto 5.2.5, so the patch is held to the same contract as moto itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.cursor import PagePosition
from chalicelib.data.repository import DynamoTicketRepository, StaleTicket, TicketRepository
from chalicelib.domain import Category, Priority, Status, Ticket
from chalicelib.errors import TicketNotFound
from tests.fakes import InMemoryTicketRepository

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["in-memory", "dynamodb-patched-moto", "dynamodb-plain-moto"])
def repository(request: pytest.FixtureRequest) -> Iterator[TicketRepository]:
    if request.param == "in-memory":
        yield InMemoryTicketRepository()
        return
    request.getfixturevalue("table")
    if request.param == "dynamodb-plain-moto":
        request.getfixturevalue("plain_moto")
    yield DynamoTicketRepository(counter_shards=3)


def ticket(n: int, **changes: object) -> Ticket:
    base = Ticket(
        id=f"{n:024d}".replace("0", "a").replace("1", "b")[:24],
        title=f"Ticket {n}",
        description=f"Description {n}",
        category=Category.BILLING,
        priority=Priority.LOW,
        status=Status.OPEN,
        created_at=T0 + timedelta(minutes=n),
        updated_at=T0 + timedelta(minutes=n),
        version=1,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_create_then_get_round_trips(repository: TicketRepository) -> None:
    original = ticket(1, suggested_category=Category.ACCOUNT)
    repository.create(original, "customer")
    assert repository.get(original.id) == original


def test_get_unknown_is_not_found(repository: TicketRepository) -> None:
    with pytest.raises(TicketNotFound):
        repository.get("c" * 24)


def test_update_requires_the_read_version(repository: TicketRepository) -> None:
    first = ticket(2)
    repository.create(first, "customer")
    second = replace(first, status=Status.CLOSED, version=2)
    repository.update(first, second, "agent")
    with pytest.raises(StaleTicket):
        repository.update(first, replace(first, status=Status.RESOLVED, version=2), "agent")
    assert repository.get(first.id) == second


def test_delete_requires_the_read_version(repository: TicketRepository) -> None:
    first = ticket(3)
    repository.create(first, "customer")
    with pytest.raises(StaleTicket):
        repository.delete(replace(first, version=7), "agent", T0)
    repository.delete(first, "agent", T0 + timedelta(days=1))
    with pytest.raises(TicketNotFound):
        repository.get(first.id)


def test_pages_are_newest_first_and_filtered(repository: TicketRepository) -> None:
    for n in range(1, 8):
        repository.create(ticket(n, status=Status.CLOSED if n % 2 else Status.OPEN), "c")
    page = repository.list_page({}, 3, None, None, 100)
    assert [t.title for t in page.tickets] == ["Ticket 7", "Ticket 6", "Ticket 5"]
    assert page.next_position is not None
    rest = repository.list_page({}, 10, page.next_position, None, 100)
    assert [t.title for t in rest.tickets] == ["Ticket 4", "Ticket 3", "Ticket 2", "Ticket 1"]
    assert rest.next_position is None
    open_only = repository.list_page({"status": "open"}, 10, None, None, 100)
    assert [t.title for t in open_only.tickets] == ["Ticket 6", "Ticket 4", "Ticket 2"]


def test_search_is_bounded_and_resumable(repository: TicketRepository) -> None:
    for n in range(1, 11):
        repository.create(ticket(n, title="Needle" if n in (2, 9) else f"Hay {n}"), "c")
    first = repository.list_page({}, 10, None, "needle", 5)
    assert [t.id for t in first.tickets] == [ticket(9).id]
    assert first.examined == 5 and isinstance(first.next_position, PagePosition)
    second = repository.list_page({}, 10, first.next_position, "needle", 5)
    assert [t.id for t in second.tickets] == [ticket(2).id]


def test_counters_and_history_follow_every_write(repository: TicketRepository) -> None:
    a, b = ticket(1), ticket(2, category=Category.TECHNICAL)
    repository.create(a, "customer")
    repository.create(b, "customer")
    repository.update(a, replace(a, category=Category.ACCOUNT, version=2), "agent@x")
    repository.delete(b, "agent@x", T0)
    stats = repository.stats()
    assert stats.total == 1
    assert stats.by_category[Category.ACCOUNT] == 1
    assert stats.by_category[Category.TECHNICAL] == 0
    assert stats.days_with_tickets == 1
    history = repository.history(a.id)
    assert [(h.action, h.actor) for h in history] == [
        ("created", "customer"),
        ("updated", "agent@x"),
    ]
    assert [(c.field, c.old, c.new) for c in history[1].changes] == [
        ("category", "billing", "account")
    ]
    assert [h.action for h in repository.history(b.id)] == ["created", "deleted"]
