"""What each category and priority means, in one place.

The Claude prompt, the offline classifier's training data and the people who label
tickets all follow these texts, so the classifiers are held to the same definitions and
cannot drift apart silently. The boundary rules settle the cases the one-line definitions
leave open; every labelled ticket in ``tests/data/`` is labelled by them.
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

# Where one category ends and the next begins, for tickets that touch two.
CATEGORY_BOUNDARIES: Final[tuple[str, ...]] = (
    "Classify by what the writer needs fixed or answered, not by the words around it; "
    "with several issues, the one that needs action first (usually the title's) decides.",
    "Signing in, passwords, two-factor, SSO, sessions, roles, invitations and someone "
    "else in an account are account, even when a bug causes them.",
    "Anything about money is billing, even when a page is broken: paying, invoices, "
    "charges, refunds, prices, quotes, plans and seats, and a workspace suspended for "
    "non-payment.",
    "Technical is the product misbehaving: errors, crashes, slowness, sync and "
    "integrations, lost data, vulnerabilities in the product.",
    "A question about what the product can do, a request, praise, a complaint about "
    "support, demos, partnerships, legal and compliance paperwork are general, even when "
    "they name technical things (an API, Slack), as long as nothing is broken.",
)

# The priority boundaries agents argue about most, written out.
PRIORITY_BOUNDARIES: Final[tuple[str, ...]] = (
    "Low versus medium: low when nothing is wrong for the writer or the blemish costs "
    "nothing (a question, a request, praise, a cosmetic flaw, a routine change). Medium "
    "as soon as something they rely on misbehaves or they were charged wrongly, but their "
    "work goes on.",
    "Medium versus high: high when someone cannot do a core part of their work and has no "
    "workaround: a major feature fails outright, many users are affected, one person is "
    "locked out of the service, or a suspension or deadline is imminent. Medium when work "
    "goes on: there is a workaround, it fails only sometimes or for part of the data, it "
    "is slow but works, or money needs correcting but nothing is blocked.",
    "High versus critical: critical only when the service is down or unusable for a whole "
    "organisation or for all users, data has been lost or corrupted, or security is "
    "breached (an account taken over, data exposed to the wrong people, an exploitable "
    "vulnerability). One person locked out, one feature down while the rest works, or "
    "suspicious activity without a confirmed breach is high.",
    "Urgent wording, capitals and exclamation marks do not raise a priority by themselves; "
    "the impact described does.",
)
