"""The deployed roles grant exactly the AWS actions the functions really perform.

Every route runs through the Chalice test client against moto, and the table's stream is
delivered to the stream consumer as Lambda delivers it (local_stack/stream_poller.py),
while each AWS call is recorded with the function that made it. The calls are mapped to
IAM actions and compared with each function's role in infra/template.yaml. The keys are
read from SSM as deployed (not from the environment), and each function starts with
nothing cached, as it would in its own Lambda.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import boto3  # type: ignore[import-untyped]
import pytest
from botocore.client import BaseClient  # type: ignore[import-untyped]

from chalicelib.dependencies import reset_dependencies
from local_stack.fake_claude import FakeClaudeServer
from local_stack.stream_poller import StreamPoller
from tests.conftest import AGENT_USERNAME, MAIL_SENDER, REGION, ApiClient
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
# What Lambda itself does with the consumer's role (no code of ours makes these calls):
# poll the table's stream, and write the record of a batch it gave up on to the queue.
_LAMBDA_SERVICE_ACTIONS = frozenset(
    {
        "dynamodb:DescribeStream",
        "dynamodb:GetRecords",
        "dynamodb:GetShardIterator",
        "dynamodb:ListStreams",
        "sqs:SendMessage",
    }
)
# kms:Decrypt happens inside SSM (a customer managed key only); logs and traces are
# written by the Lambda runtime and the X-Ray daemon.
_RUNTIME_PREFIXES = ("logs:", "xray:", "kms:")

_principal: ContextVar[str] = ContextVar("principal", default="api")


@contextmanager
def acting_as(principal: str) -> Iterator[None]:
    """Attribute the AWS calls made inside to ``principal``, which starts with nothing
    cached (collaborators, settings, SSM values), as a fresh Lambda process would."""
    from aws_lambda_powertools.utilities import parameters

    reset_dependencies()
    parameters.clear_caches()
    token = _principal.set(principal)
    try:
        yield
    finally:
        _principal.reset(token)
        reset_dependencies()
        parameters.clear_caches()


def _iam_actions(service: str, operation: str, params: dict[str, Any]) -> set[str]:
    if operation in ("TransactWriteItems", "TransactGetItems"):
        return {_TRANSACT_ITEM_ACTIONS[kind] for item in params["TransactItems"] for kind in item}
    if service == "ses" and operation == "SendEmail" and "Raw" in params["Content"]:
        # sesv2 SendEmail with raw MIME content is authorised as ses:SendRawEmail (the
        # action an AccessDenied names); ses:SendEmail is the operation's own action.
        return {"ses:SendEmail", "ses:SendRawEmail"}
    return {f"{service}:{operation}"}


@dataclass
class Recorded:
    """Per function: the IAM actions of its calls, the SSM parameters it read, the
    DynamoDB indexes it queried (None for the table) and the senders it mailed from."""

    actions: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    parameters: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    indexes: dict[str, set[str | None]] = field(default_factory=lambda: defaultdict(set))
    senders: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> Iterator[Recorded]:
    """Every AWS call made through botocore while the test runs, by function."""
    found = Recorded()
    original = BaseClient._make_api_call

    def recording(self: Any, operation: str, params: dict[str, Any]) -> Any:
        who = _principal.get()
        service = self.meta.service_model.signing_name
        found.actions[who] |= _iam_actions(service, operation, params)
        if operation == "GetParameter":
            found.parameters[who].add(params["Name"])
        if service == "dynamodb" and operation in ("Query", "Scan"):
            found.indexes[who].add(params.get("IndexName"))
        if operation == "SendEmail":
            found.senders[who].add(params["FromEmailAddress"])
        return original(self, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", recording)
    yield found


def role_statements(stage: str, role: str) -> list[dict[str, Any]]:
    policies = render_merge_template(stage)["Resources"][role]["Properties"]["Policies"]
    return [s for policy in policies for s in policy["PolicyDocument"]["Statement"]]


def granted_actions(stage: str, role: str) -> set[str]:
    return {
        action
        for statement in role_statements(stage, role)
        for action in as_list(statement["Action"])
    }


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@dataclass(frozen=True)
class StageKeys:
    """The SSM names the functions read, by the environment variable that names each."""

    names: dict[str, str]


@pytest.fixture
def keys_in_ssm(
    aws: str, table: str, fake_claude: FakeClaudeServer, monkeypatch: pytest.MonkeyPatch
) -> StageKeys:
    """The Anthropic key, cursor key and link key as deployed: SecureStrings named by the
    functions' environment, and nothing in the environment itself."""
    ssm = boto3.client("ssm", region_name=REGION)
    names = {}
    for variable, value in (
        ("ANTHROPIC_API_KEY", "test-key"),
        ("CURSOR_KEY", "ssm-cursor-key-0123456789"),
        ("LINK_KEY", "ssm-link-key-0123456789"),
    ):
        name = f"/support-tickets/test/{table}/{variable.lower()}"
        ssm.put_parameter(Name=name, Value=value, Type="SecureString")
        monkeypatch.delenv(variable)
        monkeypatch.setenv(f"{variable}_PARAMETER", name)
        names[f"{variable}_PARAMETER"] = name
    reset_dependencies()
    return StageKeys(names)


