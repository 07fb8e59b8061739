"""The customers' side in a real browser: the form's draft, counters, suggestions and
errors; the private page's refusals and header; axe audits at desktop and phone width."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, Locator, Page, Request, Route, expect

from tests.e2e.axe_audit import BEST_PRACTICE_TAGS, assert_accessible
from tests.e2e.conftest import RunningStack
from tests.e2e.conversation_helpers import (
    CLASSIFY_PATH,
    CREATE_TIMEOUT_MS,
    VIEWPORTS,
    force_confidence,
    watch,
)
from tests.e2e.site_fixtures import (  # noqa: F401 - fixtures
    AgentTokens,
    Desk,
    agent_headers,
    agent_tokens,
    anonymous_desk_fixture,
    desk_fixture,
    unique,
)

pytestmark = pytest.mark.browser

DRAFT_KEY = "support-desk.draft"


def _create_requests(page: Page) -> list[Request]:
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


def _wait_for_draft(page: Page, text: str = "") -> None:
    """Until the form's draft (saved a moment after typing) holds ``text``."""
    for _ in range(50):
        saved = page.evaluate(f"localStorage.getItem({DRAFT_KEY!r})")
        if saved is not None and text in saved:
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"no draft holding {text!r}")


def _create_with_link(stack: RunningStack, **fields: Any) -> dict[str, Any]:
    body = {
        "title": f"Ticket {unique()}",
        "description": "Created by a browser test.",
        "customer_email": f"{unique()}@example.com",
        **fields,
    }
    response = requests.post(f"{stack.api_url}/tickets/", json=body, timeout=30)
    assert response.status_code == 201, response.text
    ticket: dict[str, Any] = response.json()
    return ticket


def test_the_draft_survives_a_reload_until_it_is_sent(anonymous_desk: Desk) -> None:
    token = unique()
    page = anonymous_desk.open("#/new")
    # Given a customer has half written a ticket
    page.get_by_label("Email").fill(f"{token}@example.com")
    page.get_by_label("Name (optional)").fill("Robin")
    page.get_by_label("Title").fill(f"Draft {token}")
    page.get_by_label("Description").fill("Line one\nLine two, not finished")
    page.get_by_label("Priority").select_option("high")
    _wait_for_draft(page, "not finished")

    # When the page is reloaded
    page.reload()
    # Then everything typed is back, with a note saying so
    expect(page.get_by_label("Title")).to_have_value(f"Draft {token}")
    expect(page.get_by_label("Description")).to_have_value("Line one\nLine two, not finished")
    expect(page.get_by_label("Email")).to_have_value(f"{token}@example.com")
    expect(page.get_by_label("Name (optional)")).to_have_value("Robin")
    expect(page.get_by_label("Priority")).to_have_value("high")
    note = page.locator("[data-draft-note]")
    expect(note).to_contain_text("We kept the ticket you were writing")
    expect(page.locator('[data-char-counter="title"]')).to_have_text(
        f"{len(f'Draft {token}')} / 200 characters"
    )

    # When they finish and send it
    page.get_by_label("Description").fill("Line one\nLine two, finished now.")
    page.get_by_role("button", name="Submit ticket").click()
    expect(page.locator("[data-submit-success]")).to_be_visible(timeout=CREATE_TIMEOUT_MS)
    # Then the draft is gone, and a reload shows an empty form
    assert page.evaluate(f"localStorage.getItem({DRAFT_KEY!r})") is None
    page.reload()
    expect(page.get_by_label("Title")).to_have_value("")
    expect(note).to_be_hidden()


def test_a_draft_can_be_discarded(anonymous_desk: Desk) -> None:
    page = anonymous_desk.open("#/new")
    page.get_by_label("Title").fill(f"Never mind {unique()}")
    _wait_for_draft(page)
    page.reload()
    # When the customer discards the restored draft
    page.get_by_role("button", name="Discard draft").click()
    # Then the form is empty, it is announced, and nothing is kept
    expect(page.get_by_label("Title")).to_have_value("")
    expect(page.locator("[data-draft-note]")).to_be_hidden()
    expect(page.locator("[data-announcer]")).to_have_text("Draft discarded. The form is empty.")
    expect(page.get_by_label("Email")).to_be_focused()
    assert page.evaluate(f"localStorage.getItem({DRAFT_KEY!r})") is None
    page.reload()
    expect(page.get_by_label("Title")).to_have_value("")


