"""Which change to the table sends which email, exactly once.

Called by the stream consumer for every ticket and message change:

- a ticket created with a customer email: the **confirmation**, with the private
  link (at most ``confirmations_per_hour`` to one address; past that the ticket
  is still created, and the agents see why no email went out);
- an agent's public reply: the **reply** (and the message records whether it was
  delivered);
- a ticket becoming ``resolved``: the **resolved** note, held back until
  ``resolved_delay_seconds`` after the change (the console's undo window) and sent
  only if the ticket is still resolved or closed then, so an undone resolve sends
  nothing;
- an agent issuing a new private link: the **link**.

Each email has one notification item (``TICKET#<id> / NOTIFY#<kind>#<key>``) that
is claimed before sending and marked after, so a retried batch never sends it twice.
A permanent SES refusal is recorded at once; a transient failure is retried with
the batch (the error propagates) and recorded as not delivered on the last attempt,
when Lambda hands the record to the on-failure destination.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from pynamodb.exceptions import DoesNotExist, PutError, PynamoDBException, UpdateError
from pynamodb.expressions.update import Action

from chalicelib.agents import AgentDirectory
from chalicelib.data.items import (
    message_from_image,
    message_sk,
    notification_sk,
    ticket_from_image,
    ticket_pk,
)
from chalicelib.data.models import CounterModel, MessageModel, NotificationModel
from chalicelib.data.repository import TicketRepository, storage_error
from chalicelib.domain import Delivery, Message, Status, Ticket
from chalicelib.errors import TicketNotFound
from chalicelib.events.changes import TableChange
from chalicelib.links import CustomerLinks
from chalicelib.notifications import emails
from chalicelib.notifications.sender import SendFailed
from chalicelib.observability import logger

# Lambda tries a stream record 1 + MaximumRetryAttempts (2) times: the 3rd failure is the last.
MAX_ATTEMPTS = 3
# Long enough for one SES call; a worker that finds a live lease (another died
# mid-send) waits it out once and takes over, rather than failing the record.
_LEASE_SECONDS = 15
_RATE_KEEP_SECONDS = 2 * 86400
# Known providers that ignore dots in the local part (and everyone ignores "+tags").
_DOTLESS_DOMAINS = frozenset({"gmail.com", "googlemail.com"})


class EmailSender(Protocol):
    """Anything that sends an :class:`emails.Email` or raises SendFailed."""

    def send(self, message: emails.Email) -> str: ...


class InFlight(Exception):
    """Another invocation is sending this email right now: retry the record later."""


@dataclass(frozen=True, slots=True)
class Planned:
    """One email a change calls for."""

    kind: str
    key: str
    message: Message | None = None
    changed_at: datetime | None = None


def _epoch() -> float:
    return time.time()


class Notifier:
    """Turns table changes into emails (see the module docstring)."""

    def __init__(
        self,
        repository: TicketRepository,
        sender: EmailSender | None,
        links: CustomerLinks,
        directory: AgentDirectory,
        confirmations_per_hour: int,
        clock: Callable[[], datetime],
        epoch: Callable[[], float] = _epoch,
        sleep: Callable[[float], None] = time.sleep,
        confirmations_per_hour_total: int = 1000,
        resolved_delay_seconds: float = 0.0,
    ) -> None:
        self._repository = repository
        self._sender = sender
        self._links = links
        self._directory = directory
        self._per_hour = confirmations_per_hour
        self._clock = clock
        self._epoch = epoch
        self._sleep = sleep
        self._per_hour_total = confirmations_per_hour_total
        self._resolved_delay = resolved_delay_seconds

    # ---- what a change calls for ----------------------------------------------------

    @staticmethod
    def plan(change: TableChange) -> list[Planned]:
        """The emails a change calls for (none for most changes)."""
        if change.kind == "message" and change.event == "INSERT" and change.new:
            message = message_from_image(change.new)
            if message.delivery is Delivery.PENDING:
                return [Planned("reply", message.id, message)]
            return []
        if change.kind != "ticket" or change.new is None:
            return []
        after = ticket_from_image(change.new)
        if change.event == "INSERT":
            return [Planned("confirmation", after.id)] if after.customer_email else []
        if change.event != "MODIFY" or change.old is None:
            return []
        before = ticket_from_image(change.old)
        planned = []
        replied = after.last_message_at != before.last_message_at
        if after.status is Status.RESOLVED and before.status is not Status.RESOLVED and not replied:
            # A reply that resolves the ticket says so itself: one email, not two.
            planned.append(Planned("resolved", f"v{after.version}", changed_at=after.updated_at))
        if after.access_nonce and before.access_nonce and after.access_nonce != before.access_nonce:
            planned.append(Planned("link", after.access_nonce))
        return planned

    def handle(self, change: TableChange) -> None:
        """Send what the change calls for (idempotent; raises to have the record retried)."""
        for planned in self.plan(change):
            self._deliver(change.ticket_id, planned)

    # ---- one email, exactly once ----------------------------------------------------

    def _deliver(self, ticket_id: str, planned: Planned) -> None:  # noqa: PLR0911 - one exit per case
        if planned.kind == "resolved":
            self._wait_out_undo(planned)
        try:
            ticket = self._repository.get(ticket_id)
        except TicketNotFound:
            return  # deleted since: nobody to write to about it
        if planned.kind == "link" and ticket.access_nonce != planned.key:
            return  # superseded by an even newer link, which sends its own email
        to = ticket.customer_email
        if not to:
            return
        record = self._claim(ticket, planned, to)
        if record is None:
            return  # already handled
        note = self._suppressed_because(ticket, planned, to)
        if note is not None:
            self._finish(record, Delivery.SUPPRESSED, note, planned)
            return
        if self._sender is None:
            self._finish(record, Delivery.NOT_DELIVERED, "Email is not configured", planned)
            return
        try:
            self._sender.send(self._compose(ticket, planned, to))
        except SendFailed as exc:
            attempts = int(record.attempts) + 1
            if exc.permanent or attempts >= MAX_ATTEMPTS:
                self._finish(record, Delivery.NOT_DELIVERED, f"Not delivered: {exc}", planned)
                if exc.permanent:
                    return
            else:
                self._release(record, attempts, str(exc))
            raise
        self._finish(record, Delivery.SENT, None, planned)

    def _suppressed_because(self, ticket: Ticket, planned: Planned, to: str) -> str | None:
        """Why this email must not go out, or None when it may."""
        if planned.kind == "resolved" and ticket.unsolved:
            return "Not sent: the ticket was reopened before the email went out"
        if planned.kind == "confirmation":
            return self._rate_limited(to)
        return None

    def _wait_out_undo(self, planned: Planned) -> None:
        """Sleep until the undo window after the resolve has passed (at most the window
        itself: a record retried or read late waits no more)."""
        if self._resolved_delay <= 0 or planned.changed_at is None:
            return
        elapsed = (self._clock() - planned.changed_at).total_seconds()
        wait = min(self._resolved_delay - elapsed, self._resolved_delay)
        if wait > 0:
            self._sleep(wait)

    def _compose(self, ticket: Ticket, planned: Planned, to: str) -> emails.Email:
        # Emails carry the email secret: opening it verifies the ticket's address.
        nonce = planned.key if planned.kind == "link" else None
        url = self._links.email_url(ticket, nonce)
        if planned.kind == "confirmation":
            return emails.confirmation(ticket, to, url)
        if planned.kind == "resolved":
            return emails.resolved(ticket, to, url)
        if planned.kind == "link":
            return emails.new_link(ticket, to, url)
        assert planned.message is not None
        author = self._directory.public_name(planned.message.author)
        return emails.reply(ticket, to, url, author, planned.message.body)

    def _claim(self, ticket: Ticket, planned: Planned, to: str) -> NotificationModel | None:
        """The notification item, leased to this invocation; None when already done."""
        now = self._epoch()
        record = NotificationModel(
            ticket_pk(ticket.id),
            notification_sk(planned.kind, planned.key),
            ticket_id=ticket.id,
            kind=planned.kind,
            key=planned.key,
            to=to,
            status=Delivery.PENDING,
            at=self._clock(),
            attempts=0,
            lease_until=int(now) + _LEASE_SECONDS,
        )
        try:
            record.save(condition=NotificationModel.pk.does_not_exist())
            return record
        except PutError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise storage_error(exc) from exc
        try:
            existing = NotificationModel.get(record.pk, record.sk, consistent_read=True)
        except (DoesNotExist, PynamoDBException) as exc:
            raise InFlight("notification record unreadable") from exc
        if existing.status is not Delivery.PENDING:
            return None
        if int(existing.lease_until) > now:
            wait = int(existing.lease_until) - now + 1
            if wait > _LEASE_SECONDS + 1:
                raise InFlight(f"{planned.kind} email for {ticket.id} is being sent")
            self._sleep(wait)  # the other sender either finished or died: see which
            existing.refresh(consistent_read=True)
            if existing.status is not Delivery.PENDING:
                return None
            now = self._epoch()
        try:
            existing.update(
                actions=[NotificationModel.lease_until.set(int(now) + _LEASE_SECONDS)],
                condition=NotificationModel.lease_until == existing.lease_until,
            )
        except UpdateError as exc:
            raise InFlight("another invocation took the notification") from exc
        return existing

    def _release(self, record: NotificationModel, attempts: int, reason: str) -> None:
        try:
            record.update(
                actions=[
                    NotificationModel.attempts.set(attempts),
                    NotificationModel.lease_until.set(0),
                    NotificationModel.note.set(f"Attempt {attempts} failed: {reason}"),
                ]
            )
        except PynamoDBException as exc:
            logger.warning("could not record a failed attempt", extra={"error": str(exc)})

    def _finish(
        self, record: NotificationModel, status: Delivery, note: str | None, planned: Planned
    ) -> None:
        actions: list[Action] = [
            NotificationModel.status.set(status),
            NotificationModel.lease_until.set(0),
        ]
        actions.append(
            NotificationModel.note.set(note) if note else NotificationModel.note.remove()
        )
        try:
            record.update(actions=actions)
            if planned.message is not None:
                MessageModel(
                    ticket_pk(planned.message.ticket_id),
                    message_sk(planned.message.created_at, planned.message.id),
                ).update(
                    actions=[
                        MessageModel.delivery.set(status),
                        MessageModel.delivery_note.set(note)
                        if note
                        else MessageModel.delivery_note.remove(),
                    ],
                    condition=MessageModel.sk.exists(),
                )
        except UpdateError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise storage_error(exc) from exc
        except PynamoDBException as exc:
            raise storage_error(exc) from exc
        logger.info(
            "notification",
            extra={"kind": planned.kind, "ticket_id": record.ticket_id, "status": status.value},
        )

    def _rate_limited(self, address: str) -> str | None:
        """Count one confirmation to ``address``; the reason to hold it back, or None.

        Limits: ``confirmations_per_hour`` to one mailbox (``a.b+x@gmail.com`` is
        ``ab@gmail.com``) over the current and the previous clock hour together, so no
        burst fits across an hour's turn; and ``confirmations_per_hour_total`` for the
        whole desk, so a flood over many addresses stops too.
        """
        mailbox = canonical_mailbox(address)
        digest = hashlib.sha256(mailbox.encode()).hexdigest()
        if not self._take(f"MAILRATE#{digest}", self._per_hour):
            return (
                f"Not sent: more than {self._per_hour} confirmation emails to this address in "
                "an hour (the form may be misused)"
            )
        if not self._take("MAILRATE#desk", self._per_hour_total):
            return (
                f"Not sent: the desk sent {self._per_hour_total} confirmations in an hour "
                "(a possible flood through the form)"
            )
        return None

    def _take(self, key: str, limit: int) -> bool:
        """One more in this hour's counter if it and the previous hour's stay under
        ``limit``; False otherwise."""
        now = self._clock()
        try:
            previous = int(
                CounterModel.get(key, (now - timedelta(hours=1)).strftime("%Y%m%d%H")).value
            )
        except DoesNotExist:
            previous = 0
        except PynamoDBException as exc:
            raise storage_error(exc) from exc
        room = limit - previous
        if room <= 0:
            return False
        item = CounterModel(key, now.strftime("%Y%m%d%H"))
        try:
            item.update(
                actions=[
                    CounterModel.value.add(1),
                    CounterModel.expires_at.set(int(now.timestamp()) + _RATE_KEEP_SECONDS),
                ],
                condition=CounterModel.value.does_not_exist() | (CounterModel.value < room),
            )
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise storage_error(exc) from exc
        return True


def canonical_mailbox(address: str) -> str:
    """The mailbox an address delivers to: lower case, no ``+tag``, and no dots for
    providers that ignore them."""
    local, _, domain = address.strip().lower().rpartition("@")
    local = local.split("+", 1)[0]
    if domain in _DOTLESS_DOMAINS:
        local = local.replace(".", "")
    return f"{local}@{domain}"
