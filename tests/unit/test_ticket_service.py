"""The ticket use cases over the in-memory repository: rules, retries and their limits."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.agents import AgentDirectory
from chalicelib.cursor import CursorCodec
from chalicelib.data.repository import StaleTicket, WriteContention
from chalicelib.domain import (
    ANONYMOUS,
    Actor,
    Agent,
    Category,
    Classification,
    ClassificationSource,
    Confidence,
    Priority,
    Status,
    WaitingOn,
)
from chalicelib.errors import (
    IdempotencyKeyExpired,
    UpdateConflict,
    ValidationFailed,
    VersionMismatch,
)
from chalicelib.links import CustomerLinks
from chalicelib.tickets import ANY_VERSION, RetryBudget, TicketService
from chalicelib.validation import (
    NewTicket,
    parse_bulk_request,
    parse_list_query,
    parse_new_ticket,
    parse_ticket_changes,
)
from tests.fakes import InMemoryTicketRepository, StaticAgents

ALICE = Agent("sub-alice", "alice@example.com", "Alice")
BOB = Agent("sub-bob", "bob@example.com", None)
AS_ALICE = Actor(ALICE.id, ALICE.email)


class ScriptedClassifier:
    """Answers technical/high, and records whether Claude could have been called."""

    def __init__(self) -> None:
        self.calls: list[bool] = []

    def classify(
        self,
        title: str,
        description: str,
        *,
        allow_llm: bool = True,
        suggestion_id: str | None = None,
    ) -> Classification:
        self.calls.append(allow_llm)
        return Classification(
            Category.TECHNICAL, Priority.HIGH, ClassificationSource.LLM, confidence=Confidence.HIGH
        )


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 5, 1, 9, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


class FakeTime:
    """A monotonic clock that only moves when the code sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def repo() -> InMemoryTicketRepository:
    return InMemoryTicketRepository()


@pytest.fixture
def classifier() -> ScriptedClassifier:
    return ScriptedClassifier()


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def service(
    repo: InMemoryTicketRepository, classifier: ScriptedClassifier, fake_time: FakeTime
) -> TicketService:
    return TicketService(
        repository=repo,
        classifier=classifier,  # type: ignore[arg-type]
        cursor_codec=CursorCodec(b"k" * 16),
        directory=AgentDirectory(StaticAgents(ALICE, BOB)),
        links=CustomerLinks(b"link-key-0123456789", "https://desk.example.com"),
        retry=RetryBudget(3.0, fake_time.clock, fake_time.sleep, random.Random(7)),
        clock=Clock(),
    )


def new(**fields: object) -> NewTicket:
    return parse_new_ticket({"title": "t", "description": "d", **fields})


def test_every_ticket_gets_the_servers_own_suggestion_and_a_number(
    service: TicketService, classifier: ScriptedClassifier
) -> None:
    # Given a customer who chose both values
    created = service.create(new(category="billing", priority="low"), ANONYMOUS)
    # Then their choice is kept, the server's suggestion is recorded beside it,
    # and no new Claude call could be made for it (cache or offline only)
    ticket = created.ticket
    assert (ticket.category, ticket.priority) == (Category.BILLING, Priority.LOW)
    assert (ticket.suggested_category, ticket.suggested_priority) == (
        Category.TECHNICAL,
        Priority.HIGH,
    )
    assert ticket.suggested_confidence is Confidence.HIGH
    assert classifier.calls == [False]
    assert ticket.number == 1 and ticket.status is Status.OPEN
    assert ticket.waiting_on is WaitingOn.AGENT
    # And the customer's link secret is returned once and stored only as a hash
    assert created.customer_key and ticket.access_key_hash
    assert created.customer_key not in (ticket.access_key_hash, ticket.access_nonce)
    assert CustomerLinks.matches(ticket, created.customer_key)


def test_missing_priority_is_classified_and_may_call_claude(
    service: TicketService, classifier: ScriptedClassifier
) -> None:
    ticket = service.create(new(category="billing"), ANONYMOUS).ticket
    assert classifier.calls == [True]
    assert (ticket.category, ticket.priority) == (Category.BILLING, Priority.HIGH)