@pytest.fixture
def consumer(table: str, aws: str) -> StreamPoller:
    """The table's stream delivered to the stream consumer as its own function."""
    from chalicelib.events.stream import handle_stream_batch

    def as_the_consumer(event: dict[str, Any], context: Any) -> dict[str, Any]:
        with acting_as("stream"):
            return handle_stream_batch(event, context)

    return StreamPoller(table, REGION, as_the_consumer, aws, retry_pause_seconds=0.0)


def exercise_every_route(
    api: ApiClient, claude: FakeClaudeServer, deliver: Callable[[], None], customer: str
) -> None:
    """Every route, as customers (no token) and a signed-in agent use them, with the
    stream delivered after each change, so every kind of email is sent."""
    # A customer's submission with an Idempotency-Key (Powertools' record in the table),
    # then the browser's retry of it (answered from that record); it is confirmed by email
    payload = ticket_payload(
        category=None, priority=None, customer_email=customer, customer_name="Ada"
    )
    key = {"Idempotency-Key": f"iam-actions-{uuid.uuid4().hex}"}
    created = api.post("/api/tickets/", json_body=payload, headers=key, token=None)
    assert created.status_code == 201, created.body
    retried = api.post("/api/tickets/", json_body=payload, headers=key, token=None)
    assert retried.status_code == 201 and retried.json_body["id"] == created.json_body["id"]
    other = api.post("/api/tickets/", json_body=ticket_payload(), token=None)
    assert other.status_code == 201, other.body
    deliver()
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
    # The customer's private page and their message
    ticket = created.json_body
    secret = {"X-Ticket-Key": ticket["customer_key"]}
    page = f"/api/public/tickets/{ticket['id']}/"
    assert api.get(page, headers=secret, token=None).status_code == 200
    said = api.post(f"{page}messages/", json_body={"body": "Any news?"}, headers=secret, token=None)
    assert said.status_code == 201, said.body
    deliver()
    # The agents' routes: lists, search (postings written by the consumer), the directory,
    # a ticket by id and by number, assignment, a reply and a note, bulk changes, the
    # emails sent, a new private link, resolving, history and delete
    path = f"/api/tickets/{ticket['id']}/"
    assert api.get(path).status_code == 200
    assert api.get(f"/api/tickets/by-number/{ticket['number']}/").status_code == 200
    assert api.get("/api/tickets/?category=billing&status=open").status_code == 200
    found = api.get("/api/tickets/?search=invoice")
    assert found.status_code == 200 and ticket["id"] in {t["id"] for t in found.json_body}
    assert api.get("/api/agents/").status_code == 200
    assigned = api.patch(path, json_body={"assignee": AGENT_USERNAME})
    assert assigned.status_code == 200, assigned.body
    assert api.get(f"/api/tickets/?assignee={AGENT_USERNAME}").status_code == 200
    for message in ({"body": "We are on it."}, {"body": "Checked the logs.", "internal": True}):
        posted = api.post(f"{path}messages/", json_body=message)
        assert posted.status_code == 201, posted.body
    assert api.get(f"{path}messages/").status_code == 200
    version = api.get(path).json_body["version"]
    items = [{"id": ticket["id"], "version": version, "changes": {"priority": "high"}}]
    bulk = api.post("/api/tickets/bulk/", json_body={"items": items})
    assert bulk.status_code == 200 and bulk.json_body["results"][0]["status"] == 200, bulk.body
    renewed = api.post(f"{path}access-link/")
    assert renewed.status_code == 202, renewed.body
    deliver()
    resolved = api.patch(path, json_body={"status": "resolved"})
    assert resolved.status_code == 200, resolved.body
    deliver()
    assert api.get(f"{path}emails/").status_code == 200
    assert api.get("/api/tickets/stats/").status_code == 200
    assert api.get(f"{path}history/").status_code == 200
    # Deleting the ticket: the consumer removes its postings and purges its conversation
    assert api.delete(path).status_code == 204
    deliver()


