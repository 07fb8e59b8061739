"""The ticket API through Chalice's test client, over a real moto DynamoDB."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from chalicelib.validation import DESCRIPTION_MAX
from tests.conftest import ApiClient
from tests.factories import ticket_payload

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def create(api: ApiClient, **fields: Any) -> dict[str, Any]:
    """Create a ticket; returns it as GET shows it (the create's one-time link left out)."""
    response = api.post("/api/tickets/", json_body=ticket_payload(**fields))
    assert response.status_code == 201, response.body
    body: dict[str, Any] = response.json_body
    assert body.pop("customer_key") and body.pop("customer_url")
    return body


def next_link(response: Any) -> str | None:
    link = response.headers.get("link")
    if not link:
        return None
    match = re.match(r'<([^>]+)>; rel="next"', link)
    assert match, link
    return match.group(1)


def list_all(api: ApiClient, query: str) -> tuple[list[dict[str, Any]], int]:
    """Follow Link headers to the end; returns tickets and the number of requests."""
    url: str | None = f"/api/tickets/?{query}"
    tickets: list[dict[str, Any]] = []
    requests = 0
    while url:
        response = api.get(url)
        assert response.status_code == 200, response.body
        tickets.extend(response.json_body)
        requests += 1
        url = next_link(response)
        assert requests < 200
    return tickets, requests


# --- create ---------------------------------------------------------------------------


def test_create_returns_the_ticket_with_location_and_etag(api: ApiClient) -> None:
    # Given a complete ticket
    payload = ticket_payload(title="  Refund please  ", status="in_progress")
    # When it is created
    response = api.post("/api/tickets/", json_body=payload)
    # Then the stored ticket comes back with its id, location and version tag
    assert response.status_code == 201
    ticket = response.json_body
    assert re.fullmatch(r"[a-z2-7]{24}", ticket["id"])
    assert ticket["title"] == "Refund please"
    assert ticket["description"] == payload["description"]
    assert (ticket["category"], ticket["priority"], ticket["status"]) == (
        "billing",
        "medium",
        "in_progress",
    )
    assert ISO_UTC.match(ticket["created_at"]) and ticket["created_at"] == ticket["updated_at"]
    assert ticket["version"] == 1
    # The server's own suggestion is recorded beside the values given
    assert ticket["classification_source"] == "fallback"
    assert ticket["suggested_category"] in {"billing", "technical", "account", "general"}
    assert isinstance(ticket["number"], int) and ticket["reference"] == f"#{ticket['number']}"
    assert response.headers["location"] == f"/api/tickets/{ticket['id']}/"
    assert response.headers["etag"] == '"v1"'
    # The customer's private link is in the answer, once
    key = ticket.pop("customer_key")
    assert (
        ticket.pop("customer_url") == f"http://127.0.0.1:3000/#/my-ticket/{ticket['id']}?key={key}"
    )
    assert api.get(response.headers["location"]).json_body == ticket


def test_missing_category_and_priority_are_classified_and_recorded(api: ApiClient) -> None:
    # Given no category or priority, and no Anthropic key (offline classifier)
    ticket = create(
        api,
        category=None,
        priority=None,
        title="Production is down",
        description="Our whole site is down and every customer sees a 500 error.",
    )
    # Then the server chose both, and recorded what it proposed and where from
    assert (ticket["category"], ticket["priority"]) == ("technical", "critical")
    assert ticket["suggested_category"] == "technical"
    assert ticket["suggested_priority"] == "critical"
    assert ticket["classification_source"] == "fallback"


def test_a_person_choice_is_kept_beside_the_servers_own_proposal(api: ApiClient) -> None:
    # Given a person who chose general/high for a text the classifier reads as billing
    ticket = create(
        api,
        category="general",
        priority="high",
        title="Charged twice",
        description="My card was charged twice for the invoice; please refund one payment.",
    )
    # Then both are stored: the choice, and what the server itself proposed
    assert (ticket["category"], ticket["priority"]) == ("general", "high")
    assert ticket["suggested_category"] == "billing"
    assert ticket["classification_source"] == "fallback"


@pytest.mark.parametrize(
    "spoofed",
    [
        {"suggested_category": "billing"},
        {"suggested_priority": "low"},
        {"classification_source": "llm"},
    ],
)
def test_clients_cannot_send_the_servers_suggestion(
    api: ApiClient, spoofed: dict[str, str]
) -> None:
    response = api.post("/api/tickets/", json_body=ticket_payload(**spoofed), token=None)
    assert response.status_code == 400
    field = next(iter(spoofed))
    assert field in response.json_body["fields"]
    assert "set by the server" in response.json_body["error"]
    assert api.get("/api/tickets/stats/").json_body["total_tickets"] == 0


def test_an_anonymous_create_always_starts_open(api: ApiClient) -> None:
    refused = api.post("/api/tickets/", json_body=ticket_payload(status="closed"), token=None)
    assert refused.status_code == 400 and "status" in refused.json_body["fields"]
    accepted = api.post("/api/tickets/", json_body=ticket_payload(status="open"), token=None)
    assert accepted.status_code == 201 and accepted.json_body["status"] == "open"
    # An agent (a valid token) may log a call that is already solved
    logged = api.post("/api/tickets/", json_body=ticket_payload(status="resolved"))
    assert logged.status_code == 201 and logged.json_body["status"] == "resolved"


def test_only_priority_missing_is_filled_in_and_category_kept(api: ApiClient) -> None:
    ticket = create(
        api, category="account", priority=None, description="I cannot log in, password reset fails"
    )
    assert ticket["category"] == "account"
    assert ticket["priority"] in {"low", "medium", "high", "critical"}
    assert ticket["classification_source"] == "fallback"


@pytest.mark.parametrize(
    ("overrides", "field", "fragment"),
    [
        ({"title": None}, "title", "required"),
        ({"title": "   "}, "title", "blank"),
        ({"title": "x" * 201}, "title", "at most 200"),
        ({"title": 42}, "title", "string"),
        ({"description": None}, "description", "required"),
        ({"description": " \n\t "}, "description", "blank"),
        ({"description": "d" * 10_001}, "description", "at most 10000"),
        ({"category": "shipping"}, "category", "billing, technical, account, general"),
        ({"priority": "urgent"}, "priority", "low, medium, high, critical"),
        ({"status": "done"}, "status", "open, in_progress, resolved, closed"),
        ({"suggested_category": "x"}, "suggested_category", "set by the server"),
        ({"classification_source": "human"}, "classification_source", "set by the server"),
        ({"customer_email": "not-an-email"}, "customer_email", "not a valid email"),
        ({"customer_email": "a@" + "b" * 250 + ".com"}, "customer_email", "at most 254"),
        ({"customer_name": "Eve\r\nBcc: x@y.z"}, "customer_name", "line breaks"),
        ({"id": "mine"}, "id", "not allowed"),
        ({"version": 7}, "version", "not allowed"),
        ({"title": "bad \ud800 surrogate"}, "title", "invalid unicode"),
        ({"description": "nul \x00 byte"}, "description", "NUL"),
    ],
)
def test_invalid_fields_are_400_naming_the_field(
    api: ApiClient, overrides: dict[str, Any], field: str, fragment: str
) -> None:
    # Given one bad field
    payload = ticket_payload()
    payload.update(overrides)
    payload = {k: v for k, v in payload.items() if v is not None}
    # When it is posted
    response = api.post("/api/tickets/", json_body=payload)
    # Then the error names the field, in words, and nothing was stored
    assert response.status_code == 400
    body = response.json_body
    assert field in body["fields"]
    assert fragment in body["error"] or fragment in body["fields"][field]
    assert api.get("/api/tickets/stats/").json_body["total_tickets"] == 0


def test_boundary_lengths_are_accepted(api: ApiClient) -> None:
    ticket = create(api, title="t" * 200, description="d" * 10_000)
    assert len(ticket["title"]) == 200 and len(ticket["description"]) == 10_000


@pytest.mark.parametrize(
    ("body", "content_type", "status", "fragment"),
    [
        (b"", "application/json", 400, "empty"),
        (b"{not json", "application/json", 400, "not valid JSON"),
        (b"[1, 2]", "application/json", 400, "JSON object"),
        (b'"text"', "application/json", 400, "JSON object"),
        (b'{"title": NaN}', "application/json", 400, "not valid JSON"),
        (b"\xff\xfe\x00", "application/json", 400, "UTF-8"),
        (b"[" * 100_00 + b"]" * 100_00, "application/json", 400, "JSON"),
        (b"title=x", "application/x-www-form-urlencoded", 415, "media type"),
        (b"title=x", "text/plain", 415, "media type"),
    ],
)
def test_malformed_bodies_are_clear_errors_never_500(
    api: ApiClient, body: bytes, content_type: str, status: int, fragment: str
) -> None:
    response = api.post("/api/tickets/", body=body, headers={"Content-Type": content_type})
    assert response.status_code == status
    assert fragment.lower() in response.json_body["error"].lower()


def test_body_over_the_limit_is_413_before_parsing(api: ApiClient) -> None:
    body = json.dumps(ticket_payload(description="x" * 70_000)).encode()
    response = api.post("/api/tickets/", body=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert "limit" in response.json_body["error"]


# --- read, update, delete -------------------------------------------------------------


def test_unknown_and_malformed_ids_are_404(api: ApiClient) -> None:
    for ticket_id in ("a" * 24, "nope", "..%2F..", "A" * 24):
        response = api.get(f"/api/tickets/{ticket_id}/")
        assert response.status_code == 404
        assert "No ticket" in response.json_body["error"]


def test_patch_changes_only_the_given_fields_and_bumps_the_version(api: ApiClient) -> None:
    # Given a ticket
    ticket = create(api)
    # When status and priority change
    response = api.patch(
        f"/api/tickets/{ticket['id']}/", json_body={"status": "resolved", "priority": "high"}
    )
    # Then only those changed, the version moved and the ETag follows it
    assert response.status_code == 200
    updated = response.json_body
    assert (updated["status"], updated["priority"]) == ("resolved", "high")
    assert updated["title"] == ticket["title"] and updated["category"] == ticket["category"]
    assert updated["version"] == 2
    assert updated["created_at"] == ticket["created_at"]
    assert updated["updated_at"] > ticket["updated_at"]
    assert response.headers["etag"] == '"v2"'
    assert api.get(f"/api/tickets/{ticket['id']}/").json_body == updated


def test_patch_with_no_real_change_keeps_the_version(api: ApiClient) -> None:
    ticket = create(api)
    response = api.patch(f"/api/tickets/{ticket['id']}/", json_body={"status": "open"})
    assert response.status_code == 200
    assert response.json_body["version"] == 1


@pytest.mark.parametrize(
    "body",
    [
        {"id": "x"},
        {"created_at": "2020-01-01T00:00:00Z"},
        {"version": 9},
        {"suggested_category": "billing"},
        {"status": None},
        {"status": "done"},
        {},
    ],
)
def test_patch_rejects_read_only_unknown_or_invalid_fields(
    api: ApiClient, body: dict[str, Any]
) -> None:
    ticket = create(api)
    response = api.patch(f"/api/tickets/{ticket['id']}/", json_body=body)
    assert response.status_code == 400
    assert response.json_body["error"]
    assert api.get(f"/api/tickets/{ticket['id']}/").json_body == ticket


def test_stale_if_match_is_412_and_changes_nothing(api: ApiClient) -> None:
    # Given a ticket that someone else already changed
    ticket = create(api)
    path = f"/api/tickets/{ticket['id']}/"
    assert api.patch(path, json_body={"status": "in_progress"}).status_code == 200
    # When I patch with the version I loaded
    response = api.patch(path, json_body={"status": "closed"}, headers={"If-Match": '"v1"'})
    # Then I am told, and their change stands
    assert response.status_code == 412
    assert "changed" in response.json_body["error"]
    # The answer carries the current ticket and its ETag, ready for a retry
    assert response.json_body["current"]["status"] == "in_progress"
    assert response.headers["etag"] == '"v2"'
    assert api.get(path).json_body["status"] == "in_progress"


def test_current_if_match_applies(api: ApiClient) -> None:
    ticket = create(api)
    path = f"/api/tickets/{ticket['id']}/"
    response = api.patch(path, json_body={"title": "New"}, headers={"If-Match": 'W/"v1"'})
    assert response.status_code == 200 and response.json_body["title"] == "New"
    # A tag the API never sends is malformed (400); another version's tag is stale (412)
    malformed = api.patch(path, json_body={"title": "x"}, headers={"If-Match": "garbage"})
    assert malformed.status_code == 400 and "If-Match" in malformed.json_body["fields"]
    assert api.patch(path, json_body={"title": "x"}, headers={"If-Match": ""}).status_code == 400
    assert (
        api.patch(path, json_body={"title": "x"}, headers={"If-Match": '"v1"'}).status_code == 412
    )
    assert api.patch(path, json_body={"title": "Any"}, headers={"If-Match": "*"}).status_code == 200


def test_delete_then_gone_and_stale_delete_refused(api: ApiClient) -> None:
    ticket = create(api)
    path = f"/api/tickets/{ticket['id']}/"
    by_number = f"/api/tickets/by-number/{ticket['number']}/"
    assert api.get(by_number).status_code == 200
    assert api.delete(path, headers={"If-Match": '"v9"'}).status_code == 412
    response = api.delete(path)
    assert response.status_code == 204
    assert api.get(path).status_code == 404
    assert api.get(by_number).status_code == 404
    assert api.delete(path).status_code == 404
    assert api.patch(path, json_body={"status": "closed"}).status_code == 404


def test_history_records_who_changed_what(api: ApiClient) -> None:
    ticket = create(api, status="open")
    path = f"/api/tickets/{ticket['id']}/"
    api.patch(path, json_body={"status": "in_progress", "priority": "critical"})
    history = api.get(f"{path}history/").json_body
    assert [entry["action"] for entry in history] == ["created", "updated"]
    assert history[1]["version"] == 2
    changes = {c["field"]: (c["old"], c["new"]) for c in history[1]["changes"]}
    assert changes == {"status": ("open", "in_progress"), "priority": ("medium", "critical")}
    # The ticket was created through the public route with an agent's token: the agent
    assert history[0]["actor"] != "customer" and history[0]["actor_name"] == "Agent Smith"


# --- list, filters, pagination, search -------------------------------------------------


def test_list_is_newest_first_across_pages_without_gaps_or_duplicates(api: ApiClient) -> None:
    # Given 23 tickets
    ids = [create(api)["id"] for _ in range(23)]
    # When listed 5 at a time
    tickets, requests = list_all(api, "limit=5")
    # Then every ticket appears once, newest first, in 5 pages
    assert [t["id"] for t in tickets] == list(reversed(ids))
    assert requests == 5
    created = [t["created_at"] for t in tickets]
    assert created == sorted(created, reverse=True)


def test_a_page_larger_than_one_dynamodb_answer_is_read_whole(api: ApiClient) -> None:
    # Given 40 tickets of about 30 KB each (the longest description, in 3-byte
    # characters): 1.2 MB, more than DynamoDB answers to one Query (1 MB)
    description = "\N{EURO SIGN}" * DESCRIPTION_MAX
    ids = [create(api, description=description)["id"] for _ in range(40)]
    # When they are listed on one page
    response = api.get("/api/tickets/?limit=100")
    # Then every one is on it, newest first, and no next page is offered
    assert response.status_code == 200
    assert [t["id"] for t in response.json_body] == list(reversed(ids))
    assert response.json_body[0]["description"] == description
    assert next_link(response) is None


def test_exactly_one_full_page_has_no_next_link(api: ApiClient) -> None:
    for _ in range(3):
        create(api)
    response = api.get("/api/tickets/?limit=3")
    assert len(response.json_body) == 3
    assert next_link(response) is None


def test_filters_combine_and_each_combination_is_exact(api: ApiClient) -> None:
    # Given tickets across the enum values
    combos = [
        ("billing", "high", "open"),
        ("billing", "low", "open"),
        ("technical", "high", "closed"),
        ("billing", "high", "closed"),
        ("account", "critical", "in_progress"),
    ]
    for category, priority, status in combos:
        create(api, category=category, priority=priority, status=status)
    # When each filter combination is asked for
    for query, expected in [
        ("category=billing", 3),
        ("priority=high", 3),
        ("status=closed", 2),
        ("category=billing&priority=high", 2),
        ("category=billing&status=open", 2),
        ("priority=high&status=closed", 2),
        ("category=billing&priority=high&status=closed", 1),
        ("category=general", 0),
        ("", 5),
    ]:
        tickets, _ = list_all(api, query + "&limit=2")
        # Then exactly the matching tickets come back
        assert len(tickets) == expected, query
        params = {k: v[0] for k, v in parse_qs(query).items()}
        for ticket in tickets:
            assert all(ticket[name] == value for name, value in params.items()), query


def test_filters_follow_updates(api: ApiClient) -> None:
    ticket = create(api, status="open")
    api.patch(f"/api/tickets/{ticket['id']}/", json_body={"status": "closed"})
    assert list_all(api, "status=open")[0] == []
    assert [t["id"] for t in list_all(api, "status=closed")[0]] == [ticket["id"]]


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("category=food", "billing, technical, account, general"),
        ("priority=urgent", "low, medium, high, critical"),
        ("status=done", "open, in_progress, resolved, closed"),
        ("limit=0", "1 to 100"),
        ("limit=101", "1 to 100"),
        ("limit=ten", "1 to 100"),
        ("limit=-1", "1 to 100"),
        ("sort=title", "newest, oldest, priority"),
        ("colour=red", "Unknown"),
        ("status=solved", "unsolved, open, in_progress, resolved, closed"),
        ("assignee=nobody@example.com", "not an agent"),
        ("search=%21%21%21", "at least one word"),
        ("status=open&status=closed", "given 2 times"),
        ("search=" + "x" * 201, "at most 200"),
    ],
)
def test_bad_list_parameters_are_400(api: ApiClient, query: str, fragment: str) -> None:
    response = api.get(f"/api/tickets/?{query}")
    assert response.status_code == 400
    assert fragment in response.json_body["error"]


