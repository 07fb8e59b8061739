"""DynamoDB work per request does not grow with the table (counted from botocore events)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from chalicelib.domain import Category, Priority, Status
from tests.conftest import AGENT_USERNAME, ApiClient
from tools.dynamo_meter import DynamoMeter

# Every list view the console offers, with the partitions its index merges.
LIST_QUERIES = [
    ("", 1),
    ("category=billing", 1),
    ("priority=high", 1),
    ("status=open", 1),
    ("status=unsolved", 2),
    ("category=billing&priority=high", 1),
    ("category=billing&status=open", 1),
    ("priority=high&status=open", 1),
    ("category=billing&priority=high&status=open", 1),
    ("assignee=me", 1),
    ("assignee=none", 1),
    ("assignee=me&status=open", 4),
    ("assignee=none&status=unsolved", 8),
    ("status=unsolved&sort=priority", 2),
    ("status=unsolved&sort=priority&category=billing", 2),
    ("status=unsolved&sort=priority&assignee=me", 2),
    ("status=unsolved&sort=priority&assignee=none", 2),
    ("status=unsolved&sort=oldest", 2),
    ("sort=priority", 1),
]
LIMIT = 3
FIRST_CHUNK = 5  # chalicelib.data.lists: the smallest chunk a merged partition reads first


@pytest.fixture
def meter(api: ApiClient) -> Iterator[DynamoMeter]:
    api.get("/api/tickets/stats/")  # creates the model connections
    meter = DynamoMeter().attach()
    yield meter
    meter.detach()


def _fill(api: ApiClient, copies: int) -> None:
    """``copies`` tickets of every enum combination, half of them assigned to the agent."""
    combos = itertools.product(Category, Priority, Status)
    for index, (category, priority, status) in enumerate(combos):
        for _ in range(copies):
            created = api.post(
                "/api/tickets/",
                json_body={
                    "title": "t",
                    "description": "d",
                    "category": category.value,
                    "priority": priority.value,
                    "status": status.value,
                },
            ).json_body
            if (index // 4) % 2:  # every status has assigned and unassigned tickets
                api.patch(f"/api/tickets/{created['id']}/", json_body={"assignee": AGENT_USERNAME})


def _first_page_reads(api: ApiClient, meter: DynamoMeter, query: str) -> int:
    meter.reset()
    response = api.get(f"/api/tickets/?{query}&limit={LIMIT}")
    assert response.status_code == 200, response.body
    assert len(response.json_body) >= 2, query  # the 3-filter views hold 2 at first
    assert set(meter.calls) == {"Query"}, query
    return meter.items_examined


def test_first_pages_read_about_limit_items_whatever_the_table_holds(
    api: ApiClient, meter: DynamoMeter
) -> None:
    # Given two of every enum combination
    _fill(api, 2)
    bounds = {
        query: LIMIT + 1 if partitions == 1 else partitions * FIRST_CHUNK + LIMIT + 1
        for query, partitions in LIST_QUERIES
    }
    # Then a single partition reads limit + 1 items, a merge at most its first chunks
    for query, _ in LIST_QUERIES:
        reads = _first_page_reads(api, meter, query)
        assert reads <= bounds[query], (query, reads, bounds[query])
    # When the table grows to three times its size
    _fill(api, 4)
    # Then every view still reads within the same bound: it does not grow with the table
    for query, _ in LIST_QUERIES:
        reads = _first_page_reads(api, meter, query)
        assert reads <= bounds[query], (query, reads, bounds[query])


def test_stats_read_a_fixed_number_of_items(api: ApiClient, meter: DynamoMeter) -> None:
    for _ in range(20):
        api.post(
            "/api/tickets/",
            json_body={"title": "t", "description": "d", "category": "general", "priority": "low"},
        )
    meter.reset()
    stats = api.get("/api/tickets/stats/").json_body
    assert stats["total_tickets"] == 20
    # One query over the counter shards (totals and two months of days) and the day's
    # Claude budget beside them, and one for the oldest unsolved ticket per unsolved status
    assert meter.calls == {"Query": 3}, meter.calls
    assert meter.items_examined <= 8 * 3 + 2 + 1


def test_writes_are_one_read_and_one_transaction(api: ApiClient, meter: DynamoMeter) -> None:
    created = api.post(
        "/api/tickets/",
        json_body={"title": "t", "description": "d", "category": "general", "priority": "low"},
    ).json_body
    meter.reset()
    api.patch(f"/api/tickets/{created['id']}/", json_body={"status": "closed"})
    assert meter.calls == {"GetItem": 1, "TransactWriteItems": 1}
