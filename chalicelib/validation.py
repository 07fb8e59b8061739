"""Turn untrusted request data into typed commands, or raise ValidationFailed.

Every check a client can trip is here, with a message a person understands.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from chalicelib.domain import Category, Priority, SortOrder, Status
from chalicelib.errors import ValidationFailed, invalid_choice
from chalicelib.search.text import SearchQuery, parse_search

TITLE_MAX = 200
DESCRIPTION_MAX = 10_000
MESSAGE_MAX = 10_000
NAME_MAX = 100
EMAIL_MAX = 254
LIMIT_DEFAULT = 50
LIMIT_MAX = 100
BULK_MAX = 100
UNSOLVED_FILTER = "unsolved"
ME = "me"
NOBODY = "none"

E = TypeVar("E", bound=StrEnum)
T = TypeVar("T")

_CREATE_FIELDS = frozenset(
    {
        "title",
        "description",
        "category",
        "priority",
        "status",
        "customer_email",
        "customer_name",
        "suggestion_id",
    }
)
# What the server works out itself: never accepted from a client (a 400 says so).
_SERVER_FIELDS = frozenset({"suggested_category", "suggested_priority", "classification_source"})
PATCHABLE_FIELDS = ("title", "description", "category", "priority", "status", "assignee")
_LIST_PARAMS = frozenset(
    {"category", "priority", "status", "assignee", "search", "sort", "limit", "cursor"}
)


@dataclass(frozen=True, slots=True)
class NewTicket:
    """A validated create request; unset category/priority are classified by the service.

    ``status`` is None unless the request set one (only agents may).
    """

    title: str
    description: str
    category: Category | None
    priority: Priority | None
    status: Status | None = None
    customer_email: str | None = None
    customer_name: str | None = None
    # The classification answer's id for the suggestion the form showed, if any.
    suggestion_id: str | None = None


_UNSET: Any = object()


@dataclass(frozen=True, slots=True)
class TicketChanges:
    """A validated partial update: only the fields present in the request.

    ``assignee`` is an agent's email, or None to unassign; absent when not given.
    """

    title: str | None = None
    description: str | None = None
    category: Category | None = None
    priority: Priority | None = None
    status: Status | None = None
    assignee: Any = _UNSET

    @property
    def assigns(self) -> bool:
        """Whether the request sets (or clears) the assignee."""
        return self.assignee is not _UNSET

    def as_dict(self) -> dict[str, Any]:
        """The plain fields that were given, by name (the assignee aside)."""
        return {
            name: getattr(self, name)
            for name in ("title", "description", "category", "priority", "status")
            if getattr(self, name) is not None
        }


@dataclass(frozen=True, slots=True)
class ListQuery:
    """A validated list request (``assignee`` is an email, "me" or "none")."""

    category: Category | None = None
    priority: Priority | None = None
    status: Status | None = None
    unsolved: bool = False
    assignee: str | None = None
    search: SearchQuery | None = None
    sort: SortOrder = SortOrder.NEWEST
    limit: int = LIMIT_DEFAULT
    cursor: str | None = None

    def canonical(self) -> dict[str, str]:
        """The query's parameters as they appear in a URL (no limit or cursor)."""
        params = {
            name: value.value
            for name, value in (
                ("category", self.category),
                ("priority", self.priority),
                ("status", self.status),
            )
            if value is not None
        }
        if self.unsolved:
            params["status"] = UNSOLVED_FILTER
        if self.assignee is not None:
            params["assignee"] = self.assignee
        if self.search is not None:
            params["search"] = self.search.text
        if self.sort is not SortOrder.NEWEST:
            params["sort"] = self.sort.value
        return params


@dataclass(frozen=True, slots=True)
class ClassifyRequest:
    """A validated classification request."""

    title: str
    description: str


@dataclass(frozen=True, slots=True)
class NewMessage:
    """A validated message (agents may also mark it internal and set the status)."""

    body: str
    internal: bool = False
    status: Status | None = None


@dataclass(frozen=True, slots=True)
class BulkItem:
    """One ticket of a bulk change: the version the agent saw, and the changes."""

    ticket_id: str
    version: int
    changes: TicketChanges


@dataclass(frozen=True, slots=True)
class BulkRequest:
    """A validated bulk change."""

    items: tuple[BulkItem, ...] = field(default_factory=tuple)


def parse_json_object(raw: bytes | str | None) -> dict[str, Any]:
    """Decode a request body that must be a JSON object."""
    if raw is None or (isinstance(raw, (bytes, str)) and not raw.strip()):
        raise ValidationFailed("The request body is empty; send a JSON object")
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError as exc:
        raise ValidationFailed("The request body is not valid UTF-8") from exc
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise ValidationFailed(f"The request body is not valid JSON: {_json_reason(exc)}") from exc
    if not isinstance(value, dict):
        raise ValidationFailed("The request body must be a JSON object")
    return value


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in JSON")


