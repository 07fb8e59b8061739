"""The agents' side of the conversation: a ticket's messages, replies and notes."""

from __future__ import annotations

from urllib.parse import urlencode

from chalice.app import Blueprint, Response

from chalicelib.api.authorizer import agent_authorizer
from chalicelib.api.guards import checked_id, register_method_not_allowed
from chalicelib.api.http import (
    ANY_CONTENT_TYPE,
    API_PREFIX,
    CORS,
    JSON_CONTENT_TYPES,
    actor,
    api_view,
    etag_of,
    json_response,
    query_params,
    read_json_body,
)
from chalicelib.api.representations import message_json
from chalicelib.dependencies import get_conversation_service
from chalicelib.errors import ValidationFailed
from chalicelib.validation import LIMIT_MAX, parse_new_message

messages = Blueprint(__name__)
AGENT = agent_authorizer
THREAD_PAGE_DEFAULT = 100


def _thread_params(params: dict[str, str]) -> tuple[int, str | None]:
    unknown = sorted(set(params) - {"limit", "cursor"})
    if unknown:
        raise ValidationFailed(
            f"Unknown parameter(s): {', '.join(unknown)}; allowed: cursor, limit",
            fields={name: "not allowed here" for name in unknown},
        )
    raw = params.get("limit") or str(THREAD_PAGE_DEFAULT)
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= LIMIT_MAX:
        message = f"limit must be a whole number from 1 to {LIMIT_MAX} (got {raw!r})"
        raise ValidationFailed(message, fields={"limit": message})
    return int(raw), params.get("cursor") or None


@messages.route(
    "/tickets/{ticket_id}/messages",
    methods=["GET"],
    cors=CORS,
    content_types=ANY_CONTENT_TYPE,
    authorizer=AGENT,
)
@api_view
def list_messages(ticket_id: str) -> Response:
    """A page of the ticket's messages, oldest first (internal notes included)."""
    ticket_id = checked_id(ticket_id)
    limit, cursor = _thread_params(query_params(messages.current_request))
    thread = get_conversation_service().thread(ticket_id, limit, cursor)
    headers = {}
    if thread.next_cursor:
        query = urlencode({"limit": str(limit), "cursor": thread.next_cursor})
        headers["Link"] = f'<{API_PREFIX}/tickets/{ticket_id}/messages/?{query}>; rel="next"'
    return json_response([message_json(m) for m in thread.messages], headers=headers)


@messages.route(
    "/tickets/{ticket_id}/messages",
    methods=["POST"],
    cors=CORS,
    content_types=JSON_CONTENT_TYPES,
    authorizer=AGENT,
)
@api_view
def post_message(ticket_id: str) -> Response:
    """A reply to the customer (emailed) or an internal note; optionally set the status."""
    request = messages.current_request
    ticket_id = checked_id(ticket_id)
    new = parse_new_message(read_json_body(request), agent=True)
    message, ticket = get_conversation_service().post_as_agent(ticket_id, new, actor(request))
    # The ticket's new version, so the console's next change is conditional on it.
    return json_response(message_json(message), 201, {"ETag": etag_of(ticket.version)})


register_method_not_allowed(messages, (("/tickets/{ticket_id}/messages", ("GET", "POST")),))
