"""Who may do what: customers create and classify; agents (Cognito tokens) do the rest.

Tokens are checked by the Chalice built-in authorizer against moto's real JWKS
endpoint; forged tokens are minted here with moto's own signing key or a stranger's.
"""

from __future__ import annotations

import base64
import gzip
import json
import time
from pathlib import Path
from typing import Any

import jwt
import moto.cognitoidp
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from local_stack.cognito import AgentPool, sign_in
from tests.conftest import AGENT_NAME, AGENT_PASSWORD, AGENT_USERNAME, ApiClient
from tests.factories import ticket_payload

AGENT_ROUTES = [
    ("GET", "/api/tickets/"),
    ("GET", "/api/tickets/stats/"),
    ("GET", "/api/tickets/{id}/"),
    ("GET", "/api/tickets/by-number/{number}/"),
    ("PATCH", "/api/tickets/{id}/"),
    ("DELETE", "/api/tickets/{id}/"),
    ("GET", "/api/tickets/{id}/history/"),
    ("GET", "/api/tickets/{id}/messages/"),
    ("POST", "/api/tickets/{id}/messages/"),
    ("GET", "/api/tickets/{id}/emails/"),
    ("POST", "/api/tickets/{id}/access-link/"),
    ("POST", "/api/tickets/bulk/"),
    ("GET", "/api/agents/"),
]


def _moto_private_key() -> Any:
    path = Path(moto.cognitoidp.__file__).parent / "resources" / "jwks-private.json.gz"
    return RSAAlgorithm.from_jwk(gzip.decompress(path.read_bytes()).decode())


def mint(pool: AgentPool, key: Any = None, **overrides: Any) -> str:
    """A Cognito-shaped ID token; by default valid and signed with the pool's key."""
    now = int(time.time())
    claims = {
        "iss": pool.issuer,
        "sub": "5f2b-agent",
        "aud": pool.client_id,
        "token_use": "id",
        "cognito:username": "minted.agent@example.com",
        "iat": now,
        "auth_time": now,
        "exp": now + 600,
    }
    claims.update(overrides)
    claims = {name: value for name, value in claims.items() if value is not None}
    return jwt.encode(
        claims, key or _moto_private_key(), algorithm="RS256", headers={"kid": "dummy"}
    )


@pytest.fixture
def ticket(api: ApiClient) -> dict[str, Any]:
    created: dict[str, Any] = api.post(
        "/api/tickets/", json_body=ticket_payload(customer_email="c@example.com"), token=None
    ).json_body
    created.pop("customer_key")
    created.pop("customer_url")
    return created


def call(api: ApiClient, method: str, path: str, ticket: dict[str, Any], token: Any) -> Any:
    bodies: dict[str, Any] = {
        "PATCH": {"status": "closed"},
        "POST /api/tickets/{id}/messages/": {"body": "Hello"},
        "POST /api/tickets/bulk/": {
            "items": [{"id": ticket["id"], "version": 1, "changes": {"priority": "high"}}]
        },
    }
    body = bodies.get(method, bodies.get(f"{method} {path}"))
    return api.request(
        method,
        path.format(id=ticket["id"], number=ticket["number"]),
        json_body=body,
        token=token,
    )


def test_customers_create_and_classify_without_signing_in(api: ApiClient) -> None:
    created = api.post("/api/tickets/", json_body=ticket_payload(), token=None)
    assert created.status_code == 201
    classified = api.post(
        "/api/tickets/classify/", json_body={"description": "refund please"}, token=None
    )
    assert classified.status_code == 200
    assert api.get("/api/openapi.json", token=None).status_code == 200


@pytest.mark.parametrize(("method", "path"), AGENT_ROUTES)
def test_agent_routes_refuse_a_missing_token_with_a_json_401(
    api: ApiClient, ticket: dict[str, Any], method: str, path: str
) -> None:
    response = call(api, method, path, ticket, token=None)
    assert response.status_code == 401
    assert "Sign in" in response.json_body["error"]
    # And nothing changed
    assert api.get(f"/api/tickets/{ticket['id']}/").json_body == ticket


@pytest.mark.parametrize(("method", "path"), AGENT_ROUTES)
def test_agent_routes_accept_a_real_cognito_token(
    api: ApiClient, ticket: dict[str, Any], method: str, path: str
) -> None:
    response = call(api, method, path, ticket, token=True)
    assert response.status_code in (200, 201, 202, 204), response.body


def test_changes_are_recorded_under_the_agents_stable_id(
    api: ApiClient, ticket: dict[str, Any], agent_pool: AgentPool
) -> None:
    api.patch(f"/api/tickets/{ticket['id']}/", json_body={"priority": "critical"})
    history = api.get(f"/api/tickets/{ticket['id']}/history/").json_body
    sub = _sub_of(agent_pool, AGENT_USERNAME)
    assert [entry["actor"] for entry in history] == ["customer", sub]
    assert [entry["actor_name"] for entry in history] == ["Customer", AGENT_NAME]


