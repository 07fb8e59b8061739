"""Replies, notes and the customer's messages over the in-memory repository."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.conversation import ConversationService
from chalicelib.domain import (
    ANONYMOUS,
    CUSTOMER,
    Actor,
    Category,
    Classification,
    ClassificationSource,
    Confidence,
    Delivery,
    Priority,
    Status,
    WaitingOn,
)
from chalicelib.errors import NotFound
from chalicelib.links import CustomerLinks
from chalicelib.tickets import RetryBudget, TicketService
from chalicelib.validation import NewMessage, parse_new_ticket, parse_ticket_changes
from tests.fakes import InMemoryTicketRepository

AGENT = Actor("sub-agent", "agent@example.com")


class Offline:
    def classify(
        self,
        title: str,
        description: str,
        *,
        allow_llm: bool = True,
        suggestion_id: str | None = None,
    ) -> Classification:
        return Classification(
            Category.GENERAL, Priority.LOW, ClassificationSource.FALLBACK, Confidence.LOW
        )


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 5, 1, 9, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


@pytest.fixture
def parts() -> tuple[TicketService, ConversationService, InMemoryTicketRepository]:
    from chalicelib.agents import AgentDirectory
    from chalicelib.cursor import CursorCodec

    repo = InMemoryTicketRepository()
    links = CustomerLinks(b"link-key-0123456789", "https://desk.example.com")
    clock = Clock()
    retry = RetryBudget(1.0, sleep=lambda _: None, rng=random.Random(1))
    tickets = TicketService(
        repo,
        Offline(),
        CursorCodec(b"c" * 16),
        AgentDirectory(None),
        links,
        retry,
        clock,  # type: ignore[arg-type]
    )
    return tickets, ConversationService(repo, links, retry, clock), repo


def test_a_reply_waits_on_the_customer_and_is_queued_for_email(parts: tuple) -> None:  # type: ignore[type-arg]
    tickets, conversation, repo = parts
    created = tickets.create(
        parse_new_ticket({"title": "t", "description": "d", "customer_email": "c@example.com"}),
        ANONYMOUS,
    )
    # When an agent replies
    message, ticket = conversation.post_as_agent(created.ticket.id, NewMessage("Hello"), AGENT)
    # Then the reply waits for the mailer and the ticket waits on the customer
    assert message.delivery is Delivery.PENDING and message.author == AGENT.id
    assert ticket.waiting_on is WaitingOn.CUSTOMER
    assert ticket.first_reply_at == message.created_at == ticket.last_message_at
    assert ticket.version == 2 and repo.get(ticket.id) == ticket


def test_an_internal_note_changes_nothing_the_customer_sees(parts: tuple) -> None:  # type: ignore[type-arg]
    tickets, conversation, _ = parts
    created = tickets.create(
        parse_new_ticket({"title": "t", "description": "d", "customer_email": "c@example.com"}),
        ANONYMOUS,
    )
    note, ticket = conversation.post_as_agent(
        created.ticket.id, NewMessage("internal only", internal=True), AGENT
    )
    assert note.delivery is Delivery.NONE
    assert ticket.waiting_on is WaitingOn.AGENT and ticket.first_reply_at is None
    view = conversation.public_ticket(ticket.id, created.customer_key)
    assert view.messages == []


def test_a_reply_without_a_customer_email_says_it_was_not_emailed(parts: tuple) -> None:  # type: ignore[type-arg]
    tickets, conversation, _ = parts
    created = tickets.create(parse_new_ticket({"title": "t", "description": "d"}), ANONYMOUS)
    message, _ = conversation.post_as_agent(created.ticket.id, NewMessage("Hi"), AGENT)
    assert message.delivery is Delivery.NONE and "No customer email" in (
        message.delivery_note or ""
    )


def test_the_customer_reopens_a_resolved_ticket_and_the_history_says_so(parts: tuple) -> None:  # type: ignore[type-arg]
    tickets, conversation, repo = parts
    created = tickets.create(parse_new_ticket({"title": "t", "description": "d"}), ANONYMOUS)
    tickets.update(created.ticket.id, parse_ticket_changes({"status": "resolved"}), None, AGENT)
    conversation.post_as_customer(created.ticket.id, created.customer_key, "Still broken")
    ticket = repo.get(created.ticket.id)
    assert ticket.status is Status.OPEN and ticket.waiting_on is WaitingOn.AGENT
    last = repo.history(ticket.id)[-1]
    assert last.action == "reopened" and last.actor == CUSTOMER
    assert [(c.field, c.old, c.new) for c in last.changes] == [("status", "resolved", "open")]


def test_a_reply_can_set_the_status_in_the_same_step(parts: tuple) -> None:  # type: ignore[type-arg]
    tickets, conversation, _ = parts
    created = tickets.create(parse_new_ticket({"title": "t", "description": "d"}), ANONYMOUS)
    _, ticket = conversation.post_as_agent(
        created.ticket.id, NewMessage("Fixed", status=Status.RESOLVED), AGENT
    )
    assert ticket.status is Status.RESOLVED and ticket.waiting_on is None


@pytest.mark.parametrize("key", [None, "", "wrong", "x" * 500])
def test_every_bad_key_is_the_same_404(parts: tuple, key: str | None) -> None:  # type: ignore[type-arg]
    tickets, conversation, _ = parts
    created = tickets.create(parse_new_ticket({"title": "t", "description": "d"}), ANONYMOUS)
    with pytest.raises(NotFound) as refused:
        conversation.public_ticket(created.ticket.id, key)
    with pytest.raises(NotFound) as unknown:
        conversation.public_ticket("a" * 24, created.customer_key)
    assert refused.value.message == unknown.value.message


def test_another_tickets_key_and_a_revoked_key_are_refused(parts: tuple) -> None:  # type: ignore[type-arg]
    tickets, conversation, _ = parts
    fields = {"title": "t", "description": "d", "customer_email": "c@example.com"}
    one = tickets.create(parse_new_ticket(fields), ANONYMOUS)
    two = tickets.create(parse_new_ticket(fields), ANONYMOUS)
    with pytest.raises(NotFound):
        conversation.public_ticket(one.ticket.id, two.customer_key)
    tickets.renew_link(one.ticket.id, AGENT)
    with pytest.raises(NotFound):
        conversation.public_ticket(one.ticket.id, one.customer_key)
