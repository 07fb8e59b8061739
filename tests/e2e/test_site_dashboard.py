"""The dashboard in a real browser: figures after known changes, links to the lists
behind them, the per-day chart's data table, and axe at desktop and phone width.

The stack is shared by the whole session and tests run one at a time, so a test reads
the figures, makes its own changes through the API, and checks that every figure moved
by exactly those changes (and still equals what the API says).
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, Page, expect

from tests.e2e.axe_audit import assert_accessible
from tests.e2e.conftest import RunningStack
from tests.e2e.site_fixtures import (  # noqa: F401 - fixtures
    AgentTokens,
    Desk,
    agent_headers,
    agent_tokens,
    desk_fixture,
    seed_session,
    unique,
)

pytestmark = pytest.mark.browser

VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
KPIS = ("unsolved", "open", "in_progress", "unassigned", "new-today", "total")
PRIORITIES = ("critical", "high", "medium", "low")
AGE_BUCKETS = ("today", "1_to_2_days", "3_to_6_days", "7_days_or_more")


def _expected_from_api(stats: dict[str, Any]) -> dict[str, Any]:
    """What the dashboard must show for the API's stats, keyed like ``_shown``."""
    return {
        "kpi": {
            "unsolved": stats["unsolved_tickets"],
            "open": stats["status_breakdown"]["open"],
            "in_progress": stats["status_breakdown"]["in_progress"],
            "unassigned": stats["unassigned_unsolved"],
            "new-today": stats["new_today"],
            "total": stats["total_tickets"],
        },
        "unsolved-priority": {p: stats["unsolved_by_priority"][p] for p in PRIORITIES},
        "unsolved-age": {a: stats["unsolved_by_age"][a] for a in AGE_BUCKETS},
        "priority": {p: stats["priority_breakdown"][p] for p in PRIORITIES},
        "per-day": [(point["date"], point["count"]) for point in stats["created_per_day"]],
        "ai": {
            field: (
                stats["ai_agreement"][field]["kept"],
                stats["ai_agreement"][field]["overridden"],
            )
            for field in ("category", "priority")
        },
        "first-reply": stats["first_reply"]["count"],
        "budget": (stats["claude_budget"]["used"], stats["claude_budget"]["limit"]),
        "oldest": (stats["oldest_unsolved"] or {}).get("id", ""),
    }


def _shown(page: Page) -> dict[str, Any]:
    """Every figure the dashboard shows, read from the page's data-* hooks."""

    def count(chart: str, row: str) -> int:
        value = page.locator(
            f'[data-chart="{chart}"] [data-chart-row="{row}"] [data-count]'
        ).get_attribute("data-count")
        return int(value or "-1")

    ai = {}
    for field in ("category", "priority"):
        row = page.locator(f'[data-ai="{field}"]')
        ai[field] = (
            int(row.get_attribute("data-kept") or -1),
            int(row.get_attribute("data-overridden") or -1),
        )
    budget = page.locator("[data-budget]")
    return {
        "kpi": {
            key: int(
                page.locator(f'[data-kpi="{key}"] [data-kpi-value]').get_attribute("data-value")
                or -1
            )
            for key in KPIS
        },
        "unsolved-priority": {p: count("unsolved-priority", p) for p in PRIORITIES},
        "unsolved-age": {a: count("unsolved-age", a) for a in AGE_BUCKETS},
        "priority": {p: count("priority", p) for p in PRIORITIES},
        "per-day": [
            (bar.get_attribute("data-date"), int(bar.get_attribute("data-count") or -1))
            for bar in page.locator('[data-chart="created-per-day"] li[data-date]').all()
        ],
        "ai": ai,
        "first-reply": int(page.locator("[data-first-reply]").get_attribute("data-count") or -1),
        "budget": (
            int(budget.get_attribute("data-used") or -1),
            int(budget.get_attribute("data-limit") or -1),
        ),
        "oldest": page.locator("[data-oldest]").get_attribute("data-oldest"),
    }


def _reply(desk: Desk, ticket_id: str) -> None:
    response = requests.post(
        f"{desk.stack.api_url}/tickets/{ticket_id}/messages/",
        json={"body": "Thanks, we are looking into it.", "internal": False},
        headers=desk.agent_headers,
        timeout=10,
    )
    assert response.status_code == 201, response.text


def _classify(desk: Desk, text: str) -> None:
    response = requests.post(
        f"{desk.stack.api_url}/tickets/classify/", json={"description": text}, timeout=15
    )
    assert response.status_code == 200, response.text


