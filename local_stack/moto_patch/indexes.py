"""Query from sorted structures: the cost follows what a Query returns, not the table.

moto 5.2.5 answers every Query by walking (and sorting) every item of the table. Here
each table keeps, per index (and for the base table), a map from partition value to a
list of sort keys kept sorted on every write; a Query finds its partition, bisects to
its range and its ``ExclusiveStartKey``, and reads only the items it returns (plus one,
to know whether to return a ``LastEvaluatedKey``).

Results are the same as moto's, quirks included: the order (an index's sort key, then
the table's keys), ``ScannedCount``, ``LastEvaluatedKey`` (moto returns one when any
item of the partition follows the last result once ``Limit`` is reached, even outside
the key range), the 1 MB page limit, filters and projections applied after the limit.
The differential test (tests/integration/test_moto_patch_differential.py) holds it to
that. Anything outside the common shape (multi-attribute keys, legacy ``QueryFilter``,
binary or mixed-type keys, malformed requests) is answered by moto's own code.

Structures are built on a table's first patched Query (one pass over the table), then
kept up to date by every write path: PutItem, UpdateItem (including in-place changes of
index keys, and index keys appearing or disappearing), DeleteItem, BatchWriteItem,
TransactWriteItems and its rollback, and PartiQL, all of which end in the three
functions wrapped here.

The same structures remember the size of each stored item a page has measured (for the
1 MB limit): every write path above forgets the size of the item it writes, in
:func:`tracking`, and a write outside the patch drops the structures altogether.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import RESULT_SIZE_LIMIT, GlobalSecondaryIndex, Table

from local_stack.moto_patch import is_active
from local_stack.moto_patch.memory import (
    ITEM_SIZE_LIMIT,
    KeyOnlyItem,
    PackedItem,
    attrs_size,
    compact_stored_item,
    key_only,
    materialize,
    pack_nested,
    share_keys,
    store_compactly,
)

_STATE_ATTRIBUTE = "_local_sorted_indexes"
_SORTABLE_TYPES = frozenset({"S", "N"})
_RANGE_COMPARISONS = frozenset({"=", "<", "<=", ">", ">=", "BETWEEN", "BEGINS_WITH"})

_original_put_item = Table.put_item
_original_delete_item = Table.delete_item
_original_get_item = Table.get_item
_original_query = Table.query
_original_backend_update_item = DynamoDBBackend.update_item

_local = threading.local()

Entry = tuple[Any, ...]
PartitionKey = tuple[str, Any]


class _Fallback(Exception):
    """This request is outside the fast path: moto's own code answers it."""


class _Unsortable(Exception):
    """An item's keys cannot be ordered like moto orders them (mixed or binary types)."""


@dataclass(frozen=True)
class IndexShape:
    """What moto's Query compares, for one index ("" is the base table)."""

    name: str
    partition_attr: str
    # The attributes moto sorts by after the partition attribute, in moto's order:
    # the index's sort key, then the table's hash and range keys.
    sort_attrs: tuple[str, ...]
    # An item belongs to the index when it has all of these.
    required: tuple[str, ...]
    # The attribute a key condition on the sort key applies to (None: no sort key).
    range_attr: str | None


def _shape_of(table: Table, index: Any | None) -> IndexShape:
    """The index's shape, derived exactly as moto's ``Table.query`` derives it."""
    if index is None:
        attrs = table._generate_attr_to_sort_by([table.hash_key_attr], [table.range_key_attr])
        return IndexShape("", attrs[0], tuple(attrs[1:]), (), table.range_key_attr)
    hash_keys = [key["AttributeName"] for key in index.schema if key["KeyType"] == "HASH"]
    range_keys = [key["AttributeName"] for key in index.schema if key["KeyType"] == "RANGE"]
    if len(hash_keys) != 1 or len(range_keys) > 1:
        raise _Fallback("multi-attribute index keys")
    range_attrs: list[str | None]
    if range_keys:
        range_attrs = [range_keys[0], table.range_key_attr]
    elif isinstance(index, GlobalSecondaryIndex) and table.range_key_attr:
        range_attrs = [table.range_key_attr, table.range_key_attr]
    else:
        range_attrs = [table.hash_key_attr, table.range_key_attr]
    attrs = table._generate_attr_to_sort_by([hash_keys[0], table.hash_key_attr], range_attrs)
    if attrs[0] != hash_keys[0]:
        raise _Fallback("unexpected sort order")
    return IndexShape(
        index.name,
        hash_keys[0],
        tuple(attrs[1:]),
        (hash_keys[0], *range_keys),
        range_keys[0] if range_keys else None,
    )


