"""The customers' form in a real browser: suggestions while typing, submitting, safety."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from playwright.sync_api import Page, Request, Response, Route, expect

from tests.e2e.conftest import RunningStack
from tests.e2e.conversation_helpers import force_confidence
from tests.e2e.site_fixtures import (  # noqa: F401 - fixtures
    Desk,
    agent_headers,
    agent_tokens,
    anonymous_desk_fixture,
    desk_fixture,
    unique,
)

pytestmark = pytest.mark.browser

CLASSIFY_PATH = "/api/tickets/classify/"


def _classify_requests(page: Page) -> list[Request]:
    """Every classification request the page sends (CORS preflights are not listed)."""
    seen: list[Request] = []
    page.on(
        "request",
        lambda request: (
            seen.append(request)
            if request.method == "POST" and request.url.endswith(CLASSIFY_PATH)
            else None
        ),
    )
    return seen


@contextmanager
def _answered(page: Page) -> Iterator[None]:
    """Wait, after the block, until a classification answer has arrived and is shown."""
    with page.expect_event(
        "requestfinished", lambda request: request.url.endswith(CLASSIFY_PATH), timeout=10_000
    ):
        yield
    expect(page.locator("[data-suggestion-status]")).to_have_attribute(
        "data-suggestion-status", "shown"
    )


def test_new_user_submits_with_an_ai_suggestion_and_sees_it_in_list_and_dashboard(
    desk: Desk, claude: RunningStack
) -> None:
    # Given the classifier will say "account / high", and is sure of it
    claude.claude(answer={"category": "account", "priority": "high"})
    token = unique()
    total_before = desk.api_stats()["total_tickets"]
    page = desk.open("#/new")
    force_confidence(page, "high")

    # When a new user fills in the form, typing the description
    page.get_by_label("Email").fill(f"{token}@example.com")
    page.get_by_label("Title").fill(f"Locked {token}")
    page.get_by_label("Description").click()
    page.keyboard.type(
        "I cannot sign in to my account since this morning; the reset link fails.", delay=5
    )

    # Then the suggestion is pre-selected, marked only as "Suggested" (no internals);
    # the first classification of a session pays the API's cold imports
    status = page.locator("[data-suggestion-status]")
    expect(status).to_have_attribute("data-suggestion-status", "shown", timeout=30_000)
    expect(status).to_have_text(
        "Suggested: Account, High priority. Change them if they are not right."
    )
    expect(page.get_by_label("Category")).to_have_value("account")
    expect(page.get_by_label("Priority")).to_have_value("high")
    expect(page.locator('[data-suggestion-badge="category"]')).to_have_text("Suggested")
    # And when they then edit the title, the suggestion is asked for the text as it now
    # is (a suggestion is named by the title and description together)
    with _answered(page):
        page.get_by_label("Title").fill(f"Locked out {token}")
    expect(status).to_have_text(
        "Suggested: Account, High priority. Change them if they are not right."
    )

    # When they submit (the request is held so the sending state can be seen)
    held: list[Route] = []

    def hold(route: Route) -> None:
        held.append(route)

    page.route("**/api/tickets/", hold)
    submit = page.locator("[data-submit]")
    submit.click()
    # Then the button is disabled while sending
    expect(submit).to_be_disabled()
    expect(submit).to_have_text("Sending…")
    deadline = time.monotonic() + 5
    while not held and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert len(held) == 1
    held[0].continue_()
    page.unroute("**/api/tickets/")

    # And success shows the ticket's number and clears the form
    success = page.locator("[data-submit-success]")
    expect(success).to_be_visible()
    reference = success.locator("[data-ticket-ref]")
    ticket_id = reference.get_attribute("data-ticket-id") or ""
    assert len(ticket_id) == 24
    expect(reference).to_have_text(desk.api_get(ticket_id)["reference"])
    expect(page.get_by_label("Title")).to_have_value("")
    expect(page.get_by_label("Description")).to_have_value("")
    expect(page.get_by_label("Category")).to_have_value("")
    assert held[0].request.headers.get("idempotency-key")
    # And the form sent no suggested values: the server classifies the text itself,
    # told only which of its answers the form showed
    sent_body = held[0].request.post_data_json
    assert not {"suggested_category", "suggested_priority", "classification_source"} & set(
        sent_body
    ), sent_body
    assert len(sent_body["suggestion_id"]) == 64, sent_body

    # And the ticket keeps what the classifier proposed
    ticket = desk.api_get(ticket_id)
    assert (ticket["category"], ticket["priority"]) == ("account", "high")
    assert (ticket["suggested_category"], ticket["suggested_priority"]) == ("account", "high")
    assert ticket["classification_source"] == "llm"

    # And it is in the agents' list
    _wait_until_searchable(desk, token)
    page.get_by_role("link", name="Tickets", exact=True).click()
    page.locator("#filter-search").fill(token)
    rows = page.locator("[data-ticket-row]")
    expect(rows).to_have_count(1)
    expect(rows.first.locator("[data-ticket-link]")).to_have_text(f"Locked out {token}")

    # And its page shows the suggestion beside the chosen values
    rows.first.locator("[data-ticket-link]").click()
    expect(page.locator("[data-ticket-title]")).to_have_text(f"Locked out {token}")
    suggestion_cells = page.locator('[data-suggestion-row="category"] td')
    expect(suggestion_cells).to_have_text(["Account", "Account (AI)"])

    # And on the dashboard
    page.get_by_role("link", name="Dashboard").click()
    total = page.locator('[data-kpi="total"] [data-kpi-value]')
    expect(total).to_have_text(str(total_before + 1))


def test_a_manual_choice_survives_a_late_suggestion(desk: Desk, claude: RunningStack) -> None:
    # Given a slow classifier that will suggest "billing / low"
    claude.claude(answer={"category": "billing", "priority": "low"}, delay=2.5)
    token = unique()
    page = desk.open("#/new")
    force_confidence(page, "high")
    page.get_by_label("Email").fill(f"{token}@example.com")
    page.get_by_label("Title").fill(f"Refund {token}")
    page.get_by_label("Description").fill("I was charged twice for my subscription this month.")

    # When the person picks a priority by hand while the suggestion is pending
    status = page.locator("[data-suggestion-status]")
    expect(status).to_have_attribute("data-suggestion-status", "pending")
    expect(status).to_contain_text("Suggesting")
    page.get_by_label("Priority").select_option("critical")

    # Then the late suggestion fills only the field they left alone
    expect(status).to_have_attribute("data-suggestion-status", "shown", timeout=10_000)
    expect(page.get_by_label("Category")).to_have_value("billing")
    expect(page.get_by_label("Priority")).to_have_value("critical")
    expect(page.locator('[data-suggestion-badge="priority"]')).to_have_text(
        "Your choice (suggested Low)"
    )

    # And the ticket keeps both the choice and the suggestion
    page.locator("[data-submit]").click()
    ticket_id = page.locator("[data-submit-success] [data-ticket-ref]").get_attribute(
        "data-ticket-id"
    )
    assert ticket_id
    ticket = desk.api_get(ticket_id)
    assert (ticket["category"], ticket["priority"]) == ("billing", "critical")
    assert (ticket["suggested_category"], ticket["suggested_priority"]) == ("billing", "low")


def test_classification_is_asked_once_per_pause_and_never_for_unchanged_text(
    desk: Desk, claude: RunningStack
) -> None:
    page = desk.open("#/new")
    sent = _classify_requests(page)
    page.get_by_label("Title").fill(f"Invoice {unique()}")
    description = page.get_by_label("Description")
    description.click()

    # When a person types a sentence at a human pace, then pauses
    with _answered(page):
        page.keyboard.type("My invoice for October shows", delay=70)
    # And types more, then pauses again
    with _answered(page):
        page.keyboard.type(" the wrong amount and VAT number.", delay=70)
    assert len(sent) == 2, [request.post_data_json for request in sent]
    # And types a character and deletes it (the text is what was last classified)
    page.keyboard.type("x", delay=70)
    page.keyboard.press("Backspace")
    page.wait_for_timeout(1500)
    assert len(sent) == 2, [request.post_data_json for request in sent]
    # And pauses only briefly in the middle of the last words
    page.keyboard.type(" Thanks", delay=70)
    page.wait_for_timeout(300)
    page.keyboard.type(" a lot!", delay=70)
    page.wait_for_timeout(1500)

    # Then there was exactly one request per real pause with new text
    described = [request.post_data_json["description"] for request in sent]
    assert len(described) == 3, described
    assert described[0].endswith("October shows")
    assert described[1].endswith("VAT number.")
    assert described[2].endswith("Thanks a lot!")
    expect(page.locator("[data-suggestion-status]")).to_have_attribute(
        "data-suggestion-status", "shown"
    )
    # And the classifier behind the API was asked exactly as often
    assert len(claude.claude_requests()) == 3

    # And a new title is new text (a suggestion is for both): asked once more
    with _answered(page):
        page.get_by_label("Title").fill(f"Invoice amount wrong {unique()}")
    assert len(sent) == 4, [request.post_data_json for request in sent]
    assert sent[3].post_data_json["title"].startswith("Invoice amount wrong")


def test_an_in_flight_suggestion_is_aborted_when_the_text_changes(
    desk: Desk, claude: RunningStack
) -> None:
    # Given a slow classifier answering "general / low" to the first request
    claude.claude(answer={"category": "general", "priority": "low"}, delay=2.0)
    page = desk.open("#/new")
    force_confidence(page, "low")
    sent = _classify_requests(page)
    failed: list[str] = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    description = page.get_by_label("Description")
    description.click()
    with page.expect_request(lambda request: request.url.endswith(CLASSIFY_PATH)):
        page.keyboard.type("The export button does nothing at all", delay=10)
    page.wait_for_timeout(200)  # the request is on the wire, its answer 2 s away
    status = page.locator("[data-suggestion-status]")
    expect(status).to_have_attribute("data-suggestion-status", "pending")

    # When the person goes on typing while it is in flight (the next answer differs)
    claude.claude(answer={"category": "technical", "priority": "high"}, delay=0)
    page.keyboard.type(" and the whole page crashes.", delay=10)

    # Then the first request is aborted and only the newer answer is shown (offered as
    # hints, being low-confidence ones)
    expect(status).to_have_attribute("data-suggestion-status", "shown")
    category_hint = page.locator('[data-use-suggestion="category"]')
    expect(category_hint).to_have_text("Use Technical")
    page.wait_for_timeout(2500)  # past the moment the first answer would have arrived
    expect(category_hint).to_have_text("Use Technical")
    expect(page.locator('[data-use-suggestion="priority"]')).to_have_text("Use High")
    expect(page.get_by_label("Category")).to_have_value("")
    assert len(sent) == 2
    assert any(url.endswith(CLASSIFY_PATH) for url in failed), failed


def test_validation_errors_appear_next_to_their_field(desk: Desk) -> None:
    page = desk.open("#/new")
    page.get_by_label("Email").fill("someone@example.com")
    # When the form is sent with a blank title
    page.get_by_label("Title").fill("   ")
    page.get_by_label("Description").fill("Short")
    page.locator("[data-submit]").click()
    # Then the API's message appears beside the title, and focus goes there
    title_error = page.locator('[data-field-error="title"]')
    expect(title_error).to_have_text("Title must not be blank.")
    expect(page.get_by_label("Title")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Title")).to_be_focused()
    expect(page.locator("[data-form-error]")).to_contain_text("correct the highlighted field")
    expect(page.locator('[data-field-error="description"]')).to_be_hidden()
    # And typing in the field clears its error, while the text typed so far stays
    page.get_by_label("Title").fill("Now it has a title")
    expect(title_error).to_be_hidden()
    expect(page.get_by_label("Description")).to_have_value("Short")
    # When the description is blank instead
    page.get_by_label("Description").fill("  ")
    page.locator("[data-submit]").click()
    # Then that field is the one marked
    expect(page.locator('[data-field-error="description"]')).to_have_text(
        "Description must not be blank."
    )
    expect(page.get_by_label("Description")).to_be_focused()


def test_a_script_in_the_title_is_shown_as_text(desk: Desk) -> None:
    dialogs: list[str] = []
    desk.page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    token = unique()
    title = f"<img src=x onerror=alert(1)> {token}"
    description = f"<script>alert(2)</script> <b>bold?</b> {token}"
    # When a ticket with markup in it is submitted through the form
    page = desk.open("#/new")
    page.get_by_label("Email").fill(f"{token}@example.com")
    page.get_by_label("Name (optional)").fill(f"<svg onload=alert(3)> {token}")
    page.get_by_label("Title").fill(title)
    page.get_by_label("Description").fill(description)
    page.get_by_label("Category").select_option("general")
    page.get_by_label("Priority").select_option("low")
    page.locator("[data-submit]").click()
    expect(page.locator("[data-submit-success]")).to_be_visible()
    _wait_until_searchable(desk, token)

    # Then the list shows it literally, with no element made from it
    desk.open(f"#/tickets?search={token}")
    row = page.locator("[data-ticket-row]")
    expect(row).to_have_count(1)
    expect(row.locator("[data-ticket-link]")).to_have_text(title)
    expect(row.locator("[data-ticket-description]")).to_have_text(description)
    assert row.locator("img, script, b").count() == 0
    # And so does the ticket's own page
    row.locator("[data-ticket-link]").click()
    expect(page.locator("[data-ticket-title]")).to_have_text(title)
    expect(page.locator("[data-ticket-description]")).to_have_text(description)
    expect(page.locator("[data-customer-name]")).to_have_text(f"<svg onload=alert(3)> {token}")
    assert page.locator("main img, main b, main script, main svg").count() == 0
    page.wait_for_timeout(300)
    assert dialogs == []


def _wait_until_searchable(desk: Desk, token: str) -> None:
    """Until the search finds ``token``: the search index is written from the table's
    stream, about a second after the create."""
    desk.api_find_at_least(token)


def _found_once(desk: Desk, token: str) -> list[str]:
    """The ids of the tickets holding ``token`` once the search finds them, checked again
    a moment later so that a late second ticket would be seen too."""
    _wait_until_searchable(desk, token)
    time.sleep(1.5)
    return [ticket["id"] for ticket in desk.api_find(token)]


def _fill_ticket(page: Page, title: str) -> None:
    page.get_by_label("Email").fill(f"{unique()}@example.com")
    page.get_by_label("Title").fill(title)
    page.get_by_label("Description").fill("My order confirmation never arrived by email.")
    page.get_by_label("Category").select_option("general")
    page.get_by_label("Priority").select_option("low")


def _create_requests(page: Page) -> list[Request]:
    """Every POST that creates a ticket (preflights are not listed)."""
    seen: list[Request] = []
    page.on(
        "request",
        lambda request: (
            seen.append(request)
            if request.method == "POST" and request.url.endswith("/api/tickets/")
            else None
        ),
    )
    return seen


def test_a_double_click_on_submit_creates_one_ticket(anonymous_desk: Desk) -> None:
    desk = anonymous_desk
    token = unique()
    # Given a customer (nobody signed in) has filled in the form
    page = desk.open("#/new")
    sent = _create_requests(page)
    _fill_ticket(page, f"Double click {token}")
    # When they double-click Submit
    page.locator("[data-submit]").dblclick()
    # Then one ticket is created, and one request was sent
    success = page.locator("[data-submit-success]")
    expect(success).to_be_visible()
    ticket_id = success.locator("[data-ticket-ref]").get_attribute("data-ticket-id")
    assert _found_once(desk, token) == [ticket_id]
    assert len(sent) == 1


def test_a_lost_answer_is_retried_with_the_same_key_and_creates_one_ticket(
    anonymous_desk: Desk,
) -> None:
    desk = anonymous_desk
    token = unique()
    page = desk.open("#/new")
    sent = _create_requests(page)
    answers: list[Response] = []
    page.on(
        "response",
        lambda response: (
            answers.append(response)
            if response.request.method == "POST" and response.url.endswith("/api/tickets/")
            else None
        ),
    )
    # Given the first create reaches the API, but its answer never reaches the browser
    created: list[dict[str, Any]] = []

    def lose_first_answer(route: Route) -> None:
        if route.request.method != "POST" or created:
            route.continue_()
            return
        response = route.fetch()
        assert response.status == 201, response.text()
        created.append(response.json())
        route.abort("connectionreset")

    page.route("**/api/tickets/", lose_first_answer)
    _fill_ticket(page, f"Lost answer {token}")
    # When the customer submits once
    page.locator("[data-submit]").click()

    # Then the site sent it again with the same Idempotency-Key, and the API answered
    # with the ticket the first attempt made
    success = page.locator("[data-submit-success]")
    expect(success).to_be_visible()
    assert len(created) == 1
    expect(success.locator("[data-ticket-ref]")).to_have_attribute(
        "data-ticket-id", created[0]["id"]
    )
    expect(success.locator("[data-ticket-ref]")).to_have_text(created[0]["reference"])
    assert len(sent) == 2
    keys = {request.headers.get("idempotency-key") for request in sent}
    assert len(keys) == 1 and None not in keys, keys
    assert [answer.status for answer in answers] == [201]
    assert answers[0].headers.get("idempotent-replayed") == "true"
    # And exactly one ticket exists
    assert _found_once(desk, token) == [created[0]["id"]]
