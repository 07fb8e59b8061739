"""``Idempotency-Key`` on ticket creation: retries and double clicks create one ticket."""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any

import boto3
import pytest

from tests.conftest import ApiClient
from tests.factories import ticket_payload


def create(api: ApiClient, key: str | None, payload: dict[str, Any]) -> Any:
    headers = {"Idempotency-Key": key} if key is not None else {}
    return api.post("/api/tickets/", json_body=payload, headers=headers, token=None)


def total(api: ApiClient) -> int:
    return int(api.get("/api/tickets/stats/").json_body["total_tickets"])


def test_a_retry_with_the_same_key_and_body_returns_the_original(api: ApiClient) -> None:
    # Given a ticket created with a key
    key = str(uuid.uuid4())
    payload = ticket_payload()
    first = create(api, key, payload)
    assert first.status_code == 201
    assert first.headers["idempotent-replayed"] == "false"
    # When the same request is sent again (a retry after a lost response)
    again = create(api, key, payload)
    # Then the original answer comes back and nothing new was created
    assert again.status_code == 201
    assert again.json_body == first.json_body
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["idempotent-replayed"] == "true"
    assert total(api) == 1


def test_the_same_key_with_another_body_is_422(api: ApiClient) -> None:
    key = str(uuid.uuid4())
    assert create(api, key, ticket_payload(title="First")).status_code == 201
    response = create(api, key, ticket_payload(title="Second"))
    assert response.status_code == 422
    assert "different request body" in response.json_body["error"]
    assert total(api) == 1


def test_different_keys_create_different_tickets(api: ApiClient) -> None:
    payload = ticket_payload()
    a = create(api, str(uuid.uuid4()), payload).json_body
    b = create(api, str(uuid.uuid4()), payload).json_body
    assert a["id"] != b["id"]
    assert total(api) == 2


def test_an_invalid_request_does_not_use_up_the_key(api: ApiClient) -> None:
    key = str(uuid.uuid4())
    assert create(api, key, {"title": "", "description": "x"}).status_code == 400
    assert create(api, key, ticket_payload()).status_code == 201


@pytest.mark.parametrize("key", ["short", "x" * 256, "has space inside", "tab\tkey!"])
def test_malformed_keys_are_400(api: ApiClient, key: str) -> None:
    response = create(api, key, ticket_payload())
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json_body["error"]
    assert total(api) == 0


def test_a_concurrent_duplicate_is_409_and_one_ticket_exists(
    api: ApiClient, fake_claude: Any
) -> None:
    # Given a slow classification, so the first request is still running
    fake_claude.state.delay = 1.5
    key = str(uuid.uuid4())
    payload = ticket_payload(category=None, priority=None)
    results: list[Any] = []
    first = threading.Thread(target=lambda: results.append(create(api, key, payload)))
    # When a second, identical request arrives meanwhile (a double click): once the first
    # is waiting for Claude, inside the idempotent section, its record saved as in progress
    first.start()
    deadline = time.monotonic() + 30
    while not fake_claude.state.requests:
        assert time.monotonic() < deadline, "the first request never reached Claude"
        time.sleep(0.01)
    second = create(api, key, payload)
    first.join()
    # Then it is told to retry, and exactly one ticket exists
    assert second.status_code == 409
    assert second.headers["retry-after"] == "1"
    assert results[0].status_code == 201
    assert total(api) == 1
    # And once the first has finished, a retry gets the original
    assert create(api, key, payload).json_body == results[0].json_body


def test_keys_expire(api: ApiClient, table: str, aws: str) -> None:
    # Given a key whose record has passed its expiry (DynamoDB's TTL deletes it lazily)
    key = str(uuid.uuid4())
    payload = ticket_payload()
    first = create(api, key, payload).json_body
    dynamodb = boto3.client("dynamodb", endpoint_url=aws, region_name="us-east-1")
    records = dynamodb.query(
        TableName=table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "IDEMPOTENCY#create-ticket"}},
    )["Items"]
    assert len(records) == 1
    assert int(records[0]["expires_at"]["N"]) - time.time() == pytest.approx(86400, abs=120)

    def expire_records() -> None:
        for record in dynamodb.query(
            TableName=table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": "IDEMPOTENCY#create-ticket"}},
        )["Items"]:
            dynamodb.update_item(
                TableName=table,
                Key={"pk": record["pk"], "sk": record["sk"]},
                UpdateExpression="SET expires_at = :past",
                ExpressionAttributeValues={":past": {"N": str(int(time.time()) - 1)}},
            )

    # And an agent has since changed the ticket
    api.patch(f"/api/tickets/{first['id']}/", json_body={"title": "Edited by an agent"})
    expire_records()
    # When the key is replayed anonymously with the same body after its record expired
    again = create(api, key, payload)
    # Then the answer is a 409, never the live ticket (and nothing is created)
    assert again.status_code == 409
    assert "Edited by an agent" not in json.dumps(again.json_body)
    assert total(api) == 1
    # And reused for another body, the expired key makes a new ticket
    another = create(api, key, ticket_payload(title="Another"))
    assert another.status_code == 201
    assert another.json_body["id"] != first["id"]
    assert total(api) == 2


def test_a_replay_after_delete_never_recreates_the_ticket(
    api: ApiClient, table: str, aws: str
) -> None:
    # Given a ticket created with a key, then deleted by an agent
    key = str(uuid.uuid4())
    payload = ticket_payload()
    first = create(api, key, payload).json_body
    assert api.delete(f"/api/tickets/{first['id']}/").status_code == 204
    # When the same request is replayed after its record expired
    dynamodb = boto3.client("dynamodb", endpoint_url=aws, region_name="us-east-1")
    for record in dynamodb.query(
        TableName=table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "IDEMPOTENCY#create-ticket"}},
    )["Items"]:
        dynamodb.delete_item(TableName=table, Key={"pk": record["pk"], "sk": record["sk"]})
    again = create(api, key, payload)
    # Then it is refused and the ticket stays deleted
    assert again.status_code == 409
    assert api.get(f"/api/tickets/{first['id']}/").status_code == 404
    assert total(api) == 0


def test_a_replay_within_the_record_returns_the_creation_snapshot_and_the_link(
    api: ApiClient,
) -> None:
    key = str(uuid.uuid4())
    payload = ticket_payload()
    first = create(api, key, payload)
    api.patch(f"/api/tickets/{first.json_body['id']}/", json_body={"title": "Changed later"})
    again = create(api, key, payload)
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert again.json_body["title"] == first.json_body["title"]
    assert again.json_body["customer_url"] == first.json_body["customer_url"]


def test_a_replay_never_hands_out_a_link_an_agent_replaced(api: ApiClient) -> None:
    # Given a ticket created with a key, whose link an agent then replaced
    key = str(uuid.uuid4())
    payload = ticket_payload(customer_email="replay@example.com")
    first = create(api, key, payload).json_body
    assert api.post(f"/api/tickets/{first['id']}/access-link/").status_code == 202
    # When the original request is replayed
    again = create(api, key, payload)
    # Then the snapshot comes back without any link: neither the old nor the new one
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert again.json_body["customer_key"] is None and again.json_body["customer_url"] is None
    assert "_issued_nonce" not in again.json_body