def _signature(index: Any | None) -> tuple[Any, ...]:
    if index is None:
        return ()
    return (
        type(index).__name__,
        tuple((key["AttributeName"], key["KeyType"]) for key in index.schema),
    )


@dataclass
class SortedIndex:
    """Partition value -> entries sorted as moto sorts them.

    An entry is the cast values of ``shape.sort_attrs`` followed by the item's table
    keys (``hash_key``, ``range_key``), which locate the item; the cast values already
    include the table keys, so two entries never compare equal before the locator.

    A *compact* index (the base table of a table whose sort key is a string) keeps just
    the sort key's string as the entry: it is the one sort value, unique within the
    partition, and with the queried partition value it locates the item. This spares a
    tuple per item (64 bytes), most of all for the ~50 search postings of each ticket.
    """

    shape: IndexShape
    signature: tuple[Any, ...]
    partitions: dict[PartitionKey, list[Entry]] = field(default_factory=dict)
    # The DynamoDB type of each sort attribute: moto compares cast values, which is the
    # same order only while every item has the same type in the same place.
    types: list[str | None] = field(default_factory=list)
    usable: bool = True
    compact: bool = False

    def __post_init__(self) -> None:
        self.types = [None] * len(self.shape.sort_attrs)

    def key_of(self, item: Item | None) -> tuple[PartitionKey, Entry] | None:
        """Where ``item`` sits in this index (None: not in it)."""
        if item is None:
            return None
        attrs = item.attrs
        for name in self.shape.required:
            if name not in attrs:
                return None
        partition = attrs.get(self.shape.partition_attr)
        if partition is None:
            return None
        casts: list[Any] = []
        for position, name in enumerate(self.shape.sort_attrs):
            value = attrs.get(name)
            if value is None or value.type not in _SORTABLE_TYPES:
                raise _Unsortable(name)
            known = self.types[position]
            if known is None:
                self.types[position] = value.type
            elif known != value.type:
                raise _Unsortable(name)
            casts.append(value.cast_value)
        if self.compact:
            return (partition.type, partition.cast_value), casts[0]  # type: ignore[return-value]
        return (partition.type, partition.cast_value), (*casts, item.hash_key, item.range_key)

    def sort_values(self, entry: Any) -> tuple[Any, ...]:
        """The cast sort values of an entry."""
        if self.compact:
            return (entry,)
        return entry[:-2]  # type: ignore[no-any-return]

    def locate(self, entry: Any, hash_value: DynamoType) -> tuple[DynamoType, DynamoType | None]:
        """The table keys of an entry's item (``hash_value``: the partition queried)."""
        if self.compact:
            return hash_value, DynamoType({"S": entry})
        return entry[-2], entry[-1]

    def add(self, key: tuple[PartitionKey, Entry]) -> None:
        partition, entry = key
        bisect.insort(self.partitions.setdefault(partition, []), entry)

    def remove(self, key: tuple[PartitionKey, Entry]) -> None:
        partition, entry = key
        entries = self.partitions.get(partition)
        if entries is None:
            raise _Unsortable("missing partition")
        position = bisect.bisect_left(entries, entry)
        if position == len(entries) or entries[position] != entry:
            raise _Unsortable("missing entry")
        del entries[position]
        if not entries:
            del self.partitions[partition]


