"""Build the OpenAPI 3.1 document (``chalicelib/api/openapi.json``) from this source.

The document is written in Python so its repeated parts (error responses, ETags,
enums) are written once; the JSON file is what the API serves and what Schemathesis
reads. ``make openapi`` rewrites it; tests/unit/test_openapi_source.py fails when the
file and this source disagree.

    python -m tools.openapi_build            # rewrite chalicelib/api/openapi.json
    python -m tools.openapi_build --check    # exit 1 if the file is out of date
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from email_validator import SPECIAL_USE_DOMAIN_NAMES

from chalicelib.classification.definitions import CATEGORY_DEFINITIONS, PRIORITY_DEFINITIONS
from chalicelib.domain import PRIORITY_ORDER, Category, Status
from chalicelib.search.text import MAX_PREFIX, MAX_TERMS_PER_TICKET
from chalicelib.validation import BULK_MAX, EMAIL_MAX, MESSAGE_MAX, NAME_MAX

DOCUMENT = Path(__file__).resolve().parent.parent / "chalicelib" / "api" / "openapi.json"
TICKET_ID = "^[a-z2-7]{24}$"
NOT_BLANK = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$"
ETAG_PATTERN = '^"v[0-9]+"$'
# Empty means "no cursor" (an HTML form sends empty parameters).
CURSOR_PATTERN = "^[A-Za-z0-9_-]{0,1024}$"
_TAG = '(W/)?"v[0-9]{1,12}"'
IF_MATCH_PATTERN = f"^(\\*|{_TAG}( *, *{_TAG})*)$"


def _any_case(word: str) -> str:
    """``test`` as ``[tT][eE][sS][tT]``: ECMA 262 patterns have no inline (?i)."""
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in word)


SPECIAL_USE_DOMAIN = (
    "[.@](" + "|".join(_any_case(name) for name in SPECIAL_USE_DOMAIN_NAMES) + ")\\.?$"
)


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"oneOf": [schema, {"type": "null"}]}


def counts(values: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": values,
        "properties": {value: {"type": "integer", "minimum": 0} for value in values},
    }


def json_body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def error(description: str, **extra: Any) -> dict[str, Any]:
    return {"description": description, **json_body(ref("Error")), **extra}


def response(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/responses/{name}"}


ETAG_HEADER = {
    "ETag": {
        "description": "The ticket version, for If-Match.",
        "schema": {"type": "string", "pattern": ETAG_PATTERN},
    }
}
LINK_HEADER = {
    "Link": {
        "description": '`<url>; rel="next"` when another page follows.',
        "schema": {"type": "string"},
    }
}
TICKET_ID_PARAMETER = {
    "name": "ticket_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "description": "The ticket's id (24 characters `a-z`, `2-7`); any other value is a 404.",
}
TICKET_KEY_PARAMETER = {
    "name": "X-Ticket-Key",
    "in": "header",
    "required": True,
    "schema": {"type": "string", "maxLength": 128},
    "description": "The secret of the customer's private link (the `key` in its fragment).",
}
IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "schema": {"type": "string", "pattern": IF_MATCH_PATTERN},
    "description": (
        'The ETag you loaded (`"v3"`, or weak `W/"v3"`), several separated by commas, or '
        "`*`. A tag of another version is a 412; an empty or malformed header is a 400."
    ),
}
LIMIT: dict[str, Any] = {
    "name": "limit",
    "in": "query",
    "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 50},
}
CURSOR = {
    "name": "cursor",
    "in": "query",
    "schema": {"type": "string", "pattern": CURSOR_PATTERN},
    "description": (
        "Taken from the Link header of the previous page: URL-safe base64 (no padding) of "
        "the position and a 16-byte HMAC that ties it to the query. An altered cursor, or "
        "one from another query or signing key, is a 400."
    ),
}
MERGE_PATCH = ["application/json", "application/merge-patch+json"]
CONFLICT = error("The ticket kept changing under concurrent writers for about 3 s; retry.")
STALE = {
    "description": (
        "If-Match named a version that is no longer current; nothing changed. The body "
        "carries the current ticket and the ETag header its version."
    ),
    "headers": {"ETag": {"description": "The current version.", "schema": {"type": "string"}}},
    **json_body(
        {
            "allOf": [
                ref("Error"),
                {
                    "type": "object",
                    "properties": {
                        "current": ref("Ticket"),
                        "current_version": {"type": "integer"},
                    },
                },
            ]
        }
    ),
}

SEARCH_DESCRIPTION = (
    "Words of Unicode letters and digits, case- and accent-insensitive; every word must "
    "match (AND); a word of 2 or more characters also matches as a prefix (its first "
    f"{MAX_PREFIX} characters count). An email address matches that customer's tickets "
    "exactly. The whole query being a reference (`#1042`, `#3ykzwkda`, a full id) finds "
    "that ticket; a bare number or short reference finds it first, then the tickets whose "
    "text matches. Covers titles, descriptions and messages (internal notes included: "
    f"agents only), at most {MAX_TERMS_PER_TICKET} index terms per ticket. Results follow "
    "`sort` (newest first by default) and combine with the filters. A query with no word "
    "of letters or digits, or over 200 characters, is a 400."
)


def schemas() -> dict[str, Any]:
    ticket_properties: dict[str, Any] = {
        "id": {"type": "string", "pattern": TICKET_ID},
        "number": {"type": ["integer", "null"], "minimum": 1},
        "reference": {"type": "string", "description": "How people name it: `#1042`."},
        "title": {"type": "string"},
        "description": {"type": "string"},
        "category": ref("Category"),
        "priority": ref("Priority"),
        "status": ref("Status"),
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
        "suggested_category": nullable(ref("Category")),
        "suggested_priority": nullable(ref("Priority")),
        "classification_source": nullable(ref("Source")),
        "suggested_confidence": nullable(ref("Confidence")),
        "customer_email": {"type": ["string", "null"]},
        "customer_email_verified": {
            "type": "boolean",
            "description": (
                "Whether the link emailed to that address was ever opened: the form takes any "
                "address, so until then the email is only what the submitter typed."
            ),
        },
        "customer_name": {"type": ["string", "null"]},
        "assignee": {
            "type": ["string", "null"],
            "description": "The assigned agent's email (null when nobody is assigned).",
        },
        "assignee_id": {"type": ["string", "null"], "description": "The agent's stable id."},
        "assignee_name": {"type": ["string", "null"]},
        "last_message_at": {"type": ["string", "null"], "format": "date-time"},
        "waiting_on": nullable(ref("WaitingOn")),
        "first_reply_at": {"type": ["string", "null"], "format": "date-time"},
        "message_count": {"type": "integer", "minimum": 0},
        "version": {"type": "integer", "minimum": 1},
    }
    created_properties = {
        **ticket_properties,
        "customer_key": {
            "type": ["string", "null"],
            "description": "The secret of the customer's private link (this answer only).",
        },
        "customer_url": {
            "type": ["string", "null"],
            "description": "`<site>/#/my-ticket/<id>?key=<secret>`: the customer's private page.",
        },
    }
    message = {
        "type": "object",
        "additionalProperties": False,
        "required": [
            "id",
            "ticket_id",
            "body",
            "internal",
            "author",
            "author_name",
            "created_at",
            "delivery",
            "delivery_note",
        ],
        "properties": {
            "id": {"type": "string"},
            "ticket_id": {"type": "string", "pattern": TICKET_ID},
            "body": {"type": "string"},
            "internal": {"type": "boolean"},
            "author": {"type": "string", "description": "The agent's email, or `customer`."},
            "author_name": {"type": "string"},
            "created_at": {"type": "string", "format": "date-time"},
            "delivery": ref("Delivery"),
            "delivery_note": {"type": ["string", "null"]},
        },
    }
    public_message = {
        "type": "object",
        "additionalProperties": False,
        "required": ["id", "body", "author", "author_name", "created_at"],
        "properties": {
            "id": {"type": "string"},
            "body": {"type": "string"},
            "author": {"type": "string", "enum": ["customer", "support"]},
            "author_name": {
                "type": "string",
                "description": "`You`, the agent's display name, or `Support`.",
            },
            "created_at": {"type": "string", "format": "date-time"},
        },
    }
    priority_values = [p.value for p in PRIORITY_ORDER]
    return {
        "Category": {
            "type": "string",
            "enum": [c.value for c in Category],
            "description": "; ".join(f"{c.value}: {t}" for c, t in CATEGORY_DEFINITIONS.items()),
        },
        "Priority": {
            "type": "string",
            "enum": ["low", "medium", "high", "critical"],
            "description": "; ".join(f"{p.value}: {t}" for p, t in PRIORITY_DEFINITIONS.items()),
        },
        "Status": {
            "type": "string",
            "enum": [s.value for s in Status],
            "description": "Where the ticket is in its life.",
        },
        "Source": {
            "type": "string",
            "enum": ["llm", "fallback"],
            "description": "Who proposed the classification: Claude, or the offline classifier.",
        },
        "Confidence": {
            "type": "string",
            "enum": ["high", "low"],
            "description": "How sure the classifier was; `low` suggestions deserve a review.",
        },
        "WaitingOn": {
            "type": "string",
            "enum": ["agent", "customer"],
            "description": "Who owes the next answer.",
        },
        "Delivery": {
            "type": "string",
            "enum": ["pending", "sent", "not_delivered", "suppressed", "none"],
            "description": (
                "What became of the email: pending (the mailer has not run yet), sent, "
                "not_delivered (refused or failed after retries), suppressed (a limit), "
                "none (nothing to send: a note, the customer's own message, no email)."
            ),
        },
        "Title": {
            "type": "string",
            "minLength": 1,
            "maxLength": 200,
            "pattern": NOT_BLANK,
            "description": "1-200 characters after trimming.",
        },
        "Description": {
            "type": "string",
            "minLength": 1,
            "maxLength": 10000,
            "pattern": NOT_BLANK,
        },
        "Email": {
            "type": "string",
            "format": "email",
            "maxLength": EMAIL_MAX,
            # email-validator refuses special-use domains (RFC 6761): no mail reaches them.
            "not": {"pattern": SPECIAL_USE_DOMAIN},
            "description": (
                "Validated and normalised to lower case. Special-use domains ("
                + ", ".join(f"`.{name}`" for name in SPECIAL_USE_DOMAIN_NAMES)
                + ") are refused: no mail reaches them."
            ),
        },
        "Ticket": {
            "type": "object",
            "additionalProperties": False,
            "required": list(ticket_properties),
            "properties": ticket_properties,
        },
        "CreatedTicket": {
            "type": "object",
            "additionalProperties": False,
            "required": list(created_properties),
            "properties": created_properties,
        },
        "NewTicket": {
            "type": "object",
            "additionalProperties": False,
            "required": ["title", "description"],
            "properties": {
                "title": ref("Title"),
                "description": ref("Description"),
                "category": {
                    "anyOf": [ref("Category"), {"type": "null"}],
                    "description": "Optional; when absent the server's classification decides.",
                },
                "priority": {
                    "anyOf": [ref("Priority"), {"type": "null"}],
                    "description": "Optional; when absent the server's classification decides.",
                },
                "status": {
                    "anyOf": [ref("Status"), {"type": "null"}],
                    "description": (
                        "Only a signed-in agent (a valid token) may set it; without one, "
                        "anything but `open` is a 400."
                    ),
                },
                "customer_email": {
                    "anyOf": [ref("Email"), {"type": "null"}, {"const": ""}],
                    "description": (
                        "Where the confirmation and replies go (optional here; null or an "
                        "empty string means not given, as a form sends it)."
                    ),
                },
                "customer_name": {
                    "anyOf": [
                        {
                            "type": "string",
                            "maxLength": NAME_MAX,
                            "pattern": "^[^\\u0000-\\u001f\\u007f]*$",
                        },
                        {"type": "null"},
                    ],
                    "description": "Optional; an empty string means not given.",
                },
                "suggestion_id": {
                    "anyOf": [ref("SuggestionId"), {"type": "null"}],
                    "description": (
                        "The `suggestion_id` of the classification answer whose suggestion "
                        "the form showed for this same title and description. The ticket "
                        "then records that suggestion (Claude's, read from the cache) as "
                        "`suggested_category` and `suggested_priority`. Without it, or for "
                        "text that changed since, a ticket whose category and priority are "
                        "both given records the offline classifier's suggestion (no Claude "
                        "call and no cache read); one missing either is classified as "
                        "always (the cache first, then Claude)."
                    ),
                },
            },
        },
        "TicketPatch": {
            "type": "object",
            "additionalProperties": False,
            "minProperties": 1,
            "properties": {
                "title": ref("Title"),
                "description": ref("Description"),
                "category": ref("Category"),
                "priority": ref("Priority"),
                "status": ref("Status"),
                "assignee": {
                    "anyOf": [ref("Email"), {"type": "null"}],
                    "description": "An agent's email (GET /agents/), or null to unassign.",
                },
            },
        },
        "BulkRequest": {
            "type": "object",
            "additionalProperties": False,
            "required": ["items"],
            "properties": {
                "items": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": BULK_MAX,
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["id", "version", "changes"],
                        "properties": {
                            "id": {"type": "string", "minLength": 1},
                            "version": {"type": "integer", "minimum": 1},
                            "changes": ref("TicketPatch"),
                        },
                    },
                }
            },
        },
        "BulkResult": {
            "type": "object",
            "required": ["results"],
            "properties": {
                "results": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["id", "status"],
                        "properties": {
                            "id": {"type": "string"},
                            "status": {
                                "type": "integer",
                                "description": "200, or the error status (400, 404, 409, 412).",
                            },
                            "ticket": ref("Ticket"),
                            "error": {"type": "string"},
                            "current": ref("Ticket"),
                        },
                    },
                }
            },
        },
        "ClassifyRequest": {
            "type": "object",
            "additionalProperties": False,
            "required": ["description"],
            "properties": {
                "description": ref("Description"),
                "title": {
                    "type": "string",
                    "maxLength": 200,
                    "pattern": "^[^\\u0000]*$",
                    "description": "Optional context; may be empty.",
                },
            },
        },
        "Classification": {
            "type": "object",
            "additionalProperties": False,
            "required": ["suggested_category", "suggested_priority", "source", "confidence"],
            "properties": {
                "suggested_category": ref("Category"),
                "suggested_priority": ref("Priority"),
                "source": ref("Source"),
                "confidence": ref("Confidence"),
                "warning": {
                    "type": "string",
                    "description": "Present for the offline classifier's suggestion: why.",
                },
                "suggestion_id": {
                    **ref("SuggestionId"),
                    "description": (
                        "Present for Claude's suggestion: send it with the create "
                        "(`NewTicket.suggestion_id`) so the ticket records this suggestion."
                    ),
                },
            },
        },
        "SuggestionId": {
            "type": "string",
            "pattern": "^[0-9a-f]{64}$",
            "description": "Names a classification answer: 64 lowercase hex digits.",
        },
        "NewMessage": {
            "type": "object",
            "additionalProperties": False,
            "required": ["body"],
            "properties": {
                "body": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": MESSAGE_MAX,
                    "pattern": NOT_BLANK,
                    "description": "Plain text; line breaks are kept.",
                },
                "internal": {
                    "type": "boolean",
                    "default": False,
                    "description": "An internal note: agents only, never emailed.",
                },
                "status": {
                    "anyOf": [ref("Status"), {"type": "null"}],
                    "description": "Also set the ticket's status; absent or null leaves it.",
                },
            },
        },
        "NewPublicMessage": {
            "type": "object",
            "additionalProperties": False,
            "required": ["body"],
            "properties": {
                "body": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": MESSAGE_MAX,
                    "pattern": NOT_BLANK,
                }
            },
        },
        "Message": message,
        "PublicMessage": public_message,
        "PublicTicket": {
            "type": "object",
            "additionalProperties": False,
            "required": [
                "id",
                "number",
                "reference",
                "title",
                "description",
                "status",
                "created_at",
                "updated_at",
                "messages",
            ],
            "properties": {
                "id": {"type": "string", "pattern": TICKET_ID},
                "number": {"type": ["integer", "null"]},
                "reference": {"type": "string"},
                "title": {"type": "string"},
                "description": {"type": "string"},
                "status": ref("Status"),
                "created_at": {"type": "string", "format": "date-time"},
                "updated_at": {"type": "string", "format": "date-time"},
                "messages": {"type": "array", "items": ref("PublicMessage")},
            },
        },
        "EmailRecord": {
            "type": "object",
            "additionalProperties": False,
            "required": ["kind", "to", "status", "note", "at"],
            "properties": {
                "kind": {"type": "string", "enum": ["confirmation", "reply", "resolved", "link"]},
                "to": {"type": "string"},
                "status": ref("Delivery"),
                "note": {"type": ["string", "null"]},
                "at": {"type": "string", "format": "date-time"},
            },
        },
        "Agent": {
            "type": "object",
            "additionalProperties": False,
            "required": ["id", "email", "name", "display_name", "enabled"],
            "properties": {
                "id": {"type": "string"},
                "email": {"type": "string"},
                "name": {"type": ["string", "null"]},
                "display_name": {"type": "string"},
                "enabled": {"type": "boolean"},
            },
        },
        "Stats": {
            "type": "object",
            "required": [
                "generated_at",
                "total_tickets",
                "open_tickets",
                "unsolved_tickets",
                "unassigned_unsolved",
                "new_today",
                "avg_tickets_per_day",
                "priority_breakdown",
                "category_breakdown",
                "status_breakdown",
                "unsolved_by_priority",
                "unsolved_by_age",
                "created_per_day",
                "oldest_unsolved",
                "ai_agreement",
                "first_reply",
                "claude_budget",
            ],
            "properties": {
                "generated_at": {"type": "string", "format": "date-time"},
                "total_tickets": {"type": "integer", "minimum": 0},
                "open_tickets": {
                    "type": "integer",
                    "minimum": 0,
                    "description": "Status open only.",
                },
                "unsolved_tickets": {
                    "type": "integer",
                    "minimum": 0,
                    "description": "Open or in progress.",
                },
                "unassigned_unsolved": {"type": "integer", "minimum": 0},
                "new_today": {
                    "type": "integer",
                    "minimum": 0,
                    "description": "Created this UTC day.",
                },
                "avg_tickets_per_day": {
                    "type": "number",
                    "minimum": 0,
                    "description": "Tickets created in the last 30 UTC days, divided by 30.",
                },
                "priority_breakdown": counts(priority_values),
                "category_breakdown": counts([c.value for c in Category]),
                "status_breakdown": counts([s.value for s in Status]),
                "unsolved_by_priority": counts(priority_values),
                "unsolved_by_age": counts(
                    ["today", "1_to_2_days", "3_to_6_days", "7_days_or_more"]
                ),
                "created_per_day": {
                    "type": "array",
                    "minItems": 30,
                    "maxItems": 30,
                    "items": {
                        "type": "object",
                        "required": ["date", "count"],
                        "properties": {
                            "date": {"type": "string", "format": "date"},
                            "count": {"type": "integer", "minimum": 0},
                        },
                    },
                },
                "oldest_unsolved": {
                    "oneOf": [
                        {
                            "type": "object",
                            "required": ["id", "number", "title", "priority", "created_at"],
                            "properties": {
                                "id": {"type": "string"},
                                "number": {"type": ["integer", "null"]},
                                "title": {"type": "string"},
                                "priority": ref("Priority"),
                                "created_at": {"type": "string", "format": "date-time"},
                            },
                        },
                        {"type": "null"},
                    ]
                },
                "ai_agreement": {
                    "type": "object",
                    "required": ["category", "priority"],
                    "properties": {
                        field: counts(["kept", "overridden"]) for field in ("category", "priority")
                    },
                },
                "first_reply": {
                    "type": "object",
                    "required": ["count", "median_minutes", "histogram"],
                    "properties": {
                        "count": {"type": "integer", "minimum": 0},
                        "median_minutes": {
                            "type": ["number", "null"],
                            "description": "Estimated within its histogram bucket.",
                        },
                        "histogram": {
                            "type": "object",
                            "additionalProperties": {"type": "integer"},
                        },
                    },
                },
                "claude_budget": {
                    "type": "object",
                    "required": ["date", "used", "limit"],
                    "properties": {
                        "date": {"type": "string", "format": "date"},
                        "used": {"type": "integer", "minimum": 0},
                        "limit": {"type": "integer", "minimum": 0},
                    },
                },
            },
        },
        "HistoryEntry": {
            "type": "object",
            "additionalProperties": False,
            "required": ["version", "action", "actor", "actor_name", "at", "changes"],
            "properties": {
                "version": {"type": "integer"},
                "action": {
                    "type": "string",
                    "enum": ["created", "updated", "reopened", "link_renewed", "deleted"],
                },
                "actor": {
                    "type": "string",
                    "description": (
                        "`customer`, or the agent's stable id (history written before ids "
                        "were recorded holds the agent's email)."
                    ),
                },
                "actor_name": {"type": "string", "description": "Who that is today."},
                "at": {"type": "string", "format": "date-time"},
                "changes": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["field", "old", "new"],
                        "properties": {
                            "field": {"type": "string"},
                            "old": {"type": ["string", "null"]},
                            "new": {"type": ["string", "null"]},
                        },
                    },
                },
            },
        },
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "string",
                    "description": "What went wrong, in words a person understands.",
                },
                "fields": {"type": "object", "additionalProperties": {"type": "string"}},
                "allowed": {"type": "array", "items": {"type": "string"}},
            },
        },
    }


def responses() -> dict[str, Any]:
    return {
        "BadRequest": error(
            "Invalid input (the message names every bad field and, for enums, the allowed values)."
        ),
        "Unauthorized": error("No valid agent token: sign in."),
        "NotFound": error("No such ticket."),
        "PublicNotFound": error(
            "The link is not valid: the same answer for no ticket, no key, a wrong, revoked "
            "or other ticket's key."
        ),
        "TooLarge": error("The body is over the limit (64 KB)."),
        "UnsupportedMediaType": error("The body must be JSON."),
        "Unavailable": error(
            "DynamoDB (or the agents' directory) is throttling or failing; nothing was written.",
            headers={
                "Retry-After": {
                    "description": "Seconds to wait before retrying.",
                    "schema": {"type": "string"},
                }
            },
        ),
    }


def _agent(operation: dict[str, Any], *statuses: str) -> dict[str, Any]:
    """Add the answers every agent operation can give."""
    found = operation.setdefault("responses", {})
    found.setdefault("401", response("Unauthorized"))
    found.setdefault("503", response("Unavailable"))
    for status in statuses:
        found.setdefault(
            status,
            {
                "400": response("BadRequest"),
                "404": response("NotFound"),
                "409": CONFLICT,
                "412": STALE,
                "413": response("TooLarge"),
                "415": response("UnsupportedMediaType"),
            }[status],
        )
    return operation


def _or_empty(parameter: dict[str, Any]) -> dict[str, Any]:
    """The list's query parameters also take an empty value, meaning "not given", as an HTML
    form sends an unset field (``?sort=``)."""
    note = "An empty value means not given."
    described = f"{parameter['description']} {note}" if "description" in parameter else note
    return {
        **parameter,
        "schema": {"anyOf": [parameter["schema"], {"type": "string", "const": ""}]},
        "description": described,
    }


def paths() -> dict[str, Any]:
    filters = [
        {"name": "category", "in": "query", "schema": ref("Category")},
        {"name": "priority", "in": "query", "schema": ref("Priority")},
        {
            "name": "status",
            "in": "query",
            "schema": {"type": "string", "enum": ["unsolved", *(s.value for s in Status)]},
            "description": "A status, or `unsolved` (open or in progress).",
        },
        {
            "name": "assignee",
            "in": "query",
            "schema": {"anyOf": [{"type": "string", "enum": ["me", "none"]}, ref("Email")]},
            "description": "An agent's email (one not in the pool is a 400), `me` or `none`.",
        },
        {
            "name": "search",
            "in": "query",
            "schema": {"type": "string", "maxLength": 200},
            "description": SEARCH_DESCRIPTION,
        },
        {
            "name": "sort",
            "in": "query",
            "schema": {
                "type": "string",
                "enum": ["newest", "oldest", "priority"],
                "default": "newest",
            },
            "description": "`priority`: critical first, then oldest first within a priority.",
        },
        LIMIT,
    ]
    filters = [_or_empty(parameter) for parameter in filters] + [CURSOR]
    return {
        "/tickets/": {
            "get": _agent(
                {
                    "operationId": "listTickets",
                    "summary": "List tickets: filters, assignee, search and order",
                    "parameters": filters,
                    "responses": {
                        "200": {
                            "description": (
                                "One page of tickets. Pages are full; a shorter page is the last "
                                "(a search stops early only after examining 2,000 candidates)."
                            ),
                            "headers": {
                                **LINK_HEADER,
                                "X-Search-Examined": {
                                    "description": "Items this search request read.",
                                    "schema": {"type": "string"},
                                },
                            },
                            **json_body({"type": "array", "items": ref("Ticket")}),
                        }
                    },
                },
                "400",
            ),
            "post": {
                "operationId": "createTicket",
                "summary": "Create a ticket (public; an agent's token is optional)",
                "security": [{}, {"agentToken": []}],
                "parameters": [
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "schema": {
                            "type": "string",
                            "minLength": 8,
                            "maxLength": 255,
                            "pattern": "^[!-~]+$",
                        },
                        "description": (
                            "Makes retries safe: the same key and body return the original "
                            "response; the same key with another body is a 422; keys expire "
                            "after 24 h, after which the same key and body are a 409."
                        ),
                    }
                ],
                "requestBody": {"required": True, **json_body(ref("NewTicket"))},
                "responses": {
                    "201": {
                        "description": "Created, with the customer's private link (shown once).",
                        "links": {
                            "GetTicket": {
                                "operationId": "getTicket",
                                "parameters": {"ticket_id": "$response.body#/id"},
                            },
                            "GetTicketByNumber": {
                                "operationId": "getTicketByNumber",
                                "parameters": {"number": "$response.body#/number"},
                            },
                            "GetPublicTicket": {
                                "operationId": "getPublicTicket",
                                "parameters": {
                                    "ticket_id": "$response.body#/id",
                                    "header.X-Ticket-Key": "$response.body#/customer_key",
                                },
                            },
                            "PostPublicMessage": {
                                "operationId": "postPublicMessage",
                                "parameters": {
                                    "ticket_id": "$response.body#/id",
                                    "header.X-Ticket-Key": "$response.body#/customer_key",
                                },
                            },
                        },
                        "headers": {
                            "Location": {"schema": {"type": "string"}},
                            **ETAG_HEADER,
                            "Idempotent-Replayed": {
                                "description": (
                                    "`true` when this is the stored response of an earlier "
                                    "request with the same key."
                                ),
                                "schema": {"type": "string", "enum": ["true", "false"]},
                            },
                        },
                        **json_body(ref("CreatedTicket")),
                    },
                    "400": response("BadRequest"),
                    "409": error(
                        "A request with the same Idempotency-Key is still being processed, or "
                        "its record expired (use a new key)."
                    ),
                    "413": response("TooLarge"),
                    "415": response("UnsupportedMediaType"),
                    "422": error("The Idempotency-Key was used before with a different body."),
                    "503": response("Unavailable"),
                },
            },
        },
        "/tickets/stats/": {
            "get": _agent(
                {
                    "operationId": "ticketStats",
                    "summary": "Dashboard figures (from counters: constant work)",
                    "responses": {
                        "200": {"description": "The figures.", **json_body(ref("Stats"))}
                    },
                }
            )
        },
        "/tickets/classify/": {
            "post": {
                "operationId": "classifyTicket",
                "summary": "Suggest a category and priority (public)",
                "security": [{}],
                "requestBody": {"required": True, **json_body(ref("ClassifyRequest"))},
                "responses": {
                    "200": {"description": "A suggestion.", **json_body(ref("Classification"))},
                    "400": response("BadRequest"),
                    "413": response("TooLarge"),
                    "415": response("UnsupportedMediaType"),
                    "503": response("Unavailable"),
                },
            }
        },
        "/tickets/bulk/": {
            "post": _agent(
                {
                    "operationId": "bulkUpdate",
                    "summary": f"Change up to {BULK_MAX} tickets, each conditional on its version",
                    "requestBody": {"required": True, **json_body(ref("BulkRequest"))},
                    "responses": {
                        "200": {
                            "description": "One result per ticket, in the order asked.",
                            **json_body(ref("BulkResult")),
                        }
                    },
                },
                "400",
                "413",
                "415",
            )
        },
        "/tickets/by-number/{number}/": {
            "get": _agent(
                {
                    "operationId": "getTicketByNumber",
                    "summary": "One ticket by its number (#1042)",
                    "parameters": [
                        {
                            "name": "number",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "The ticket.",
                            "headers": ETAG_HEADER,
                            **json_body(ref("Ticket")),
                        }
                    },
                },
                "404",
            )
        },
        "/tickets/{ticket_id}/": {
            "parameters": [TICKET_ID_PARAMETER],
            "get": _agent(
                {
                    "operationId": "getTicket",
                    "summary": "One ticket",
                    "responses": {
                        "200": {
                            "description": "The ticket.",
                            "headers": ETAG_HEADER,
                            **json_body(ref("Ticket")),
                        }
                    },
                },
                "404",
            ),
            "patch": _agent(
                {
                    "operationId": "updateTicket",
                    "summary": "Change some fields (assignee included)",
                    "parameters": [IF_MATCH],
                    "requestBody": {
                        "required": True,
                        "content": {media: {"schema": ref("TicketPatch")} for media in MERGE_PATCH},
                    },
                    "responses": {
                        "200": {
                            "description": "The updated ticket.",
                            "headers": ETAG_HEADER,
                            **json_body(ref("Ticket")),
                        }
                    },
                },
                "400",
                "404",
                "409",
                "412",
                "413",
                "415",
            ),
            "delete": _agent(
                {
                    "operationId": "deleteTicket",
                    "summary": "Delete a ticket (its history stays, as an audit log)",
                    "parameters": [IF_MATCH],
                    "responses": {"204": {"description": "Deleted."}},
                },
                "400",
                "404",
                "409",
                "412",
            ),
        },
        "/tickets/{ticket_id}/history/": {
            "parameters": [TICKET_ID_PARAMETER],
            "get": _agent(
                {
                    "operationId": "ticketHistory",
                    "summary": "Every change: who, when, which field, old and new",
                    "description": (
                        "Kept after the ticket is deleted (it ends with the `deleted` entry): "
                        "the history is the audit log."
                    ),
                    "responses": {
                        "200": {
                            "description": "Oldest first.",
                            **json_body({"type": "array", "items": ref("HistoryEntry")}),
                        }
                    },
                },
                "404",
            ),
        },
        "/tickets/{ticket_id}/messages/": {
            "parameters": [TICKET_ID_PARAMETER],
            "get": _agent(
                {
                    "operationId": "listMessages",
                    "summary": "The conversation, oldest first (internal notes included)",
                    "parameters": [
                        _or_empty({**LIMIT, "schema": {**LIMIT["schema"], "default": 100}}),
                        {
                            "name": "cursor",
                            "in": "query",
                            "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{0,200}$"},
                            "description": "From the Link header of the previous page.",
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "One page of messages.",
                            "headers": LINK_HEADER,
                            **json_body({"type": "array", "items": ref("Message")}),
                        }
                    },
                },
                "400",
                "404",
            ),
            "post": _agent(
                {
                    "operationId": "postMessage",
                    "summary": "Reply to the customer (emailed) or add an internal note",
                    "requestBody": {"required": True, **json_body(ref("NewMessage"))},
                    "responses": {
                        "201": {
                            "description": "The message; ETag is the ticket's new version.",
                            "headers": ETAG_HEADER,
                            **json_body(ref("Message")),
                        }
                    },
                },
                "400",
                "404",
                "409",
                "413",
                "415",
            ),
        },
        "/tickets/{ticket_id}/emails/": {
            "parameters": [TICKET_ID_PARAMETER],
            "get": _agent(
                {
                    "operationId": "ticketEmails",
                    "summary": "Emails sent to the customer, or deliberately not sent, and why",
                    "responses": {
                        "200": {
                            "description": "Oldest first.",
                            **json_body({"type": "array", "items": ref("EmailRecord")}),
                        }
                    },
                },
                "404",
            ),
        },
        "/tickets/{ticket_id}/access-link/": {
            "parameters": [TICKET_ID_PARAMETER],
            "post": _agent(
                {
                    "operationId": "renewAccessLink",
                    "summary": "Email the customer a new private link (the old one stops working)",
                    "responses": {
                        "409": error("The ticket has no customer email to send a link to."),
                        "202": {
                            "description": "The new link is on its way.",
                            "headers": ETAG_HEADER,
                            **json_body(
                                {
                                    "type": "object",
                                    "required": ["sent_to", "ticket"],
                                    "properties": {
                                        "sent_to": {"type": "string"},
                                        "ticket": ref("Ticket"),
                                    },
                                }
                            ),
                        },
                    },
                },
                "404",
            ),
        },
        "/public/tickets/{ticket_id}/": {
            "parameters": [TICKET_ID_PARAMETER],
            "get": {
                "operationId": "getPublicTicket",
                "summary": "The customer's private page (public, with the link's key)",
                "security": [{}],
                "parameters": [TICKET_KEY_PARAMETER],
                "responses": {
                    "200": {
                        "description": "The ticket and its conversation.",
                        **json_body(ref("PublicTicket")),
                    },
                    "404": response("PublicNotFound"),
                    "503": response("Unavailable"),
                },
            },
        },
        "/public/tickets/{ticket_id}/messages/": {
            "parameters": [TICKET_ID_PARAMETER],
            "post": {
                "operationId": "postPublicMessage",
                "summary": "The customer answers (reopens a resolved or closed ticket)",
                "security": [{}],
                "parameters": [TICKET_KEY_PARAMETER],
                "requestBody": {"required": True, **json_body(ref("NewPublicMessage"))},
                "responses": {
                    "201": {"description": "The message.", **json_body(ref("PublicMessage"))},
                    "400": response("BadRequest"),
                    "404": response("PublicNotFound"),
                    "409": CONFLICT,
                    "413": response("TooLarge"),
                    "415": response("UnsupportedMediaType"),
                    "503": response("Unavailable"),
                },
            },
        },
        "/agents/": {
            "get": _agent(
                {
                    "operationId": "listAgents",
                    "summary": "The agents who can be assigned tickets",
                    "responses": {
                        "200": {
                            "description": "Every agent of the user pool.",
                            **json_body({"type": "array", "items": ref("Agent")}),
                        }
                    },
                }
            )
        },
        "/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This document",
                "security": [{}],
                "responses": {
                    "200": {"description": "The OpenAPI document.", **json_body({"type": "object"})}
                },
            }
        },
    }


def document() -> dict[str, Any]:
    """The whole OpenAPI document."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Support Desk API",
            "version": "2.0.0",
            "description": (
                "Support tickets with AI triage, a conversation with the customer, assignment "
                "and search. Customers create tickets, ask for a classification and use their "
                "ticket's private link without signing in; every other operation needs an "
                "agent's Cognito token as `Authorization: Bearer <token>`. Every error body is "
                '`{"error": "<message>"}`, sometimes with `fields` (field -> problem) or '
                "`allowed` (the allowed values). The trailing slash is optional on every path."
            ),
        },
        "servers": [{"url": "/api"}],
        "security": [{"agentToken": []}],
        "paths": paths(),
        "components": {
            "securitySchemes": {
                "agentToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "A Cognito ID or access token of an agent.",
                }
            },
            "schemas": schemas(),
            "responses": responses(),
        },
    }


def render() -> str:
    """The document as the file holds it."""
    return json.dumps(document(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write (or ``--check``) chalicelib/api/openapi.json."""
    parser = argparse.ArgumentParser(description="Build the OpenAPI document")
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is out of date")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        if DOCUMENT.read_text(encoding="utf-8") != text:
            print(f"{DOCUMENT} is out of date: run `make openapi`")
            return 1
        return 0
    DOCUMENT.write_text(text, encoding="utf-8")
    print(f"wrote {DOCUMENT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
