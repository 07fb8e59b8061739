"""Explicit mapping between DynamoDB items and domain objects, and the key formats.

Every key the table uses is built here, so the format of an item lives in one place.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from pynamodb.constants import NULL

from chalicelib.data.models import (
    HISTORY_PREFIX,
    LIST_DIMENSIONS,
    LIST_INDEX_SPECS,
    MESSAGE_PREFIX,
    NOTIFY_PREFIX,
    POSTING_PREFIX,
    TICKET_SK,
    FieldChangeMap,
    HistoryModel,
    MessageModel,
    NotificationModel,
    TicketModel,
)
from chalicelib.domain import (
    Category,
    FieldChange,
    HistoryEntry,
    Message,
    Notification,
    Priority,
    Status,
    Ticket,
    TicketSummary,
)

UNASSIGNED = "none"  # the assignee dimension's value for a ticket nobody is assigned to


def ticket_pk(ticket_id: str) -> str:
    """Partition key of a ticket and everything that belongs to it."""
    return f"TICKET#{ticket_id}"


def number_pk(number: int) -> str:
    """Key of the item that maps a ticket number to its id."""
    return f"NUMBER#{number}"


def posting_pk(term: str) -> str:
    """Partition key of one search term's postings."""
    return POSTING_PREFIX + term


def timestamp(moment: datetime) -> str:
    """Fixed-width UTC time with microseconds: sorts like the moment it names."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def created_sort_key(created_at: datetime, ticket_id: str) -> str:
    """Sort key of the list indexes and postings: creation time, then the id."""
    return f"{timestamp(created_at)}#{ticket_id}"


def ticket_id_of_sort_key(created_sk: str) -> str:
    """The ticket id at the end of a ``created_sk``."""
    return created_sk.rsplit("#", 1)[-1]


def message_sk(created_at: datetime, message_id: str) -> str:
    """Sort key of a message: oldest first within the ticket's partition."""
    return f"{MESSAGE_PREFIX}{timestamp(created_at)}#{message_id}"


def history_sk(version: int) -> str:
    """Sort key of a history entry."""
    return f"{HISTORY_PREFIX}{version:010d}"


def notification_sk(kind: str, key: str) -> str:
    """Sort key of a notification record."""
    return f"{NOTIFY_PREFIX}{kind}#{key}"


def dimension_values(ticket: Ticket) -> dict[str, str]:
    """The ticket's value in each list dimension."""
    return {
        "category": ticket.category.value,
        "priority": ticket.priority.value,
        "status": ticket.status.value,
        "assignee": ticket.assignee or UNASSIGNED,
    }


def partition_value(values: dict[str, str], dimensions: tuple[str, ...]) -> str:
    """``billing#high``: the partition key value of an index over ``dimensions``."""
    return "#".join(values[name] for name in LIST_DIMENSIONS if name in dimensions) or "ALL"


def list_keys(ticket: Ticket) -> dict[str, str]:
    """The partition value of every list index for this ticket."""
    values = dimension_values(ticket)
    return {
        attribute: partition_value(values, dimensions)
        for attribute, dimensions in LIST_INDEX_SPECS.values()
    }


# Ticket fields copied one to one between the domain object and the item.
_PLAIN_FIELDS = (
    "title",
    "description",
    "category",
    "priority",
    "status",
    "created_at",
    "updated_at",
    "version",
    "suggested_category",
    "suggested_priority",
    "classification_source",
    "suggested_confidence",
    "number",
    "customer_email",
    "customer_name",
    "assignee",
    "last_message_at",
    "waiting_on",
    "first_reply_at",
    "message_count",
    "access_nonce",
    "access_key_hash",
    "email_key_hash",
    "customer_email_verified",
)
# The customer's access secrets: only the routes that check them read them.
_SECRET_FIELDS = frozenset({"access_nonce", "access_key_hash", "email_key_hash"})
# What list and search pages read of a ticket (a ProjectionExpression): the fields a
# page shows, the key and the sort key, but not the eleven list keys nor the secrets;
# about 40% of the item's attributes, each of which is serialised by DynamoDB, parsed
# by botocore and built by PynamoDB for every ticket of every page.
LISTED_TICKET_ATTRIBUTES: tuple[str, ...] = (
    "pk",
    "sk",
    "ticket_id",
    "created_sk",
    *(name for name in _PLAIN_FIELDS if name not in _SECRET_FIELDS),
)
# What a ticket's summary reads (TicketSummary), and the sort key lists merge by.
SUMMARY_ATTRIBUTES: tuple[str, ...] = (
    "ticket_id",
    "created_sk",
    "number",
    "title",
    "priority",
    "created_at",
)
# Everything an update may set (the key and creation attributes never change).
MUTABLE_TICKET_ATTRIBUTES: tuple[str, ...] = (
    *(name for name in _PLAIN_FIELDS if name not in {"created_at", "number"}),
    *(attribute for attribute, _ in LIST_INDEX_SPECS.values()),
)


def to_ticket_model(ticket: Ticket) -> TicketModel:
    """The item for a ticket, list keys included."""
    model = TicketModel(
        ticket_pk(ticket.id),
        TICKET_SK,
        ticket_id=ticket.id,
        created_sk=created_sort_key(ticket.created_at, ticket.id),
    )
    for name in _PLAIN_FIELDS:
        setattr(model, name, getattr(ticket, name))
    for attribute, value in list_keys(ticket).items():
        setattr(model, attribute, value)
    return model


