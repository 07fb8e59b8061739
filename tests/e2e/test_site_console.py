"""The agents' console in a real browser: the queue, the dense list, search, inline edits
with Undo, shortcuts, the agent's place, bulk changes, CSV export, conflicts, outages."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import Download, Page, Request, Route, expect
from playwright.sync_api import Error as PlaywrightError

from tests.e2e.axe_audit import assert_accessible
from tests.e2e.conversation_helpers import agent_display_name
from tests.e2e.site_fixtures import (  # noqa: F401 - fixtures
    Desk,
    agent_headers,
    agent_tokens,
    desk_fixture,
    unique,
)

pytestmark = pytest.mark.browser

ROWS = "[data-ticket-row]"
PRIORITY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3}
CSV_COLUMNS = [
    "id",
    "number",
    "title",
    "description",
    "category",
    "priority",
    "status",
    "created_at",
    "updated_at",
    "customer_name",
    "customer_email",
    "assignee",
    "suggested_category",
    "suggested_priority",
    "classification_source",
    "suggested_confidence",
    "waiting_on",
    "last_message_at",
    "message_count",
    "version",
    "assignee_name",
    "first_reply_at",
]


# ---- Helpers ----


def eventually(check: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    """Wait until ``check()`` is true (for state behind the API, which expect() cannot see)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


# The machine is shared and busy: API calls from the tests get more than the shared
# fixtures' 10 s, and a create is retried with its Idempotency-Key (never made twice).
API_TIMEOUT = 30
# moto copies the table for every item of a transaction: a bulk request of 10 tickets
# takes several seconds here (8 s measured on a busy machine), far longer than on DynamoDB.
BULK_TIMEOUT_MS = 60_000
# A single change is one transaction; still seconds when the machine is busy.
SAVE_TIMEOUT_MS = 30_000


def create(desk: Desk, **fields: Any) -> dict[str, Any]:
    """A ticket created through the public API (like ``Desk.api_create``)."""
    # A short description: every word is indexed with its prefixes, and moto's writes
    # slow down with every item the table holds.
    body = {"title": f"Ticket {unique()}", "description": "Test.", **fields}
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    for attempt in range(3):
        try:
            response = requests.post(
                f"{desk.stack.api_url}/tickets/", json=body, headers=headers, timeout=API_TIMEOUT
            )
        except requests.Timeout:
            if attempt == 2:
                raise
            continue
        assert response.status_code == 201, response.text
        ticket: dict[str, Any] = response.json()
        return ticket
    raise AssertionError("unreachable")


def get(desk: Desk, ticket_id: str) -> dict[str, Any]:
    response = requests.get(
        f"{desk.stack.api_url}/tickets/{ticket_id}/",
        headers=desk.agent_headers,
        timeout=API_TIMEOUT,
    )
    assert response.status_code == 200, response.text
    ticket: dict[str, Any] = response.json()
    return ticket


def find(desk: Desk, text: str) -> list[dict[str, Any]]:
    """Every ticket the API's search finds for ``text``."""
    found: list[dict[str, Any]] = []
    url: str | None = f"{desk.stack.api_url}/tickets/?search={text}&limit=100"
    while url:
        response = requests.get(url, headers=desk.agent_headers, timeout=API_TIMEOUT)
        assert response.status_code == 200, response.text
        found.extend(response.json())
        url = response.links.get("next", {}).get("url")
        if url and url.startswith("/"):
            url = desk.stack.api_url.removesuffix("/api") + url
    return found


def wait_indexed(desk: Desk, token: str, count: int) -> None:
    """The search index is kept from the table's stream (findable within ~2 s): wait for it."""
    eventually(lambda: len(find(desk, token)) == count, f"{count} tickets indexed for {token}", 20)


def create_many(
    desk: Desk, token: str, count: int, prefix: str, **fields: Any
) -> list[dict[str, Any]]:
    """``count`` tickets titled "<prefix> 00 <token>"…, oldest first, all findable."""
    tickets = [
        create(desk, title=f"{prefix} {number:02d} {token}", **fields) for number in range(count)
    ]
    wait_indexed(desk, token, count)
    return tickets