def test_cursor_tampered_or_from_another_query_is_400(api: ApiClient) -> None:
    for _ in range(4):
        create(api, category="billing")
    first = api.get("/api/tickets/?category=billing&limit=2")
    link = next_link(first)
    assert link
    cursor = parse_qs(urlsplit(link).query)["cursor"][0]
    # A cursor used with another filter
    other = api.get(f"/api/tickets/?category=technical&limit=2&cursor={cursor}")
    assert other.status_code == 400 and "cursor" in other.json_body["error"]
    # Every single-character change is detected
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    for index in range(0, len(cursor), 7):
        replacement = alphabet[(alphabet.index(cursor[index]) + 1) % len(alphabet)]
        tampered = cursor[:index] + replacement + cursor[index + 1 :]
        response = api.get(f"/api/tickets/?category=billing&limit=2&cursor={tampered}")
        assert response.status_code == 400, tampered
    for garbage in ("%00", "x", "====", "a" * 2000, "%F0%9F%92%A5"):
        response = api.get(f"/api/tickets/?cursor={garbage}")
        assert response.status_code == 400
    # The genuine cursor still works
    assert api.get(link).status_code == 200


def test_search_is_case_and_accent_insensitive_over_title_and_description(
    api: ApiClient, stream: Any
) -> None:
    a = create(api, title="Login LOOP on Safari", description="keeps redirecting")
    b = create(api, title="Billing", description="The login page loops forever (error 502)")
    create(api, title="Unrelated", description="Nothing to see")
    stream.drain()
    found, _ = list_all(api, "search=LoGiN")
    assert [t["id"] for t in found] == [b["id"], a["id"]]
    found, _ = list_all(api, "search=%C3%A9t%C3%A9")  # "été"
    assert found == []
    assert [t["id"] for t in list_all(api, "search=502")[0]] == [b["id"]]
    assert [t["id"] for t in list_all(api, "search=loo%20safa")[0]] == [a["id"]]


