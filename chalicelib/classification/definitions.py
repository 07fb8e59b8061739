"""What each category and priority means, in one place.

The Claude prompt and the offline classifier both read these texts, so the two
classifiers are held to the same definitions and cannot drift apart silently.
"""

from __future__ import annotations

from typing import Final

from chalicelib.domain import Category, Priority

CATEGORY_DEFINITIONS: Final[dict[Category, str]] = {
    Category.BILLING: "payments, invoices, subscriptions, refunds",
    Category.TECHNICAL: "bugs, errors, performance, integrations",
    Category.ACCOUNT: "login, password, profile, permissions, access",
    Category.GENERAL: "questions, feature requests, feedback, anything else",
}

PRIORITY_DEFINITIONS: Final[dict[Priority, str]] = {
    Priority.CRITICAL: "service down, data loss, security breach, no way to use the service",
    Priority.HIGH: "a major feature broken or many users affected",
    Priority.MEDIUM: "a partial problem with a workaround",
    Priority.LOW: "minor or cosmetic issues, questions, feature requests",
}
