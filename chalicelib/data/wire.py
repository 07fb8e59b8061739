"""DynamoDB responses parsed at the cost of their JSON.

botocore parses a JSON response by walking its shape: for every attribute value of every
item it visits each of the ``AttributeValue`` structure's ten members (``S``, ``N``, ...,
``BOOL``) and looks each up, and it parses every attribute name through the map's key
shape. A page of 26 tickets of 28 attributes took about 4 ms to parse that way, in the
Lambda as in the local stack. On the wire an attribute value already is the parsed
value (``{"S": "x"}``, ``{"M": {...}}``), so :class:`DynamoDBJSONParser` takes it as it
is, checking its form as it goes; binary values (``B``, ``BS``, which botocore decodes
from base64), unknown members and anything malformed go through botocore's own code,
so the result is botocore's, value for value (tests/unit/test_wire.py compares them on
generated values).

:func:`use_fast_parser` registers it on a botocore session before its client is built
(botocore's documented ``response_parser_factory`` component); it only changes the
parser of the ``json`` protocol, which is DynamoDB's.
"""

from __future__ import annotations

from typing import Any

import botocore.session
from botocore.parsers import JSONParser, ResponseParserFactory

# The type of each scalar member's value on the wire.
_SCALARS = {"S": str, "N": str, "BOOL": bool, "NULL": bool}
_STRING_SETS = frozenset({"SS", "NS"})


class _Unusual(Exception):
    """A value botocore's own parser should handle."""


def _attribute_value(value: Any) -> dict[str, Any]:
    if type(value) is not dict or len(value) != 1:
        raise _Unusual
    ((kind, inner),) = value.items()
    scalar = _SCALARS.get(kind)
    if scalar is not None:
        if type(inner) is not scalar:
            raise _Unusual
        return {kind: inner}
    if kind == "M":
        if type(inner) is not dict:
            raise _Unusual
        return {kind: _attribute_map(inner)}
    if kind == "L":
        if type(inner) is not list:
            raise _Unusual
        return {kind: [_attribute_value(item) for item in inner]}
    if kind in _STRING_SETS:
        if type(inner) is not list or any(type(item) is not str for item in inner):
            raise _Unusual
        return {kind: list(inner)}
    raise _Unusual


def _attribute_map(value: dict[Any, Any]) -> dict[str, Any]:
    result = {}
    for name, item in value.items():
        if type(name) is not str:
            raise _Unusual
        result[name] = _attribute_value(item)
    return result


class DynamoDBJSONParser(JSONParser):  # type: ignore[misc]
    """botocore's JSON parser, with attribute values and attribute maps read directly."""

    def _handle_structure(self, shape: Any, value: Any) -> Any:
        if shape.name == "AttributeValue":
            try:
                return _attribute_value(value)
            except _Unusual:
                pass
        return super()._handle_structure(shape, value)

    def _handle_map(self, shape: Any, value: Any) -> Any:
        if shape.value.name == "AttributeValue" and type(value) is dict:
            try:
                return _attribute_map(value)
            except _Unusual:
                pass
        return super()._handle_map(shape, value)


class _ParserFactory(ResponseParserFactory):  # type: ignore[misc]
    def create_parser(self, protocol_name: str) -> Any:
        if protocol_name == "json":
            return DynamoDBJSONParser(**self._defaults)
        return super().create_parser(protocol_name)


def use_fast_parser(session: botocore.session.Session) -> None:
    """Make the clients ``session`` builds from now on parse DynamoDB JSON directly."""
    session.register_component("response_parser_factory", _ParserFactory())