@pytest.mark.parametrize("stage", STAGES)
def test_each_role_grants_exactly_what_its_function_uses(
    stage: str,
    keys_in_ssm: StageKeys,
    api: ApiClient,
    consumer: StreamPoller,
    fake_claude: FakeClaudeServer,
    recorded: Recorded,
    outbox: Callable[[], list[dict[str, Any]]],
) -> None:
    # Given the API and the stream consumer reading their keys from SSM, each AWS call
    # recorded with the function that made it
    customer = f"customer-{uuid.uuid4().hex[:10]}@example.com"

    def deliver() -> None:
        with acting_as("poller"):
            consumer.drain()

    # When every route is exercised and every change delivered to the consumer
    with acting_as("api"):
        exercise_every_route(api, fake_claude, deliver, customer)
    assert consumer.dead_letters == []
    # Then the consumer sent every kind of email to the customer, from the sender
    mails = [mail for mail in outbox() if mail["to"] == [customer]]
    subjects = [mail["subject"] for mail in mails]
    for fragment in ("We received your support ticket", "Your new link", "Resolved"):
        assert any(fragment in subject for subject in subjects), (fragment, subjects)
    assert len(subjects) == 4  # the confirmation, the reply, the new link, resolved
    assert {mail["from"] for mail in mails} == {MAIL_SENDER}
    assert recorded.senders == {"stream": {MAIL_SENDER}}
    for function, role, reads in (
        ("api", "ApiHandlerRole", set(keys_in_ssm.names)),
        ("stream", "StreamRole", {"LINK_KEY_PARAMETER"}),
    ):
        used = recorded.actions[function] - {"sts:GetCallerIdentity"}
        granted = {a for a in granted_actions(stage, role) if not a.startswith(_RUNTIME_PREFIXES)}
        if function == "stream":
            granted -= _LAMBDA_SERVICE_ACTIONS
        # And each call is allowed by the function's role (else it fails with AccessDenied)
        assert used - granted == set(), f"grant {role} in infra/template.yaml: {used - granted}"
        # And the role allows nothing the function does not use
        assert granted - used == set(), f"unused grants in {role}: {granted - used}"
        # And it read exactly the SSM parameters its role names, one statement each
        assert recorded.parameters[function] == {keys_in_ssm.names[v] for v in reads}
        parameter_sids = {
            s["Sid"] for s in role_statements(stage, role) if s["Action"] == "ssm:GetParameter"
        }
        expected_sids = {
            "ANTHROPIC_API_KEY_PARAMETER": "AnthropicKeyParameter",
            "CURSOR_KEY_PARAMETER": "CursorKeyParameter",
            "LINK_KEY_PARAMETER": "LinkKeyParameter",
        }
        assert parameter_sids == {expected_sids[v] for v in reads}
    # And only the API queries indexes: the consumer's role names the table alone
    assert None in recorded.indexes["api"] and len(recorded.indexes["api"]) > 2
    assert recorded.indexes["stream"] == {None}
    (table_statement,) = [
        s for s in role_statements(stage, "StreamRole") if s["Sid"] == "TicketTable"
    ]
    assert table_statement["Resource"] == {"Fn::GetAtt": ["TicketsTable", "Arn"]}


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
    stage: str, table: str, agent_token: str, recorded: Recorded
) -> None:
    # Given the authorizer as its own Lambda runs it (configured with the pool) and the
    # data actions its role grants
    from chalicelib.api.authorizer import agent_authorizer

    granted = granted_actions(stage, "AgentAuthorizerRole")
    # When it checks a valid token, a tampered one and an empty header
    with acting_as("authorizer"):
        valid = agent_authorizer(authorizer_event(agent_token), None)
        tampered = agent_authorizer(authorizer_event(agent_token[:-4] + "AAAA"), None)
        empty = agent_authorizer(authorizer_event(None), None)
    # Then it answered (the JWKS is a public HTTPS document, not an AWS API call)
    assert allowed_resources(valid) == [
        "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/api/*/*"
    ]
    assert allowed_resources(tampered) == allowed_resources(empty) == []
    # And it made no AWS call, so its role grants only its logs and X-Ray
    assert dict(recorded.actions) == {}
    assert {action.split(":")[0] for action in granted} == {"logs", "xray"}
