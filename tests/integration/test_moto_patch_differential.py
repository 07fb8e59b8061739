"""Plain moto and the patched moto, side by side: the same writes, the same answers.

Hypothesis applies random sequences of writes (puts, conditional updates that move
items between index partitions or out of sparse indexes, deletes, batch writes,
transactions that fail half-way) to two tables, one through a plain moto server and one
through the patched server, then compares every answer: each write's outcome, every
index and base-table query (both directions, every kind of key condition, limits,
pagination, filters, projections of every kind of value, Select COUNT) and the stream records.

The one deliberate difference: plain moto records an upsert through UpdateItem as two
INSERT records (the bare key, then the item); the patch records one, as DynamoDB does.
The plain stream is normalised for that before the comparison.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from local_stack.moto_server import MotoServer

PKS = ("a", "b", "c")
SKS = ("1", "2", "3", "10", "k")
G1_PARTITIONS = ("x", "y")
G1_SORTS = ("k1", "k2", "k10", "l", "k1")  # ties on purpose: the table keys break them
G2_NUMBERS = ("-1", "0", "1", "2.5", "10", "1.0")
G3_PARTITIONS = ("p", "q")
PROJECTED_NUMBERS = ("1e2", "0.50", "3", "-0", "1.0")

INDEXES = {
    "gsi1": ("g1pk", "g1sk", "S"),
    "gsi2": ("g2pk", "g2n", "N"),
    "gsi3": ("g3pk", None, None),
}


@dataclass
class Side:
    """One table on one server."""

    name: str
    client: Any
    streams: Any


def _clients(url: str) -> tuple[Any, Any]:
    kwargs = {"endpoint_url": url, "region_name": "us-east-1"}
    return boto3.client("dynamodb", **kwargs), boto3.client("dynamodbstreams", **kwargs)


@pytest.fixture(scope="module")
def servers(moto_server: MotoServer, plain_moto_server: MotoServer) -> Iterator[tuple[Any, Any]]:
    assert moto_server.patched and not plain_moto_server.patched
    yield _clients(plain_moto_server.url), _clients(moto_server.url)


def _create_table(client: Any, name: str) -> None:
    definitions = [("pk", "S"), ("sk", "S"), ("g1pk", "S"), ("g1sk", "S")]
    definitions += [("g2pk", "S"), ("g2n", "N"), ("g3pk", "S")]
    indexes = []
    for index, (hash_attr, range_attr, _) in INDEXES.items():
        schema = [{"AttributeName": hash_attr, "KeyType": "HASH"}]
        if range_attr:
            schema.append({"AttributeName": range_attr, "KeyType": "RANGE"})
        indexes.append(
            {"IndexName": index, "KeySchema": schema, "Projection": {"ProjectionType": "ALL"}}
        )
    client.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": t} for n, t in definitions],
        GlobalSecondaryIndexes=indexes,
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )


# --- the writes -----------------------------------------------------------------------

keys = st.tuples(st.sampled_from(PKS), st.sampled_from(SKS))
maybe = st.one_of(st.none(), st.just("absent"))


@st.composite
def index_attributes(draw: st.DrawFn) -> dict[str, Any]:
    attrs: dict[str, Any] = {"body": {"S": draw(st.sampled_from(["short", "x" * 300]))}}
    if draw(st.booleans()):
        attrs["g1pk"] = {"S": draw(st.sampled_from(G1_PARTITIONS))}
    if draw(st.booleans()):
        attrs["g1sk"] = {"S": draw(st.sampled_from(G1_SORTS))}
    if draw(st.booleans()):
        attrs["g2pk"] = {"S": "n"}
        attrs["g2n"] = {"N": draw(st.sampled_from(G2_NUMBERS))}
    if draw(st.booleans()):
        attrs["g3pk"] = {"S": draw(st.sampled_from(G3_PARTITIONS))}
    attrs["v"] = {"N": str(draw(st.integers(0, 2)))}
    if draw(st.booleans()):
        # Values a projection may not simply share: a number in a form that is not
        # canonical (moto writes "1e2" back as "1E+2"), a map, a set, a boolean.
        attrs["w"] = {"N": draw(st.sampled_from(PROJECTED_NUMBERS))}
        attrs["flag"] = {"BOOL": draw(st.booleans())}
        attrs["meta"] = {"M": {"s": {"S": "x"}, "n": {"N": "1e2"}}}
        attrs["tags"] = {"SS": ["b", "a"]}
    if draw(st.booleans()):
        # A list of maps, as a history entry's changes (the patch keeps such items packed).
        attrs["changes"] = {
            "L": [
                {"M": {"field": {"S": "status"}, "old": {"NULL": True}, "new": {"S": "open"}}},
                {"M": {"n": {"N": "2.50"}, "b": {"B": b"\x00\xff"}, "ns": {"NS": ["1", "2"]}}},
            ]
        }
    return attrs


def _key(key: tuple[str, str]) -> dict[str, Any]:
    return {"pk": {"S": key[0]}, "sk": {"S": key[1]}}


@st.composite
def stored_item(draw: st.DrawFn, key: tuple[str, str]) -> dict[str, Any]:
    """An item to put: often with attributes, sometimes its keys alone (stored compactly
    by the patch, as search postings are), in either attribute order."""
    shape = draw(st.sampled_from(["attributes", "attributes", "keys", "keys, sk first"]))
    if shape == "keys":
        return _key(key)
    if shape == "keys, sk first":
        return {"sk": {"S": key[1]}, "pk": {"S": key[0]}}
    return {**_key(key), **draw(index_attributes())}


@st.composite
def put_op(draw: st.DrawFn, key: tuple[str, str] | None = None) -> dict[str, Any]:
    key = key or draw(keys)
    op: dict[str, Any] = {"Item": draw(stored_item(key))}
    condition = draw(st.sampled_from([None, "attribute_not_exists(pk)", "v = :v"]))
    if condition:
        op["ConditionExpression"] = condition
        if ":v" in condition:
            op["ExpressionAttributeValues"] = {":v": {"N": str(draw(st.integers(0, 2)))}}
    return {"Put": op}


@st.composite
def update_op(draw: st.DrawFn, key: tuple[str, str] | None = None) -> dict[str, Any]:
    key = key or draw(keys)
    sets: list[str] = ["v = :v"]
    removes: list[str] = []
    values: dict[str, Any] = {":v": {"N": str(draw(st.integers(0, 2)))}}
    for attribute, choices, kind in (
        ("g1pk", G1_PARTITIONS, "S"),
        ("g1sk", G1_SORTS, "S"),
        ("g2n", G2_NUMBERS, "N"),
        ("g3pk", G3_PARTITIONS, "S"),
    ):
        action = draw(st.sampled_from(["keep", "set", "remove"]))
        if action == "set":
            sets.append(f"{attribute} = :{attribute}")
            values[f":{attribute}"] = {kind: draw(st.sampled_from(choices))}
        elif action == "remove":
            removes.append(attribute)
    nested = draw(st.sampled_from(["keep", "keep", "set", "append", "remove"]))
    if nested == "set":  # changes a packed item's map in place (an error without one)
        sets.append("meta.s = :ms")
        values[":ms"] = {"S": draw(st.sampled_from(["y", "z"]))}
    elif nested == "append":
        sets.append("changes = list_append(changes, :more)")
        values[":more"] = {"L": [{"M": {"field": {"S": "priority"}}}]}
    elif nested == "remove":
        removes.append("changes")
    if any(s.startswith("g2n") for s in sets):
        sets.append("g2pk = :g2pk")
        values[":g2pk"] = {"S": "n"}
    expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
    # Sometimes an expression DynamoDB refuses: the same error is expected from both.
    refused = draw(st.sampled_from([None, None, None, "overlap", "two clauses"]))
    if refused == "overlap":
        expression += ", v = :v" if not removes else ", v"
    elif refused == "two clauses":
        expression += " SET body = :v"
    op: dict[str, Any] = {
        "Key": _key(key),
        "UpdateExpression": expression,
        "ExpressionAttributeValues": values,
    }
    condition = draw(st.sampled_from([None, "attribute_exists(pk)", "v = :old"]))
    if condition:
        op["ConditionExpression"] = condition
        if ":old" in condition:
            values[":old"] = {"N": str(draw(st.integers(0, 2)))}
    return {"Update": op}


@st.composite
def delete_op(draw: st.DrawFn, key: tuple[str, str] | None = None) -> dict[str, Any]:
    key = key or draw(keys)
    op: dict[str, Any] = {"Key": _key(key)}
    if draw(st.booleans()):
        op["ConditionExpression"] = "attribute_exists(pk)"
    return {"Delete": op}


@st.composite
def check_op(draw: st.DrawFn, key: tuple[str, str]) -> dict[str, Any]:
    condition = draw(st.sampled_from(["attribute_exists(pk)", "attribute_not_exists(pk)"]))
    return {"ConditionCheck": {"Key": _key(key), "ConditionExpression": condition}}


@st.composite
def transaction(draw: st.DrawFn) -> dict[str, Any]:
    chosen = draw(st.lists(keys, min_size=1, max_size=4, unique=True))
    ops = []
    for key in chosen:
        kind = draw(st.sampled_from([put_op, update_op, delete_op, check_op]))
        ops.append(draw(kind(key)))
    return {"Transact": ops}


@st.composite
def batch(draw: st.DrawFn) -> dict[str, Any]:
    chosen = draw(st.lists(keys, min_size=1, max_size=4, unique=True))
    requests = []
    for key in chosen:
        if draw(st.booleans()):
            requests.append({"PutRequest": {"Item": draw(stored_item(key))}})
        else:
            requests.append({"DeleteRequest": {"Key": _key(key)}})
    return {"Batch": requests}


writes = st.lists(
    st.one_of(put_op(), update_op(), delete_op(), transaction(), batch()),
    min_size=1,
    max_size=25,
)


def _apply(side: Side, write: dict[str, Any]) -> Any:
    """The outcome of one write: what came back, or the error code and reasons."""
    client = side.client
    try:
        if "Transact" in write:
            items = []
            for op in write["Transact"]:
                ((kind, body),) = op.items()
                items.append({kind: {**body, "TableName": side.name}})
            client.transact_write_items(TransactItems=items)
        elif "Batch" in write:
            client.batch_write_item(RequestItems={side.name: write["Batch"]})
        else:
            ((kind, body),) = write.items()
            call = {"Put": client.put_item, "Update": client.update_item}.get(
                kind, client.delete_item
            )
            call(TableName=side.name, **body)
    except ClientError as error:
        reasons = [r.get("Code") for r in error.response.get("CancellationReasons", [])]
        return error.response["Error"]["Code"], error.response["Error"]["Message"], reasons
    return "ok"


# --- the reads ------------------------------------------------------------------------


def _conditions() -> list[tuple[str, str | None, dict[str, Any]]]:
    """(index, key condition on the sort key, values) for every index and the table."""
    cases: list[tuple[str, str | None, dict[str, Any]]] = []
    for index, (_, range_attr, kind) in INDEXES.items():
        cases.append((index, None, {}))
        if range_attr is None:
            continue
        samples = G1_SORTS if kind == "S" else G2_NUMBERS
        low, high = samples[0], samples[2]
        for operator in ("=", "<", "<=", ">", ">="):
            cases.append((index, f"{range_attr} {operator} :a", {":a": {kind: low}}))
        cases.append(
            (index, f"{range_attr} BETWEEN :a AND :b", {":a": {kind: low}, ":b": {kind: high}})
        )
        if kind == "S":
            cases.append((index, f"begins_with({range_attr}, :a)", {":a": {"S": "k1"}}))
    cases.append(("", None, {}))
    cases.append(("", "sk BETWEEN :a AND :b", {":a": {"S": "1"}, ":b": {"S": "3"}}))
    cases.append(("", "sk < :a", {":a": {"S": "2"}}))
    cases.append(("", "begins_with(sk, :a)", {":a": {"S": "1"}}))
    return cases


def _partitions(index: str) -> list[tuple[str, str]]:
    if index == "":
        return [("pk", value) for value in PKS]
    hash_attr = INDEXES[index][0]
    values = {"gsi1": G1_PARTITIONS, "gsi2": ("n",), "gsi3": G3_PARTITIONS}[index]
    return [(hash_attr, value) for value in values]


def _all_pages(side: Side, request: dict[str, Any]) -> list[Any]:
    pages = []
    while True:
        response = side.client.query(TableName=side.name, **request)
        response.pop("ResponseMetadata", None)
        pages.append(response)
        if "LastEvaluatedKey" not in response or len(pages) > 50:
            return pages
        request = {**request, "ExclusiveStartKey": response["LastEvaluatedKey"]}


def _queries(variant: int) -> Iterator[dict[str, Any]]:
    extras: list[dict[str, Any]] = [
        {},
        {"Limit": 1},
        {"Limit": 2},
        {"Limit": 3, "FilterExpression": "v = :f", "ExpressionAttributeValues": {":f": {"N": "1"}}},
        {"Limit": 2, "ProjectionExpression": "pk, sk, v"},
        {"ProjectionExpression": "w, body, nothere, sk, flag"},
        {"Limit": 3, "ProjectionExpression": "v, meta, tags, pk"},
        {"ProjectionExpression": "meta.s, #n, sk", "ExpressionAttributeNames": {"#n": "g2n"}},
        {"Select": "COUNT"},
    ]
    for index, condition, values in _conditions():
        for hash_attr, hash_value in _partitions(index):
            for forward in (True, False):
                extra = extras[variant % len(extras)]
                variant += 1
                expression = f"{hash_attr} = :h" + (f" AND {condition}" if condition else "")
                request: dict[str, Any] = {
                    "KeyConditionExpression": expression,
                    "ScanIndexForward": forward,
                    **extra,
                    "ExpressionAttributeValues": {
                        ":h": {"S": hash_value},
                        **values,
                        **extra.get("ExpressionAttributeValues", {}),
                    },
                }
                if index:
                    request["IndexName"] = index
                yield request


def _stream(side: Side) -> list[tuple[Any, ...]]:
    arn = side.client.describe_table(TableName=side.name)["Table"]["LatestStreamArn"]
    shard = side.streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
    iterator = side.streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records = side.streams.get_records(ShardIterator=iterator, Limit=1000)["Records"]
    numbers = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert numbers == sorted(set(numbers)), "sequence numbers must increase"
    return [
        (
            r["eventName"],
            r["dynamodb"]["Keys"],
            r["dynamodb"].get("OldImage"),
            r["dynamodb"].get("NewImage"),
        )
        for r in records
    ]


def _without_bare_key_inserts(records: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Plain moto's upsert: an INSERT of the bare key, then an INSERT of the item."""
    kept = []
    for position, record in enumerate(records):
        following = records[position + 1] if position + 1 < len(records) else None
        bare_insert = record[0] == "INSERT" and record[3] == record[1]
        if bare_insert and following and following[0] == "INSERT" and following[1] == record[1]:
            continue
        kept.append(record)
    return kept


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(writes=writes, variant=st.integers(0, 8))
def test_patched_moto_answers_as_plain_moto(
    servers: tuple[Any, Any], writes: list[dict[str, Any]], variant: int
) -> None:
    # Given one table on plain moto and one on the patched server
    suffix = uuid.uuid4().hex[:8]
    (plain_client, plain_streams), (patched_client, patched_streams) = servers
    plain = Side(f"diff-plain-{suffix}", plain_client, plain_streams)
    patched = Side(f"diff-patched-{suffix}", patched_client, patched_streams)
    for side in (plain, patched):
        _create_table(side.client, side.name)
        # The patch builds its structures on the first query: build them before the
        # writes, so the writes are what keeps them up to date.
        side.client.query(
            TableName=side.name,
            IndexName="gsi1",
            KeyConditionExpression="g1pk = :h",
            ExpressionAttributeValues={":h": {"S": "x"}},
        )
        side.client.query(
            TableName=side.name,
            IndexName="gsi2",
            KeyConditionExpression="g2pk = :h",
            ExpressionAttributeValues={":h": {"S": "n"}},
        )
        side.client.query(
            TableName=side.name,
            KeyConditionExpression="pk = :h",
            ExpressionAttributeValues={":h": {"S": "a"}},
        )

    # When both receive the same writes
    for write in writes:
        # Then each write has the same outcome
        assert _apply(patched, write) == _apply(plain, write), write

    # And every query answers the same, page by page
    for request in _queries(variant):
        assert _all_pages(patched, request) == _all_pages(plain, request), request

    # And the stream holds one record per written item, rolled-back transactions none
    assert _stream(patched) == _without_bare_key_inserts(_stream(plain))

    for side in (plain, patched):
        side.client.delete_table(TableName=side.name)


