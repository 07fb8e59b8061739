"""``Idempotency-Key`` on ticket creation, with Powertools Idempotency over DynamoDB.

- same key, same body: the original response is returned and nothing is created;
- same key, another body: 422;
- same key while the first request is still running: 409 (retry shortly);
- keys expire after ``IDEMPOTENCY_TTL_SECONDS`` (24 h).

Powertools stores the record (INPROGRESS, then COMPLETED with the response) in
the ticket table, next to the tickets. As a last line of defence the ticket id is
derived from the key, so even a Lambda that dies between creating the ticket and
completing the record cannot produce a second ticket on retry.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from functools import lru_cache
from typing import Any

from chalicelib.errors import (
    IdempotencyInProgress,
    IdempotencyKeyReused,
    ServiceUnavailable,
    ValidationFailed,
)

_KEY = re.compile(r"^[\x21-\x7e]{8,255}$")
_STATIC_PK = "IDEMPOTENCY#create-ticket"


def parse_idempotency_key(header: str | None) -> str | None:
    """The key from the header, or None; 400 when it is malformed."""
    if header is None:
        return None
    key = header.strip()
    if not _KEY.match(key):
        raise ValidationFailed(
            "Idempotency-Key must be 8 to 255 visible ASCII characters (a UUID is ideal)",
            fields={"Idempotency-Key": "invalid"},
        )
    return key


def ticket_id_for_request(key: str, body: dict[str, Any]) -> str:
    """The ticket id a key and body always produce (same alphabet and length as random ids).

    Including the body keeps an expired key reusable for a new ticket, while a retry
    of the same request can only ever land on the same item.
    """
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    digest = hashlib.sha256(
        b"support-tickets/idempotency/" + key.encode() + b"\n" + canonical.encode()
    ).digest()
    return base64.b32encode(digest[:15]).decode("ascii").lower()


class IdempotentCreate:
    """Runs ``create(body, key)`` at most once per key and body, remembering its result."""

    def __init__(self, table_name: str, ttl_seconds: int) -> None:
        from aws_lambda_powertools.utilities.idempotency import (  # lazy: boto3 is lazy
            DynamoDBPersistenceLayer,
            IdempotencyConfig,
        )

        self.config = IdempotencyConfig(
            event_key_jmespath="key",
            payload_validation_jmespath="body",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=ttl_seconds,
            response_hook=lambda response, _record: {**response, "replayed": True},
        )
        self.store = DynamoDBPersistenceLayer(
            table_name=table_name,
            key_attr="pk",
            sort_key_attr="sk",
            static_pk_value=_STATIC_PK,
            expiry_attr="expires_at",
            in_progress_expiry_attr="in_progress_expires_at",
            status_attr="idempotency_status",
            data_attr="response",
            validation_key_attr="payload_hash",
        )

    def run(
        self, key: str, body: dict[str, Any], lambda_context: Any, create: Any
    ) -> tuple[dict[str, Any], bool]:
        """``(response, replayed)``; maps Powertools' errors to the API's."""
        from aws_lambda_powertools.utilities.idempotency import (
            idempotent_function,
        )
        from aws_lambda_powertools.utilities.idempotency.exceptions import (
            IdempotencyAlreadyInProgressError,
            IdempotencyPersistenceLayerError,
            IdempotencyValidationError,
        )

        if lambda_context is not None and hasattr(lambda_context, "get_remaining_time_in_millis"):
            # Lets Powertools expire an INPROGRESS record if this Lambda dies mid-request.
            self.config.register_lambda_context(lambda_context)

        @idempotent_function(  # type: ignore[untyped-decorator]
            data_keyword_argument="request", persistence_store=self.store, config=self.config
        )
        def create_once(request: dict[str, Any]) -> dict[str, Any]:
            result: dict[str, Any] = create(request["body"], request["key"])
            return result

        try:
            response = create_once(request={"key": key, "body": body})
        except IdempotencyValidationError as exc:
            raise IdempotencyKeyReused(
                "This Idempotency-Key was already used with a different request body; "
                "use a new key for a new ticket"
            ) from exc
        except IdempotencyAlreadyInProgressError as exc:
            error = IdempotencyInProgress(
                "A request with this Idempotency-Key is still being processed; retry shortly"
            )
            error.headers["Retry-After"] = "1"
            raise error from exc
        except IdempotencyPersistenceLayerError as exc:
            raise ServiceUnavailable(
                "The ticket store is unavailable right now; nothing was changed. "
                "Please retry shortly.",
                retry_after_seconds=2,
            ) from exc
        replayed = bool(response.pop("replayed", False))
        return response, replayed


@lru_cache(maxsize=4)
def get_idempotent_create(table_name: str, ttl_seconds: int) -> IdempotentCreate:
    """One persistence layer per table (its boto3 client is reused)."""
    return IdempotentCreate(table_name, ttl_seconds)
