"""PynamoDB models for the single DynamoDB table.

One table holds every item type, told apart by the key prefix:

========================  ==================  ===========================================
pk                        sk                  item
========================  ==================  ===========================================
``TICKET#<id>``           ``TICKET``          the ticket
``TICKET#<id>``           ``HISTORY#<ts>#n``  one changed field (who, when, old, new)
``STATS``                 ``SHARD#<nn>``      one shard of the statistics counters
``IDEMPOTENCY#create``    ``<key hash>``      a remembered create response (TTL; Powertools)
``CLASSIFY#<sha256>``     ``CLASSIFY``        a cached Claude classification (TTL)
========================  ==================  ===========================================

Listing newest first under any combination of the three enum filters is served by
eight sparse global secondary indexes, one per combination. Each has a partition
key naming the filter values (``billing#high``) and the sort key ``created_sk``
(creation time, then id), so the first page of any filter reads ``limit + 1``
items whatever the table holds. Only ticket items carry these attributes.

Table name and region are bound at run time by :func:`bind_models`, never at
import, and the endpoint comes from botocore's own ``AWS_ENDPOINT_URL_DYNAMODB``.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import (
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.data.attributes import EnumAttribute
from chalicelib.domain import Category, ClassificationSource, Confidence, Priority, Status

TICKET_SK = "TICKET"
STATS_PK = "STATS"
SORT_ATTRIBUTE = "created_sk"


class _FilterIndex(GlobalSecondaryIndex[Any]):  # type: ignore[no-untyped-call]
    """Base for the eight list indexes; subclasses name their partition attribute."""

    partition_attribute: str


def _filter_index(index_name: str, attribute: str) -> type[_FilterIndex]:
    meta = type("Meta", (), {"index_name": index_name, "projection": AllProjection()})
    namespace = {
        "Meta": meta,
        "partition_attribute": attribute,
        attribute: UnicodeAttribute(hash_key=True),
        SORT_ATTRIBUTE: UnicodeAttribute(range_key=True),
    }
    index_class: type[_FilterIndex] = type(f"{index_name}_index", (_FilterIndex,), namespace)
    return index_class


# Filter combination (sorted field names) -> (index name, partition attribute).
FILTER_INDEX_SPECS: dict[tuple[str, ...], tuple[str, str]] = {
    (): ("by_created", "lk_all"),
    ("category",): ("by_category", "lk_c"),
    ("priority",): ("by_priority", "lk_p"),
    ("status",): ("by_status", "lk_s"),
    ("category", "priority"): ("by_category_priority", "lk_cp"),
    ("category", "status"): ("by_category_status", "lk_cs"),
    ("priority", "status"): ("by_priority_status", "lk_ps"),
    ("category", "priority", "status"): ("by_category_priority_status", "lk_cps"),
}

FILTER_INDEXES: dict[tuple[str, ...], type[_FilterIndex]] = {
    fields: _filter_index(name, attribute)
    for fields, (name, attribute) in FILTER_INDEX_SPECS.items()
}


class _TableMeta:
    table_name = "support-tickets-local"
    region = "us-east-1"
    billing_mode = "PAY_PER_REQUEST"


class TicketModel(Model):
    """A ticket item (``sk = TICKET``)."""

    class Meta(_TableMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    ticket_id = UnicodeAttribute()
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
    created_sk = UnicodeAttribute()
    lk_all = UnicodeAttribute()
    lk_c = UnicodeAttribute()
    lk_p = UnicodeAttribute()
    lk_s = UnicodeAttribute()
    lk_cp = UnicodeAttribute()
    lk_cs = UnicodeAttribute()
    lk_ps = UnicodeAttribute()
    lk_cps = UnicodeAttribute()

    by_created = FILTER_INDEXES[()]()
    by_category = FILTER_INDEXES[("category",)]()
    by_priority = FILTER_INDEXES[("priority",)]()
    by_status = FILTER_INDEXES[("status",)]()
    by_category_priority = FILTER_INDEXES[("category", "priority")]()
    by_category_status = FILTER_INDEXES[("category", "status")]()
    by_priority_status = FILTER_INDEXES[("priority", "status")]()
    by_category_priority_status = FILTER_INDEXES[("category", "priority", "status")]()


class StatsShardModel(Model):
    """One shard of the statistics counters (``pk = STATS``).

    Counters are top-level number attributes updated with ``ADD`` inside the same
    transaction as the ticket write: ``total``, ``c_<category>``, ``p_<priority>``,
    ``s_<status>`` and ``d_<yyyymmdd>`` (tickets created that UTC day). Their names
    are dynamic, so the repository reads shards as raw items. Writes spread over
    ``STATS_COUNTER_SHARDS`` shards so concurrent writers rarely touch one item.
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


class HistoryModel(Model):
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


class ClassificationCacheModel(Model):
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
# records (written by Powertools) and cached classifications.
TTL_ATTRIBUTE = "expires_at"

ALL_MODELS: tuple[type[Model], ...] = (
    TicketModel,
    StatsShardModel,
    HistoryModel,
    ClassificationCacheModel,
)


def bind_models(table_name: str, region: str) -> None:
    """Point every model at a table; drops cached connections when anything changed."""
    for model in ALL_MODELS:
        if model.Meta.table_name != table_name or model.Meta.region != region:
            model.Meta.table_name = table_name
            model.Meta.region = region
            model._connection = None
