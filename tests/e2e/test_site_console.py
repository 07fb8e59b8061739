"""The agents' console and dashboard in a real browser: filters, changes, conflicts, outages."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Route, expect

from tests.e2e.conversation_helpers import agent_display_name
from tests.e2e.site_fixtures import (  # noqa: F401 - fixtures
    Desk,
    agent_headers,
    agent_tokens,
    desk_fixture,
    unique,
)

pytestmark = pytest.mark.browser


def test_filters_and_search_narrow_the_list(desk: Desk) -> None:
    # Given three tickets sharing a word no other ticket has
    token = unique()
    desk.api_create(title=f"Refund {token}", category="billing", priority="high")
    desk.api_create(title=f"Crash {token}", category="technical", priority="low", status="resolved")
    desk.api_create(title=f"Invoice copy {token}", category="billing", priority="low")
    page = desk.open("#/tickets")
    rows = page.locator("[data-ticket-row]")
    expect(rows.first).to_be_visible()

    # When the agent searches for the word
    page.get_by_label("Search").fill(token)
    # Then only those three are listed, newest first
    expect(rows).to_have_count(3)
    expect(rows.locator("[data-ticket-link]")).to_have_text(
        [f"Invoice copy {token}", f"Crash {token}", f"Refund {token}"]
    )
    # When they also filter by category, then by priority
    page.locator("#filter-category").select_option("billing")
    expect(rows).to_have_count(2)
    page.locator("#filter-priority").select_option("high")
    expect(rows).to_have_count(1)
    expect(rows.first.locator("[data-ticket-link]")).to_have_text(f"Refund {token}")
    # And the status filter narrows by status
    page.locator("#filter-priority").select_option("")
    page.locator("#filter-category").select_option("")
    page.locator("#filter-status").select_option("resolved")
    expect(rows).to_have_count(1)
    expect(rows.first.locator("[data-ticket-link]")).to_have_text(f"Crash {token}")

    # And the filters live in the address, so a reload keeps them
    assert f"search={token}" in page.url and "status=resolved" in page.url
    page.reload()
    expect(page.locator("#filter-status")).to_have_value("resolved")
    expect(page.get_by_label("Search")).to_have_value(token)
    expect(rows).to_have_count(1)

    # When nothing matches, the list says so
    page.locator("#filter-status").select_option("closed")
    expect(page.locator("[data-empty-notice]")).to_contain_text("No tickets match")
    expect(rows).to_have_count(0)


def test_load_more_follows_the_link_header(desk: Desk) -> None:
    # Given more matching tickets than one page holds (the site asks for 20)
    token = unique()
    for number in range(22):
        desk.api_create(title=f"Bulk {number:02d} {token}", description=f"Bulk ticket {token}")
    page = desk.open(f"#/tickets?search={token}")
    rows = page.locator("[data-ticket-row]")
    expect(rows).to_have_count(20)
    # When the agent asks for more
    page.get_by_role("button", name="Load more").click()
    # Then the rest follow, oldest last, and there is nothing more to load
    expect(rows).to_have_count(22)
    expect(rows.last.locator("[data-ticket-link]")).to_have_text(f"Bulk 00 {token}")
    expect(page.locator("[data-load-more]")).to_be_hidden()


def test_a_status_change_shows_at_once_and_persists_after_reload(desk: Desk) -> None:
    token = unique()
    ticket = desk.api_create(title=f"Printer on fire {token}", category="technical")
    page = desk.open(f"#/tickets?search={token}")
    row = page.locator(f'[data-ticket-id="{ticket["id"]}"]')
    status = row.locator('select[data-field="status"]')
    expect(status).to_have_value("open")

    # When the agent sets it to resolved, from the keyboard
    status.focus()
    status.select_option("resolved")
    # Then it says so, and the API has it
    expect(row.locator("[data-ticket-note]")).to_contain_text("Saved: status → Resolved")
    assert desk.api_get(ticket["id"])["status"] == "resolved"
    # And a reload shows the new status
    page.reload()
    expect(
        page.locator(f'[data-ticket-id="{ticket["id"]}"] select[data-field="status"]')
    ).to_have_value("resolved")
    # And the ticket's timeline lists who did what, oldest first: the customer created
    # it, the agent (by name) changed its status
    page.locator(f'[data-ticket-id="{ticket["id"]}"] [data-ticket-link]').click()
    history = page.locator("[data-timeline] [data-history-version]")
    expect(history).to_have_count(2)
    assert history.evaluate_all("items => items.map(i => i.dataset.historyVersion)") == ["1", "2"]
    changed = page.locator('[data-history-version="2"]')
    name = agent_display_name(desk.stack, desk.agent_headers, desk.agent_username)
    expect(changed).to_contain_text(f"{name} changed the ticket")
    expect(changed).to_contain_text("Status: Open → Resolved")
    expect(page.locator('[data-history-version="1"]')).to_contain_text(
        "The customer created the ticket"
    )
    expect(page.locator("#detail-status")).to_have_value("resolved")
    # And its back link returns to the list as it was filtered
    page.locator("[data-back-link]").click()
    expect(page.get_by_label("Search")).to_have_value(token)
    expect(page.locator("[data-ticket-row]")).to_have_count(1)


def test_a_concurrent_change_is_rolled_back_with_a_clear_message(desk: Desk) -> None:
    token = unique()
    ticket = desk.api_create(title=f"Contested {token}", priority="low")
    page = desk.open(f"#/tickets?search={token}")
    row = page.locator(f'[data-ticket-id="{ticket["id"]}"]')
    expect(row.locator('select[data-field="priority"]')).to_have_value("low")

    # Given someone else changes the ticket after the agent loaded it
    other = desk.api_patch(ticket["id"], {"priority": "critical"}, version=1)
    assert other.status_code == 200, other.text

    # When the agent changes its status
    ticket_url = f"{desk.stack.api_url}/tickets/{ticket['id']}/"
    reloads: list[str] = []
    page.on(
        "request",
        lambda request: (
            reloads.append(request.url)
            if request.method == "GET" and request.url == ticket_url
            else None
        ),
    )
    row.locator('select[data-field="status"]').select_option("closed")

    # Then the change is undone, the ticket shown as the 412 says it is now (no extra
    # GET: the API sends the current ticket along), and it says why
    note = row.locator("[data-ticket-note]")
    expect(note).to_contain_text("someone else changed this ticket")
    expect(row.locator('select[data-field="status"]')).to_have_value("open")
    expect(row.locator('select[data-field="priority"]')).to_have_value("critical")
    expect(page.locator("[data-announcer]")).to_contain_text("someone else changed this ticket")
    after = desk.api_get(ticket["id"])
    assert (after["status"], after["priority"], after["version"]) == ("open", "critical", 2)
    assert reloads == []

    # And the agent can make the change again on the reloaded ticket
    row.locator('select[data-field="status"]').select_option("closed")
    expect(note).to_contain_text("Saved: status → Closed")
    assert desk.api_get(ticket["id"])["status"] == "closed"


def test_a_conflict_answer_without_the_current_ticket_falls_back_to_reloading_it(
    desk: Desk,
) -> None:
    token = unique()
    ticket = desk.api_create(title=f"Older API {token}", priority="low")
    page = desk.open(f"#/tickets/{ticket['id']}")
    expect(page.locator("#detail-priority")).to_have_value("low")
    assert desk.api_patch(ticket["id"], {"priority": "high"}, version=1).status_code == 200
    ticket_url = f"{desk.stack.api_url}/tickets/{ticket['id']}/"

    # Given an API whose 412 does not carry the current ticket (as before issue 5)
    def without_current(route: Route) -> None:
        if route.request.method != "PATCH":
            route.continue_()
            return
        response = route.fetch()
        body = response.json()
        assert response.status == 412 and "current" in body, body
        del body["current"]
        route.fulfill(response=response, json=body)

    page.route(ticket_url, without_current)
    with page.expect_request(lambda request: request.method == "GET" and request.url == ticket_url):
        # When the agent changes the status
        page.locator("#detail-status").select_option("closed")
    # Then the site asks for the ticket and shows the other agent's change
    expect(page.locator("[data-ticket-note]")).to_contain_text("someone else changed this ticket")
    expect(page.locator("#detail-priority")).to_have_value("high")
    expect(page.locator("#detail-status")).to_have_value("open")


def test_the_dashboard_refreshes_when_a_ticket_changes_in_another_tab(desk: Desk) -> None:
    token = unique()
    ticket = desk.api_create(title=f"Dashboard {token}")
    dashboard = desk.open("#/dashboard")
    resolved = dashboard.locator('[data-chart="status"] [data-chart-row="resolved"] [data-count]')
    expect(resolved).to_have_attribute(
        "data-count", str(desk.api_stats()["status_breakdown"]["resolved"])
    )
    before = int(resolved.get_attribute("data-count") or "0")
    # Each figure is written out with its share of the whole, not only drawn as a bar
    expect(resolved).to_have_text(re.compile(rf"^{before} \(\d+%\)$"))

    # When the agent resolves a ticket in another tab of the same browser (once the
    # search index, written from the stream about a second later, has the ticket)
    deadline = time.monotonic() + 10
    while not desk.api_find(token):
        assert time.monotonic() < deadline, "the search never found the ticket"
        time.sleep(0.2)
    console = dashboard.context.new_page()
    console.goto(desk.stack.site_url + f"#/tickets?search={token}")
    console.locator(f'[data-ticket-id="{ticket["id"]}"] select[data-field="status"]').select_option(
        "resolved"
    )
    expect(
        console.locator(f'[data-ticket-id="{ticket["id"]}"] [data-ticket-note]')
    ).to_contain_text("Saved")

    # Then the dashboard shows it without a reload
    expect(resolved).to_have_attribute("data-count", str(before + 1))
    console.close()


def test_an_api_outage_shows_a_clear_message_not_a_blank_page(desk: Desk) -> None:
    # Given the API cannot be reached
    api_pattern = f"{desk.stack.api_url}/**"

    def refuse(route: Route) -> None:
        route.abort("connectionrefused")

    desk.page.route(api_pattern, refuse)

    # Then the console says so, and keeps its navigation
    page = desk.open("#/tickets")
    error = page.locator("[data-error-notice]")
    expect(error).to_contain_text("Could not load tickets")
    expect(error).to_contain_text("Cannot reach the support desk API")
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    # And the form keeps what the person typed
    page.get_by_role("link", name="Submit a ticket").click()
    page.get_by_label("Email").fill("still.here@example.com")
    page.get_by_label("Title").fill("Still here")
    page.get_by_label("Description").fill("The text must survive the outage.")
    page.get_by_label("Category").select_option("general")
    page.get_by_label("Priority").select_option("low")
    page.locator("[data-submit]").click()
    expect(page.locator("[data-form-error]")).to_contain_text("Your ticket was not sent")
    expect(page.get_by_label("Title")).to_have_value("Still here")
    expect(page.locator("[data-submit]")).to_be_enabled()
    # And the dashboard says so too
    page.get_by_role("link", name="Dashboard").click()
    expect(page.locator("[data-error-notice]")).to_contain_text("Could not load the dashboard")

    # When the API is back, "Try again" recovers
    page.unroute(api_pattern, refuse)
    page.get_by_role("button", name="Try again").click()
    expect(page.locator('[data-kpi="total"]')).to_be_visible()
    expect(page.locator("[data-error-notice]")).to_have_count(0)