def to_ticket(model: TicketModel) -> Ticket:
    """The domain ticket of an item."""
    return _ticket(lambda name: getattr(model, name))


# The fields a domain ticket is built from, and the model's attribute for each.
_TICKET_SOURCE_FIELDS = ("ticket_id", *_PLAIN_FIELDS)
_MODEL_ATTRIBUTES = TicketModel.get_attributes()
_TICKET_ATTRIBUTES = tuple(
    (name, _MODEL_ATTRIBUTES[name].attr_name, _MODEL_ATTRIBUTES[name])
    for name in _TICKET_SOURCE_FIELDS
)


def ticket_from_item(item: Mapping[str, dict[str, Any]]) -> Ticket:
    """The domain ticket of a raw item, as a Query returns it.

    Each value is read by the model's own attribute (the same enum checks, the same
    dates) and a missing one gets the attribute's default, as PynamoDB's ``from_raw_data``
    does, so this equals ``to_ticket(TicketModel.from_raw_data(item))``. It skips building
    the model (its defaults set twice and every attribute through its descriptor), which
    was about half of a list page's own work.
    """
    values: dict[str, Any] = {}
    for name, attr_name, attribute in _TICKET_ATTRIBUTES:
        raw = item.get(attr_name)
        if raw and NULL not in raw:
            values[name] = attribute.deserialize(attribute.get_value(raw))
        else:
            default = attribute.default
            values[name] = default() if callable(default) else default
    return _ticket(values.get)


def summary_from_item(item: Mapping[str, dict[str, Any]]) -> TicketSummary:
    """The summary of a raw item read with (at least) :data:`SUMMARY_ATTRIBUTES`."""
    values = {
        name: attribute.deserialize(attribute.get_value(item[attr_name]))
        for name, attr_name, attribute in _TICKET_ATTRIBUTES
        if name in SUMMARY_ATTRIBUTES and attr_name in item and NULL not in item[attr_name]
    }
    return TicketSummary(
        id=values["ticket_id"],
        number=values.get("number"),
        title=values["title"],
        priority=values["priority"],
        created_at=values["created_at"],
    )


def _ticket(value: Callable[[str], Any]) -> Ticket:
    return Ticket(
        id=value("ticket_id"),
        title=value("title"),
        description=value("description"),
        category=value("category"),
        priority=value("priority"),
        status=value("status"),
        created_at=value("created_at"),
        updated_at=value("updated_at"),
        version=int(value("version")),
        suggested_category=value("suggested_category"),
        suggested_priority=value("suggested_priority"),
        classification_source=value("classification_source"),
        suggested_confidence=value("suggested_confidence"),
        number=int(value("number")) if value("number") is not None else None,
        customer_email=value("customer_email"),
        customer_name=value("customer_name"),
        assignee=value("assignee"),
        last_message_at=value("last_message_at"),
        waiting_on=value("waiting_on"),
        first_reply_at=value("first_reply_at"),
        message_count=int(value("message_count") or 0),
        access_nonce=value("access_nonce"),
        access_key_hash=value("access_key_hash"),
        email_key_hash=value("email_key_hash"),
        customer_email_verified=bool(value("customer_email_verified")),
    )


def field_text(value: object) -> str | None:
    """A field's value as history records it."""
    if value is None:
        return None
    return value.value if isinstance(value, (Category, Priority, Status)) else str(value)


def history_model(
    ticket: Ticket, action: str, actor: str, changes: tuple[FieldChange, ...]
) -> HistoryModel:
    """The history item recording ``ticket`` reaching its version."""
    return HistoryModel(
        ticket_pk(ticket.id),
        history_sk(ticket.version),
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


def to_history_entry(item: HistoryModel) -> HistoryEntry:
    """The domain history entry of an item."""
    return HistoryEntry(
        ticket_id=item.ticket_id,
        version=int(item.version),
        action=item.action,
        actor=item.actor,
        at=item.at,
        changes=tuple(FieldChange(change.field, change.old, change.new) for change in item.changes),
    )


def to_message_model(message: Message) -> MessageModel:
    """The item for a message."""
    return MessageModel(
        ticket_pk(message.ticket_id),
        message_sk(message.created_at, message.id),
        message_id=message.id,
        ticket_id=message.ticket_id,
        body=message.body,
        internal=message.internal,
        author=message.author,
        created_at=message.created_at,
        delivery=message.delivery,
        delivery_note=message.delivery_note,
    )


def to_message(item: MessageModel) -> Message:
    """The domain message of an item."""
    return Message(
        id=item.message_id,
        ticket_id=item.ticket_id,
        body=item.body,
        internal=bool(item.internal),
        author=item.author,
        created_at=item.created_at,
        delivery=item.delivery,
        delivery_note=item.delivery_note,
    )


def to_notification(item: NotificationModel) -> Notification:
    """The domain notification of an item."""
    return Notification(
        ticket_id=item.ticket_id,
        kind=item.kind,
        key=item.key,
        to=item.to,
        status=item.status,
        note=item.note,
        at=item.at,
    )


def message_from_image(image: dict[str, Any]) -> Message:
    """A message from a stream record's image (DynamoDB JSON)."""
    return to_message(MessageModel.from_raw_data(image))


def ticket_from_image(image: dict[str, Any]) -> Ticket:
    """A ticket from a stream record's image (DynamoDB JSON)."""
    return to_ticket(TicketModel.from_raw_data(image))
