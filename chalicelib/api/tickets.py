"""The ticket routes. Each parses input, calls one service function, maps the result.

Customers (anonymous) may create tickets and ask for a classification; every other
route needs a signed-in agent (``authorizer=AGENT``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from chalice.app import Blueprint, Response

from chalicelib.api.authorizer import agent_authorizer
from chalicelib.api.guards import checked_id, register_method_not_allowed, ticket_url
from chalicelib.api.http import (
    ANY_CONTENT_TYPE,
    API_PREFIX,
    CORS,
    JSON_CONTENT_TYPES,
    PATCH_CONTENT_TYPES,
    actor,
    api_view,
    error_body,
    etag_of,
    json_response,
    optional_agent,
    parse_if_match,
    query_params,
    read_json_body,
)
from chalicelib.api.idempotency import (
    get_idempotent_create,
    parse_idempotency_key,
    ticket_id_for_request,
)
from chalicelib.api.representations import (
    created_ticket_json,
    history_json,
    notification_json,
    ticket_json,
)
from chalicelib.dependencies import (
    get_conversation_service,
    get_stats_service,
    get_ticket_service,
)
from chalicelib.domain import Ticket
from chalicelib.errors import TicketNotFound
from chalicelib.settings import get_settings
from chalicelib.validation import (
    parse_bulk_request,
    parse_classify_request,
    parse_list_query,
    parse_new_ticket,
    parse_ticket_changes,
)

tickets = Blueprint(__name__)
AGENT = agent_authorizer
NONCE_FIELD = "_issued_nonce"


def ticket_response(ticket: Ticket, status_code: int = 200, **headers: str) -> Response:
    """A ticket with its ETag."""
    return json_response(
        ticket_json(ticket), status_code, {"ETag": etag_of(ticket.version), **headers}
    )


@tickets.route(
    "/tickets", methods=["GET"], cors=CORS, content_types=ANY_CONTENT_TYPE, authorizer=AGENT
)
@api_view
def list_tickets() -> Response:
    """A page of tickets: filters, assignee, search, order and a cursor in the query string."""
    request = tickets.current_request
    query = parse_list_query(query_params(request))
    page = get_ticket_service().list_tickets(query, actor(request))
    headers = {"X-Search-Examined": str(page.examined)} if query.search else {}
    if page.next_cursor:
        params = {**query.canonical(), "limit": str(query.limit), "cursor": page.next_cursor}
        headers["Link"] = f'<{API_PREFIX}/tickets/?{urlencode(params)}>; rel="next"'
    return json_response([ticket_json(t) for t in page.tickets], headers=headers)


@tickets.route("/tickets", methods=["POST"], cors=CORS, content_types=JSON_CONTENT_TYPES)
@api_view
def create_ticket() -> Response:
    """Create a ticket (public: the customers' form), honouring ``Idempotency-Key``.

    A valid agent token is optional: with one, the agent is recorded as the creator
    and may set the status.
    """
    request = tickets.current_request
    body = read_json_body(request)
    new = parse_new_ticket(body)  # validate first: a bad request never uses up a key
    key = parse_idempotency_key(request.headers.get("idempotency-key"))
    service = get_ticket_service()
    who = optional_agent(request)
    links = service.links
    if key is None:
        created = service.create(new, who)
        url = links.url(created.ticket.id, created.customer_key) if created.customer_key else None
        return json_response(
            created_ticket_json(created.ticket, created.customer_key, url),
            201,
            {"Location": ticket_url(created.ticket.id), "ETag": etag_of(created.ticket.version)},
        )

    fresh: dict[str, str | None] = {}

    def create(stored_body: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
        ticket_id = ticket_id_for_request(idempotency_key, stored_body)
        created = service.create(new, who, ticket_id=ticket_id)
        fresh["key"] = created.customer_key
        # The remembered answer never holds the link's secret (it is stored in the table),
        # only the nonce it was issued with: a replay shows the link only while it is valid.
        return {**ticket_json(created.ticket), NONCE_FIELD: created.ticket.access_nonce}

    settings = get_settings()
    stored, replayed = get_idempotent_create(
        settings.table_name, settings.idempotency_ttl_seconds
    ).run(key, body, tickets.lambda_context, create)
    issued_nonce = stored.pop(NONCE_FIELD, None)
    customer_key = fresh.get("key")
    if replayed:
        customer_key = _current_key(service.get, stored["id"], issued_nonce)
    url = links.url(stored["id"], customer_key) if customer_key else None
    headers = {
        "Location": ticket_url(stored["id"]),
        "ETag": etag_of(stored["version"]),
        "Idempotent-Replayed": "true" if replayed else "false",
    }
    return json_response(
        {**stored, "customer_key": customer_key, "customer_url": url}, 201, headers
    )


def _current_key(get: Any, ticket_id: str, issued_nonce: str | None) -> str | None:
    """The replayed create's link secret, re-derived, while the link it issued is still the
    ticket's; None once an agent replaced it (a replay never hands out the new link) or
    the ticket is gone."""
    try:
        ticket: Ticket = get(ticket_id)
    except TicketNotFound:
        return None
    if ticket.access_nonce is None or ticket.access_nonce != issued_nonce:
        return None
    return get_ticket_service().links.secret(ticket.id, ticket.access_nonce)


@tickets.route(
    "/tickets/stats", methods=["GET"], cors=CORS, content_types=ANY_CONTENT_TYPE, authorizer=AGENT
)
@api_view
def ticket_stats() -> Response:
    """Dashboard figures from the counters."""
    return json_response(get_stats_service().stats())


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
        "confidence": suggestion.confidence.value,
    }
    if suggestion.warning:
        body["warning"] = suggestion.warning
    if suggestion.suggestion_id:
        body["suggestion_id"] = suggestion.suggestion_id
    return json_response(body)


@tickets.route(
    "/tickets/bulk", methods=["POST"], cors=CORS, content_types=JSON_CONTENT_TYPES, authorizer=AGENT
)
@api_view
def bulk_update() -> Response:
    """Change up to 100 tickets at once, each conditional on the version the agent saw;
    one outcome per ticket."""
    request = tickets.current_request
    outcomes = get_ticket_service().bulk_update(
        parse_bulk_request(read_json_body(request)), actor(request)
    )
    results = []
    for outcome in outcomes:
        result: dict[str, Any] = {"id": outcome.ticket_id, "status": outcome.status}
        if outcome.error is not None:
            result.update(error_body(outcome.error))
        elif outcome.ticket is not None:
            result["ticket"] = ticket_json(outcome.ticket)
        results.append(result)
    return json_response({"results": results})


@tickets.route(
    "/tickets/by-number/{number}",
    methods=["GET"],
    cors=CORS,
    content_types=ANY_CONTENT_TYPE,
    authorizer=AGENT,
)
@api_view
def ticket_by_number(number: str) -> Response:
    """The ticket with this number (``#1042`` is ``/tickets/by-number/1042/``)."""
    if not number.isascii() or not number.isdigit() or len(number) > 12:
        raise TicketNotFound(f"#{number}")
    return ticket_response(get_ticket_service().get_by_number(int(number)))


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
    return ticket_response(get_ticket_service().get(checked_id(ticket_id)))


@tickets.route(
    "/tickets/{ticket_id}",
    methods=["PATCH"],
    cors=CORS,
    content_types=PATCH_CONTENT_TYPES,
    authorizer=AGENT,
)
@api_view
def update_ticket(ticket_id: str) -> Response:
    """Partial update of title, description, category, priority, status and assignee."""
    request = tickets.current_request
    ticket_id = checked_id(ticket_id)
    changes = parse_ticket_changes(read_json_body(request, PATCH_CONTENT_TYPES))
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
    get_ticket_service().delete(checked_id(ticket_id), parse_if_match(request), actor(request))
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
    """Every recorded change to a ticket, oldest first (kept after a delete: an audit log)."""
    entries = get_ticket_service().history(checked_id(ticket_id))
    return json_response([history_json(entry) for entry in entries])


@tickets.route(
    "/tickets/{ticket_id}/emails",
    methods=["GET"],
    cors=CORS,
    content_types=ANY_CONTENT_TYPE,
    authorizer=AGENT,
)
@api_view
def ticket_emails(ticket_id: str) -> Response:
    """The emails sent to the customer about a ticket, and those deliberately not sent."""
    records = get_conversation_service().notifications(checked_id(ticket_id))
    return json_response([notification_json(record) for record in records])


@tickets.route(
    "/tickets/{ticket_id}/access-link",
    methods=["POST"],
    cors=CORS,
    content_types=ANY_CONTENT_TYPE,
    authorizer=AGENT,
)
@api_view
def renew_access_link(ticket_id: str) -> Response:
    """Email the customer a new private link; the old one stops working at once."""
    request = tickets.current_request
    ticket = get_ticket_service().renew_link(checked_id(ticket_id), actor(request))
    return json_response(
        {"sent_to": ticket.customer_email, "ticket": ticket_json(ticket)},
        202,
        {"ETag": etag_of(ticket.version)},
    )


register_method_not_allowed(
    tickets,
    (
        ("/tickets", ("GET", "POST")),
        ("/tickets/stats", ("GET",)),
        ("/tickets/classify", ("POST",)),
        ("/tickets/bulk", ("POST",)),
        ("/tickets/by-number/{number}", ("GET",)),
        ("/tickets/{ticket_id}", ("GET", "PATCH", "DELETE")),
        ("/tickets/{ticket_id}/history", ("GET",)),
        ("/tickets/{ticket_id}/emails", ("GET",)),
        ("/tickets/{ticket_id}/access-link", ("POST",)),
    ),
)
