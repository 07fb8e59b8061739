"""Agents sign in through the site's form: success, wrong password, sign-out (revoking the
refresh token at Cognito), refresh, expiry, and one sign-in shared by every tab of a browser.

moto does not implement Cognito's RevokeToken (it answers 500), so every sign-out here
meets a Playwright route stub that records the call and answers as Cognito would.
"""

from __future__ import annotations

import base64
import json
import re
import time
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, BrowserContext, Page, Request, Response, Route, expect

from tests.e2e.axe_audit import assert_accessible
from tests.e2e.conftest import RunningStack
from tests.e2e.site_fixtures import (  # noqa: F401 - fixtures
    SESSION_STORAGE_KEY,
    Desk,
    agent_headers,
    agent_tokens,
    anonymous_desk_fixture,
    desk_fixture,
    jwt_claims,
    unique,
)

pytestmark = pytest.mark.browser

EXPIRED = "Your session expired — sign in again."
REVOKE_TARGET = "AWSCognitoIdentityProviderService.RevokeToken"
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
# Records, in every document of a context, whether the sign-in form was ever shown.
_RECORD_SIGN_IN_FORM = """
window.__signInFormShown = false;
new MutationObserver(() => {
  if (document.querySelector('[data-view="signin"]')) window.__signInFormShown = true;
}).observe(document, { childList: true, subtree: true });
"""


def _stub_revoke(
    target: Page | BrowserContext, desk: Desk, answer: str = "ok"
) -> list[dict[str, Any]]:
    """Answer the page's RevokeToken calls as Cognito would (moto has no RevokeToken).

    ``answer``: "ok" (200 and ``{}``, Cognito's success), "refused" (a 400 error),
    "unreachable" (connection refused) or "silent" (never answers). Other Cognito
    calls (sign-in, refresh) go on to moto. Returns the calls seen: headers and body.
    """
    endpoint = desk.stack.state["cognito_endpoint"].rstrip("/")
    calls: list[dict[str, Any]] = []

    def handle(route: Route) -> None:
        request = route.request
        headers = request.all_headers()
        if request.method != "POST" or headers.get("x-amz-target") != REVOKE_TARGET:
            route.fallback()
            return
        calls.append({"headers": headers, "body": json.loads(request.post_data or "null")})
        if answer == "ok":
            route.fulfill(status=200, json={}, headers=_cors(desk))
        elif answer == "refused":
            route.fulfill(
                status=400,
                json={"__type": "UnauthorizedException", "message": "Token revocation failed"},
                headers=_cors(desk),
            )
        elif answer == "unreachable":
            route.abort("connectionrefused")
        # "silent": leave the request hanging; the site gives up after its timeout.

    target.route(lambda url: url.rstrip("/") == endpoint, handle)
    return calls


def _searchable(desk: Desk, token: str, count: int) -> None:
    """Wait until the API's search finds the tickets just made.

    The search index is written from the table's stream (about a second later), so a
    search sent at once can miss a ticket created a moment before.
    """
    desk.api_find_at_least(token, count)


def _stored(page: Page) -> dict[str, Any] | None:
    text = page.evaluate(f"sessionStorage.getItem({SESSION_STORAGE_KEY!r})")
    return json.loads(text) if text else None


def _watch(desk: Desk, page: Page) -> Page:
    """Hold another tab to the fixture's rules: no page errors, no token in the console."""
    page.set_default_timeout(10_000)
    page.on("console", lambda message: desk.console_lines.append(message.text))
    page.on("pageerror", lambda error: desk.page_errors.append(str(error)))
    return page


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
    _searchable(desk, token, 1)
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
    # (by the name in their ID token, the email one hover away)
    stored = desk.stored_session()
    assert stored is not None
    name = jwt_claims(stored["idToken"])["name"]
    assert name and name != desk.agent_username
    who = page.locator("[data-session-user]")
    expect(who).to_have_text(name)
    expect(who).to_have_attribute("title", desk.agent_username)
    expect(page.locator("[data-announcer]")).to_have_text(f"Signed in as {name}.")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    # And the session is kept for this tab only, never in the address
    assert stored["username"] == desk.agent_username
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
    revokes = _stub_revoke(desk.page, desk)
    page = desk.open("#/dashboard")
    desk.sign_in_with_form()
    expect(page.locator('[data-kpi="total"]')).to_be_visible()
    signed_in = desk.stored_session()
    assert signed_in is not None

    # When the agent signs out
    page.get_by_role("button", name="Sign out").click()
    # Then the sign-in form is back, the figures are gone and nothing is stored
    expect(page.get_by_role("heading", name="Agent sign-in")).to_be_visible()
    expect(page.locator("[data-signin-reason]")).to_have_text("You have signed out.")
    expect(page.locator('[data-kpi="total"]')).to_have_count(0)
    expect(page.locator("[data-session]")).to_be_empty()
    assert desk.stored_session() is None
    # And the refresh token was revoked at Cognito first
    assert [call["body"]["Token"] for call in revokes] == [signed_in["refreshToken"]]
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
    _searchable(desk, token, 1)
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
    _searchable(desk, token, 2)
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
    assert re.fullmatch(r"[a-z2-7]{24}", desk.api_find_at_least(token)[0]["id"])


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


