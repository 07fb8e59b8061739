"""Helpers for the browser tests of the conversation: the customers' form and private
page, the agents' ticket page, the local outbox and the confidence of suggestions."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests
from playwright.sync_api import BrowserContext, ConsoleMessage, Page, Route

from tests.e2e.conftest import RunningStack
from tests.e2e.site_fixtures import SESSION_STORAGE_KEY, AgentTokens

CLASSIFY_PATH = "/api/tickets/classify/"
EMAIL_DEADLINE_SECONDS = 10.0
# A create classifies the text on the server: on this shared 2-core machine, under a full
# test run, that has taken more than the default 10 s.
CREATE_TIMEOUT_MS = 30_000
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
VIEWPORTS = {"desktop": DESKTOP, "phone": PHONE}


def wait_for_email(
    stack: RunningStack,
    to: str,
    matches: Callable[[dict[str, Any]], bool] = lambda _: True,
    deadline_seconds: float = EMAIL_DEADLINE_SECONDS,
) -> dict[str, Any]:
    """The newest email to ``to`` in the local outbox that ``matches``, polling until
    the deadline (the stream poller delivers within about a second)."""
    deadline = time.monotonic() + deadline_seconds
    while True:
        for email in stack.outbox():
            if to in email["to"] and matches(email):
                return email
        if time.monotonic() > deadline:
            seen = [(e["to"], e["subject"]) for e in stack.outbox() if to in e["to"]]
            raise AssertionError(f"no matching email to {to} within {deadline_seconds} s: {seen}")
        time.sleep(0.2)


def emails_to(stack: RunningStack, to: str) -> list[dict[str, Any]]:
    """Every email the outbox holds for ``to``."""
    return [email for email in stack.outbox() if to in email["to"]]


def force_confidence(page: Page, confidence: str) -> None:
    """Answer every classification with ``confidence`` (the API's own answer otherwise):
    the form treats "high" and "low" suggestions differently."""

    def rewrite(route: Route) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        try:
            response = route.fetch()
            body = response.json()
            body["confidence"] = confidence
            route.fulfill(response=response, json=body)
        except Exception:  # the page aborted the request meanwhile: nothing to answer
            return

    page.route(f"**{CLASSIFY_PATH}", rewrite)


@dataclass
class PageWatch:
    """Uncaught errors, CSP violations and dialogs of one page (for pages that are not
    the ``desk`` fixture's, which watches its own)."""

    errors: list[str] = field(default_factory=list)
    csp: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        assert self.errors == [], self.errors
        assert self.csp == [], self.csp
        assert self.dialogs == [], self.dialogs


def watch(page: Page) -> PageWatch:
    """Start watching ``page``; dialogs are dismissed and recorded."""
    seen = PageWatch()

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            seen.csp.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: seen.errors.append(str(error)))
    page.on("dialog", lambda dialog: (seen.dialogs.append(dialog.message), dialog.dismiss()))
    return seen


def agent_display_name(stack: RunningStack, headers: dict[str, str], email: str) -> str:
    """How the API names the agent with ``email`` (their display name)."""
    response = requests.get(f"{stack.api_url}/agents/", headers=headers, timeout=10)
    response.raise_for_status()
    for agent in response.json():
        if agent["email"] == email:
            return str(agent["display_name"])
    raise AssertionError(f"no agent {email}")


def public_name(stack: RunningStack, headers: dict[str, str], email: str) -> str:
    """How the customer sees the agent with ``email``: their name, or "Support"."""
    response = requests.get(f"{stack.api_url}/agents/", headers=headers, timeout=10)
    response.raise_for_status()
    for agent in response.json():
        if agent["email"] == email:
            return str(agent["name"] or "Support")
    raise AssertionError(f"no agent {email}")


def sign_in_context(context: BrowserContext, stack: RunningStack, tokens: AgentTokens) -> None:
    """Every tab of ``context`` starts signed in as the demo agent, the way the ``desk``
    fixture seeds its page (for contexts a test makes itself, such as an axe audit's
    ``bypass_csp=True`` one)."""
    origin = json.dumps(stack.site_url.rstrip("/"))
    stored = json.dumps(json.dumps(tokens.stored_session()))
    context.add_init_script(
        f"""(() => {{
          if (window.location.origin !== {origin} || sessionStorage.getItem("e2e-seeded")) return;
          sessionStorage.setItem("e2e-seeded", "1");
          sessionStorage.setItem({json.dumps(SESSION_STORAGE_KEY)}, {stored});
        }})();"""
    )