def test_search_finds_the_requester_by_name_and_by_parts_of_the_address(
    api: ApiClient, stream: Any
) -> None:
    kenji = create(
        api, title="Export fails", customer_name="Kenji Satō", customer_email="k.sato@acme.example"
    )
    priya = create(
        api, title="Invoice", customer_name="Priya N", customer_email="priya.n@customer3.example"
    )
    create(api, title="Other", customer_email="someone@elsewhere.example")
    stream.drain()
    for query, wanted in [
        ("Kenji Sato", [kenji]),
        ("sato", [kenji]),
        ("priya", [priya]),
        ("priya.n", [priya]),
        ("customer3.example", [priya]),
        ("acme", [kenji]),
        ("priya.n@customer3.example", [priya]),
    ]:
        found, _ = list_all(api, "search=" + quote(query))
        assert [t["id"] for t in found] == [t["id"] for t in wanted], query


def test_search_combines_with_filters(api: ApiClient, stream: Any) -> None:
    create(api, title="Refund needed", category="billing", status="open")
    wanted = create(api, title="Refund was denied", category="billing", status="closed")
    create(api, title="Refund via API", category="technical", status="closed")
    stream.drain()
    found, _ = list_all(api, "search=refund&category=billing&status=closed")
    assert [t["id"] for t in found] == [wanted["id"]]