class TableIndexes:
    """The sorted structures of one table; rebuilt when moto replaces ``table.items``."""

    def __init__(self, table: Table) -> None:
        self.items_ref = table.items
        self.indexes: dict[str, SortedIndex] = {}
        # id(item) -> (item, moto's size of it): a page measures each item it returns,
        # and a ticket item has some 40 attributes. The item is kept beside its size, so
        # a new object at a reused address is never taken for it; tracking() forgets the
        # item it writes, before and after the write (UpdateItem changes it in place).
        self.sizes: dict[int, tuple[Item, int]] = {}

    def size_of(self, item: Item) -> int:
        """``Item.size()`` of a stored item, measured once until it is written."""
        known = self.sizes.get(id(item))
        if known is not None and known[0] is item:
            return known[1]
        size = attrs_size(item.attrs)
        # A key-only partition builds a fresh object on every read: nothing to remember.
        if not isinstance(item, KeyOnlyItem):
            self.sizes[id(item)] = (item, size)
        return size

    def forget_size(self, item: Item | None) -> None:
        if item is not None:
            self.sizes.pop(id(item), None)

    def __deepcopy__(self, memo: dict[int, Any]) -> None:
        # Backups and restores copy tables; the copy rebuilds its own structures.
        return None

    def index(self, table: Table, name: str) -> SortedIndex:
        """The built, current index ``name`` ("" for the base table); _Fallback if unusable."""
        definition = None
        if name:
            definition = {i.name: i for i in table.all_indexes()}.get(name)
            if definition is None:
                raise _Fallback("unknown index")
        signature = _signature(definition)
        built = self.indexes.get(name)
        if built is None or built.signature != signature:
            shape = _shape_of(table, definition)
            compact = (
                not name
                and table.range_key_attr is not None
                and shape.sort_attrs == (table.range_key_attr,)
                and table.range_key_type == "S"
            )
            built = SortedIndex(shape, signature, compact=compact)
            try:
                for item in _all_items(table):
                    key = built.key_of(item)
                    if key is not None:
                        built.add(key)
            except _Unsortable:
                built.usable = False
            self.indexes[name] = built
        if not built.usable:
            raise _Fallback("index keys moto cannot sort by cast value")
        return built

    def keys_of(self, item: Item | None) -> list[tuple[SortedIndex, Any]]:
        keys: list[tuple[SortedIndex, Any]] = []
        for index in self.indexes.values():
            if not index.usable:
                continue
            try:
                keys.append((index, index.key_of(item)))
            except _Unsortable:
                index.usable = False
        return keys

    def replace(
        self, before: list[tuple[SortedIndex, Any]], after: list[tuple[SortedIndex, Any]]
    ) -> None:
        after_by_index = {id(index): key for index, key in after}
        for index, old in before:
            if not index.usable or id(index) not in after_by_index:
                continue
            new = after_by_index[id(index)]
            if old == new:
                continue
            try:
                if old is not None:
                    index.remove(old)
                if new is not None:
                    index.add(new)
            except (_Unsortable, TypeError):
                index.usable = False


def _all_items(table: Table) -> Iterator[Item]:
    for value in table.items.values():
        if table.range_key_attr:
            yield from value.values()
        else:
            yield value  # type: ignore[misc]


def _state(table: Table, create: bool) -> TableIndexes | None:
    """The table's structures; None (or new ones, with ``create``) if there are none or
    moto replaced ``table.items`` since they were built."""
    state: TableIndexes | None = table.__dict__.get(_STATE_ATTRIBUTE)
    if state is not None and state.items_ref is table.items:
        return state
    state = TableIndexes(table) if create else None
    table.__dict__[_STATE_ATTRIBUTE] = state
    return state


def forget(table: Table) -> None:
    """Drop a table's structures (a plain-moto write changed it); rebuilt on demand."""
    table.__dict__.pop(_STATE_ATTRIBUTE, None)


def _stored(table: Table, hash_key: DynamoType, range_key: DynamoType | None) -> Item | None:
    partition = table.items.get(hash_key)
    if partition is None:
        return None
    if table.range_key_attr:
        item: Item | None = partition.get(range_key)
        return item
    return partition  # type: ignore[return-value]


@contextmanager
def tracking(table: Table, hash_key: DynamoType, range_key: DynamoType | None) -> Iterator[None]:
    """Keep the table's structures in step with whatever the block does to one item."""
    state = _state(table, create=False)
    stored = _stored(table, hash_key, range_key)
    before = state.keys_of(stored) if state else []
    try:
        yield
    finally:
        item = _stored(table, hash_key, range_key)
        if state is not None:
            state.forget_size(stored)
            state.forget_size(item)
        if item is not None:
            share_keys(table, item)
            compact_stored_item(item, table.hash_key_attr, table.range_key_attr)
            item = _store_compactly(table, item)
        if state is not None:
            state.replace(before, state.keys_of(item))


