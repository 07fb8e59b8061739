"""The agents' ticket page in a real browser: one timeline, replies and internal notes,
delivery, the customer's contact and link, assignment, plain words, safe rich text,
and an axe audit at desktop and phone width."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

import pytest
import requests
from playwright.sync_api import Browser, Page, Route, expect

from tests.e2e.axe_audit import assert_accessible
from tests.e2e.conftest import RunningStack
from tests.e2e.conversation_helpers import (
    VIEWPORTS,
    agent_display_name,
    sign_in_context,
    wait_for_email,
    watch,
)
from tests.e2e.site_fixtures import (  # noqa: F401 - fixtures
    AgentTokens,
    Desk,
    agent_headers,
    agent_tokens,
    desk_fixture,
    unique,
)

pytestmark = pytest.mark.browser


def _create(stack: RunningStack, **fields: Any) -> dict[str, Any]:
    """A customer's ticket through the public API (with its private link)."""
    body = {"title": f"Ticket {unique()}", "description": "Created by a browser test.", **fields}
    response = requests.post(f"{stack.api_url}/tickets/", json=body, timeout=30)
    assert response.status_code == 201, response.text
    ticket: dict[str, Any] = response.json()
    return ticket


def _customer_answers(stack: RunningStack, ticket: dict[str, Any], body: str) -> None:
    """The customer's answer through the public API, with their private key."""
    response = requests.post(
        f"{stack.api_url}/public/tickets/{ticket['id']}/messages/",
        data=json.dumps({"body": body}),
        headers={"X-Ticket-Key": ticket["customer_key"], "Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 201, response.text


def _reply(page: Page, text: str, *, note: bool = False, status: str = "") -> None:
    page.get_by_label("Internal note" if note else "Reply (the customer sees it)").check()
    page.get_by_label("Message").fill(text)
    if status:
        page.get_by_label("Then set status").select_option(status)
    page.get_by_role("button", name="Add internal note" if note else "Send reply").click()
    try:
        expect(page.get_by_label("Message")).to_have_value("")
    except AssertionError as error:
        # Say what the page showed: still sending, an error under the box, or neither.
        state = page.evaluate(
            "() => ({button: document.querySelector('[data-reply-send]')?.textContent,"
            " error: document.querySelector('#reply-error')?.textContent,"
            " announced: document.querySelector('[data-announcer]')?.textContent})"
        )
        raise AssertionError(f"The message was not sent; the page showed {state}") from error
    # Then wait for the page to settle, as the agent does: the message read back into the
    # timeline, the status shown. Until then the timeline grows above the reply box, and
    # the next call's click could land where the button was a moment before (seen once
    # in a loaded full run: the note's click sent nothing).
    kind = "note" if note else "reply"
    sent = page.locator(f'[data-message-kind="{kind}"] [data-message-body]')
    expect(sent.filter(has_text=text.splitlines()[0])).to_have_count(1)
    if status:
        expect(page.locator("#detail-status")).to_have_value(status)


def test_one_timeline_oldest_first_with_replies_notes_history_and_emails(desk: Desk) -> None:
    token = unique()
    email = f"{token}@example.com"
    ticket = _create(desk.stack, title=f"Timeline {token}", customer_email=email)
    wait_for_email(desk.stack, email)  # the confirmation has gone out
    page = desk.open(f"#/tickets/{ticket['id']}")
    timeline = page.locator("[data-timeline]")
    # The creation and its confirmation email
    expect(timeline.locator('[data-history-action="created"]')).to_contain_text(
        "The customer created the ticket"
    )
    confirmation = timeline.locator('[data-email-kind="confirmation"]')
    expect(confirmation).to_contain_text(f"Confirmation email to {email}")
    expect(confirmation).to_contain_text("Emailed")

    # When the agent replies, then adds a note that also resolves the ticket
    _reply(page, f"First answer {token}")
    _reply(page, f"Note {token}", note=True, status="resolved")
    expect(page.locator("[data-announcer]")).to_have_text(
        "Internal note added. Status set to Resolved."
    )

    # Then the reply shows whether it was emailed (it turns from pending to sent by itself)
    reply = timeline.locator('[data-message-kind="reply"]')
    expect(reply.locator("[data-delivery]")).to_have_attribute("data-delivery", "sent")
    expect(reply.locator("[data-delivery]")).to_have_text("✓ Emailed")
    name = agent_display_name(desk.stack, desk.agent_headers, desk.agent_username)
    expect(reply).to_contain_text(f"Reply by {name}")
    # And the note is marked in words and looks different
    note = timeline.locator('[data-message-kind="note"]')
    expect(note).to_contain_text("Internal note")
    expect(note).to_contain_text("Agents only: not shown to the customer, never emailed.")
    # (both read in one call: the timeline may be rebuilt between two)
    backgrounds = timeline.evaluate(
        "t => ['note', 'reply'].map(kind => getComputedStyle("
        't.querySelector(`[data-message-kind="${kind}"]`)).backgroundColor)'
    )
    assert backgrounds[0] and backgrounds[0] != backgrounds[1], backgrounds
    # And the status change is a history entry in plain words, and the ticket refreshed
    expect(timeline.locator('[data-history-version="3"]')).to_contain_text(
        "Status: Open → Resolved"
    )
    expect(page.locator("#detail-status")).to_have_value("resolved")
    expect(page.locator("[data-ticket-meta]")).not_to_contain_text("change")
    # And everything is in one list, oldest first
    kinds = timeline.locator("> li").evaluate_all(
        "items => items.map(i => i.dataset.historyAction || i.dataset.emailKind"
        " || i.dataset.messageKind)"
    )
    assert kinds[:2] == ["created", "confirmation"], kinds
    assert kinds.index("reply") < kinds.index("updated") < kinds.index("note"), kinds
    # And the "resolved" email appears once sent
    expect(timeline.locator('[data-email-kind="resolved"]')).to_contain_text(
        "Emailed", timeout=15_000
    )


def test_links_are_safe_and_code_blocks_keep_their_layout(desk: Desk) -> None:
    token = unique()
    description = (
        f"Since today the page https://shop.example.com/cart?id=42 fails {token}.\n"
        "Not a link: javascript:alert(1) nor data:text/html,x\n"
        "```\n"
        "$ curl -v https://api.example.com/\n"
        "  HTTP/1.1 500 Internal Server Error\n"
        "```\n"
        "See (https://status.example.com/incident)."
    )
    ticket = _create(desk.stack, title=f"Links {token}", description=description)
    page = desk.open(f"#/tickets/{ticket['id']}")
    shown = page.locator("[data-ticket-description]")
    # Then the web addresses are links (trailing punctuation left out), and only those
    links = shown.locator("a")
    expect(links).to_have_count(2)
    expect(links.first).to_have_attribute("href", "https://shop.example.com/cart?id=42")
    expect(links.nth(1)).to_have_attribute("href", "https://status.example.com/incident")
    for index in range(2):
        expect(links.nth(index)).to_have_attribute("rel", "noopener noreferrer")
        expect(links.nth(index)).to_have_attribute("target", "_blank")
    expect(shown).to_contain_text("Not a link: javascript:alert(1) nor data:text/html,x")
    # And the code block is monospaced, with its line breaks and indentation, and no link
    code = shown.locator("pre code")
    expect(code).to_have_text(
        "$ curl -v https://api.example.com/\n  HTTP/1.1 500 Internal Server Error"
    )
    expect(code).to_have_css("font-family", re.compile("mono", re.IGNORECASE))
    assert code.locator("a").count() == 0
    # And a change to the ticket leaves the description's elements in place, so a
    # selection in it survives the page's refresh
    code.evaluate("c => { c.dataset.kept = 'yes'; }")
    page.locator("#detail-status").select_option("in_progress")
    expect(page.locator("[data-undo-toast]").filter(has_text="status → In progress")).to_be_visible(
        timeout=30_000
    )
    expect(shown.locator("pre code[data-kept='yes']")).to_have_count(1)
    # And a reply gets the same treatment, on the agent's page and the customer's
    _reply(page, "Try https://help.example.com/reset\n```\nreset --all\n```")
    message = page.locator('[data-message-kind="reply"] [data-message-body]')
    expect(message.locator("a")).to_have_attribute("href", "https://help.example.com/reset")
    expect(message.locator("pre code")).to_have_text("reset --all")
    desk.open(f"#/my-ticket/{ticket['id']}?key={ticket['customer_key']}")
    customer_message = page.locator('[data-message-author="support"] [data-message-body]')
    expect(customer_message.locator("a")).to_have_attribute(
        "href", "https://help.example.com/reset"
    )
    expect(customer_message.locator("pre code")).to_have_text("reset --all")
    expect(page.locator("[data-my-ticket-description] a")).to_have_count(2)


def test_markup_in_every_text_field_is_shown_as_text(desk: Desk) -> None:
    token = unique()
    markup = f"<img src=x onerror=alert(1)><script>alert(2)</script><b>{token}</b>"
    ticket = _create(
        desk.stack,
        title=f"{markup} title",
        description=f"{markup} description",
        customer_name=f"<svg onload=alert(3)> {token}",
    )
    seen = watch(desk.page)
    page = desk.open(f"#/tickets/{ticket['id']}")
    expect(page.locator("[data-ticket-title]")).to_have_text(f"{markup} title")
    _reply(page, f"{markup} reply")
    _reply(page, f"{markup} note", note=True)
    # Then the agent's page shows every field literally, and made no element from it
    expect(page.locator("[data-ticket-description]")).to_have_text(f"{markup} description")
    expect(page.locator("[data-customer-name]")).to_have_text(f"<svg onload=alert(3)> {token}")
    expect(page.locator('[data-message-kind="note"] [data-message-body]')).to_have_text(
        f"{markup} note"
    )
    assert page.locator("main img, main script, main b, main svg").count() == 0
    # And so does the customer's page, their own answer included
    desk.open(f"#/my-ticket/{ticket['id']}?key={ticket['customer_key']}")
    page.get_by_label("Your message").fill(f"{markup} answer")
    page.get_by_role("button", name="Send").click()
    expect(page.locator('[data-message-author="customer"] [data-message-body]')).to_have_text(
        f"{markup} answer"
    )
    expect(page.locator("[data-my-ticket-title]")).to_have_text(f"{markup} title")
    expect(page.locator('[data-message-author="support"] [data-message-body]')).to_have_text(
        f"{markup} reply"
    )
    assert page.locator("main img, main script, main b, main svg").count() == 0
    page.wait_for_timeout(300)
    seen.assert_clean()


def test_a_ticket_without_email_says_the_customer_cannot_be_notified(desk: Desk) -> None:
    ticket = _create(desk.stack, title=f"No email {unique()}")
    page = desk.open(f"#/tickets/{ticket['id']}")
    notice = page.locator("[data-no-email]")
    expect(notice).to_contain_text("this customer cannot be notified")
    expect(page.locator("[data-renew-link]")).to_have_count(0)
    expect(page.locator("[data-reply-hint]")).to_contain_text("not emailed")
    # When the agent replies anyway, the reply says it was not emailed, and why
    _reply(page, "We called you back instead.")
    delivery = page.locator('[data-message-kind="reply"] [data-delivery]')
    expect(delivery).to_have_text(re.compile(r"Not emailed: no customer email$"))


def test_assign_to_me_then_unassign(desk: Desk) -> None:
    ticket = _create(desk.stack, title=f"Assign {unique()}")
    page = desk.open(f"#/tickets/{ticket['id']}")
    assignee = page.get_by_label("Assignee")
    expect(assignee).to_have_value("")
    # When the agent takes the ticket
    page.get_by_role("button", name="Assign to me").click()
    # Then it is theirs, saved with If-Match, recorded by email, and the button is gone
    expect(assignee).to_have_value(desk.agent_username)
    expect(assignee).to_be_focused()
    expect(page.locator("[data-ticket-note]")).to_contain_text("Saved")
    assert desk.api_get(ticket["id"])["assignee"] == desk.agent_username
    expect(page.get_by_role("button", name="Assign to me")).to_be_hidden()
    expect(page.locator('[data-history-action="updated"]')).to_contain_text(
        f"Assigned to {desk.agent_username}"
    )
    # When they choose Unassigned
    assignee.select_option("")
    expect(page.locator('[data-history-action="updated"]').last).to_contain_text(
        f"Unassigned (was {desk.agent_username})"
    )
    assert desk.api_get(ticket["id"])["assignee"] is None
    expect(page.get_by_role("button", name="Assign to me")).to_be_visible()


def test_sending_a_new_link_after_confirming_revokes_the_old_one(desk: Desk) -> None:
    token = unique()
    email = f"{token}@example.com"
    ticket = _create(desk.stack, title=f"Lost link {token}", customer_email=email)
    old_link = f"#/my-ticket/{ticket['id']}?key={ticket['customer_key']}"
    page = desk.open(f"#/tickets/{ticket['id']}")
    # When the agent asks for a new link, the page asks first and says what happens
    page.get_by_role("button", name="Send a new link").click()
    confirm = page.locator("[data-renew-confirm]")
    expect(confirm).to_contain_text(f"Email {email} a new private link?")
    expect(confirm).to_contain_text("The link they have now stops working.")
    # And Cancel sends nothing
    confirm.get_by_role("button", name="Cancel").click()
    expect(confirm).to_be_hidden()
    expect(page.get_by_role("button", name="Send a new link")).to_be_focused()
    page.get_by_role("button", name="Send a new link").click()
    confirm.get_by_role("button", name="Send new link").click()
    # Then it is done and said
    expect(page.locator("[data-renew-result]")).to_have_text(
        f"A new link was emailed to {email}. The old link no longer works."
    )
    expect(page.locator('[data-history-action="link_renewed"]')).to_contain_text(
        "sent the customer a new private link"
    )
    # And the new link arrives by email and works, while the old one does not
    new_email = wait_for_email(
        desk.stack,
        email,
        # The confirmation also links with a key other than customer_key (the email
        # secret of the old nonce): only the new-link email will do.
        lambda e: "] Your new link: " in e["subject"] and "my-ticket" in e["text"],
    )
    match = re.search(r"#/my-ticket/[a-z2-7]{24}\?key=[a-z2-7]+", new_email["text"])
    assert match, new_email["text"]
    desk.open(old_link)
    expect(page.locator("[data-invalid-link]")).to_contain_text("This link is not valid")
    desk.open(match.group(0))
    page.reload()
    expect(page.locator("[data-my-ticket-title]")).to_have_text(f"Lost link {token}")


def test_plain_words_the_number_and_ai_unsure(desk: Desk) -> None:
    ticket = _create(desk.stack, title=f"Words {unique()}")
    page = desk.open(f"#/tickets/{ticket['id']}")
    expect(page.locator("[data-ticket-reference]")).to_have_text(ticket["reference"])
    assert re.fullmatch(r"#\d+", ticket["reference"])
    expect(page.locator("[data-ticket-meta]")).to_have_text(
        re.compile(r"^Opened .+ · Updated [^·]+$")
    )
    expect(page.get_by_role("heading", name="Triage")).to_be_visible()
    main = page.locator("main")
    expect(main).not_to_contain_text("Version")
    expect(main).not_to_contain_text("Chosen values")
    unsure = page.locator("[data-ai-unsure]")
    if ticket["suggested_confidence"] == "low":
        expect(unsure).to_have_text("AI unsure")
    else:
        expect(unsure).to_be_hidden()

    # Given the API says the suggestion was (un)sure, the page follows it
    def with_confidence(confidence: str) -> Any:
        def rewrite(route: Route) -> None:
            response = route.fetch()
            body = response.json()
            body["suggested_confidence"] = confidence
            route.fulfill(response=response, json=body)

        return rewrite

    url = f"{desk.stack.api_url}/tickets/{ticket['id']}/"
    page.route(url, with_confidence("low"))
    page.reload()
    expect(unsure).to_have_text("AI unsure")
    page.unroute(url)
    page.route(url, with_confidence("high"))
    page.reload()
    expect(page.locator("[data-ticket-title]")).to_be_visible()
    expect(unsure).to_be_hidden()


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_the_ticket_page_passes_axe(
    browser: Browser,
    stack: RunningStack,
    agent_tokens: AgentTokens,  # noqa: F811 - the fixture imported above
    viewport: str,
) -> None:
    token = unique()
    email = f"{token}@example.com"
    ticket = _create(
        stack,
        title=f"Axe {token}",
        customer_email=email,
        customer_name="Alex",
        description="See https://example.com/x\n```\ntrace line 1\n  trace line 2\n```",
    )
    context = browser.new_context(viewport=VIEWPORTS[viewport], bypass_csp=True)
    sign_in_context(context, stack, agent_tokens)
    page = context.new_page()
    seen = watch(page)
    page.goto(stack.site_url + f"#/tickets/{ticket['id']}")
    expect(page.locator("[data-ticket-title]")).to_have_text(f"Axe {token}")
    _reply(page, "A reply with https://example.com/help")
    _reply(page, "A note", note=True, status="in_progress")
    expect(page.locator('[data-message-kind="reply"] [data-delivery="sent"]')).to_be_visible()
    page.get_by_role("button", name="Send a new link").click()
    expect(page.locator("[data-renew-confirm]")).to_be_visible()
    assert_accessible(page)
    # With the note mode chosen, and an error under the message box
    page.get_by_label("Internal note").check()
    page.get_by_role("button", name="Add internal note").click()
    expect(page.locator('[data-field-error="body"]')).to_be_visible()
    assert_accessible(page)
    seen.assert_clean()
    context.close()


def _draft_keys(page: Page) -> list[str]:
    return sorted(
        page.evaluate(
            "Object.keys(localStorage).filter(k => k.startsWith('support-desk.composer.'))"
        )
    )


def test_an_unsent_note_survives_leaving_back_forward_and_an_expired_session(desk: Desk) -> None:
    ticket = _create(desk.stack, title=f"Draft {unique()}")
    other = _create(desk.stack, title=f"Other {unique()}")
    page = desk.open(f"#/tickets/{ticket['id']}")
    box = page.get_by_label("Message")
    restored = page.locator("[data-draft-restored]")
    expect(restored).to_be_hidden()
    # Given the agent starts an internal note
    page.get_by_label("Internal note").check()
    box.fill("Half a note: checked the invoice, waiting on")
    assert _draft_keys(page) == [f"support-desk.composer.{ticket['id']}.note"]

    # When they open another ticket (its box is empty), then come back with Back
    page.goto(desk.stack.site_url + f"#/tickets/{other['id']}")
    expect(page.locator("[data-ticket-title]")).to_have_text(other["title"])
    expect(box).to_have_value("")
    page.go_back()
    # Then the note is back, still a note, with a hint saying so
    expect(page.locator("[data-ticket-title]")).to_have_text(ticket["title"])
    expect(box).to_have_value("Half a note: checked the invoice, waiting on")
    expect(page.get_by_label("Internal note")).to_be_checked()
    expect(restored).to_contain_text("Draft restored (internal note")
    page.go_forward()
    expect(box).to_have_value("")
    page.go_back()
    expect(box).to_have_value("Half a note: checked the invoice, waiting on")

    # When the session expires (token and refresh token refused) and they sign in again
    stored = desk.stored_session()
    assert stored is not None
    header, payload, signature = stored["idToken"].split(".")
    bad = f"{header}.{payload}.{'B' if signature[0] != 'B' else 'C'}{signature[1:]}"
    desk.store_session({**stored, "idToken": bad, "refreshToken": "revoked"})
    page.reload()
    expect(page.get_by_role("heading", name="Agent sign-in")).to_be_visible()
    desk.sign_in_with_form()
    # Then the note is still there
    expect(box).to_have_value("Half a note: checked the invoice, waiting on")
    expect(page.get_by_label("Internal note")).to_be_checked()

    # When it is sent, the draft is gone and the box stays on "Internal note"
    box.fill("Checked the invoice: waiting on the bank.")
    page.get_by_role("button", name="Add internal note").click()
    expect(box).to_have_value("")
    expect(page.locator('[data-message-kind="note"]')).to_contain_text("waiting on the bank")
    expect(page.get_by_label("Internal note")).to_be_checked()
    expect(page.get_by_role("button", name="Add internal note")).to_be_visible()
    expect(restored).to_be_hidden()
    assert _draft_keys(page) == []
    page.reload()
    expect(page.locator("[data-ticket-title]")).to_have_text(ticket["title"])
    expect(box).to_have_value("")
    expect(restored).to_be_hidden()


def test_the_customer_contact_mails_safely_links_their_tickets_and_flags_unverified(
    desk: Desk,
) -> None:
    token = unique()
    email = f"{token}+billing@example.com"
    ticket = _create(desk.stack, title=f"Bill & refund? {token}", customer_email=email)
    earlier = _create(desk.stack, title=f"Earlier {token}", customer_email=email)
    desk.api_patch(earlier["id"], {"status": "closed"}, earlier["version"])
    desk.api_find_at_least(email, 2)  # the index is written from the stream, a moment later
    page = desk.open(f"#/tickets/{ticket['id']}")
    contact = page.locator("[data-customer-email]")
    # Then the mailto link has every part percent-encoded ("&" and "?" cannot start headers)
    subject = quote(f"{ticket['reference']} Bill & refund? {token}", safe="")
    address = f"{quote(token + '+billing', safe='')}@example.com"
    expect(contact.get_by_role("link", name=email)).to_have_attribute(
        "href", f"mailto:{address}?subject={subject}"
    )
    # And the address is marked as not verified (nobody opened an emailed link yet)
    expect(contact.locator("[data-email-unverified]")).to_have_text("? Email not verified")

    # When the agent opens "Other tickets from this customer"
    page.get_by_role("link", name="Other tickets from this customer").click()
    # Then the list searches every status for the address: the closed ticket too
    expect(page.get_by_label("Search")).to_have_value(email)
    expect(page.locator("#filter-status")).to_have_value("")
    rows = page.locator("[data-ticket-row]")
    expect(rows).to_have_count(2)
    # And the requester's tooltip says the address is not verified
    requester = rows.first.locator("[data-requester] span")
    expect(requester).to_have_attribute("title", f"{email} (email not verified)")

    # Given the API says the address is verified, no badge is shown
    url = f"{desk.stack.api_url}/tickets/{ticket['id']}/"

    def verified(route: Route) -> None:
        response = route.fetch()
        route.fulfill(response=response, json={**response.json(), "customer_email_verified": True})

    page.route(url, verified)
    desk.open(f"#/tickets/{ticket['id']}")
    expect(contact.get_by_role("link", name=email)).to_be_visible()
    expect(contact.locator("[data-email-unverified]")).to_have_count(0)


def test_a_link_with_a_non_ascii_host_shows_its_punycode(desk: Desk) -> None:
    token = unique()
    # "\u0430pple.com" starts with a Cyrillic a (U+0430): it looks like apple.com and is not
    description = (
        f"Log in at https://\u0430pple.com/login?next=/billing {token}\n"
        "or https://bücher.example/x\n"
        "and https://shop.example.com/é stays as written."
    )
    ticket = _create(desk.stack, title=f"Homograph {token}", description=description)
    page = desk.open(f"#/tickets/{ticket['id']}")
    links = page.locator("[data-ticket-description] a")
    expect(links).to_have_count(3)
    expect(links.nth(0)).to_have_text("https://xn--pple-43d.com/login?next=/billing")
    expect(links.nth(0)).to_have_attribute("href", "https://xn--pple-43d.com/login?next=/billing")
    expect(links.nth(1)).to_have_text("https://xn--bcher-kva.example/x")
    # An ASCII host is shown exactly as written (only the host is ever rewritten)
    expect(links.nth(2)).to_have_text("https://shop.example.com/é")


def test_triage_changes_on_the_ticket_page_can_be_undone(desk: Desk) -> None:
    ticket = _create(desk.stack, title=f"Undo here {unique()}", priority="low")
    page = desk.open(f"#/tickets/{ticket['id']}")
    reference = ticket["reference"]
    toast = page.locator("[data-undo-toast]")
    patches: list[str | None] = []
    page.on(
        "request",
        lambda request: (
            patches.append(request.headers.get("if-match")) if request.method == "PATCH" else None
        ),
    )
    # When the agent resolves the ticket, then presses Undo
    page.locator("#detail-status").select_option("resolved")
    expect(toast).to_contain_text(f"Saved: status → Resolved on {reference}.", timeout=30_000)
    toast.get_by_role("button", name="Undo").click()
    # Then it is open again, through a PATCH conditional on the version the change made
    expect(toast).to_contain_text(f"Undone on {reference}: status → Open.", timeout=30_000)
    expect(page.locator("#detail-status")).to_have_value("open")
    after = desk.api_get(ticket["id"])
    assert (after["status"], after["version"]) == ("open", 3)
    assert patches == ['"v1"', '"v2"']

    # And taking the ticket can be undone too
    page.get_by_role("button", name="Assign to me").click()
    expect(toast.last).to_contain_text(f"assignee → {desk.agent_username}", timeout=30_000)
    toast.last.get_by_role("button", name="Undo").click()
    expect(toast.last).to_contain_text(f"Undone on {reference}: assignee → nobody.", timeout=30_000)
    expect(page.get_by_label("Assignee")).to_have_value("")
    assert desk.api_get(ticket["id"])["assignee"] is None

    # When someone else changes the ticket after a change, its Undo overwrites nothing
    page.locator("#detail-priority").select_option("critical")
    expect(toast.last).to_contain_text("priority → Critical", timeout=30_000)
    current = desk.api_get(ticket["id"])
    assert desk.api_patch(ticket["id"], {"priority": "medium"}, current["version"]).ok
    toast.last.get_by_role("button", name="Undo").click()
    expect(toast.last).to_contain_text(f"Not undone: someone changed {reference} since")
    expect(page.locator("#detail-priority")).to_have_value("medium")
    assert desk.api_get(ticket["id"])["priority"] == "medium"


def test_a_note_switched_to_a_reply_warns_before_it_reaches_the_customer(desk: Desk) -> None:
    ticket = _create(desk.stack, title=f"Note first {unique()}")
    page = desk.open(f"#/tickets/{ticket['id']}")
    warning = page.locator("[data-note-warning]")
    # Given an internal note being written
    page.get_by_label("Internal note").check()
    page.get_by_label("Message").fill("Customer is on the old plan; do not offer a refund.")
    expect(warning).to_be_hidden()
    # When the agent switches to Reply, the warning says who would see it
    page.locator("#reply-mode-reply").check()
    expect(warning).to_have_text(
        "This text was written as an internal note: the customer will see it if you send"
        " it as a reply."
    )
    # And it goes when the mode goes back, or when the text is cleared
    page.get_by_label("Internal note").check()
    expect(warning).to_be_hidden()
    page.locator("#reply-mode-reply").check()
    expect(warning).to_be_visible()
    page.get_by_label("Message").fill("")
    expect(warning).to_be_hidden()
    # And text written as a reply raises nothing
    page.get_by_label("Message").fill("Thanks, we are on it.")
    expect(warning).to_be_hidden()


def test_the_agents_own_later_changes_do_not_block_undoing_an_earlier_one(desk: Desk) -> None:
    ticket = _create(desk.stack, title=f"Undo mine {unique()}", priority="low")
    page = desk.open(f"#/tickets/{ticket['id']}")
    reference = ticket["reference"]
    toasts = page.locator("[data-undo-toast]")
    # When the agent raises the priority, then changes the category, then undoes the first
    page.locator("#detail-priority").select_option("critical")
    priority = toasts.filter(has_text="priority → Critical")
    expect(priority).to_be_visible(timeout=30_000)
    page.locator("#detail-category").select_option("billing")
    expect(toasts.filter(has_text="category → Billing")).to_be_visible(timeout=30_000)
    priority.get_by_role("button", name="Undo").click()
    # Then the priority is back, and the category change stays
    expect(toasts.filter(has_text=f"Undone on {reference}: priority → Low.")).to_be_visible(
        timeout=30_000
    )
    after = desk.api_get(ticket["id"])
    assert (after["priority"], after["category"]) == ("low", "billing")

    # When the agent changes the status twice and undoes the first change
    page.locator("#detail-status").select_option("in_progress")
    first = toasts.filter(has_text="status → In progress")
    expect(first).to_be_visible(timeout=30_000)
    page.locator("#detail-status").select_option("resolved")
    expect(toasts.filter(has_text="status → Resolved")).to_be_visible(timeout=30_000)
    first.get_by_role("button", name="Undo").click()
    # Then it is refused, saying why, and the newer status stays
    expect(page.locator("[data-undo-area]")).to_contain_text(
        f"Not undone on {reference}: you changed that again since"
    )
    assert desk.api_get(ticket["id"])["status"] == "resolved"


def test_a_customer_answer_appears_without_touching_the_reply_being_written(
    desk: Desk,
) -> None:
    token = unique()
    ticket = _create(desk.stack, title=f"Live {token}", customer_email=f"{token}@example.com")
    page = desk.page
    page.clock.install()
    desk.open(f"#/tickets/{ticket['id']}")
    box = page.get_by_label("Message")
    # (the conversation read, so the answer below arrives after it, not in its first read)
    expect(page.locator('[data-timeline] [data-history-action="created"]')).to_be_visible()
    expect(page.locator("[data-timeline-status]")).not_to_contain_text("Loading")
    # Given the agent is half-way through a reply
    box.fill("Thanks, I am looking into")
    box.press("End")
    # When the customer answers meanwhile, and 30 s pass
    _customer_answers(desk.stack, ticket, f"Also the invoice is wrong {token}")
    customer = page.locator('[data-message-kind="customer"]')
    expect(customer).to_have_count(0)
    page.clock.run_for(30_000)
    # Then the answer is in the timeline, said in a notice, and the reply is untouched
    expect(customer).to_contain_text(f"Also the invoice is wrong {token}")
    notice = page.locator("[data-new-message]")
    expect(notice).to_have_text("✉ New message from the customer — Show")
    expect(box).to_have_value("Thanks, I am looking into")
    expect(box).to_be_focused()
    # And "Show" takes the agent to it
    notice.get_by_role("button", name="Show").click()
    expect(customer).to_be_focused()
    expect(notice).to_be_hidden()
    # And when the timeline is rebuilt (a second answer arrives), the focus stays on it
    _customer_answers(desk.stack, ticket, f"And the address too {token}")
    page.clock.run_for(30_000)
    expect(customer).to_have_count(2)
    expect(customer.first).to_be_focused()


def test_the_same_ticket_routed_again_keeps_the_reply_box_and_the_focus(desk: Desk) -> None:
    ticket = _create(desk.stack, title=f"Routed again {unique()}")
    page = desk.open(f"#/tickets/{ticket['id']}")
    box = page.get_by_label("Message")
    # Given an internal note half-written, the cursor in the box
    page.get_by_label("Internal note").check()
    box.fill("Half a note")
    box.focus()
    # When the page is routed again to the same ticket (as a session event does)
    page.evaluate("window.dispatchEvent(new HashChangeEvent('hashchange'))")
    # Then nothing was rebuilt: the note, its mode and the focus are as they were
    expect(page.locator("[data-draft-restored]")).to_be_hidden()
    expect(box).to_have_value("Half a note")
    expect(page.get_by_label("Internal note")).to_be_checked()
    expect(box).to_be_focused()
