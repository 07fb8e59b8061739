"""Agents sign in through the site's form: success, wrong password, sign-out, refresh, expiry."""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests
from playwright.sync_api import Request, Response, expect

from tests.e2e.conftest import RunningStack
from tests.e2e.site_fixtures import (  # noqa: F401 - fixtures
    Desk,
    agent_headers,
    agent_tokens,
    anonymous_desk_fixture,
    desk_fixture,
    unique,
)

pytestmark = pytest.mark.browser

EXPIRED = "Your session expired — sign in again."


def _tampered(token: str) -> str:
    """The same JWT with one character of its signature changed: well formed, not valid."""
    header, payload, signature = token.split(".")
    first = "B" if signature[0] != "B" else "C"
    return f"{header}.{payload}.{first}{signature[1:]}"


def _refresh_requests(desk: Desk) -> list[Request]:
    """Every REFRESH_TOKEN_AUTH call the page makes to Cognito from now on."""
    endpoint = desk.stack.state["cognito_endpoint"].rstrip("/")
    seen: list[Request] = []

    def on_request(request: Request) -> None:
        if (
            request.method == "POST"
            and request.url.rstrip("/") == endpoint
            and "REFRESH_TOKEN_AUTH" in (request.post_data or "")
        ):
            seen.append(request)

    desk.page.on("request", on_request)
    return seen


def _api_statuses(desk: Desk) -> list[tuple[str, int]]:
    """(method path, status) of every API answer the page gets from now on."""
    seen: list[tuple[str, int]] = []

    def on_response(response: Response) -> None:
        if response.url.startswith(desk.stack.api_url) and response.request.method != "OPTIONS":
            path = response.url.removeprefix(desk.stack.api_url).split("?", 1)[0]
            seen.append((f"{response.request.method} {path}", response.status))

    desk.page.on("response", on_response)
    return seen


def test_an_agent_signs_in_with_the_keyboard_and_sees_the_console(anonymous_desk: Desk) -> None:
    desk = anonymous_desk
    token = unique()
    desk.api_create(title=f"Waiting for an agent {token}")
    # Given an agent opens a link to a filtered list without being signed in
    page = desk.open(f"#/tickets?search={token}")
    # Then the sign-in form is shown instead of the tickets, with the email field focused
    expect(page.get_by_role("heading", name="Agent sign-in")).to_be_visible()
    expect(page.locator('[data-view="tickets"]')).to_have_count(0)
    expect(page.get_by_label("Email")).to_be_focused()
    expect(page.locator("[data-session]")).to_be_empty()

    # When they sign in using only the keyboard
    page.keyboard.type(desk.agent_username)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type(desk.stack.state["agent_password"])
    page.keyboard.press("Enter")

    # Then they land on the list they asked for, and the header says who they are
    expect(page.get_by_role("heading", name="Tickets")).to_be_visible()
    expect(page.locator("[data-ticket-row]")).to_have_count(1)
    expect(page.get_by_label("Search")).to_have_value(token)
    expect(page.locator("[data-session-user]")).to_have_text(desk.agent_username)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    # And the session is kept for this tab only, never in the address
    stored = desk.stored_session()
    assert stored is not None and stored["username"] == desk.agent_username
    assert page.evaluate("localStorage.length") == 0
    assert stored["idToken"] not in page.url
    # And a reload keeps them signed in
    page.reload()
    expect(page.locator("[data-ticket-row]")).to_have_count(1)


def test_a_wrong_password_shows_an_error_and_no_console(anonymous_desk: Desk) -> None:
    desk = anonymous_desk
    statuses = _api_statuses(desk)
    page = desk.open("#/dashboard")
    # When the agent types a wrong password
    desk.sign_in_with_form(password="not-the-password-1")
    # Then the form says so in a live region, keeps the email and clears the password
    error = page.locator("[data-signin-error]")
    expect(error).to_have_text("Wrong email or password.")
    expect(error).to_have_attribute("aria-live", "assertive")
    expect(page.get_by_label("Email")).to_have_value(desk.agent_username)
    expect(page.get_by_label("Password")).to_have_value("")
    expect(page.get_by_label("Password")).to_be_focused()
    expect(page.get_by_label("Password")).to_have_attribute("aria-invalid", "true")
    # And an unknown email reads the same (the form does not reveal who has an account)
    desk.sign_in_with_form(username=f"{unique()}@example.com")
    expect(error).to_have_text("Wrong email or password.")
    # And nothing of the console was shown or asked for, and nothing was stored
    expect(page.locator('[data-view="dashboard"]')).to_have_count(0)
    expect(page.locator("[data-session]")).to_be_empty()
    assert desk.stored_session() is None
    assert statuses == []

    # When they correct the password, the dashboard appears
    desk.sign_in_with_form()
    expect(page.locator('[data-kpi="total"]')).to_be_visible()
    expect(page.locator('[data-view="signin"]')).to_have_count(0)