def _outcome(call: Any, **kwargs: Any) -> str:
    try:
        call(**kwargs)
    except ClientError as error:
        return f"{error.response['Error']['Code']}: {error.response['Error']['Message']}"
    return "ok"


# Attribute values of every kind, and a name that is not ASCII: what the limit measures.
_EVERY_KIND = {
    "n": {"N": "12345"},
    "l": {"L": [{"S": "ab"}, {"N": "1"}]},
    "m": {"M": {"k": {"S": "v"}}},
    "t": {"BOOL": True},
    "z": {"NULL": True},
    "ss": {"SS": ["a", "bc"]},
    "ns": {"NS": ["1", "22"]},
    "bin": {"B": b"\x00\x01"},
    "\N{LATIN SMALL LETTER E WITH ACUTE}": {"S": "\N{LATIN SMALL LETTER U WITH DIAERESIS}"},
}
_LIMIT = 405_000  # moto's, on the names and values of an item


def _moto_size(attrs: dict[str, Any]) -> int:
    """The size moto gives these attributes, by moto's own code (``Item.size()``)."""
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.utilities import bytesize

    return sum(bytesize(name) + DynamoType(value).size() for name, value in attrs.items())


def _text(size: int, character: str) -> str:
    """A string of exactly ``size`` UTF-8 bytes, mostly ``character``."""
    width = len(character.encode("utf-8"))
    return character * (size // width) + "z" * (size % width)


@pytest.mark.parametrize("character", ["x", "\N{EURO SIGN}"], ids=["ascii", "3-byte"])
def test_the_item_size_limit_is_the_same_to_the_byte_on_every_write(
    servers: tuple[Any, Any], character: str
) -> None:
    """moto refuses an item over its limit on a put, and on each SET of an update it
    measures the item as it is plus the name and value set (an overwritten value counts
    twice); the patch measures more quickly, with the same outcome at the very byte."""
    suffix = uuid.uuid4().hex[:8]
    (plain_client, _), (patched_client, _) = servers
    key = {"pk": {"S": "a"}, "sk": {"S": "1"}}
    fixed = {**key, **_EVERY_KIND}
    base = _moto_size(fixed) + len("f")
    outcomes: dict[str, list[str]] = {}
    for label, client in (("plain", plain_client), ("patched", patched_client)):
        name = f"size-{label}-{suffix}"
        _create_table(client, name)
        results = outcomes.setdefault(label, [])

        def put(size: int, client: Any = client, name: str = name) -> str:
            item = {**fixed, "f": {"S": _text(size - base, character)}}
            return _outcome(client.put_item, TableName=name, Item=item)

        def update(expression: str, value: str, client: Any = client, name: str = name) -> str:
            return _outcome(
                client.update_item,
                TableName=name,
                Key=key,
                UpdateExpression=expression,
                ExpressionAttributeValues={":v": {"S": value}},
            )

        results += [put(_LIMIT), put(_LIMIT + 1), put(_LIMIT - 1_000)]
        # a new attribute that brings the item to the limit exactly, then one byte over
        results.append(update("SET g = :v", _text(_LIMIT - (_LIMIT - 1_000) - 1 - 1, character)))
        results.append(update("SET h = :v", "y"))
        # an overwrite of one byte, counted beside the value it replaces: refused
        results.append(update("SET g = :v", "y"))
        stored = client.get_item(TableName=name, Key=key, ConsistentRead=True)["Item"]
        results.append(str(sorted((k, len(str(v))) for k, v in stored.items())))
        client.delete_table(TableName=name)
    assert outcomes["patched"] == outcomes["plain"]
    # (the cases land where they should: at the limit, one byte over, one byte over again)
    assert outcomes["plain"][:4] == ["ok", outcomes["plain"][1], "ok", "ok"]
    assert outcomes["plain"][1] != "ok" and outcomes["plain"][4] != "ok"
    assert outcomes["plain"][5] != "ok"


def _every_page(client: Any, name: str, forward: bool) -> list[Any]:
    """Every page of the big partition, on the table and on an index."""
    answers = []
    for index in (None, "gsi1"):
        request: dict[str, Any] = {
            "TableName": name,
            "KeyConditionExpression": "g1pk = :h" if index else "pk = :h",
            "ExpressionAttributeValues": {":h": {"S": "x" if index else "a"}},
            "ScanIndexForward": forward,
            "Limit": 100,
            "ProjectionExpression": "pk, sk",
        }
        if index:
            request["IndexName"] = index
        while True:
            page = client.query(**request)
            answers.append(
                (page["Count"], page["ScannedCount"], page["Items"], page.get("LastEvaluatedKey"))
            )
            if "LastEvaluatedKey" not in page:
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return answers


def _resize_every_way(client: Any, name: str) -> None:
    """Change the size of measured items through every write path: a top-level SET, a
    nested SET and a list_append (both change the stored item in place), a REMOVE, a
    PutItem over an item, a DeleteItem, and a transaction that grows two items and is
    cancelled (its rollback restores their size)."""

    def key(n: int) -> dict[str, Any]:
        return {"pk": {"S": "a"}, "sk": {"S": f"{n:03d}"}}

    def update(n: int, expression: str, values: dict[str, Any] | None = None) -> None:
        extra = {"ExpressionAttributeValues": values} if values else {}
        client.update_item(TableName=name, Key=key(n), UpdateExpression=expression, **extra)

    update(1, "SET body = :b", {":b": {"S": _text(90_000, "x")}})
    update(2, "SET nest.deep = :b", {":b": {"S": _text(80_000, "\N{EURO SIGN}")}})
    update(3, "SET parts = list_append(parts, :l)", {":l": {"L": [{"S": _text(60_000, "y")}]}})
    update(4, "REMOVE body")
    client.put_item(
        TableName=name,
        Item={**key(5), "g1pk": {"S": "x"}, "g1sk": {"S": "k5"}, "body": {"S": "small"}},
    )
    client.delete_item(TableName=name, Key=key(6))
    grow = {"S": _text(120_000, "z")}
    with pytest.raises(client.exceptions.TransactionCanceledException):
        client.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": name,
                        "Key": key(n),
                        "UpdateExpression": "SET body = :b",
                        "ExpressionAttributeValues": {":b": grow},
                    }
                }
                for n in (7, 8)
            ]
            + [
                {
                    "ConditionCheck": {
                        "TableName": name,
                        "Key": key(9),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            ]
        )


@pytest.mark.parametrize("forward", [True, False], ids=["forward", "backward"])
def test_a_query_page_ends_at_1_mb_as_plain_moto_ends_it(
    servers: tuple[Any, Any], forward: bool
) -> None:
    """Pages of large items end at moto's 1 MB (each item measured whole, before any
    projection), with the same items, counts and LastEvaluatedKey, on the table and on
    an index; and again after items that were measured have changed size (the patched
    side remembers sizes until an item is written)."""
    suffix = uuid.uuid4().hex[:8]
    (plain_client, _), (patched_client, _) = servers
    pages: dict[str, list[Any]] = {}
    for label, client in (("plain", plain_client), ("patched", patched_client)):
        name = f"page-{label}-{suffix}"
        _create_table(client, name)
        for n in range(45):  # 45 items of 27 to 31 KB: about 1.3 MB in one partition
            body = _text(27_000 + 97 * n, "\N{EURO SIGN}" if n % 3 else "x")
            client.put_item(
                TableName=name,
                Item={
                    "pk": {"S": "a"},
                    "sk": {"S": f"{n:03d}"},
                    "g1pk": {"S": "x"},
                    "g1sk": {"S": f"k{n % 7}"},
                    "body": {"S": body},
                    "nest": {"M": {"deep": {"S": "-"}}},
                    "parts": {"L": []},
                },
            )
        before = _every_page(client, name, forward)
        _resize_every_way(client, name)
        pages[label] = [before, _every_page(client, name, forward)]
        client.delete_table(TableName=name)
    assert pages["patched"] == pages["plain"]
    # The items do not fit in one page: each query took more than one. The writes moved
    # the page boundaries (the sizes the patched side remembered would not have).
    before, after = pages["plain"]
    assert len(before) >= 4 and all(count < 45 for count, *_ in before)
    assert [count for count, *_ in after] != [count for count, *_ in before]
