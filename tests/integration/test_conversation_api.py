"""The conversation through the API: agents' replies and notes, the customer's private page.

The customer's side is tested for every refusal (no key, a wrong, revoked or other
ticket's key: the same 404) and for what it must never show (internal notes,
history, agents' emails).
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.conftest import AGENT_NAME, AGENT_USERNAME, ApiClient
from tests.factories import ticket_payload

NOTE = "Internal: the customer is on the legacy plan, check with finance first"


def create(api: ApiClient, **fields: Any) -> dict[str, Any]:
    response = api.post(
        "/api/tickets/",
        json_body=ticket_payload(customer_email="Ana.Lima@Example.COM", **fields),
        token=None,
    )
    assert response.status_code == 201, response.body
    body: dict[str, Any] = response.json_body
    return body


def public(api: ApiClient, ticket_id: str, key: str | None) -> Any:
    headers = {"X-Ticket-Key": key} if key is not None else {}
    return api.get(f"/api/public/tickets/{ticket_id}/", headers=headers, token=None)


def post_public(api: ApiClient, ticket_id: str, key: str | None, body: Any) -> Any:
    headers = {"X-Ticket-Key": key} if key is not None else {}
    return api.post(
        f"/api/public/tickets/{ticket_id}/messages/", json_body=body, headers=headers, token=None
    )


def test_the_customer_contact_is_normalised_and_shown_to_agents(api: ApiClient) -> None:
    ticket = create(api, customer_name="  Ana   Lima ")
    assert ticket["customer_email"] == "ana.lima@example.com"
    assert ticket["customer_name"] == "Ana Lima"
    listed = api.get("/api/tickets/").json_body[0]
    assert (listed["customer_email"], listed["customer_name"]) == (
        "ana.lima@example.com",
        "Ana Lima",
    )


def test_the_private_link_shows_the_ticket_and_public_replies_only(api: ApiClient) -> None:
    # Given a customer's ticket with a reply and an internal note from an agent
    ticket = create(api)
    path = f"/api/tickets/{ticket['id']}/messages/"
    reply = api.post(path, json_body={"body": "Thanks, we are on it.\nBest, Support"})
    assert reply.status_code == 201
    assert reply.json_body["author"] == AGENT_USERNAME
    assert reply.json_body["delivery"] == "pending"
    note = api.post(path, json_body={"body": NOTE, "internal": True})
    assert note.status_code == 201 and note.json_body["internal"] is True
    assert note.json_body["delivery"] == "none"
    # When the customer opens the private link
    response = public(api, ticket["id"], ticket["customer_key"])
    # Then they see their ticket and the reply, by the agent's name, never the note
    assert response.status_code == 200
    body = response.json_body
    assert body["title"] == ticket["title"] and body["reference"] == ticket["reference"]
    assert [m["body"] for m in body["messages"]] == ["Thanks, we are on it.\nBest, Support"]
    assert body["messages"][0]["author_name"] == AGENT_NAME
    text = json.dumps(body)
    for secret in (NOTE, AGENT_USERNAME, "internal", "history", "customer_email", "assignee"):
        assert secret not in text
    # And agents see both, in order, the note marked internal
    thread = api.get(path).json_body
    assert [(m["body"], m["internal"]) for m in thread] == [
        ("Thanks, we are on it.\nBest, Support", False),
        (NOTE, True),
    ]
    ticket_now = api.get(f"/api/tickets/{ticket['id']}/").json_body
    assert ticket_now["waiting_on"] == "customer" and ticket_now["message_count"] == 2
    assert ticket_now["last_message_at"] == reply.json_body["created_at"]


def test_the_customer_reply_reopens_a_resolved_ticket(api: ApiClient) -> None:
    ticket = create(api)
    api.post(
        f"/api/tickets/{ticket['id']}/messages/",
        json_body={"body": "Fixed on our side.", "status": "resolved"},
    )
    assert api.get(f"/api/tickets/{ticket['id']}/").json_body["status"] == "resolved"
    # When the customer answers on the private page
    answer = post_public(api, ticket["id"], ticket["customer_key"], {"body": "Still broken!"})
    # Then the ticket is open again, waits on an agent, and the history says who did it
    assert answer.status_code == 201
    assert answer.json_body["author"] == "customer" and answer.json_body["author_name"] == "You"
    now = api.get(f"/api/tickets/{ticket['id']}/").json_body
    assert (now["status"], now["waiting_on"]) == ("open", "agent")
    last = api.get(f"/api/tickets/{ticket['id']}/history/").json_body[-1]
    assert (last["action"], last["actor"], last["actor_name"]) == (
        "reopened",
        "customer",
        "Customer",
    )
    thread = api.get(f"/api/tickets/{ticket['id']}/messages/").json_body
    assert thread[-1]["body"] == "Still broken!" and thread[-1]["author"] == "customer"


def test_every_bad_key_is_the_same_404_that_reveals_nothing(api: ApiClient) -> None:
    ticket = create(api)
    other = create(api)
    unknown_ticket = public(api, "a" * 24, ticket["customer_key"])
    refusals = [
        public(api, ticket["id"], None),
        public(api, ticket["id"], ""),
        public(api, ticket["id"], "not-the-key"),
        public(api, ticket["id"], other["customer_key"]),
        public(api, ticket["id"], ticket["customer_key"] + "x"),
        public(api, "not-an-id", ticket["customer_key"]),
        unknown_ticket,
        post_public(api, ticket["id"], other["customer_key"], {"body": "hi"}),
        post_public(api, ticket["id"], None, {"body": "hi"}),
    ]
    for response in refusals:
        assert response.status_code == 404
        assert response.json_body == unknown_ticket.json_body
    # And nothing was posted
    assert api.get(f"/api/tickets/{ticket['id']}/messages/").json_body == []


def test_a_new_link_revokes_the_old_one(api: ApiClient) -> None:
    ticket = create(api)
    renewed = api.post(f"/api/tickets/{ticket['id']}/access-link/")
    assert renewed.status_code == 202
    assert renewed.json_body["sent_to"] == "ana.lima@example.com"
    assert public(api, ticket["id"], ticket["customer_key"]).status_code == 404
    history = api.get(f"/api/tickets/{ticket['id']}/history/").json_body
    assert history[-1]["action"] == "link_renewed"


def test_a_new_link_needs_a_customer_email(api: ApiClient) -> None:
    ticket = api.post("/api/tickets/", json_body=ticket_payload(), token=None).json_body
    response = api.post(f"/api/tickets/{ticket['id']}/access-link/")
    assert response.status_code == 409 and "no customer email" in response.json_body["error"]


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        ({}, 400, "body is required"),
        ({"body": ""}, 400, "blank"),
        ({"body": "   \n "}, 400, "blank"),
        ({"body": "x" * 10_001}, 400, "at most 10000"),
        ({"body": 7}, 400, "string"),
        ({"body": "hi", "internal": True}, 400, "internal"),
        ({"body": "hi", "status": "closed"}, 400, "status"),
        ({"body": "x" * 70_000}, 413, "limit"),
    ],
)
def test_customer_messages_are_validated(
    api: ApiClient, body: dict[str, Any], status: int, fragment: str
) -> None:
    ticket = create(api)
    response = post_public(api, ticket["id"], ticket["customer_key"], body)
    assert response.status_code == status
    assert fragment in json.dumps(response.json_body)


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"body": ""}, "blank"),
        ({"body": "x" * 10_001}, "at most 10000"),
        ({"body": "hi", "internal": "yes"}, "internal"),
        ({"body": "hi", "status": "gone"}, "status"),
        ({"body": "hi", "author": "someone"}, "author"),
    ],
)
def test_agent_messages_are_validated(api: ApiClient, body: dict[str, Any], fragment: str) -> None:
    ticket = create(api)
    response = api.post(f"/api/tickets/{ticket['id']}/messages/", json_body=body)
    assert response.status_code == 400
    assert fragment in json.dumps(response.json_body)


def test_markup_is_stored_as_text_everywhere(api: ApiClient) -> None:
    script = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    ticket = create(api, title=script, description=script, customer_name="<b>Ana</b>")
    api.post(f"/api/tickets/{ticket['id']}/messages/", json_body={"body": script})
    post_public(api, ticket["id"], ticket["customer_key"], {"body": script})
    view = public(api, ticket["id"], ticket["customer_key"]).json_body
    assert view["title"] == script and all(m["body"] == script for m in view["messages"])
    assert api.get(f"/api/tickets/{ticket['id']}/").json_body["customer_name"] == "<b>Ana</b>"


def test_threads_are_paged_oldest_first(api: ApiClient) -> None:
    ticket = create(api)
    for index in range(5):
        api.post(f"/api/tickets/{ticket['id']}/messages/", json_body={"body": f"m{index}"})
    first = api.get(f"/api/tickets/{ticket['id']}/messages/?limit=2")
    assert [m["body"] for m in first.json_body] == ["m0", "m1"]
    link = first.headers["link"]
    bodies = []
    url: str | None = link[1 : link.index(">")]
    while url:
        page = api.get(url)
        bodies += [m["body"] for m in page.json_body]
        header = page.headers.get("link")
        url = header[1 : header.index(">")] if header else None
    assert bodies == ["m2", "m3", "m4"]
    assert api.get(f"/api/tickets/{ticket['id']}/messages/?cursor=bogus").status_code == 400
    past_the_thread = base64.urlsafe_b64encode(b"MSG#~~~").decode().rstrip("=")
    assert (
        api.get(f"/api/tickets/{ticket['id']}/messages/?cursor={past_the_thread}").status_code
        == 400
    )
    assert api.get(f"/api/tickets/{'b' * 24}/messages/").status_code == 404


def test_agents_are_listed_from_the_user_pool(api: ApiClient) -> None:
    agents = api.get("/api/agents/").json_body
    assert [(a["email"], a["display_name"]) for a in agents] == [(AGENT_USERNAME, AGENT_NAME)]
    assert api.get("/api/agents/", token=None).status_code == 401


def test_the_public_page_reads_the_newest_messages_and_a_thread_has_a_cap(
    api: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib import conversation

    # Given small bounds (100 and 300 in production)
    monkeypatch.setattr(conversation, "PUBLIC_MESSAGES_MAX", 3)
    monkeypatch.setattr(conversation, "CUSTOMER_MESSAGES_MAX", 4)
    ticket = create(api)
    key = ticket["customer_key"]
    for n in range(4):
        assert post_public(api, ticket["id"], key, {"body": f"message {n}"}).status_code == 201
    # Then the page shows the newest three, oldest of them first
    page = public(api, ticket["id"], key).json_body
    assert [m["body"] for m in page["messages"]] == ["message 1", "message 2", "message 3"]
    # And the thread takes no more from the customer, with a clear error that loses nothing
    refused = post_public(api, ticket["id"], key, {"body": "message 4"})
    assert refused.status_code == 409
    assert "new ticket" in refused.json_body["error"]
    assert api.get(f"/api/tickets/{ticket['id']}/").json_body["message_count"] == 4


def test_a_ticket_is_found_by_the_words_of_its_messages(api: ApiClient, stream: Any) -> None:
    # Given a ticket indexed before it had any message
    ticket = create(api, title="Printer", description="It will not print")
    stream.drain()
    assert api.get("/api/tickets/?search=toner").json_body == []
    # When an agent replies and the customer answers
    path = f"/api/tickets/{ticket['id']}/messages/"
    assert api.post(path, json_body={"body": "Is the toner cartridge seated?"}).status_code == 201
    reply = {"body": "Yes, the magenta one was loose"}
    assert post_public(api, ticket["id"], ticket["customer_key"], reply).status_code == 201
    stream.drain()
    # Then the words of both messages find it
    for word in ("toner", "magenta"):
        found = api.get(f"/api/tickets/?search={word}").json_body
        assert [t["id"] for t in found] == [ticket["id"]], word