def test_signing_out_forgets_the_session_and_returns_to_the_form(anonymous_desk: Desk) -> None:
    desk = anonymous_desk
    page = desk.open("#/dashboard")
    desk.sign_in_with_form()
    expect(page.locator('[data-kpi="total"]')).to_be_visible()

    # When the agent signs out
    page.get_by_role("button", name="Sign out").click()
    # Then the sign-in form is back, the figures are gone and nothing is stored
    expect(page.get_by_role("heading", name="Agent sign-in")).to_be_visible()
    expect(page.locator("[data-signin-reason]")).to_have_text("You have signed out.")
    expect(page.locator('[data-kpi="total"]')).to_have_count(0)
    expect(page.locator("[data-session]")).to_be_empty()
    assert desk.stored_session() is None
    # And every agents' page asks for sign-in again, even after a reload
    page.get_by_role("link", name="Tickets", exact=True).click()
    expect(page.get_by_role("heading", name="Agent sign-in")).to_be_visible()
    page.reload()
    expect(page.get_by_role("heading", name="Agent sign-in")).to_be_visible()
    # And the customers' form still works without signing in
    page.get_by_role("link", name="Submit a ticket", exact=True).click()
    expect(page.get_by_role("heading", name="Submit a ticket")).to_be_visible()

    # When signing out from the customers' form, the sign-in form is shown too
    desk.open("#/tickets")
    desk.sign_in_with_form()
    expect(page.get_by_role("heading", name="Tickets")).to_be_visible()
    page.get_by_role("link", name="Submit a ticket", exact=True).click()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Agent sign-in")).to_be_visible()


def test_a_refused_token_is_refreshed_once_and_the_request_retried(desk: Desk) -> None:
    token = unique()
    desk.api_create(title=f"Refresh {token}")
    page = desk.open(f"#/tickets?search={token}")
    expect(page.locator("[data-ticket-row]")).to_have_count(1)
    stored = desk.stored_session()
    assert stored is not None

    # Given the stored ID token is no longer accepted by the API (its refresh token is)
    desk.store_session({**stored, "idToken": _tampered(stored["idToken"])})
    refreshes = _refresh_requests(desk)
    statuses = _api_statuses(desk)
    # When the page loads the list with it
    page.reload()
    # Then the API's 401 led to one refresh and one retry, and the agent noticed nothing
    expect(page.locator("[data-ticket-row]")).to_have_count(1)
    assert len(refreshes) == 1
    assert statuses == [("GET /tickets/", 401), ("GET /tickets/", 200)]
    refreshed = desk.stored_session()
    assert refreshed is not None
    assert refreshed["idToken"] != stored["idToken"]
    assert refreshed["refreshToken"] == stored["refreshToken"]
    expect(page.get_by_role("heading", name="Agent sign-in")).to_have_count(0)

    # Given an ID token about to expire, the page refreshes it before using it
    refreshes.clear()
    statuses.clear()
    desk.store_session({**refreshed, "expiresAt": page.evaluate("Date.now()") + 5_000})
    page.reload()
    expect(page.locator("[data-ticket-row]")).to_have_count(1)
    assert len(refreshes) == 1
    assert statuses == [("GET /tickets/", 200)]


def test_an_expired_session_asks_to_sign_in_and_returns_to_the_same_place(desk: Desk) -> None:
    token = unique()
    desk.api_create(title=f"Urgent {token}", priority="high")
    desk.api_create(title=f"Later {token}", priority="low")
    route = f"#/tickets?priority=high&search={token}"
    page = desk.open(route)
    rows = page.locator("[data-ticket-row]")
    expect(rows).to_have_count(1)
    stored = desk.stored_session()
    assert stored is not None

    # Given the session is over: the ID token is refused and the refresh token too
    desk.store_session(
        {**stored, "idToken": _tampered(stored["idToken"]), "refreshToken": "revoked"}
    )
    page.reload()

    # Then the page says the session expired and shows the form, not a broken list
    expect(page.locator("[data-signin-reason]")).to_have_text(EXPIRED)
    expect(page.get_by_role("heading", name="Agent sign-in")).to_be_visible()
    expect(page.get_by_label("Email")).to_be_focused()
    expect(rows).to_have_count(0)
    expect(page.locator("[data-error-notice]")).to_have_count(0)
    assert desk.stored_session() is None
    # And the address still holds where the agent was
    assert page.url.endswith(route)

    # When they sign in again, they are back on the same filtered list
    desk.sign_in_with_form()
    expect(rows).to_have_count(1)
    expect(rows.first.locator("[data-ticket-link]")).to_have_text(f"Urgent {token}")
    expect(page.locator("#filter-priority")).to_have_value("high")
    expect(page.get_by_label("Search")).to_have_value(token)
    expect(page.locator("[data-signin-reason]")).to_have_count(0)