def test_a_new_tab_is_signed_in_and_signing_out_in_one_tab_signs_out_every_tab(
    anonymous_desk: Desk, browser: Browser
) -> None:
    desk = anonymous_desk
    token = unique()
    ticket = desk.api_create(title=f"Shared session {token}")
    _searchable(desk, token, 1)
    page = desk.page
    context = page.context
    revokes = _stub_revoke(context, desk)
    context.add_init_script(_RECORD_SIGN_IN_FORM)
    page = desk.open(f"#/tickets?search={token}")
    desk.sign_in_with_form()
    rows = page.locator("[data-ticket-row]")
    expect(rows).to_have_count(1)
    session = desk.stored_session()
    assert session is not None

    # When the agent opens a new tab of the same browser (nothing copied into it)
    second = _watch(desk, context.new_page())
    second.goto(desk.stack.site_url + f"#/tickets/{ticket['id']}")
    # Then it shows the ticket, signed in, and never showed the sign-in form
    expect(second.locator("[data-ticket-title]")).to_have_text(f"Shared session {token}")
    expect(second.locator("[data-session-user]")).to_have_attribute("title", desk.agent_username)
    assert second.evaluate("window.__signInFormShown") is False
    # And the session it was handed is in that tab's sessionStorage only: nothing in
    # localStorage or cookies, nothing in the page or the address
    assert _stored(second) == session
    for tab in (page, second):
        assert tab.evaluate("localStorage.length") == 0
        assert "eyJ" not in tab.content()
        assert "eyJ" not in tab.url
    assert context.cookies() == []

    # When the agent Ctrl+clicks, or middle-clicks, a ticket in the list
    link = rows.first.locator("[data-ticket-link]")
    for click in (lambda: link.click(modifiers=["Control"]), lambda: link.click(button="middle")):
        with context.expect_page() as opened:
            click()
        third = _watch(desk, opened.value)
        # Then it opens in a new tab, signed in
        expect(third.locator("[data-ticket-title]")).to_have_text(f"Shared session {token}")
        assert third.evaluate("window.__signInFormShown") is False
        third.close()

    # And another browser profile is not signed in: the channel never leaves this one
    other = browser.new_context()
    try:
        stranger = other.new_page()
        stranger.goto(desk.stack.site_url + "#/tickets")
        expect(stranger.get_by_role("heading", name="Agent sign-in")).to_be_visible()
        assert stranger.evaluate(f"sessionStorage.getItem({SESSION_STORAGE_KEY!r})") is None
    finally:
        other.close()

    # When the agent signs out in the second tab
    second.get_by_role("button", name="Sign out").click()
    # Then both tabs show the sign-in form, with nothing stored and nothing of the console
    for tab in (page, second):
        expect(tab.get_by_role("heading", name="Agent sign-in")).to_be_visible()
        expect(tab.locator("[data-session]")).to_be_empty()
        assert _stored(tab) is None
        assert tab.evaluate("localStorage.length") == 0
    expect(second.locator("[data-signin-reason]")).to_have_text("You have signed out.")
    expect(page.locator("[data-signin-reason]")).to_have_text("You signed out in another tab.")
    expect(rows).to_have_count(0)
    expect(second.locator("[data-ticket-title]")).to_have_count(0)
    # And the refresh token was revoked at Cognito once, as Cognito's API expects it
    assert len(revokes) == 1
    assert revokes[0]["body"] == {
        "Token": session["refreshToken"],
        "ClientId": desk.stack.state["cognito_client_id"],
    }
    assert revokes[0]["headers"]["content-type"] == "application/x-amz-json-1.1"

    # And no tab hands a session over any more: a reload and a new tab ask for sign-in
    page.reload()
    expect(page.get_by_role("heading", name="Agent sign-in")).to_be_visible()
    fourth = _watch(desk, context.new_page())
    fourth.goto(desk.stack.site_url + "#/dashboard")
    expect(fourth.get_by_role("heading", name="Agent sign-in")).to_be_visible()
    assert _stored(fourth) is None
    fourth.close()

    # When the agent signs in again in one tab, the other tab that shows the form follows
    desk.sign_in_with_form()
    expect(rows).to_have_count(1)
    expect(second.locator("[data-ticket-title]")).to_have_text(f"Shared session {token}")
    assert _stored(second) == desk.stored_session()
    second.close()


