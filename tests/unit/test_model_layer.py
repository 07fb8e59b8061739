"""Enum validation in the model layer: no code path can store a value outside an enum."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.data.attributes import EnumAttribute
from chalicelib.data.models import FILTER_INDEX_SPECS, TicketModel
from chalicelib.data.repository import _to_model, counter_deltas, created_sort_key
from chalicelib.domain import Category, Priority, Status, Ticket

VALID = {c.value for c in Category}


@given(st.sampled_from(list(Category)))
def test_enum_attribute_round_trips_members(member: Category) -> None:
    attribute = EnumAttribute(Category)
    assert attribute.deserialize(attribute.serialize(member)) is member


@given(st.text().filter(lambda value: value not in VALID))
def test_enum_attribute_refuses_anything_else(value: str) -> None:
    with pytest.raises(ValueError, match="not a valid Category"):
        EnumAttribute(Category).serialize(value)  # type: ignore[arg-type]


def test_a_model_with_an_invalid_enum_cannot_be_serialised_for_writing() -> None:
    # Given a complete ticket model whose status was then set outside the enum
    now = datetime(2026, 1, 1, tzinfo=UTC)
    ticket = Ticket("a" * 24, "t", "d", Category.BILLING, Priority.LOW, Status.OPEN, now, now, 1)
    model = _to_model(ticket)
    model.status = "archived"  # type: ignore[assignment]
    # When it is serialised for a write, it fails before any request is made
    with pytest.raises(ValueError, match="Status"):
        model.serialize()


def test_every_filter_combination_has_its_own_index() -> None:
    indexes = {name for name, _ in FILTER_INDEX_SPECS.values()}
    assert len(indexes) == 8
    schema = TicketModel._get_schema()
    declared = {index["index_name"] for index in schema["global_secondary_indexes"]}
    assert declared == indexes


@given(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
)
def test_sort_keys_order_like_the_times(first: datetime, second: datetime) -> None:
    a = created_sort_key(first.replace(tzinfo=UTC), "a" * 24)
    b = created_sort_key(second.replace(tzinfo=UTC), "b" * 24)
    assert (a < b) == (first < second) or first == second


tickets = st.builds(
    Ticket,
    id=st.just("a" * 24),
    title=st.just("t"),
    description=st.just("d"),
    category=st.sampled_from(list(Category)),
    priority=st.sampled_from(list(Priority)),
    status=st.sampled_from(list(Status)),
    created_at=st.datetimes(min_value=datetime(2020, 1, 1), timezones=st.just(UTC)),
    updated_at=st.just(datetime(2030, 1, 1, tzinfo=UTC)),
    version=st.integers(1, 100),
)


@given(tickets, tickets)
def test_counter_deltas_conserve_the_total_and_each_breakdown(
    before: Ticket, after: Ticket
) -> None:
    after = Ticket(
        **{**{s: getattr(after, s) for s in Ticket.__slots__}, "created_at": before.created_at}
    )
    deltas = counter_deltas(before, after)
    assert "total" not in deltas
    for prefix in ("c_", "p_", "s_"):
        assert sum(v for k, v in deltas.items() if k.startswith(prefix)) == 0
    assert all(v in (-1, 1) for v in deltas.values())


@given(tickets)
def test_create_and_delete_deltas_cancel_out(ticket: Ticket) -> None:
    created = counter_deltas(None, ticket)
    deleted = counter_deltas(ticket, None)
    assert created["total"] == 1 and deleted["total"] == -1
    assert {k: -v for k, v in created.items()} == deleted