def _store_compactly(table: Table, item: Item) -> Item:
    """Store ``item`` as a key-only item if it holds nothing but its keys, or packed if it
    holds a list or a map (memory); returns what is stored."""
    compact = key_only(item, table.hash_key_attr, table.range_key_attr)
    is_key_only = compact is not item
    if not is_key_only:
        compact = pack_nested(item, table.hash_key_attr, table.range_key_attr)
    if compact is item:
        return item
    # Assigning to an existing key keeps the dict's key object and the item's place.
    if not table.range_key_attr:
        table.items[item.hash_key] = compact  # type: ignore[assignment]
    elif is_key_only:
        store_compactly(table.items, compact)  # type: ignore[arg-type]
    else:
        table.items[item.hash_key][item.range_key] = compact
    return compact


def _key_values(table: Table, attrs: dict[str, Any]) -> tuple[DynamoType, DynamoType | None] | None:
    try:
        hash_key = DynamoType(attrs[table.hash_key_attr])
        range_key = DynamoType(attrs[table.range_key_attr]) if table.range_key_attr else None
    except (KeyError, TypeError, IndexError, AttributeError):
        return None
    return hash_key, range_key


def _put_item(self: Table, item_attrs: dict[str, Any], *args: Any, **kwargs: Any) -> Item:
    if not is_active():
        forget(self)
        return _original_put_item(self, item_attrs, *args, **kwargs)
    if getattr(_local, "upsert", False):
        # UpdateItem on a missing item first stores its bare key with put_item, then
        # applies the update; moto recorded an INSERT for each. The update's own
        # record (old image: none) is the one DynamoDB sends.
        shard, self.stream_shard = self.stream_shard, None
        try:
            return _original_put_item(self, item_attrs, *args, **kwargs)
        finally:
            self.stream_shard = shard
    keys = _key_values(self, item_attrs)
    if keys is None:
        forget(self)
        return _original_put_item(self, item_attrs, *args, **kwargs)
    with tracking(self, *keys):
        return _original_put_item(self, item_attrs, *args, **kwargs)


def _delete_item(self: Table, hash_key: DynamoType, range_key: DynamoType | None) -> Item | None:
    if not is_active():
        forget(self)
        return _original_delete_item(self, hash_key, range_key)
    with tracking(self, hash_key, range_key):
        deleted = _original_delete_item(self, hash_key, range_key)
        if self.range_key_attr:
            # moto leaves an emptied partition in place (and makes an empty one for a key
            # it does not hold): each search term, ticket and key used once would keep a
            # dict for ever (one that held a term's postings keeps their room).
            partition = self.items.get(hash_key)
            if partition is not None and not partition:
                del self.items[hash_key]
        return deleted


def _get_item(
    self: Table,
    hash_key: DynamoType,
    range_key: DynamoType | None = None,
    *args: Any,
    **kwargs: Any,
) -> Item | None:
    if is_active() and range_key and hash_key not in self.items:
        # moto reads ``self.items[hash_key][range_key]`` from a defaultdict: every key
        # looked up and not found (a cache miss, a 404) would leave an empty partition.
        return None
    return _original_get_item(self, hash_key, range_key, *args, **kwargs)  # type: ignore[no-any-return]


def _update_key(table: Table, key: Any) -> tuple[DynamoType, DynamoType | None] | None:
    """The item ``key`` names, read as moto's update_item reads it (None: unreadable)."""
    try:
        if all([table.hash_key_attr in key, table.range_key_attr in key]):
            return DynamoType(key[table.hash_key_attr]), DynamoType(key[table.range_key_attr])
        if table.hash_key_attr in key:
            return DynamoType(key[table.hash_key_attr]), None
        return DynamoType(key), None
    except (KeyError, TypeError, IndexError, AttributeError):
        return None


def _plain_stored(table: Table, keys: tuple[DynamoType, DynamoType | None] | None) -> None:
    """Make the stored item ``keys`` names a plain item, stored in its place: moto's
    UpdateItem changes the stored item's attribute dict in place, and a key-only or
    packed item builds a fresh dict on each read (a key-only partition even a fresh
    object, so it is stored back)."""
    stored = _stored(table, *keys) if keys is not None else None
    if isinstance(stored, (KeyOnlyItem, PackedItem)):
        materialize(stored)
        if table.range_key_attr:
            table.items[stored.hash_key][stored.range_key] = stored


