"""``make screenshots``: a PNG of every view of the site, at desktop and phone width.

Starts the local stack in this process (moto, the fake Claude, demo tickets) on free
ports, drives the system Chromium with Playwright and writes ``docs/screenshots/``.
The agents' views are taken after signing in through the site's own form, as the
local demo agent.
"""

from __future__ import annotations

import argparse
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from local_stack.stack import LocalStack, StackOptions
from tools.chromium import CHROMIUM_ARGS, find_chromium

PROJECT_DIR = Path(__file__).resolve().parent.parent
OUT_DIR = PROJECT_DIR / "docs" / "screenshots"
VIEWPORTS = {"desktop": (1280, 800), "phone": (390, 844)}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def chromium_path() -> str:
    """The system Chromium, or exit with how to get one."""
    return find_chromium() or sys.exit(
        "Chromium not found: run `make browser` or set CHROMIUM_PATH"
    )


@dataclass(frozen=True)
class Agent:
    """Who signs in through the form."""

    username: str
    password: str


def _sign_in_form(page: Page, site: str) -> None:
    page.goto(site + "#/tickets")
    page.get_by_label("Email").wait_for()


def _sign_in(page: Page, agent: Agent) -> None:
    """Sign in through the form on the page, as a person would."""
    page.get_by_label("Email").fill(agent.username)
    page.get_by_label("Password").fill(agent.password)
    page.get_by_role("button", name="Sign in").click()
    page.locator("[data-session-user]").wait_for()


def _submit_form(page: Page, site: str) -> None:
    page.goto(site + "#/new")
    another = page.locator("[data-submit-another]")
    if another.is_visible():  # the confirmation of the customer pass is still up
        another.click()
    page.get_by_label("Title").fill("Cannot log in after the password reset")
    page.get_by_label("Description").fill(
        "I reset my password this morning and the login page still says my "
        "credentials are wrong. I am locked out of my account."
    )
    page.locator('[data-suggestion-status="shown"]').wait_for()


def _tickets(page: Page, site: str) -> None:
    page.goto(site + "#/tickets")
    page.locator("[data-ticket-row]").first.wait_for()


def _ticket(page: Page, site: str) -> None:
    _tickets(page, site)
    # A ticket whose history has more than its creation.
    page.locator("[data-ticket-row][data-status='in_progress'] [data-ticket-link]").first.click()
    page.locator("[data-ticket-title]").wait_for()
    page.locator("[data-timeline] [data-timeline-item]").nth(2).wait_for()


def _dashboard(page: Page, site: str) -> None:
    page.goto(site + "#/dashboard")
    page.locator("[data-chart='status']").wait_for()


# In order: the sign-in form is taken first, then the site is signed in for the rest.
VIEWS: dict[str, Callable[[Page, str], None]] = {
    "signin": _sign_in_form,
    "submit": _submit_form,
    "tickets": _tickets,
    "ticket": _ticket,
    "dashboard": _dashboard,
}


def _customer_pages(page: Page, site: str, shoot: Callable[[str], None]) -> None:
    """The customer's side, with no agent session: the confirmation after a submit,
    then the private page its link opens."""
    page.goto(site + "#/new")
    page.get_by_label("Email").fill("casey@example.com")
    page.get_by_label("Name (optional)").fill("Casey Customer")
    page.get_by_label("Title").fill("Charged twice for the March invoice")
    page.get_by_label("Description").fill(
        "Hello, my card was charged twice for invoice INV-2026-0311 this morning. "
        "Could you refund one of the two payments? Thanks, Casey"
    )
    page.get_by_role("button", name="Submit ticket").click()
    page.locator("[data-submit-success]").wait_for()
    shoot("confirmation")
    link = page.locator("[data-private-link]").get_attribute("href")
    assert link, "the confirmation shows no private link"
    page.goto(link)
    page.locator("[data-my-ticket-title]").wait_for()
    shoot("my-ticket")


def take_screenshots(site_url: str, out_dir: Path, agent: Agent) -> list[Path]:
    """Write ``<view>-<viewport>.png`` for every view and viewport; return the paths.

    ``agent`` signs in through the form once per viewport, after the sign-in form's
    own screenshot.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            for viewport_name, (width, height) in VIEWPORTS.items():
                context = browser.new_context(
                    viewport={"width": width, "height": height},
                    locale="en-GB",
                    timezone_id="UTC",
                    reduced_motion="reduce",
                )
                page = context.new_page()
                page.set_default_timeout(15_000)

                def shoot(view_name: str, page: Page = page, viewport: str = viewport_name) -> None:
                    # Screenshots show the page, not where the keyboard focus landed.
                    page.evaluate("document.activeElement && document.activeElement.blur()")
                    path = out_dir / f"{view_name}-{viewport}.png"
                    page.screenshot(path=str(path), animations="disabled", caret="hide")
                    written.append(path)

                _customer_pages(page, site_url, shoot)
                for view_name, prepare in VIEWS.items():
                    prepare(page, site_url)
                    shoot(view_name)
                    if view_name == "signin":
                        _sign_in(page, agent)
                context.close()
        finally:
            browser.close()
    return written


def main(argv: list[str] | None = None) -> None:
    """Start the stack with demo data, take the screenshots, stop the stack."""
    parser = argparse.ArgumentParser(description="PNGs of every view into docs/screenshots/")
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args(argv)
    options = StackOptions(
        api_port=_free_port(), site_port=_free_port(), fake_claude=True, seed=True
    )
    stack = LocalStack(options).start()
    from chalicelib.observability import logger  # imported by the stack; quiet its request log

    logger.setLevel("WARNING")
    try:
        assert stack.site is not None
        state = stack.state()
        agent = Agent(state["agent_username"], state["agent_password"])
        for path in take_screenshots(stack.site.url, args.out, agent):
            shown = path.relative_to(PROJECT_DIR) if path.is_relative_to(PROJECT_DIR) else path
            print(f"wrote {shown}")
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
