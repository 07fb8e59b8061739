"""Request parsing and response building shared by every route.

Domain errors become HTTP responses here and only here (:func:`api_view`).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, ParamSpec

from chalice.app import CORSConfig, Request, Response

from chalicelib.domain import ANONYMOUS, Actor, Ticket
from chalicelib.errors import (
    AppError,
    PayloadTooLarge,
    Unauthorized,
    UnsupportedMediaType,
    ValidationFailed,
    VersionMismatch,
)
from chalicelib.observability import logger
from chalicelib.settings import get_settings
from chalicelib.tickets import ANY_VERSION, IfMatch
from chalicelib.validation import parse_json_object

API_PREFIX = "/api"
# Bodyless methods: a stray Content-Type header must not turn into a 415.
ANY_CONTENT_TYPE = ["*/*"]
JSON_CONTENT_TYPES = ["application/json"]
PATCH_CONTENT_TYPES = ["application/json", "application/merge-patch+json"]
EXPOSED_HEADERS = [
    "ETag",
    "Link",
    "Location",
    "Retry-After",
    "X-Search-Examined",
    "Idempotent-Replayed",
]
ALLOWED_REQUEST_HEADERS = [
    "Content-Type",
    "Authorization",
    "If-Match",
    "Idempotency-Key",
    "X-Ticket-Key",
]
_ETAG = re.compile(r'^(?:W/)?"v(\d{1,12})"$')

P = ParamSpec("P")


class SettingsCorsConfig(CORSConfig):
    """CORS whose allowed origin comes from the settings when asked, not at import.

    The API answers a request's ``Origin`` itself (see middleware); this object
    feeds the preflight responses Chalice generates locally and in API Gateway.
    """

    def __init__(self) -> None:
        super().__init__(
            allow_origin="null",
            allow_headers=ALLOWED_REQUEST_HEADERS,
            expose_headers=EXPOSED_HEADERS,
            max_age=600,
        )

    @property  # type: ignore[override]
    def allow_origin(self) -> str:
        origins = get_settings().allowed_origins
        return origins[0] if origins else "null"

    @allow_origin.setter
    def allow_origin(self, _value: str) -> None:
        """Ignored: the value always comes from the settings."""


CORS = SettingsCorsConfig()


def isoformat(value: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def etag_of(version: int) -> str:
    """The entity tag of a ticket version."""
    return f'"v{version}"'


def json_response(
    body: Any, status_code: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """A JSON response (Chalice serialises ``body``)."""
    all_headers: dict[str, str | list[str]] = {"Content-Type": "application/json"}
    all_headers.update(headers or {})
    # Serialised here as UTF-8 (Chalice would escape every non-ASCII character as \uXXXX,
    # doubling or tripling the size of a page of tickets in other scripts).
    text = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    return Response(body=text, status_code=status_code, headers=all_headers)


def error_body(error: AppError) -> dict[str, Any]:
    """The single JSON error shape: ``{"error": message, ...details}``."""
    body: dict[str, Any] = {"error": error.message, **error.details}
    if isinstance(error, VersionMismatch) and isinstance(error.current, Ticket):
        # The client can show what changed without another round trip.
        from chalicelib.api.representations import ticket_json

        body["current"] = ticket_json(error.current)
    return body


def error_response(error: AppError) -> Response:
    """An error as its HTTP response (status, JSON body, headers)."""
    headers = dict(error.headers)
    if isinstance(error, VersionMismatch) and isinstance(error.current, Ticket):
        headers["ETag"] = etag_of(error.current.version)
    return json_response(error_body(error), error.status_code, headers)


def api_view(view: Callable[P, Response]) -> Callable[P, Response]:
    """Map domain errors to their HTTP response; anything unexpected to a bare 500."""

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Response:
        try:
            return view(*args, **kwargs)
        except AppError as error:
            return error_response(error)
        except Exception:  # noqa: BLE001 - the outermost boundary: log it, hide it
            logger.exception("unhandled error")
            return json_response({"error": "An internal error occurred; it has been logged"}, 500)

    return wrapper


def read_json_body(request: Request, media_types: list[str] | None = None) -> dict[str, Any]:
    """The body as a JSON object; 415 unless sent as JSON, 413 over the size limit
    (both checked before parsing).

    The media type must be exactly one of ``media_types`` (Chalice lets through
    ``text/plain; application/json`` and a missing header, both of which a browser sends
    cross-site without asking the API first: a page elsewhere could make its visitors
    create tickets). Requiring ``application/json`` forces a CORS preflight, which only
    the site's own origin passes.
    """
    allowed = media_types or JSON_CONTENT_TYPES
    header = (request.headers.get("content-type") or "") if request.headers else ""
    media_type = header.split(";", 1)[0].strip().lower()
    if media_type not in allowed:
        raise UnsupportedMediaType(
            f"Send the body as {' or '.join(allowed)} "
            f"(got {header.strip()[:60] or 'no Content-Type'})",
            allowed=allowed,
        )
    raw = request.raw_body
    limit = get_settings().max_body_bytes
    if raw is not None and len(raw) > limit:
        raise PayloadTooLarge(
            f"The request body is {len(raw)} bytes; the limit is {limit} bytes", limit=limit
        )
    return parse_json_object(raw)


def query_params(request: Request) -> dict[str, str]:
    """Single-valued query parameters; a repeated parameter is a 400."""
    params = request.query_params
    if not params:
        return {}
    result: dict[str, str] = {}
    for name in params:
        values = params.getlist(name)
        if len(values) > 1:
            raise ValidationFailed(
                f"Query parameter {name!r} was given {len(values)} times; give it once",
                fields={name: "repeated"},
            )
        result[name] = values[0]
    return result


def parse_if_match(request: Request) -> IfMatch:
    """The versions named by ``If-Match``. An empty or malformed header is a 400 (the
    client meant to send one of our tags and did not); a well-formed tag of another
    version is a 412 (the service answers that)."""
    header = request.headers.get("if-match")
    if header is None:
        return None
    if not header.strip():
        raise ValidationFailed(
            'If-Match is empty: send the ETag you received (for example "v3"), or * for any',
            fields={"If-Match": "empty"},
        )
    if header.strip() == "*":
        return ANY_VERSION
    versions = set()
    for tag in header.split(","):
        match = _ETAG.match(tag.strip())
        if not match:
            raise ValidationFailed(
                f'If-Match must hold entity tags as the API sends them (for example "v3"), '
                f"or *; got {header.strip()[:60]!r}",
                fields={"If-Match": "malformed"},
            )
        versions.add(int(match.group(1)))
    return frozenset(versions)


def actor(request: Request) -> Actor:
    """The signed-in agent of an agents' route (the authorizer put them in the context)."""
    authorizer = (request.context or {}).get("authorizer") or {}
    principal = authorizer.get("principalId")
    if not principal:
        return ANONYMOUS
    return Actor(str(principal), str(authorizer.get("email") or "") or None)


def optional_agent(request: Request) -> Actor:
    """On a public route: the agent whose valid token was sent, else the customer.

    Public routes run no authorizer, so the token is checked here with the same
    verifier; a missing or invalid token is simply the anonymous customer.
    """
    header = request.headers.get("authorization")
    if not header:
        return ANONYMOUS
    from chalicelib.dependencies import get_token_verifier

    verifier = get_token_verifier()
    if verifier is None:
        return ANONYMOUS
    try:
        identity = verifier.verify(header)
    except Unauthorized:
        return ANONYMOUS
    return Actor(identity.subject, identity.email)


def dumps(value: Any) -> str:
    """Compact JSON."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
