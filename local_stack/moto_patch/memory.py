"""Memory: no tracking of throwaway DynamoDB objects, and less per stored item.

moto appends every ``BaseModel`` instance to its class's ``instances_tracked`` list (for
the dashboard at ``/moto-api/``), and nothing ever removes them. For DynamoDB that
includes every item ever built: deep copies for rollback, query results, projections,
the old image kept by each UpdateItem, every stream record and every shard iterator.
Under the patch those classes are not tracked: the tables are still listed by the
dashboard, their items are not.

Per stored item (measured in docs/local-stack.md), attribute names are interned (each
item used to hold its own copy of every name, parsed from its request), string values of
up to :data:`INTERN_MAX_LENGTH` characters are interned (enum values, index keys, ids
repeated in history items, the terms of a ticket's search manifest), and the key
attributes share the item's own key objects. Short scalar values that recur (enum values,
list-index keys, small numbers, booleans) are one shared object for every item that
holds them (:func:`_shared_scalar`): moto never changes a scalar ``DynamoType`` in place
(only lists, maps and sets, which are never shared).

An item that holds nothing but its key attributes (a search posting: ``pk`` and ``sk``)
is stored as a :class:`KeyOnlyItem`: its ``attrs`` are rebuilt from its key objects when
read, so it keeps no attribute dict (a posting: 324 bytes against 537, measured in
docs/local-stack.md). In a table with a sort key it is not even an object: its
partition becomes a :class:`KeyOnlyPartition`, which holds the sort key alone and builds
the item when read (236 bytes). Every write path replaces a stored item whole, except
UpdateItem, which changes it in place: :func:`materialize` turns it back into a plain
item first, stored in its partition.
"""

from __future__ import annotations

import marshal
import sys
import weakref
from collections.abc import Iterator
from typing import Any

from moto.dynamodb.exceptions import ItemSizeTooLarge
from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
from moto.dynamodb.models.table import StreamRecord, StreamShard, Table
from moto.dynamodb.models.utilities import bytesize
from moto.dynamodbstreams.models import ShardIterator

from local_stack.moto_patch import is_active
from local_stack.moto_patch.recent import Recent

# Longer strings are rarely repeated (titles, descriptions, and the times PynamoDB writes,
# 31 characters, each unique to its write); interning them would only grow the
# interpreter's table of interned strings, and sharing them would push the values that
# do recur (enum values, list keys, ticket ids: 24) out of the shared scalars' cache.
# At 32, a soak cycle (create, PATCH, delete) left 21 KB behind; at 26, 14 KB.
INTERN_MAX_LENGTH = 26
# moto's own limit (LimitedSizeDict): "between 409 and 410KB" on AWS.
ITEM_SIZE_LIMIT = 405_000

# A StreamShard holds its table's stream records (on disk: streams.Spool); tracked, the
# shard of a deleted table would keep its files open.
_UNTRACKED = (Item, StreamRecord, StreamShard, ShardIterator)
# One key object per key value, shared by every stored item with that value: the 40 to 60
# search postings of a ticket share its sort key, and the postings of a term its
# partition key. Weak, so a value no stored item uses any more is forgotten.
_SHARED_KEYS: weakref.WeakValueDictionary[tuple[str, Any], DynamoType] = (
    weakref.WeakValueDictionary()
)
_original_item_init = Item.__init__
_original_limited_setitem = LimitedSizeDict.__setitem__
# Recently used short scalar values, most recent last: a bounded cache, so values used
# once (timestamps, ids) pass through it, and recurring ones stay.
SHARED_SCALARS_MAX = 4096
_SHARED_SCALARS: Recent[tuple[str, Any], DynamoType] = Recent(SHARED_SCALARS_MAX)
_SCALAR_TYPES = frozenset({"S", "N", "BOOL", "NULL"})


class KeyOnlyItem(Item):
    """An item of key attributes only; its ``attrs`` are built from its keys when read.

    Reading ``attrs`` gives a fresh dict each time, so it must never be changed in place:
    the one moto path that does (UpdateItem) gets a plain item first (:func:`materialize`).
    Assigning ``attrs`` turns the object back into a plain :class:`Item`.
    """

    # moto's metaclass files each model class under the service its module names.
    __module__ = "moto.dynamodb.local_stack_patch"
    # Which key each attribute is, in the item's attribute order ("h" or "r").
    _names: tuple[tuple[str, str], ...] = ()

    @property  # type: ignore[override]
    def attrs(self) -> LimitedSizeDict:
        stored = LimitedSizeDict.__new__(LimitedSizeDict)
        dict.__init__(stored)
        for name, which in self._names:
            dict.__setitem__(stored, name, self.hash_key if which == "h" else self.range_key)
        return stored

    @attrs.setter
    def attrs(self, value: dict[str, Any]) -> None:
        self.__class__ = Item  # type: ignore[assignment]
        self.__dict__["attrs"] = value


