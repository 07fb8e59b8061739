"""chalicelib.data.wire parses DynamoDB responses exactly as botocore's own parser does."""

from __future__ import annotations

import base64
import json
from typing import Any

import botocore.session
from botocore.parsers import JSONParser
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.data.wire import DynamoDBJSONParser

_MODEL = botocore.session.get_session().get_service_model("dynamodb")

names = st.text(min_size=0, max_size=6)
texts = st.text(max_size=8)
blobs = st.binary(max_size=8).map(lambda raw: base64.b64encode(raw).decode())
scalars = st.one_of(
    st.builds(lambda v: {"S": v}, texts),
    st.builds(lambda v: {"N": v}, st.sampled_from(["0", "-1", "2.50", "1e2", "12345678901234"])),
    st.builds(lambda v: {"BOOL": v}, st.booleans()),
    st.just({"NULL": True}),
    st.builds(lambda v: {"SS": v}, st.lists(texts, min_size=1, max_size=3)),
    st.builds(lambda v: {"NS": v}, st.lists(st.sampled_from(["1", "2.5"]), max_size=3)),
    st.builds(lambda v: {"B": v}, blobs),
    st.builds(lambda v: {"BS": v}, st.lists(blobs, max_size=2)),
    # Malformed or unknown forms: botocore decides what they become.
    st.just({"S": None}),
    st.just({"S": 5}),
    st.just({"BOOL": "true"}),
    st.just({"SS": ["a", 1]}),
    st.just({"X": "unknown member"}),
    st.just({"S": "two", "N": "members"}),
    st.just({}),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.builds(lambda v: {"M": v}, st.dictionaries(names, inner, max_size=3)),
        st.builds(lambda v: {"L": v}, st.lists(inner, max_size=3)),
    ),
    max_leaves=12,
)
items = st.dictionaries(names, values, max_size=6)


def _parse(parser: JSONParser, operation: str, body: dict[str, Any]) -> Any:
    response = {"status_code": 200, "headers": {}, "body": json.dumps(body).encode()}
    return parser.parse(response, _MODEL.operation_model(operation).output_shape)


@settings(max_examples=300, deadline=None)
@given(page=st.lists(items, max_size=4), single=items, key=items)
def test_the_fast_parser_gives_botocores_result(
    page: list[dict[str, Any]], single: dict[str, Any], key: dict[str, Any]
) -> None:
    # Given responses of the calls the app makes, with every kind of attribute value
    responses = {
        "Query": {"Items": page, "Count": len(page), "LastEvaluatedKey": key},
        "GetItem": {"Item": single},
        "BatchGetItem": {"Responses": {"t": page}, "UnprocessedKeys": {}},
        "UpdateItem": {"Attributes": single},
    }
    for operation, body in responses.items():
        # When both parsers read it
        expected = _parse(JSONParser(), operation, body)
        got = _parse(DynamoDBJSONParser(), operation, body)
        # Then they agree, value for value
        assert got == expected, operation


def test_the_fast_parser_reads_attribute_values_without_walking_their_shape() -> None:
    # Given a page of items of plain values
    page = [
        {"pk": {"S": f"T#{n}"}, "n": {"N": str(n)}, "m": {"M": {"a": {"BOOL": True}}}}
        for n in range(3)
    ]
    parser = DynamoDBJSONParser()
    walked: list[str] = []
    original = JSONParser._handle_structure

    def counting(self: Any, shape: Any, value: Any) -> Any:
        walked.append(shape.name)
        return original(self, shape, value)

    # When it parses them
    JSONParser._handle_structure = counting  # type: ignore[method-assign]
    try:
        parsed = _parse(parser, "Query", {"Items": page, "Count": 3})
    finally:
        JSONParser._handle_structure = original  # type: ignore[method-assign]

    # Then the values come out as sent, and no attribute value was walked by shape
    assert parsed["Items"] == page
    assert "AttributeValue" not in walked
