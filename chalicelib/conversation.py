"""The conversation with the customer: agents' replies and internal notes, the
customer's private page and messages.

Every message is one transaction with the ticket it changes (last message time,
who it waits on, the first reply time, maybe its status). Emails are not sent
here: the table's stream delivers them (chalicelib.notifications), so a slow or
failing SES never slows or fails a request.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from chalicelib.data.repository import StaleTicket, TicketRepository, WriteContention
from chalicelib.domain import (
    CUSTOMER,
    UNSOLVED,
    Actor,
    Delivery,
    Message,
    Notification,
    Status,
    Ticket,
    WaitingOn,
)
from chalicelib.errors import (
    NotFound,
    TicketNotFound,
    TooManyMessages,
    UpdateConflict,
    ValidationFailed,
)
from chalicelib.links import EMAIL, CustomerLinks
from chalicelib.tickets import RetryBudget, utc_now
from chalicelib.validation import NewMessage

PUBLIC_NOT_FOUND = "This link is not valid (it may have been replaced by a newer one)"
# The customer's page shows at most this many messages (the newest).
PUBLIC_MESSAGES_MAX = 100
# A ticket takes at most this many messages from the customer's side: a thread must stay
# small enough to serve (and a link must not become a way to fill the table).
CUSTOMER_MESSAGES_MAX = 300


def new_message_id() -> str:
    """Random, URL-safe: 80 bits in lowercase base32 (16 characters)."""
    return base64.b32encode(secrets.token_bytes(10)).decode("ascii").lower()


@dataclass(frozen=True, slots=True)
class Thread:
    """A page of a ticket's messages (oldest first) and where the next page starts."""

    messages: list[Message]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class PublicTicket:
    """What a customer's link shows: the ticket and its conversation, notes left out."""

    ticket: Ticket
    messages: list[Message]