_KEY_ONLY_CLASSES: dict[tuple[tuple[str, str], ...], type[KeyOnlyItem]] = {}


def _key_only_class(names: tuple[tuple[str, str], ...]) -> type[KeyOnlyItem]:
    cls = _KEY_ONLY_CLASSES.get(names)
    if cls is None:
        namespace = {"_names": names, "__module__": KeyOnlyItem.__module__}
        cls = type("KeyOnlyItem", (KeyOnlyItem,), namespace)  # moto's metaclass applies
        _KEY_ONLY_CLASSES[names] = cls
    return cls


def _key_code(
    item: Item, name: str, value: Any, hash_attr: str, range_attr: str | None
) -> str | None:
    """ "h" or "r" if attribute ``name`` is the item's own hash or range key object."""
    if name == hash_attr and value is item.hash_key:
        return "h"
    if name == range_attr and value is item.range_key:
        return "r"
    return None


def key_only(item: Item, hash_attr: str, range_attr: str | None) -> Item:
    """``item`` as a :class:`KeyOnlyItem` if it holds its key attributes and nothing else
    (each the very key object, as :func:`compact_stored_item` leaves them); else ``item``."""
    if type(item) is not Item:
        return item
    attrs = item.__dict__.get("attrs")
    if attrs is None or len(attrs) != (1 if range_attr is None else 2):
        return item
    names: list[tuple[str, str]] = []
    for name, value in attrs.items():
        which = _key_code(item, name, value, hash_attr, range_attr)
        if which is None:
            return item
        names.append((name, which))
    cls = _key_only_class(tuple(names))
    compact: Item = cls.__new__(cls)  # type: ignore[assignment]
    compact.hash_key = item.hash_key
    compact.range_key = item.range_key
    return compact


# The attribute types whose values moto keeps as trees of objects.
_NESTED_TYPES = frozenset({"L", "M"})


class PackedItem(Item):
    """An item holding a list or a map, kept as one ``marshal`` string; its ``attrs`` are
    built from it when read.

    moto keeps each element of a list or a map as a ``DynamoType`` with a dict of its own,
    inside the dict of its parent: a history entry (its ``changes``, a list of maps of
    three strings) took about 5.4 KB as moto's tree, about 1.3 KB packed. Such
    items are the ones written once and read rarely here (an audit log): they are unpacked
    on each read. As for :class:`KeyOnlyItem`, ``attrs`` is a fresh dict on each read,
    never changed in place (UpdateItem gets a plain item first: :func:`materialize`), and
    assigning ``attrs`` turns the object back into a plain :class:`Item`.
    """

    __module__ = "moto.dynamodb.local_stack_patch"

    @property  # type: ignore[override]
    def attrs(self) -> LimitedSizeDict:
        stored = LimitedSizeDict.__new__(LimitedSizeDict)
        dict.__init__(stored)
        # The bytes are the ones pack_nested wrote in this process.
        for name, code in marshal.loads(self.__dict__["packed"]):  # noqa: S302
            value: DynamoType | None
            if code == "h":
                value = self.hash_key
            elif code == "r":
                value = self.range_key
            else:
                value = _unpack(code)
            dict.__setitem__(stored, name, value)
        return stored

    @attrs.setter
    def attrs(self, value: dict[str, Any]) -> None:
        self.__class__ = Item  # type: ignore[assignment]
        self.__dict__.pop("packed", None)
        self.__dict__["attrs"] = value


def _pack_value(value: Any) -> tuple[str, Any]:
    kind, raw = value.type, value.value
    if kind == "L":
        return kind, [_pack_value(member) for member in raw]
    if kind == "M":
        return kind, {name: _pack_value(member) for name, member in raw.items()}
    return kind, raw


def _unpack(code: tuple[str, Any]) -> DynamoType:
    kind, raw = code
    if kind == "L":
        raw = [_unpack(member) for member in raw]
    elif kind == "M":
        raw = {name: _unpack(member) for name, member in raw.items()}
    value: DynamoType = DynamoType.__new__(DynamoType)
    value.type = kind
    value.value = raw
    return value


