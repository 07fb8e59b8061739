"""The JSON shapes of the API: tickets, history, messages, emails and agents.

Agents' shapes resolve recorded agent ids (Cognito subs) to the name and email
the directory knows today. The customer's shape (:func:`public_ticket_json`) holds
only what the customer may see: no internal notes, no history, no agent emails.
"""

from __future__ import annotations

from typing import Any

from chalicelib.api.http import isoformat
from chalicelib.conversation import PublicTicket
from chalicelib.dependencies import get_directory
from chalicelib.domain import CUSTOMER, Agent, HistoryEntry, Message, Notification, Ticket


def _value(member: Any) -> str | None:
    return None if member is None else str(member.value)


def _time(value: Any) -> str | None:
    return None if value is None else isoformat(value)


def reference(ticket: Ticket) -> str:
    """How people name a ticket: ``#1042``."""
    return f"#{ticket.number}" if ticket.number is not None else f"#{ticket.id[:8]}"


def ticket_json(ticket: Ticket) -> dict[str, Any]:
    """A ticket as agents (and API clients) see it."""
    directory = get_directory()
    assignee = directory.by_id(ticket.assignee) if ticket.assignee else None
    return {
        "id": ticket.id,
        "number": ticket.number,
        "reference": reference(ticket),
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
        "suggested_confidence": _value(ticket.suggested_confidence),
        "customer_email": ticket.customer_email,
        "customer_email_verified": ticket.customer_email_verified,
        "customer_name": ticket.customer_name,
        "assignee": assignee.email if assignee else None,
        "assignee_id": ticket.assignee,
        "assignee_name": assignee.display_name if assignee else None,
        "last_message_at": _time(ticket.last_message_at),
        "waiting_on": _value(ticket.waiting_on),
        "first_reply_at": _time(ticket.first_reply_at),
        "message_count": ticket.message_count,
        "version": ticket.version,
    }


def created_ticket_json(
    ticket: Ticket, customer_key: str | None, customer_url: str | None
) -> dict[str, Any]:
    """The answer to a create: the ticket, and (once) the customer's private link."""
    body = ticket_json(ticket)
    body["customer_key"] = customer_key
    body["customer_url"] = customer_url
    return body


def history_json(entry: HistoryEntry) -> dict[str, Any]:
    """A history entry; ``actor`` is what was recorded, ``actor_name`` who that is today."""
    directory = get_directory()
    return {
        "version": entry.version,
        "action": entry.action,
        "actor": entry.actor,
        "actor_name": directory.display_name(entry.actor),
        "at": isoformat(entry.at),
        "changes": [
            {
                "field": change.field,
                "old": _shown(change.field, change.old),
                "new": _shown(change.field, change.new),
            }
            for change in entry.changes
        ],
    }


def _shown(field: str, value: str | None) -> str | None:
    if field == "assignee" and value:
        return get_directory().email_of(value) or value
    return value


def message_json(message: Message) -> dict[str, Any]:
    """A message as agents see it (internal notes included, authors by email)."""
    directory = get_directory()
    by_customer = message.author == CUSTOMER
    return {
        "id": message.id,
        "ticket_id": message.ticket_id,
        "body": message.body,
        "internal": message.internal,
        "author": CUSTOMER
        if by_customer
        else (directory.email_of(message.author) or message.author),
        "author_name": "Customer" if by_customer else directory.display_name(message.author),
        "created_at": isoformat(message.created_at),
        "delivery": message.delivery.value,
        "delivery_note": message.delivery_note,
    }


def public_ticket_json(view: PublicTicket) -> dict[str, Any]:
    """What the customer's private link shows (never notes, history or agents' emails)."""
    directory = get_directory()
    ticket = view.ticket
    return {
        "id": ticket.id,
        "number": ticket.number,
        "reference": reference(ticket),
        "title": ticket.title,
        "description": ticket.description,
        "status": ticket.status.value,
        "created_at": isoformat(ticket.created_at),
        "updated_at": isoformat(ticket.updated_at),
        "messages": [
            public_message_json(message, directory.public_name(message.author))
            for message in view.messages
            if not message.internal
        ],
    }


def public_message_json(message: Message, agent_name: str = "Support") -> dict[str, Any]:
    """A message as the customer sees it."""
    by_customer = message.author == CUSTOMER
    return {
        "id": message.id,
        "body": message.body,
        "author": "customer" if by_customer else "support",
        "author_name": "You" if by_customer else agent_name,
        "created_at": isoformat(message.created_at),
    }


def notification_json(notification: Notification) -> dict[str, Any]:
    """An email the desk sent (or did not) about a ticket."""
    return {
        "kind": notification.kind,
        "to": notification.to,
        "status": notification.status.value,
        "note": notification.note,
        "at": isoformat(notification.at),
    }


def agent_json(agent: Agent) -> dict[str, Any]:
    """A member of the agents' pool."""
    return {
        "id": agent.id,
        "email": agent.email,
        "name": agent.name,
        "display_name": agent.display_name,
        "enabled": agent.enabled,
    }
