"""The deployed index.html: its CSP allows exactly the site and one API origin."""

from __future__ import annotations

import re

import pytest

from tools.site_build import InvalidOrigin, api_origin, render_index_html


def _policy(html: str) -> str:
    match = re.search(r'http-equiv="Content-Security-Policy"\s+content="([^"]*)"', html)
    assert match, html
    return match.group(1)


def test_connect_src_is_narrowed_to_the_api_origin() -> None:
    # Given the API's base URL on API Gateway
    html = render_index_html("https://abc123.execute-api.eu-west-1.amazonaws.com/api")
    # Then the page may connect to itself and that origin only
    policy = _policy(html)
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
    assert directives["connect-src"] == (
        "'self' https://abc123.execute-api.eu-west-1.amazonaws.com"
    )
    # And the rest of the policy is unchanged (no inline script, nothing third-party)
    assert directives["script-src"] == "'self'"
    assert directives["default-src"] == "'none'"
    assert "127.0.0.1" not in policy


def test_extra_origins_such_as_cognito_are_added_exactly() -> None:
    html = render_index_html(
        "https://abc.execute-api.eu-west-1.amazonaws.com/api",
        extra_origins=["https://cognito-idp.eu-west-1.amazonaws.com/"],
    )
    assert "connect-src 'self' https://abc.execute-api.eu-west-1.amazonaws.com " in html
    assert "https://cognito-idp.eu-west-1.amazonaws.com;" in html
    with pytest.raises(InvalidOrigin):
        render_index_html("https://api.example.com", extra_origins=["https://*.amazonaws.com"])


def test_local_index_only_allows_loopback() -> None:
    local = _policy(render_index_html("http://127.0.0.1:8000"))
    assert "connect-src 'self' http://127.0.0.1:8000;" in local


@pytest.mark.parametrize(
    ("given", "origin"),
    [
        ("https://api.example.com/", "https://api.example.com"),
        ("https://API.example.com:443/api", "https://api.example.com"),
        ("http://localhost:8000/api", "http://localhost:8000"),
    ],
)
def test_origin_of_a_base_url(given: str, origin: str) -> None:
    assert api_origin(given) == origin


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "*",
        "https://*.amazonaws.com",
        "ftp://example.com",
        "javascript:alert(1)",
        "https://example.com; script-src *",
        "https://example.com 'unsafe-inline'",
        "https://user:pw@example.com",
        "https://example.com/?q=1",
        "https://exa_mple.com",
        "https://example.com:99999",
    ],
)
def test_anything_but_one_plain_origin_is_refused(bad: str) -> None:
    with pytest.raises(InvalidOrigin):
        render_index_html(bad)


def test_a_template_without_one_csp_is_refused() -> None:
    with pytest.raises(ValueError, match="Content-Security-Policy"):
        render_index_html("https://api.example.com", template="<!doctype html><title>x</title>")


def test_the_local_site_server_renders_the_stacks_exact_origins() -> None:
    from local_stack.site_server import render_local_index

    # Given the config.js values of a running local stack
    config = {
        "apiBaseUrl": "http://127.0.0.1:8123/api",
        "cognito": {"endpoint": "http://127.0.0.1:5001", "region": "us-east-1", "clientId": "c"},
    }
    # Then its index.html connects to that API and that Cognito endpoint only
    policy = _policy(render_local_index(config).decode())
    assert "connect-src 'self' http://127.0.0.1:8123 http://127.0.0.1:5001;" in policy
    assert "127.0.0.1:*" not in policy
    # And without sign-in settings, to the API alone
    policy = _policy(render_local_index({"apiBaseUrl": "http://127.0.0.1:8123/api"}).decode())
    assert "connect-src 'self' http://127.0.0.1:8123;" in policy