def test_search_pages_are_full_and_follow_cursors_to_the_end(api: ApiClient, stream: Any) -> None:
    # Given matches spread through 40 tickets
    matching = []
    for index in range(40):
        ticket = create(api, title=f"needle {index}" if index % 3 == 0 else f"hay {index}")
        if index % 3 == 0:
            matching.append(ticket["id"])
    stream.drain()
    # When the search is read 4 at a time
    first = api.get("/api/tickets/?search=needle&limit=4")
    assert len(first.json_body) == 4 and next_link(first)
    found, requests = list_all(api, "search=needle&limit=4")
    # Then every page but the last is full, and all matches arrive newest first
    assert [t["id"] for t in found] == list(reversed(matching))
    assert requests == 4  # 14 matches: 4 + 4 + 4 + 2


def test_a_reference_finds_its_ticket(api: ApiClient, stream: Any) -> None:
    wanted = create(api, title="Printer on fire")
    other = create(api, title=f"Mentions {wanted['number']} in passing")
    stream.drain()
    only = list_all(api, f"search=%23{wanted['number']}")[0]
    assert [t["id"] for t in only] == [wanted["id"]]
    bare = list_all(api, f"search={wanted['number']}")[0]
    assert [t["id"] for t in bare] == [wanted["id"], other["id"]]
    by_short = list_all(api, f"search=%23{wanted['id'][:8]}")[0]
    assert [t["id"] for t in by_short] == [wanted["id"]]
    by_id = list_all(api, f"search={wanted['id']}")[0]
    assert [t["id"] for t in by_id] == [wanted["id"]]
    by_number = api.get(f"/api/tickets/by-number/{wanted['number']}/")
    assert by_number.status_code == 200 and by_number.json_body["id"] == wanted["id"]
    assert api.get("/api/tickets/by-number/999999/").status_code == 404
    assert api.get("/api/tickets/by-number/x1/").status_code == 404


