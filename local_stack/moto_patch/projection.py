"""ProjectionExpression over top-level names at the cost of the names asked for.

moto 5.2.5 projects an item (``Item.project``) by converting the *whole* item to plain
Python once per projected name, looking the name up in that, and serialising the
result back to attribute values through an item whose every attribute set re-sums the
sizes of all the attributes before it. For a list page asking for 27 of a ticket's 40
attributes that is some 1,100 conversions per item: reading fewer attributes cost
four times more than reading them all.

When every projected path is a plain top-level name (no ``a.b``, no ``a[0]``), and
every value found is a string, a boolean, a null or a number written in its canonical
form, the projected item holds the stored attribute values themselves, in the order
the names were asked for. That is what moto's round trip returns for those types, value
for value: a string or boolean comes back unchanged, and a number comes back as
``str(Decimal(value))``, which is the value itself when it is canonical. Anything else
(nested paths, maps, lists, sets, binary, a number such as ``1e2``) goes through moto's
own code. Items in a response are only read and serialised, never changed, so sharing
the stored values is safe, as it is for the unprojected items a query returns.

The expression itself is parsed once per text and names (``ProjectionExpressionParser``
checked each of a list page's 25 names against moto's reserved words on every request:
about 0.26 ms a Query, as much as finding the page). A request gets its own copy of the
parsed paths; an expression moto refuses is never remembered, so it is refused again with
moto's own error.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
from moto.dynamodb.responses import ProjectionExpressionParser

from local_stack.moto_patch import is_active
from local_stack.moto_patch.recent import Recent

MAX_PARSED = 512

_original_project = Item.project
_original_parse = ProjectionExpressionParser.parse
# (expression, names) -> (the paths, the names it used): the most recent MAX_PARSED.
_parsed: Recent[tuple[str, tuple[tuple[Any, Any], ...]], tuple[Any, list[str]]] = Recent(MAX_PARSED)
_PLAIN_KINDS = frozenset({"S", "BOOL", "NULL"})


class _Unshared(Exception):
    """A value moto's round trip might write differently from how it is stored."""


def _canonical_number(text: Any) -> bool:
    if type(text) is not str:
        return False
    try:
        return str(Decimal(text)) == text
    except InvalidOperation:
        return False


def _shared(value: Any) -> DynamoType:
    if type(value) is not DynamoType:
        raise _Unshared
    if value.type in _PLAIN_KINDS or (value.type == "N" and _canonical_number(value.value)):
        return value
    raise _Unshared


def _project(self: Item, projection_expressions: list[list[str]]) -> Item:
    if not is_active() or not all(
        len(path) == 1 and "[" not in path[0] for path in projection_expressions
    ):
        return _original_project(self, projection_expressions)
    attrs = self.attrs
    try:
        kept = {
            path[0]: _shared(attrs[path[0]]) for path in projection_expressions if path[0] in attrs
        }
    except _Unshared:
        return _original_project(self, projection_expressions)
    projected: Item = Item.__new__(Item)  # type: ignore[assignment]
    projected.hash_key = self.hash_key
    projected.range_key = self.range_key
    # dict.update, not the size-checking __setitem__: a projection never grows an item.
    projected.attrs = LimitedSizeDict()
    dict.update(projected.attrs, kept)
    return projected


def _parse(self: ProjectionExpressionParser) -> list[list[str]]:
    expression, names = self.projection_expression, self.expression_attribute_names
    if not is_active() or type(expression) is not str or type(names) is not dict:
        return _original_parse(self)
    try:
        key = (expression, tuple(sorted(names.items())))
    except TypeError:  # names that do not sort (not strings): moto's own answer
        return _original_parse(self)
    known = _parsed.get(key)
    if known is None:
        paths = _original_parse(self)  # raises for an expression moto refuses
        _parsed.put(key, ([list(path) for path in paths], list(self.expr_attr_names_found)))
        return paths
    paths, found = known
    self.expr_attr_names_found.extend(found)
    return [list(path) for path in paths]


def install() -> None:
    """Replace Item.project and ProjectionExpressionParser.parse (moto's own run whenever
    the patch is off)."""
    Item.project = _project  # type: ignore[method-assign]
    ProjectionExpressionParser.parse = _parse  # type: ignore[method-assign]
