"""Serve ``static-site/`` with a generated ``config.js`` (what S3 + CloudFront do once deployed)."""

from __future__ import annotations

import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tools.site_config import render_config_js

_NO_CACHE = {"/config.js", "/", "/index.html"}


class _SiteHandler(SimpleHTTPRequestHandler):
    config_js: bytes = b""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Quiet: the API logs what matters."""

    def end_headers(self) -> None:
        path = self.path.split("?", 1)[0]
        self.send_header("Cache-Control", "no-cache" if path in _NO_CACHE else "max-age=60")
        self.send_header("X-Content-Type-Options", "nosniff")
        super().end_headers()

    def do_GET(self) -> None:
        if self.path.split("?", 1)[0] == "/config.js":
            self.send_response(200)
            self.send_header("Content-Type", "text/javascript; charset=utf-8")
            self.send_header("Content-Length", str(len(self.config_js)))
            self.end_headers()
            self.wfile.write(self.config_js)
            return
        super().do_GET()


class SiteServer:
    """Static files from ``root`` on ``host:port``."""

    def __init__(self, root: Path, host: str, port: int, config: dict[str, Any]) -> None:
        handler: type[_SiteHandler] = type(
            "SiteHandler",
            (_SiteHandler,),
            {
                "config_js": render_config_js(config).encode(),
                "extensions_map": {
                    **SimpleHTTPRequestHandler.extensions_map,
                    ".js": "text/javascript",
                    ".mjs": "text/javascript",
                    ".css": "text/css",
                    ".svg": "image/svg+xml",
                },
            },
        )
        self._server = ThreadingHTTPServer((host, port), partial(handler, directory=str(root)))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """``http://host:port/``."""
        host, port = self._server.server_address[:2]
        return f"http://{_text(host)}:{port}/"

    def start(self) -> SiteServer:
        """Serve in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop and release the port."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def _text(host: str | bytes | bytearray) -> str:
    return host.decode() if isinstance(host, (bytes, bytearray)) else host
