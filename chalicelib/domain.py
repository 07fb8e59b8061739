"""Domain vocabulary shared by every layer: the enums and the ticket value object."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Category(StrEnum):
    """What a ticket is about."""

    BILLING = "billing"
    TECHNICAL = "technical"
    ACCOUNT = "account"
    GENERAL = "general"


class Priority(StrEnum):
    """How urgent a ticket is."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class Status(StrEnum):
    """Where a ticket is in its life."""

    OPEN = "open"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"


class ClassificationSource(StrEnum):
    """Who produced a suggestion: Claude, or the offline keyword classifier."""

    LLM = "llm"
    FALLBACK = "fallback"


class Confidence(StrEnum):
    """How far a suggestion can be trusted: "low" asks a person to check it."""

    HIGH = "high"
    LOW = "low"


@dataclass(frozen=True, slots=True)
class Classification:
    """A suggested category and priority, how sure the classifier is, and who made it."""

    category: Category
    priority: Priority
    source: ClassificationSource
    confidence: Confidence
    warning: str | None = None


@dataclass(frozen=True, slots=True)
class Ticket:
    """A support ticket as the rest of the code sees it (never a database item)."""

    id: str
    title: str
    description: str
    category: Category
    priority: Priority
    status: Status
    created_at: datetime
    updated_at: datetime
    version: int
    suggested_category: Category | None = None
    suggested_priority: Priority | None = None
    classification_source: ClassificationSource | None = None


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One field of a ticket that changed, with its value before and after."""

    field: str
    old: str | None
    new: str | None


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One recorded change to a ticket: who did what, when."""

    ticket_id: str
    version: int
    action: str  # "created", "updated" or "deleted"
    actor: str
    at: datetime
    changes: tuple[FieldChange, ...]


@dataclass(frozen=True, slots=True)
class StatsCounts:
    """The raw counters behind the stats endpoint."""

    total: int
    by_category: dict[Category, int]
    by_priority: dict[Priority, int]
    by_status: dict[Status, int]
    days_with_tickets: int
