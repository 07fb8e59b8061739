"""Domain vocabulary shared by every layer: enums and plain value objects.

Nothing here knows HTTP or DynamoDB. Tickets, messages and history entries are
frozen dataclasses; the data layer maps items to them explicitly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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


# Most urgent first: the order of the "priority" sort and of the dashboard.
PRIORITY_ORDER: tuple[Priority, ...] = (
    Priority.CRITICAL,
    Priority.HIGH,
    Priority.MEDIUM,
    Priority.LOW,
)


class Status(StrEnum):
    """Where a ticket is in its life."""

    OPEN = "open"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"


# "Unsolved": the work still to do (the agents' default queue).
UNSOLVED: frozenset[Status] = frozenset({Status.OPEN, Status.IN_PROGRESS})


class ClassificationSource(StrEnum):
    """Who produced a suggestion: Claude, or the offline keyword classifier."""

    LLM = "llm"
    FALLBACK = "fallback"


class Confidence(StrEnum):
    """How far a suggestion can be trusted: "low" asks a person to check it."""

    HIGH = "high"
    LOW = "low"


class WaitingOn(StrEnum):
    """Who owes the next answer in a ticket's conversation."""

    AGENT = "agent"
    CUSTOMER = "customer"


class SortOrder(StrEnum):
    """How a ticket list is ordered."""

    NEWEST = "newest"
    OLDEST = "oldest"
    # Critical first, then oldest first within a priority.
    PRIORITY = "priority"


CUSTOMER = "customer"  # the actor and author name of whoever uses the public routes


@dataclass(frozen=True, slots=True)
class Classification:
    """A suggested category and priority, how sure the classifier is, and who made it."""

    category: Category
    priority: Priority
    source: ClassificationSource
    confidence: Confidence
    warning: str | None = None
    # Names Claude's answer in the cache (None for the offline classifier's): a create
    # that sends it back is classified from that answer, as the form showed it.
    suggestion_id: str | None = None


@dataclass(frozen=True, slots=True)
class Actor:
    """Who makes a request: a signed-in agent (their stable Cognito ``sub``) or the customer."""

    id: str  # the agent's sub, or CUSTOMER
    email: str | None = None

    @property
    def is_agent(self) -> bool:
        """Whether this is a signed-in agent."""
        return self.id != CUSTOMER


ANONYMOUS = Actor(CUSTOMER)


@dataclass(frozen=True, slots=True)
class TicketSummary:
    """What a dashboard shows of a ticket it names (the oldest unsolved one)."""

    id: str
    number: int | None
    title: str
    priority: Priority
    created_at: datetime


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
    suggested_confidence: Confidence | None = None
    number: int | None = None
    customer_email: str | None = None
    customer_name: str | None = None
    assignee: str | None = None  # the assigned agent's sub
    last_message_at: datetime | None = None
    waiting_on: WaitingOn | None = None
    first_reply_at: datetime | None = None
    message_count: int = 0
    # The customer's private link: a random nonce the link's secret is derived from,
    # and the SHA-256 of that secret (the secret itself is never stored).
    access_nonce: str | None = None
    access_key_hash: str | None = None
    # The hash of the secret sent by email, and whether it was ever used (the customer's
    # email is verified: whoever reads that mailbox knows of the ticket).
    email_key_hash: str | None = None
    customer_email_verified: bool = False

    @property
    def unsolved(self) -> bool:
        """Open or in progress."""
        return self.status in UNSOLVED


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
    action: str  # "created", "updated", "deleted", "reopened"
    actor: str  # an agent's sub, "customer", or (before subs were recorded) an email
    at: datetime
    changes: tuple[FieldChange, ...]


class Delivery(StrEnum):
    """What became of the email a message or notification should cause."""

    PENDING = "pending"  # waiting for the mailer (the table's stream)
    SENT = "sent"
    NOT_DELIVERED = "not_delivered"  # SES refused it, or every retry failed
    SUPPRESSED = "suppressed"  # deliberately not sent (rate limit)
    NONE = "none"  # nothing to send: an internal note, a customer's own message, no email


@dataclass(frozen=True, slots=True)
class Message:
    """One message in a ticket's conversation: a reply, an internal note or the customer's."""

    id: str
    ticket_id: str
    body: str
    internal: bool
    author: str  # an agent's sub, or CUSTOMER
    created_at: datetime
    delivery: Delivery = Delivery.NONE
    delivery_note: str | None = None

    @property
    def by_customer(self) -> bool:
        """Written by the customer (through the private link)."""
        return self.author == CUSTOMER


@dataclass(frozen=True, slots=True)
class Notification:
    """An email the desk sent (or decided not to send) about a ticket, for the agents."""

    ticket_id: str
    kind: str  # "confirmation", "reply", "resolved", "link"
    key: str
    to: str
    status: Delivery
    note: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class Agent:
    """A member of the agents' user pool."""

    id: str  # Cognito sub
    email: str
    name: str | None
    enabled: bool = True

    @property
    def display_name(self) -> str:
        """The name agents chose, else their email."""
        return self.name or self.email


@dataclass(frozen=True, slots=True)
class StatsCounts:
    """The raw counters behind the stats endpoint (see chalicelib.data.counters)."""

    totals: dict[str, int]
    days: dict[str, int]  # "d_20261129" and "ud_20261129" style day counters
    # Daily usage counters by name, e.g. "claude#2026-11-29" (chalicelib.data.claude_budget)
    usage: dict[str, int] = field(default_factory=dict)