def test_a_customer_cannot_choose_the_status_but_an_agent_can(
    service: TicketService, repo: InMemoryTicketRepository
) -> None:
    # Given an anonymous create that asks for "closed"
    with pytest.raises(ValidationFailed) as refused:
        service.create(new(status="closed"), ANONYMOUS)
    # Then it is refused, naming the field, and nothing is stored
    assert "status" in refused.value.details["fields"]
    assert repo.tickets == {}
    # When an agent logs a phone call that is already solved
    ticket = service.create(new(status="resolved"), AS_ALICE).ticket
    # Then it is stored as resolved and the history names the agent
    assert ticket.status is Status.RESOLVED and ticket.waiting_on is None
    assert repo.history(ticket.id)[0].actor == ALICE.id


def test_a_known_id_whose_record_expired_is_a_409_never_the_live_ticket(
    service: TicketService, repo: InMemoryTicketRepository
) -> None:
    first = service.create(new(category="billing", priority="low"), ANONYMOUS, ticket_id="x" * 24)
    service.update(first.ticket.id, parse_ticket_changes({"title": "edited"}), None, AS_ALICE)
    with pytest.raises(IdempotencyKeyExpired):
        service.create(new(category="billing", priority="low"), ANONYMOUS, ticket_id="x" * 24)
    # And after a delete it is not created again either
    service.delete(first.ticket.id, None, AS_ALICE)
    with pytest.raises(IdempotencyKeyExpired):
        service.create(new(category="billing", priority="low"), ANONYMOUS, ticket_id="x" * 24)
    assert repo.tickets == {}


def test_a_lost_race_without_if_match_is_retried_with_growing_jittered_pauses(
    service: TicketService, repo: InMemoryTicketRepository, fake_time: FakeTime
) -> None:
    ticket = service.create(new(category="billing", priority="low"), ANONYMOUS).ticket
    repo.fail_next = [StaleTicket(), WriteContention(), StaleTicket(), WriteContention()]
    updated = service.update(ticket.id, parse_ticket_changes({"status": "closed"}), None, AS_ALICE)
    assert updated.status is Status.CLOSED and updated.version == 2
    assert repo.writes == 2  # the create and the one successful update
    # Full jitter: each pause is random below a cap that doubles (0.04, 0.08, 0.16, 0.32 s)
    assert len(fake_time.sleeps) == 4
    for attempt, pause in enumerate(fake_time.sleeps, start=1):
        assert 0 <= pause <= min(0.4, 0.02 * 2**attempt)


def test_a_lost_race_with_if_match_is_412_at_once(
    service: TicketService, repo: InMemoryTicketRepository, fake_time: FakeTime
) -> None:
    ticket = service.create(new(category="billing", priority="low"), ANONYMOUS).ticket
    repo.fail_next = [StaleTicket()]
    with pytest.raises(VersionMismatch):
        service.update(
            ticket.id, parse_ticket_changes({"status": "closed"}), frozenset({1}), AS_ALICE
        )
    assert repo.get(ticket.id).status is Status.OPEN
    assert fake_time.sleeps == []


def test_endless_contention_gives_up_when_the_time_budget_is_spent(
    service: TicketService, repo: InMemoryTicketRepository, fake_time: FakeTime
) -> None:
    ticket = service.create(new(category="billing", priority="low"), ANONYMOUS).ticket
    repo.fail_next = [WriteContention()] * 1000
    with pytest.raises(UpdateConflict):
        service.update(ticket.id, parse_ticket_changes({"status": "closed"}), None, AS_ALICE)
    # It kept trying for about the budget (3 s), never past it
    assert 2.0 < fake_time.now <= 3.0
    assert len(fake_time.sleeps) > 10


def test_stale_if_match_is_refused_before_writing(
    service: TicketService, repo: InMemoryTicketRepository
) -> None:
    ticket = service.create(new(category="billing", priority="low"), ANONYMOUS).ticket
    with pytest.raises(VersionMismatch) as raised:
        service.delete(ticket.id, frozenset({3}), AS_ALICE)
    assert raised.value.current == ticket
    service.delete(ticket.id, ANY_VERSION, AS_ALICE)
    assert repo.tickets == {}


def test_a_patch_that_changes_nothing_writes_nothing(
    service: TicketService, repo: InMemoryTicketRepository
) -> None:
    ticket = service.create(new(category="billing", priority="low"), ANONYMOUS).ticket
    same = service.update(ticket.id, parse_ticket_changes({"category": "billing"}), None, AS_ALICE)
    assert same == ticket and repo.writes == 1