def test_counters_show_the_length_and_never_block_typing(anonymous_desk: Desk) -> None:
    page = anonymous_desk.open("#/new")
    sent = _create_requests(page)
    counter = page.locator('[data-char-counter="title"]')
    expect(counter).to_have_text("0 / 200 characters")
    expect(page.locator('[data-char-counter="description"]')).to_have_text("0 / 10,000 characters")
    # When a customer types past the title's limit
    page.get_by_label("Title").fill("x" * 195)
    page.get_by_label("Title").press_sequentially("y" * 10)
    # Then nothing is cut off, and the counter says how many are too many
    expect(page.get_by_label("Title")).to_have_value("x" * 195 + "y" * 10)
    expect(counter).to_have_text("205 / 200 characters: 5 too many")
    expect(counter).to_have_attribute("data-state", "over")
    expect(page.locator("[data-announcer]")).to_have_text("Title is over the 200-character limit.")
    # And an emoji counts as one character, as the API counts it
    page.get_by_label("Description").fill("🙂" * 3)
    expect(page.locator('[data-char-counter="description"]')).to_have_text("3 / 10,000 characters")
    # When they submit, the form says what to fix and sends nothing
    page.get_by_label("Email").fill("someone@example.com")
    page.get_by_role("button", name="Submit ticket").click()
    expect(page.locator('[data-field-error="title"]')).to_have_text(
        "Title must be at most 200 characters."
    )
    expect(page.get_by_label("Title")).to_be_focused()
    assert sent == []
    # And deleting the extra characters makes it fit again
    page.get_by_label("Title").fill("x" * 200)
    expect(counter).to_have_text("200 / 200 characters")


def test_the_error_banner_counts_its_fields_and_the_api_errors_show_by_their_field(
    anonymous_desk: Desk,
) -> None:
    page = anonymous_desk.open("#/new")
    sent = _create_requests(page)
    # When the customer sends the form with no email and no title
    page.get_by_label("Description").fill("Something broke.")
    page.get_by_role("button", name="Submit ticket").click()
    # Then both fields are marked, the banner counts them, and focus is on the first
    banner = page.locator("[data-form-error]")
    expect(banner).to_contain_text("Please correct the 2 highlighted fields.")
    expect(banner).to_contain_text("Email and Title")
    expect(page.locator('[data-field-error="customer_email"]')).to_have_text(
        "Email is required, so that we can answer you."
    )
    expect(page.locator('[data-field-error="title"]')).to_have_text("Title must not be blank.")
    expect(page.get_by_label("Email")).to_be_focused()
    expect(page.get_by_label("Email")).to_have_attribute("aria-invalid", "true")
    assert sent == []
    # When the email is one the API refuses for a reason the form cannot know
    page.get_by_label("Email").fill("someone@example.invalid")
    page.get_by_label("Title").fill(f"Bad address {unique()}")
    page.get_by_role("button", name="Submit ticket").click()
    # Then the API's message is shown next to the email field, as one sentence (never
    # ending in ".)." or "..") and counted as one
    email_error = page.locator('[data-field-error="customer_email"]')
    expect(email_error).to_have_text(
        "Email is not a valid email address: the part after the @-sign is a special-use"
        " or reserved name that cannot be used with email."
    )
    assert ".)" not in email_error.inner_text()
    expect(banner).to_contain_text("Please correct the highlighted field.")
    expect(page.get_by_label("Email")).to_be_focused()
    assert len(sent) == 1
    body = sent[0].post_data_json
    # And the form sent only what the customer entered: no suggested values
    assert set(body) <= {"title", "description", "customer_email", "customer_name"}, body
    # And correcting the field clears its error, and the banner with it
    page.get_by_label("Email").fill("someone@example.com")
    expect(email_error).to_be_hidden()
    expect(banner).to_be_hidden()


def test_the_form_checks_emails_as_the_api_does_and_the_banner_follows_the_fixes(
    anonymous_desk: Desk,
) -> None:
    page = anonymous_desk.open("#/new")
    sent = _create_requests(page)
    banner = page.locator("[data-form-error]")
    email_error = page.locator('[data-field-error="customer_email"]')
    # When the customer types an address the browser accepts but the API refuses, and
    # forgets the title
    page.get_by_label("Email").fill("ana@gmail")
    page.get_by_label("Description").fill("I cannot log in since this morning.")
    page.get_by_role("button", name="Submit ticket").click()
    # Then both problems come at once, and nothing was sent
    expect(banner).to_contain_text("Please correct the 2 highlighted fields.")
    expect(email_error).to_have_text(
        "Email needs a dot in the part after the @, like name@example.com."
    )
    expect(page.locator('[data-field-error="title"]')).to_have_text("Title must not be blank.")
    assert sent == []
    # When the title is filled in, the banner counts what is left
    page.get_by_label("Title").fill("Cannot log in")
    expect(page.locator('[data-field-error="title"]')).to_be_hidden()
    expect(banner).to_contain_text("Please correct the highlighted field.")
    expect(banner).to_contain_text("Field: Email.")
    expect(banner.locator("[data-error-count]")).to_have_attribute("data-error-count", "1")
    # While the address is still being typed, its error stays; when it is right, the
    # error and the banner go
    page.get_by_label("Email").fill("ana@gmail.")
    expect(email_error).to_be_visible()
    page.get_by_label("Email").fill("ana@gmail.com")
    expect(email_error).to_be_hidden()
    expect(banner).to_be_hidden()
    # And the other common mistakes are caught on the page too, in plain words
    for address, problem in [
        ("ana maria@example.com", "Email must not contain spaces."),
        ("ana.example.com", "Email needs an @, like name@example.com."),
        ("ana@@example.com", "Email must contain only one @, like name@example.com."),
        ("ana@example..com", "Email must not have two dots in a row."),
    ]:
        page.get_by_label("Email").fill(address)
        page.get_by_role("button", name="Submit ticket").click()
        expect(email_error).to_have_text(problem)
        # Leaving the field with another mistake updates the message
    page.get_by_label("Email").fill("ana@")
    page.get_by_label("Title").focus()
    expect(email_error).to_have_text("Email needs a domain after the @, like name@example.com.")
    assert sent == []


