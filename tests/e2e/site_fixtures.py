"""Fixtures and helpers for the browser tests of the static site (tests/e2e/test_site_*.py).

Every test shares one local stack, so each one makes its own data with a unique
token in titles and searches, and never depends on what other tests created.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from playwright.sync_api import ConsoleMessage, Page, expect

from tests.e2e.conftest import PROJECT_DIR, RunningStack

RESULTS_DIR = PROJECT_DIR / "test-results"
DEFAULT_TIMEOUT_MS = 10_000
# The first classification of a session pays the API's cold imports (anthropic SDK);
# on this 2-core machine under a full test run that can take several seconds.
expect.set_options(timeout=DEFAULT_TIMEOUT_MS)


@dataclass
class Desk:
    """The site open in a browser page, plus direct API access for arranging data."""

    page: Page
    stack: RunningStack
    agent_headers: dict[str, str] = field(default_factory=dict)
    csp_violations: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def open(self, route: str) -> Page:
        """Load the site at a hash route such as ``#/tickets?search=x``."""
        self.page.goto(self.stack.site_url + route)
        return self.page

    def api_create(self, **fields: Any) -> dict[str, Any]:
        """Create a ticket through the API (behind the page's back)."""
        body = {
            "title": f"Ticket {unique()}",
            "description": "Created by a browser test.",
            **fields,
        }
        response = requests.post(f"{self.stack.api_url}/tickets/", json=body, timeout=10)
        assert response.status_code == 201, response.text
        ticket: dict[str, Any] = response.json()
        return ticket

    def api_get(self, ticket_id: str) -> dict[str, Any]:
        response = requests.get(
            f"{self.stack.api_url}/tickets/{ticket_id}/", headers=self.agent_headers, timeout=10
        )
        assert response.status_code == 200, response.text
        ticket: dict[str, Any] = response.json()
        return ticket

    def api_patch(self, ticket_id: str, changes: dict[str, Any], version: int) -> Any:
        """Change a ticket as another agent would (behind the page's back)."""
        return requests.patch(
            f"{self.stack.api_url}/tickets/{ticket_id}/",
            json=changes,
            headers={**self.agent_headers, "If-Match": f'"v{version}"'},
            timeout=10,
        )

    def api_stats(self) -> dict[str, Any]:
        response = requests.get(
            f"{self.stack.api_url}/tickets/stats/", headers=self.agent_headers, timeout=10
        )
        response.raise_for_status()
        stats: dict[str, Any] = response.json()
        return stats


def unique() -> str:
    """A token no other test (or seed ticket) contains: safe to search for."""
    return "zq" + uuid.uuid4().hex[:10]


@pytest.fixture(scope="session")
def agent_headers(stack: RunningStack) -> dict[str, str]:
    """``Authorization`` for the stack's demo agent (an ID token lasts an hour)."""
    return stack.agent_headers()


@pytest.fixture(name="desk")
def desk_fixture(
    page: Page,
    stack: RunningStack,
    agent_headers: dict[str, str],
    request: pytest.FixtureRequest,
) -> Iterator[Desk]:
    """The site in a fresh page; on failure a screenshot goes to test-results/.

    The test also fails if the page threw an uncaught error or the browser
    reported a Content-Security-Policy violation.

    The agents' views need a signed-in agent, and the site has no sign-in form
    yet (issue 5). Until it has, the browser context plays an agent who has
    signed in: it adds the demo agent's token to every request it makes.
    Replace this with signing in through the form once the form exists.
    """
    page.set_default_timeout(DEFAULT_TIMEOUT_MS)
    page.context.set_extra_http_headers(agent_headers)
    desk = Desk(page=page, stack=stack, agent_headers=agent_headers)

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            desk.csp_violations.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: desk.page_errors.append(str(error)))
    yield desk
    # pytest-playwright records each phase's report on the item (rep_setup, rep_call).
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        RESULTS_DIR.mkdir(exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.nodeid)[-150:]
        path = RESULTS_DIR / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        print(f"\nScreenshot of the failed test: {path.relative_to(PROJECT_DIR)}")
    assert not desk.page_errors, f"uncaught errors in the page: {desk.page_errors}"
    assert not desk.csp_violations, f"CSP violations: {desk.csp_violations}"
