"""One change to the table, as its DynamoDB stream reports it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.data.models import MESSAGE_PREFIX, TICKET_SK

_TICKET_PREFIX = "TICKET#"


@dataclass(frozen=True, slots=True)
class TableChange:
    """An item inserted, modified or removed, with its images (DynamoDB JSON)."""

    event: str  # "INSERT", "MODIFY" or "REMOVE"
    pk: str
    sk: str
    old: dict[str, Any] | None
    new: dict[str, Any] | None
    sequence: str

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> TableChange:
        """Read a stream record shaped as Lambda delivers it."""
        data = record.get("dynamodb") or {}
        keys = data.get("Keys") or {}
        return cls(
            event=str(record.get("eventName", "")),
            pk=str((keys.get("pk") or {}).get("S", "")),
            sk=str((keys.get("sk") or {}).get("S", "")),
            old=data.get("OldImage"),
            new=data.get("NewImage"),
            sequence=str(data.get("SequenceNumber", "")),
        )

    @property
    def kind(self) -> str:
        """``ticket``, ``message`` or ``other`` (history, counters, index, ...)."""
        if not self.pk.startswith(_TICKET_PREFIX):
            return "other"
        if self.sk == TICKET_SK:
            return "ticket"
        if self.sk.startswith(MESSAGE_PREFIX):
            return "message"
        return "other"

    @property
    def ticket_id(self) -> str:
        """The ticket the changed item belongs to."""
        return self.pk[len(_TICKET_PREFIX) :]
