"""The ticket use cases over the in-memory repository: rules, retries and their limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.cursor import CursorCodec
from chalicelib.data.repository import StaleTicket, WriteContention
from chalicelib.domain import (
    Category,
    Classification,
    ClassificationSource,
    Confidence,
    Priority,
    Status,
)
from chalicelib.errors import UpdateConflict, ValidationFailed, VersionMismatch
from chalicelib.tickets import ANY_VERSION, TicketService
from chalicelib.validation import (
    NewTicket,
    parse_list_query,
    parse_new_ticket,
    parse_ticket_changes,
)
from tests.fakes import InMemoryTicketRepository


class ScriptedClassifier:
    """Answers technical/high and counts calls."""

    def __init__(self) -> None:
        self.calls = 0

    def classify(self, title: str, description: str) -> Classification:
        self.calls += 1
        return Classification(
            Category.TECHNICAL, Priority.HIGH, ClassificationSource.LLM, Confidence.HIGH
        )


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 5, 1, 9, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def repo() -> InMemoryTicketRepository:
    return InMemoryTicketRepository()


@pytest.fixture
def classifier() -> ScriptedClassifier:
    return ScriptedClassifier()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def service(
    repo: InMemoryTicketRepository, classifier: ScriptedClassifier, clock: Clock
) -> TicketService:
    return TicketService(
        repository=repo,
        classifier=classifier,  # type: ignore[arg-type]
        cursor_codec=CursorCodec(b"k"),
        search_scan_budget=100,
        clock=clock,
        sleep=lambda _: None,
    )


def new(**fields: object) -> NewTicket:
    return parse_new_ticket({"title": "t", "description": "d", **fields})


def test_complete_tickets_are_not_classified(
    service: TicketService, classifier: ScriptedClassifier
) -> None:
    ticket = service.create(new(category="billing", priority="low"), "c")
    assert classifier.calls == 0
    assert ticket.classification_source is None


def test_missing_priority_is_classified_but_the_given_category_kept(
    service: TicketService, classifier: ScriptedClassifier
) -> None:
    ticket = service.create(new(category="billing"), "c")
    assert classifier.calls == 1
    assert (ticket.category, ticket.priority) == (Category.BILLING, Priority.HIGH)
    assert (ticket.suggested_category, ticket.suggested_priority) == (
        Category.TECHNICAL,
        Priority.HIGH,
    )


def test_a_lost_race_without_if_match_is_retried(
    service: TicketService, repo: InMemoryTicketRepository
) -> None:
    ticket = service.create(new(category="billing", priority="low"), "c")
    repo.fail_next = [StaleTicket(), WriteContention()]
    updated = service.update(ticket.id, parse_ticket_changes({"status": "closed"}), None, "a")
    assert updated.status is Status.CLOSED and updated.version == 2
    assert repo.writes == 2  # the create and the one successful update


def test_a_lost_race_with_if_match_is_412(
    service: TicketService, repo: InMemoryTicketRepository
) -> None:
    ticket = service.create(new(category="billing", priority="low"), "c")
    repo.fail_next = [StaleTicket()]
    with pytest.raises(VersionMismatch):
        service.update(ticket.id, parse_ticket_changes({"status": "closed"}), frozenset({1}), "a")
    assert repo.get(ticket.id).status is Status.OPEN


def test_endless_contention_gives_up_after_four_attempts(
    service: TicketService, repo: InMemoryTicketRepository
) -> None:
    ticket = service.create(new(category="billing", priority="low"), "c")
    repo.fail_next = [WriteContention()] * 10
    with pytest.raises(UpdateConflict):
        service.update(ticket.id, parse_ticket_changes({"status": "closed"}), None, "a")
    assert len(repo.fail_next) == 6


def test_stale_if_match_is_refused_before_writing(
    service: TicketService, repo: InMemoryTicketRepository
) -> None:
    ticket = service.create(new(category="billing", priority="low"), "c")
    with pytest.raises(VersionMismatch) as raised:
        service.delete(ticket.id, frozenset({3}), "a")
    assert raised.value.current == ticket
    service.delete(ticket.id, ANY_VERSION, "a")
    assert repo.tickets == {}


def test_a_patch_that_changes_nothing_writes_nothing(
    service: TicketService, repo: InMemoryTicketRepository
) -> None:
    ticket = service.create(new(category="billing", priority="low"), "c")
    same = service.update(ticket.id, parse_ticket_changes({"category": "billing"}), None, "a")
    assert same == ticket and repo.writes == 1


def test_a_create_with_a_known_id_returns_the_existing_ticket(service: TicketService) -> None:
    first = service.create(new(category="billing", priority="low"), "c", ticket_id="x" * 24)
    again = service.create(new(category="billing", priority="low"), "c", ticket_id="x" * 24)
    assert again == first


def test_average_per_day_counts_only_days_with_tickets(
    service: TicketService, clock: Clock
) -> None:
    for day, count in ((0, 3), (2, 3), (9, 1)):
        clock.now = datetime(2026, 5, 1 + day, 9, tzinfo=UTC)
        for _ in range(count):
            service.create(new(category="general", priority="low"), "c")
    stats = service.stats()
    assert stats["total_tickets"] == 7
    assert stats["days_with_tickets"] == 3
    assert stats["avg_tickets_per_day"] == 2.3


def test_cursors_are_tied_to_their_query(service: TicketService) -> None:
    for _ in range(3):
        service.create(new(category="billing", priority="low"), "c")
    first = service.list_tickets(parse_list_query({"limit": "2", "category": "billing"}))
    assert first.next_cursor
    rest = service.list_tickets(
        parse_list_query({"limit": "2", "category": "billing", "cursor": first.next_cursor})
    )
    assert len(rest.tickets) == 1 and rest.next_cursor is None
    with pytest.raises(ValidationFailed):
        service.list_tickets(parse_list_query({"limit": "2", "cursor": first.next_cursor}))
