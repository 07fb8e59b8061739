"""The Chalice built-in authorizer that guards the agents' routes."""

from __future__ import annotations

from chalice.app import AuthRequest, AuthResponse, Blueprint

from chalicelib.dependencies import get_token_verifier
from chalicelib.errors import Unauthorized
from chalicelib.observability import logger

authorization = Blueprint(__name__)

# API Gateway caches an authorizer answer per token for this long. Short, so a token
# that expires is refused within seconds; long enough to spare a call per click.
AUTHORIZER_CACHE_SECONDS = 30


@authorization.authorizer(ttl_seconds=AUTHORIZER_CACHE_SECONDS)
def agent_authorizer(auth_request: AuthRequest) -> AuthResponse:
    """Allow every route for a valid agent token; deny otherwise.

    A deny becomes API Gateway's ACCESS_DENIED answer, which the deploy template
    (and the local gateway) turn into a JSON 401 with CORS headers.
    """
    verifier = get_token_verifier()
    if verifier is None:
        logger.error("agent sign-in is not configured (COGNITO_* settings missing)")
        return AuthResponse(routes=[], principal_id="unconfigured")
    try:
        identity = verifier.verify(auth_request.token)
    except Unauthorized as exc:
        logger.info("agent token refused", extra={"reason": exc.message})
        return AuthResponse(routes=[], principal_id="anonymous")
    return AuthResponse(
        routes=["*"], principal_id=identity.username, context={"sub": identity.subject}
    )
