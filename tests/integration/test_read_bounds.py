"""DynamoDB work per request does not grow with the table (counted from botocore events)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from chalicelib.domain import Category, Priority, Status
from tests.conftest import ApiClient
from tools.dynamo_meter import DynamoMeter

FILTER_QUERIES = [
    "",
    "category=billing",
    "priority=high",
    "status=open",
    "category=billing&priority=high",
    "category=billing&status=open",
    "priority=high&status=open",
    "category=billing&priority=high&status=open",
]


@pytest.fixture
def meter(api: ApiClient) -> Iterator[DynamoMeter]:
    api.get("/api/tickets/stats/")  # creates the model connections
    meter = DynamoMeter().attach()
    yield meter
    meter.detach()


def test_first_pages_read_limit_plus_one_items_whatever_the_table_holds(
    api: ApiClient, meter: DynamoMeter
) -> None:
    # Given 64 tickets, one of every enum combination
    combos = itertools.product(Category, Priority, Status)
    for category, priority, status in combos:
        for _ in range(1):
            api.post(
                "/api/tickets/",
                json_body={
                    "title": "t",
                    "description": "d",
                    "category": category.value,
                    "priority": priority.value,
                    "status": status.value,
                },
            )
    for query in FILTER_QUERIES:
        # When the first page of 3 is read
        meter.reset()
        response = api.get(f"/api/tickets/?{query}&limit=3")
        # Then one query examined at most limit + 1 items
        assert response.status_code == 200
        assert meter.calls == {"Query": 1}, query
        assert meter.items_examined <= 4, (query, meter.items_examined)
        assert len(response.json_body) == (1 if query.count("=") == 3 else 3)


def test_stats_is_one_query_over_the_counter_shards(api: ApiClient, meter: DynamoMeter) -> None:
    for _ in range(20):
        api.post(
            "/api/tickets/",
            json_body={"title": "t", "description": "d", "category": "general", "priority": "low"},
        )
    meter.reset()
    stats = api.get("/api/tickets/stats/").json_body
    assert stats["total_tickets"] == 20
    assert meter.calls == {"Query": 1}
    assert meter.items_examined <= 8  # at most one item per shard


def test_writes_are_one_read_and_one_transaction(api: ApiClient, meter: DynamoMeter) -> None:
    created = api.post(
        "/api/tickets/",
        json_body={"title": "t", "description": "d", "category": "general", "priority": "low"},
    ).json_body
    meter.reset()
    api.patch(f"/api/tickets/{created['id']}/", json_body={"status": "closed"})
    assert meter.calls == {"GetItem": 1, "TransactWriteItems": 1}
