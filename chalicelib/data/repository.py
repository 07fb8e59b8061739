"""The ticket repository: tickets, their history and their conversation in DynamoDB.

Items are mapped to domain objects explicitly (chalicelib.data.items); every
PynamoDB error is caught and re-raised as a domain error, so nothing above this
module knows DynamoDB. Every change to a ticket is one ``TransactWriteItems``: the
ticket (conditional on the version that was read), its counter deltas, its history
entry and, for a message, the message itself.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, PynamoDBException, TransactWriteError, UpdateError
from pynamodb.expressions.operand import Path
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from chalicelib.cursor import PagePosition
from chalicelib.data.counters import CounterDeltas, counter_deltas, month_key
from chalicelib.data.items import (
    MUTABLE_TICKET_ATTRIBUTES,
    field_text,
    history_model,
    number_pk,
    ticket_pk,
    to_history_entry,
    to_message,
    to_message_model,
    to_notification,
    to_ticket,
    to_ticket_model,
)
from chalicelib.data.lists import ListReader, ListSpec, TicketPage
from chalicelib.data.models import (
    HISTORY_PREFIX,
    MESSAGE_PREFIX,
    NOTIFY_PREFIX,
    STATS_PK,
    TICKET_SK,
    USAGE_PREFIX,
    CounterModel,
    HistoryModel,
    MessageModel,
    NotificationModel,
    NumberModel,
    StatsShardModel,
    TicketModel,
)
from chalicelib.domain import (
    FieldChange,
    HistoryEntry,
    Message,
    Notification,
    StatsCounts,
    Ticket,
    TicketSummary,
)
from chalicelib.errors import ServiceUnavailable, TicketNotFound

# The fields a person edits, recorded field by field in the history.
RECORDED_FIELDS = (
    "title",
    "description",
    "category",
    "priority",
    "status",
    "assignee",
    "customer_email",
    "customer_name",
)
SEQUENCE_PK = "SEQUENCE"
_THROTTLING_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "LimitExceededException",
    }
)


class StaleTicket(Exception):
    """The ticket's version changed (or it vanished, or it existed) between read and write."""


class WriteContention(Exception):
    """DynamoDB cancelled a transaction because another one touched the same items."""


class TicketRepository(Protocol):
    """What the service layer needs from storage."""

    def get(self, ticket_id: str) -> Ticket: ...

    def get_by_number(self, number: int) -> Ticket: ...

    def next_number(self) -> int: ...

    def create(self, ticket: Ticket, actor: str) -> None: ...

    def update(
        self, before: Ticket, after: Ticket, actor: str, action: str = "updated"
    ) -> None: ...

    def delete(self, ticket: Ticket, actor: str, deleted_at: datetime) -> None: ...

    def add_message(self, before: Ticket, after: Ticket, message: Message, actor: str) -> None: ...

    def messages(
        self, ticket_id: str, limit: int, after: str | None
    ) -> tuple[list[Message], str | None]: ...

    def latest_messages(self, ticket_id: str, count: int) -> list[Message]: ...

    def mark_email_verified(self, ticket_id: str, nonce: str) -> None: ...

    def notifications(self, ticket_id: str) -> list[Notification]: ...

    def first_summary(self, spec: ListSpec) -> TicketSummary | None:
        """The first ticket of a list (not a search), as a summary; None if it is empty."""
        ...

    def list_page(self, spec: ListSpec, limit: int, after: PagePosition | None) -> TicketPage:
        """One page of a list or search. Its tickets are for showing: they come without
        the customer's access secrets (``access_nonce``, ``access_key_hash``,
        ``email_key_hash`` are None); read a ticket with :meth:`get` to check or change it.
        """
        ...

    def stats(self, today: datetime) -> StatsCounts: ...

    def history(self, ticket_id: str) -> list[HistoryEntry]: ...


def storage_error(exc: PynamoDBException) -> ServiceUnavailable:
    """The 503 a DynamoDB failure becomes (nothing was written)."""
    if exc.cause_response_code in _THROTTLING_CODES:
        return ServiceUnavailable(
            "The ticket store is busy right now; nothing was changed. Please retry shortly.",
            retry_after_seconds=2,
        )
    return ServiceUnavailable(
        "The ticket store is unavailable right now; nothing was changed. Please retry shortly.",
        retry_after_seconds=5,
    )


