"""The deployed ``index.html``: the checked-in page with its CSP narrowed to one API origin.

``static-site/index.html`` ships a Content-Security-Policy whose ``connect-src`` allows
``'self'`` and loopback on any port, because ``make run`` and the tests choose ports at
run time. A deployed site must talk to exactly one API: :func:`render_index_html`
replaces that directive with ``connect-src 'self' <api origin>`` and leaves the rest
of the policy (no inline script, no third-party anything) as it is. See docs/frontend.md.

``python -m tools.site_build --api-origin https://abc.execute-api.eu-west-1.amazonaws.com
--out build/site/index.html`` writes the file; the deploy step may call the function.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

SITE_DIR = Path(__file__).resolve().parent.parent / "static-site"
INDEX_HTML = SITE_DIR / "index.html"

_CSP_META = re.compile(
    r'(<meta\s+http-equiv="Content-Security-Policy"\s+content=")([^"]*)(")', re.IGNORECASE
)
_CONNECT_SRC = re.compile(r"connect-src[^;]*")
# A DNS name or IPv4 address (IPv6 literals are not needed for an API endpoint).
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*$")


class InvalidOrigin(ValueError):
    """The value given is not a single http(s) origin that is safe to put in a CSP."""


def api_origin(url: str) -> str:
    """The origin (``scheme://host[:port]``) of an API base URL such as ``https://x/api``.

    Refuses wildcards, credentials, query strings, fragments and anything that could
    end or extend the CSP directive (quotes, semicolons, spaces, commas).
    """
    text = url.strip()
    if not text or any(char in text for char in " \t\r\n;,'\"*<>`\\"):
        raise InvalidOrigin(f"not a plain http(s) URL: {url!r}")
    parts = urlsplit(text)
    if parts.scheme not in {"http", "https"}:
        raise InvalidOrigin(f"the API must be served over http or https, got {url!r}")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise InvalidOrigin(f"an origin has no credentials, query or fragment: {url!r}")
    host = (parts.hostname or "").lower()
    if not _HOST.match(host):
        raise InvalidOrigin(f"not a valid host name in {url!r}")
    try:
        port = parts.port
    except ValueError as exc:
        raise InvalidOrigin(f"bad port in {url!r}") from exc
    default_port = 443 if parts.scheme == "https" else 80
    suffix = f":{port}" if port is not None and port != default_port else ""
    return f"{parts.scheme}://{host}{suffix}"


def render_index_html(
    api_origin_or_url: str,
    template: str | None = None,
    *,
    extra_origins: Sequence[str] = (),
) -> str:
    """``index.html`` whose CSP lets the page connect only to itself and the API.

    ``api_origin_or_url`` is the API origin or its base URL (``https://host/api``);
    ``extra_origins`` are other exact origins the page must reach (the Cognito
    endpoint agents sign in at, e.g. ``https://cognito-idp.eu-west-1.amazonaws.com``);
    ``template`` defaults to the checked-in ``static-site/index.html``.
    """
    origins = list(dict.fromkeys([api_origin(api_origin_or_url), *map(api_origin, extra_origins)]))
    origin = " ".join(origins)
    html = INDEX_HTML.read_text(encoding="utf-8") if template is None else template
    metas = _CSP_META.findall(html)
    if len(metas) != 1:
        raise ValueError(f"expected one Content-Security-Policy meta tag, found {len(metas)}")
    policy = metas[0][1]
    if len(_CONNECT_SRC.findall(policy)) != 1:
        raise ValueError("the Content-Security-Policy must have exactly one connect-src directive")
    new_policy = _CONNECT_SRC.sub(f"connect-src 'self' {origin}", policy)
    return _CSP_META.sub(lambda match: match.group(1) + new_policy + match.group(3), html, count=1)


def main(argv: list[str] | None = None) -> None:
    """Write the deployable ``index.html`` for one API origin."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--api-origin", required=True, help="API origin or base URL")
    parser.add_argument(
        "--also-connect", action="append", default=[], help="another origin (repeatable)"
    )
    parser.add_argument("--out", required=True, type=Path, help="where to write index.html")
    args = parser.parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    html = render_index_html(args.api_origin, extra_origins=args.also_connect)
    args.out.write_text(html, encoding="utf-8")
    print(f"Wrote {args.out}")


if __name__ == "__main__":
    main()