def _update_item(
    self: DynamoDBBackend, table_name: str, key: Any, *args: Any, **kwargs: Any
) -> Any:
    table = self.get_table(table_name)
    keys = _update_key(table, key)
    # Also on a plain server sharing this state (the plain-moto half of the tests): the
    # item may have been stored compactly by the patched one.
    _plain_stored(table, keys)
    if keys is None or not is_active():
        forget(table)
        return _original_backend_update_item(self, table_name, key, *args, **kwargs)
    _local.upsert = True
    try:
        with tracking(table, *keys):
            return _original_backend_update_item(self, table_name, key, *args, **kwargs)
    finally:
        _local.upsert = False


# --- Query --------------------------------------------------------------------------

_NEVER: Callable[[Any], bool] = lambda _x: False  # noqa: E731
# comparison -> (below the key range, above it): two monotone tests on a sort value.
_BOUNDS: dict[str, Callable[[list[Any]], tuple[Callable[[Any], bool], Callable[[Any], bool]]]] = {
    "=": lambda v: ((lambda x: x < v[0]), (lambda x: x > v[0])),
    "<": lambda v: (_NEVER, (lambda x: x >= v[0])),
    "<=": lambda v: (_NEVER, (lambda x: x > v[0])),
    ">": lambda v: ((lambda x: x <= v[0]), _NEVER),
    ">=": lambda v: ((lambda x: x < v[0]), _NEVER),
    "BETWEEN": lambda v: ((lambda x: x < v[0]), (lambda x: x > v[1])),
    # The strings that start with a prefix are contiguous in sorted order.
    "BEGINS_WITH": lambda v: (
        (lambda x: x < v[0]),
        (lambda x: x > v[0] and not x.startswith(v[0])),
    ),
}


@dataclass
class QueryRequest:
    """The arguments of moto's ``Table.query``."""

    hash_key: DynamoType | None
    range_comparison: str | None
    range_objs: list[DynamoType]
    limit: int | None
    exclusive_start_key: dict[str, Any] | None
    scan_index_forward: bool
    projection_expressions: list[list[str]] | None
    index_name: str | None
    consistent_read: bool
    filter_expression: Any
    hash_key_conditions: list[tuple[str, DynamoType]] | None
    range_key_conditions: list[tuple[str, str, list[DynamoType]]] | None
    filter_kwargs: dict[str, Any]


def _index_for(table: Table, request: QueryRequest) -> tuple[TableIndexes, SortedIndex, DynamoType]:
    """The table's structures, the sorted index the query reads and the partition value
    it asks for."""
    if request.filter_kwargs:
        raise _Fallback("legacy QueryFilter")
    limit = request.limit
    if limit is not None and (type(limit) is not int or limit < 1):
        raise _Fallback("unusual limit")
    state = _state(table, create=True)
    assert state is not None
    if request.index_name:
        definition = {i.name: i for i in table.all_indexes()}.get(request.index_name)
        if definition is None:
            raise _Fallback("unknown index")
        if request.consistent_read and isinstance(definition, GlobalSecondaryIndex):
            raise _Fallback("consistent read on a GSI")
    index = state.index(table, request.index_name or "")
    if request.index_name:
        conditions = request.hash_key_conditions or []
        if len(conditions) != 1 or conditions[0][0] != index.shape.partition_attr:
            raise _Fallback("hash key conditions")
        hash_value = conditions[0][1]
    elif request.hash_key is None:
        raise _Fallback("no hash key")
    else:
        hash_value = request.hash_key
    if request.range_key_conditions and len(request.range_key_conditions) > 1:
        raise _Fallback("multi-attribute range condition")
    return state, index, hash_value


