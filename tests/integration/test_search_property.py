"""The indexed search returns exactly what a brute-force scan returns.

A random workload (creates, edits of title and description, replies and notes,
customer messages, deletes) runs through the services on moto; the stream is
delivered to the real consumer with every batch delivered twice (as a retried
batch is). Then, for 200 random queries (words, prefixes, several words, filters,
references, emails, words in messages), every page of the API's answer, followed to
the end, must equal a brute-force scan of the table computed here directly from the
text: every query word a prefix of some word of the ticket (an email exact).
"""

from __future__ import annotations

import random
from typing import Any
from urllib.parse import quote

import pytest

from chalicelib.data.models import MessageModel, TicketModel
from chalicelib.dependencies import get_conversation_service, get_directory, get_ticket_service
from chalicelib.domain import ANONYMOUS, Actor, Category, Status
from chalicelib.errors import TicketNotFound
from chalicelib.events.stream import handle_stream_batch
from chalicelib.search.text import words
from chalicelib.validation import NewMessage, parse_new_ticket, parse_ticket_changes
from local_stack.stream_poller import StreamPoller
from tests.conftest import AGENT_USERNAME, REGION, ApiClient

VOCABULARY = [
    "Refund", "réfund", "refunded", "invoice", "INV-2024-0012", "502", "login", "logout",
    "Łódź", "naïve", "crash", "cache", "cancel", "câble", "payment", "paid", "pay", "x",
    "password", "passport", "error", "errno", "ticket", "straße", "a", "é", "42",
]  # fmt: skip
EMAILS = ["ana@example.com", "bob@example.org", "cy@example.net", None]


def sentence(rng: random.Random, length: int) -> str:
    return " ".join(rng.choice(VOCABULARY) for _ in range(length))


Scanned = tuple[dict[str, TicketModel], dict[str, list[str]]]


def scan_everything() -> Scanned:
    """Every ticket, and the bodies of each ticket's messages, from a scan of every item
    (once the workload is indexed: the queries change nothing)."""
    tickets = {item.ticket_id: item for item in TicketModel.scan(TicketModel.sk == "TICKET")}
    bodies: dict[str, list[str]] = {}
    for item in MessageModel.scan(MessageModel.sk.startswith("MSG#")):
        bodies.setdefault(item.ticket_id, []).append(item.body)
    return tickets, bodies


def brute_force(
    scanned: Scanned, query_words: list[str], email: str | None, filters: dict[str, str]
) -> list[str]:
    """Ids of the matching tickets, newest first, computed from the scanned text."""
    tickets, bodies = scanned
    found = []
    for ticket_id, item in tickets.items():
        text_words = set(
            words(
                " ".join(
                    [
                        item.customer_name or "",
                        item.customer_email or "",
                        item.title,
                        item.description,
                        *bodies.get(ticket_id, []),
                    ]
                )
            )
        )
        if any(str(getattr(item, name).value) != value for name, value in filters.items()):
            continue
        if email is not None and item.customer_email != email:
            continue
        # A word of 2 or more characters matches as a prefix; a single letter exactly.
        if all(
            any(w.startswith(q) if len(q) > 1 else w == q for w in text_words) for q in query_words
        ):
            found.append(item)
    found.sort(key=lambda i: i.created_sk, reverse=True)
    return [i.ticket_id for i in found]


def search_all(api: ApiClient, query: str, filters: dict[str, str]) -> list[str]:
    params = "&".join(f"{k}={v}" for k, v in filters.items())
    url: str | None = f"/api/tickets/?search={quote(query)}&limit=7&{params}"
    ids: list[str] = []
    pages = 0
    while url:
        response = api.get(url)
        assert response.status_code == 200, (query, response.body)
        body = response.json_body
        ids += [t["id"] for t in body]
        link = response.headers.get("link")
        url = link[1 : link.index(">")] if link else None
        # Pages are full: only the last one may be short (never empty with a next link)
        assert url is None or len(body) == 7, (query, len(body))
        pages += 1
        assert pages < 100
    return ids


@pytest.mark.slow
def test_indexed_search_equals_brute_force_after_a_random_workload(
    api: ApiClient, table: str, aws: str
) -> None:
    rng = random.Random(20261129)
    tickets = get_ticket_service()
    conversation = get_conversation_service()
    agent = get_directory().assignable(AGENT_USERNAME)
    actor = Actor(agent.id, agent.email)
    live: dict[str, str | None] = {}  # id -> customer key
    # Given a random workload of creates, edits, messages and deletes
    for _ in range(70):
        operation = rng.choice(["create"] * 4 + ["edit", "reply", "customer", "delete"])
        if operation == "create" or not live:
            email = rng.choice(EMAILS)
            fields: dict[str, Any] = {
                "title": sentence(rng, rng.randint(1, 4)),
                "description": sentence(rng, rng.randint(1, 12)),
                "category": rng.choice(list(Category)).value,
                "priority": "low",
            }
            if email:
                fields["customer_email"] = email
            created = tickets.create(parse_new_ticket(fields), ANONYMOUS)
            live[created.ticket.id] = created.customer_key
            continue
        target = rng.choice(sorted(live))
        try:
            if operation == "edit":
                change = rng.choice(["title", "description", "status"])
                value = (
                    rng.choice(list(Status)).value
                    if change == "status"
                    else sentence(rng, rng.randint(1, 6))
                )
                tickets.update(target, parse_ticket_changes({change: value}), None, actor)
            elif operation == "reply":
                note = rng.random() < 0.5
                conversation.post_as_agent(
                    target, NewMessage(sentence(rng, 3), internal=note), actor
                )
            elif operation == "customer":
                conversation.post_as_customer(target, live[target], sentence(rng, 3))
            else:
                tickets.delete(target, None, actor)
                del live[target]
        except TicketNotFound:
            live.pop(target, None)

    def retried(event: dict[str, Any], context: Any) -> dict[str, Any]:
        handle_stream_batch(event, context)  # a batch that Lambda delivers again
        return handle_stream_batch(event, context)

    StreamPoller(table, REGION, retried, aws).drain(timeout_seconds=120)
    # When 200 random queries are asked through the API
    scanned = scan_everything()
    numbers = {ticket_id: int(item.number) for ticket_id, item in scanned[0].items()}
    checked = 0
    for _ in range(200):
        kind = rng.choice(["word", "prefix", "two", "filters", "email", "reference", "missing"])
        filters: dict[str, str] = {}
        email = None
        if kind == "reference" and numbers:
            ticket_id = rng.choice(sorted(numbers))
            query = f"#{numbers[ticket_id]}"
            expected = [ticket_id]
        elif kind == "email":
            email = rng.choice([e for e in EMAILS if e])
            query = email
            expected = brute_force(scanned, [], email, filters)
        else:
            picked = [w for w in words(sentence(rng, 2 if kind == "two" else 1)) if w]
            if kind == "prefix":
                picked = [
                    w[: max(2, len(w) - rng.randint(0, 3))] if len(w) > 1 else w for w in picked
                ]
            if kind == "missing":
                picked = ["zzzunseen"]
            if kind == "filters":
                filters = {"category": rng.choice(list(Category)).value}
                if rng.random() < 0.5:
                    filters["status"] = rng.choice(list(Status)).value
            query = " ".join(picked)
            expected = brute_force(scanned, picked, None, filters)
        # Then every answer is exactly the brute-force one, in order
        assert search_all(api, query, filters) == expected, (query, filters)
        checked += 1
    assert checked == 200
