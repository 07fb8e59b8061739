"""The patch serialises, converts and measures DynamoDB items exactly as moto does."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from moto.core.serialize import JSONSerializer, XFormedAttributePicker
from moto.core.utils import get_service_model
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.utilities import dynamo_to_dict

from local_stack import moto_patch
from local_stack.moto_patch.memory import attrs_size
from local_stack.moto_patch.serialize import _dynamo_to_dict

moto_patch.install()

texts = st.text(max_size=8)
numbers = st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str)
scalars = st.one_of(
    st.builds(lambda v: {"S": v}, texts),
    st.builds(lambda v: {"N": v}, numbers),
    st.builds(lambda v: {"BOOL": v}, st.booleans()),
    st.just({"NULL": True}),
    st.builds(lambda v: {"SS": v}, st.lists(texts, min_size=1, max_size=3, unique=True)),
    st.builds(lambda v: {"NS": v}, st.lists(numbers, min_size=1, max_size=3, unique=True)),
    st.builds(lambda v: {"B": v}, st.binary(max_size=8)),
)
attribute_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.builds(lambda v: {"L": v}, st.lists(inner, max_size=3)),
        st.builds(lambda v: {"M": v}, st.dictionaries(texts, inner, max_size=3)),
    ),
    max_leaves=10,
)


def _body(operation: str, result: dict[str, Any], patched: bool) -> Any:
    model = get_service_model("dynamodb").operation_model(operation)
    serializer = JSONSerializer(
        operation_model=model, pretty_print=False, value_picker=XFormedAttributePicker()
    )
    if patched:
        with moto_patch.active():
            return json.loads(serializer.serialize(result)["body"])
    return json.loads(serializer.serialize(result)["body"])


@settings(max_examples=200, deadline=None)
@given(item=st.dictionaries(texts, attribute_values, max_size=5))
def test_items_serialise_as_moto_serialises_them(item: dict[str, Any]) -> None:
    # Given an item as moto's responses hand it to the serializer
    for operation, result in (
        ("GetItem", {"Item": item}),
        ("Query", {"Items": [item, item], "Count": 2, "ScannedCount": 2}),
    ):
        # Then the patched serializer writes what moto's own writes
        assert _body(operation, result, patched=True) == _body(operation, result, patched=False)


def test_unexpected_values_are_left_to_moto() -> None:
    # Given values moto's serializer has its own answers for
    item = {"a": {"S": None}, "b": {"L": [None]}, "c": {"M": {"x": {"BOOL": "yes"}}}}
    # Then the patch gives the same answer (it hands them back to moto)
    assert _body("GetItem", {"Item": item}, True) == _body("GetItem", {"Item": item}, False)


@settings(max_examples=200, deadline=None)
@given(item=st.dictionaries(texts, attribute_values, max_size=5))
def test_items_convert_to_plain_values_as_moto_converts_them(item: dict[str, Any]) -> None:
    # Given an item as moto stores it (attribute values as DynamoType trees)
    stored = Item(DynamoType({"S": "h"}), None, item)
    response = {"Items": [stored.attrs], "Count": 1}
    # Then the patch's conversion gives what moto's dynamo_to_dict gives
    with moto_patch.active():
        converted = _dynamo_to_dict(response)
    assert converted == dynamo_to_dict(response)


@settings(max_examples=200, deadline=None)
@given(item=st.dictionaries(texts, attribute_values, max_size=5))
def test_the_page_size_of_an_item_is_moto_item_size(item: dict[str, Any]) -> None:
    # Given an item as moto stores it; then the patch measures it as moto does (1 MB pages)
    stored = Item(DynamoType({"S": "h"}), None, item)
    assert attrs_size(stored.attrs) == stored.size()


def test_responses_skip_only_a_request_id_search_that_finds_nothing() -> None:
    from local_stack.moto_patch.serialize import _enrich_response, _original_enrich

    bodies = [
        json.dumps({"Items": [{"pk": {"S": "TICKET#1"}}], "Count": 1}),
        "<Response><RequestId>old</RequestId></Response>",
        json.dumps({"Message": "<RequestId>x</RequestId> in a JSON string"}),
        b"<RequestId>bytes</RequestId>",
        "",
    ]
    for body in bodies:
        # Given moto's answer, and the patched one, for the same response
        plain_headers: dict[str, Any] = {"status": 200}
        plain_headers, plain_body = _original_enrich(plain_headers, body)
        with moto_patch.active():
            headers, patched_body = _enrich_response({"status": 200}, body)
        # Then the headers are treated alike (status as text, a new request id)
        assert headers.keys() == plain_headers.keys() == {"status", "x-amzn-requestid"}
        assert headers["status"] == plain_headers["status"] == "200"
        # And the body is moto's, with this response's own request id where XML holds one
        assert patched_body == (
            plain_body.replace(plain_headers["x-amzn-requestid"], headers["x-amzn-requestid"])
            if isinstance(plain_body, str)
            else plain_body
        )
        if isinstance(body, str) and "<RequestId>" in body:
            assert f"<RequestId>{headers['x-amzn-requestid']}</RequestId>" in patched_body
        else:
            assert patched_body is body