def _raise_transaction_error(exc: TransactWriteError) -> None:
    reasons = [reason.code if reason else None for reason in exc.cancellation_reasons]
    if "ConditionalCheckFailed" in reasons:
        raise StaleTicket() from exc
    if "TransactionConflict" in reasons:
        raise WriteContention() from exc
    raise storage_error(exc) from exc


def recorded_changes(before: Ticket, after: Ticket) -> tuple[FieldChange, ...]:
    """The recorded fields that differ between two versions of a ticket."""
    return tuple(
        FieldChange(name, field_text(getattr(before, name)), field_text(getattr(after, name)))
        for name in RECORDED_FIELDS
        if getattr(before, name) != getattr(after, name)
    )


def creation_changes(ticket: Ticket) -> tuple[FieldChange, ...]:
    """The initial values a creation records."""
    return tuple(
        FieldChange(name, None, field_text(getattr(ticket, name)))
        for name in RECORDED_FIELDS
        if getattr(ticket, name) is not None
    )


class DynamoTicketRepository:
    """:class:`TicketRepository` on the single DynamoDB table, through PynamoDB."""

    def __init__(
        self,
        counter_shards: int,
        rng: random.Random | None = None,
        list_reader: ListReader | None = None,
    ) -> None:
        self._counter_shards = counter_shards
        self._rng = rng or random.Random()
        self._lists = list_reader or ListReader()

    @property
    def _connection(self) -> Connection:
        # Transactions span models; they share the ticket model's cached connection.
        return TicketModel._get_connection().connection

    # ---- reads ----------------------------------------------------------------------

    def get(self, ticket_id: str) -> Ticket:
        """The ticket, read consistently; TicketNotFound when there is none."""
        try:
            return to_ticket(TicketModel.get(ticket_pk(ticket_id), TICKET_SK, consistent_read=True))
        except DoesNotExist as exc:
            raise TicketNotFound(ticket_id) from exc
        except PynamoDBException as exc:
            raise storage_error(exc) from exc

    def get_by_number(self, number: int) -> Ticket:
        """The ticket with this number; TicketNotFound when there is none."""
        try:
            pointer = NumberModel.get(number_pk(number), "NUMBER", consistent_read=True)
        except DoesNotExist as exc:
            raise TicketNotFound(f"#{number}") from exc
        except PynamoDBException as exc:
            raise storage_error(exc) from exc
        return self.get(pointer.ticket_id)

    def next_number(self) -> int:
        """The next ticket number (an atomic counter: unique, increasing, gaps possible)."""
        sequence = CounterModel(SEQUENCE_PK, "TICKET_NUMBER")
        try:
            sequence.update(actions=[CounterModel.value.add(1)])
        except PynamoDBException as exc:
            raise storage_error(exc) from exc
        return int(sequence.value)

    def first_summary(self, spec: ListSpec) -> TicketSummary | None:
        """The first ticket of a list, as a summary (see chalicelib.data.lists)."""
        try:
            return self._lists.first_summary(spec)
        except PynamoDBException as exc:
            raise storage_error(exc) from exc

    def list_page(self, spec: ListSpec, limit: int, after: PagePosition | None) -> TicketPage:
        """One page of a list (see chalicelib.data.lists)."""
        try:
            return self._lists.page(spec, limit, after)
        except PynamoDBException as exc:
            raise storage_error(exc) from exc

    def history(self, ticket_id: str) -> list[HistoryEntry]:
        """Every recorded change to the ticket, oldest first (empty if none)."""
        try:
            items = list(
                HistoryModel.query(
                    ticket_pk(ticket_id),
                    HistoryModel.sk.startswith(HISTORY_PREFIX),
                    consistent_read=True,
                )
            )
        except PynamoDBException as exc:
            raise storage_error(exc) from exc
        return [to_history_entry(item) for item in items]

    def messages(
        self, ticket_id: str, limit: int, after: str | None
    ) -> tuple[list[Message], str | None]:
        """A page of the ticket's messages, oldest first, and the sort key to continue after."""
        # Messages sort between "MSG#" and "MSG#~" (times and ids never contain "~").
        condition = (
            MessageModel.sk.between(after, MESSAGE_PREFIX + "~")
            if after
            else MessageModel.sk.startswith(MESSAGE_PREFIX)
        )
        try:
            result = MessageModel.query(
                ticket_pk(ticket_id),
                condition,
                consistent_read=True,
                limit=limit + 2,
                page_size=limit + 2,
            )
            items = [item for item in result if item.sk != after]
        except PynamoDBException as exc:
            raise storage_error(exc) from exc
        more = len(items) > limit
        items = items[:limit]
        return [to_message(item) for item in items], items[-1].sk if more else None

    def latest_messages(self, ticket_id: str, count: int) -> list[Message]:
        """The ``count`` newest messages, oldest first (one query, read newest first)."""
        try:
            items = list(
                MessageModel.query(
                    ticket_pk(ticket_id),
                    MessageModel.sk.between(MESSAGE_PREFIX, MESSAGE_PREFIX + "~"),
                    consistent_read=True,
                    scan_index_forward=False,
                    limit=count,
                    page_size=count,
                )
            )
        except PynamoDBException as exc:
            raise storage_error(exc) from exc
        return [to_message(item) for item in reversed(items)]

    def mark_email_verified(self, ticket_id: str, nonce: str) -> None:
        """Record that the emailed link (of ``nonce``) was used. A plain attribute: no new
        version (nothing an agent sees changed), and nothing if the link was replaced."""
        try:
            TicketModel(ticket_pk(ticket_id), TICKET_SK).update(
                actions=[TicketModel.customer_email_verified.set(True)],
                condition=TicketModel.access_nonce == nonce,
            )
        except UpdateError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise storage_error(exc) from exc
        except PynamoDBException as exc:
            raise storage_error(exc) from exc

    def notifications(self, ticket_id: str) -> list[Notification]:
        """The emails sent (or not) about the ticket, oldest first."""
        try:
            items = list(
                NotificationModel.query(
                    ticket_pk(ticket_id),
                    NotificationModel.sk.startswith(NOTIFY_PREFIX),
                    consistent_read=True,
                )
            )
        except PynamoDBException as exc:
            raise storage_error(exc) from exc
        return sorted((to_notification(item) for item in items), key=lambda n: n.at)

    def stats(self, today: datetime) -> StatsCounts:
        """Sum the counter shards and this and last month's day counters, and read the
        daily usage counters kept beside them: one query."""
        first_of_month = today.replace(day=1)
        last_month = month_key(first_of_month - timedelta(days=1))
        try:
            response = StatsShardModel._get_connection().query(
                STATS_PK,
                range_key_condition=StatsShardModel.sk >= f"M#{last_month}",
                consistent_read=True,
            )
        except PynamoDBException as exc:
            raise storage_error(exc) from exc
        totals: dict[str, int] = {}
        days: dict[str, int] = {}
        usage: dict[str, int] = {}
        for item in response.get("Items", []):
            sk = item["sk"]["S"]
            if sk.startswith(USAGE_PREFIX):
                if "N" in item.get("value", {}):
                    usage[sk[len(USAGE_PREFIX) :]] = int(item["value"]["N"])
                continue
            target = days if sk.startswith("M#") else totals
            for name, value in item.items():
                if "N" in value:
                    target[name] = target.get(name, 0) + int(value["N"])
        return StatsCounts(totals=totals, days=days, usage=usage)

    # ---- writes ---------------------------------------------------------------------

    def _write(
        self,
        operations: list[Callable[[TransactWrite], Any]],
        deltas: CounterDeltas,
        history: HistoryModel | None,
    ) -> None:
        shard = self._rng.randrange(self._counter_shards)
        try:
            with TransactWrite(connection=self._connection) as transaction:
                for operation in operations:
                    operation(transaction)
                if deltas.totals:
                    transaction.update(
                        StatsShardModel(STATS_PK, f"SHARD#{shard:02d}"),
                        actions=_add_actions(deltas.totals),
                    )
                for month, values in sorted(deltas.months.items()):
                    transaction.update(
                        StatsShardModel(STATS_PK, f"M#{month}#{shard:02d}"),
                        actions=_add_actions(values),
                    )
                if history is not None:
                    transaction.save(history, condition=HistoryModel.sk.does_not_exist())
        except TransactWriteError as exc:
            _raise_transaction_error(exc)
        except PynamoDBException as exc:
            raise storage_error(exc) from exc

    def create(self, ticket: Ticket, actor: str) -> None:
        """Store a new ticket (and its number), count it and record its creation, at once.

        StaleTicket when a ticket with this id exists or ever existed (its history remains).
        """
        model = to_ticket_model(ticket)
        operations: list[Callable[[TransactWrite], Any]] = [
            lambda t: t.save(model, condition=TicketModel.pk.does_not_exist())
        ]
        if ticket.number is not None:
            pointer = NumberModel(number_pk(ticket.number), "NUMBER", ticket_id=ticket.id)
            operations.append(lambda t: t.save(pointer, condition=NumberModel.pk.does_not_exist()))
        self._write(
            operations,
            counter_deltas(None, ticket),
            history_model(ticket, "created", actor, creation_changes(ticket)),
        )

    def _update_operation(self, before: Ticket, after: Ticket) -> Callable[[TransactWrite], Any]:
        """Write the attributes that change from ``before`` to ``after``, if the stored
        version is still ``before.version``.

        The condition means the stored item is ``before``'s, but for what is written
        without a new version (the customer's email verification, which a whole write
        read before it used to undo): so writing only what differs leaves the item a
        whole write would, that verification kept. A status change writes some ten
        attributes (the status, its list keys, the version, the time) rather than forty.
        An attribute the code derives differently from how an older item stores it (a
        new list index's key) is written only when it changes: such a change needs a
        backfill of the existing items, as a new index always did for tickets nobody
        edits.
        """
        old_model, new_model = to_ticket_model(before), to_ticket_model(after)
        actions: list[Action] = []
        for name in MUTABLE_TICKET_ATTRIBUTES:
            value = getattr(new_model, name)
            if value == getattr(old_model, name) and name != "version":
                continue
            attribute = getattr(TicketModel, name)
            actions.append(attribute.remove() if value is None else attribute.set(value))
        key = TicketModel(ticket_pk(before.id), TICKET_SK)
        return lambda t: t.update(
            key, actions=actions, condition=TicketModel.version == before.version
        )

    def update(self, before: Ticket, after: Ticket, actor: str, action: str = "updated") -> None:
        """Apply ``after`` if the stored version is still ``before.version``; else StaleTicket."""
        changes = recorded_changes(before, after)
        self._write(
            [self._update_operation(before, after)],
            counter_deltas(before, after),
            history_model(after, action, actor, changes)
            if changes or action != "updated"
            else None,
        )

    def add_message(self, before: Ticket, after: Ticket, message: Message, actor: str) -> None:
        """Store a message and the ticket it changes (last message, who it waits on, maybe
        its status) in one transaction, conditional on ``before.version``."""
        item = to_message_model(message)
        changes = recorded_changes(before, after)
        self._write(
            [
                lambda t: t.save(item, condition=MessageModel.sk.does_not_exist()),
                self._update_operation(before, after),
            ],
            counter_deltas(before, after),
            history_model(
                after, "reopened" if _reopened(before, after) else "updated", actor, changes
            )
            if changes
            else None,
        )

    def delete(self, ticket: Ticket, actor: str, deleted_at: datetime) -> None:
        """Delete the ticket if its stored version is still ``ticket.version``; else StaleTicket.

        The history stays (an audit log); the conversation and the search index are
        removed afterwards by the stream consumer.
        """
        key = TicketModel(ticket_pk(ticket.id), TICKET_SK)
        gone = replace(ticket, version=ticket.version + 1, updated_at=deleted_at)
        operations: list[Callable[[TransactWrite], Any]] = [
            lambda t: t.delete(key, condition=TicketModel.version == ticket.version)
        ]
        if ticket.number is not None:
            pointer = NumberModel(number_pk(ticket.number), "NUMBER")
            operations.append(lambda t: t.delete(pointer))
        self._write(
            operations,
            counter_deltas(ticket, None),
            history_model(gone, "deleted", actor, ()),
        )

    def purge_conversation(self, ticket_id: str) -> int:
        """Delete a deleted ticket's messages and notification records (its history stays:
        it is the audit log). Returns how many items were deleted."""
        if self._ticket_exists(ticket_id):
            return 0
        deleted = 0
        try:
            for model, prefix in (
                (MessageModel, MESSAGE_PREFIX),
                (NotificationModel, NOTIFY_PREFIX),
            ):
                with model.batch_write() as batch:
                    for item in model.query(ticket_pk(ticket_id), model.sk.startswith(prefix)):
                        batch.delete(item)
                        deleted += 1
        except PynamoDBException as exc:
            raise storage_error(exc) from exc
        return deleted

    def _ticket_exists(self, ticket_id: str) -> bool:
        try:
            self.get(ticket_id)
        except TicketNotFound:
            return False
        return True


def _reopened(before: Ticket, after: Ticket) -> bool:
    return not before.unsolved and after.unsolved


def _add_actions(values: dict[str, int]) -> list[Action]:
    return [Path(name).add(delta) for name, delta in sorted(values.items())]
