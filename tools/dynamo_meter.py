"""Count DynamoDB calls and the items they examine, from botocore's own events.

Used by ``make bench`` and by tests that check a request's DynamoDB work is bounded.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from chalicelib.data.models import ALL_MODELS


class DynamoMeter:
    """Attach to every model's botocore client; ``reset()`` between measurements."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.items_examined = 0
        self.items_written = 0
        self._clients: list[Any] = []

    def attach(self) -> DynamoMeter:
        """Start counting (idempotent per client)."""
        for model in ALL_MODELS:
            client = model._get_connection().connection.client
            if client not in self._clients:
                client.meta.events.register("after-call.dynamodb", self._after_call)
                client.meta.events.register("provide-client-params.dynamodb", self._params)
                self._clients.append(client)
        return self

    def detach(self) -> None:
        """Stop counting."""
        for client in self._clients:
            client.meta.events.unregister("after-call.dynamodb", self._after_call)
            client.meta.events.unregister("provide-client-params.dynamodb", self._params)
        self._clients.clear()

    def reset(self) -> None:
        """Zero the counters."""
        self.calls.clear()
        self.items_examined = 0
        self.items_written = 0

    @property
    def total_calls(self) -> int:
        """All DynamoDB API calls since the last reset."""
        return sum(self.calls.values())

    def _after_call(self, model: Any, parsed: dict[str, Any], **_: Any) -> None:
        operation = model.name
        self.calls[operation] += 1
        if operation in {"Query", "Scan"}:
            self.items_examined += int(parsed.get("ScannedCount", parsed.get("Count", 0)))
        elif operation == "GetItem":
            self.items_examined += 1 if parsed.get("Item") else 0
        elif operation in {"BatchGetItem"}:
            self.items_examined += sum(len(v) for v in parsed.get("Responses", {}).values())
        elif operation == "TransactGetItems":
            self.items_examined += len(parsed.get("Responses", []))

    def _params(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        operation = model.name
        if operation == "TransactWriteItems":
            self.items_written += len(params.get("TransactItems", []))
        elif operation == "BatchWriteItem":
            self.items_written += sum(len(v) for v in params.get("RequestItems", {}).values())
        elif operation in {"PutItem", "UpdateItem", "DeleteItem"}:
            self.items_written += 1
