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


def exercise_every_route(api: ApiClient) -> None:
    created = api.post("/api/tickets/", json_body=ticket_payload(category=None, priority=None))
    assert created.status_code == 201, created.body
    ticket = created.json_body
    path = f"/api/tickets/{ticket['id']}/"
    assert api.get(path).status_code == 200
    assert api.get("/api/tickets/?category=billing&status=open").status_code == 200
    assert api.get("/api/tickets/?search=invoice").status_code == 200
    assert api.get("/api/tickets/stats/").status_code == 200
    classified = api.post("/api/tickets/classify/", json_body={"description": "refund twice"})
    assert classified.status_code == 200, classified.body
    assert classified.json_body["source"] != "offline", classified.body
    patched = api.patch(path, json_body={"status": "resolved"}, headers={"If-Match": '"v1"'})
    assert patched.status_code == 200, patched.body
    assert api.get(f"{path}history/").status_code == 200
    assert api.delete(path).status_code == 204


@pytest.mark.parametrize("stage", STAGES)
def test_role_grants_exactly_what_the_routes_use(
    stage: str, key_in_ssm: str, api: ApiClient, recorded_actions: set[str]
) -> None:
    # Given the API reading its key from SSM, and every AWS call recorded
    # When every route is exercised
    exercise_every_route(api)
    used = recorded_actions - {"sts:GetCallerIdentity"}
    granted = {a for a in granted_actions(stage) if not a.startswith(("logs:", "xray:"))}
    # Then each call is allowed by the deployed role (else it fails with AccessDenied)
    assert used - granted == set(), f"grant these in infra/template.yaml: {used - granted}"
    # And the role allows nothing the API does not use (kms:Decrypt happens inside SSM)
    assert granted - used - {"kms:Decrypt"} == set(), f"unused grants: {granted - used}"
    assert "ssm:GetParameter" in used