def test_the_figures_move_by_exactly_what_was_created(desk: Desk, claude: RunningStack) -> None:
    token = unique()
    page = desk.open("#/dashboard")
    # Given the dashboard shows what the API says
    before_stats = desk.api_stats()
    before = _expected_from_api(before_stats)
    expect(page.locator('[data-kpi="total"] [data-kpi-value]')).to_have_attribute(
        "data-value", str(before["kpi"]["total"])
    )
    assert _shown(page) == before

    # When three tickets come in today: two critical and open, one low and in progress,
    # one of the critical ones gets an agent's reply, and the submit form asks Claude once
    made = [
        desk.api_create(
            title=f"Dash critical {token} {n}", category="technical", priority="critical"
        )
        for n in (1, 2)
    ]
    low = desk.api_create(title=f"Dash low {token}", category="billing", priority="low")
    response = desk.api_patch(low["id"], {"status": "in_progress"}, low["version"])
    assert response.status_code == 200, response.text
    made.append(low)
    _reply(desk, made[0]["id"])
    _classify(desk, f"My invoice {token} shows a charge I do not recognise, please check it.")

    # Then after a refresh every figure moved by exactly that
    expected = {
        **before,
        "kpi": {
            **before["kpi"],
            "unsolved": before["kpi"]["unsolved"] + 3,
            "open": before["kpi"]["open"] + 2,
            "in_progress": before["kpi"]["in_progress"] + 1,
            "unassigned": before["kpi"]["unassigned"] + 3,
            "new-today": before["kpi"]["new-today"] + 3,
            "total": before["kpi"]["total"] + 3,
        },
        "unsolved-priority": {
            **before["unsolved-priority"],
            "critical": before["unsolved-priority"]["critical"] + 2,
            "low": before["unsolved-priority"]["low"] + 1,
        },
        "unsolved-age": {**before["unsolved-age"], "today": before["unsolved-age"]["today"] + 3},
        "priority": {
            **before["priority"],
            "critical": before["priority"]["critical"] + 2,
            "low": before["priority"]["low"] + 1,
        },
        "per-day": [
            *before["per-day"][:-1],
            (before["per-day"][-1][0], before["per-day"][-1][1] + 3),
        ],
        "ai": {
            field: (
                before["ai"][field][0] + sum(t[field] == t[f"suggested_{field}"] for t in made),
                before["ai"][field][1] + sum(t[field] != t[f"suggested_{field}"] for t in made),
            )
            for field in ("category", "priority")
        },
        "first-reply": before["first-reply"] + 1,
        "budget": (before["budget"][0] + 1, before["budget"][1]),
        # The oldest waiting ticket stays, unless nothing was waiting before
        "oldest": before["oldest"] or made[0]["id"],
    }
    page.get_by_role("button", name="Refresh now").click()
    expect(page.locator('[data-kpi="new-today"] [data-kpi-value]')).to_have_attribute(
        "data-value", str(expected["kpi"]["new-today"])
    )
    after_stats = desk.api_stats()
    if after_stats["created_per_day"][-1]["date"] != before_stats["created_per_day"][-1]["date"]:
        pytest.skip("the UTC day changed during the test")
    shown = _shown(page)
    assert shown == expected
    assert shown == _expected_from_api(after_stats)
    # And the figures are written out, each with the period it covers
    expect(page.locator('[data-kpi="unsolved"] [data-period]')).to_have_text("now")
    expect(page.locator('[data-kpi="new-today"] [data-period]')).to_have_text("today (UTC)")
    expect(page.locator('[data-chart="created-per-day"] [data-period]')).to_have_text(
        "last 30 days"
    )
    expect(page.locator('[data-chart="priority"] [data-period]')).to_have_text("all time")
    expect(page.locator("[data-budget] [data-period]")).to_have_text("today (UTC)")
    expect(page.locator("[data-ai-agreement] [data-period]")).to_have_text("all time")
    critical = expected["unsolved-priority"]["critical"]
    expect(
        page.locator('[data-chart="unsolved-priority"] [data-chart-row="critical"] [data-count]')
    ).to_have_text(f"{critical} ({round(100 * critical / expected['kpi']['unsolved'])}%)")
    kept, overridden = expected["ai"]["priority"]
    expect(page.locator('[data-ai="priority"] [data-ai-kept]')).to_have_text(
        f"{kept} kept ({round(100 * kept / (kept + overridden))}%)"
    )
    used, limit = expected["budget"]
    expect(page.locator("[data-budget] [data-budget-used]")).to_have_text(f"{used:,} / {limit:,}")
    assert after_stats["first_reply"]["median_minutes"] is not None
    expect(page.locator("[data-first-reply-count]")).to_contain_text(
        f"based on {expected['first-reply']} ticket"
    )


