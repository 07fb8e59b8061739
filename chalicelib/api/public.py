"""The customer's private page: one ticket and its conversation, through its secret link.

Both routes are public (no sign-in); the secret travels in the ``X-Ticket-Key``
header. Any failure (no such ticket, a missing, wrong, revoked or other ticket's
key) is the same 404, which reveals nothing about what exists.
"""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib.api.guards import register_method_not_allowed
from chalicelib.api.http import (
    ANY_CONTENT_TYPE,
    CORS,
    JSON_CONTENT_TYPES,
    api_view,
    json_response,
    read_json_body,
)
from chalicelib.api.representations import public_message_json, public_ticket_json
from chalicelib.conversation import PUBLIC_NOT_FOUND
from chalicelib.dependencies import get_conversation_service
from chalicelib.errors import NotFound
from chalicelib.validation import parse_new_message

public = Blueprint(__name__)
_ID_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyz234567")


def _ticket_key(ticket_id: str) -> tuple[str, str | None]:
    if len(ticket_id) != 24 or not set(ticket_id) <= _ID_CHARACTERS:
        raise NotFound(PUBLIC_NOT_FOUND)
    return ticket_id, public.current_request.headers.get("x-ticket-key")


@public.route(
    "/public/tickets/{ticket_id}", methods=["GET"], cors=CORS, content_types=ANY_CONTENT_TYPE
)
@api_view
def public_ticket(ticket_id: str) -> Response:
    """The ticket and its conversation as the customer sees it."""
    view = get_conversation_service().public_ticket(*_ticket_key(ticket_id))
    return json_response(public_ticket_json(view))


@public.route(
    "/public/tickets/{ticket_id}/messages",
    methods=["POST"],
    cors=CORS,
    content_types=JSON_CONTENT_TYPES,
)
@api_view
def public_message(ticket_id: str) -> Response:
    """The customer's message (reopens a resolved or closed ticket)."""
    ticket_id, key = _ticket_key(ticket_id)
    service = get_conversation_service()
    service.public_ticket(ticket_id, key)  # a bad key is a 404 before the body is read
    new = parse_new_message(read_json_body(public.current_request), agent=False)
    message = service.post_as_customer(ticket_id, key, new.body)
    return json_response(public_message_json(message), 201)


register_method_not_allowed(
    public,
    (
        ("/public/tickets/{ticket_id}", ("GET",)),
        ("/public/tickets/{ticket_id}/messages", ("POST",)),
    ),
)
