"""Update and condition expressions of every shape, through the patched and the plain
moto: the same items and the same errors.

local_stack.moto_patch.expressions copies moto's parsed update expressions structurally
and walks them with each pass's node types looked up once per class. These cases cover
what those walks meet: nested map paths and list indexes, arithmetic, functions
(``if_not_exists``, ``list_append``), ADD, DELETE and REMOVE, long expressions, and the
errors moto's passes raise (key attributes, missing paths and placeholders, type
mismatches, overlapping paths, two clauses of a kind). Passes with nothing to process
are skipped: counters' ADD expressions are walked three times, not ten.

Parsed conditions are remembered by expression, names and values: the same condition
with other values, an unused name, a syntax error and an undefined placeholder each get
plain moto's outcome, again on the second try. Each case is applied twice, so the
second application runs on the remembered parsed tree: a tree changed by the first
would show; and each is applied to an existing item and to a missing one (an upsert,
which moto validates twice).
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

import boto3
import moto.dynamodb.parsing.validators as validators
import pytest
from botocore.exceptions import ClientError
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.parsing.ast_nodes import DDBTypedValue, Node
from moto.dynamodb.parsing.expressions import UpdateExpressionParser

from local_stack import moto_patch
from local_stack.moto_patch.expressions import _NotATree, copy_tree
from local_stack.moto_server import MotoServer
from tests.conftest import create_keyed_table

ITEM: dict[str, Any] = {
    "pk": {"S": "p"},
    "sk": {"S": "s"},
    "n": {"N": "5"},
    "s": {"S": "text"},
    "b": {"M": {"c": {"S": "inner"}, "m": {"M": {"d": {"N": "1"}}}}},
    "l": {"L": [{"S": "zero"}, {"N": "1"}, {"S": "two"}]},
    "ss": {"SS": ["x", "y", "z"]},
    "ns": {"NS": ["1", "2"]},
    **{f"a{i}": {"S": f"value {i}"} for i in range(30)},
}
VALUES: dict[str, Any] = {
    ":s": {"S": "new"},
    ":n": {"N": "7"},
    ":one": {"N": "1"},
    ":list": {"L": [{"S": "more"}]},
    ":sset": {"SS": ["y"]},
    ":nset": {"NS": ["3"]},
    ":empty": {"S": ""},
}
LONG = "SET " + ", ".join(f"a{i} = :s" for i in range(25)) + " REMOVE a25, a26, a27, b.c"
CASES: list[tuple[str, dict[str, str]]] = [
    ("SET s = :s, b.c = :s, l[1] = :n, b.m.d = :one", {}),
    ("SET n = n + :one, fresh = if_not_exists(fresh, :n), s = if_not_exists(s, :s)", {}),
    ("SET n = n - :one, l = list_append(l, :list)", {}),
    ("SET l = list_append(:list, l), #x = :s", {"#x": "with space"}),
    ("ADD ns :nset, counter :one DELETE ss :sset", {}),
    ("REMOVE l[0], b.c, missing", {}),
    ("SET l[9] = :s", {}),
    ("SET s = :empty", {}),
    (LONG, {}),
    ("SET #k = :s", {"#k": "pk"}),  # a key attribute
    ("SET missing.path = :s", {}),
    ("SET b.m.d.e = :s", {}),
    ("SET n = s + :one", {}),
    ("SET n = :s, n = :n", {}),
    ("SET s = :s REMOVE s", {}),
    ("SET s = :s SET n = :n", {}),
    ("SET s = :undefined", {}),
    ("SET #undefined = :s", {}),
    ("ADD b :one", {}),
    ("SET l = list_append(nothing, :list)", {}),
    ("ADD #c :one, #o :n", {"#c": "counter", "#o": "other counter"}),  # the counters' shape
    ("ADD tally :one, n :one", {}),
    ("ADD s :one", {}),  # a number added to a string
]


def _outcome(
    client: Any, table: str, expression: str, names: dict[str, str], *, upsert: bool = False
) -> Any:
    key = {"pk": ITEM["pk"], "sk": ITEM["sk"]}
    if upsert:
        client.delete_item(TableName=table, Key=key)
    else:
        client.put_item(TableName=table, Item=ITEM)
    request: dict[str, Any] = {
        "TableName": table,
        "Key": key,
        "UpdateExpression": expression,
        "ExpressionAttributeValues": {
            name: value for name, value in VALUES.items() if name in expression
        },
        "ReturnValues": "ALL_NEW",
    }
    if names:
        request["ExpressionAttributeNames"] = names
    try:
        return ("ok", client.update_item(**request)["Attributes"])
    except ClientError as error:
        return ("error", error.response["Error"]["Code"], error.response["Error"]["Message"])


@pytest.fixture(scope="module")
def sides(moto_server: MotoServer, plain_moto_server: MotoServer) -> list[tuple[Any, str]]:
    result = []
    for server in (plain_moto_server, moto_server):
        client = boto3.client("dynamodb", endpoint_url=server.url, region_name="us-east-1")
        table = f"expressions-{uuid.uuid4().hex[:8]}"
        create_keyed_table(client, table)
        result.append((client, table))
    return result


@pytest.mark.parametrize(("expression", "names"), CASES)
def test_an_update_expression_has_plain_moto_outcome(
    sides: list[tuple[Any, str]], expression: str, names: dict[str, str]
) -> None:
    (plain, plain_table), (patched, patched_table) = sides
    for upsert in (False, True):  # an existing item, then none (moto validates twice)
        expected = _outcome(plain, plain_table, expression, names, upsert=upsert)
        for _ in range(2):
            assert _outcome(patched, patched_table, expression, names, upsert=upsert) == expected


def _shape(node: Any, parent: Any, seen: set[int]) -> Any:
    """The tree as nested tuples, checking its parent links and that no node is shared
    with another tree (``seen`` holds the ids of the other tree's nodes)."""
    if not isinstance(node, Node):
        return node
    assert id(node) not in seen
    assert node.parent is parent
    assert set(vars(node)) == {"type", "children", "parent"}
    children = None
    if node.children is not None:
        children = tuple(_shape(child, node, seen) for child in node.children)
    return (type(node), node.type, children)


def _ids(node: Any) -> set[int]:
    if not isinstance(node, Node):
        return set()
    found = {id(node)}
    for child in node.children or []:
        found |= _ids(child)
    return found


@pytest.mark.parametrize("expression", [case for case, _ in CASES[:9]])
def test_a_parsed_tree_is_copied_as_deepcopy_copies_it(expression: str) -> None:
    tree = UpdateExpressionParser.make(expression)
    copied = copy_tree(tree)
    original_ids = _ids(tree)
    assert _shape(copied, None, original_ids) == _shape(copy.deepcopy(tree), None, set())
    assert _shape(tree, None, set()) == _shape(copied, None, set())


def test_a_tree_holding_anything_else_is_deep_copied() -> None:
    value = DDBTypedValue(DynamoType({"S": "x"}))
    with pytest.raises(_NotATree):
        copy_tree(value)
    with moto_patch.active():
        copied = validators.deepcopy(value)
    assert copied is not value and copied.children[0] is not value.children[0]
    assert copied.children[0] == value.children[0]


def test_an_add_expression_is_walked_only_by_the_passes_with_work(
    sides: list[tuple[Any, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    walks: list[str] = []
    walk = validators.DepthFirstTraverser.traverse_node_recursively

    def counting(self: Any, node: Any, child_id: int = -1) -> Any:
        if child_id == -1:  # a pass starting at the root
            walks.append(type(self).__name__)
        return walk(self, node, child_id)

    monkeypatch.setattr(validators.DepthFirstTraverser, "traverse_node_recursively", counting)
    counts = []
    for client, table in sides:  # plain, then patched
        walks.clear()
        outcome = _outcome(client, table, "ADD tally :one, n :one", {})
        assert outcome[0] == "ok", outcome
        counts.append(sorted(walks))
    plain, patched = counts
    assert len(plain) == 10, plain
    assert patched == [
        "ExpressionAttributeResolvingProcessor",
        "ExpressionAttributeValueProcessor",
        "UpdateHashRangeKeyValidator",
    ]


CONDITIONS: list[tuple[str, dict[str, str], dict[str, Any]]] = [
    ("attribute_not_exists(pk)", {}, {}),
    ("attribute_exists(#p) AND #n = :v", {"#p": "pk", "#n": "n"}, {":v": {"N": "5"}}),
    ("attribute_exists(#p) AND #n = :v", {"#p": "pk", "#n": "n"}, {":v": {"N": "6"}}),
    ("#n = :v", {"#n": "n"}, {":v": {"N": "5"}}),
    ("#n = :v", {"#n": "n"}, {":v": {"N": "4"}}),
    (
        "n BETWEEN :lo AND :hi AND s IN (:s, :t)",
        {},
        {":lo": {"N": "1"}, ":hi": {"N": "9"}, ":s": {"S": "text"}, ":t": {"S": "other"}},
    ),
    (
        "size(s) > :n AND begins_with(s, :p) AND NOT contains(ss, :x)",
        {},
        {":n": {"N": "3"}, ":p": {"S": "te"}, ":x": {"S": "q"}},
    ),
    ("b.m.d = :one OR l[0] = :z", {}, {":one": {"N": "1"}, ":z": {"S": "zero"}}),
    ("#n = :v", {"#n": "n", "#unused": "s"}, {":v": {"N": "5"}}),
    ("n >", {}, {}),
    ("n = :undefined", {}, {":v": {"N": "5"}}),
    ("#undefined = :v", {}, {":v": {"N": "5"}}),
]


def _condition_outcomes(
    client: Any, table: str, condition: str, names: dict[str, str], values: dict[str, Any]
) -> list[Any]:
    """A conditional PutItem, UpdateItem and a transaction's ConditionCheck."""
    key = {"pk": ITEM["pk"], "sk": ITEM["sk"]}
    extra: dict[str, Any] = {"ConditionExpression": condition}
    if names:
        extra["ExpressionAttributeNames"] = names
    if values:
        extra["ExpressionAttributeValues"] = values
    outcomes: list[Any] = []
    calls = [
        lambda: client.put_item(TableName=table, Item=ITEM, **extra),
        lambda: client.update_item(
            TableName=table,
            Key=key,
            UpdateExpression="SET touched = :touched",
            **{
                **extra,
                "ExpressionAttributeValues": {**values, ":touched": {"S": "yes"}},
            },
        ),
        lambda: client.transact_write_items(
            TransactItems=[{"ConditionCheck": {"TableName": table, "Key": key, **extra}}]
        ),
    ]
    for call in calls:
        client.put_item(TableName=table, Item=ITEM)
        try:
            call()
            outcomes.append(("ok", client.get_item(TableName=table, Key=key).get("Item")))
        except ClientError as error:
            outcomes.append((error.response["Error"]["Code"], error.response["Error"]["Message"]))
    return outcomes


@pytest.mark.parametrize(("condition", "names", "values"), CONDITIONS)
def test_a_condition_has_plain_moto_outcome(
    sides: list[tuple[Any, str]], condition: str, names: dict[str, str], values: dict[str, Any]
) -> None:
    (plain, plain_table), (patched, patched_table) = sides
    expected = _condition_outcomes(plain, plain_table, condition, names, values)
    for _ in range(2):  # the second time from the remembered parse
        assert _condition_outcomes(patched, patched_table, condition, names, values) == expected