def test_a_figure_opens_the_list_behind_it(desk: Desk) -> None:
    token = unique()
    for n in (1, 2):
        desk.api_create(title=f"Linked critical {token} {n}", priority="critical")
    page = desk.open("#/dashboard")
    expect(page.locator('[data-kpi="unsolved"]')).to_be_visible()

    # Every figure links to the list it counts (the list takes these filters in its hash)
    links = {
        '[data-kpi="unsolved"]': "#/tickets?status=unsolved&sort=priority",
        '[data-kpi="open"]': "#/tickets?status=open&sort=priority",
        '[data-kpi="in_progress"]': "#/tickets?status=in_progress&sort=priority",
        '[data-kpi="unassigned"]': "#/tickets?status=unsolved&assignee=none&sort=priority",
        '[data-kpi="new-today"]': "#/tickets?sort=newest",
        '[data-kpi="total"]': "#/tickets?sort=newest",
        '[data-chart-link="high"]': "#/tickets?status=unsolved&priority=high&sort=priority",
        '[data-chart="unsolved-age"] [data-chart-link="3_to_6_days"]': (
            "#/tickets?status=unsolved&sort=oldest"
        ),
        '[data-chart="category"] [data-chart-link="billing"]': "#/tickets?category=billing",
        '[data-chart="status"] [data-chart-link="resolved"]': "#/tickets?status=resolved",
    }
    for selector, href in links.items():
        expect(page.locator(selector).first).to_have_attribute("href", href)
    # The list cannot filter by age: the age rows say where they lead
    expect(page.locator('[data-chart="unsolved-age"] [data-chart-link="today"]')).to_have_attribute(
        "title", "Opens every unsolved ticket, oldest first: the list cannot filter by age."
    )

    # When the agent selects "Critical" in the unsolved queue
    page.locator('[data-chart="unsolved-priority"] [data-chart-link="critical"]').click()
    # Then the list shows the unsolved critical tickets, and only those
    assert page.url.endswith("#/tickets?status=unsolved&priority=critical&sort=priority")
    expect(page.get_by_role("heading", name="Tickets")).to_be_visible()
    rows = page.locator("[data-ticket-row]")
    expect(rows.first).to_be_visible()
    expected = _api_ids(desk, "status=unsolved&priority=critical&sort=priority")
    shown = [row.get_attribute("data-ticket-id") for row in rows.all()]
    assert set(shown) <= set(expected)
    assert len(shown) >= min(len(expected), 20)

    # When the agent comes back and opens the oldest waiting ticket
    page.go_back()
    oldest = desk.api_stats()["oldest_unsolved"]
    page.locator("[data-oldest-link]").click()
    # Then its page is shown
    assert page.url.endswith(f"#/tickets/{oldest['id']}")
    expect(page.locator("[data-ticket-title]")).to_have_text(oldest["title"])


def _api_ids(desk: Desk, query: str) -> list[str]:
    response = requests.get(
        f"{desk.stack.api_url}/tickets/?{query}&limit=100", headers=desk.agent_headers, timeout=10
    )
    assert response.status_code == 200, response.text
    return [ticket["id"] for ticket in response.json()]


def test_the_per_day_chart_has_a_data_table_equal_to_created_per_day(desk: Desk) -> None:
    desk.api_create(title=f"Trend {unique()}")
    page = desk.open("#/dashboard")
    chart = page.locator('[data-chart="created-per-day"]')
    expect(chart).to_be_visible()
    stats = desk.api_stats()
    points = [(point["date"], point["count"]) for point in stats["created_per_day"]]
    assert len(points) == 30
    # The columns are decoration for the eye; the sentence says what they show
    expect(chart.locator(".day-chart__plot")).to_have_attribute("aria-hidden", "true")
    total = sum(count for _, count in points)
    expect(chart.locator("[data-trend-summary]")).to_contain_text(
        f"{total:,} ticket{'s' if total != 1 else ''} created in the last 30 days"
    )
    expect(chart.locator("[data-trend-summary]")).to_contain_text(f"today so far: {points[-1][1]}")

    # When the agent opens the table
    table = chart.locator("[data-trend-table]")
    table.locator("summary").click()
    expect(table.get_by_role("table")).to_be_visible()
    # Then it holds exactly the API's created_per_day, oldest first, today marked
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(30)
    shown = [
        (
            row.locator("time").get_attribute("datetime"),
            int(row.locator("td").get_attribute("data-count") or -1),
        )
        for row in rows.all()
    ]
    assert shown == points
    assert [int(text) for text in rows.locator("td").all_inner_texts()] == [c for _, c in points]
    expect(rows.last.locator("th")).to_contain_text("(today)")
    expect(table.locator("thead th")).to_have_text(["Day (UTC)", "Tickets created"])
    # And the columns hold the same numbers
    bars = chart.locator("li[data-date]")
    assert [
        (b.get_attribute("data-date"), int(b.get_attribute("data-count") or -1)) for b in bars.all()
    ] == points


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_the_dashboard_has_no_axe_violations(
    browser: Browser, stack: RunningStack, request: pytest.FixtureRequest, viewport: str
) -> None:
    # axe is injected as a script: the page's CSP would refuse it, so bypass it here,
    # with the session seeded the way the desk fixture does.
    tokens: AgentTokens = request.getfixturevalue("agent_tokens")
    context = browser.new_context(bypass_csp=True, viewport=VIEWPORTS[viewport])
    seed_session(context, stack, tokens)
    try:
        page = context.new_page()
        page.goto(stack.site_url + "#/dashboard")
        expect(page.locator('[data-kpi="unsolved"]')).to_be_visible()
        expect(page.locator('[data-chart="created-per-day"]')).to_be_visible()
        page.locator("[data-trend-table] summary").click()
        expect(page.locator("[data-trend-table] table")).to_be_visible()
        assert_accessible(page)
    finally:
        context.close()
