"""Turn untrusted request data into typed commands, or raise ValidationFailed.

Every check a client can trip is here, with a message a person understands.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from chalicelib.domain import Category, ClassificationSource, Priority, Status
from chalicelib.errors import ValidationFailed, invalid_choice

TITLE_MAX = 200
DESCRIPTION_MAX = 10_000
SEARCH_MAX = 200
LIMIT_DEFAULT = 50
LIMIT_MAX = 100

E = TypeVar("E", bound=StrEnum)
T = TypeVar("T")

_CREATE_FIELDS = frozenset(
    {
        "title",
        "description",
        "category",
        "priority",
        "status",
        "suggested_category",
        "suggested_priority",
        "classification_source",
    }
)
PATCHABLE_FIELDS = ("title", "description", "category", "priority", "status")
_LIST_PARAMS = frozenset({"category", "priority", "status", "search", "limit", "cursor"})


@dataclass(frozen=True, slots=True)
class NewTicket:
    """A validated create request; unset category/priority are classified by the service."""

    title: str
    description: str
    category: Category | None
    priority: Priority | None
    status: Status
    suggested_category: Category | None
    suggested_priority: Priority | None
    classification_source: ClassificationSource | None


@dataclass(frozen=True, slots=True)
class TicketChanges:
    """A validated partial update: only the fields present in the request."""

    title: str | None = None
    description: str | None = None
    category: Category | None = None
    priority: Priority | None = None
    status: Status | None = None

    def as_dict(self) -> dict[str, Any]:
        """The fields that were given, by name."""
        return {
            name: getattr(self, name)
            for name in PATCHABLE_FIELDS
            if getattr(self, name) is not None
        }


@dataclass(frozen=True, slots=True)
class ListQuery:
    """A validated list request."""

    category: Category | None
    priority: Priority | None
    status: Status | None
    search: str | None
    limit: int
    cursor: str | None

    def filters(self) -> dict[str, str]:
        """The enum filters that are set, by field name."""
        return {
            name: value.value
            for name, value in (
                ("category", self.category),
                ("priority", self.priority),
                ("status", self.status),
            )
            if value is not None
        }


@dataclass(frozen=True, slots=True)
class ClassifyRequest:
    """A validated classification request."""

    title: str
    description: str


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
        raise ValidationFailed(
            f"Unknown or read-only field(s) for {what}: {', '.join(unknown)}; "
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
            "Please fix: " + "; ".join(error.message for error in self.errors), fields=fields
        )


def _required(body: Mapping[str, Any], field: str, check: Callable[[Any], str]) -> str:
    if body.get(field) is None:
        raise ValidationFailed(f"{field} is required", fields={field: "is required"})
    return check(body[field])


def parse_new_ticket(body: Mapping[str, Any]) -> NewTicket:
    """Validate a ``POST /tickets`` body, reporting every bad field together."""
    _reject_unknown(body, _CREATE_FIELDS, "a new ticket")
    problems = _Problems()
    title = problems.check(lambda: _required(body, "title", _check_title))
    description = problems.check(lambda: _required(body, "description", _check_description))
    category = problems.check(lambda: _optional_enum(body, "category", Category))
    priority = problems.check(lambda: _optional_enum(body, "priority", Priority))
    status = problems.check(lambda: _optional_enum(body, "status", Status))
    suggested_category = problems.check(
        lambda: _optional_enum(body, "suggested_category", Category)
    )
    suggested_priority = problems.check(
        lambda: _optional_enum(body, "suggested_priority", Priority)
    )
    source = problems.check(
        lambda: _optional_enum(body, "classification_source", ClassificationSource)
    )
    problems.raise_if_any()
    assert title is not None and description is not None
    return NewTicket(
        title=title,
        description=description,
        category=category,
        priority=priority,
        status=status or Status.OPEN,
        suggested_category=suggested_category,
        suggested_priority=suggested_priority,
        classification_source=source,
    )


def parse_ticket_changes(body: Mapping[str, Any]) -> TicketChanges:
    """Validate a ``PATCH /tickets/{id}`` body (only the patchable fields, none null)."""
    _reject_unknown(body, frozenset(PATCHABLE_FIELDS), "an update")
    if not body:
        raise ValidationFailed(
            "Nothing to update: send at least one of " + ", ".join(PATCHABLE_FIELDS)
        )
    nulls = [name for name, value in body.items() if value is None]
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
    problems.raise_if_any()
    return TicketChanges(
        title=title, description=description, category=category, priority=priority, status=status
    )


def parse_classify_request(body: Mapping[str, Any]) -> ClassifyRequest:
    """Validate a ``POST /tickets/classify`` body."""
    _reject_unknown(body, frozenset({"title", "description"}), "classification")
    if body.get("description") is None:
        raise ValidationFailed("description is required", fields={"description": "is required"})
    description = _check_description(body["description"])
    title_value = body.get("title")
    title = (
        ""
        if title_value in (None, "")
        else _check_text("title", title_value, max_length=TITLE_MAX, strip=True)
    )
    return ClassifyRequest(title=title, description=description)


def parse_list_query(params: Mapping[str, str] | None) -> ListQuery:
    """Validate the query string of ``GET /tickets``."""
    # An empty value (``?category=``) means "no filter", as an HTML form sends it.
    params = {name: value for name, value in (params or {}).items() if value != ""}
    _reject_unknown(params, _LIST_PARAMS, "the ticket list")
    raw_limit = params.get("limit")
    limit = LIMIT_DEFAULT
    if raw_limit is not None:
        if (
            not raw_limit.isascii()
            or not raw_limit.isdigit()
            or not 1 <= int(raw_limit) <= LIMIT_MAX
        ):
            message = f"limit must be a whole number from 1 to {LIMIT_MAX} (got {raw_limit!r})"
            raise ValidationFailed(message, fields={"limit": message})
        limit = int(raw_limit)
    search = params.get("search")
    if search is not None:
        search = search.strip()
        if len(search) > SEARCH_MAX:
            message = f"search must be at most {SEARCH_MAX} characters"
            raise ValidationFailed(message, fields={"search": message})
        search = search or None
    cursor = params.get("cursor") or None
    return ListQuery(
        category=_optional_enum(params, "category", Category),
        priority=_optional_enum(params, "priority", Priority),
        status=_optional_enum(params, "status", Status),
        search=search,
        limit=limit,
        cursor=cursor,
    )