def pack_nested(item: Item, hash_attr: str, range_attr: str | None) -> Item:
    """``item`` as a :class:`PackedItem` if it holds a list or a map (and every value can
    be marshalled); else ``item``. Its key attributes stay its own key objects."""
    if type(item) is not Item:
        return item
    attrs = item.__dict__.get("attrs")
    if not attrs or not any(
        type(value) is DynamoType and value.type in _NESTED_TYPES for value in attrs.values()
    ):
        return item
    codes: list[tuple[str, Any]] = []
    for name, value in attrs.items():
        which = _key_code(item, name, value, hash_attr, range_attr)
        if which is not None:
            codes.append((name, which))
        elif type(value) is DynamoType:
            codes.append((name, _pack_value(value)))
        else:
            return item
    try:
        blob = marshal.dumps(codes)
    except ValueError:  # a value marshal cannot write: keep moto's form
        return item
    compact: Item = PackedItem.__new__(PackedItem)  # type: ignore[assignment]
    compact.hash_key = item.hash_key
    compact.range_key = item.range_key
    compact.__dict__["packed"] = blob
    return compact


def materialize(item: Item) -> Item:
    """``item`` as a plain :class:`Item` with its own attribute dict (the same object)."""
    if isinstance(item, (KeyOnlyItem, PackedItem)):
        item.attrs = item.attrs  # the setter makes it a plain item
    return item