def test_a_low_confidence_suggestion_is_offered_not_filled_in(anonymous_desk: Desk) -> None:
    page = anonymous_desk.open("#/new")
    force_confidence(page, "low")
    sent = _create_requests(page)
    page.get_by_label("Email").fill(f"{unique()}@example.com")
    page.get_by_label("Title").fill(f"Charged twice {unique()}")
    with page.expect_response(lambda response: response.url.endswith(CLASSIFY_PATH)):
        page.get_by_label("Description").fill(
            "I was charged twice for my subscription this month, please refund one."
        )
    status = page.locator("[data-suggestion-status]")
    expect(status).to_have_attribute("data-suggestion-status", "shown")
    expect(status).to_have_attribute("data-confidence", "low")
    expect(status).to_contain_text("Use them if they fit, or choose your own.")
    # Then the fields are left for the customer, each with the suggestion as a hint
    category = page.get_by_label("Category")
    expect(category).to_have_value("")
    badge = page.locator('[data-suggestion-badge="category"]')
    expect(badge).to_have_attribute("data-state", "hint")
    expect(badge).to_contain_text("Suggested: ")
    expect(page.locator('[data-use-suggestion="category"]')).to_have_text(re.compile(r"^Use \w+$"))
    # And nothing about how it was made is shown
    form = page.locator("[data-ticket-form]")
    expect(form).not_to_contain_text(re.compile(r"\bAI\b|offline|classifier", re.IGNORECASE))
    # When the customer takes the category's suggestion
    page.locator('[data-use-suggestion="category"]').click()
    # Then it is selected, focus stays on that field, and it reads as a suggestion
    expect(category).not_to_have_value("")
    expect(category).to_be_focused()
    expect(badge).to_have_text("Suggested")
    # And the priority they did not confirm is not sent
    page.get_by_role("button", name="Submit ticket").click()
    expect(page.locator("[data-submit-success]")).to_be_visible(timeout=CREATE_TIMEOUT_MS)
    body = sent[0].post_data_json
    assert "category" in body and "priority" not in body, body


def _customer_header_only(page: Page) -> None:
    header = page.locator(".site-header")
    expect(header.get_by_role("link")).to_have_text([re.compile("Support desk"), "Submit a ticket"])
    expect(page.get_by_role("link", name="Tickets")).to_have_count(0)
    expect(page.get_by_role("link", name="Dashboard")).to_have_count(0)
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    # innerText leaves out what is not rendered
    assert not re.search("Tickets|Dashboard|Signed in|Sign out", header.inner_text())


def test_a_bad_key_shows_one_plain_message(anonymous_desk: Desk) -> None:
    stack = anonymous_desk.stack
    ticket = _create_with_link(stack, title=f"Private {unique()}")
    other = _create_with_link(stack)
    page = anonymous_desk.open(f"#/my-ticket/{ticket['id']}?key={ticket['customer_key']}")
    expect(page.locator("[data-my-ticket-title]")).to_have_text(ticket["title"])
    for hash_ in (
        f"#/my-ticket/{ticket['id']}?key=wrong{ticket['customer_key'][5:]}",
        f"#/my-ticket/{ticket['id']}?key={other['customer_key']}",
        f"#/my-ticket/{ticket['id']}",
        f"#/my-ticket/{'a' * 24}?key={ticket['customer_key']}",
    ):
        anonymous_desk.open(hash_)
        page.reload()
        # Then one plain message, and nothing of the ticket
        _invalid_link_page(page)
        expect(page.locator("[data-my-ticket-title]")).to_have_count(0)
        assert ticket["title"] not in page.content()


def _invalid_link_page(page: Page) -> None:
    """The customers' "This link is not valid" page, with its way forward, focused."""
    invalid = page.locator("[data-invalid-link]")
    expect(invalid).to_contain_text("This link is not valid")
    expect(page.locator("main")).to_have_text(re.compile(r"^\s*This link is not valid"))
    expect(page.get_by_role("heading", name="This link is not valid")).to_be_focused()
    expect(invalid.locator("[data-new-link-help]")).to_contain_text(
        "The link in the most recent email about your ticket works"
    )
    expect(invalid.locator("[data-new-link-help]")).to_contain_text(
        "an agent can email you a new link"
    )
    expect(invalid.get_by_role("link", name="Submit a new ticket")).to_have_attribute(
        "href", "#/new"
    )
    _customer_header_only(page)


