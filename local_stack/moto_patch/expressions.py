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

Two more costs come back with every UpdateItem, about half of a ticket update's
transaction in all:

- the validator deep-copies the parsed tree before resolving it (``copy.deepcopy`` walks
  every string, memoises every object and reduces every node). A parsed tree holds only
  nodes, their ``children`` lists, ``parent`` links and plain values, so it is copied
  structurally: new nodes, new lists, the same strings. Anything else (a tree whose
  shape is not that) goes through ``deepcopy`` as before;
- each of the validator's ten passes asked the pass for its node types, building a dict
  and a tuple, at every node of the tree, and again to process each node, each time
  through ``ABCMeta``'s ``isinstance``. A pass's types never change while it runs, so a
  traversal asks once and picks each node class's processor once. Only passes that keep
  moto's own ``process``, ``nodes_to_be_processed`` and ``traverse_node_recursively``
  (all of moto 5.2.5's) are walked this way.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import moto.dynamodb.parsing.validators as moto_validators
from moto.dynamodb.comparisons import ConditionExpressionParser
from moto.dynamodb.parsing.ast_nodes import (  # type: ignore[attr-defined]
    DepthFirstTraverser,
    Node,
    UpdateExpression,
)
from moto.dynamodb.parsing.expressions import UpdateExpressionParser  # type: ignore[attr-defined]
from moto.dynamodb.parsing.validators import ActionCountValidator, OverlappingPathsValidator

from local_stack.moto_patch import is_active
from local_stack.moto_patch.recent import Recent

MAX_PARSED = 512

_original_make = UpdateExpressionParser.make.__func__  # type: ignore[attr-defined]
_original_traverse: dict[type, Any] = {
    ActionCountValidator: ActionCountValidator.traverse,
    OverlappingPathsValidator: OverlappingPathsValidator.traverse,
}
_parsed: Recent[tuple[type, str], Any] = Recent(MAX_PARSED)


def _make(cls: type, expression_str: str) -> Any:
    if not is_active() or not isinstance(expression_str, str):
        return _original_make(cls, expression_str)
    key = (cls, expression_str)
    tree = _parsed.get(key)
    if tree is None:
        tree = _parsed.put(key, _original_make(cls, expression_str))
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


_PLAIN = (str, int, float, bool, type(None))
_NODE_ATTRIBUTES = frozenset({"type", "children", "parent"})


class _NotATree(Exception):
    """Not a tree of plain nodes: copy it with deepcopy."""


def copy_tree(root: Any) -> Any:
    """A copy of a parsed expression, node by node, as ``deepcopy`` would make it.

    New nodes, new ``children`` lists and ``parent`` links within the copy; strings,
    numbers and booleans shared (they cannot change). A node that is not the parent of
    its children, a node reached twice, a root with a parent or attributes other than
    exactly moto's three raise :class:`_NotATree`.
    """
    seen: set[int] = set()

    def node_copy(node: Any, parent: Any) -> Any:
        if id(node) in seen or node.__dict__.keys() != _NODE_ATTRIBUTES:
            raise _NotATree
        seen.add(id(node))
        new = object.__new__(type(node))
        state = dict(node.__dict__)
        state["parent"] = parent
        children = node.children
        if children is not None:
            if type(children) is not list:
                raise _NotATree
            copied = []
            for child in children:
                if isinstance(child, Node):
                    if child.parent is not node:
                        raise _NotATree
                    copied.append(node_copy(child, new))
                elif type(child) in _PLAIN:
                    copied.append(child)
                else:
                    raise _NotATree
            state["children"] = copied
        new.__dict__.update(state)
        return new

    if not isinstance(root, Node) or getattr(root, "parent", None) is not None:
        raise _NotATree
    return node_copy(root, None)


def _deepcopy(value: Any, memo: Any = None) -> Any:
    if memo is None and is_active() and isinstance(value, Node):
        try:
            return copy_tree(value)
        except _NotATree:
            pass
    return copy.deepcopy(value, memo)


_original_traverse_node = DepthFirstTraverser.traverse_node_recursively
_node_classes: dict[type, bool] = {}


def _is_node(kind: type) -> bool:
    known = _node_classes.get(kind)
    if known is None:
        known = _node_classes[kind] = issubclass(kind, Node)
    return known


_MOTO_METHODS = ("process", "nodes_to_be_processed", "traverse_node_recursively")


def _walks_as_moto(traverser: Any) -> bool:
    kind = type(traverser)
    return all(getattr(kind, name) is getattr(DepthFirstTraverser, name) for name in _MOTO_METHODS)


def _traverse_node_recursively(self: Any, node: Any, child_id: int = -1) -> Any:
    if not is_active() or not _walks_as_moto(self):
        return _original_traverse_node(self, node, child_id)
    processors = self._processing_map()
    # Node's metaclass is ABCMeta, whose isinstance costs a Python call each time; the
    # answer depends only on the node's class, so it is worked out once per class.
    processor_of: dict[type, Any] = {}
    pre_processing_of_child = self.pre_processing_of_child

    def processor_for(kind: type) -> Any:
        if kind not in processor_of:
            processor_of[kind] = next(
                (p for class_key, p in processors.items() if issubclass(kind, class_key)), None
            )
        return processor_of[kind]

    # The node classes the tree holds once this pass is done, for _validate.
    seen: set[type] = set()

    # moto's traverse_node_recursively, statement for statement, with the pass's node
    # types and processors looked up once per class rather than at every node.
    def walk(node: Any, child_id: int) -> Any:
        if _is_node(type(node)):
            parent_node = node.parent
            if node.children is not None:
                for i, child_node in enumerate(node.children):
                    pre_processing_of_child(node, i)
                    walk(child_node, i)
            processor = processor_for(type(node))
            if processor is not None:
                node = processor(node)
                node.parent = parent_node
                if parent_node:
                    parent_node.children[child_id] = node
                _node_classes_in(node, seen)  # a new subtree: its nodes were not walked
            else:
                seen.add(type(node))
        return node

    result = walk(node, child_id)
    self.__dict__[_SEEN] = seen
    return result


_SEEN = "_local_stack_node_classes"
_original_validate = moto_validators.Validator.validate
_default_pre_processing = DepthFirstTraverser.pre_processing_of_child


def _node_classes_in(root: Any, seen: set[type]) -> set[type]:
    """Add the classes of every node under ``root`` (itself included) to ``seen``."""
    pending = [root]
    while pending:
        node = pending.pop()
        kind = type(node)
        if _is_node(kind):
            seen.add(kind)
            if node.children is not None:
                pending.extend(node.children)
    return seen


def _nothing_to_do(processor: Any, present: set[type]) -> bool:
    """Whether walking ``processor`` over a tree of ``present`` node classes would change
    nothing: it walks as moto's traverser does, its hook before each child is moto's
    empty one, and no node of the tree is of a type it processes."""
    kind = type(processor)
    if (
        kind.traverse is not DepthFirstTraverser.traverse
        or kind.pre_processing_of_child is not _default_pre_processing
        or not _walks_as_moto(processor)
    ):
        return False
    types = tuple(processor._processing_map())
    return not any(issubclass(node_class, types) for node_class in present)


def _validate(self: Any) -> Any:
    """moto's ``Validator.validate``, without the passes that have nothing to process.

    Each pass walks the whole tree; most process one or two node types (functions,
    arithmetic, SET actions). Counters' ``ADD`` expressions hold none of those, so
    five of the eight passes that walk (the other two check the root only) walked
    without doing anything. A pass is skipped only when
    that is certain (:func:`_nothing_to_do`); the node classes the tree holds are known
    from the previous walk, which records them, or from a scan.
    """
    if not is_active():
        return _original_validate(self)
    node = self.node_to_validate
    present = _node_classes_in(node, set())
    for processor in self.processors:
        if _nothing_to_do(processor, present):
            continue
        node = processor.traverse(node)
        seen = processor.__dict__.pop(_SEEN, None)
        if seen is not None:
            present = seen
        elif type(processor) not in _original_traverse:  # not a root check: look again
            present = _node_classes_in(node, set())
    return node


_original_condition_parse = ConditionExpressionParser.parse
MAX_CONDITION_VALUES_CHARS = 1024
_conditions: Recent[tuple[str, str, str], tuple[Any, list[str], list[str]]] = Recent(MAX_PARSED)


def _parse_condition(self: ConditionExpressionParser) -> Any:
    """moto's condition parse, remembered by expression, names and values.

    A condition (``attribute_not_exists(#0)``, a version check) was lexed and parsed
    again for every item written, twice for a single PutItem (once to check the
    request, once to apply it). The parsed condition is a tree of moto's ``Op``,
    ``Func`` and operand objects, none of which changes after it is built (evaluating
    one only reads the item), and parsing has no effect beyond the placeholders it
    records as found: those are remembered too. A request that moto refuses is parsed
    again each time, so it gets moto's own error.
    """
    expression = self.condition_expression
    names, values = self.expression_attribute_names, self.expression_attribute_values
    if not is_active() or type(expression) is not str:
        return _original_condition_parse(self)
    try:
        # Not sort_keys: moto reads an attribute value's type from its first key, so
        # {"S": .., "N": ..} and {"N": .., "S": ..} are different values to it.
        key = (expression, json.dumps(names), json.dumps(values))
    except (TypeError, ValueError):  # not plain JSON: moto's own answer
        return _original_condition_parse(self)
    if len(key[2]) > MAX_CONDITION_VALUES_CHARS:
        # The values are every placeholder of the request, an update's new text among
        # them: such a key would rarely come again, and 512 of them would hold megabytes.
        return _original_condition_parse(self)
    known = _conditions.get(key)
    if known is None:
        parsed = _original_condition_parse(self)
        _conditions.put(
            key, (parsed, list(self.expr_attr_names_found), list(self.expr_attr_values_found))
        )
        return parsed
    parsed, names_found, values_found = known
    self.expr_attr_names_found.extend(names_found)
    self.expr_attr_values_found.extend(values_found)
    return parsed


def install() -> None:
    """Remember parsed expressions; check clause counts and paths once, at the root; copy
    and walk the parsed tree without repeated work; skip passes with nothing to do."""
    moto_validators.deepcopy = _deepcopy  # type: ignore[attr-defined,assignment]
    DepthFirstTraverser.traverse_node_recursively = _traverse_node_recursively  # type: ignore[method-assign]
    moto_validators.Validator.validate = _validate  # type: ignore[method-assign]
    ConditionExpressionParser.parse = _parse_condition  # type: ignore[method-assign]
    UpdateExpressionParser.make = classmethod(_make)  # type: ignore[method-assign,assignment]
    ActionCountValidator.traverse = _root_check("verify_action_counts", ActionCountValidator)  # type: ignore[method-assign]
    OverlappingPathsValidator.traverse = _root_check(  # type: ignore[method-assign]
        "check_for_overlapping_paths", OverlappingPathsValidator
    )
