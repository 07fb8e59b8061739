"""Fixtures shared by every ring: a real moto server, a fresh table per test, a fake Claude.

Rings: tests/unit (no AWS), tests/integration (moto + the Chalice test client),
tests/e2e (HTTP and a real browser against the local stack in a subprocess).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from chalicelib.dependencies import reset_dependencies
from local_stack.api_server import gateway_error
from local_stack.cognito import AgentPool, add_agent, create_agent_pool, sign_in
from local_stack.fake_claude import FakeClaudeServer
from local_stack.moto_server import MotoServer
from local_stack.schema import ensure_table
from local_stack.stack import verify_sender
from local_stack.stream_poller import StreamPoller

PROJECT_DIR = Path(__file__).resolve().parent.parent
REGION = "us-east-1"
AGENT_USERNAME = "agent.smith@example.com"
AGENT_PASSWORD = "Test-agent-password-1"  # a moto-only credential
AGENT_NAME = "Agent Smith"
MAIL_SENDER = "Support desk <support@example.com>"

# No test may ever reach a real AWS account or the real Anthropic API.
for _name in (
    "AWS_PROFILE",
    "AWS_ENDPOINT_URL_DYNAMODB",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_BASE_URL",
):
    os.environ.pop(_name, None)
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_TRACE_DISABLED": "true",
        # Unreachable until a test points it at moto: a missed fixture fails fast.
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "CURSOR_KEY": "tests-cursor-key-0123456789",
        "LINK_KEY": "tests-link-key-0123456789",
        "SITE_URL": "http://127.0.0.1:3000",
        "MAIL_SENDER": MAIL_SENDER,
    }
)


def create_keyed_table(client: Any, name: str, key_type: str = "S") -> None:
    """An on-demand table keyed by ``pk`` (hash) and ``sk`` (range), both of ``key_type``."""
    client.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": key_type},
            {"AttributeName": "sk", "AttributeType": key_type},
        ],
        BillingMode="PAY_PER_REQUEST",
    )


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    """One real moto server for the whole run (state is isolated by table name), with the
    local stack's patch (local_stack.moto_patch), as `make run` serves it."""
    server = MotoServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def plain_moto_server(moto_server: MotoServer) -> Iterator[MotoServer]:
    """Plain moto 5.2.5 on another port of this process, to compare with the patch. Both
    servers share moto's state: a table is visible through either."""
    server = MotoServer(patched=False).start()
    yield server
    server.stop()