def test_a_mistyped_private_link_is_not_valid_not_a_missing_page(anonymous_desk: Desk) -> None:
    ticket = _create_with_link(anonymous_desk.stack)
    key = ticket["customer_key"]
    public_calls: list[str] = []
    page = anonymous_desk.page
    page.on(
        "request",
        lambda request: public_calls.append(request.url) if "/api/public/" in request.url else None,
    )
    for hash_ in (
        "#/my-ticket/",
        "#/my-ticket",
        f"#/my-ticket/{ticket['id'][:20]}?key={key}",  # cut short
        f"#/my-ticket/{ticket['id']}x?key={key}",  # one character too many
        f"#/my-ticket/{ticket['id'].upper()}?key={key}",  # not a-z2-7
        f"#/my-ticket/{ticket['id'][:23]}1?key={key}",  # a digit the ids never use
        f"#/my-ticket/{ticket['id']}/extra?key={key}",
    ):
        # When the customer opens a mistyped address (freshly, as from an email)
        anonymous_desk.open(hash_)
        page.reload()
        # Then it is the customers' "not valid" page, not the agents' "Page not found"
        _invalid_link_page(page)
        expect(page.get_by_text("Page not found")).to_have_count(0)
        assert "Link not valid" in page.title()
    # And nothing was asked of the API for addresses that cannot be a ticket
    assert public_calls == []
    # And the way forward leads to the form
    page.get_by_role("link", name="Submit a new ticket").click()
    expect(page.get_by_role("heading", name="Submit a ticket")).to_be_focused()


def test_the_customer_page_has_no_agent_navigation_even_for_a_signed_in_agent(
    desk: Desk,
) -> None:
    ticket = _create_with_link(desk.stack)
    # Given an agent is signed in in this tab (the console shows its navigation)
    page = desk.open("#/tickets")
    expect(page.get_by_role("link", name="Dashboard")).to_be_visible()
    # When the customer's link is opened there
    desk.open(f"#/my-ticket/{ticket['id']}?key={ticket['customer_key']}")
    expect(page.locator("[data-my-ticket-title]")).to_have_text(ticket["title"])
    # Then the header holds only the brand and "Submit a ticket"
    _customer_header_only(page)
    expect(page.locator("[data-staff-link]")).to_have_count(0)
    # And so does a mistyped private link, which is the customers' "not valid" page
    desk.open("#/my-ticket/not-a-ticket")
    _invalid_link_page(page)
    desk.open(f"#/my-ticket/{ticket['id']}?key={ticket['customer_key']}")
    expect(page.locator("[data-my-ticket-title]")).to_have_text(ticket["title"])
    # And the form keeps its discreet staff link only for people who are not signed in
    page.get_by_role("link", name="Submit a ticket").click()
    expect(page.get_by_role("link", name="Dashboard")).to_be_visible()
    expect(page.locator("[data-staff-link]")).to_be_hidden()