def _key_block(index: SortedIndex, entries: list[Entry], request: QueryRequest) -> range:
    """The entries inside the key range: a block of the partition's ascending order."""
    comparison = request.range_comparison
    if not comparison or not entries:
        return range(len(entries))
    shape = index.shape
    if comparison not in _BOUNDS or shape.range_attr is None:
        raise _Fallback("range comparison")
    conditions = request.range_key_conditions
    range_name = conditions[-1][0] if conditions else shape.range_attr
    if range_name != shape.range_attr or shape.sort_attrs[0] != shape.range_attr:
        raise _Fallback("range attribute")
    values = request.range_objs
    if len(values) != (2 if comparison == "BETWEEN" else 1):
        raise _Fallback("range values")
    if any(value.type != index.types[0] for value in values):
        raise _Fallback("range value types")
    if comparison == "BEGINS_WITH" and index.types[0] != "S":
        raise _Fallback("begins_with on a number")
    below, above = _BOUNDS[comparison]([value.cast_value for value in values])
    if index.compact:
        low = bisect.bisect_left(entries, True, key=lambda e: not below(e))
        high = bisect.bisect_left(entries, True, key=above)
    else:
        low = bisect.bisect_left(entries, True, key=lambda e: not below(e[0]))
        high = bisect.bisect_left(entries, True, key=lambda e: above(e[0]))
    return range(low, max(low, high))


def _after_start_key(
    index: SortedIndex, hash_value: DynamoType, entries: list[Entry], request: QueryRequest
) -> range:
    """The positions moto does not skip for ``ExclusiveStartKey``."""
    start_key = request.exclusive_start_key
    count = len(entries)
    if start_key is None or not count:
        return range(count)
    shape = index.shape
    try:
        values = [DynamoType(start_key[shape.partition_attr])] + [
            DynamoType(start_key[name]) for name in shape.sort_attrs
        ]
    except (KeyError, TypeError, IndexError, AttributeError) as exc:
        raise _Fallback("incomplete ExclusiveStartKey") from exc
    if values[0].type != hash_value.type or any(
        value.type != known for value, known in zip(values[1:], index.types, strict=True)
    ):
        raise _Fallback("ExclusiveStartKey types")
    forward = request.scan_index_forward
    given, mine = values[0].cast_value, hash_value.cast_value
    if given != mine:
        # moto compares the partition attribute first: all or nothing is skipped.
        skipped_all = (mine < given) if forward else (mine > given)
        return range(count, count) if skipped_all else range(count)
    probe = tuple(value.cast_value for value in values[1:])
    width = len(probe)
    sort_values = index.sort_values

    def leading(entry: Any) -> tuple[Any, ...]:
        return sort_values(entry)[:width]

    if forward:
        return range(bisect.bisect_right(entries, probe, key=leading), count)
    return range(bisect.bisect_left(entries, probe, key=leading))


def _fast_query(
    table: Table, request: QueryRequest
) -> tuple[list[Item], int, dict[str, Any] | None]:
    state, index, hash_value = _index_for(table, request)
    entries = index.partitions.get((hash_value.type, hash_value.cast_value), [])
    block = _key_block(index, entries, request)
    kept = _after_start_key(index, hash_value, entries, request)

    # moto walks the partition in the query's direction, skipping what precedes the
    # start key; items before the key range are skipped silently, then the range.
    first, stop = max(kept.start, block.start), min(kept.stop, block.stop)
    if request.scan_index_forward:
        inside = range(first, stop)
        beyond = range(max(kept.start, block.stop), kept.stop)
    else:
        inside = range(stop - 1, first - 1, -1)
        beyond = range(min(kept.stop, block.start) - 1, kept.start - 1, -1)

    def item_at(position: int) -> Item:
        item = _stored(table, *index.locate(entries[position], hash_value))
        if item is None:
            index.usable = False
            raise _Fallback("index out of step")
        return item

    size_of = state.size_of
    results, size, last_evaluated_key = _page(table, index, request, inside, item_at, size_of)
    scanned_count = len(results)
    if last_evaluated_key is None:
        last_evaluated_key = _past_the_range(
            table, request, results, size, beyond, item_at, size_of
        )
    return _moto_tail(table, request, results, scanned_count, last_evaluated_key)


