"""The agents' user pool on moto's Cognito, and sign-in the way the browser does it."""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass
from typing import Any

import boto3

POOL_NAME = "support-desk-local-agents"
CLIENT_NAME = "support-desk-site"
DEFAULT_AGENT_USERNAME = "agent@example.com"
# A local-only demo credential for moto's Cognito: not a secret, printed by `make run`.
DEFAULT_AGENT_PASSWORD = "Local-demo-agent-1"  # noqa: S105
DEFAULT_AGENT_NAME = "Dana Demo"


@dataclass(frozen=True)
class AgentPool:
    """What the app and the site need to know about the local pool."""

    endpoint: str
    region: str
    pool_id: str
    client_id: str

    @property
    def jwks_url(self) -> str:
        """Where moto serves the pool's signing keys."""
        return f"{self.endpoint}/{self.pool_id}/.well-known/jwks.json"

    @property
    def issuer(self) -> str:
        """The ``iss`` claim of the pool's tokens (the real Cognito URL, even on moto)."""
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.pool_id}"


def create_agent_pool(endpoint: str, region: str) -> AgentPool:
    """A user pool and an app client for the site (no secret, password and refresh flows)."""
    client = boto3.client("cognito-idp", endpoint_url=endpoint, region_name=region)
    pool_id = client.create_user_pool(
        PoolName=POOL_NAME,
        Policies={"PasswordPolicy": {"MinimumLength": 12}},
        UsernameAttributes=["email"],
    )["UserPool"]["Id"]
    client_id = client.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName=CLIENT_NAME,
        GenerateSecret=False,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        # As infra/template.yaml's client: the ID token carries the agent's name.
        ReadAttributes=["email", "email_verified", "name"],
    )["UserPoolClient"]["ClientId"]
    return AgentPool(endpoint=endpoint, region=region, pool_id=pool_id, client_id=client_id)


def add_agent(pool: AgentPool, username: str, password: str, name: str | None = None) -> None:
    """An agent who can sign in straight away (no forced password change)."""
    client = boto3.client("cognito-idp", endpoint_url=pool.endpoint, region_name=pool.region)
    attributes = [
        {"Name": "email", "Value": username},
        {"Name": "email_verified", "Value": "true"},
    ]
    if name:
        attributes.append({"Name": "name", "Value": name})
    client.admin_create_user(
        UserPoolId=pool.pool_id,
        Username=username,
        TemporaryPassword=password,
        MessageAction="SUPPRESS",
        UserAttributes=attributes,
    )
    client.admin_set_user_password(
        UserPoolId=pool.pool_id, Username=username, Password=password, Permanent=True
    )


def sign_in(endpoint: str, client_id: str, username: str, password: str) -> dict[str, Any]:
    """``InitiateAuth`` (USER_PASSWORD_AUTH) over plain HTTP, as the site does; the tokens."""
    body = json.dumps(
        {
            "AuthFlow": "USER_PASSWORD_AUTH",
            "ClientId": client_id,
            "AuthParameters": {"USERNAME": username, "PASSWORD": password},
        }
    ).encode()
    request = urllib.request.Request(  # noqa: S310 - the endpoint is configuration, http(s) only
        endpoint.rstrip("/") + "/",
        data=body,
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth",
        },
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        result: dict[str, Any] = json.loads(response.read())["AuthenticationResult"]
    return result
