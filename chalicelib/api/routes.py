"""The ticket API routes. Each parses input, calls one service function, maps the result.

Customers (anonymous) may create tickets and ask for a classification; every other
route needs a signed-in agent (``authorizer=AGENT``).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from chalice.app import Blueprint, Response

from chalicelib.api.authorizer import agent_authorizer
from chalicelib.api.http import (
    ANY_CONTENT_TYPE,
    API_PREFIX,
    CORS,
    JSON_CONTENT_TYPES,
    PATCH_CONTENT_TYPES,
    actor,
    api_view,
    etag_of,
    history_json,
    json_response,
    parse_if_match,
    query_params,
    read_json_body,
    ticket_json,
    ticket_response,
)
from chalicelib.api.idempotency import (
    get_idempotent_create,
    parse_idempotency_key,
    ticket_id_for_request,
)
from chalicelib.api.openapi import openapi_document
from chalicelib.dependencies import get_ticket_service
from chalicelib.errors import MethodNotAllowed, TicketNotFound
from chalicelib.settings import get_settings
from chalicelib.validation import (
    parse_classify_request,
    parse_list_query,
    parse_new_ticket,
    parse_ticket_changes,
)

tickets = Blueprint(__name__)
AGENT = agent_authorizer

_TICKET_ID = re.compile(r"^[a-z2-7]{24}$")
_ALL_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _checked_id(ticket_id: str) -> str:
    # A malformed id cannot exist: answer 404 without a database call.
    if not _TICKET_ID.match(ticket_id):
        raise TicketNotFound(ticket_id)
    return ticket_id


def _ticket_url(ticket_id: str) -> str:
    return f"{API_PREFIX}/tickets/{ticket_id}/"


@tickets.route(
    "/tickets", methods=["GET"], cors=CORS, content_types=ANY_CONTENT_TYPE, authorizer=AGENT
)
@api_view
def list_tickets() -> Response:
    """Newest-first tickets; filters, search and a cursor in the query string."""
    request = tickets.current_request
    query = parse_list_query(query_params(request))
    page = get_ticket_service().list_tickets(query)
    headers = {"X-Search-Examined": str(page.examined)} if query.search else {}
    if page.next_cursor:
        params = {**query.filters(), "limit": str(query.limit), "cursor": page.next_cursor}
        if query.search:
            params["search"] = query.search
        headers["Link"] = f'<{API_PREFIX}/tickets/?{urlencode(params)}>; rel="next"'
    return json_response([ticket_json(t) for t in page.tickets], headers=headers)


@tickets.route("/tickets", methods=["POST"], cors=CORS, content_types=JSON_CONTENT_TYPES)
@api_view
def create_ticket() -> Response:
    """Create a ticket (public: the customers' form), honouring ``Idempotency-Key``."""
    request = tickets.current_request
    body = read_json_body(request)
    new = parse_new_ticket(body)  # validate first: a bad request never uses up a key
    key = parse_idempotency_key(request.headers.get("idempotency-key"))
    service = get_ticket_service()
    who = actor(request)
    if key is None:
        ticket = service.create(new, who)
        return ticket_response(ticket, 201, Location=_ticket_url(ticket.id))

    def create(stored_body: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
        ticket_id = ticket_id_for_request(idempotency_key, stored_body)
        return ticket_json(service.create(new, who, ticket_id=ticket_id))

    settings = get_settings()
    stored, replayed = get_idempotent_create(
        settings.table_name, settings.idempotency_ttl_seconds
    ).run(key, body, tickets.lambda_context, create)
    headers = {
        "Location": _ticket_url(stored["id"]),
        "ETag": etag_of(stored["version"]),
        "Idempotent-Replayed": "true" if replayed else "false",
    }
    return json_response(stored, 201, headers)


@tickets.route(
    "/tickets/stats", methods=["GET"], cors=CORS, content_types=ANY_CONTENT_TYPE, authorizer=AGENT
)
@api_view
def ticket_stats() -> Response:
    """Dashboard figures from the counters."""
    return json_response(get_ticket_service().stats())


@tickets.route("/tickets/classify", methods=["POST"], cors=CORS, content_types=JSON_CONTENT_TYPES)
@api_view
def classify_ticket() -> Response:
    """Suggest a category and priority for a description (public: the customers' form)."""
    request = tickets.current_request
    suggestion = get_ticket_service().classify(parse_classify_request(read_json_body(request)))
    body: dict[str, str] = {
        "suggested_category": suggestion.category.value,
        "suggested_priority": suggestion.priority.value,
        "source": suggestion.source.value,
    }
    if suggestion.warning:
        body["warning"] = suggestion.warning
    return json_response(body)


@tickets.route(
    "/tickets/{ticket_id}",
    methods=["GET"],
    cors=CORS,
    content_types=ANY_CONTENT_TYPE,
    authorizer=AGENT,
)
@api_view
def get_ticket(ticket_id: str) -> Response:
    """One ticket."""
    return ticket_response(get_ticket_service().get(_checked_id(ticket_id)))


@tickets.route(
    "/tickets/{ticket_id}",
    methods=["PATCH"],
    cors=CORS,
    content_types=PATCH_CONTENT_TYPES,
    authorizer=AGENT,
)
@api_view
def update_ticket(ticket_id: str) -> Response:
    """Partial update of title, description, category, priority and status."""
    request = tickets.current_request
    ticket_id = _checked_id(ticket_id)
    changes = parse_ticket_changes(read_json_body(request))
    ticket = get_ticket_service().update(
        ticket_id, changes, parse_if_match(request), actor(request)
    )
    return ticket_response(ticket)


@tickets.route(
    "/tickets/{ticket_id}",
    methods=["DELETE"],
    cors=CORS,
    content_types=ANY_CONTENT_TYPE,
    authorizer=AGENT,
)
@api_view
def delete_ticket(ticket_id: str) -> Response:
    """Delete a ticket."""
    request = tickets.current_request
    get_ticket_service().delete(_checked_id(ticket_id), parse_if_match(request), actor(request))
    return Response(body="", status_code=204, headers={})


@tickets.route(
    "/tickets/{ticket_id}/history",
    methods=["GET"],
    cors=CORS,
    content_types=ANY_CONTENT_TYPE,
    authorizer=AGENT,
)
@api_view
def ticket_history(ticket_id: str) -> Response:
    """Every recorded change to a ticket, oldest first."""
    entries = get_ticket_service().history(_checked_id(ticket_id))
    return json_response([history_json(entry) for entry in entries])


@tickets.route("/openapi.json", methods=["GET"], cors=CORS, content_types=ANY_CONTENT_TYPE)
@api_view
def openapi() -> Response:
    """The OpenAPI 3.1 description of this API."""
    return json_response(openapi_document(), headers={"Cache-Control": "public, max-age=300"})


def _register_method_not_allowed(path: str, allowed: tuple[str, ...]) -> None:
    """Answer 405 (with ``Allow``) on the other methods, here and behind API Gateway,
    which would otherwise say 403 "Missing Authentication Token"."""
    others = [method for method in _ALL_METHODS if method not in allowed]

    @api_view
    def not_allowed(**_: str) -> Response:
        method = tickets.current_request.method
        error = MethodNotAllowed(
            f"{method} is not supported on {API_PREFIX}{path}; use {', '.join(allowed)}",
            allowed=list(allowed),
        )
        error.headers["Allow"] = ", ".join(allowed)
        raise error

    not_allowed.__name__ = "not_allowed_" + re.sub(r"\W+", "_", path).strip("_")
    tickets.route(path, methods=others, cors=CORS, content_types=ANY_CONTENT_TYPE)(not_allowed)


for _path, _allowed in (
    ("/tickets", ("GET", "POST")),
    ("/tickets/stats", ("GET",)),
    ("/tickets/classify", ("POST",)),
    ("/tickets/{ticket_id}", ("GET", "PATCH", "DELETE")),
    ("/tickets/{ticket_id}/history", ("GET",)),
    ("/openapi.json", ("GET",)),
):
    _register_method_not_allowed(_path, _allowed)
