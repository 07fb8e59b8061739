"""Typed domain errors. Each knows its HTTP status; chalicelib.api.responses maps them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


class AppError(Exception):
    """Base class: a failure the client can be told about in plain words."""

    status_code = 500

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        self.headers: dict[str, str] = {}


class ValidationFailed(AppError):
    """The request is malformed or a field holds a value that is not allowed (400)."""

    status_code = 400

    def __init__(self, message: str, fields: Mapping[str, str] | None = None, **details: Any):
        if fields:
            details["fields"] = dict(fields)
        super().__init__(message, **details)


def invalid_choice(field: str, value: object, allowed: Iterable[str]) -> ValidationFailed:
    """A 400 that names the field, the bad value and the allowed values."""
    allowed_list = list(allowed)
    message = f"{field} must be one of: {', '.join(allowed_list)} (got {value!r})"
    return ValidationFailed(message, fields={field: message}, allowed=allowed_list)


class Unauthorized(AppError):
    """No valid agent credentials (401)."""

    status_code = 401


class TicketNotFound(AppError):
    """No ticket has that id (404)."""

    status_code = 404

    def __init__(self, ticket_id: str) -> None:
        super().__init__(f"No ticket with id {ticket_id!r}")


class NotFound(AppError):
    """Nothing here (404), with a message that reveals nothing about what exists."""

    status_code = 404


class MethodNotAllowed(AppError):
    """The path exists but not with that method (405)."""

    status_code = 405


class UpdateConflict(AppError):
    """The ticket kept changing under us; the client should retry (409)."""

    status_code = 409


class TooManyMessages(AppError):
    """The ticket has taken all the customer messages it will (409)."""

    status_code = 409


class NoCustomerEmail(AppError):
    """The ticket's state does not allow the request: it has no customer email (409)."""

    status_code = 409


class VersionMismatch(AppError):
    """If-Match named a version that is no longer current (412); carries the current ticket."""

    status_code = 412

    def __init__(self, message: str, current: Any = None, **details: Any) -> None:
        super().__init__(message, **details)
        self.current = current


class UnsupportedMediaType(AppError):
    """The body is not sent as JSON (415)."""

    status_code = 415


class PayloadTooLarge(AppError):
    """The request body is over the limit (413)."""

    status_code = 413


class IdempotencyKeyReused(AppError):
    """An Idempotency-Key was reused with a different request body (422)."""

    status_code = 422


class IdempotencyKeyExpired(AppError):
    """The ticket an Idempotency-Key once created exists (or existed), and the record of
    that answer is gone (409): the live ticket is never returned instead."""

    status_code = 409


class IdempotencyInProgress(AppError):
    """A request with the same Idempotency-Key is still being processed (409)."""

    status_code = 409


class ServiceUnavailable(AppError):
    """A dependency is throttling or failing; nothing was written (503)."""

    status_code = 503

    def __init__(self, message: str, retry_after_seconds: int = 1) -> None:
        super().__init__(message)
        self.headers["Retry-After"] = str(retry_after_seconds)


class ClassificationUnavailable(Exception):
    """Claude could not give a usable answer; the caller falls back to the offline classifier."""

    def __init__(self, reason: str, *, no_key: bool = False) -> None:
        super().__init__(reason)
        self.no_key = no_key