@pytest.mark.parametrize("failure", ["refused", "unreachable", "silent"])
def test_signing_out_when_the_token_cannot_be_revoked_still_signs_out_and_says_so(
    anonymous_desk: Desk, failure: str
) -> None:
    desk = anonymous_desk
    page = desk.open("#/dashboard")
    desk.sign_in_with_form()
    expect(page.locator('[data-kpi="total"]')).to_be_visible()
    # Given Cognito refuses the revocation, cannot be reached, or never answers
    revokes = _stub_revoke(page, desk, failure)

    # When the agent signs out
    page.get_by_role("button", name="Sign out").click()
    # Then they are signed out all the same, and told that the token was not revoked
    expect(page.get_by_role("heading", name="Agent sign-in")).to_be_visible()
    expect(page.locator("[data-signin-reason]")).to_contain_text(
        "your session could not be revoked"
    )
    expect(page.locator('[data-kpi="total"]')).to_have_count(0)
    expect(page.locator("[data-session]")).to_be_empty()
    assert desk.stored_session() is None
    assert len(revokes) == 1
    # And a reload stays signed out
    page.reload()
    expect(page.get_by_role("heading", name="Agent sign-in")).to_be_visible()


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_the_sign_in_form_has_no_axe_violations(
    browser: Browser, stack: RunningStack, viewport: str
) -> None:
    context = browser.new_context(bypass_csp=True, viewport=VIEWPORTS[viewport])
    try:
        page = context.new_page()
        page.goto(stack.site_url + "#/dashboard")
        expect(page.get_by_role("heading", name="Agent sign-in")).to_be_visible()
        assert_accessible(page)
        # And with its error showing
        page.get_by_label("Email").fill(f"{unique()}@example.com")
        page.get_by_label("Password").fill("not-the-password-1")
        page.get_by_label("Password").press("Enter")
        expect(page.locator("[data-signin-error]")).to_have_text("Wrong email or password.")
        assert_accessible(page)
    finally:
        context.close()


def test_a_refresh_in_one_tab_is_shared_with_the_other_tabs(anonymous_desk: Desk) -> None:
    desk = anonymous_desk
    page = desk.open("#/dashboard")
    desk.sign_in_with_form()
    expect(page.locator('[data-kpi="total"]')).to_be_visible()
    second = _watch(desk, page.context.new_page())
    second.goto(desk.stack.site_url + "#/tickets")
    expect(second.get_by_role("heading", name="Tickets")).to_be_visible()
    endpoint = desk.stack.state["cognito_endpoint"].rstrip("/")
    refreshes: list[str] = []
    page.context.on(
        "request",
        lambda request: (
            refreshes.append(request.url)
            if request.url.rstrip("/") == endpoint
            and "REFRESH_TOKEN_AUTH" in (request.post_data or "")
            else None
        ),
    )
    stored = desk.stored_session()
    assert stored is not None

    # Given the first tab's ID token is about to expire (a second after the sign-in at
    # least: a token's expiry is in whole seconds, and a tab takes a shared token only if
    # it expires later than its own, so a refresh within the sign-in's second, which only
    # a test makes, would rightly be ignored)
    time.sleep(1.1)
    desk.store_session({**stored, "expiresAt": page.evaluate("Date.now()") + 5_000})
    # When it loads the figures, it refreshes the token first
    page.reload()
    expect(page.locator('[data-kpi="total"]')).to_be_visible()
    refreshed = desk.stored_session()
    assert refreshed is not None and refreshed["idToken"] != stored["idToken"]
    # Then the second tab takes the new ID token (and keeps its refresh token) without
    # asking Cognito itself
    second.wait_for_function(
        "([key, token]) => JSON.parse(sessionStorage.getItem(key) || 'null')?.idToken === token",
        arg=[SESSION_STORAGE_KEY, refreshed["idToken"]],
    )
    assert _stored(second) == refreshed
    assert len(refreshes) == 1
    second.close()


def test_the_header_falls_back_to_the_email_without_a_name_claim(desk: Desk) -> None:
    # Given a stored session whose ID token has no "name" claim (the API is not called:
    # the header reads the claims for display only)
    page = desk.open("#/new")
    stored = desk.stored_session()
    assert stored is not None
    header, _payload, signature = stored["idToken"].split(".")
    claims = jwt_claims(stored["idToken"])
    del claims["name"]
    unnamed = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    desk.store_session({**stored, "idToken": f"{header}.{unnamed}.{signature}"})
    page.reload()
    # Then the header shows the email
    expect(page.locator("[data-session-user]")).to_have_text(desk.agent_username)
