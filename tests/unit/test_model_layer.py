"""The model layer: enums validated on write, the index catalogue, sort keys, counters."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.data.attributes import EnumAttribute
from chalicelib.data.counters import counter_deltas, first_reply_bucket, ticket_counters
from chalicelib.data.items import (
    LISTED_TICKET_ATTRIBUTES,
    created_sort_key,
    list_keys,
    ticket_from_item,
    to_ticket,
    to_ticket_model,
)
from chalicelib.data.models import LIST_INDEX_SPECS, HistoryModel, TicketModel
from chalicelib.data.wire import DynamoDBJSONParser
from chalicelib.domain import (
    Category,
    ClassificationSource,
    Confidence,
    Priority,
    Status,
    Ticket,
    WaitingOn,
)

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
    model = to_ticket_model(ticket)
    model.status = "archived"  # type: ignore[assignment]
    # When it is serialised for a write, it fails before any request is made
    with pytest.raises(ValueError, match="Status"):
        model.serialize()


def test_the_models_declare_exactly_the_catalogued_list_indexes() -> None:
    # Given the catalogue the query planner reads
    catalogued = set(LIST_INDEX_SPECS)
    # Then the model declares those indexes and no others, within DynamoDB's 20
    schema = TicketModel._get_schema()
    declared = {index["index_name"] for index in schema["global_secondary_indexes"]}
    assert declared == catalogued
    assert len(declared) <= 20


def test_every_ticket_has_a_partition_in_every_index() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    ticket = Ticket(
        "a" * 24, "t", "d", Category.BILLING, Priority.HIGH, Status.OPEN, now, now, 1, assignee="s1"
    )
    keys = list_keys(ticket)
    assert keys["lk_all"] == "ALL"
    assert keys["lk_cps"] == "billing#high#open"
    assert keys["lk_a"] == "s1"
    assert keys["lk_acps"] == "billing#high#open#s1"
    assert list_keys(replace(ticket, assignee=None))["lk_aps"] == "high#open#none"


def test_a_ticket_round_trips_through_its_item() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    ticket = Ticket(
        "a" * 24, "t", "d", Category.BILLING, Priority.HIGH, Status.OPEN, now, now, 3,
        number=7, customer_email="c@example.com", assignee="sub-1", message_count=2,
        last_message_at=now + timedelta(hours=1), access_nonce="n", access_key_hash="h",
    )  # fmt: skip
    assert to_ticket(to_ticket_model(ticket)) == ticket


def test_a_listed_ticket_is_the_whole_ticket_but_its_secrets() -> None:
    # Given a ticket with every field set, stored whole
    now = datetime(2026, 1, 1, tzinfo=UTC)
    ticket = Ticket(
        "a" * 24, "t", "d", Category.BILLING, Priority.HIGH, Status.OPEN, now, now, 3,
        suggested_category=Category.TECHNICAL, suggested_priority=Priority.LOW,
        classification_source=ClassificationSource.LLM, suggested_confidence=Confidence.HIGH,
        number=7, customer_email="c@example.com", customer_name="C", assignee="sub-1",
        last_message_at=now, waiting_on=WaitingOn.AGENT, first_reply_at=now, message_count=2,
        access_nonce="n", access_key_hash="h", email_key_hash="e", customer_email_verified=True,
    )  # fmt: skip
    stored = to_ticket_model(ticket).serialize()
    # When a list page reads only the listed attributes
    projected = {name: stored[name] for name in LISTED_TICKET_ATTRIBUTES if name in stored}
    listed = to_ticket(TicketModel.from_raw_data(projected))
    # Then it has every field but the customer's access secrets, and no list keys
    assert listed == replace(ticket, access_nonce=None, access_key_hash=None, email_key_hash=None)
    assert not any(name.startswith("lk_") for name in LISTED_TICKET_ATTRIBUTES)
    assert len(projected) < len(stored) * 0.75


_NOW = datetime(2026, 1, 1, tzinfo=UTC)
_EVERY_FIELD = Ticket(
    "a" * 24, "t", "d \N{EURO SIGN}", Category.BILLING, Priority.HIGH, Status.OPEN, _NOW,
    _NOW + timedelta(seconds=1), 3, suggested_category=Category.TECHNICAL,
    suggested_priority=Priority.LOW, classification_source=ClassificationSource.LLM,
    suggested_confidence=Confidence.HIGH, number=7, customer_email="c@example.com",
    customer_name="C", assignee="sub-1", last_message_at=_NOW, waiting_on=WaitingOn.AGENT,
    first_reply_at=_NOW, message_count=2, access_nonce="n", access_key_hash="h",
    email_key_hash="e", customer_email_verified=True,
)  # fmt: skip
_FEWEST_FIELDS = Ticket(
    "b" * 24, "t", "d", Category.GENERAL, Priority.LOW, Status.OPEN, _NOW, _NOW, 1
)


@pytest.mark.parametrize("ticket", [_EVERY_FIELD, _FEWEST_FIELDS], ids=["every", "fewest"])
@pytest.mark.parametrize("listed", [False, True], ids=["whole", "listed"])
def test_a_raw_item_reads_as_the_model_reads_it(ticket: Ticket, listed: bool) -> None:
    # Given a stored ticket, whole or as a list page reads it
    stored = to_ticket_model(ticket).serialize()
    if listed:
        stored = {name: stored[name] for name in LISTED_TICKET_ATTRIBUTES if name in stored}
    # When it is read without building a model
    read = ticket_from_item(stored)
    # Then it is what the model gives
    assert read == to_ticket(TicketModel.from_raw_data(stored))
    assert read.id == ticket.id and read.created_at == ticket.created_at


def test_a_raw_item_with_null_or_missing_values_and_bad_enums_reads_as_the_model() -> None:
    stored = to_ticket_model(_EVERY_FIELD).serialize()
    # An explicit NULL and a missing attribute with a default read as the model reads them
    stored["assignee"] = {"NULL": True}
    del stored["message_count"]
    read = ticket_from_item(stored)
    assert read == to_ticket(TicketModel.from_raw_data(stored))
    assert read.assignee is None and read.message_count == 0
    # A value outside its enum is refused by both, with the same error
    stored["priority"] = {"S": "urgent"}
    with pytest.raises(ValueError, match="urgent") as raw_error:
        ticket_from_item(stored)
    with pytest.raises(ValueError, match="urgent") as model_error:
        TicketModel.from_raw_data(stored)
    assert str(raw_error.value) == str(model_error.value)


def test_the_models_share_one_client_with_the_fast_response_parser(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given connections built afresh, in this test's environment (a test run earlier in
    # this process may have built one model's under other settings; restored after)
    from chalicelib.data.models import ALL_MODELS

    for model in ALL_MODELS:
        monkeypatch.setattr(model, "_connection", None)
    client = TicketModel._get_connection().connection.client
    # (the endpoint parses each HTTP response with a parser from this factory)
    parser = client._endpoint._response_parser_factory.create_parser("json")
    assert isinstance(parser, DynamoDBJSONParser)
    assert HistoryModel._get_connection().connection.client is client


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
    suggested_category=st.one_of(st.none(), st.sampled_from(list(Category))),
    suggested_priority=st.one_of(st.none(), st.sampled_from(list(Priority))),
    assignee=st.one_of(st.none(), st.just("agent-sub")),
)


@given(tickets, tickets)
def test_counter_deltas_conserve_the_total_and_each_breakdown(
    before: Ticket, after: Ticket
) -> None:
    # Given the same ticket before and after a change (same creation time)
    after = replace(after, created_at=before.created_at)
    deltas = counter_deltas(before, after)
    # Then the total does not move and every breakdown moves by as much as it gains
    assert "total" not in deltas.totals
    for prefix in ("c_", "p_", "s_"):
        assert sum(v for k, v in deltas.totals.items() if k.startswith(prefix)) == 0
    assert all(v in (-1, 1) for v in deltas.totals.values())
    assert deltas.totals.get("u", 0) == int(after.unsolved) - int(before.unsolved)
    for values in deltas.months.values():
        assert "d_" + before.created_at.strftime("%Y%m%d") not in values


@given(tickets)
def test_create_and_delete_deltas_cancel_out(ticket: Ticket) -> None:
    created = counter_deltas(None, ticket)
    deleted = counter_deltas(ticket, None)
    assert created.totals["total"] == 1 and deleted.totals["total"] == -1
    assert {k: -v for k, v in created.totals.items()} == deleted.totals
    assert {
        month: {k: -v for k, v in values.items()} for month, values in created.months.items()
    } == deleted.months


def test_unsolved_and_ai_agreement_counters() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    ticket = Ticket(
        "a" * 24, "t", "d", Category.BILLING, Priority.HIGH, Status.IN_PROGRESS, now, now, 1,
        suggested_category=Category.BILLING, suggested_priority=Priority.LOW,
        first_reply_at=now + timedelta(minutes=30),
    )  # fmt: skip
    names = ticket_counters(ticket)
    assert {"u", "up_high", "ua", "ai_c_kept", "ai_p_over", "fr_1h"} <= names.totals
    assert names.days == {"d_20260101", "ud_20260101"}
    assert names.month == "202601"
    solved = ticket_counters(replace(ticket, status=Status.CLOSED, assignee="x"))
    assert not {"u", "up_high", "ua"} & solved.totals
    assert solved.days == {"d_20260101"}


@given(st.floats(min_value=0, max_value=100_000))
def test_first_reply_buckets_cover_every_time(minutes: float) -> None:
    assert first_reply_bucket(minutes).startswith("fr_")


def test_every_model_uses_one_botocore_client(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given models bound to a table (no call is made: building a client is local)
    from chalicelib.data.models import ALL_MODELS, bind_models

    before = (TicketModel.Meta.table_name, TicketModel.Meta.region)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "unit-test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "unit-test")
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:9")
    bind_models("unit-test-table", "eu-west-1")

    # When each model's connection is asked for its client
    clients = {id(model._get_connection().connection.client) for model in ALL_MODELS}

    # Then there is one client (one botocore session, one copy of its service data),
    # while each model keeps its own connection and schema
    assert len(clients) == 1
    assert len({id(model._get_connection()) for model in ALL_MODELS}) == len(ALL_MODELS)
    client = TicketModel._get_connection().connection.client
    assert client.meta.region_name == "eu-west-1"
    assert client.meta.endpoint_url == "http://127.0.0.1:9"

    # And a different endpoint gets a client of its own
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:10")
    bind_models("unit-test-table", "eu-west-2")
    assert TicketModel._get_connection().connection.client.meta.endpoint_url.endswith(":10")
    bind_models(*before)  # connections are rebuilt lazily, after the environment is restored