def _json_reason(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at line {exc.lineno}, column {exc.colno}"
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    return str(exc)


def _check_text(field: str, value: Any, *, max_length: int, strip: bool) -> str:
    if not isinstance(value, str):
        raise ValidationFailed(f"{field} must be a string", fields={field: "must be a string"})
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValidationFailed(
            f"{field} contains invalid unicode (a lone surrogate)",
            fields={field: "contains invalid unicode"},
        ) from exc
    if "\x00" in value:
        raise ValidationFailed(
            f"{field} must not contain NUL characters",
            fields={field: "must not contain NUL characters"},
        )
    cleaned = value.strip() if strip else value
    if not cleaned.strip():
        raise ValidationFailed(f"{field} must not be blank", fields={field: "must not be blank"})
    if len(cleaned) > max_length:
        message = f"must be at most {max_length} characters (got {len(cleaned)})"
        raise ValidationFailed(f"{field} {message}", fields={field: message})
    return cleaned


def _check_title(value: Any) -> str:
    return _check_text("title", value, max_length=TITLE_MAX, strip=True)


def _check_description(value: Any) -> str:
    return _check_text("description", value, max_length=DESCRIPTION_MAX, strip=False)


def parse_email(field: str, value: Any) -> str:
    """A syntactically valid address of at most 254 characters, normalised (lower case,
    internationalised domains in their ASCII form); else a 400 naming ``field``."""
    if not isinstance(value, str):
        raise ValidationFailed(f"{field} must be a string", fields={field: "must be a string"})
    candidate = value.strip()
    if len(candidate) > EMAIL_MAX:
        message = f"must be at most {EMAIL_MAX} characters (got {len(candidate)})"
        raise ValidationFailed(f"{field} {message}", fields={field: message})
    from email_validator import EmailNotValidError, validate_email  # lazy: create path only

    try:
        result = validate_email(candidate, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        # A fragment the site can end with its own full stop.
        reason = str(exc).rstrip(".").replace(". ", "; ")
        message = f"is not a valid email address: {reason[:1].lower()}{reason[1:]}"
        raise ValidationFailed(f"{field} {message}", fields={field: message}) from exc
    normalised = str(result.ascii_email or result.normalized).lower()
    if len(normalised.rpartition("@")[0]) > 64:
        message = "has a part before the @ longer than 64 characters"
        raise ValidationFailed(f"{field} {message}", fields={field: message})
    if len(normalised) > EMAIL_MAX:
        message = f"must be at most {EMAIL_MAX} characters"
        raise ValidationFailed(f"{field} {message}", fields={field: message})
    return normalised


def _check_name(value: Any) -> str:
    name = _check_text("customer_name", value, max_length=NAME_MAX, strip=True)
    # A name goes into email headers' display text: no line breaks or controls.
    if any(ord(char) < 32 or ord(char) == 127 for char in name):
        message = "must not contain line breaks or control characters"
        raise ValidationFailed(f"customer_name {message}", fields={"customer_name": message})
    return " ".join(name.split())


_SUGGESTION_ID = re.compile(r"[0-9a-f]{64}")


def _check_suggestion_id(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _SUGGESTION_ID.fullmatch(value):
        message = (
            "must be the suggestion_id a classification answered with "
            "(64 lowercase hex digits; send null or leave it out for none)"
        )
        raise ValidationFailed(f"suggestion_id {message}", fields={"suggestion_id": message})
    return value


def parse_enum(field: str, value: Any, enum_type: type[E]) -> E:
    """A member of ``enum_type`` or a 400 that lists the allowed values."""
    allowed = [member.value for member in enum_type]
    if isinstance(value, str) and value in allowed:
        return enum_type(value)
    raise invalid_choice(field, value, allowed)


def _optional_enum(body: Mapping[str, Any], field: str, enum_type: type[E]) -> E | None:
    value = body.get(field)
    if value is None:
        return None
    return parse_enum(field, value, enum_type)


def _reject_unknown(body: Mapping[str, Any], allowed: frozenset[str], what: str) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        read_only = [name for name in unknown if name in _SERVER_FIELDS]
        note = (
            f" ({', '.join(read_only)} are set by the server from its own classification)"
            if read_only
            else ""
        )
        raise ValidationFailed(
            f"Unknown or read-only field(s) for {what}: {', '.join(unknown)}{note}; "
            f"allowed: {', '.join(sorted(allowed))}",
            fields={name: "not allowed here" for name in unknown},
        )


class _Problems:
    """Collects every field error of a request, so a person fixes them all at once."""

    def __init__(self) -> None:
        self.errors: list[ValidationFailed] = []

    def check(self, parse: Callable[[], T]) -> T | None:
        try:
            return parse()
        except ValidationFailed as error:
            self.errors.append(error)
            return None

    def raise_if_any(self) -> None:
        if not self.errors:
            return
        if len(self.errors) == 1:
            raise self.errors[0]
        fields: dict[str, str] = {}
        for error in self.errors:
            fields.update(error.details.get("fields", {}))
        raise ValidationFailed(
            f"Please fix {len(fields)} fields: " + "; ".join(e.message for e in self.errors),
            fields=fields,
        )


def _required(body: Mapping[str, Any], field: str, check: Callable[[Any], str]) -> str:
    if body.get(field) is None:
        raise ValidationFailed(f"{field} is required", fields={field: "is required"})
    return check(body[field])


def _optional_text(body: Mapping[str, Any], field: str, check: Callable[[Any], str]) -> str | None:
    value = body.get(field)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return check(value)


def parse_new_ticket(body: Mapping[str, Any]) -> NewTicket:
    """Validate a ``POST /tickets`` body, reporting every bad field together."""
    _reject_unknown(body, _CREATE_FIELDS, "a new ticket")
    problems = _Problems()
    title = problems.check(lambda: _required(body, "title", _check_title))
    description = problems.check(lambda: _required(body, "description", _check_description))
    category = problems.check(lambda: _optional_enum(body, "category", Category))
    priority = problems.check(lambda: _optional_enum(body, "priority", Priority))
    status = problems.check(lambda: _optional_enum(body, "status", Status))
    email = problems.check(
        lambda: _optional_text(body, "customer_email", lambda v: parse_email("customer_email", v))
    )
    name = problems.check(lambda: _optional_text(body, "customer_name", _check_name))
    suggestion = problems.check(lambda: _check_suggestion_id(body.get("suggestion_id")))
    problems.raise_if_any()
    assert title is not None and description is not None
    return NewTicket(
        title=title,
        description=description,
        category=category,
        priority=priority,
        status=status,
        customer_email=email,
        customer_name=name,
        suggestion_id=suggestion,
    )


def parse_ticket_changes(body: Mapping[str, Any]) -> TicketChanges:
    """Validate a ``PATCH /tickets/{id}`` body (only the patchable fields; only the
    assignee may be null, to unassign)."""
    _reject_unknown(body, frozenset(PATCHABLE_FIELDS), "an update")
    if not body:
        raise ValidationFailed(
            "Nothing to update: send at least one of " + ", ".join(PATCHABLE_FIELDS)
        )
    nulls = [name for name, value in body.items() if value is None and name != "assignee"]
    if nulls:
        raise ValidationFailed(
            "Fields cannot be set to null: " + ", ".join(nulls),
            fields={name: "cannot be null" for name in nulls},
        )
    problems = _Problems()
    title = problems.check(lambda: _check_title(body["title"]) if "title" in body else None)
    description = problems.check(
        lambda: _check_description(body["description"]) if "description" in body else None
    )
    category = problems.check(lambda: _optional_enum(body, "category", Category))
    priority = problems.check(lambda: _optional_enum(body, "priority", Priority))
    status = problems.check(lambda: _optional_enum(body, "status", Status))
    assignee: Any = _UNSET
    if "assignee" in body:
        raw = body["assignee"]
        assignee = None if raw is None else problems.check(lambda: parse_email("assignee", raw))
    problems.raise_if_any()
    return TicketChanges(
        title=title,
        description=description,
        category=category,
        priority=priority,
        status=status,
        assignee=assignee,
    )


def parse_classify_request(body: Mapping[str, Any]) -> ClassifyRequest:
    """Validate a ``POST /tickets/classify`` body."""
    _reject_unknown(body, frozenset({"title", "description"}), "classification")
    if body.get("description") is None:
        raise ValidationFailed("description is required", fields={"description": "is required"})
    description = _check_description(body["description"])
    title = ""
    if "title" in body:
        title_value = body["title"]
        if not isinstance(title_value, str):
            raise ValidationFailed("title must be a string", fields={"title": "must be a string"})
        if title_value.strip():
            title = _check_text("title", title_value, max_length=TITLE_MAX, strip=True)
    return ClassifyRequest(title=title, description=description)


def parse_new_message(body: Mapping[str, Any], *, agent: bool) -> NewMessage:
    """Validate a message body: ``body`` (1 to 10,000 characters); agents may also send
    ``internal`` (a note) and ``status`` (set in the same step)."""
    allowed = frozenset({"body", "internal", "status"} if agent else {"body"})
    _reject_unknown(body, allowed, "a message")
    problems = _Problems()
    text = problems.check(
        lambda: _required(
            body,
            "body",
            lambda v: _check_text("body", v, max_length=MESSAGE_MAX, strip=True),
        )
    )
    internal = body.get("internal", False)
    if not isinstance(internal, bool):
        problems.errors.append(
            ValidationFailed(
                "internal must be true or false", fields={"internal": "must be a boolean"}
            )
        )
    status = problems.check(lambda: _optional_enum(body, "status", Status))
    problems.raise_if_any()
    assert text is not None
    return NewMessage(body=text, internal=bool(internal), status=status)


def parse_bulk_request(body: Mapping[str, Any]) -> BulkRequest:
    """Validate ``POST /tickets/bulk``: ``{"items": [{"id", "version", "changes"}]}``,
    1 to 100 items, each change valid on its own. A ticket named twice is changed in
    order (the second, conditional on the same version, gets its 412)."""
    _reject_unknown(body, frozenset({"items"}), "a bulk change")
    items = body.get("items")
    if not isinstance(items, list) or not items:
        raise ValidationFailed(
            "items must be a non-empty list of {id, version, changes}", fields={"items": "required"}
        )
    if len(items) > BULK_MAX:
        message = f"at most {BULK_MAX} tickets per bulk change (got {len(items)})"
        raise ValidationFailed(f"items: {message}", fields={"items": message})
    parsed: list[BulkItem] = []
    for position, item in enumerate(items):
        where = f"items[{position}]"
        if not isinstance(item, dict):
            raise ValidationFailed(
                f"{where} must be an object", fields={where: "must be an object"}
            )
        _reject_unknown(item, frozenset({"id", "version", "changes"}), where)
        ticket_id = item.get("id")
        version = item.get("version")
        if not isinstance(ticket_id, str) or not ticket_id:
            raise ValidationFailed(f"{where}.id is required", fields={f"{where}.id": "required"})
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise ValidationFailed(
                f"{where}.version must be the version you saw (a positive integer)",
                fields={f"{where}.version": "required"},
            )
        changes = item.get("changes")
        if not isinstance(changes, dict):
            raise ValidationFailed(
                f"{where}.changes must be an object", fields={f"{where}.changes": "required"}
            )
        try:
            parsed_changes = parse_ticket_changes(changes)
        except ValidationFailed as error:
            raise ValidationFailed(f"{where}.changes: {error.message}", **error.details) from error
        parsed.append(BulkItem(ticket_id, version, parsed_changes))
    return BulkRequest(tuple(parsed))


def _parse_limit(raw: str | None) -> int:
    if raw is None:
        return LIMIT_DEFAULT
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= LIMIT_MAX:
        message = f"limit must be a whole number from 1 to {LIMIT_MAX} (got {raw!r})"
        raise ValidationFailed(message, fields={"limit": message})
    return int(raw)


def _parse_assignee(raw: str | None) -> str | None:
    if raw is None:
        return None
    value = raw.strip().lower()
    if value in {ME, NOBODY}:
        return value
    return parse_email("assignee", raw)


def parse_list_query(params: Mapping[str, str] | None) -> ListQuery:
    """Validate the query string of ``GET /tickets``."""
    # An empty value (``?category=``) means "no filter", as an HTML form sends it.
    params = {name: value for name, value in (params or {}).items() if value != ""}
    _reject_unknown(params, _LIST_PARAMS, "the ticket list")
    problems = _Problems()
    limit = problems.check(lambda: _parse_limit(params.get("limit")))
    category = problems.check(lambda: _optional_enum(params, "category", Category))
    priority = problems.check(lambda: _optional_enum(params, "priority", Priority))
    raw_status = params.get("status")
    unsolved = raw_status == UNSOLVED_FILTER
    status = None
    if raw_status is not None and not unsolved:
        allowed = [UNSOLVED_FILTER, *(s.value for s in Status)]
        if raw_status in allowed:
            status = Status(raw_status)
        else:
            problems.errors.append(invalid_choice("status", raw_status, allowed))
    assignee = problems.check(lambda: _parse_assignee(params.get("assignee")))
    sort = problems.check(lambda: parse_enum("sort", params.get("sort", "newest"), SortOrder))
    search = None
    if (raw_search := params.get("search")) is not None and raw_search.strip():
        search = problems.check(lambda: parse_search(raw_search))
    problems.raise_if_any()
    assert limit is not None and sort is not None
    return ListQuery(
        category=category,
        priority=priority,
        status=status,
        unsolved=unsolved,
        assignee=assignee,
        search=search,
        sort=sort,
        limit=limit,
        cursor=params.get("cursor") or None,
    )