def test_only_agents_can_be_assigned_and_the_history_records_it(
    service: TicketService, repo: InMemoryTicketRepository
) -> None:
    ticket = service.create(new(category="billing", priority="low"), ANONYMOUS).ticket
    with pytest.raises(ValidationFailed) as refused:
        service.update(
            ticket.id, parse_ticket_changes({"assignee": "eve@example.com"}), None, AS_ALICE
        )
    assert "assignee" in refused.value.details["fields"]
    assigned = service.update(
        ticket.id, parse_ticket_changes({"assignee": "BOB@example.com"}), None, AS_ALICE
    )
    assert assigned.assignee == BOB.id
    unassigned = service.update(ticket.id, parse_ticket_changes({"assignee": None}), None, AS_ALICE)
    assert unassigned.assignee is None
    changes = [c for e in repo.history(ticket.id) for c in e.changes if c.field == "assignee"]
    assert [(c.old, c.new) for c in changes] == [(None, BOB.id), (BOB.id, None)]


def test_mine_and_unassigned_views(service: TicketService) -> None:
    tickets = [service.create(new(), ANONYMOUS).ticket for _ in range(3)]
    service.update(tickets[0].id, parse_ticket_changes({"assignee": ALICE.email}), None, AS_ALICE)
    service.update(tickets[1].id, parse_ticket_changes({"assignee": BOB.email}), None, AS_ALICE)
    mine = service.list_tickets(parse_list_query({"assignee": "me"}), AS_ALICE)
    assert [t.id for t in mine.tickets] == [tickets[0].id]
    nobody = service.list_tickets(parse_list_query({"assignee": "none"}), AS_ALICE)
    assert [t.id for t in nobody.tickets] == [tickets[2].id]
    bobs = service.list_tickets(parse_list_query({"assignee": "bob@example.com"}), AS_ALICE)
    assert [t.id for t in bobs.tickets] == [tickets[1].id]


def test_cursors_are_tied_to_their_query_and_to_who_asks(service: TicketService) -> None:
    for _ in range(3):
        service.create(new(category="billing", priority="low"), ANONYMOUS)
    first = service.list_tickets(parse_list_query({"limit": "2", "category": "billing"}), AS_ALICE)
    assert first.next_cursor
    rest = service.list_tickets(
        parse_list_query({"limit": "2", "category": "billing", "cursor": first.next_cursor}),
        AS_ALICE,
    )
    assert len(rest.tickets) == 1 and rest.next_cursor is None
    with pytest.raises(ValidationFailed):
        service.list_tickets(
            parse_list_query({"limit": "2", "cursor": first.next_cursor}), AS_ALICE
        )
    with pytest.raises(ValidationFailed):
        service.list_tickets(
            parse_list_query(
                {"limit": "2", "category": "billing", "sort": "oldest", "cursor": first.next_cursor}
            ),
            AS_ALICE,
        )


def test_bulk_changes_report_each_ticket_and_stop_for_none(service: TicketService) -> None:
    a, b, c = (service.create(new(), ANONYMOUS).ticket for _ in range(3))
    service.update(b.id, parse_ticket_changes({"title": "changed meanwhile"}), None, AS_ALICE)
    request = parse_bulk_request(
        {
            "items": [
                {"id": a.id, "version": 1, "changes": {"status": "resolved"}},
                {"id": b.id, "version": 1, "changes": {"status": "resolved"}},
                {"id": "z" * 24, "version": 1, "changes": {"status": "resolved"}},
                {"id": c.id, "version": 1, "changes": {"status": "resolved"}},
            ]
        }
    )
    outcomes = service.bulk_update(request, AS_ALICE)
    assert [o.status for o in outcomes] == [200, 412, 404, 200]
    assert outcomes[1].ticket is not None and outcomes[1].ticket.version == 2
    assert service.get(c.id).status is Status.RESOLVED
    assert service.get(b.id).status is Status.OPEN


def test_a_bulk_change_of_more_than_100_tickets_is_refused() -> None:
    items = [{"id": f"{i:024d}", "version": 1, "changes": {"status": "closed"}} for i in range(101)]
    with pytest.raises(ValidationFailed, match="at most 100"):
        parse_bulk_request({"items": items})
