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

from chalicelib.domain import HistoryEntry, Ticket
from chalicelib.errors import AppError, PayloadTooLarge, ValidationFailed, VersionMismatch
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
ALLOWED_REQUEST_HEADERS = ["Content-Type", "Authorization", "If-Match", "Idempotency-Key"]
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


def ticket_json(ticket: Ticket) -> dict[str, Any]:
    """The public JSON shape of a ticket."""
    return {
        "id": ticket.id,
        "title": ticket.title,
        "description": ticket.description,
        "category": ticket.category.value,
        "priority": ticket.priority.value,
        "status": ticket.status.value,
        "created_at": isoformat(ticket.created_at),
        "updated_at": isoformat(ticket.updated_at),
        "suggested_category": _value(ticket.suggested_category),
        "suggested_priority": _value(ticket.suggested_priority),
        "classification_source": _value(ticket.classification_source),
        "version": ticket.version,
    }


def history_json(entry: HistoryEntry) -> dict[str, Any]:
    """The public JSON shape of a history entry."""
    return {
        "version": entry.version,
        "action": entry.action,
        "actor": entry.actor,
        "at": isoformat(entry.at),
        "changes": [
            {"field": change.field, "old": change.old, "new": change.new}
            for change in entry.changes
        ],
    }


def _value(member: Any) -> str | None:
    return None if member is None else str(member.value)


def json_response(
    body: Any, status_code: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """A JSON response (Chalice serialises ``body``)."""
    all_headers: dict[str, str | list[str]] = {"Content-Type": "application/json"}
    all_headers.update(headers or {})
    return Response(body=body, status_code=status_code, headers=all_headers)


def error_response(error: AppError) -> Response:
    """The single JSON error shape: ``{"error": message, ...details}``."""
    body: dict[str, Any] = {"error": error.message, **error.details}
    headers = dict(error.headers)
    if isinstance(error, VersionMismatch) and isinstance(error.current, Ticket):
        # The client can show what changed without another round trip.
        body["current"] = ticket_json(error.current)
        headers["ETag"] = etag_of(error.current.version)
    return json_response(body, error.status_code, headers)


def ticket_response(ticket: Ticket, status_code: int = 200, **headers: str) -> Response:
    """A ticket with its ETag."""
    return json_response(
        ticket_json(ticket), status_code, {"ETag": etag_of(ticket.version), **headers}
    )


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


def read_json_body(request: Request) -> dict[str, Any]:
    """The body as a JSON object; 413 over the size limit (checked before parsing)."""
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
    """The versions named by ``If-Match``; an unparseable tag matches nothing (412)."""
    header = request.headers.get("if-match")
    if header is None:
        return None
    if header.strip() == "*":
        return ANY_VERSION
    versions = set()
    for tag in header.split(","):
        match = _ETAG.match(tag.strip())
        if match:
            versions.add(int(match.group(1)))
    return frozenset(versions)


def actor(request: Request) -> str:
    """Who is making the request: the signed-in agent, else the anonymous customer."""
    authorizer = (request.context or {}).get("authorizer") or {}
    principal = authorizer.get("principalId")
    return str(principal) if principal else "customer"


def dumps(value: Any) -> str:
    """Compact JSON."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
