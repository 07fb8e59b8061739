"""The Chalice built-in authorizer that guards the agents' routes."""

from __future__ import annotations

from typing import Any

from chalice.app import AuthRequest, AuthResponse, Blueprint

from chalicelib.dependencies import get_token_verifier
from chalicelib.errors import Unauthorized
from chalicelib.observability import logger

authorization = Blueprint(__name__)

# API Gateway caches an authorizer answer per token for this long. Short, so a token
# that expires is refused within seconds; long enough to spare a call per click.
AUTHORIZER_CACHE_SECONDS = 30


def _deny(auth_request: AuthRequest, principal: str) -> dict[str, Any]:
    """An explicit Deny on the whole stage.

    ``AuthResponse(routes=[])`` would be an Allow with no resources, which API Gateway
    has been reported to treat as allowed (chalice issue #1619): never rely on it.
    """
    parts = auth_request.method_arn.split(":", 5)
    api_id, stage = parts[5].split("/")[:2]
    parts[5] = f"{api_id}/{stage}/*"
    return {
        "principalId": principal,
        "context": {},
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": [":".join(parts)]}
            ],
        },
    }


@authorization.authorizer(ttl_seconds=AUTHORIZER_CACHE_SECONDS)
def agent_authorizer(auth_request: AuthRequest) -> AuthResponse | dict[str, Any]:
    """Allow every route for a valid agent token; deny otherwise.

    A deny becomes API Gateway's ACCESS_DENIED answer, which the deploy template
    (and the local gateway) turn into a JSON 401 with CORS headers.
    """
    verifier = get_token_verifier()
    if verifier is None:
        logger.error("agent sign-in is not configured (COGNITO_* settings missing)")
        return _deny(auth_request, "unconfigured")
    try:
        identity = verifier.verify(auth_request.token)
    except Unauthorized as exc:
        logger.info("agent token refused", extra={"reason": exc.message})
        return _deny(auth_request, "anonymous")
    return AuthResponse(
        routes=["*"],
        principal_id=identity.subject,
        context={"email": identity.email or ""},
    )
