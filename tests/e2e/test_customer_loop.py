"""Issue 8's whole loop in a real browser, at desktop and phone width: a customer submits
with an email, gets the confirmation email, opens its private link with no agent
session, an agent replies and adds an internal note, the reply is emailed and the note
is nowhere on the customer's side, the customer answers the resolved ticket, which
reopens, and the agent sees the answer."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Response, expect

from tests.e2e.conversation_helpers import (
    CREATE_TIMEOUT_MS,
    VIEWPORTS,
    emails_to,
    public_name,
    wait_for_email,
    watch,
)
from tests.e2e.site_fixtures import (  # noqa: F401 - fixtures
    Desk,
    agent_headers,
    agent_tokens,
    desk_fixture,
    unique,
)

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_the_whole_loop_customer_agent_customer_agent(
    desk: Desk, browser: Browser, viewport: str
) -> None:
    size = VIEWPORTS[viewport]
    token = unique()
    email = f"{token}@example.com"  # one address per run: the per-address limit stays clear
    note_secret = f"internal-{unique()}"

    # Given a customer with no agent session, on the form
    customer_context = browser.new_context(viewport=size)
    customer = customer_context.new_page()
    seen = watch(customer)
    customer.goto(desk.stack.site_url + "#/new")

    # When they submit with their email
    customer.get_by_label("Email").fill(email)
    customer.get_by_label("Name (optional)").fill(f"Casey {token}")
    customer.get_by_label("Title").fill(f"Invoice wrong {token}")
    customer.get_by_label("Description").fill(f"My invoice shows the wrong amount. {token}")
    customer.get_by_role("button", name="Submit ticket").click()

    # Then the confirmation shows the reference and the private link, and no console link
    success = customer.locator("[data-submit-success]")
    expect(success).to_be_visible(timeout=CREATE_TIMEOUT_MS)
    reference = success.locator("[data-ticket-ref]")
    expect(reference).to_have_text(re.compile(r"^#\d+$"))
    number = reference.inner_text()
    ticket_id = reference.get_attribute("data-ticket-id")
    assert ticket_id and re.fullmatch(r"[a-z2-7]{24}", ticket_id)
    link = success.locator("[data-private-link]").get_attribute("href")
    assert link and f"#/my-ticket/{ticket_id}?key=" in link
    # (sending, not "emailed": the desk may hold back confirmations to one address)
    expect(success).to_contain_text(f"We are also sending this link to {email}")
    assert success.locator("a[href^='#/tickets']").count() == 0

    # And the confirmation email is in the outbox, with a link to the same ticket that
    # carries the email's own secret (opening it is what proves the address)
    confirmation = wait_for_email(desk.stack, email, lambda e: number in e["subject"])
    emailed = re.search(r"(\S+#/my-ticket/([a-z2-7]{24})\?key=([a-z2-7]+))", confirmation["text"])
    assert emailed, confirmation["text"]
    assert emailed.group(2) == ticket_id
    assert emailed.group(1) != link  # the page's secret never travels by email
    assert emailed.group(1).startswith(desk.stack.site_url)

    # When the customer opens the link in a fresh browser, with no agent session
    seen.assert_clean()
    customer_context.close()
    fresh_context = browser.new_context(viewport=size)
    page = fresh_context.new_page()
    seen = watch(page)
    public_bodies: list[str] = []

    def keep_public(response: Response) -> None:
        if "/api/public/" in response.url and response.request.method != "OPTIONS":
            public_bodies.append(response.text())

    page.on("response", keep_public)
    page.goto(emailed.group(1))
    # Then they see their ticket, open, and nothing of the console
    expect(page.locator("[data-my-ticket-title]")).to_have_text(f"Invoice wrong {token}")
    expect(page.locator("[data-my-ticket-reference]")).to_have_text(f"Ticket {number}")
    expect(page.locator("[data-my-ticket-status]")).to_have_text("Open")
    expect(page.get_by_role("link", name="Tickets")).to_have_count(0)
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    assert page.evaluate("sessionStorage.length") == 0

    # When an agent replies (resolving it) and adds an internal note
    agent = desk.page
    agent.set_viewport_size(size)
    desk.open(f"#/tickets/{ticket_id}")
    expect(agent.locator("[data-ticket-title]")).to_have_text(f"Invoice wrong {token}")
    agent.get_by_label("Message").fill(
        f"Sorry about that {token}.\nA corrected invoice is on its way."
    )
    agent.get_by_label("Then set status").select_option("resolved")
    agent.get_by_role("button", name="Send reply").click()
    reply = agent.locator('[data-message-kind="reply"]')
    expect(reply).to_have_count(1)
    expect(agent.locator("#detail-status")).to_have_value("resolved")
    agent.get_by_label("Internal note").check()
    agent.get_by_label("Message").fill(f"Customer was billed twice; {note_secret}")
    agent.get_by_role("button", name="Add internal note").click()
    expect(agent.locator('[data-message-kind="note"]')).to_contain_text(note_secret)
    # And the agent sees the reply emailed
    expect(reply.locator("[data-delivery]")).to_have_attribute(
        "data-delivery", "sent", timeout=15_000
    )
    expect(reply.locator("[data-delivery]")).to_contain_text("Emailed")

    # Then the reply email arrives, and the note is in no email to the customer
    reply_email = wait_for_email(
        desk.stack, email, lambda e: f"Sorry about that {token}" in e["text"]
    )
    assert number in reply_email["subject"]
    for sent in emails_to(desk.stack, email):
        assert note_secret not in sent["text"] and note_secret not in sent["html"], sent["subject"]

    # And the customer's page shows the reply, resolved, and nothing of the note
    page.reload()
    thread = page.locator("[data-thread]")
    support = thread.locator('[data-message-author="support"]')
    expect(support).to_have_count(1)
    expect(support.locator("[data-message-author-name]")).to_have_text(
        public_name(desk.stack, desk.agent_headers, desk.agent_username)
    )
    # Line breaks kept
    expect(support.locator("[data-message-body]")).to_have_text(
        f"Sorry about that {token}.\nA corrected invoice is on its way."
    )
    expect(page.locator("[data-my-ticket-status]")).to_have_text("Resolved")
    expect(page.locator("[data-reopen-note]")).to_contain_text("sending an answer opens it again")
    expect(page.get_by_role("heading", name="Add to your ticket")).to_be_visible()
    assert note_secret not in page.content()
    assert public_bodies and all(note_secret not in body for body in public_bodies)
    assert desk.agent_username not in page.content()

    # When the customer answers the resolved ticket
    page.get_by_label("Your message").fill(f"Thanks, but one more question {token}")
    page.get_by_role("button", name="Send").click()
    # Then it is theirs in the thread, the ticket is open again, and that is announced
    mine = thread.locator('[data-message-author="customer"]')
    expect(mine).to_have_count(1)
    expect(mine.locator("[data-message-author-name]")).to_have_text("You")
    expect(page.locator("[data-my-ticket-status]")).to_have_text("Open")
    expect(page.locator("[data-announcer]")).to_have_text(
        "Your message was sent, and your ticket is open again."
    )
    expect(page.get_by_label("Your message")).to_have_value("")
    # And the page says so where they are looking, not only to screen readers
    expect(page.locator("[data-sent-note]")).to_be_visible()
    expect(page.locator("[data-sent-note]")).to_have_text("Sent. Your ticket is open again.")
    assert note_secret not in page.content()

    # And the agent sees the customer's answer, and the ticket open again
    agent.reload()
    answer = agent.locator('[data-message-kind="customer"]')
    expect(answer).to_contain_text(f"Thanks, but one more question {token}")
    expect(agent.locator("#detail-status")).to_have_value("open")
    reopened = agent.locator('[data-history-action="reopened"]')
    expect(reopened).to_contain_text("The customer reopened the ticket")
    seen.assert_clean()
    fresh_context.close()