def test_a_change_refused_for_an_expired_session_is_undone_and_kept_after_sign_in(
    desk: Desk,
) -> None:
    token = unique()
    ticket = desk.api_create(title=f"Half done {token}")
    page = desk.open(f"#/tickets/{ticket['id']}")
    expect(page.locator("[data-ticket-title]")).to_have_text(f"Half done {token}")
    # Given the session ends while the ticket is open. The page holds its tokens in
    # memory, so the API's refusal and Cognito's (expired refresh token) are played
    # here with the answers the real services give.
    cognito = desk.stack.state["cognito_endpoint"].rstrip("/")
    page.route(
        f"{desk.stack.api_url}/tickets/{ticket['id']}/",
        lambda route: (
            route.fulfill(status=401, json={"error": "Unauthorized"}, headers=_cors(desk))
            if route.request.method == "PATCH"
            else route.continue_()
        ),
    )
    page.route(
        lambda url: url.rstrip("/") == cognito,
        lambda route: route.fulfill(
            status=400,
            json={"__type": "NotAuthorizedException", "message": "Refresh Token has expired"},
            headers=_cors(desk),
        ),
    )
    # When the agent changes the status
    page.locator("#detail-status").select_option("resolved")
    # Then the sign-in form says why, and the ticket was not changed
    expect(page.locator("[data-signin-reason]")).to_have_text(EXPIRED)
    assert desk.api_get(ticket["id"])["status"] == "open"

    # When they sign in again they are back on the ticket, which shows what the server holds
    page.unroute_all()
    desk.sign_in_with_form()
    expect(page.locator("[data-ticket-title]")).to_have_text(f"Half done {token}")
    expect(page.locator("#detail-status")).to_have_value("open")
    assert page.url.endswith(f"#/tickets/{ticket['id']}")


def _cors(desk: Desk) -> dict[str, str]:
    return {"Access-Control-Allow-Origin": desk.stack.site_url.rstrip("/")}


def test_public_calls_carry_no_token_even_for_a_signed_in_agent(desk: Desk) -> None:
    token = unique()
    sent: list[dict[str, Any]] = []
    page = desk.open("#/new")
    page.on(
        "request",
        lambda request: (
            sent.append(request.headers) if request.url.startswith(desk.stack.api_url) else None
        ),
    )
    # Even for a signed-in agent, the public calls carry no token
    page.get_by_label("Email", exact=True).fill(f"{token}@example.com")
    page.get_by_label("Title").fill(f"Public {token}")
    page.get_by_label("Description").fill("Filed by an agent on behalf of a customer, by phone.")
    page.get_by_label("Category").select_option("general")
    page.get_by_label("Priority").select_option("low")
    page.locator("[data-submit]").click()
    expect(page.locator("[data-submit-success]")).to_be_visible()
    assert sent, "no API request seen"
    assert all("authorization" not in headers for headers in sent), sent
    assert re.fullmatch(r"[a-z2-7]{24}", desk.api_find(token)[0]["id"])


def test_the_local_site_allows_connections_to_exactly_this_stack(stack: RunningStack) -> None:
    # The local server renders index.html like the deploy step: connect-src is exact
    html = requests.get(stack.site_url, timeout=5).text
    policy = re.search(r'http-equiv="Content-Security-Policy"\s+content="([^"]*)"', html)
    assert policy is not None, html
    directives = dict(d.strip().split(" ", 1) for d in policy.group(1).split(";") if d.strip())
    api_origin = stack.api_url.removesuffix("/api")
    cognito_origin = stack.state["cognito_endpoint"].rstrip("/")
    assert directives["connect-src"] == f"'self' {api_origin} {cognito_origin}"
    assert requests.get(stack.site_url + "index.html", timeout=5).text == html
