"""The deployed role grants exactly the AWS actions the API really performs.

Every route runs through the Chalice test client against moto while each AWS call is
recorded; the calls are mapped to IAM actions and compared with the role's policy in
infra/template.yaml (the Anthropic key read from SSM as deployed, not from the env).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3  # type: ignore[import-untyped]
import pytest
from botocore.client import BaseClient  # type: ignore[import-untyped]

from chalicelib.dependencies import reset_dependencies
from local_stack.fake_claude import FakeClaudeServer
from tests.conftest import ApiClient
from tests.factories import ticket_payload
from tools.deploy import STAGES, render_merge_template

# DynamoDB authorises each item of a transaction by the item's own action.
_TRANSACT_ITEM_ACTIONS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
    "Get": "dynamodb:GetItem",
}


def _iam_actions(service: str, operation: str, params: dict[str, Any]) -> set[str]:
    if operation in ("TransactWriteItems", "TransactGetItems"):
        return {_TRANSACT_ITEM_ACTIONS[kind] for item in params["TransactItems"] for kind in item}
    return {f"{service}:{operation}"}


@pytest.fixture
def recorded_actions(monkeypatch: pytest.MonkeyPatch) -> Iterator[set[str]]:
    """IAM actions of every AWS call made through botocore while the test runs."""
    actions: set[str] = set()
    original = BaseClient._make_api_call

    def recording(self: Any, operation: str, params: dict[str, Any]) -> Any:
        prefix = self.meta.service_model.signing_name
        actions.update(_iam_actions(prefix, operation, params))
        return original(self, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", recording)
    yield actions


def granted_actions(stage: str) -> set[str]:
    role = render_merge_template(stage)["Resources"]["ApiHandlerRole"]["Properties"]
    actions: set[str] = set()
    for policy in role["Policies"]:
        for statement in policy["PolicyDocument"]["Statement"]:
            value = statement["Action"]
            actions.update(value if isinstance(value, list) else [value])
    return actions


@pytest.fixture
def key_in_ssm(
    aws: str, table: str, fake_claude: FakeClaudeServer, monkeypatch: pytest.MonkeyPatch
) -> str:
    """The Anthropic key as deployed: a SecureString named by ANTHROPIC_API_KEY_PARAMETER."""
    name = f"/support-tickets/test/{table}/anthropic-api-key"
    boto3.client("ssm", region_name="us-east-1").put_parameter(
        Name=name, Value="test-key", Type="SecureString"
    )
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    monkeypatch.setenv("ANTHROPIC_API_KEY_PARAMETER", name)
    reset_dependencies()
    return name


def exercise_every_route(api: ApiClient, claude: FakeClaudeServer) -> None:
    """Every route, as customers (no token) and a signed-in agent use them."""
    # A customer's submission with an Idempotency-Key (Powertools' record in the table),
    # then the browser's retry of it (answered from that record)
    payload = ticket_payload(category=None, priority=None)
    key = {"Idempotency-Key": "iam-actions-create-0001"}
    created = api.post("/api/tickets/", json_body=payload, headers=key, token=None)
    assert created.status_code == 201, created.body
    retried = api.post("/api/tickets/", json_body=payload, headers=key, token=None)
    assert retried.status_code == 201 and retried.json_body == created.json_body
    other = api.post("/api/tickets/", json_body=ticket_payload(), token=None)
    assert other.status_code == 201, other.body
    # Classification by Claude, then the same text again (from the classification cache)
    claude_calls = len(claude.state.requests)
    for _ in range(2):
        classified = api.post(
            "/api/tickets/classify/", json_body={"description": "refund twice"}, token=None
        )
        assert classified.status_code == 200, classified.body
        assert classified.json_body["source"] == "llm", classified.body
    assert len(claude.state.requests) == claude_calls + 1
    assert api.get("/api/openapi.json", token=None).status_code == 200
    # The agents' routes
    ticket = created.json_body
    path = f"/api/tickets/{ticket['id']}/"
    assert api.get(path).status_code == 200
    assert api.get("/api/tickets/?category=billing&status=open").status_code == 200
    assert api.get("/api/tickets/?search=invoice").status_code == 200
    assert api.get("/api/tickets/stats/").status_code == 200
    patched = api.patch(path, json_body={"status": "resolved"}, headers={"If-Match": '"v1"'})
    assert patched.status_code == 200, patched.body
    assert api.get(f"{path}history/").status_code == 200
    assert api.delete(path).status_code == 204


@pytest.mark.parametrize("stage", STAGES)
def test_role_grants_exactly_what_the_routes_use(
    stage: str,
    key_in_ssm: str,
    api: ApiClient,
    fake_claude: FakeClaudeServer,
    recorded_actions: set[str],
) -> None:
    # Given the API reading its key from SSM, and every AWS call recorded
    # When every route is exercised
    exercise_every_route(api, fake_claude)
    used = recorded_actions - {"sts:GetCallerIdentity"}
    granted = {a for a in granted_actions(stage) if not a.startswith(("logs:", "xray:"))}
    # Then each call is allowed by the deployed role (else it fails with AccessDenied)
    assert used - granted == set(), f"grant these in infra/template.yaml: {used - granted}"
    # And the role allows nothing the API does not use (kms:Decrypt happens inside SSM)
    assert granted - used - {"kms:Decrypt"} == set(), f"unused grants: {granted - used}"
    assert "ssm:GetParameter" in used


def authorizer_event(token: str | None) -> dict[str, Any]:
    """The event API Gateway sends a TOKEN authorizer."""
    return {
        "type": "TOKEN",
        "authorizationToken": f"Bearer {token}" if token is not None else "",
        "methodArn": "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/api/GET/tickets",
    }


def allowed_resources(policy: dict[str, Any]) -> list[str]:
    return [
        resource
        for statement in policy["policyDocument"]["Statement"]
        if statement["Effect"] == "Allow"
        for resource in statement["Resource"]
    ]


@pytest.mark.parametrize("stage", STAGES)
def test_the_authorizer_needs_no_aws_permission(
    stage: str, table: str, agent_token: str, recorded_actions: set[str]
) -> None:
    # Given the authorizer as its own Lambda runs it (configured with the pool) and the
    # data actions its role grants
    from chalicelib.api.authorizer import agent_authorizer

    role = render_merge_template(stage)["Resources"]["AgentAuthorizerRole"]["Properties"]
    granted = {
        action
        for policy in role["Policies"]
        for statement in policy["PolicyDocument"]["Statement"]
        for action in as_list(statement["Action"])
    }
    # When it checks a valid token, a tampered one and an empty header
    valid = agent_authorizer(authorizer_event(agent_token), None)
    tampered = agent_authorizer(authorizer_event(agent_token[:-4] + "AAAA"), None)
    empty = agent_authorizer(authorizer_event(None), None)
    # Then it answered (the JWKS is a public HTTPS document, not an AWS API call)
    assert allowed_resources(valid) == [
        "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/api/*/*"
    ]
    assert allowed_resources(tampered) == allowed_resources(empty) == []
    # And it made no AWS call, so its role grants only its logs and X-Ray
    assert recorded_actions == set()
    assert {action.split(":")[0] for action in granted} == {"logs", "xray"}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
