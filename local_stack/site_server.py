"""Serve ``static-site/`` with a generated ``config.js`` (what S3 + CloudFront do once deployed).

``/`` and ``/index.html`` are rendered by :func:`tools.site_build.render_index_html`, as
the deploy step does, so the local Content-Security-Policy lets the page connect to
exactly the API and the Cognito endpoint of this stack, not any loopback port.
"""

from __future__ import annotations

import json
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from local_stack.background import BackgroundServer
from local_stack.outbox import outbox_page, sent_emails
from tools.site_build import render_index_html
from tools.site_config import render_config_js

_NO_CACHE = {"/config.js", "/", "/index.html", "/_outbox.json", "/_outbox", "/_outbox/"}
_INDEX_PATHS = {"/", "/index.html"}


def render_local_index(config: dict[str, Any]) -> bytes:
    """``index.html`` whose ``connect-src`` names this stack's API and Cognito origins."""
    cognito = config.get("cognito")
    endpoint = cognito.get("endpoint") if isinstance(cognito, dict) else None
    extra = [str(endpoint)] if endpoint else []
    return render_index_html(str(config["apiBaseUrl"]), extra_origins=extra).encode()


class _SiteHandler(SimpleHTTPRequestHandler):
    # Headers and body are separate sends: without TCP_NODELAY a keep-alive
    # browser waits ~40 ms per file (Nagle's algorithm meets delayed ACKs).
    disable_nagle_algorithm = True
    config_js: bytes = b""
    index_html: bytes = b""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Quiet: the API logs what matters."""

    def end_headers(self) -> None:
        path = self.path.split("?", 1)[0]
        self.send_header("Cache-Control", "no-cache" if path in _NO_CACHE else "max-age=60")
        self.send_header("X-Content-Type-Options", "nosniff")
        super().end_headers()

    def do_GET(self) -> None:
        if not self._send_generated(with_body=True):
            super().do_GET()

    def do_HEAD(self) -> None:
        if not self._send_generated(with_body=False):
            super().do_HEAD()

    def _send_generated(self, *, with_body: bool) -> bool:
        """Answer for ``config.js``, the index page and the outbox; False for any other path."""
        path = self.path.split("?", 1)[0]
        if path == "/config.js":
            body, content_type = self.config_js, "text/javascript; charset=utf-8"
        elif path in _INDEX_PATHS:
            body, content_type = self.index_html, "text/html; charset=utf-8"
        elif path == "/_outbox.json":
            body = json.dumps(sent_emails(), ensure_ascii=False).encode()
            content_type = "application/json; charset=utf-8"
        elif path in {"/_outbox", "/_outbox/"}:
            body = outbox_page(sent_emails()).encode()
            content_type = "text/html; charset=utf-8"
        else:
            return False
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if with_body:
            self.wfile.write(body)
        return True


class SiteServer(BackgroundServer):
    """Static files from ``root`` on ``host:port``."""

    def __init__(self, root: Path, host: str, port: int, config: dict[str, Any]) -> None:
        handler: type[_SiteHandler] = type(
            "SiteHandler",
            (_SiteHandler,),
            {
                "config_js": render_config_js(config).encode(),
                "index_html": render_local_index(config),
                "extensions_map": {
                    **SimpleHTTPRequestHandler.extensions_map,
                    ".js": "text/javascript",
                    ".mjs": "text/javascript",
                    ".css": "text/css",
                    ".svg": "image/svg+xml",
                },
            },
        )
        server = ThreadingHTTPServer((host, port), partial(handler, directory=str(root)))
        server.daemon_threads = True
        super().__init__(server)

    @property
    def url(self) -> str:
        """``http://host:port/``."""
        return self.origin + "/"
