"""The ticket repository: the only code that talks to DynamoDB.

Items are mapped to domain objects explicitly; every PynamoDB error is caught
and re-raised as a domain error, so nothing above this module knows DynamoDB.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, PynamoDBException, TransactWriteError
from pynamodb.expressions.operand import Path
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from chalicelib.cursor import PagePosition
from chalicelib.data.models import (
    FILTER_INDEX_SPECS,
    STATS_PK,
    TICKET_SK,
    FieldChangeMap,
    HistoryModel,
    StatsShardModel,
    TicketModel,
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
from chalicelib.errors import ServiceUnavailable, TicketNotFound

FILTER_FIELDS = ("category", "priority", "status")
_THROTTLING_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "LimitExceededException",
    }
)


class StaleTicket(Exception):
    """The ticket's version changed (or it vanished) between our read and our write."""


class WriteContention(Exception):
    """DynamoDB cancelled a transaction because another one touched the same items."""


@dataclass(slots=True)
class TicketPage:
    """One page of a list query."""

    tickets: list[Ticket]
    next_position: PagePosition | None
    examined: int = 0


class TicketRepository(Protocol):
    """What the service layer needs from storage."""

    def get(self, ticket_id: str) -> Ticket: ...

    def create(self, ticket: Ticket, actor: str) -> None: ...

    def update(self, before: Ticket, after: Ticket, actor: str) -> None: ...

    def delete(self, ticket: Ticket, actor: str, deleted_at: datetime) -> None: ...

    def list_page(
        self,
        filters: dict[str, str],
        limit: int,
        after: PagePosition | None,
        search: str | None,
        scan_budget: int,
    ) -> TicketPage: ...

    def stats(self) -> StatsCounts: ...

    def history(self, ticket_id: str) -> list[HistoryEntry]: ...


def ticket_pk(ticket_id: str) -> str:
    """Partition key of a ticket and its history."""
    return f"TICKET#{ticket_id}"


def created_sort_key(created_at: datetime, ticket_id: str) -> str:
    """Sort key of the list indexes: fixed-width UTC time, then the id as a tie-breaker."""
    return f"{created_at.strftime('%Y-%m-%dT%H:%M:%S.%fZ')}#{ticket_id}"


def _partition_value(filters: dict[str, str]) -> str:
    return "#".join(filters[name] for name in FILTER_FIELDS if name in filters) or "ALL"


def _list_keys(ticket: Ticket) -> dict[str, str]:
    """The partition value of every list index for this ticket."""
    values = {
        "category": ticket.category.value,
        "priority": ticket.priority.value,
        "status": ticket.status.value,
    }
    return {
        attribute: _partition_value({name: values[name] for name in fields})
        for fields, (_, attribute) in FILTER_INDEX_SPECS.items()
    }


def _to_model(ticket: Ticket) -> TicketModel:
    model = TicketModel(
        ticket_pk(ticket.id),
        TICKET_SK,
        ticket_id=ticket.id,
        title=ticket.title,
        description=ticket.description,
        category=ticket.category,
        priority=ticket.priority,
        status=ticket.status,
        created_at=ticket.created_at,
        updated_at=ticket.updated_at,
        version=ticket.version,
        suggested_category=ticket.suggested_category,
        suggested_priority=ticket.suggested_priority,
        classification_source=ticket.classification_source,
        created_sk=created_sort_key(ticket.created_at, ticket.id),
    )
    for attribute, value in _list_keys(ticket).items():
        setattr(model, attribute, value)
    return model


def _to_ticket(model: TicketModel) -> Ticket:
    return Ticket(
        id=model.ticket_id,
        title=model.title,
        description=model.description,
        category=model.category,
        priority=model.priority,
        status=model.status,
        created_at=model.created_at,
        updated_at=model.updated_at,
        version=int(model.version),
        suggested_category=model.suggested_category,
        suggested_priority=model.suggested_priority,
        classification_source=model.classification_source,
    )


def _counter_names(ticket: Ticket) -> list[str]:
    return [
        "total",
        f"c_{ticket.category.value}",
        f"p_{ticket.priority.value}",
        f"s_{ticket.status.value}",
        f"d_{ticket.created_at.strftime('%Y%m%d')}",
    ]


def counter_deltas(before: Ticket | None, after: Ticket | None) -> dict[str, int]:
    """How each counter moves when ``before`` becomes ``after`` (None = absent)."""
    deltas: dict[str, int] = {}
    for ticket, sign in ((before, -1), (after, +1)):
        if ticket is not None:
            for name in _counter_names(ticket):
                deltas[name] = deltas.get(name, 0) + sign
    return {name: delta for name, delta in deltas.items() if delta}