def test_the_form_offers_staff_sign_in_in_its_footer_only(anonymous_desk: Desk) -> None:
    page = anonymous_desk.open("#/new")
    _customer_header_only(page)
    staff = page.get_by_role("link", name="Staff sign-in")
    expect(staff).to_be_visible()
    staff.click()
    expect(page.get_by_role("heading", name="Agent sign-in")).to_be_visible()
    expect(page.get_by_role("link", name="Tickets", exact=True)).to_be_visible()


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_the_customer_side_passes_axe(browser: Browser, stack: RunningStack, viewport: str) -> None:
    context = browser.new_context(viewport=VIEWPORTS[viewport], bypass_csp=True)
    page = context.new_page()
    seen = watch(page)
    token = unique()
    # WCAG 2.2 A/AA and axe's best practices (one h1, heading order, landmarks)
    tags = BEST_PRACTICE_TAGS
    # The form, empty and with every field in error
    page.goto(stack.site_url + "#/new")
    expect(page.get_by_label("Email")).to_be_visible()
    assert_accessible(page, tags=tags)
    page.get_by_role("button", name="Submit ticket").click()
    expect(page.locator("[data-form-error]")).to_be_visible()
    assert_accessible(page, tags=tags)
    # With a suggestion offered as a hint, and a restored draft
    force_confidence(page, "low")
    page.get_by_label("Email").fill(f"{token}@example.com")
    page.get_by_label("Title").fill(f"Axe {token} https://example.com")
    page.get_by_label("Description").fill("The export to CSV fails with an error every time.")
    expect(page.locator('[data-suggestion-badge="category"]')).to_have_attribute(
        "data-state", "hint"
    )
    _wait_for_draft(page)
    page.reload()
    expect(page.locator("[data-draft-note]")).to_be_visible()
    assert_accessible(page, tags=tags)
    # The confirmation (the form hidden behind "Submit another ticket")
    page.get_by_role("button", name="Submit ticket").click()
    success = page.locator("[data-submit-success]")
    expect(success).to_be_visible(timeout=CREATE_TIMEOUT_MS)
    assert_accessible(page, tags=tags)
    # The private page, with a conversation, a code block and the "Sent." note
    link = success.locator("[data-private-link]").get_attribute("href")
    assert link
    page.goto(link)
    expect(page.locator("[data-my-ticket-title]")).to_be_visible()
    page.get_by_label("Your message").fill("Here is the log:\n```\nERROR export failed\n```")
    page.get_by_role("button", name="Send").click()
    expect(page.locator('[data-message-author="customer"]')).to_have_count(1)
    expect(page.locator("[data-sent-note]")).to_have_text("Sent.")
    assert_accessible(page, tags=tags)
    # With a send refused because the link was replaced meanwhile (the copy offered)
    page.route(
        "**/api/public/tickets/*/messages/",
        lambda route: route.fulfill(
            status=404,
            json={"error": "not found"},
            headers={"Access-Control-Allow-Origin": "*"},
        ),
    )
    page.get_by_label("Your message").fill("One more thing")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("[data-copy-text]")).to_be_visible()
    assert_accessible(page, tags=tags)
    page.unroute("**/api/public/tickets/*/messages/")
    # And the invalid-link message, for a wrong key and for a mistyped address
    page.goto(link.replace("key=", "key=x"))
    page.reload()
    expect(page.locator("[data-invalid-link]")).to_be_visible()
    assert_accessible(page, tags=tags)
    page.goto(stack.site_url + "#/my-ticket/nope")
    page.reload()
    expect(page.locator("[data-invalid-link]")).to_be_visible()
    assert_accessible(page, tags=tags)
    seen.assert_clean()
    context.close()


def test_the_confirmation_promises_no_email_and_puts_the_form_away(
    anonymous_desk: Desk,
) -> None:
    stack = anonymous_desk.stack
    email = f"{unique()}@example.com"
    # Given this address already had its confirmations for the hour (3 a hour locally)
    for _ in range(3):
        _create_with_link(stack, customer_email=email)
    page = anonymous_desk.open("#/new")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    # When the customer submits a fourth ticket
    page.get_by_label("Email").fill(email)
    page.get_by_label("Title").fill(f"Fourth {unique()}")
    page.get_by_label("Description").fill("Another question about my last invoice.")
    page.get_by_role("button", name="Submit ticket").click()
    success = page.locator("[data-submit-success]")
    expect(success).to_be_visible(timeout=CREATE_TIMEOUT_MS)
    # Then the heading says it was received, and has the focus
    heading = page.get_by_role("heading", name="Ticket received")
    expect(heading).to_be_focused()
    assert page.title().startswith("Ticket received")
    # And the confirmation says what is true: the link is on its way, and this page's
    # link is the way back whatever happens to the email
    note = success.locator("[data-emailed-note]")
    expect(note).to_have_text(
        f"We are also sending this link to {email}. Keep it: it is your way back to this"
        " ticket, even if the email does not arrive."
    )
    expect(success).not_to_contain_text(re.compile("emailed", re.IGNORECASE))
    # And indeed no confirmation is mailed for this one
    ticket_id = success.locator("[data-ticket-ref]").get_attribute("data-ticket-id")
    assert ticket_id
    _wait_for_email_record(anonymous_desk, ticket_id, "suppressed")
    # And the private link can be opened or copied, and nothing else is on the page
    open_link = success.get_by_role("link", name="Open your ticket")
    link = open_link.get_attribute("href")
    assert link and f"#/my-ticket/{ticket_id}?key=" in link
    expect(success.get_by_label("Your private link")).to_have_value(link)
    success.get_by_role("button", name="Copy link").click()
    expect(success.locator("[data-copy-status]")).to_have_text("Link copied.")
    assert page.evaluate("navigator.clipboard.readText()") == link
    expect(page.locator("[data-ticket-form]")).to_be_hidden()
    expect(page.get_by_role("heading", name="Submit a ticket")).to_have_count(0)
    # When they want to send another one
    page.get_by_role("button", name="Submit another ticket").click()
    # Then the empty form is back, ready to type in, and the confirmation is gone
    expect(page.locator("[data-ticket-form]")).to_be_visible()
    expect(page.get_by_role("heading", name="Submit a ticket")).to_be_visible()
    expect(page.get_by_label("Email")).to_be_focused()
    expect(page.get_by_label("Email")).to_have_value("")
    expect(success).to_be_hidden()
    expect(page.get_by_role("button", name="Submit another ticket")).to_be_hidden()
    # And "Open your ticket" led to the ticket (checked from a fresh tab)
    other = page.context.new_page()
    other.goto(link)
    expect(other.locator("[data-my-ticket-reference]")).to_contain_text("Ticket #")
    other.close()

    # When, after another ticket, they use the header's "Submit a ticket" instead
    page.get_by_label("Email").fill(email)
    page.get_by_label("Title").fill(f"Fifth {unique()}")
    page.get_by_label("Description").fill("One more question about the same invoice.")
    page.get_by_role("button", name="Submit ticket").click()
    expect(success).to_be_visible(timeout=CREATE_TIMEOUT_MS)
    page.locator("header").get_by_role("link", name="Submit a ticket").click()
    # Then the empty form is back too
    expect(page.locator("[data-ticket-form]")).to_be_visible()
    expect(page.get_by_label("Title")).to_have_value("")
    expect(success).to_be_hidden()


