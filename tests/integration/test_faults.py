"""Faults injected into botocore: DynamoDB throttling, failing or conflicting.

A ``before-call`` handler answers in DynamoDB's place with an error, so the real
PynamoDB and app code paths handle a real ``ClientError``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from chalicelib.data.models import ALL_MODELS
from tests.conftest import ApiClient
from tests.factories import ticket_payload


class FaultInjector:
    """Fails the next ``times`` calls of ``operation`` with ``code``."""

    def __init__(self) -> None:
        self.plan: dict[str, list[dict[str, Any]]] = {}
        self.injected: list[str] = []

    def fail(self, operation: str, code: str, times: int = 1, **extra: Any) -> None:
        self.plan.setdefault(operation, []).extend(
            [{"Error": {"Code": code, "Message": f"injected {code}"}, **extra}] * times
        )

    def handler(self, model: Any, **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        queue = self.plan.get(model.name)
        if not queue:
            return None
        parsed = queue.pop(0)
        self.injected.append(model.name)
        status = 400 if "Exception" in parsed["Error"]["Code"] else 500
        return AWSResponse("https://dynamodb.test", status, {}, None), parsed  # type: ignore[arg-type]


@pytest.fixture
def faults(api: ApiClient) -> Iterator[FaultInjector]:
    api.get("/api/tickets/stats/")  # builds the model connections
    injector = FaultInjector()
    clients = {model._get_connection().connection.client for model in ALL_MODELS}
    for client in clients:
        client.meta.events.register("before-call.dynamodb", injector.handler)
    yield injector
    for client in clients:
        client.meta.events.unregister("before-call.dynamodb", injector.handler)


def stats(api: ApiClient) -> dict[str, Any]:
    result: dict[str, Any] = api.get("/api/tickets/stats/").json_body
    return result


THROTTLES = [
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
]


@pytest.mark.parametrize("code", THROTTLES)
def test_throttled_create_is_503_with_retry_after_and_writes_nothing(
    api: ApiClient, faults: FaultInjector, code: str
) -> None:
    # Given DynamoDB throttles the transaction
    faults.fail("TransactWriteItems", code)
    # When a ticket is created
    response = api.post("/api/tickets/", json_body=ticket_payload())
    # Then the client is told to come back, and nothing was written
    assert response.status_code == 503
    assert int(response.headers["retry-after"]) >= 1
    assert "nothing was changed" in response.json_body["error"]
    assert faults.injected == ["TransactWriteItems"]
    assert stats(api)["total_tickets"] == 0
    assert api.get("/api/tickets/").json_body == []


def _ticket(api: ApiClient) -> dict[str, Any]:
    created: dict[str, Any] = api.post(
        "/api/tickets/", json_body=ticket_payload(customer_email="c@example.com")
    ).json_body
    return created


@pytest.mark.parametrize(
    ("operation", "method", "path"),
    [
        ("GetItem", "GET", "/api/tickets/{id}/"),
        ("GetItem", "GET", "/api/tickets/by-number/{number}/"),
        ("Query", "GET", "/api/tickets/"),
        ("Query", "GET", "/api/tickets/?status=unsolved&sort=priority"),
        ("Query", "GET", "/api/tickets/?search=invoice"),
        ("Query", "GET", "/api/tickets/stats/"),
        ("Query", "GET", "/api/tickets/{id}/history/"),
        ("Query", "GET", "/api/tickets/{id}/messages/"),
        ("GetItem", "POST", "/api/tickets/{id}/messages/"),
        ("TransactWriteItems", "POST", "/api/tickets/{id}/messages/"),
        ("GetItem", "GET", "/api/public/tickets/{id}/"),
        ("TransactWriteItems", "POST", "/api/public/tickets/{id}/messages/"),
        ("GetItem", "PATCH", "/api/tickets/{id}/"),
        ("TransactWriteItems", "PATCH", "/api/tickets/{id}/"),
        ("TransactWriteItems", "DELETE", "/api/tickets/{id}/"),
        ("TransactWriteItems", "POST", "/api/tickets/{id}/access-link/"),
        ("UpdateItem", "POST", "/api/tickets/"),
    ],
)
def test_every_route_turns_a_failing_dynamodb_into_a_503(
    api: ApiClient, faults: FaultInjector, operation: str, method: str, path: str
) -> None:
    ticket = _ticket(api)
    key = ticket.pop("customer_key")
    ticket.pop("customer_url")
    faults.fail(operation, "InternalServerError")
    body: Any = {"status": "closed"} if method == "PATCH" else None
    if path.endswith("messages/") and method == "POST":
        body = {"body": "Hello"}
    if path == "/api/tickets/" and method == "POST":
        body = ticket_payload()
    response = api.request(
        method,
        path.format(id=ticket["id"], number=ticket["number"]),
        json_body=body,
        headers={"X-Ticket-Key": key},
    )
    assert response.status_code == 503, response.body
    assert "retry" in response.json_body["error"].lower()
    # The ticket is untouched
    faults.plan.clear()
    assert api.get(f"/api/tickets/{ticket['id']}/").json_body == ticket


CONFLICT = {
    "CancellationReasons": [{"Code": "None"}, {"Code": "TransactionConflict"}, {"Code": "None"}]
}


def test_transaction_conflicts_are_retried_then_succeed(
    api: ApiClient, faults: FaultInjector
) -> None:
    # Given two conflicting transactions in a row
    faults.fail("TransactWriteItems", "TransactionCanceledException", times=2, **CONFLICT)
    # When a ticket is created
    response = api.post("/api/tickets/", json_body=ticket_payload())
    # Then it succeeded on the third attempt, once
    assert response.status_code == 201
    assert faults.injected == ["TransactWriteItems"] * 2
    assert stats(api)["total_tickets"] == 1


def test_endless_conflicts_give_up_with_409_and_write_nothing(
    api: ApiClient, faults: FaultInjector, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a short retry budget (the default is about 3 s) and conflicts without end
    monkeypatch.setenv("WRITE_RETRY_SECONDS", "0.5")
    from chalicelib.dependencies import reset_dependencies

    reset_dependencies()
    ticket = _ticket(api)
    faults.fail("TransactWriteItems", "TransactionCanceledException", times=1000, **CONFLICT)
    response = api.patch(f"/api/tickets/{ticket['id']}/", json_body={"status": "closed"})
    # Then the writer retried until the budget was spent, then answered 409 (how many
    # attempts fit depends on the machine; tests/unit covers the backoff itself)
    assert response.status_code == 409
    assert len(faults.injected) >= 2
    faults.plan.clear()
    assert api.get(f"/api/tickets/{ticket['id']}/").json_body["status"] == "open"
    assert stats(api)["status_breakdown"]["open"] == 1


def test_a_failing_classification_cache_does_not_fail_classification(
    api: ApiClient, faults: FaultInjector, fake_claude: Any
) -> None:
    faults.fail("GetItem", "InternalServerError")
    faults.fail("PutItem", "InternalServerError")
    response = api.post("/api/tickets/classify/", json_body={"description": "refund me"})
    assert response.status_code == 200
    assert response.json_body["source"] == "llm"
