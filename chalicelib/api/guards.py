"""Ids in paths, and JSON 405s (with ``Allow``) for the methods a path does not serve."""

from __future__ import annotations

import re

from chalice.app import Blueprint, Response

from chalicelib.api.http import ANY_CONTENT_TYPE, API_PREFIX, CORS, api_view
from chalicelib.errors import MethodNotAllowed, TicketNotFound

_TICKET_ID = re.compile(r"^[a-z2-7]{24}$")
_ALL_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def checked_id(ticket_id: str) -> str:
    """The id, or a 404 without a database call (a malformed id cannot exist)."""
    if not _TICKET_ID.match(ticket_id):
        raise TicketNotFound(ticket_id)
    return ticket_id


def ticket_url(ticket_id: str) -> str:
    """The path of a ticket."""
    return f"{API_PREFIX}/tickets/{ticket_id}/"


def register_method_not_allowed(
    blueprint: Blueprint, paths: tuple[tuple[str, tuple[str, ...]], ...]
) -> None:
    """Answer 405 (with ``Allow``) on the other methods of each path, here and behind API
    Gateway, which would otherwise say 403 "Missing Authentication Token"."""
    for path, allowed in paths:
        others = [method for method in _ALL_METHODS if method not in allowed]

        def not_allowed(
            _allowed: tuple[str, ...] = allowed, _path: str = path, **_: str
        ) -> Response:
            method = blueprint.current_request.method
            error = MethodNotAllowed(
                f"{method} is not supported on {API_PREFIX}{_path}; use {', '.join(_allowed)}",
                allowed=list(_allowed),
            )
            error.headers["Allow"] = ", ".join(_allowed)
            raise error

        view = api_view(not_allowed)
        view.__name__ = "not_allowed_" + re.sub(r"\W+", "_", path).strip("_")
        blueprint.route(path, methods=others, cors=CORS, content_types=ANY_CONTENT_TYPE)(view)
