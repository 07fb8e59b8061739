"""The projection patch: top-level names share the stored values; the rest is moto's."""

from __future__ import annotations

from moto.dynamodb.models.dynamo_type import DynamoType, Item

from local_stack import moto_patch
from local_stack.moto_patch import projection


def _item() -> Item:
    return Item(
        DynamoType({"S": "T#1"}),
        DynamoType({"S": "TICKET"}),
        {
            "pk": {"S": "T#1"},
            "sk": {"S": "TICKET"},
            "title": {"S": "Refund"},
            "version": {"N": "3"},
            "verified": {"BOOL": True},
            "gone": {"NULL": True},
            "odd": {"N": "1e2"},
            "meta": {"M": {"a": {"S": "x"}}},
        },
    )


def test_top_level_names_share_the_stored_values_in_the_order_asked() -> None:
    item = _item()
    with moto_patch.active():
        projected = projection._project(
            item, [["version"], ["title"], ["absent"], ["verified"], ["gone"]]
        )
    assert list(projected.attrs) == ["version", "title", "verified", "gone"]
    assert all(projected.attrs[name] is item.attrs[name] for name in projected.attrs)
    assert projected.hash_key is item.hash_key and projected.range_key is item.range_key


def test_other_projections_are_motos_own() -> None:
    item = _item()
    cases = (
        [["odd"], ["title"]],  # a number moto writes back in another form
        [["meta"]],  # a map
        [["meta", "a"]],  # a nested path
        [["title"]],
    )
    for paths in cases:
        with moto_patch.active():
            patched = projection._project(item, paths)
        plain = projection._original_project(item, paths)
        assert patched.attrs == plain.attrs, paths
        assert {n: v.value for n, v in patched.attrs.items()} == {
            n: v.value for n, v in plain.attrs.items()
        }, paths
    with moto_patch.active():
        assert projection._project(item, [["odd"]]).attrs["odd"].value == "1E+2"