# --- stats, classify, methods ------------------------------------------------------------


def test_stats_have_the_seed_fields_with_zeros_when_empty(api: ApiClient) -> None:
    stats = api.get("/api/tickets/stats/").json_body
    assert stats["total_tickets"] == 0 and stats["open_tickets"] == 0
    assert stats["avg_tickets_per_day"] == 0.0
    assert stats["priority_breakdown"] == {"low": 0, "medium": 0, "high": 0, "critical": 0}
    assert stats["category_breakdown"] == {
        "billing": 0,
        "technical": 0,
        "account": 0,
        "general": 0,
    }
    assert stats["status_breakdown"] == {"open": 0, "in_progress": 0, "resolved": 0, "closed": 0}


def test_stats_follow_creates_updates_and_deletes(api: ApiClient) -> None:
    a = create(api, category="billing", priority="high", status="open")
    b = create(api, category="technical", priority="low", status="open")
    create(api, category="billing", priority="critical", status="closed")
    api.patch(f"/api/tickets/{a['id']}/", json_body={"status": "resolved", "category": "account"})
    api.delete(f"/api/tickets/{b['id']}/")
    stats = api.get("/api/tickets/stats/").json_body
    assert stats["total_tickets"] == 2
    assert stats["open_tickets"] == 0
    assert stats["category_breakdown"] == {"billing": 1, "technical": 0, "account": 1, "general": 0}
    assert stats["priority_breakdown"] == {"low": 0, "medium": 0, "high": 1, "critical": 1}
    assert stats["status_breakdown"] == {"open": 0, "in_progress": 0, "resolved": 1, "closed": 1}
    assert stats["avg_tickets_per_day"] == 0.1  # 3 created in the last 30 days
    assert stats["new_today"] == 2 and stats["unsolved_tickets"] == 0


