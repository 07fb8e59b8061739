"""Classification through the API with the fake Claude: suggestions, fallback, cache."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from local_stack.fake_claude import FakeClaudeServer
from tests.conftest import ApiClient
from tests.factories import ticket_payload
from tools.dynamo_meter import DynamoMeter


def classify(api: ApiClient, description: str, title: str | None = None) -> Any:
    body = {"description": description} | ({"title": title} if title else {})
    return api.post("/api/tickets/classify/", json_body=body, token=None)


def test_claude_suggestion_is_returned_as_llm(
    api: ApiClient, fake_claude: FakeClaudeServer
) -> None:
    fake_claude.state.answer = {"category": "account", "priority": "critical"}
    response = classify(api, "Our admin account was hacked and data deleted")
    # The answer names itself, so the form's create can say which suggestion it showed
    body = response.json_body
    suggestion_id = body.pop("suggestion_id")
    assert len(suggestion_id) == 64 and set(suggestion_id) <= set("0123456789abcdef")
    assert body == {
        "suggested_category": "account",
        "suggested_priority": "critical",
        "source": "llm",
        # The scripted answer carries no confidence of its own: it is read as low.
        "confidence": "low",
    }


def test_identical_text_is_answered_from_the_cache(
    api: ApiClient, fake_claude: FakeClaudeServer
) -> None:
    # Given a first classification
    first = classify(api, "The export button does nothing", title="Export broken")
    # When the same text is asked again (title case and spaces aside)
    second = classify(api, "The export button does nothing", title="  export BROKEN ")
    # Then Claude was called once and both answers agree
    assert second.json_body == first.json_body
    assert len(fake_claude.state.requests) == 1
    # And other text is a new call
    classify(api, "The import button does nothing")
    assert len(fake_claude.state.requests) == 2


def test_fallback_answers_are_not_cached(api: ApiClient, fake_claude: FakeClaudeServer) -> None:
    fake_claude.state.mode = "error500"
    down = classify(api, "Invoice total is wrong")
    assert down.json_body["source"] == "fallback"
    assert "error (500)" in down.json_body["warning"]
    fake_claude.state.mode = "ok"
    up = classify(api, "Invoice total is wrong")
    assert up.json_body["source"] == "llm"


def test_create_without_enums_stores_claudes_suggestion(
    api: ApiClient, fake_claude: FakeClaudeServer
) -> None:
    fake_claude.state.answer = {"category": "technical", "priority": "high"}
    ticket = api.post(
        "/api/tickets/", json_body=ticket_payload(category=None, priority=None), token=None
    ).json_body
    assert (ticket["category"], ticket["priority"]) == ("technical", "high")
    assert ticket["classification_source"] == "llm"


def test_out_of_enum_answer_falls_back_and_says_why(
    api: ApiClient, fake_claude: FakeClaudeServer
) -> None:
    fake_claude.state.mode = "out_of_enum"
    body = classify(api, "I was double charged on my card").json_body
    assert body["source"] == "fallback"
    assert body["suggested_category"] == "billing"
    assert "outside the allowed" in body["warning"]


def test_near_identical_text_is_answered_from_the_cache(
    api: ApiClient, fake_claude: FakeClaudeServer
) -> None:
    # Given a classified text
    classify(api, "The export button does nothing at all", title="Export broken")
    # When the person fixes capitals, punctuation and spacing while typing
    for variant in (
        "the export button does nothing at all.",
        "The  Export button, does nothing at all!",
        "THE EXPORT BUTTON DOES NOTHING AT ALL",
    ):
        assert classify(api, variant, title="export broken").json_body["source"] == "llm"
    # Then Claude was asked once
    assert len(fake_claude.state.requests) == 1


def test_a_daily_budget_caps_the_calls_to_claude(
    api: ApiClient, fake_claude: FakeClaudeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a budget of 5 calls a day
    monkeypatch.setenv("CLAUDE_DAILY_CALL_BUDGET", "5")
    from chalicelib.dependencies import reset_dependencies

    reset_dependencies()
    # When 100 different texts are classified, as an attacker would send them
    answers = [
        classify(api, f"Attack text number {index}: please classify me {index * 7}").json_body
        for index in range(100)
    ]
    # Then Claude was called 5 times; the others were answered offline, saying why
    assert len(fake_claude.state.requests) == 5
    assert [a["source"] for a in answers[:5]] == ["llm"] * 5
    assert {a["source"] for a in answers[5:]} == {"fallback"}
    assert all("budget" in a["warning"] for a in answers[5:])
    # And agents see how much of the budget was used
    budget = api.get("/api/tickets/stats/").json_body["claude_budget"]
    assert (budget["used"], budget["limit"]) == (5, 5)


def test_the_budget_counts_each_utc_day_beside_the_ticket_counters(api: ApiClient) -> None:
    from chalicelib.data.claude_budget import DynamoClaudeBudget
    from chalicelib.dependencies import get_repository

    # Given Claude calls counted yesterday and today, and one ticket
    today = datetime.now(UTC)
    yesterday = today - timedelta(days=1)
    for moment, calls in ((yesterday, 3), (today, 2)):
        budget = DynamoClaudeBudget(10, clock=lambda moment=moment: moment)
        assert [budget.try_spend() for _ in range(calls)] == [True] * calls
    assert api.post("/api/tickets/", json_body=ticket_payload()).status_code == 201
    # When the stats are read
    stats = api.get("/api/tickets/stats/").json_body
    # Then today's use is today's alone (the day the stats were made for: a run across
    # midnight UTC sees the new day's zero), and the ticket counters beside it are untouched
    spent = {f"{yesterday:%Y-%m-%d}": 3, f"{today:%Y-%m-%d}": 2}
    assert stats["claude_budget"]["used"] == spent.get(stats["claude_budget"]["date"], 0)
    assert stats["total_tickets"] == 1
    counts = get_repository().stats(today)
    assert counts.usage == {f"claude#{day}": calls for day, calls in spent.items()}
    assert not {"value", "expires_at"} & counts.totals.keys()


def test_a_spent_budget_is_not_asked_again_the_same_day(api: ApiClient) -> None:
    from chalicelib.data.claude_budget import DynamoClaudeBudget

    # Given a budget of 2 calls whose day is spent
    moment = [datetime(2026, 3, 4, 23, 59, tzinfo=UTC)]
    budget = DynamoClaudeBudget(2, clock=lambda: moment[0])
    assert [budget.try_spend() for _ in range(3)] == [True, True, False]
    # When more calls are asked for that day
    meter = DynamoMeter().attach()
    try:
        refusals = [budget.try_spend() for _ in range(5)]
        asked_that_day = sum(meter.calls.values())
        # And once the next UTC day has begun
        moment[0] += timedelta(minutes=2)
        next_day = budget.try_spend()
    finally:
        meter.detach()
    # Then they are refused without a write (a refused conditional write still costs one),
    # and the new day's budget is asked for and granted
    assert refusals == [False] * 5
    assert asked_that_day == 0
    assert next_day is True
    assert meter.calls == {"UpdateItem": 1}, meter.calls


def test_a_create_that_names_the_shown_suggestion_records_it(
    api: ApiClient, fake_claude: FakeClaudeServer
) -> None:
    # Given Claude's suggestion for a text, as the form shows it while the customer types
    fake_claude.state.answer = {"category": "billing", "priority": "high"}
    text = {"title": "Charged twice", "description": "My card was charged twice for March"}
    shown = classify(api, text["description"], title=text["title"]).json_body
    assert len(shown["suggestion_id"]) == 64
    # When the customer picks other values and submits, naming the suggestion shown
    meter = DynamoMeter().attach()
    try:
        response = api.post(
            "/api/tickets/",
            json_body=ticket_payload(
                **text, category="general", priority="low", suggestion_id=shown["suggestion_id"]
            ),
            token=None,
        )
    finally:
        meter.detach()
    # Then the ticket keeps their values and records Claude's suggestion beside them,
    # read from the cache (one GetItem), with no second call to Claude
    ticket = response.json_body
    assert response.status_code == 201, ticket
    assert (ticket["category"], ticket["priority"]) == ("general", "low")
    assert (ticket["suggested_category"], ticket["suggested_priority"]) == ("billing", "high")
    assert ticket["classification_source"] == "llm"
    assert len(fake_claude.state.requests) == 1
    assert meter.calls["GetItem"] == 1, meter.calls


def test_a_create_with_its_values_and_no_suggestion_id_reads_no_cache(
    api: ApiClient, fake_claude: FakeClaudeServer
) -> None:
    # Given Claude's answer for a text is cached (a program classified it)
    fake_claude.state.answer = {"category": "billing", "priority": "high"}
    text = {"title": "Charged twice", "description": "My card was charged twice for April"}
    assert classify(api, text["description"], title=text["title"]).json_body["source"] == "llm"
    # When a ticket with that text is created with its values, naming no suggestion
    meter = DynamoMeter().attach()
    try:
        response = api.post(
            "/api/tickets/",
            json_body=ticket_payload(**text, category="general", priority="low"),
            token=None,
        )
    finally:
        meter.detach()
    # Then the offline classifier suggests: no cache read, no Claude call
    ticket = response.json_body
    assert response.status_code == 201, ticket
    assert ticket["classification_source"] == "fallback"
    assert "GetItem" not in meter.calls, meter.calls
    assert len(fake_claude.state.requests) == 1


def test_a_suggestion_id_for_other_text_is_not_used(
    api: ApiClient, fake_claude: FakeClaudeServer
) -> None:
    # Given a suggestion shown for a first draft of the text
    fake_claude.state.answer = {"category": "billing", "priority": "high"}
    shown = classify(api, "My card was charged twice", title="Charged").json_body
    # When the text is rewritten before submitting, the id sent along
    response = api.post(
        "/api/tickets/",
        json_body=ticket_payload(
            title="Cannot sign in",
            description="The sign-in page rejects my password since this morning",
            category="account",
            priority="medium",
            suggestion_id=shown["suggestion_id"],
        ),
        token=None,
    )
    # Then the ticket is created, and its suggestion is not the one shown for other text
    ticket = response.json_body
    assert response.status_code == 201, ticket
    assert ticket["classification_source"] == "fallback"


def test_a_suggestion_for_text_missing_its_values_still_asks_the_cache(
    api: ApiClient, fake_claude: FakeClaudeServer
) -> None:
    # Given a classified text, and a create of it without category or priority
    fake_claude.state.answer = {"category": "technical", "priority": "critical"}
    text = {"title": "Site down", "description": "The whole dashboard returns errors"}
    classify(api, text["description"], title=text["title"])
    ticket = api.post(
        "/api/tickets/", json_body=ticket_payload(**text, category=None, priority=None), token=None
    ).json_body
    # Then the cached answer decides (no second Claude call), id or not
    assert (ticket["category"], ticket["priority"]) == ("technical", "critical")
    assert ticket["classification_source"] == "llm"
    assert len(fake_claude.state.requests) == 1


@pytest.mark.parametrize(
    "value", ["abc", "A" * 64, "g" * 64, 42, ["0" * 64], "", "0" * 65], ids=repr
)
def test_a_malformed_suggestion_id_is_a_400_naming_it(api: ApiClient, value: Any) -> None:
    response = api.post("/api/tickets/", json_body=ticket_payload(suggestion_id=value), token=None)
    assert response.status_code == 400, response.json_body
    assert "suggestion_id" in response.json_body["fields"], response.json_body


def test_an_offline_suggestion_has_no_id(api: ApiClient, fake_claude: FakeClaudeServer) -> None:
    fake_claude.state.mode = "error500"
    answer = classify(api, "Invoice total is wrong again").json_body
    assert answer["source"] == "fallback"
    assert "suggestion_id" not in answer