def _storage_error(exc: PynamoDBException) -> ServiceUnavailable:
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
    if reasons and reasons[0] == "ConditionalCheckFailed":
        raise StaleTicket() from exc
    if "TransactionConflict" in reasons:
        raise WriteContention() from exc
    raise _storage_error(exc) from exc


class DynamoTicketRepository:
    """:class:`TicketRepository` on the single DynamoDB table, through PynamoDB."""

    def __init__(self, counter_shards: int, rng: random.Random | None = None) -> None:
        self._counter_shards = counter_shards
        self._rng = rng or random.Random()

    @property
    def _connection(self) -> Connection:
        # Transactions span models; they share the ticket model's cached connection.
        return TicketModel._get_connection().connection

    def _shard(self) -> StatsShardModel:
        shard = self._rng.randrange(self._counter_shards)
        return StatsShardModel(STATS_PK, f"SHARD#{shard:02d}")

    def get(self, ticket_id: str) -> Ticket:
        """The ticket, read consistently; TicketNotFound when there is none."""
        try:
            return _to_ticket(
                TicketModel.get(ticket_pk(ticket_id), TICKET_SK, consistent_read=True)
            )
        except DoesNotExist as exc:
            raise TicketNotFound(ticket_id) from exc
        except PynamoDBException as exc:
            raise _storage_error(exc) from exc

    def _write(
        self,
        ticket_operation: Any,
        deltas: dict[str, int],
        history: HistoryModel,
    ) -> None:
        try:
            with TransactWrite(connection=self._connection) as transaction:
                ticket_operation(transaction)
                if deltas:
                    actions: list[Action] = [
                        Path(name).add(delta) for name, delta in sorted(deltas.items())
                    ]
                    transaction.update(self._shard(), actions=actions)
                transaction.save(history, condition=HistoryModel.sk.does_not_exist())
        except TransactWriteError as exc:
            _raise_transaction_error(exc)
        except PynamoDBException as exc:
            raise _storage_error(exc) from exc

    def create(self, ticket: Ticket, actor: str) -> None:
        """Store a new ticket, count it and record its creation, in one transaction."""
        model = _to_model(ticket)
        changes = tuple(
            FieldChange(name, None, field_text(getattr(ticket, name)))
            for name in ("title", "description", "category", "priority", "status")
        )
        self._write(
            lambda transaction: transaction.save(model, condition=TicketModel.pk.does_not_exist()),
            counter_deltas(None, ticket),
            _history_model(ticket, "created", actor, changes),
        )

    def update(self, before: Ticket, after: Ticket, actor: str) -> None:
        """Apply ``after`` if the stored version is still ``before.version``; else StaleTicket."""
        changes = tuple(
            FieldChange(name, field_text(getattr(before, name)), field_text(getattr(after, name)))
            for name in ("title", "description", "category", "priority", "status")
            if getattr(before, name) != getattr(after, name)
        )
        new_model = _to_model(after)
        actions: list[Action] = [
            getattr(TicketModel, name).set(getattr(new_model, name))
            for name in (
                "title",
                "description",
                "category",
                "priority",
                "status",
                "updated_at",
                "version",
                *(attribute for _, attribute in FILTER_INDEX_SPECS.values()),
            )
        ]
        key = TicketModel(ticket_pk(before.id), TICKET_SK)
        self._write(
            lambda transaction: transaction.update(
                key, actions=actions, condition=TicketModel.version == before.version
            ),
            counter_deltas(before, after),
            _history_model(after, "updated", actor, changes),
        )

    def delete(self, ticket: Ticket, actor: str, deleted_at: datetime) -> None:
        """Delete the ticket if its stored version is still ``ticket.version``; else StaleTicket."""
        key = TicketModel(ticket_pk(ticket.id), TICKET_SK)
        gone = replace(ticket, version=ticket.version + 1, updated_at=deleted_at)
        self._write(
            lambda transaction: transaction.delete(
                key, condition=TicketModel.version == ticket.version
            ),
            counter_deltas(ticket, None),
            _history_model(gone, "deleted", actor, ()),
        )

    def list_page(
        self,
        filters: dict[str, str],
        limit: int,
        after: PagePosition | None,
        search: str | None,
        scan_budget: int,
    ) -> TicketPage:
        """Newest-first tickets matching ``filters`` (and ``search``), one page at a time.

        Without search this reads ``limit + 1`` items. With search it examines at
        most ``scan_budget`` items and then hands back a position to continue from,
        so a page can hold fewer than ``limit`` tickets while more may follow.
        """
        fields = tuple(name for name in FILTER_FIELDS if name in filters)
        index_name, partition_attribute = FILTER_INDEX_SPECS[fields]
        index = getattr(TicketModel, index_name)
        partition = _partition_value(filters)
        start_key = None
        if after is not None:
            start_key = {
                "pk": {"S": ticket_pk(after.ticket_id)},
                "sk": {"S": TICKET_SK},
                partition_attribute: {"S": partition},
                "created_sk": {"S": after.created_sk},
            }
        try:
            if search is None:
                return self._plain_page(index, partition, limit, start_key)
            return self._search_page(index, partition, limit, start_key, search, scan_budget)
        except PynamoDBException as exc:
            raise _storage_error(exc) from exc

    def _plain_page(
        self, index: Any, partition: str, limit: int, start_key: dict[str, Any] | None
    ) -> TicketPage:
        items = list(
            index.query(
                partition,
                scan_index_forward=False,
                limit=limit + 1,
                page_size=limit + 1,
                last_evaluated_key=start_key,
            )
        )
        tickets = [_to_ticket(item) for item in items[:limit]]
        has_more = len(items) > limit
        return TicketPage(
            tickets=tickets,
            next_position=position_of(tickets[-1]) if has_more else None,
            examined=len(items),
        )

    def _search_page(
        self,
        index: Any,
        partition: str,
        limit: int,
        start_key: dict[str, Any] | None,
        search: str,
        scan_budget: int,
    ) -> TicketPage:
        needle = search.casefold()
        page_size = max(1, min(scan_budget, 250))
        results: Iterator[TicketModel] = index.query(
            partition,
            scan_index_forward=False,
            page_size=page_size,
            last_evaluated_key=start_key,
        )
        matches: list[Ticket] = []
        examined = 0
        last_examined: Ticket | None = None
        for item in results:
            examined += 1
            last_examined = _to_ticket(item)
            if needle in item.title.casefold() or needle in item.description.casefold():
                if len(matches) == limit:
                    return TicketPage(matches, position_of(matches[-1]), examined)
                matches.append(last_examined)
            if examined >= scan_budget:
                more = getattr(results, "last_evaluated_key", None) is not None
                position = position_of(last_examined) if more else None
                return TicketPage(matches, position, examined)
        return TicketPage(matches, None, examined)

    def stats(self) -> StatsCounts:
        """Sum the counter shards: one query, whatever the number of tickets."""
        try:
            response = StatsShardModel._get_connection().query(STATS_PK, consistent_read=True)
        except PynamoDBException as exc:
            raise _storage_error(exc) from exc
        totals: dict[str, int] = {}
        for item in response.get("Items", []):
            for name, value in item.items():
                if "N" in value:
                    totals[name] = totals.get(name, 0) + int(value["N"])
        return StatsCounts(
            total=totals.get("total", 0),
            by_category={c: totals.get(f"c_{c.value}", 0) for c in Category},
            by_priority={p: totals.get(f"p_{p.value}", 0) for p in Priority},
            by_status={s: totals.get(f"s_{s.value}", 0) for s in Status},
            days_with_tickets=sum(
                1 for name, count in totals.items() if name.startswith("d_") and count > 0
            ),
        )

    def history(self, ticket_id: str) -> list[HistoryEntry]:
        """Every recorded change to the ticket, oldest first (empty if none)."""
        try:
            items = list(
                HistoryModel.query(
                    ticket_pk(ticket_id),
                    HistoryModel.sk.startswith("HISTORY#"),
                    consistent_read=True,
                )
            )
        except PynamoDBException as exc:
            raise _storage_error(exc) from exc
        return [
            HistoryEntry(
                ticket_id=item.ticket_id,
                version=int(item.version),
                action=item.action,
                actor=item.actor,
                at=item.at,
                changes=tuple(
                    FieldChange(change.field, change.old, change.new) for change in item.changes
                ),
            )
            for item in items
        ]


def position_of(ticket: Ticket) -> PagePosition:
    """Where a page that ends with ``ticket`` continues."""
    return PagePosition(created_sort_key(ticket.created_at, ticket.id), ticket.id)


def field_text(value: object) -> str:
    """A field's value as history records it."""
    return value.value if isinstance(value, (Category, Priority, Status)) else str(value)


def _history_model(
    ticket: Ticket, action: str, actor: str, changes: tuple[FieldChange, ...]
) -> HistoryModel:
    return HistoryModel(
        ticket_pk(ticket.id),
        f"HISTORY#{ticket.version:010d}",
        ticket_id=ticket.id,
        version=ticket.version,
        action=action,
        actor=actor,
        at=ticket.updated_at,
        changes=[
            FieldChangeMap(field=c.field, old=c.old, new=c.new)  # type: ignore[no-untyped-call]
            for c in changes
        ],
    )