def _wait_for_email_record(desk: Desk, ticket_id: str, status: str) -> None:
    """Until the ticket's email log (as agents see it) has a record with ``status``."""
    url = f"{desk.stack.api_url}/tickets/{ticket_id}/emails/"
    for _ in range(100):
        records = requests.get(url, headers=desk.agent_headers, timeout=10).json()
        if any(record["status"] == status for record in records):
            return
        time.sleep(0.1)
    raise AssertionError(f"no {status} email for {ticket_id}: {records}")


def test_text_typed_while_the_link_is_replaced_stays_and_can_be_copied(
    anonymous_desk: Desk,
    agent_tokens: AgentTokens,  # noqa: F811 - the fixture imported above
) -> None:
    stack = anonymous_desk.stack
    ticket = _create_with_link(stack, title=f"Replaced {unique()}")
    page = anonymous_desk.open(f"#/my-ticket/{ticket['id']}?key={ticket['customer_key']}")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    expect(page.locator("[data-my-ticket-title]")).to_have_text(ticket["title"])
    # Given the customer is writing a long message
    text = "Here is everything that happened:\nfirst this,\nthen that."
    page.get_by_label("Your message").fill(text)
    # And the view is shown again meanwhile: main.js routes again whenever the sign-in
    # state changes (here an agent signs in in another tab of this browser; also the end
    # of the sign-in check 300 ms after load): the page and the text must stay
    page.wait_for_timeout(400)
    other = page.context.new_page()
    other.goto(stack.site_url + "#/new")
    other.evaluate(
        "tokens => new BroadcastChannel('support-desk.session')"
        ".postMessage({type: 'signed-in', tokens})",
        agent_tokens.stored_session(),
    )
    expect(page.locator("[data-announcer]")).to_contain_text("Signed in as")
    other.close()
    expect(page.get_by_label("Your message")).to_have_value(text)
    # When an agent sends them a new link meanwhile (the old one stops working)
    renewed = requests.post(
        f"{stack.api_url}/tickets/{ticket['id']}/access-link/",
        headers=anonymous_desk.agent_headers,
        timeout=10,
    )
    assert renewed.status_code == 202, renewed.text
    # And they press Send
    page.get_by_role("button", name="Send").click()
    # Then the page stays, with their text in the box, and says what happened
    error = page.locator('[data-field-error="body"]')
    expect(error).to_contain_text("this link has been replaced by a newer one")
    expect(error).to_contain_text("which we emailed to you")
    expect(page.get_by_label("Your message")).to_have_value(text)
    expect(page.get_by_label("Your message")).to_be_focused()
    expect(page.locator("[data-my-ticket-title]")).to_have_text(ticket["title"])
    expect(page.locator("[data-invalid-link]")).to_have_count(0)
    expect(page.locator("[data-announcer]")).to_contain_text("replaced by a newer one")
    # And Send stays off (this link can never send again)
    expect(page.get_by_role("button", name="Send")).to_be_disabled()
    # And they can copy what they wrote
    page.get_by_role("button", name="Copy your text").click()
    expect(error.locator("[data-copy-status]")).to_have_text("Your text is copied.")
    assert page.evaluate("navigator.clipboard.readText()") == text
    # And editing the text keeps the explanation
    page.get_by_label("Your message").press("End")
    page.keyboard.type(" More.")
    expect(error).to_contain_text("replaced by a newer one")


