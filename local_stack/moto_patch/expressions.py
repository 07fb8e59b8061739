"""UpdateExpression handling without repeated work.

Two costs of moto 5.2.5 per UpdateItem, neither growing with the table but together most
of a ticket update (15 SET actions):

- the expression is parsed twice per request (once to validate the request, once to
  apply it); parsed trees are now remembered by expression text. moto never changes a
  parsed tree (the validator works on a deep copy), so one tree can serve every request;
- two validators (at most one ADD/REMOVE/SET clause; no overlapping paths) check every
  nested ``UpdateExpression`` node, each over its whole subtree: quadratic in the number
  of actions. A subtree holds a subset of the root's clauses and paths, so when the
  root passes, every subtree passes. The root is checked first; only if it fails does
  moto's own traversal run, so a refused expression gets exactly moto's error.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from moto.dynamodb.parsing.ast_nodes import UpdateExpression  # type: ignore[attr-defined]
from moto.dynamodb.parsing.expressions import UpdateExpressionParser  # type: ignore[attr-defined]
from moto.dynamodb.parsing.validators import ActionCountValidator, OverlappingPathsValidator

from local_stack.moto_patch import is_active

MAX_PARSED = 512

_original_make = UpdateExpressionParser.make.__func__  # type: ignore[attr-defined]
_original_traverse: dict[type, Any] = {
    ActionCountValidator: ActionCountValidator.traverse,
    OverlappingPathsValidator: OverlappingPathsValidator.traverse,
}
_parsed: OrderedDict[tuple[type, str], Any] = OrderedDict()


def _make(cls: type, expression_str: str) -> Any:
    if not is_active() or not isinstance(expression_str, str):
        return _original_make(cls, expression_str)
    key = (cls, expression_str)
    tree = _parsed.get(key)
    if tree is None:
        tree = _original_make(cls, expression_str)
        _parsed[key] = tree
        if len(_parsed) > MAX_PARSED:
            _parsed.popitem(last=False)
    else:
        _parsed.move_to_end(key)
    return tree


def _root_check(check_name: str, validator: type) -> Any:
    def traverse(self: Any, node: Any) -> Any:
        if is_active() and type(node) is UpdateExpression:
            try:
                getattr(self, check_name)(node)
            except Exception:  # noqa: BLE001 - moto's traversal raises its own error
                return _original_traverse[validator](self, node)
            return node
        return _original_traverse[validator](self, node)

    return traverse


def install() -> None:
    """Remember parsed expressions; check clause counts and paths once, at the root."""
    UpdateExpressionParser.make = classmethod(_make)  # type: ignore[method-assign,assignment]
    ActionCountValidator.traverse = _root_check("verify_action_counts", ActionCountValidator)  # type: ignore[method-assign]
    OverlappingPathsValidator.traverse = _root_check(  # type: ignore[method-assign]
        "check_for_overlapping_paths", OverlappingPathsValidator
    )
