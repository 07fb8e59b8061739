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


def test_an_expression_is_parsed_once_and_each_request_gets_its_own_paths() -> None:
    import pytest
    from moto.dynamodb.exceptions import InvalidProjectionExpression
    from moto.dynamodb.responses import ProjectionExpressionParser

    def parse(expression: str, names: dict[str, str], patched: bool) -> tuple[object, object]:
        parser = ProjectionExpressionParser(expression, names)
        if patched:
            with moto_patch.active():
                paths = parser.parse()
        else:
            paths = parser.parse()
        return paths, parser.expr_attr_names_found

    projection.install()
    cases = [
        ("title, #v, meta.a, #m.#a[0]", {"#v": "version", "#m": "meta", "#a": "list", "#x": "y"}),
        ("pk,sk", {}),
        ("#n", {"#n": "name"}),
    ]
    for expression, names in cases:
        # The first answer is moto's, and so is the one remembered
        first = parse(expression, names, patched=True)
        assert first == parse(expression, names, patched=False)
        again = parse(expression, names, patched=True)
        assert again == first
        # A request that changes its paths does not change the next request's
        again[0][0].append("changed")  # type: ignore[index]
        assert parse(expression, names, patched=True) == first
    # The same text with other names is another expression
    assert parse("#n", {"#n": "title"}, patched=True) == ([["title"]], ["#n"])
    # And an expression moto refuses is refused every time, with moto's error
    for _ in range(2):
        with pytest.raises(InvalidProjectionExpression), moto_patch.active():
            ProjectionExpressionParser("title, title", {}).parse()