def _page(
    table: Table,
    index: SortedIndex,
    request: QueryRequest,
    positions: range,
    item_at: Callable[[int], Item],
    size_of: Callable[[Item], int],
) -> tuple[list[Item], int, dict[str, Any] | None]:
    """moto's loop over the items inside the key range: limit, 1 MB (returns the items,
    their size and the LastEvaluatedKey; ScannedCount is the number of items)."""
    results: list[Item] = []
    result_size = 0
    for position in positions:
        # moto reads and measures the item after a full page too (item_at also checks
        # that the index is in step with the table).
        item = item_at(position)
        size = size_of(item)
        if len(results) == request.limit or result_size + size > RESULT_SIZE_LIMIT:
            return results, result_size, _last_key(table, request, results)
        if request.range_comparison and not item.attrs[index.shape.range_attr or ""].compare(
            request.range_comparison, request.range_objs
        ):
            index.usable = False
            raise _Fallback("index out of step")
        results.append(item)
        result_size += size
    return results, result_size, None


def _past_the_range(
    table: Table,
    request: QueryRequest,
    results: list[Item],
    result_size: int,
    positions: range,
    item_at: Callable[[int], Item],
    size_of: Callable[[Item], int],
) -> dict[str, Any] | None:
    """moto goes on past the key range: the next item ends the page with a
    LastEvaluatedKey if the limit is reached, or if it would take the page over 1 MB."""
    for position in positions:
        if len(results) == request.limit:
            return _last_key(table, request, results)
        if result_size + ITEM_SIZE_LIMIT <= RESULT_SIZE_LIMIT:
            return None  # no item can be that large
        if result_size + size_of(item_at(position)) > RESULT_SIZE_LIMIT:
            return _last_key(table, request, results)
    return None


def _last_key(table: Table, request: QueryRequest, results: list[Item]) -> dict[str, Any]:
    key: dict[str, Any] = table._get_last_evaluated_key(results[-1], request.index_name)
    return key


def _moto_tail(
    table: Table,
    request: QueryRequest,
    results: list[Item],
    scanned_count: int,
    last_evaluated_key: dict[str, Any] | None,
) -> tuple[list[Item], int, dict[str, Any] | None]:
    """The end of moto's Table.query: projection, filter.

    moto deep-copies the results first. Nothing below changes them (projections build
    new items, the response is converted to plain dicts before it is written), so the
    copy, about a third of a page's cost, is skipped.
    """
    if request.index_name:
        moto_index = table.get_index(request.index_name)
        results = [moto_index.project(r) for r in results]
    if request.filter_expression is not None:
        results = [item for item in results if request.filter_expression.expr(item)]
    if request.projection_expressions:
        results = [r.project(request.projection_expressions) for r in results]
    return results, scanned_count, last_evaluated_key


def _query(
    self: Table,
    hash_key: DynamoType | None,
    range_comparison: str | None,
    range_objs: list[DynamoType],
    limit: int,
    exclusive_start_key: dict[str, Any],
    scan_index_forward: bool,
    projection_expressions: list[list[str]] | None,
    index_name: str | None = None,
    consistent_read: bool = False,
    filter_expression: Any = None,
    hash_key_conditions: list[tuple[str, DynamoType]] | None = None,
    range_key_conditions: list[tuple[str, str, list[DynamoType]]] | None = None,
    **filter_kwargs: Any,
) -> tuple[list[Item], int, dict[str, Any] | None]:
    request = QueryRequest(
        hash_key,
        range_comparison,
        range_objs,
        limit,
        exclusive_start_key,
        scan_index_forward,
        projection_expressions,
        index_name,
        consistent_read,
        filter_expression,
        hash_key_conditions,
        range_key_conditions,
        filter_kwargs,
    )
    if is_active():
        try:
            return _fast_query(self, request)
        except _Fallback:
            pass
    return _original_query(  # type: ignore[no-any-return]
        self,
        hash_key,
        range_comparison,
        range_objs,
        limit,
        exclusive_start_key,
        scan_index_forward,
        projection_expressions,
        index_name,
        consistent_read,
        filter_expression,
        hash_key_conditions=hash_key_conditions,
        range_key_conditions=range_key_conditions,
        **filter_kwargs,
    )


def install() -> None:
    """Wrap the write paths, GetItem and Query."""
    Table.put_item = _put_item  # type: ignore[method-assign,assignment]
    Table.delete_item = _delete_item  # type: ignore[method-assign]
    Table.get_item = _get_item  # type: ignore[method-assign,assignment]
    Table.query = _query  # type: ignore[method-assign]
    DynamoDBBackend.update_item = _update_item  # type: ignore[method-assign]