class ConversationService:
    """Messages on tickets, for agents and for customers holding a ticket's link."""

    def __init__(
        self,
        repository: TicketRepository,
        links: CustomerLinks,
        retry: RetryBudget | None = None,
        clock: Callable[[], datetime] = utc_now,
        id_factory: Callable[[], str] = new_message_id,
    ) -> None:
        self._repository = repository
        self._links = links
        self._retry = retry or RetryBudget(3.0)
        self._clock = clock
        self._new_id = id_factory

    # ---- agents ---------------------------------------------------------------------

    def thread(self, ticket_id: str, limit: int, cursor: str | None) -> Thread:
        """A page of the ticket's messages, internal notes included (agents only)."""
        after = _decode_cursor(cursor)
        # A deleted ticket's messages are purged shortly after (by the stream consumer);
        # until then they must not be served: 404 as for any ticket that is gone.
        self._repository.get(ticket_id)
        messages, last = self._repository.messages(ticket_id, limit, after)
        return Thread(messages, _encode_cursor(last) if last else None)

    def notifications(self, ticket_id: str) -> list[Notification]:
        """The emails sent (or deliberately not sent) about the ticket."""
        self._repository.get(ticket_id)
        return self._repository.notifications(ticket_id)

    def post_as_agent(
        self, ticket_id: str, new: NewMessage, actor: Actor
    ) -> tuple[Message, Ticket]:
        """A reply (emailed to the customer by the stream) or an internal note; the
        status may be set in the same step."""

        def change(current: Ticket, now: datetime) -> tuple[Message, Ticket]:
            if new.internal:
                delivery, note = Delivery.NONE, None
            elif current.customer_email:
                delivery, note = Delivery.PENDING, None
            else:
                delivery, note = Delivery.NONE, "No customer email on this ticket: not emailed"
            message = Message(
                id=self._new_id(),
                ticket_id=current.id,
                body=new.body,
                internal=new.internal,
                author=actor.id,
                created_at=now,
                delivery=delivery,
                delivery_note=note,
            )
            updated = replace(current, message_count=current.message_count + 1)
            if not new.internal:
                updated = replace(
                    updated,
                    last_message_at=now,
                    waiting_on=WaitingOn.CUSTOMER,
                    first_reply_at=current.first_reply_at or now,
                )
            if new.status is not None and new.status != current.status:
                updated = replace(updated, status=new.status)
                if new.status not in UNSOLVED:
                    updated = replace(updated, waiting_on=None)
                elif not current.unsolved and new.internal:
                    updated = replace(updated, waiting_on=WaitingOn.AGENT)
            return message, updated

        return self._post(ticket_id, actor.id, change)

    # ---- customers ------------------------------------------------------------------

    def _authorised(self, ticket_id: str, key: str | None) -> Ticket:
        """The ticket if ``key`` is its current link secret; else the same 404 for every
        failure (no ticket, no key, wrong key, another ticket's key, a revoked key)."""
        if not key:
            raise NotFound(PUBLIC_NOT_FOUND)
        try:
            ticket = self._repository.get(ticket_id)
        except TicketNotFound as exc:
            raise NotFound(PUBLIC_NOT_FOUND) from exc
        matched = self._links.matches(ticket, key)
        if matched is None:
            raise NotFound(PUBLIC_NOT_FOUND)
        if matched == EMAIL and not ticket.customer_email_verified and ticket.access_nonce:
            # The emailed link was used: whoever reads that mailbox knows of the ticket.
            self._repository.mark_email_verified(ticket.id, ticket.access_nonce)
            ticket = replace(ticket, customer_email_verified=True)
        return ticket

    def public_ticket(self, ticket_id: str, key: str | None) -> PublicTicket:
        """The ticket and its newest messages as the customer sees them (no internal
        notes): one query for the newest page, whatever the thread's length."""
        ticket = self._authorised(ticket_id, key)
        newest = self._repository.latest_messages(ticket.id, PUBLIC_MESSAGES_MAX)
        return PublicTicket(ticket, [message for message in newest if not message.internal])

    def post_as_customer(self, ticket_id: str, key: str | None, body: str) -> Message:
        """The customer's message; it reopens a resolved or closed ticket."""
        ticket = self._authorised(ticket_id, key)
        if ticket.message_count >= CUSTOMER_MESSAGES_MAX:
            raise TooManyMessages(
                "This ticket has too many messages to take more; please submit a new ticket"
            )

        def change(current: Ticket, now: datetime) -> tuple[Message, Ticket]:
            message = Message(
                id=self._new_id(),
                ticket_id=current.id,
                body=body,
                internal=False,
                author=CUSTOMER,
                created_at=now,
                delivery=Delivery.NONE,
            )
            updated = replace(
                current,
                message_count=current.message_count + 1,
                last_message_at=now,
                waiting_on=WaitingOn.AGENT,
            )
            if not current.unsolved:
                updated = replace(updated, status=Status.OPEN)
            return message, updated

        message, _ = self._post(ticket_id, CUSTOMER, change)
        return message

    # ---- shared ---------------------------------------------------------------------

    def _post(
        self,
        ticket_id: str,
        actor: str,
        change: Callable[[Ticket, datetime], tuple[Message, Ticket]],
    ) -> tuple[Message, Ticket]:
        again = self._retry.attempts()
        tries = 0
        while True:
            current = self._repository.get(ticket_id)
            now = self._clock()
            message, updated = change(current, now)
            updated = replace(updated, version=current.version + 1, updated_at=now)
            try:
                self._repository.add_message(current, updated, message, actor)
                return message, updated
            except (StaleTicket, WriteContention) as exc:
                tries += 1
                if not again(tries):
                    raise UpdateConflict(
                        "The ticket is being changed by others right now; please retry"
                    ) from exc


def _encode_cursor(sort_key: str) -> str:
    return base64.urlsafe_b64encode(sort_key.encode()).decode("ascii").rstrip("=")


def _decode_cursor(cursor: str | None) -> str | None:
    if not cursor:
        return None
    invalid = ValidationFailed(
        "The cursor is invalid; start again from the first page", fields={"cursor": "invalid"}
    )
    if len(cursor) > 200 or not cursor.isascii():
        raise invalid
    try:
        value = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except ValueError as exc:
        raise invalid from exc
    # Within the thread's key range: anything past "MSG#~" would make an empty (or, on
    # DynamoDB, an invalid) range.
    if not value.startswith("MSG#") or value >= "MSG#~":
        raise invalid
    return value