def test_a_renamed_agents_history_keeps_naming_the_agent(
    api: ApiClient, ticket: dict[str, Any], agent_pool: AgentPool
) -> None:
    # Given an agent who changed a ticket
    api.patch(f"/api/tickets/{ticket['id']}/", json_body={"priority": "critical"})
    # When the agent's token later carries another email (as after an email change)
    renamed = mint(agent_pool, sub=_sub_of(agent_pool, AGENT_USERNAME), email="ciso@example.com")
    api.patch(f"/api/tickets/{ticket['id']}/", json_body={"priority": "low"}, token=renamed)
    # Then the history records the same stable id both times, never the claimed name
    history = api.get(f"/api/tickets/{ticket['id']}/history/").json_body
    assert history[1]["actor"] == history[2]["actor"] != "ciso@example.com"
    assert "ciso@example.com" not in json.dumps(history)
    assert history[2]["actor_name"] == AGENT_NAME


def test_history_written_with_emails_stays_readable(api: ApiClient, ticket: dict[str, Any]) -> None:
    # Given an entry recorded the old way (the agent's email as actor)
    from chalicelib.data.items import history_model
    from chalicelib.dependencies import get_repository
    from chalicelib.domain import FieldChange

    old = get_repository().get(ticket["id"])
    from dataclasses import replace

    entry = history_model(
        replace(old, version=99),
        "updated",
        "old.agent@example.com",
        (FieldChange("title", "a", "b"),),
    )
    entry.save()
    # Then it is served, named by that email
    history = api.get(f"/api/tickets/{ticket['id']}/history/").json_body
    assert history[-1]["actor"] == history[-1]["actor_name"] == "old.agent@example.com"


def _sub_of(pool: AgentPool, email: str) -> str:
    import boto3

    client = boto3.client("cognito-idp", endpoint_url=pool.endpoint, region_name=pool.region)
    user = client.admin_get_user(UserPoolId=pool.pool_id, Username=email)
    return str(next(a["Value"] for a in user["UserAttributes"] if a["Name"] == "sub"))


def test_an_access_token_is_accepted_too(api: ApiClient, agent_pool: AgentPool) -> None:
    tokens = sign_in(agent_pool.endpoint, agent_pool.client_id, AGENT_USERNAME, AGENT_PASSWORD)
    assert api.get("/api/tickets/", token=tokens["AccessToken"]).status_code == 200


def test_a_minted_token_with_the_pools_key_is_accepted(
    api: ApiClient, agent_pool: AgentPool
) -> None:
    # Guards the tests below: they fail for the one reason they change, not another.
    assert api.get("/api/tickets/", token=mint(agent_pool)).status_code == 200


def _tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["cognito:username"] = "intruder@example.com"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


@pytest.mark.parametrize(
    ("case", "make"),
    [
        ("expired", lambda pool: mint(pool, exp=int(time.time()) - 60)),
        (
            "wrong signature",
            lambda pool: mint(
                pool, key=rsa.generate_private_key(public_exponent=65537, key_size=2048)
            ),
        ),
        ("wrong audience", lambda pool: mint(pool, aud="someone-elses-client")),
        ("wrong issuer", lambda pool: mint(pool, iss="https://evil.example/pool")),
        ("refresh use", lambda pool: mint(pool, token_use="refresh")),
        ("no token use", lambda pool: mint(pool, token_use=None)),
        ("no expiry", lambda pool: mint(pool, exp=None)),
        ("tampered", lambda pool: _tampered(mint(pool))),
        (
            "alg none",
            lambda pool: jwt.encode(
                {"iss": pool.issuer, "sub": "x", "token_use": "id", "aud": pool.client_id},
                key=None,
                algorithm="none",
            ),
        ),
        ("garbage", lambda pool: "not.a.jwt"),
    ],
)
def test_bad_tokens_are_401_and_change_nothing(
    api: ApiClient, agent_pool: AgentPool, ticket: dict[str, Any], case: str, make: Any
) -> None:
    token = make(agent_pool)
    response = api.patch(
        f"/api/tickets/{ticket['id']}/", json_body={"status": "closed"}, token=token
    )
    assert response.status_code == 401, case
    assert "sign in" in response.json_body["error"].lower()
    assert api.get(f"/api/tickets/{ticket['id']}/").json_body["status"] == "open"


def test_a_non_bearer_header_is_refused(api: ApiClient, agent_token: str) -> None:
    response = api.get(
        "/api/tickets/", headers={"Authorization": f"Basic {agent_token}"}, token=False
    )
    assert response.status_code == 401


def test_without_cognito_configuration_every_agent_request_is_refused(
    api: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Fail closed: a deploy that forgot the pool does not open the API.
    monkeypatch.delenv("COGNITO_USER_POOL_ID")
    monkeypatch.delenv("COGNITO_APP_CLIENT_ID")
    from chalicelib.dependencies import reset_dependencies

    reset_dependencies()
    assert api.get("/api/tickets/").status_code == 401


def test_a_refused_token_gets_an_explicit_deny_policy() -> None:
    # API Gateway must see Effect: Deny, not an Allow with no resources (chalice #1619)
    from chalice.app import AuthRequest

    from chalicelib.api.authorizer import agent_authorizer

    arn = "arn:aws:execute-api:us-east-1:123456789012:abc123/api/GET/tickets"
    result = agent_authorizer.func(AuthRequest("TOKEN", "Bearer forged", arn))
    [statement] = result["policyDocument"]["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Resource"] == ["arn:aws:execute-api:us-east-1:123456789012:abc123/api/*"]