def patched(desk: Desk, ticket: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``changes`` made through the API as of the ticket's version; the ticket after."""
    response = requests.patch(
        f"{desk.stack.api_url}/tickets/{ticket['id']}/",
        json=changes,
        headers={**desk.agent_headers, "If-Match": f'"v{ticket["version"]}"'},
        timeout=API_TIMEOUT,
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def api_requests(page: Page, api_url: str, method: str, path: str) -> list[Request]:
    """Every ``method`` request the page sends to the API ``path`` from now on."""
    seen: list[Request] = []
    prefix = f"{api_url}{path}"

    def on_request(request: Request) -> None:
        if request.method == method and request.url.split("?", 1)[0] == prefix:
            seen.append(request)

    page.on("request", on_request)
    return seen


def titles(page: Page) -> Any:
    return page.locator(f"{ROWS} [data-ticket-link]")


def exact_time_shown(page: Page, selector: str) -> str:
    """The tooltip text (CSS ``::after``) of a relative time, "none" when not shown."""
    return str(page.locator(selector).evaluate("el => getComputedStyle(el, '::after').content"))


# ---- Bulk changes ----
# First: the tests that write most run while moto's table is small (its transactions copy
# the whole table, search postings included, so every write gets slower as it grows).


def test_a_bulk_status_change_shows_progress_lists_a_conflict_and_retries_it(desk: Desk) -> None:
    token = unique()
    tickets = create_many(desk, token, 25, "Bulk")
    page = desk.open(f"#/tickets?search={token}&sort=oldest")
    rows = page.locator(ROWS)
    expect(rows).to_have_count(25)
    count = page.locator("[data-selected-count]")

    # When the agent selects a range with a shift-click, then everything shown
    rows.nth(2).locator("[data-select-ticket]").click()
    rows.nth(11).locator("[data-select-ticket]").click(modifiers=["Shift"])
    expect(count).to_have_text("10 selected")
    expect(page.locator("[data-select-ticket]:checked")).to_have_count(10)
    page.locator("[data-select-all]").check()
    expect(count).to_have_text("25 selected")

    # Given someone else changes one of them meanwhile
    victim = tickets[13]
    patched(desk, victim, {"priority": "high"})

    # When they set the status of all of them, the second chunk held back for a while
    sent: list[list[dict[str, Any]]] = []
    held: list[Route] = []

    def hold_second(route: Route) -> None:
        if route.request.method != "POST":  # the CORS preflight
            route.continue_()
            return
        sent.append(json.loads(route.request.post_data or "{}")["items"])
        if len(sent) == 2:
            held.append(route)
        else:
            route.continue_()

    bulk_url = f"{desk.stack.api_url}/tickets/bulk/"
    page.route(bulk_url, hold_second)
    page.locator("#bulk-status").select_option("resolved")
    page.locator("[data-bulk-apply]").click()
    # Then a progress bar shows how far it has got
    progress = page.locator("[data-bulk-progress]")
    expect(progress).to_have_attribute("role", "progressbar")
    expect(progress).to_have_attribute("aria-valuemax", "25")
    # (moto takes seconds for a batch of 10 on this machine)
    expect(progress).to_have_attribute("aria-valuenow", "10", timeout=BULK_TIMEOUT_MS)
    expect(page.locator("[data-bulk-progress-text]")).to_have_text("10 of 25 done")
    eventually(lambda: bool(held), "the second chunk")
    expect(progress).to_have_attribute("aria-valuenow", "10")
    held[0].continue_()
    expect(progress).to_have_attribute("aria-valuenow", "25", timeout=BULK_TIMEOUT_MS)
    page.unroute(bulk_url, hold_second)
    # And it went in chunks of 10, each ticket conditional on the version the agent saw
    assert [len(chunk) for chunk in sent] == [10, 10, 5]
    items = [item for chunk in sent for item in chunk]
    assert [item["id"] for item in items] == [ticket["id"] for ticket in tickets]
    assert {item["version"] for item in items} == {1}
    assert all(item["changes"] == {"status": "resolved"} for item in items)

    # And the one changed by someone else is listed with the reason, the others changed
    report = page.locator("[data-bulk-report]")
    expect(report.locator("[data-bulk-report-heading]")).to_have_text(
        "24 of 25 changed, 1 not changed"
    )
    failed = report.locator('[data-bulk-outcome="failed"]')
    expect(failed).to_have_count(1)
    expect(failed).to_have_attribute("data-ticket-id", victim["id"])
    expect(failed).to_contain_text(f"#{victim['number']}")
    expect(failed).to_contain_text("someone else changed this ticket", timeout=SAVE_TIMEOUT_MS)
    expect(report.locator('[data-bulk-outcome="changed"]')).to_have_count(24)
    # And the list shows the other agent's change; only the failed ticket stays selected
    victim_row = page.locator(f'[data-ticket-id="{victim["id"]}"]')
    expect(victim_row.locator('select[data-field="priority"]')).to_have_value("high")
    expect(victim_row.locator('select[data-field="status"]')).to_have_value("open")
    expect(count).to_have_text("1 selected")
    statuses = [get(desk, ticket["id"])["status"] for ticket in tickets]
    assert statuses.count("resolved") == 24 and get(desk, victim["id"])["status"] == "open"

    # When they retry the failed one
    retries: list[dict[str, Any]] = []
    page.on(
        "request",
        lambda request: (
            retries.extend(json.loads(request.post_data or "{}")["items"])
            if request.method == "POST" and request.url == bulk_url
            else None
        ),
    )
    report.locator("[data-bulk-retry]").click()
    # Then it is changed, with the version its 412 carried, keeping the other change
    expect(report.locator("[data-bulk-report-heading]")).to_have_text(
        "1 of 1 changed", timeout=BULK_TIMEOUT_MS
    )
    assert retries == [{"id": victim["id"], "version": 2, "changes": {"status": "resolved"}}]
    after = get(desk, victim["id"])
    assert (after["status"], after["priority"], after["version"]) == ("resolved", "high", 3)
    expect(victim_row.locator('select[data-field="status"]')).to_have_value("resolved")
    expect(page.locator("[data-bulk-bar]")).to_be_hidden()


# ---- Keeping the agent's place ----


def test_back_from_a_ticket_restores_the_loaded_pages_scroll_and_focus(desk: Desk) -> None:
    # Given more tickets than one page holds (the site asks for 25)
    token = unique()
    tickets = create_many(desk, token, 27, "Place")
    page = desk.page
    page.set_viewport_size({"width": 1280, "height": 900})
    route = f"#/tickets?search={token}&sort=oldest"
    page = desk.open(route)
    rows = page.locator(ROWS)
    expect(rows).to_have_count(25)
    # When the agent loads the second page (following the Link header)
    page.get_by_role("button", name="Load more").click()
    expect(rows).to_have_count(27)
    expect(titles(page).last).to_have_text(tickets[26]["title"])
    expect(page.locator("[data-load-more]")).to_be_hidden()
    # And opens a ticket far down the list
    target = rows.nth(25).locator("[data-ticket-link]")
    target.scroll_into_view_if_needed()
    scroll = page.evaluate("window.scrollY")
    assert scroll > 300
    lists = api_requests(page, desk.stack.api_url, "GET", "/tickets/")
    target.click()
    expect(page.locator("[data-ticket-title]")).to_have_text(tickets[25]["title"])

    # When they go back
    page.go_back()
    # Then both pages are there, at the same scroll position, the ticket's row focused
    expect(rows).to_have_count(27)
    expect(target).to_be_focused()
    eventually(lambda: abs(page.evaluate("window.scrollY") - scroll) <= 2, "the scroll position")
    # And the list was brought up to date in one request for all 27 tickets
    eventually(lambda: len(lists) == 1, "the refresh")
    assert "limit=27" in lists[0].url
    expect(rows).to_have_count(27)

    # When they open another ticket and come back through the header's Tickets link
    rows.nth(24).locator("[data-ticket-link]").click()
    expect(page.locator("[data-ticket-title]")).to_have_text(tickets[24]["title"])
    tickets_link = page.get_by_role("navigation", name="Main").get_by_role("link", name="Tickets")
    expect(tickets_link).to_have_attribute("href", route)
    tickets_link.click()
    # Then it is the same view, with its pages and the row focused
    expect(page.get_by_label("Search")).to_have_value(token)
    expect(page.locator("#filter-sort")).to_have_value("oldest")
    expect(rows).to_have_count(27)
    expect(rows.nth(24).locator("[data-ticket-link]")).to_be_focused()


# ---- The dense list, and accessibility ----


def test_a_dense_list_fits_twelve_rows_and_phones_get_cards(desk: Desk) -> None:
    page = desk.page
    page.set_viewport_size({"width": 1280, "height": 900})
    # Given at least 13 unsolved tickets
    first = requests.get(
        f"{desk.stack.api_url}/tickets/?status=unsolved&limit=13",
        headers=desk.agent_headers,
        timeout=API_TIMEOUT,
    )
    missing = 13 - len(first.json())
    token = unique()
    ticket = create(
        desk,
        title=f"Dense {token}",
        description="Too many tickets to scroll through.",
        customer_name="Ada Lovelace",
        customer_email="ada@example.com",
    )
    for _ in range(max(0, missing - 1)):
        create(desk, title=f"Filler {unique()}")
    ticket = patched(desk, ticket, {"assignee": desk.agent_username})
    wait_indexed(desk, token, 1)

    # When the agent opens the console at 1280x900
    page = desk.open("#/tickets")
    expect(page.locator(ROWS).nth(12)).to_be_attached()
    # Then at least 12 rows are entirely on screen
    visible = page.locator(ROWS).evaluate_all(
        "rows => rows.filter(r => { const b = r.getBoundingClientRect();"
        " return b.top >= 0 && b.bottom <= window.innerHeight; }).length"
    )
    assert visible >= 12, visible
    # And the column names stay in view when the list scrolls (on a short window)
    page.set_viewport_size({"width": 1280, "height": 500})
    page.evaluate("window.scrollTo(0, 400)")
    assert page.evaluate("window.scrollY") >= 300
    header_top = page.locator(".queue thead th").first.evaluate(
        "th => th.getBoundingClientRect().top"
    )
    assert abs(header_top) <= 1, header_top
    page.evaluate("window.scrollTo(0, 0)")
    page.set_viewport_size({"width": 1280, "height": 900})

    # And a row shows the number, title, requester, status as a coloured pill with its
    # text, priority once, assignee, who it waits on, and created/updated times
    page.get_by_label("Search").fill(token)
    expect(page.locator(ROWS)).to_have_count(1)
    row = page.locator(ROWS).first
    number = row.locator("[data-ticket-number]")
    expect(number).to_have_text(f"#{ticket['number']}")
    expect(number).to_have_attribute("href", f"#/tickets/{ticket['id']}")
    expect(row.locator("[data-ticket-link]")).to_have_text(f"Dense {token}")
    expect(row.locator("[data-requester]")).to_have_text("Ada Lovelace")
    expect(row.locator("[data-assignee]")).to_have_text(ticket["assignee_name"] or "")
    expect(row.locator("[data-waiting-on]")).to_have_text(
        {"agent": "Agent", "customer": "Customer"}.get(ticket["waiting_on"], "—")
    )
    status = row.locator('select[data-field="status"]')
    assert status.evaluate("s => s.options[s.selectedIndex].text") == "Open"
    colours = status.evaluate(
        "s => [getComputedStyle(s).backgroundColor, getComputedStyle(s).borderRadius]"
    )
    assert colours[0] not in ("rgb(255, 255, 255)", "rgba(0, 0, 0, 0)"), colours
    assert row.locator('[data-field="priority"]').count() == 1
    assert row.locator("[data-priority-badge]").count() == 0
    # "AI unsure" marks a low-confidence classification, and only that
    unsure = row.locator("[data-ai-unsure]")
    if ticket["suggested_confidence"] == "low":
        expect(unsure).to_have_text("AI unsure")
    else:
        expect(unsure).to_be_hidden()
    # The relative time shows the exact time on hover and on keyboard focus
    created = f'[data-ticket-id="{ticket["id"]}"] [data-created] time'
    assert exact_time_shown(page, created) == "none"
    page.locator(created).hover()
    assert exact_time_shown(page, created).startswith('"Created ')
    page.mouse.move(0, 0)
    assert exact_time_shown(page, created) == "none"
    page.locator(created).focus()
    assert exact_time_shown(page, created).startswith('"Created ')
    expect(page.locator(created)).to_have_attribute("datetime", ticket["created_at"])

    # When the same list is seen on a phone
    page.set_viewport_size({"width": 390, "height": 844})
    # Then each ticket is a card with nothing wider than the screen
    expect(row).to_have_css("display", "flex")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    box = row.bounding_box()
    assert box is not None and box["width"] <= 390
    expect(row.locator("[data-ticket-link]")).to_be_visible()
    expect(row.locator("[data-requester]")).to_contain_text("Ada Lovelace")


@pytest.mark.browser_context_args(bypass_csp=True)
def test_the_list_with_a_selection_and_the_bulk_bar_has_no_axe_violations(desk: Desk) -> None:
    # Given a list with two tickets selected and the bulk bar open (axe is injected,
    # hence a context that bypasses the CSP)
    token = unique()
    create_many(desk, token, 3, "Accessible", priority="high")
    page = desk.page
    page.set_viewport_size({"width": 1280, "height": 900})
    page = desk.open(f"#/tickets?search={token}&sort=oldest")
    rows = page.locator(ROWS)
    expect(rows).to_have_count(3)
    rows.nth(0).locator("[data-select-ticket]").check()
    rows.nth(2).locator("[data-select-ticket]").check()
    expect(page.locator("[data-bulk-bar]")).to_be_visible()
    # Then axe finds nothing at desktop width
    assert_accessible(page)
    # Nor with a bulk change's report on screen, on a phone
    page.locator("#bulk-priority").select_option("critical")
    page.locator("[data-bulk-apply]").click()
    expect(page.locator("[data-bulk-report-heading]")).to_have_text(
        "2 of 2 changed", timeout=BULK_TIMEOUT_MS
    )
    rows.nth(1).locator("[data-select-ticket]").check()
    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.locator("[data-bulk-bar]")).to_be_visible()
    assert_accessible(page)


def test_ticking_the_first_box_moves_nothing_on_screen(desk: Desk) -> None:
    token = unique()
    create_many(desk, token, 2, "Steady", priority="high")
    page = desk.page
    rows = page.locator(ROWS)
    select_all = page.locator("[data-select-all]")
    bar = page.locator("[data-bulk-bar]")
    for width, height in ((1280, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        desk.open(f"#/tickets?search={token}&sort=oldest")
        expect(rows).to_have_count(2)
        expect(bar).to_be_hidden()
        before = [rows.nth(1).bounding_box(), select_all.bounding_box()]
        # When the agent ticks the first box, the bar appears
        rows.nth(0).locator("[data-select-ticket]").check()
        expect(bar).to_be_visible()
        expect(page.locator("[data-selected-count]")).to_have_text("1 selected")
        # Then the next row and "select all" are exactly where they were
        assert [rows.nth(1).bounding_box(), select_all.bounding_box()] == before, width
        # And "Set assignee" already offers the agents, before it is first opened
        expect(page.locator(f"#bulk-assignee option[value='{desk.agent_username}']")).to_have_count(
            1
        )
        # And the hidden bar could not be reached with the keyboard or a click
        page.locator("[data-clear-selection]").click()
        expect(bar).to_be_hidden()
        assert bar.evaluate("b => b.inert") is True


def test_an_empty_unsolved_search_offers_every_status_in_one_click(desk: Desk) -> None:
    token = unique()
    (ticket,) = create_many(desk, token, 1, "Solved long ago")
    patched(desk, ticket, {"status": "resolved"})
    page = desk.open("#/tickets")
    expect(page.locator("#filter-status")).to_have_value("unsolved")
    # When the agent searches the default view for a ticket that is already resolved
    page.get_by_label("Search").fill(token)
    notice = page.locator("[data-empty-notice]")
    expect(notice).to_contain_text(f"No unsolved tickets match “{token}”.")
    # Then one click searches every status, and finds it
    notice.get_by_role("button", name="Search all statuses").click()
    expect(page.locator(ROWS)).to_have_count(1)
    expect(page.locator(ROWS).first.locator("[data-ticket-link]")).to_have_text(
        f"Solved long ago 00 {token}"
    )
    expect(page.locator("#filter-status")).to_have_value("")
    expect(page.get_by_label("Search")).to_be_focused()
    assert "status=" not in page.url and f"search={token}" in page.url


_SET_VISIBILITY = """state => {
  Object.defineProperty(document, "visibilityState", { value: state, configurable: true });
  document.dispatchEvent(new Event("visibilitychange"));
}"""


def test_new_tickets_are_offered_every_30_s_while_the_tab_is_visible(desk: Desk) -> None:
    token = unique()
    create_many(desk, token, 1, "First")
    page = desk.page
    page.clock.install()
    desk.open(f"#/tickets?search={token}")
    rows = page.locator(ROWS)
    expect(rows).to_have_count(1)
    bar = page.locator("[data-new-tickets]")
    top_row = rows.first.bounding_box()
    # Given another ticket arrives
    create(desk, title=f"Second {token}")
    wait_indexed(desk, token, 2)
    # When 30 s pass, the list offers it without moving a row
    page.clock.run_for(30_000)
    expect(bar).to_have_text("1 new ticket — Show")
    expect(rows).to_have_count(1)
    assert rows.first.bounding_box() == top_row
    # And "Show" brings it in
    bar.get_by_role("button", name="Show").click()
    expect(rows).to_have_count(2)
    expect(bar).to_be_hidden()

    # When the tab is hidden, nothing is asked for, however long
    lists = api_requests(page, desk.stack.api_url, "GET", "/tickets/")
    page.evaluate(_SET_VISIBILITY, "hidden")
    create(desk, title=f"Third {token}")
    wait_indexed(desk, token, 3)
    page.clock.run_for(90_000)
    assert lists == []
    # And coming back checks at once (a check was due)
    page.evaluate(_SET_VISIBILITY, "visible")
    expect(bar).to_have_text("1 new ticket — Show")
    assert len(lists) == 1
    expect(rows).to_have_count(2)


# ---- The queue: the default view, filters, assignee views, saved views, the address ----


def test_the_default_view_is_unsolved_tickets_critical_first_then_oldest(desk: Desk) -> None:
    # Given tickets of every priority, one of them solved and one in progress
    token = unique()
    low = create(desk, title=f"Low oldest {token}", priority="low")
    critical_old = create(desk, title=f"Critical older {token}", priority="critical")
    high = create(desk, title=f"High {token}", priority="high")
    critical_new = create(desk, title=f"Critical newer {token}", priority="critical")
    solved = create(desk, title=f"Critical but solved {token}", priority="critical")
    medium = create(desk, title=f"Medium in progress {token}", priority="medium")
    patched(desk, solved, {"status": "resolved"})
    patched(desk, medium, {"status": "in_progress"})
    wait_indexed(desk, token, 6)

    # When the agent opens the console with no filters in the address
    page = desk.open("#/tickets")
    # Then it is the "Unsolved, by priority" view, said in the address and the controls
    expect(page).to_have_url(re.compile(r"#/tickets\?status=unsolved&sort=priority$"))
    expect(page.locator("#filter-status")).to_have_value("unsolved")
    expect(page.locator("#filter-sort")).to_have_value("priority")
    expect(page.locator('[data-built-in-view="unsolved"]')).to_have_attribute(
        "aria-current", "page"
    )
    # And the whole list is unsolved, critical first, then oldest first within a priority
    expect(page.locator(ROWS).first).to_be_visible()
    shown = page.locator(ROWS).evaluate_all(
        "rows => rows.map(r => [r.dataset.status, r.dataset.priority])"
    )
    assert {status for status, _ in shown} <= {"open", "in_progress"}
    ranks = [PRIORITY_RANK[priority] for _, priority in shown]
    assert ranks == sorted(ranks), shown

    # When they search within the view
    page.get_by_label("Search").fill(token)
    expect(page).to_have_url(
        re.compile(rf"#/tickets\?status=unsolved&search={token}&sort=priority$")
    )
    # Then their tickets come in that order, the solved one left out
    expect(titles(page)).to_have_text(
        [critical_old["title"], critical_new["title"], high["title"], medium["title"], low["title"]]
    )


def test_filters_sort_and_search_narrow_the_list_and_live_in_the_address(desk: Desk) -> None:
    # Given three tickets sharing a word no other ticket has
    token = unique()
    refund = create(desk, title=f"Refund {token}", category="billing", priority="high")
    crash = create(desk, title=f"Crash {token}", category="technical", priority="low")
    invoice = create(desk, title=f"Invoice copy {token}", category="billing", priority="low")
    patched(desk, crash, {"status": "resolved"})
    wait_indexed(desk, token, 3)
    page = desk.open(f"#/tickets?search={token}")
    rows = page.locator(ROWS)

    # Then an address with only a search shows every status, newest first
    expect(page.locator("#filter-status")).to_have_value("")
    expect(titles(page)).to_have_text([invoice["title"], crash["title"], refund["title"]])
    # When they sort oldest first, then filter by category and priority
    page.locator("#filter-sort").select_option("oldest")
    expect(titles(page)).to_have_text([refund["title"], crash["title"], invoice["title"]])
    page.locator("#filter-category").select_option("billing")
    expect(rows).to_have_count(2)
    page.locator("#filter-priority").select_option("high")
    expect(titles(page)).to_have_text([refund["title"]])
    # And "Unsolved" leaves the resolved one out, a status picks it alone
    page.locator("#filter-priority").select_option("")
    page.locator("#filter-category").select_option("")
    page.locator("#filter-status").select_option("unsolved")
    expect(titles(page)).to_have_text([refund["title"], invoice["title"]])
    page.locator("#filter-status").select_option("resolved")
    expect(titles(page)).to_have_text([crash["title"]])

    # And everything lives in the address, so a reload keeps it
    assert f"search={token}" in page.url
    assert "status=resolved" in page.url and "sort=oldest" in page.url
    page.reload()
    expect(page.locator("#filter-status")).to_have_value("resolved")
    expect(page.locator("#filter-sort")).to_have_value("oldest")
    expect(page.get_by_label("Search")).to_have_value(token)
    expect(rows).to_have_count(1)

    # When nothing matches, the list says so
    page.locator("#filter-status").select_option("closed")
    expect(page.locator("[data-empty-notice]")).to_contain_text("No tickets match")
    expect(rows).to_have_count(0)


def test_mine_lists_what_is_assigned_to_me_and_unassigned_the_rest(desk: Desk) -> None:
    # Given two tickets, one of them assigned to the demo agent through the API
    token = unique()
    mine = create(desk, title=f"Mine {token}", priority="critical")
    nobodys = create(desk, title=f"Nobody's {token}", priority="critical")
    wait_indexed(desk, token, 2)
    assigned = patched(desk, mine, {"assignee": desk.agent_username})
    assert assigned["assignee"] == desk.agent_username

    page = desk.open(f"#/tickets?search={token}")
    # Then the list says who has each
    expect(page.locator(f'[data-ticket-id="{mine["id"]}"] [data-assignee]')).to_have_text(
        assigned["assignee_name"] or desk.agent_username
    )
    expect(page.locator(f'[data-ticket-id="{nobodys["id"]}"] [data-assignee]')).to_have_text(
        "Unassigned"
    )
    # When they choose "Mine" in the assignee filter
    page.locator("#filter-assignee").select_option("me")
    expect(titles(page)).to_have_text([mine["title"]])
    assert "assignee=me" in page.url
    # And "Unassigned"
    page.locator("#filter-assignee").select_option("none")
    expect(titles(page)).to_have_text([nobodys["title"]])
    # And the agent by name, from GET /api/agents/ (read when the control is used)
    page.locator("#filter-assignee").focus()
    page.locator("#filter-assignee").select_option(desk.agent_username)
    expect(titles(page)).to_have_text([mine["title"]])

    # When they open the built-in "Mine" view
    page.locator('[data-built-in-view="mine"]').click()
    expect(page).to_have_url(re.compile(r"status=unsolved&assignee=me&sort=priority$"))
    expect(page.locator('[data-built-in-view="mine"]')).to_have_attribute("aria-current", "page")
    expect(page.locator(f'[data-ticket-id="{mine["id"]}"]')).to_be_visible()
    expect(page.locator(f'[data-ticket-id="{nobodys["id"]}"]')).to_have_count(0)
    # And the "Unassigned" view
    page.locator('[data-built-in-view="unassigned"]').click()
    page.get_by_label("Search").fill(token)
    expect(titles(page)).to_have_text([nobodys["title"]])


def test_a_saved_view_is_kept_in_the_browser_applied_and_deleted(desk: Desk) -> None:
    page = desk.open("#/tickets?status=open&priority=high&sort=oldest")
    expect(page.locator("#filter-priority")).to_have_value("high")

    # When the agent saves the view under a name
    page.locator("[data-save-view]").click()
    expect(page.get_by_label("Name this view")).to_be_focused()
    page.get_by_label("Name this view").fill("Urgent, oldest")
    page.get_by_label("Name this view").press("Enter")
    saved = page.locator('[data-saved-view="Urgent, oldest"]')
    # Then it is listed, marked as the view shown, and kept in localStorage
    expect(saved).to_have_attribute("aria-current", "page")
    expect(page.locator("[data-views-message]")).to_have_text("Saved the view “Urgent, oldest”.")
    stored = json.loads(page.evaluate("localStorage.getItem('support-desk.saved-views')"))
    assert stored == [
        {
            "name": "Urgent, oldest",
            "query": {
                "category": "",
                "priority": "high",
                "status": "open",
                "assignee": "",
                "search": "",
                "sort": "oldest",
            },
        }
    ]

    # When they go elsewhere and come back through the saved view, after a reload
    page.locator('[data-built-in-view="all"]').click()
    expect(page.locator("#filter-priority")).to_have_value("")
    page.reload()
    page.locator('[data-saved-view="Urgent, oldest"]').click()
    # Then its filters and sort are back, in the controls and the address
    expect(page.locator("#filter-status")).to_have_value("open")
    expect(page.locator("#filter-priority")).to_have_value("high")
    expect(page.locator("#filter-sort")).to_have_value("oldest")
    assert page.url.endswith("#/tickets?priority=high&status=open&sort=oldest")

    # When they delete it
    page.get_by_role("button", name="Delete the view “Urgent, oldest”").click()
    expect(saved).to_have_count(0)
    assert page.evaluate("localStorage.getItem('support-desk.saved-views')") == "[]"


def test_a_bad_query_in_the_address_is_explained_and_the_field_reset(desk: Desk) -> None:
    token = unique()
    create(desk, title=f"Address bar {token}")
    wait_indexed(desk, token, 1)

    # When the address asks for a status that does not exist
    page = desk.open(f"#/tickets?status=bogus&search={token}")
    notice = page.locator("[data-address-notice]")
    # Then a person's sentence says so, the status is reset and the list still works
    expect(notice).to_contain_text("status “bogus”, which does not exist")
    expect(page.locator("#filter-status")).to_have_value("")
    expect(page.locator(ROWS)).to_have_count(1)
    expect(page).not_to_have_url(re.compile("bogus"))
    expect(page.locator("[data-error-notice]")).to_have_count(0)

    # When the address holds a search of 201 characters
    page.goto(desk.stack.site_url + "#/tickets?search=" + "a" * 201)
    expect(notice).to_contain_text("at most 200 characters")
    expect(page.get_by_label("Search")).to_have_value("")
    expect(page).not_to_have_url(re.compile("search="))
    expect(page.locator("[data-error-notice]")).to_have_count(0)

    # When it names an assignee who is not an agent (only the API can tell)
    page.goto(desk.stack.site_url + f"#/tickets?assignee=nobody@example.com&search={token}")
    expect(notice).to_contain_text("“nobody@example.com” is not an agent of this desk")
    expect(page.locator("#filter-assignee")).to_have_value("")
    expect(page.locator(ROWS)).to_have_count(1)
    expect(page).not_to_have_url(re.compile("assignee="))
    expect(page.locator("[data-error-notice]")).to_have_count(0)

    # And a search typed with no letter or digit is not sent, and says why
    lists = api_requests(page, desk.stack.api_url, "GET", "/tickets/")
    page.get_by_label("Search").fill("!!!")
    expect(page.locator("[data-search-hint]")).to_have_text(
        "Not searched: a search needs at least one letter or digit."
    )
    page.wait_for_timeout(600)
    assert lists == []


# ---- Search ----


def test_ticket_numbers_in_the_search_and_the_header_jump_box(desk: Desk) -> None:
    token = unique()
    wanted = create(desk, title=f"Numbered {token}")
    other = create(desk, title=f"Other {token}")
    wait_indexed(desk, token, 2)
    page = desk.open(f"#/tickets?search={token}")
    expect(page.locator(ROWS)).to_have_count(2)
    search = page.get_by_label("Search")

    # When the agent searches for "#<number>" and presses Enter
    search.fill(f"#{wanted['number']}")
    search.press("Enter")
    # Then the ticket opens
    expect(page).to_have_url(re.compile(f"#/tickets/{wanted['id']}$"))
    expect(page.locator("[data-ticket-title]")).to_have_text(wanted["title"])
    # And Back shows the list searched for that number, the ticket alone
    page.go_back()
    expect(search).to_have_value(f"#{wanted['number']}")
    expect(titles(page)).to_have_text([wanted["title"]])
    # And a bare number lists that ticket first
    search.fill(str(other["number"]))
    expect(titles(page).first).to_have_text(other["title"])

    # When they type a number into the header's jump box
    jump = page.locator("[data-jump-input]")
    for typed, ticket in [
        (f"#{wanted['number']}", wanted),
        (str(other["number"]), other),
        (f"#{wanted['id'][:8]}", wanted),
    ]:
        jump.fill(typed)
        jump.press("Enter")
        # Then that ticket opens
        expect(page).to_have_url(re.compile(f"#/tickets/{ticket['id']}$"))
        expect(page.locator("[data-ticket-title]")).to_have_text(ticket["title"])
        expect(jump).to_have_value("")

    # And a number no ticket has says so, and stays where it is
    here = page.url
    jump.fill("#99999999")
    jump.press("Enter")
    expect(page.locator("[data-jump-message]")).to_have_text("There is no ticket #99999999.")
    assert page.url == here
    jump.fill("printer")
    jump.press("Enter")
    expect(page.locator("[data-jump-message]")).to_have_text("Type a ticket number such as #1042.")
    # And so does the list's search
    page.goto(desk.stack.site_url + f"#/tickets?search={token}")
    search.fill("#99999999")
    search.press("Enter")
    expect(page.locator("[data-search-hint]")).to_have_text("There is no ticket #99999999.")
    expect(page).to_have_url(re.compile(r"#/tickets\?"))


def test_search_highlights_matched_words_as_text_never_markup(desk: Desk) -> None:
    token = unique()
    title = f'<img src=x onerror="window.__xss=1"> Refund {token} <b>now</b>'
    description = (
        "Filler words to push the match away from the start of the description. " * 3
        + f"The refund <script>window.__xss=2</script> for {token} never arrived."
    )
    ticket = create(desk, title=title, description=description)
    wait_indexed(desk, token, 1)
    page = desk.open("#/tickets?sort=newest")

    # When the agent searches with words that are also markup
    page.get_by_label("Search").fill(f"<img> refu {token}")
    row = page.locator(f'[data-ticket-id="{ticket["id"]}"]')
    expect(page.locator(ROWS)).to_have_count(1)
    # Then the matched words are marked, and the title is the literal text
    link = row.locator("[data-ticket-link]")
    expect(link.locator("mark")).to_have_text(["img", "Refund", token])
    expect(link).to_have_text(title)
    # And the description's excerpt around the match is marked too, as text
    excerpt = row.locator("[data-ticket-description]")
    expect(excerpt).to_contain_text("<script>window.__xss=2</script>")
    expect(excerpt.locator("mark")).to_have_text(["refund", token])
    # And nothing was injected
    assert row.locator("img, b, script").count() == 0
    assert page.evaluate("window.__xss") is None
    # And without a search there is no excerpt and nothing marked
    page.get_by_label("Search").fill("")
    expect(page.locator(f"{ROWS} mark")).to_have_count(0)
    expect(page.locator(f"{ROWS} [data-ticket-description]:visible")).to_have_count(0)


# ---- Inline edits: no accidental saves, and Undo ----


def test_a_status_change_saves_at_once_and_persists_after_reload(desk: Desk) -> None:
    token = unique()
    ticket = create(desk, title=f"Printer on fire {token}", category="technical")
    wait_indexed(desk, token, 1)
    page = desk.open(f"#/tickets?search={token}")
    row = page.locator(f'[data-ticket-id="{ticket["id"]}"]')
    status = row.locator('select[data-field="status"]')
    expect(status).to_have_value("open")

    # When the agent picks "Resolved" from the list of the select
    status.select_option("resolved")
    # Then it is saved at once, and the API has it
    expect(row.locator("[data-ticket-note]")).to_contain_text(
        "Saved: status → Resolved", timeout=SAVE_TIMEOUT_MS
    )
    eventually(lambda: get(desk, ticket["id"])["status"] == "resolved", "the saved status")
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
    # And its back link returns to the list as it was filtered
    page.locator("[data-back-link]").click()
    expect(page.get_by_label("Search")).to_have_value(token)
    expect(page.locator(ROWS)).to_have_count(1)


def test_an_arrow_key_on_a_focused_select_saves_only_on_enter_or_leaving(desk: Desk) -> None:
    token = unique()
    ticket = create(desk, title=f"Arrow keys {token}")
    wait_indexed(desk, token, 1)
    page = desk.open(f"#/tickets?search={token}")
    row = page.locator(f'[data-ticket-id="{ticket["id"]}"]')
    status = row.locator('select[data-field="status"]')
    expect(status).to_have_value("open")
    patches = api_requests(page, desk.stack.api_url, "PATCH", f"/tickets/{ticket['id']}/")

    # When the agent presses ArrowDown on the focused status select
    status.focus()
    page.keyboard.press("ArrowDown")
    # Then the new value is only staged: shown as unsaved, with how to save it
    expect(status).to_have_value("in_progress")
    expect(status).to_have_attribute("data-pending", "true")
    expect(row.locator("[data-pending-hint]")).to_be_visible()
    expect(status).to_have_accessible_description(re.compile("Not saved yet"))
    page.wait_for_timeout(800)
    assert patches == []
    # And Escape puts the saved value back, still without a request
    page.keyboard.press("Escape")
    expect(status).to_have_value("open")
    expect(row.locator("[data-pending-hint]")).to_be_hidden()
    assert patches == []
    assert get(desk, ticket["id"])["status"] == "open"

    # When they press ArrowDown and then Enter
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    # Then it is saved
    expect(row.locator("[data-ticket-note]")).to_contain_text(
        "Saved: status → In progress", timeout=SAVE_TIMEOUT_MS
    )
    assert len(patches) == 1
    assert json.loads(patches[0].post_data or "{}") == {"status": "in_progress"}
    # And a staged value is also saved when they leave the select
    page.keyboard.press("ArrowDown")
    expect(status).to_have_value("resolved")
    page.keyboard.press("Tab")
    expect(row.locator("[data-ticket-note]")).to_contain_text(
        "Saved: status → Resolved", timeout=SAVE_TIMEOUT_MS
    )
    eventually(lambda: get(desk, ticket["id"])["status"] == "resolved", "the saved status")


def test_an_inline_edit_can_be_undone_for_eight_seconds(desk: Desk) -> None:
    token = unique()
    ticket = create(desk, title=f"Undo me {token}", priority="low")
    wait_indexed(desk, token, 1)
    page = desk.page
    page.clock.install()
    page = desk.open(f"#/tickets?search={token}")
    row = page.locator(f'[data-ticket-id="{ticket["id"]}"]')
    patches = api_requests(page, desk.stack.api_url, "PATCH", f"/tickets/{ticket['id']}/")
    reference = f"#{ticket['number']}"

    # When the agent changes the status in the list
    row.locator('select[data-field="status"]').select_option("closed")
    toast = page.locator("[data-undo-toast]")
    expect(toast).to_contain_text(
        f"Saved: status → Closed on {reference}.", timeout=SAVE_TIMEOUT_MS
    )
    eventually(lambda: get(desk, ticket["id"])["status"] == "closed", "the change")
    # And presses Undo
    toast.get_by_role("button", name="Undo").click()
    # Then the ticket is back at its old value, through a PATCH conditional on the
    # version the edit produced
    expect(toast).to_contain_text(f"Undone on {reference}: status → Open.", timeout=SAVE_TIMEOUT_MS)
    after = get(desk, ticket["id"])
    assert (after["status"], after["version"]) == ("open", 3)
    assert [request.headers.get("if-match") for request in patches] == ['"v1"', '"v2"']
    expect(row.locator('select[data-field="status"]')).to_have_value("open")

    # When they make another change, Undo is offered for 8 seconds, then goes (the
    # pointer away from it: hovering a toast pauses its clock)
    page.mouse.move(600, 5)
    row.locator('select[data-field="priority"]').select_option("high")
    undo = page.locator("[data-undo]")
    expect(undo).to_have_count(1)
    page.clock.run_for(7000)
    expect(undo).to_have_count(1)
    page.clock.run_for(1500)
    expect(undo).to_have_count(0)

    # And "u" (outside any field) undoes the newest edit while its Undo is shown
    category = row.locator('select[data-field="category"]')
    before = category.input_value()
    category.select_option("billing" if before != "billing" else "account")
    expect(undo).to_have_count(1)
    page.locator("#tickets-heading").focus()
    page.keyboard.press("u")
    expect(toast.last).to_contain_text(
        f"Undone on {reference}: category → ", timeout=SAVE_TIMEOUT_MS
    )
    expect(category).to_have_value(before)
    eventually(lambda: get(desk, ticket["id"])["category"] == before, "the undone category")
    page.clock.run_for(5000)
    expect(toast).to_have_count(0)

    # When someone else changes the ticket after an edit, its Undo overwrites nothing
    row.locator('select[data-field="priority"]').select_option("critical")
    expect(undo).to_have_count(1)
    eventually(lambda: get(desk, ticket["id"])["priority"] == "critical", "the change")
    patched(desk, get(desk, ticket["id"]), {"priority": "medium"})
    undo.click()
    expect(toast.last).to_contain_text(
        f"Not undone: someone changed {reference} since", timeout=SAVE_TIMEOUT_MS
    )
    assert get(desk, ticket["id"])["priority"] == "medium"
    expect(row.locator('select[data-field="priority"]')).to_have_value("medium")


# ---- Keyboard shortcuts ----


def test_shortcuts_move_select_and_open_but_never_fire_in_fields(desk: Desk) -> None:
    token = unique()
    tickets = create_many(desk, token, 3, "Shortcut")
    page = desk.open(f"#/tickets?search={token}&sort=oldest")
    rows = page.locator(ROWS)
    expect(rows).to_have_count(3)
    link = [rows.nth(i).locator("[data-ticket-link]") for i in range(3)]
    search = page.get_by_label("Search")

    # When the agent types the shortcut keys into the search field
    search.click()
    page.keyboard.press("End")
    page.keyboard.type(" jkx/?")
    # Then they are only text: no row moved, nothing selected, no dialog
    expect(search).to_have_value(f"{token} jkx/?")
    expect(search).to_be_focused()
    expect(page.locator("[data-shortcut-help]")).to_be_hidden()
    assert page.locator("[data-select-ticket]:checked").count() == 0
    search.fill(token)
    expect(rows).to_have_count(3)
    # And in the saved view's name field
    page.locator("[data-save-view]").click()
    page.keyboard.type("j/k")
    expect(page.get_by_label("Name this view")).to_have_value("j/k")
    page.keyboard.press("Escape")
    # And on a focused select, "j" stays with the select
    status = rows.nth(1).locator('select[data-field="status"]')
    status.focus()
    page.keyboard.press("j")
    expect(status).to_be_focused()
    # And never with a modifier key
    page.locator("#tickets-heading").focus()
    page.keyboard.press("Alt+j")
    expect(page.locator("#tickets-heading")).to_be_focused()

    # When they press k and j outside any field, they move from the row they were
    # in (the second: its select had the focus)
    page.keyboard.press("k")
    expect(link[0]).to_be_focused()
    page.keyboard.press("k")
    expect(link[0]).to_be_focused()
    page.keyboard.press("j")
    expect(link[1]).to_be_focused()
    page.keyboard.press("j")
    expect(link[2]).to_be_focused()
    page.keyboard.press("j")
    expect(link[2]).to_be_focused()
    page.keyboard.press("k")
    expect(link[1]).to_be_focused()
    # And x selects the current ticket
    page.keyboard.press("x")
    expect(rows.nth(1).locator("[data-select-ticket]")).to_be_checked()
    expect(page.locator("[data-selected-count]")).to_have_text("1 selected")
    page.keyboard.press("x")
    expect(rows.nth(1).locator("[data-select-ticket]")).not_to_be_checked()
    # And / goes to the search without typing a slash
    page.keyboard.press("/")
    expect(search).to_be_focused()
    expect(search).to_have_value(token)
    # And ? lists the shortcuts; Escape closes the list and gives the focus back
    page.locator("#tickets-heading").focus()
    page.keyboard.press("?")
    help_dialog = page.locator("[data-shortcut-help]")
    expect(help_dialog).to_be_visible()
    expect(help_dialog.locator("kbd")).to_have_text(["j", "k", "Enter", "x", "/", "u", "?"])
    page.keyboard.press("j")  # nothing moves behind an open dialog
    page.keyboard.press("Escape")
    expect(help_dialog).to_be_hidden()
    expect(page.locator("#tickets-heading")).to_be_focused()
    # And Enter opens the current ticket, wherever the focus is in its row
    page.keyboard.press("j")
    expect(link[2]).to_be_focused()
    rows.nth(2).locator("[data-created] time").focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(f"#/tickets/{tickets[2]['id']}$"))


# ---- Conflicts, other tabs, outages ----


def test_a_concurrent_change_is_rolled_back_with_a_clear_message(desk: Desk) -> None:
    token = unique()
    ticket = create(desk, title=f"Contested {token}", priority="low")
    wait_indexed(desk, token, 1)
    page = desk.open(f"#/tickets?search={token}")
    row = page.locator(f'[data-ticket-id="{ticket["id"]}"]')
    expect(row.locator('select[data-field="priority"]')).to_have_value("low")

    # Given someone else changes the ticket after the agent loaded it
    patched(desk, ticket, {"priority": "critical"})

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
    expect(note).to_contain_text("someone else changed this ticket", timeout=SAVE_TIMEOUT_MS)
    expect(row.locator('select[data-field="status"]')).to_have_value("open")
    expect(row.locator('select[data-field="priority"]')).to_have_value("critical")
    expect(page.locator("[data-announcer]")).to_contain_text(
        "someone else changed this ticket", timeout=SAVE_TIMEOUT_MS
    )
    after = get(desk, ticket["id"])
    assert (after["status"], after["priority"], after["version"]) == ("open", "critical", 2)
    assert reloads == []
    # And no Undo is offered for a change that did not happen
    expect(page.locator("[data-undo]")).to_have_count(0)

    # And the agent can make the change again on the reloaded ticket
    row.locator('select[data-field="status"]').select_option("closed")
    expect(note).to_contain_text("Saved: status → Closed", timeout=SAVE_TIMEOUT_MS)
    eventually(lambda: get(desk, ticket["id"])["status"] == "closed", "the change")


def test_a_conflict_answer_without_the_current_ticket_falls_back_to_reloading_it(
    desk: Desk,
) -> None:
    token = unique()
    ticket = create(desk, title=f"Older API {token}", priority="low")
    page = desk.open(f"#/tickets/{ticket['id']}")
    expect(page.locator("#detail-priority")).to_have_value("low")
    patched(desk, ticket, {"priority": "high"})
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
    expect(page.locator("[data-ticket-note]")).to_contain_text(
        "someone else changed this ticket", timeout=SAVE_TIMEOUT_MS
    )
    expect(page.locator("#detail-priority")).to_have_value("high")
    expect(page.locator("#detail-status")).to_have_value("open")


def test_the_dashboard_refreshes_when_a_ticket_changes_in_another_tab(desk: Desk) -> None:
    token = unique()
    ticket = create(desk, title=f"Dashboard {token}")
    wait_indexed(desk, token, 1)
    dashboard = desk.open("#/dashboard")
    resolved = dashboard.locator('[data-chart="status"] [data-chart-row="resolved"] [data-count]')
    expect(resolved).to_have_attribute(
        "data-count", str(desk.api_stats()["status_breakdown"]["resolved"])
    )
    before = int(resolved.get_attribute("data-count") or "0")
    # Each figure is written out with its share of the whole, not only drawn as a bar
    expect(resolved).to_have_text(re.compile(rf"^{before} \(\d+%\)$"))

    # When the agent resolves a ticket in another tab of the same browser
    console = dashboard.context.new_page()
    console.goto(desk.stack.site_url + f"#/tickets?search={token}")
    console.locator(f'[data-ticket-id="{ticket["id"]}"] select[data-field="status"]').select_option(
        "resolved"
    )
    expect(
        console.locator(f'[data-ticket-id="{ticket["id"]}"] [data-ticket-note]')
    ).to_contain_text("Saved", timeout=SAVE_TIMEOUT_MS)

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


# ---- CSV export ----


def test_export_of_a_filtered_view_is_rfc_4180_with_formulas_neutralised(desk: Desk) -> None:
    token = unique()
    formula = create(
        desk,
        title=f'=HYPERLINK("http://evil.example","Click me") {token}',
        description="-2+3 looks like a formula too",
        priority="high",
        customer_name='Zoë "the customer", Ltd',
        customer_email="zoe@example.com",
    )
    awkward = create(
        desk,
        title=f"Commas {token}",
        description='Line one, with "quotes", and commas\nLine two',
        priority="high",
    )
    create(desk, title=f"Left out {token}", priority="low")
    wait_indexed(desk, token, 3)
    page = desk.open(f"#/tickets?priority=high&search={token}&sort=oldest")
    expect(page.locator(ROWS)).to_have_count(2)

    # When the agent exports the view
    with page.expect_download() as download_info:
        page.locator("[data-export]").click()
    download = download_info.value
    # Then the file is named for the view and the day
    assert re.fullmatch(
        rf"tickets-high-search-{token}-oldest-\d{{8}}-\d{{4}}\.csv", download.suggested_filename
    ), download.suggested_filename
    raw = Path(download.path()).read_bytes()
    # And it is UTF-8 with a byte-order mark, CRLF after every record
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw[3:].decode("utf-8")
    assert text.endswith("\r\n") and text.count("\r\n") == 3
    # And quotes are doubled, fields with commas, quotes or line breaks quoted
    assert '"Line one, with ""quotes"", and commas\nLine two"' in text
    assert '"Zoë ""the customer"", Ltd"' in text

    # And row by row it is the view: every field of each ticket, in the view's order,
    # with cells that could run as formulas starting with a quote
    records = list(csv.reader(io.StringIO(text, newline="")))
    assert records[0] == CSV_COLUMNS
    assert len(records) == 3
    for record, ticket in zip(records[1:], [formula, awkward], strict=True):
        current = get(desk, ticket["id"])
        expected = []
        for column in CSV_COLUMNS:
            value = current[column]
            cell = "" if value is None else str(value)
            expected.append(f"'{cell}" if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell)
        assert record == expected
    assert records[1][2] == f'\'=HYPERLINK("http://evil.example","Click me") {token}'
    assert records[1][3] == "'-2+3 looks like a formula too"
    assert records[2][3] == 'Line one, with "quotes", and commas\nLine two'
    expect(page.locator("[data-export-status]")).to_have_text(
        f"Exported 2 tickets to {download.suggested_filename}."
    )


def test_an_export_can_be_cancelled_and_downloads_nothing(desk: Desk) -> None:
    token = unique()
    create(desk, title=f"Cancel export {token}")
    wait_indexed(desk, token, 1)
    page = desk.open(f"#/tickets?search={token}")
    expect(page.locator(ROWS)).to_have_count(1)
    held: list[Route] = []
    pattern = re.compile(re.escape(desk.stack.api_url) + r"/tickets/\?.*limit=100")

    def hold(route: Route) -> None:
        if route.request.method == "OPTIONS":  # the CORS preflight goes through
            route.continue_()
        else:
            held.append(route)

    page.route(pattern, hold)
    downloads: list[Download] = []

    def downloaded(download: Download) -> None:
        downloads.append(download)

    page.on("download", downloaded)

    # When the agent starts an export and cancels it while a page is on its way
    page.locator("[data-export]").click()
    expect(page.locator("[data-export-status]")).to_contain_text("Exporting…")
    expect(page.locator("[data-export]")).to_be_disabled()
    page.locator("[data-export-cancel]").click()
    # Then it says so, nothing is downloaded, and Export works again
    expect(page.locator("[data-export-status]")).to_have_text(
        "Export cancelled after 0 tickets; nothing was downloaded."
    )
    expect(page.locator("[data-export]")).to_be_enabled()
    page.wait_for_timeout(300)
    assert downloads == []
    page.unroute(pattern)
    for route in held:
        with contextlib.suppress(PlaywrightError):  # the page gave up on it already
            route.abort()