def test_customers_read_plain_words_when_the_service_fails(anonymous_desk: Desk) -> None:
    stack = anonymous_desk.stack
    ticket = _create_with_link(stack)
    technical = re.compile(r"API|HTTP|127\.0\.0\.1|http://|\b50\d\b")
    page = anonymous_desk.page

    def refuse(route: Route) -> None:
        route.abort("connectionrefused")

    def bad_gateway(route: Route) -> None:
        route.fulfill(status=502, body="Bad gateway", headers={"Access-Control-Allow-Origin": "*"})

    public = f"{stack.api_url}/public/**"
    # When the service cannot be reached while the private page loads
    page.route(public, refuse)
    anonymous_desk.open(f"#/my-ticket/{ticket['id']}?key={ticket['customer_key']}")
    notice = page.locator("[data-error-notice]")
    expect(notice).to_contain_text("Could not load your ticket.")
    # Then it says so in plain words, with Try again
    expect(notice).to_contain_text(
        "We can't reach our service right now. Please try again in a few minutes."
    )
    expect(notice).not_to_contain_text(technical)
    # And a 502 reads the same
    page.unroute(public, refuse)
    page.route(public, bad_gateway)
    page.get_by_role("button", name="Try again").click()
    expect(notice).to_contain_text("We can't reach our service right now.")
    expect(notice).not_to_contain_text(technical)
    # And Try again recovers once the service is back
    page.unroute(public, bad_gateway)
    page.get_by_role("button", name="Try again").click()
    expect(page.locator("[data-my-ticket-title]")).to_have_text(ticket["title"])

    # When sending an answer fails, the text stays and the words are plain
    page.route(public, bad_gateway)
    page.get_by_label("Your message").fill("Still broken.")
    page.get_by_role("button", name="Send").click()
    error = page.locator('[data-field-error="body"]')
    expect(error).to_have_text(
        "Not sent. We can't reach our service right now. Your text is kept; please try"
        " again in a few minutes."
    )
    expect(page.get_by_label("Your message")).to_have_value("Still broken.")
    page.unroute(public, bad_gateway)

    # When the form cannot reach the service
    create = f"{stack.api_url}/tickets/"
    page.route(create, refuse)
    anonymous_desk.open("#/new")
    page.get_by_label("Email").fill(f"{unique()}@example.com")
    page.get_by_label("Title").fill("Outage")
    page.get_by_label("Description").fill("Nothing loads.")
    page.get_by_label("Category").select_option("general")
    page.get_by_label("Priority").select_option("low")
    page.get_by_role("button", name="Submit ticket").click()
    banner = page.locator("[data-form-error]")
    expect(banner).to_contain_text("Your ticket was not sent.")
    expect(banner.locator("[data-send-error]")).to_have_text(
        "We can't reach our service right now. Your text is kept; please try again in a"
        " few minutes."
    )
    expect(banner).not_to_contain_text(technical)
    expect(page.get_by_label("Title")).to_have_value("Outage")


def _accessible_texts(page: Page) -> list[str]:
    """Every name and text in Chromium's accessibility tree (what a screen reader gets)."""
    session = page.context.new_cdp_session(page)
    try:
        tree = session.send("Accessibility.getFullAXTree")
    finally:
        session.detach()
    return [
        str(node.get("name", {}).get("value", ""))
        for node in tree["nodes"]
        if not node.get("ignored")
    ]


def test_screen_readers_skip_the_marks_and_hear_settled_suggestions_once(
    anonymous_desk: Desk, claude: RunningStack
) -> None:
    claude.claude(answer={"category": "technical", "priority": "high"})
    page = anonymous_desk.open("#/new")
    force_confidence(page, "low")
    # Every text the suggestion's live region ever holds
    page.evaluate(
        """() => {
          const live = document.querySelector("[data-suggestion-status] [role=status]");
          window.__liveTexts = [];
          new MutationObserver(() => window.__liveTexts.push(live.textContent))
            .observe(live, {childList: true, characterData: true, subtree: true});
        }"""
    )
    live = page.locator("[data-suggestion-status] [role=status]")
    expect(live).to_have_attribute("aria-atomic", "true")
    status = page.locator("[data-suggestion-status]")
    description = page.get_by_label("Description")
    description.click()
    # When the customer types, pauses, and goes on typing (the same suggestion each time)
    page.keyboard.type("The export to CSV fails with an error", delay=20)
    # (the first classification of a session pays the API's cold imports)
    expect(status).to_have_attribute("data-suggestion-status", "shown", timeout=30_000)
    claude.claude(answer={"category": "technical", "priority": "high"}, delay=1.5)
    page.keyboard.type(" every single time I try it.", delay=20)
    expect(status).to_have_attribute("data-suggestion-status", "pending")
    expect(status).to_contain_text("Suggesting")
    expect(status).to_have_attribute("data-suggestion-status", "shown")
    # Then "Suggesting…" was never in the live region, and the settled suggestion was
    # put there once
    texts = page.evaluate("window.__liveTexts")
    assert not any("Suggesting" in text for text in texts), texts
    assert [text for text in texts if text] == [
        "Suggested: Technical, High priority. Use them if they fit, or choose your own."
    ], texts
    # When the form shows its marks: a hint (?), a suggestion taken (✦), an over-limit
    # counter and field errors (⚠)
    page.get_by_label("Title").fill("x" * 201)
    page.get_by_role("button", name="Submit ticket").click()
    expect(page.locator('[data-field-error="customer_email"]')).to_be_visible()
    page.locator('[data-use-suggestion="priority"]').click()
    expect(page.locator('[data-suggestion-badge="category"]')).to_have_attribute(
        "data-state", "hint"
    )
    expect(page.locator('[data-suggestion-badge="priority"]')).to_have_text("Suggested")
    # Then the words are read, and none of the marks
    texts = _accessible_texts(page)
    assert "Title must be at most 200 characters." in texts, texts
    assert "Suggested" in texts, texts
    assert _marks(texts) == []
    # And the same with a choice that overrides the suggestion (✎)
    page.get_by_label("Priority").select_option("low")
    expect(page.locator('[data-suggestion-badge="priority"]')).to_have_attribute(
        "data-state", "overridden"
    )
    assert _marks(_accessible_texts(page)) == []