class KeyOnlyPartition(dict):  # type: ignore[type-arg]
    """A partition (sort key -> item) whose key-only items are stored as their sort key.

    A term's search postings are all key-only items of one partition. Each would be an
    object of about 90 bytes; here the partition's dict holds, for such an item, its sort
    key object itself (already the dict's key, so a posting costs the dict's slot alone),
    and the item is built when read: a fresh :class:`KeyOnlyItem` each time, as its
    ``attrs`` are. Any other item is stored as it is. Every read moto and this package
    make goes through the methods below (``[]``, ``get``, ``pop``, ``popitem``,
    ``values``, ``items``, and ``dict(p)`` or ``{**p}`` through ``__iter__``); a write of
    a :class:`KeyOnlyItem` of this partition's class stores its sort key.
    """

    __slots__ = ("hash_key", "item_class")

    def __init__(self, hash_key: DynamoType, item_class: type[KeyOnlyItem]) -> None:
        super().__init__()
        self.hash_key = hash_key
        self.item_class = item_class

    def _item(self, value: Any) -> Any:
        if type(value) is DynamoType:
            item: Any = self.item_class.__new__(self.item_class)
            item.hash_key = self.hash_key
            item.range_key = value
            return item
        return value

    def __getitem__(self, key: Any) -> Any:
        return self._item(dict.__getitem__(self, key))

    def __setitem__(self, key: Any, value: Any) -> None:
        if (
            type(value) is self.item_class
            and value.range_key == key
            and _same_form(value.hash_key, self.hash_key)
        ):
            value = value.range_key  # shared with the dict's key: no object of its own
        dict.__setitem__(self, key, value)

    def get(self, key: Any, default: Any = None) -> Any:
        value = dict.get(self, key, _MISSING)
        return default if value is _MISSING else self._item(value)

    def pop(self, key: Any, *default: Any) -> Any:
        return self._item(dict.pop(self, key, *default))

    def popitem(self) -> tuple[Any, Any]:
        key, value = dict.popitem(self)
        return key, self._item(value)

    def __iter__(self) -> Iterator[Any]:
        # Defined here, CPython's dict(p), {**p} and d.update(p) read the items through
        # keys() and [] (its fast path, raw values, is only for dicts with dict's own
        # iterator).
        return dict.__iter__(self)

    def values(self) -> list[Any]:  # type: ignore[override]
        return [self._item(value) for value in dict.values(self)]

    def items(self) -> list[tuple[Any, Any]]:  # type: ignore[override]
        return [(key, self._item(value)) for key, value in dict.items(self)]

    def setdefault(self, key: Any, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self[key]

    def copy(self) -> dict[Any, Any]:
        """A plain dict of the items (as moto's partitions are)."""
        return dict(self.items())

    def __reduce__(self) -> Any:
        # Copies and pickles (a backup copies the table) hold plain dicts of plain items.
        # A key-only item is built for the copy; any other is the stored object itself,
        # which the copy's own deep copy makes plain (packed items stay packed here).
        return (
            dict,
            (
                [
                    (key, materialize(item) if isinstance(item, KeyOnlyItem) else item)
                    for key, item in self.items()
                ],
            ),
        )

    def __reduce_ex__(self, protocol: Any) -> Any:
        return self.__reduce__()


_MISSING = object()


def _same_form(one: DynamoType, other: DynamoType) -> bool:
    # Not DynamoType's ==, which compares numbers by value: {"N": "1.0"} must not come
    # back as the partition's {"N": "1"}.
    return one.type == other.type and one.value == other.value


def store_compactly(partitions: dict[Any, Any], item: KeyOnlyItem) -> None:
    """Store the key-only ``item`` (of a table with a sort key) in its partition of
    ``partitions`` (the table's ``items``) as no more than its sort key.

    The partition becomes a :class:`KeyOnlyPartition` of ``item``'s class (in the same
    place in the table, with the same items in the same order) if it is not one yet; in
    a partition of another class (the key attributes in another order) the item is
    stored as an object.
    """
    partition = partitions.get(item.hash_key)
    if type(partition) is not KeyOnlyPartition:
        compact = KeyOnlyPartition(item.hash_key, type(item))
        for key, value in (partition or {}).items():
            compact[key] = value
        partitions[item.hash_key] = partition = compact
    partition[item.range_key] = item


def _untracked_new(cls: type, *args: Any, **kwargs: Any) -> Any:
    instance: Any = object.__new__(cls)
    if not is_active():
        cls.instances_tracked.append(instance)  # type: ignore[attr-defined]
    return instance


def _compact_value(value: DynamoType) -> DynamoType:
    if value.type == "S" and type(value.value) is str and len(value.value) <= INTERN_MAX_LENGTH:
        value.value = sys.intern(value.value)
    elif value.type == "SS" and type(value.value) is list:
        # A ticket's search manifest lists its ~50 terms: the same words as other tickets'.
        members = value.value
        for position, member in enumerate(members):
            if type(member) is str and len(member) <= INTERN_MAX_LENGTH:
                members[position] = sys.intern(member)
    return value


def _scalar_key(kind: str, raw: Any) -> tuple[str, Any] | None:
    """The cache key of a short scalar value (None for any other value)."""
    if kind in _SCALAR_TYPES and type(raw) in (str, bool) and len(str(raw)) <= INTERN_MAX_LENGTH:
        return (kind, raw)
    return None


def _cached(key: tuple[str, Any]) -> DynamoType | None:
    return _SHARED_SCALARS.get(key)


def _remember(key: tuple[str, Any], value: DynamoType) -> DynamoType:
    return _SHARED_SCALARS.put(key, _compact_value(value))


def _shared_scalar(value: Any) -> DynamoType:
    """The ``DynamoType`` of an attribute value: a shared one for a short scalar."""
    if type(value) is dict and len(value) == 1:
        ((kind, raw),) = value.items()
        key = _scalar_key(kind, raw)
        if key is not None:
            shared = _cached(key)
            return shared if shared is not None else _remember(key, DynamoType(value))
    return _compact_value(DynamoType(value))


def _share(value: DynamoType) -> DynamoType:
    """The shared ``DynamoType`` equal to ``value`` if it is a short scalar (``value``
    itself becomes the shared one if there is none yet); else ``value``, compacted."""
    key = _scalar_key(value.type, value.value)
    if key is None:
        return _compact_value(value)
    shared = _cached(key)
    return shared if shared is not None else _remember(key, value)


def _item_init(
    self: Item, hash_key: DynamoType, range_key: DynamoType | None, attrs: dict[str, Any]
) -> None:
    """moto's ``Item.__init__`` in one pass: the same attributes and the same size limit.

    moto re-measures the whole item on every attribute it adds (quadratic in the number
    of attributes); the total is the same when measured once, and the limit applies to
    the total, so the outcome (an item or ItemSizeTooLarge) is the same.
    """
    if not is_active():
        _original_item_init(self, hash_key, range_key, attrs)
        return
    self.hash_key = hash_key
    self.range_key = range_key
    stored = LimitedSizeDict.__new__(LimitedSizeDict)
    dict.__init__(stored)
    size = 0
    for key, value in attrs.items():
        name = sys.intern(key) if type(key) is str else key
        attribute = _shared_scalar(value)
        size += value_size(name) + value_size(attribute)
        dict.__setitem__(stored, name, attribute)
    if size > ITEM_SIZE_LIMIT:
        raise ItemSizeTooLarge
    self.attrs = stored


def value_size(value: Any) -> int:
    """``DynamoType.size()`` (or, for anything else, moto's ``bytesize(str(value))``),
    with the arithmetic for strings and numbers done inline: moto's per-attribute type
    checks were most of the cost of measuring an item."""
    kind = type(value)
    if kind is str:  # an attribute name
        return len(value) if value.isascii() else len(value.encode("utf-8"))
    if kind is DynamoType:
        inner = value.value
        if value.type == "S" and type(inner) is str:
            return len(inner) if inner.isascii() else len(inner.encode("utf-8"))
        if value.type == "N":
            return len(str(inner))
        size: int = value.size()
        return size
    return bytesize(str(value))


def attrs_size(attrs: dict[Any, Any]) -> int:
    """The size moto gives an item's attributes (``Item.size()``, and the total that
    ``LimitedSizeDict`` checks against its limit): names and values."""
    total = 0
    for name, value in dict.items(attrs):
        # value_size, inlined for the common case: an ASCII name, a string or a number.
        if type(name) is str and name.isascii():
            total += len(name)
        else:
            total += value_size(name)
        if type(value) is DynamoType:
            inner = value.value
            if type(inner) is str and inner.isascii() and value.type == "S":
                total += len(inner)
                continue
            if value.type == "N":
                total += len(str(inner))
                continue
        total += value_size(value)
    return total


def _limited_setitem(self: LimitedSizeDict, key: str, value: Any) -> None:
    """moto's ``LimitedSizeDict.__setitem__``: the same limit on the same total.

    Each SET of an UpdateItem re-measures the whole item (quadratic in the actions of a
    ticket update); the measure is the same, only quicker (:func:`attrs_size`).
    """
    if not is_active():
        _original_limited_setitem(self, key, value)
        return
    if attrs_size(self) + value_size(key) + value_size(value) > ITEM_SIZE_LIMIT:
        raise ItemSizeTooLarge
    dict.__setitem__(self, key, value)


def _shared_key(key: DynamoType) -> DynamoType:
    value = key.value
    if key.type not in ("S", "N", "B") or type(value) not in (str, bytes):
        return key
    shared = _SHARED_KEYS.get((key.type, value))
    if shared is None:
        _SHARED_KEYS[(key.type, value)] = key
        return key
    return shared


def share_keys(table: Table, item: Item) -> None:
    """Let ``item`` (just stored in ``table``) use the shared object for each key value.

    Keys are never changed in place (moto refuses updates of key attributes), so items
    with equal keys can hold one object. A sort key is also the key of the item in its
    partition's dict: an item just inserted is that dict's last entry, and is re-keyed in
    place (the same position, so scans keep moto's order); an overwritten item keeps the
    dict key it had, itself shared when it was inserted.
    """
    item.hash_key = _shared_key(item.hash_key)
    if item.range_key is None or not table.range_key_attr:
        return
    shared = _shared_key(item.range_key)
    if shared is item.range_key:
        return
    partition = table.items.get(item.hash_key)
    if partition:
        last = next(reversed(partition))
        if last is item.range_key and partition[last] is item:
            del partition[last]
            partition[shared] = item
    item.range_key = shared


def compact_stored_item(item: Item, hash_attr: str, range_attr: str | None) -> None:
    """Intern what an update wrote, and let the key attributes share the item's key objects.

    Keys are never changed in place (moto refuses updates of key attributes), so the
    attribute and ``item.hash_key`` can be one object.
    """
    if isinstance(item, (KeyOnlyItem, PackedItem)):
        return
    attrs = item.attrs
    rebuilt = False
    for name in attrs:
        if type(name) is str and sys.intern(name) is not name:
            rebuilt = True
            break
    if rebuilt:
        # Rebuild in the same order: attribute order shows in every response.
        fresh = LimitedSizeDict.__new__(LimitedSizeDict)
        dict.__init__(fresh)
        for name, value in attrs.items():
            dict.__setitem__(fresh, sys.intern(name) if type(name) is str else name, value)
        item.attrs = attrs = fresh
    for name, value in list(attrs.items()):
        if type(value) is DynamoType:
            shared = _share(value)  # an update's new values: shared like a put's
            if shared is not value:
                dict.__setitem__(attrs, name, shared)
    for attr, key in ((hash_attr, item.hash_key), (range_attr, item.range_key)):
        if attr is None or key is None:
            continue
        current = attrs.get(attr)
        if current is not None and current is not key and current == key:
            dict.__setitem__(attrs, attr, key)


def install() -> None:
    """Stop tracking DynamoDB items, stream records and shard iterators; compact items."""
    for cls in _UNTRACKED:
        cls.__new__ = staticmethod(_untracked_new)  # type: ignore[assignment]
    Item.__init__ = _item_init  # type: ignore[method-assign]
    LimitedSizeDict.__setitem__ = _limited_setitem  # type: ignore[method-assign,assignment]
