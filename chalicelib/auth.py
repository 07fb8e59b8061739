"""Agent authentication: Cognito-issued JWTs checked against the pool's JWKS.

The same check runs locally (moto's Cognito) and on AWS: a Chalice built-in
authorizer calls :meth:`TokenVerifier.verify`. PyJWT does the cryptography and
the standard claim checks; the JWKS is fetched once and cached.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from chalicelib.errors import Unauthorized

_ACCEPTED_USES = frozenset({"id", "access"})
# Seconds of clock skew tolerated between Cognito and the Lambda.
_LEEWAY_SECONDS = 5
_JWKS_CACHE_SECONDS = 3600
# An unknown key id refetches the key set at most this often (key rotation is rare).
_REFETCH_SECONDS = 60


@dataclass(frozen=True, slots=True)
class AgentIdentity:
    """Who a valid token belongs to: the stable ``sub`` (what the audit trail records)
    and the email the token names today (shown, never trusted as identity)."""

    subject: str
    email: str | None


class TokenVerifier:
    """Checks signature (RS256, key from the JWKS), issuer, audience/client id, use, expiry."""

    def __init__(self, issuer: str, client_id: str, jwks_url: str) -> None:
        import jwt  # lazy: only the authorizer pays for PyJWT + cryptography

        self._jwt = jwt
        self._issuer = issuer
        self._client_id = client_id
        self._jwks = jwt.PyJWKClient(
            jwks_url, cache_keys=True, lifespan=_JWKS_CACHE_SECONDS, timeout=5
        )
        self._last_fetch = 0.0

    def verify(self, authorization: str | None) -> AgentIdentity:
        """The agent behind ``Authorization: Bearer <token>``, or Unauthorized."""
        token = _bearer_token(authorization)
        jwt = self._jwt
        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") != "RS256":
                raise Unauthorized("The token is not signed the way Cognito signs tokens")
            key = self._signing_key(str(header.get("kid") or ""))
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=["RS256"],
                issuer=self._issuer,
                leeway=_LEEWAY_SECONDS,
                options={"require": ["exp", "iat", "iss", "sub", "token_use"], "verify_aud": False},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("Your session has expired; sign in again") from exc
        except jwt.PyJWKClientConnectionError as exc:
            raise Unauthorized("Sign-in keys are unavailable right now; try again") from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"The token is not valid ({exc})") from exc
        self._check_use_and_audience(claims)
        # The sub never changes; an email can (the pool now verifies changes, but
        # history written with it would still follow a rename): record the sub.
        email = claims.get("email")
        return AgentIdentity(subject=str(claims["sub"]), email=str(email) if email else None)

    def _signing_key(self, kid: str) -> Any:
        """The pool's key with this id. An unknown id refetches the key set at most once a
        minute: anyone can send a token (the public create checks one), and each unknown
        id must not cost a fetch."""
        known = {key.key_id for key in self._cached_keys()}
        if kid not in known:
            if time.monotonic() - self._last_fetch < _REFETCH_SECONDS:
                raise Unauthorized("The token is not signed by this desk's sign-in keys")
            self._last_fetch = time.monotonic()
        return self._jwks.get_signing_key(kid)

    def _cached_keys(self) -> list[Any]:
        if not self._last_fetch:
            self._last_fetch = time.monotonic()
        try:
            return list(self._jwks.get_signing_keys())
        except self._jwt.PyJWKClientConnectionError:
            raise  # "keys unavailable", said by verify()
        except self._jwt.PyJWKClientError:
            return []  # the key set holds no signing key

    def _check_use_and_audience(self, claims: dict[str, Any]) -> None:
        use = claims.get("token_use")
        if use not in _ACCEPTED_USES:
            raise Unauthorized("The token is not an ID or access token")
        # ID tokens name the app client in "aud", access tokens in "client_id".
        audience = claims.get("aud") if use == "id" else claims.get("client_id")
        if audience != self._client_id:
            raise Unauthorized("The token was issued to another application")


def _bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise Unauthorized("Sign in required")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Send the token as 'Authorization: Bearer <token>'")
    return token.strip()


def build_verifier(
    issuer: str | None, client_id: str | None, jwks_url: str | None
) -> TokenVerifier | None:
    """A verifier, or None when Cognito is not configured (every agent request is refused)."""
    if not (issuer and client_id and jwks_url):
        return None
    return TokenVerifier(issuer, client_id, jwks_url)


__all__ = ["AgentIdentity", "TokenVerifier", "build_verifier"]