def _marks(texts: list[str]) -> list[str]:
    """The decorative marks among ``texts`` (a "? " hint mark starts its text node)."""
    return [text for text in texts if re.search(r"[⚠✦✎✓]|^\? ", text)]


def test_the_status_line_reads_as_two_sentences(anonymous_desk: Desk) -> None:
    ticket = _create_with_link(anonymous_desk.stack)
    page = anonymous_desk.open(f"#/my-ticket/{ticket['id']}?key={ticket['customer_key']}")
    line = page.locator("[data-my-ticket-status-line]")
    # "Status: Open. We have…", not "Status: Open We have…"
    expect(line).to_have_text(
        "Status: Open. We have your ticket and will answer here and by email."
    )
    expect(page.locator("[data-my-ticket-status]")).to_have_text("Open")
    # And the answer box does not assume anyone has answered yet
    expect(page.get_by_role("heading", name="Add to your ticket")).to_be_visible()
    expect(page.locator("[data-reopen-note]")).to_have_text("We answer here and by email.")
    page.get_by_label("Your message").fill("One more detail.")
    page.get_by_role("button", name="Send").click()
    # And sending shows a note on the page as well as announcing it
    note = page.locator("[data-sent-note]")
    expect(note).to_have_text("Sent.")
    expect(page.locator("[data-announcer]")).to_have_text("Your message was sent.")
    # Which goes when they start the next message
    page.get_by_label("Your message").fill("And another")
    expect(note).to_be_hidden()


def test_every_page_has_one_h1_over_its_view_heading(desk: Desk) -> None:
    ticket = _create_with_link(desk.stack)
    # (a page's first load leaves focus at the top; moving between views moves it)
    page = desk.open("#/dashboard")
    expect(page.locator("[data-view]").first).to_be_attached()
    routes = [
        ("Submit a ticket", "#/new"),
        ("Tickets", "#/tickets"),
        ("Dashboard", "#/dashboard"),
        (ticket["title"], f"#/tickets/{ticket['id']}"),
        (ticket["title"], f"#/my-ticket/{ticket['id']}?key={ticket['customer_key']}"),
        ("This link is not valid", "#/my-ticket/nope"),
    ]
    for heading, hash_ in routes:
        desk.open(hash_)
        # The site's name is the one h1; the view's title an h2 under it, focused
        expect(page.locator("h1")).to_have_count(1)
        expect(page.get_by_role("heading", level=1)).to_have_accessible_name("Support desk")
        expect(page.locator("main h2:focus")).to_have_text(heading)
    # And the sign-in form too (in a browser where nobody is signed in)
    assert page.context.browser
    other = page.context.browser.new_page()
    other.goto(desk.stack.site_url + "#/tickets")
    expect(other.get_by_role("heading", name="Agent sign-in", level=2)).to_be_visible()
    expect(other.locator("h1")).to_have_count(1)
    expect(other.get_by_role("heading", level=1)).to_have_accessible_name("Support desk")
    other.context.close()


def test_touch_targets_on_a_phone_are_at_least_44_px(anonymous_desk: Desk) -> None:
    page = anonymous_desk.page
    page.set_viewport_size(VIEWPORTS["phone"])
    anonymous_desk.open("#/new")
    staff = page.get_by_role("link", name="Staff sign-in")
    _at_least_44(staff)
    page.get_by_label("Email").fill(f"{unique()}@example.com")
    page.get_by_label("Title").fill(f"Phone {unique()}")
    page.get_by_label("Description").fill("Typed on a phone.")
    page.get_by_label("Category").select_option("general")
    page.get_by_label("Priority").select_option("low")
    page.get_by_role("button", name="Submit ticket").click()
    expect(page.locator("[data-submit-success]")).to_be_visible(timeout=CREATE_TIMEOUT_MS)
    for name in ("Copy link", "Submit another ticket"):
        _at_least_44(page.get_by_role("button", name=name))
    _at_least_44(page.get_by_role("link", name="Open your ticket"))
    _at_least_44(staff)


def _at_least_44(locator: Locator) -> None:
    expect(locator).to_be_visible()
    box = locator.bounding_box()
    assert box and box["height"] >= 44 and box["width"] >= 44, box
