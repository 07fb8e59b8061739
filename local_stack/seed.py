"""Demo tickets for ``make run SEED=1``: realistic, spread over the last two weeks."""

from __future__ import annotations

from datetime import datetime, timedelta

from chalicelib.conversation import ConversationService
from chalicelib.cursor import CursorCodec
from chalicelib.dependencies import get_classifier, get_directory, get_links, get_repository
from chalicelib.domain import ANONYMOUS, Actor, Status
from chalicelib.tickets import TicketService, utc_now
from chalicelib.validation import NewMessage, parse_new_ticket, parse_ticket_changes
from local_stack.cognito import DEFAULT_AGENT_USERNAME

DEMO_TICKETS: list[tuple[str, str, str]] = [
    (
        "Charged twice for November",
        "My card was charged twice for the November invoice. Please refund one of the payments.",
        "open",
    ),
    (
        "Cannot log in after password reset",
        "I reset my password this morning and the login page still says my credentials are wrong.",
        "open",
    ),
    (
        "Dashboard takes 30 seconds to load",
        "Since yesterday the reports dashboard is extremely slow for our whole team; it eventually loads.",
        "in_progress",
    ),
    (
        "Whole app is down: 502 errors",
        "Every page returns 502 Bad Gateway. None of our 40 agents can work. This is urgent.",
        "open",
    ),
    (
        "Feature request: dark mode",
        "It would be great to have a dark theme for the agent console. Just an idea!",
        "open",
    ),
    (
        "Invoice shows wrong company address",
        "The PDF invoice still lists our old address. Could you update it for future invoices?",
        "resolved",
    ),
    (
        "Webhook deliveries failing with 401",
        "Our Slack integration stopped receiving webhooks; the logs show 401 Unauthorized since the last release.",
        "in_progress",
    ),
    (
        "How do I export tickets to CSV?",
        "Is there a way to export all tickets from last month to a spreadsheet?",
        "closed",
    ),
    (
        "Need admin rights for new team lead",
        "Please give Maria admin permissions on our workspace; she replaced Tom as team lead.",
        "open",
    ),
    (
        "Typo on pricing page",
        "The pricing page says 'anual' instead of 'annual'. Minor, but thought you should know.",
        "open",
    ),
    (
        "Data missing after import",
        "We imported 2,000 customer records and half of them are gone. We cannot find them anywhere.",
        "open",
    ),
    (
        "Upgrade to annual plan",
        "We'd like to switch from monthly to annual billing. How is the remaining month prorated?",
        "resolved",
    ),
    (
        "2FA codes not accepted",
        "My authenticator codes are rejected every time so I am locked out of my account.",
        "in_progress",
    ),
    (
        "CSV upload times out",
        "Uploading a 5 MB CSV times out after a minute. Smaller files work fine as a workaround.",
        "open",
    ),
    (
        "Thanks for the quick fix",
        "Just wanted to say the support team was great last week. Keep it up!",
        "closed",
    ),
    (
        "Suspicious login from another country",
        "I got an alert about a login from a country I have never been to. Someone may have my password.",
        "open",
    ),
    (
        "Refund for cancelled subscription",
        "I cancelled within the trial period but was still charged $49. Please refund.",
        "in_progress",
    ),
    (
        "API rate limit too low",
        "We hit the API rate limit during our nightly sync. Can the limit be raised for our plan?",
        "open",
    ),
]


class _Backdated:
    """A clock the seeder sets by hand, so demo tickets spread over several days."""

    def __init__(self) -> None:
        self.at = utc_now()

    def __call__(self) -> datetime:
        return self.at


CUSTOMERS = [
    ("Maria Lopez", "maria.lopez@example.com"),
    ("Kenji Sato", "kenji@example.org"),
    (None, "ops-team@example.net"),
    ("Priya Natarajan", "priya.n@example.com"),
]
# Keyed by the index in DEMO_TICKETS.
REPLIES = {
    0: "Thanks for reporting this. I can see two charges on 14 November; one of them has "
    "been refunded and should appear within 3-5 working days.",
    2: "We are looking into the slow dashboard. Could you tell us roughly when it started?",
    11: "Your plan has been switched; the unused days of this month were credited.",
}
NOTES = {2: "Looks like the reporting cluster again - checking the slow query log."}


def seed_demo_tickets(
    now: datetime | None = None, agent_username: str = DEFAULT_AGENT_USERNAME
) -> int:
    """Create the demo tickets through the services (so counters, history, messages and
    the search index are real): customers file them, the demo agent works on some."""
    clock = _Backdated()
    directory = get_directory()
    agent = directory.assignable(agent_username)
    actor = Actor(agent.id, agent.email)
    repository = get_repository()
    service = TicketService(
        repository=repository,
        classifier=get_classifier(),
        cursor_codec=CursorCodec(b"seed-only-cursor-key"),
        directory=directory,
        links=get_links(),
        clock=clock,
    )
    conversation = ConversationService(repository, get_links(), clock=clock)
    now = now or utc_now()
    for index, (title, description, status) in enumerate(DEMO_TICKETS):
        # (3 hours back at least: the agent's later steps stay in the past)
        clock.at = now - timedelta(days=(index * 5) % 14, hours=index + 3)
        name, email = CUSTOMERS[index % len(CUSTOMERS)]
        fields: dict[str, str] = {"title": title, "description": description}
        if index % 5 != 4:  # a few tickets came in without an email (older API clients)
            fields["customer_email"] = email
            if name:
                fields["customer_name"] = name
        created = service.create(parse_new_ticket(fields), ANONYMOUS)
        ticket = created.ticket
        if index in NOTES:
            clock.at += timedelta(minutes=20)
            conversation.post_as_agent(ticket.id, NewMessage(NOTES[index], internal=True), actor)
        if index in REPLIES:
            clock.at += timedelta(minutes=40)
            conversation.post_as_agent(ticket.id, NewMessage(REPLIES[index]), actor)
        if index % 3 == 0 or status != Status.OPEN.value:
            clock.at += timedelta(minutes=30)
            service.update(ticket.id, parse_ticket_changes({"assignee": agent.email}), None, actor)
        if status != Status.OPEN.value:
            clock.at += timedelta(hours=1)
            service.update(ticket.id, parse_ticket_changes({"status": status}), None, actor)
    return len(DEMO_TICKETS)