def test_classify_without_key_uses_the_offline_classifier_with_a_warning(api: ApiClient) -> None:
    response = api.post(
        "/api/tickets/classify/",
        json_body={"description": "I was charged twice for my subscription, please refund"},
    )
    assert response.status_code == 200
    body = response.json_body
    assert body["suggested_category"] == "billing"
    assert body["source"] == "fallback"
    assert "offline" in body["warning"]


@pytest.mark.parametrize(
    "body", [{}, {"description": ""}, {"description": "   "}, {"description": 5}, {"title": "x"}]
)
def test_classify_needs_a_description(api: ApiClient, body: dict[str, Any]) -> None:
    response = api.post("/api/tickets/classify/", json_body=body)
    assert response.status_code == 400
    assert "description" in response.json_body["error"]


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/api/tickets/", "GET, POST"),
        ("DELETE", "/api/tickets/", "GET, POST"),
        ("POST", "/api/tickets/stats/", "GET"),
        ("GET", "/api/tickets/classify/", "POST"),
        ("PUT", "/api/tickets/abcdefghijklmnopqrstuvwx/", "GET, PATCH, DELETE"),
    ],
)
def test_wrong_method_is_405_with_allow(
    api: ApiClient, method: str, path: str, allowed: str
) -> None:
    response = api.request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == allowed
    assert method in response.json_body["error"]


