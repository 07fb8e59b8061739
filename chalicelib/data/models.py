"""PynamoDB models for the single DynamoDB table.

One table holds every item type, told apart by the key prefix:

=========================  =========================  ==========================================
pk                         sk                         item
=========================  =========================  ==========================================
``TICKET#<id>``            ``TICKET``                 the ticket
``TICKET#<id>``            ``HISTORY#<version>``      one recorded change (who, when, old, new)
``TICKET#<id>``            ``MSG#<time>#<msg id>``    one message of the conversation
``TICKET#<id>``            ``NOTIFY#<kind>#<key>``    one email sent (or not) about the ticket
``TICKET#<id>``            ``INDEX``                  the search terms indexed for the ticket
``IX#<term>``              ``<created_sk>``           one search posting: the term is in a ticket
``NUMBER#<n>``             ``NUMBER``                 ticket number -> ticket id
``SEQUENCE``               ``TICKET_NUMBER``          the ticket number counter
``STATS``                  ``SHARD#<nn>``             one shard of the all-time counters
``STATS``                  ``M#<yyyymm>#<nn>``        one shard of a month's per-day counters
``STATS``                  ``USAGE#claude#<day>``     Claude calls made that UTC day (TTL)
``MAILRATE#<sha256>``      ``<yyyymmddhh>``           confirmations mailed to one address (TTL)
``IDEMPOTENCY#create...``  ``<key hash>``             a remembered create response (TTL)
``CLASSIFY#<sha256>``      ``CLASSIFY``               a cached Claude classification (TTL)
=========================  =========================  ==========================================

Lists are served by eleven global secondary indexes (chalicelib.data.lists
holds the catalogue and decides which one a query reads). Each index's partition
key names the values of some of the four list dimensions (category, priority,
status, assignee), for example ``billing#high``, and every index sorts by
``created_sk`` (creation time, then id). Only ticket items carry these attributes,
but every ticket carries all of them (an unassigned ticket is under ``none``), so
every ticket is in all eleven indexes, each projecting the whole item (ALL).

Table name and region are bound at run time by :func:`bind_models`, never at
import, and the endpoint comes from botocore's own ``AWS_ENDPOINT_URL_DYNAMODB``.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.connection import TableConnection
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.data.attributes import EnumAttribute
from chalicelib.data.wire import use_fast_parser
from chalicelib.domain import (
    Category,
    ClassificationSource,
    Confidence,
    Delivery,
    Priority,
    Status,
    WaitingOn,
)

TICKET_SK = "TICKET"
INDEX_SK = "INDEX"
STATS_PK = "STATS"
# Daily usage counters kept beside the stats counters, so the stats query reads them too.
USAGE_PREFIX = "USAGE#"
SORT_ATTRIBUTE = "created_sk"
MESSAGE_PREFIX = "MSG#"
HISTORY_PREFIX = "HISTORY#"
NOTIFY_PREFIX = "NOTIFY#"
POSTING_PREFIX = "IX#"


class ListIndex(GlobalSecondaryIndex[Any]):  # type: ignore[no-untyped-call]
    """Base for the list indexes."""


def _list_index(index_name: str, attribute: str) -> type[ListIndex]:
    meta = type("Meta", (), {"index_name": index_name, "projection": AllProjection()})
    namespace = {
        "Meta": meta,
        attribute: UnicodeAttribute(hash_key=True),
        SORT_ATTRIBUTE: UnicodeAttribute(range_key=True),
    }
    index_class: type[ListIndex] = type(f"{index_name}_index", (ListIndex,), namespace)
    return index_class


# The dimensions a list can be filtered on, in the order partition values join them.
LIST_DIMENSIONS: tuple[str, ...] = ("category", "priority", "status", "assignee")

# Index name -> (partition attribute, dimensions in its partition key). The query
# planner in chalicelib.data.lists reads this table; adding a view is adding a row.
# DynamoDB allows 20 GSIs per table, and CloudFormation adds one per stack update.
LIST_INDEX_SPECS: dict[str, tuple[str, tuple[str, ...]]] = {
    "by_created": ("lk_all", ()),
    "by_category": ("lk_c", ("category",)),
    "by_priority": ("lk_p", ("priority",)),
    "by_status": ("lk_s", ("status",)),
    "by_category_priority": ("lk_cp", ("category", "priority")),
    "by_category_status": ("lk_cs", ("category", "status")),
    "by_priority_status": ("lk_ps", ("priority", "status")),
    "by_category_priority_status": ("lk_cps", ("category", "priority", "status")),
    "by_assignee": ("lk_a", ("assignee",)),
    "by_assignee_priority_status": ("lk_aps", ("priority", "status", "assignee")),
    "by_assignee_all": ("lk_acps", ("category", "priority", "status", "assignee")),
}

LIST_INDEXES: dict[str, type[ListIndex]] = {
    name: _list_index(name, attribute) for name, (attribute, _) in LIST_INDEX_SPECS.items()
}


_SHARED_CLIENTS: dict[tuple[Any, ...], Any] = {}
_SHARED_CLIENTS_LOCK = threading.Lock()


class _Model(Model):
    """A model whose connection uses the one botocore client every model of the process
    shares.

    PynamoDB gives each model class its own connection, and each connection builds its
    own botocore session and client: ten models meant ten copies of botocore's endpoint
    data and of the DynamoDB service model (about 10 MB each), loaded one by one on each
    model's first call, in every Lambda and in the local stack. A botocore client is safe
    to share between threads once built. Each model keeps its own connection (its table
    schema, used to name keys); only the client is shared. Its responses are parsed by
    chalicelib.data.wire (attribute values read as they are, not walked by shape).
    """

    @classmethod
    def _get_connection(cls) -> TableConnection:
        table = super()._get_connection()
        inner = table.connection
        if inner._client is None:
            meta = cls.Meta
            key = (
                meta.region,
                meta.host,
                meta.connect_timeout_seconds,
                meta.read_timeout_seconds,
                meta.max_retry_attempts,
                meta.max_pool_connections,
                # botocore reads these when it builds the client (tests point at servers).
                os.environ.get("AWS_ENDPOINT_URL_DYNAMODB"),
                os.environ.get("AWS_ENDPOINT_URL"),
                os.environ.get("AWS_ACCESS_KEY_ID"),
            )
            with _SHARED_CLIENTS_LOCK:
                client = _SHARED_CLIENTS.get(key)
                if client is None:
                    use_fast_parser(inner.session)
                    client = _SHARED_CLIENTS[key] = inner.client
                inner._client = client
        return table


class _TableMeta:
    table_name = "support-tickets-local"
    region = "us-east-1"
    billing_mode = "PAY_PER_REQUEST"


class TicketModel(_Model):
    """A ticket item (``sk = TICKET``)."""

    class Meta(_TableMeta):
        # The table's stream feeds the search index and the mailer (chalicelib.events).
        stream_view_type = "NEW_AND_OLD_IMAGES"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    ticket_id = UnicodeAttribute()
    number = NumberAttribute(null=True)
    title = UnicodeAttribute()
    description = UnicodeAttribute()
    category = EnumAttribute(Category)
    priority = EnumAttribute(Priority)
    status = EnumAttribute(Status)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = NumberAttribute()
    suggested_category = EnumAttribute(Category, null=True)
    suggested_priority = EnumAttribute(Priority, null=True)
    classification_source = EnumAttribute(ClassificationSource, null=True)
    suggested_confidence = EnumAttribute(Confidence, null=True)
    customer_email = UnicodeAttribute(null=True)
    customer_name = UnicodeAttribute(null=True)
    assignee = UnicodeAttribute(null=True)
    last_message_at = UTCDateTimeAttribute(null=True)
    waiting_on = EnumAttribute(WaitingOn, null=True)
    first_reply_at = UTCDateTimeAttribute(null=True)
    message_count = NumberAttribute(default=0)
    access_nonce = UnicodeAttribute(null=True)
    access_key_hash = UnicodeAttribute(null=True)
    email_key_hash = UnicodeAttribute(null=True)
    customer_email_verified = BooleanAttribute(null=True)
    created_sk = UnicodeAttribute()
    lk_all = UnicodeAttribute()
    lk_c = UnicodeAttribute()
    lk_p = UnicodeAttribute()
    lk_s = UnicodeAttribute()
    lk_cp = UnicodeAttribute()
    lk_cs = UnicodeAttribute()
    lk_ps = UnicodeAttribute()
    lk_cps = UnicodeAttribute()
    lk_a = UnicodeAttribute()
    lk_aps = UnicodeAttribute()
    lk_acps = UnicodeAttribute()

    by_created = LIST_INDEXES["by_created"]()
    by_category = LIST_INDEXES["by_category"]()
    by_priority = LIST_INDEXES["by_priority"]()
    by_status = LIST_INDEXES["by_status"]()
    by_category_priority = LIST_INDEXES["by_category_priority"]()
    by_category_status = LIST_INDEXES["by_category_status"]()
    by_priority_status = LIST_INDEXES["by_priority_status"]()
    by_category_priority_status = LIST_INDEXES["by_category_priority_status"]()
    by_assignee = LIST_INDEXES["by_assignee"]()
    by_assignee_priority_status = LIST_INDEXES["by_assignee_priority_status"]()
    by_assignee_all = LIST_INDEXES["by_assignee_all"]()


class StatsShardModel(_Model):
    """One shard of the statistics counters (``pk = STATS``).

    Counters are top-level number attributes updated with ``ADD`` inside the same
    transaction as the ticket write (names in chalicelib.data.counters). Their
    names are dynamic, so the repository reads shards as raw items. Writes spread
    over ``STATS_COUNTER_SHARDS`` shards so concurrent writers rarely touch one item.
    """

    class Meta(_TableMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class FieldChangeMap(MapAttribute[str, Any]):
    """One changed field inside a history entry."""

    field = UnicodeAttribute()
    old = UnicodeAttribute(null=True)
    new = UnicodeAttribute(null=True)


class HistoryModel(_Model):
    """One change to a ticket (``sk = HISTORY#<version>``), written in the change's transaction."""

    class Meta(_TableMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    ticket_id = UnicodeAttribute()
    version = NumberAttribute()
    action = UnicodeAttribute()
    actor = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    changes = ListAttribute(of=FieldChangeMap)


class MessageModel(_Model):
    """One message of a ticket's conversation (``sk = MSG#<created>#<message id>``)."""

    class Meta(_TableMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    message_id = UnicodeAttribute()
    ticket_id = UnicodeAttribute()
    body = UnicodeAttribute()
    internal = BooleanAttribute()
    author = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    delivery = EnumAttribute(Delivery)
    delivery_note = UnicodeAttribute(null=True)


class NotificationModel(_Model):
    """One email about a ticket (``sk = NOTIFY#<kind>#<key>``); also the mailer's
    idempotency record, so a retried stream batch never sends it twice."""

    class Meta(_TableMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    ticket_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    key = UnicodeAttribute()
    to = UnicodeAttribute()
    status = EnumAttribute(Delivery)
    note = UnicodeAttribute(null=True)
    at = UTCDateTimeAttribute()
    attempts = NumberAttribute(default=0)
    lease_until = NumberAttribute(default=0)


class NumberModel(_Model):
    """Ticket number -> ticket id (``pk = NUMBER#<n>``), written with the ticket."""

    class Meta(_TableMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    ticket_id = UnicodeAttribute()


class CounterModel(_Model):
    """An atomic counter item (the ticket number sequence, the daily Claude budget,
    the per-address confirmation limit)."""

    class Meta(_TableMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    value = NumberAttribute(default=0)
    expires_at = NumberAttribute(null=True)


class PostingModel(_Model):
    """One search posting: ``pk = IX#<term>``, ``sk = <created_sk of the ticket>``."""

    class Meta(_TableMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class IndexManifestModel(_Model):
    """The terms currently indexed for one ticket (``sk = INDEX``), so a re-index
    removes exactly the postings that are no longer true."""

    class Meta(_TableMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    created_sk = UnicodeAttribute()
    terms = UnicodeSetAttribute(null=True)
    indexed_version = NumberAttribute()
    truncated = BooleanAttribute(default=False)


class ClassificationCacheModel(_Model):
    """A cached Claude answer for one text (``pk = CLASSIFY#<sha256>``), expiring by TTL."""

    class Meta(_TableMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    category = EnumAttribute(Category)
    priority = EnumAttribute(Priority)
    # Absent on items cached before confidence existed; read as "low".
    confidence = EnumAttribute(Confidence, null=True)
    expires_at = NumberAttribute()


# DynamoDB deletes items whose ``expires_at`` (epoch seconds) has passed: idempotency
# records (written by Powertools), cached classifications, budgets and mail limits.
TTL_ATTRIBUTE = "expires_at"

ALL_MODELS: tuple[type[Model], ...] = (
    TicketModel,
    StatsShardModel,
    HistoryModel,
    MessageModel,
    NotificationModel,
    NumberModel,
    CounterModel,
    PostingModel,
    IndexManifestModel,
    ClassificationCacheModel,
)


def bind_models(table_name: str, region: str) -> None:
    """Point every model at a table; drops cached connections when anything changed."""
    for model in ALL_MODELS:
        if model.Meta.table_name != table_name or model.Meta.region != region:
            model.Meta.table_name = table_name
            model.Meta.region = region
            model._connection = None
