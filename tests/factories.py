"""Test data builders."""

from __future__ import annotations

import itertools
from typing import Any

_counter = itertools.count(1)


def ticket_payload(**overrides: Any) -> dict[str, Any]:
    """A valid create body; override any field, or pass ``field=None`` to drop it."""
    number = next(_counter)
    payload: dict[str, Any] = {
        "title": f"Ticket {number}: cannot download invoice",
        "description": f"Details for ticket {number}: the invoice PDF link returns an error.",
        "category": "billing",
        "priority": "medium",
    }
    payload.update(overrides)
    return {name: value for name, value in payload.items() if value is not None}