def test_cors_headers_only_for_allowed_origins(api: ApiClient) -> None:
    allowed = api.get("/api/tickets/stats/", headers={"Origin": "http://localhost:3000"})
    assert allowed.headers["access-control-allow-origin"] == "http://localhost:3000"
    exposed = allowed.headers["access-control-expose-headers"].split(",")
    # The site reads these: ETag for If-Match, Retry-After on 429 and 503
    assert {"ETag", "Retry-After"} <= set(exposed)
    denied = api.get("/api/tickets/stats/", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in denied.headers


def test_every_bad_field_is_reported_at_once(api: ApiClient) -> None:
    response = api.post(
        "/api/tickets/", json_body={"title": "   ", "description": "", "priority": "urgent"}
    )
    assert response.status_code == 400
    assert set(response.json_body["fields"]) == {"title", "description", "priority"}
    assert response.json_body["error"].startswith("Please fix 3 fields:")
    patch = create(api)
    response = api.patch(f"/api/tickets/{patch['id']}/", json_body={"title": "", "status": "gone"})
    assert set(response.json_body["fields"]) == {"title", "status"}


@pytest.mark.parametrize(
    "content_type", [None, "text/plain; application/json", "text/plain", "application/jsonx"]
)
def test_bodies_a_browser_sends_cross_site_without_asking_are_refused(
    api: ApiClient, content_type: str | None
) -> None:
    # A page elsewhere can POST these without a CORS preflight: they must not create tickets
    headers = {"Content-Type": content_type} if content_type else {}
    body = json.dumps(ticket_payload()).encode()
    response = api.post("/api/tickets/", body=body, headers=headers, token=None)
    assert response.status_code == 415
    error = response.json_body["error"]
    assert "application/json" in error or "media type" in error.lower()
    classify = api.post("/api/tickets/classify/", body=b'{"description": "x"}', headers=headers)
    assert classify.status_code == 415
    assert api.get("/api/tickets/stats/").json_body["total_tickets"] == 0


def test_json_answers_are_utf8_not_escaped(api: ApiClient) -> None:
    ticket = create(api, title="中文标题 ünïcode", description="説明" * 100)
    raw = api.get(f"/api/tickets/{ticket['id']}/").body
    assert "中文标题".encode() in raw and b"\\u" not in raw


def test_an_email_with_a_local_part_over_64_characters_is_refused(api: ApiClient) -> None:
    response = api.post(
        "/api/tickets/", json_body=ticket_payload(customer_email="a" * 65 + "@example.com")
    )
    assert response.status_code == 400 and "64" in response.json_body["fields"]["customer_email"]