@pytest.fixture
def plain_moto(plain_moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point this process's AWS clients at the plain moto server instead; returns its URL."""
    from chalicelib.data.models import ALL_MODELS

    monkeypatch.setenv("AWS_ENDPOINT_URL", plain_moto_server.url)
    for model in ALL_MODELS:
        model._connection = None  # PynamoDB caches the endpoint with the connection
    reset_dependencies()
    return plain_moto_server.url


@pytest.fixture
def aws(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point every AWS client of this process at moto; returns its URL."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.url)
    return moto_server.url


@pytest.fixture(scope="session")
def agent_pool(moto_server: MotoServer) -> AgentPool:
    """moto's Cognito with one agent, as `make run` sets it up; and the verified sender."""
    pool = create_agent_pool(moto_server.url, REGION)
    add_agent(pool, AGENT_USERNAME, AGENT_PASSWORD, AGENT_NAME)
    verify_sender(moto_server.url, REGION, MAIL_SENDER)
    return pool


@pytest.fixture(scope="session")
def agent_token(agent_pool: AgentPool) -> str:
    """A real ID token for the test agent (valid for an hour: the session is shorter)."""
    return str(
        sign_in(agent_pool.endpoint, agent_pool.client_id, AGENT_USERNAME, AGENT_PASSWORD)[
            "IdToken"
        ]
    )


@pytest.fixture
def table(aws: str, agent_pool: AgentPool, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh, empty ticket table for this test; the app is configured to use it."""
    name = f"tickets-test-{uuid.uuid4().hex[:10]}"
    monkeypatch.setenv("TICKETS_TABLE_NAME", name)
    monkeypatch.setenv("COGNITO_USER_POOL_ID", agent_pool.pool_id)
    monkeypatch.setenv("COGNITO_APP_CLIENT_ID", agent_pool.client_id)
    monkeypatch.setenv("COGNITO_JWKS_URL", agent_pool.jwks_url)
    monkeypatch.setenv("CORS_ALLOWED_ORIGINS", "http://127.0.0.1:3000,http://localhost:3000")
    # The undo window before a "resolved" email is tested on its own (test_notifications).
    monkeypatch.setenv("RESOLVED_EMAIL_DELAY_SECONDS", "0")
    reset_dependencies()
    ensure_table(name, REGION)
    yield name
    # The table stays: under the patch a request costs what it reads, whatever the
    # other tables hold (plain moto copied every table a transaction touched).
    reset_dependencies()


@pytest.fixture
def stream(table: str, aws: str) -> StreamPoller:
    """The table's stream delivered to the stream consumer, on demand (``stream.drain()``),
    exactly as the local stack's poller delivers it."""
    from chalicelib.events.stream import handle_stream_batch

    return StreamPoller(table, REGION, handle_stream_batch, aws, retry_pause_seconds=0.0)


@pytest.fixture
def outbox(moto_server: MotoServer) -> Callable[[], list[dict[str, Any]]]:
    """The emails moto's SES has accepted so far (newest first), as the outbox shows them."""
    from local_stack.outbox import sent_emails

    return sent_emails


@pytest.fixture(scope="session")
def fake_claude_server() -> Iterator[FakeClaudeServer]:
    """The fake Messages API, shared by the run."""
    server = FakeClaudeServer().start()
    yield server
    server.stop()


@pytest.fixture
def fake_claude(
    fake_claude_server: FakeClaudeServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FakeClaudeServer]:
    """The fake, reset, with the app configured to call it through the real SDK."""
    fake_claude_server.state.reset()
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake_claude_server.url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
    monkeypatch.setenv("CLASSIFY_TIMEOUT_SECONDS", "2")
    reset_dependencies()
    yield fake_claude_server
    fake_claude_server.state.reset()
    reset_dependencies()


class ApiClient:
    """The Chalice test client with the deployed paths (``/api/...``), JSON helpers, the
    agent's token by default (``token=None`` for a customer) and API Gateway's own
    error answers shaped as the deploy template configures them."""

    def __init__(self, client: Any, token: str) -> None:
        self._http = client.http
        self._token = token

    def request(
        self,
        method: str,
        path: str,
        json_body: Any = None,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        token: str | bool | None = True,
    ) -> Any:
        assert path.startswith("/api/"), path
        all_headers = dict(headers or {})
        bearer = self._token if token is True else token
        if bearer:
            all_headers.setdefault("Authorization", f"Bearer {bearer}")
        if json_body is not None:
            body = json.dumps(json_body).encode()
            all_headers.setdefault("Content-Type", "application/json")
        response = self._http.request(
            method, path[len("/api") :], headers=all_headers, body=body or b""
        )
        # HTTP header names are case-insensitive; tests read them in lower case.
        response.headers = {name.lower(): value for name, value in response.headers.items()}
        if "x-amzn-errortype" in response.headers:  # raised by the local gateway itself
            status, message = gateway_error(
                response.status_code, response.body, method, path[len("/api") :]
            )
            response.status_code = status
            response.body = json.dumps({"error": message}).encode()
        return response

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> Any:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.request("DELETE", path, **kwargs)


@pytest.fixture
def api(table: str, agent_token: str) -> Iterator[ApiClient]:
    """The app through Chalice's test client (runs middleware and authorizers)."""
    from chalice.test import Client

    from app import app

    # A stage absent from config.json: the test's own environment stays in force.
    with Client(app, stage_name="test", project_dir=str(PROJECT_DIR)) as client:
        yield ApiClient(client, agent_token)
