"""Attribute values straight to JSON: the response costs what it holds, quickly.

moto 5.2.5 serialises every response through a generic, model-driven serializer. For a
DynamoDB ``AttributeValue`` it visits each of the shape's ten members (``S``, ``N``, ...
``BOOL``) and looks each up under several aliases, for every attribute of every item:
about 0.2 ms per attribute, so a page of 50 tickets took some 300 ms to serialise, and a
list cost 20 times a single read. The wire format of an attribute value is the value
itself (``{"S": "x"}``, ``{"M": {...}}``), which this module writes directly.

The output is the serializer's, value for value (tests/unit/test_moto_patch_serialize.py
compares the two on generated values); binary values (``B``, ``BS``) and anything
unexpected still go through moto's own code. Every response also skips moto's search
for an XML request id when the body holds none.
"""

from __future__ import annotations

from typing import Any

import moto.dynamodb.responses
from moto.core.responses import BaseResponse
from moto.core.serialize import BaseJSONSerializer
from moto.dynamodb.models.dynamo_type import DynamoType, LimitedSizeDict
from moto.dynamodb.models.utilities import dynamo_to_dict

from local_stack.moto_patch import is_active

_original_enrich = BaseResponse._enrich_response
_original_structure = BaseJSONSerializer._serialize_type_structure
_original_map = BaseJSONSerializer._serialize_type_map
_DICTS = (dict, LimitedSizeDict)
_PLAIN = (str, int, float, bool, type(None))
_STRINGS = frozenset({"S", "N"})
_STRING_SETS = frozenset({"SS", "NS"})
_FLAGS = frozenset({"NULL", "BOOL"})


class _Unexpected(Exception):
    """A value this module does not write itself."""


def _string(value: Any) -> Any:
    # moto's _serialize_type_string, for the values an attribute can hold.
    if value is None or isinstance(value, (dict, list)):
        raise _Unexpected
    return value if type(value) is str else str(value)


def attribute_value_json(value: Any) -> dict[str, Any]:
    """The JSON of one attribute value given as ``{type: value}``; _Unexpected otherwise."""
    if type(value) is not dict or len(value) != 1:
        raise _Unexpected
    ((kind, inner),) = value.items()
    if kind in _STRINGS:
        return {kind: _string(inner)}
    if kind == "M" and type(inner) is dict:
        if "" in inner:
            raise _Unexpected  # moto's serializer mistakes an empty name for no name
        return {kind: {name: attribute_value_json(item) for name, item in inner.items()}}
    if kind == "L" and type(inner) is list:
        return {kind: [attribute_value_json(item) for item in inner]}
    if kind in _STRING_SETS and type(inner) is list:
        return {kind: [_string(item) for item in inner]}
    if kind in _FLAGS and type(inner) is bool:
        return {kind: inner}
    raise _Unexpected


def _serialize_type_structure(
    self: BaseJSONSerializer, serialized: Any, value: Any, shape: Any, key: str
) -> None:
    if (
        key
        and is_active()
        and shape.name == "AttributeValue"
        and self.operation_model.service_model.service_name in {"dynamodb", "dynamodbstreams"}
    ):
        try:
            serialized[self.get_serialized_name(shape, key)] = attribute_value_json(value)
            return
        except _Unexpected:
            pass
    _original_structure(self, serialized, value, shape, key)


def _serialize_type_map(
    self: BaseJSONSerializer, serialized: Any, value: Any, shape: Any, key: str
) -> None:
    # A whole item (an AttributeMap) at once, rather than attribute by attribute.
    if (
        key
        and is_active()
        and shape.name == "AttributeMap"
        and type(value) is dict
        and "" not in value
        and self.operation_model.service_model.service_name in {"dynamodb", "dynamodbstreams"}
    ):
        try:
            item = {name: attribute_value_json(attribute) for name, attribute in value.items()}
        except _Unexpected:
            pass
        else:
            serialized[self.get_serialized_name(shape, key)] = item
            return
    _original_map(self, serialized, value, shape, key)


def _to_dict(obj: Any) -> Any:
    """moto's ``dynamo_to_dict`` with short cuts for what responses mostly hold."""
    kind = type(obj)
    if kind is DynamoType:
        value = obj.value
        if type(value) is str and obj.type in {"S", "N"}:
            return {obj.type: value}
        return dynamo_to_dict(obj)
    if kind in _DICTS:
        return {name: _to_dict(inner) for name, inner in obj.items()}
    if kind is list:
        return [_to_dict(inner) for inner in obj]
    if kind in _PLAIN:
        return obj
    return dynamo_to_dict(obj)


def _dynamo_to_dict(obj: Any) -> Any:
    return _to_dict(obj) if is_active() else dynamo_to_dict(obj)


def _enrich_response(headers: dict[str, str], body: Any) -> tuple[dict[str, str], Any]:
    """moto's, without its regex over a body that holds no ``<RequestId>`` to replace.

    moto runs a look-behind regex over every response body to put the request id into
    XML answers; on a JSON page of tickets it scans every character and finds nothing
    (0.45 ms for a page of 26 tickets). A body without the tag is left as it is, and the
    headers get moto's own treatment.
    """
    if is_active() and type(body) is str and "<RequestId>" not in body:
        headers, _ = _original_enrich(headers, "")
        return headers, body
    return _original_enrich(headers, body)


def install() -> None:
    """Serialise DynamoDB attribute values directly."""
    BaseResponse._enrich_response = staticmethod(_enrich_response)  # type: ignore[method-assign,assignment]
    BaseJSONSerializer._serialize_type_structure = _serialize_type_structure  # type: ignore[method-assign]
    BaseJSONSerializer._serialize_type_map = _serialize_type_map  # type: ignore[method-assign]
    moto.dynamodb.responses.dynamo_to_dict = _dynamo_to_dict  # type: ignore[attr-defined]
