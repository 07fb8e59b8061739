"""Serve the Chalice app under ``/api`` the way API Gateway does once deployed.

``chalice local`` has no stage prefix and answers gateway-level errors with
AWS's own bodies. This server strips ``/api``, answers CORS preflights for the
configured origins, caps bodies at API Gateway's 10 MB, and gives gateway-level
errors (unknown route, authorizer denial) the API's JSON error shape with CORS
headers, as the deployed Gateway Responses do.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from chalice.app import Chalice
from chalice.config import Config
from chalice.local import ChaliceRequestHandler, LocalDevServer, LocalGatewayException

from chalicelib.api.http import ALLOWED_REQUEST_HEADERS, API_PREFIX, EXPOSED_HEADERS
from chalicelib.settings import get_settings
from local_stack.background import BackgroundServer

API_GATEWAY_MAX_BODY = 10 * 1024 * 1024


def gateway_error(code: int, body: bytes | None, method: str, path: str) -> tuple[int, str]:
    """Status and message of API Gateway's own answers, as the deploy template's Gateway
    Responses configure them: unknown route 404; no token 401; an authorizer's deny
    (invalid, expired or foreign token) 401 as well, so the site shows its sign-in."""
    if code == 403 and b"Missing Authentication Token" in (body or b""):
        return 404, f"No such endpoint: {method} {API_PREFIX}{path}"
    if code == 401:
        return 401, "Sign in required: send an agent token as 'Authorization: Bearer <token>'"
    if code == 403:
        return 401, "Your session is invalid or has expired: sign in again"
    return code, "Request refused"


def load_chalice_config(project_dir: Path, stage: str) -> Config:
    """The Chalice config of ``stage`` as ``chalice local`` would build it."""
    config_from_disk = json.loads((project_dir / ".chalice" / "config.json").read_text())
    return Config(
        chalice_stage=stage,
        user_provided_params={"project_dir": str(project_dir)},
        config_from_disk=config_from_disk,
    )


class GatewayRequestHandler(ChaliceRequestHandler):
    """Chalice's local handler behind an ``/api`` stage prefix."""

    # The status line and headers go out in one send, the body in another: with
    # Nagle's algorithm on, a keep-alive client (every browser) waits ~40 ms for
    # each response (the body waits for the delayed ACK of the headers).
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """The app logs each request itself (one JSON line)."""

    def _cors_headers(self) -> dict[str, str]:
        origin = (self.headers.get("Origin") or "").rstrip("/")
        if origin and origin in get_settings().allowed_origins:
            return {
                "Access-Control-Allow-Origin": self.headers["Origin"],
                "Access-Control-Expose-Headers": ",".join(EXPOSED_HEADERS),
                "Vary": "Origin",
            }
        return {"Vary": "Origin"}

    def _send_json_error(
        self, status: int, message: str, headers: dict[str, str] | None = None
    ) -> None:
        body = json.dumps({"error": message}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in {**self._cors_headers(), **(headers or {})}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _send_error_response(self, error: LocalGatewayException) -> None:
        status, message = gateway_error(error.CODE, error.body, self.command, self.path)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
        self._send_json_error(status, message, headers)

    def _preflight(self) -> None:
        cors = self._cors_headers()
        self.send_response(204 if "Access-Control-Allow-Origin" in cors else 403)
        for name, value in cors.items():
            self.send_header(name, value)
        self.send_header("Access-Control-Allow-Methods", "GET,POST,PATCH,DELETE,OPTIONS")
        self.send_header("Access-Control-Allow-Headers", ",".join(ALLOWED_REQUEST_HEADERS))
        self.send_header("Access-Control-Max-Age", "600")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _generic_handle(self) -> None:
        path: str = getattr(self, "path", "/")
        if not (path == API_PREFIX or path.startswith((API_PREFIX + "/", API_PREFIX + "?"))):
            self._discard_body()
            self._send_json_error(404, f"No such endpoint: {self.command} {path}")
            return
        stripped = path[len(API_PREFIX) :] or "/"
        self.path = "/" + stripped if stripped.startswith("?") else stripped
        length = int(self.headers.get("Content-Length") or 0)
        if length > API_GATEWAY_MAX_BODY:
            self.close_connection = True
            self._send_json_error(413, "The request body is larger than 10 MB")
            return
        if self.command == "OPTIONS":
            self._discard_body()
            self._preflight()
            return
        super()._generic_handle()

    def _discard_body(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if 0 < length <= API_GATEWAY_MAX_BODY:
            self.rfile.read(length)

    def __getattr__(self, name: str) -> Any:
        # Any other method (TRACE, CONNECT, PROPFIND...) is a JSON 405, not the
        # standard library's HTML 501; API Gateway refuses them before the app too.
        if name.startswith("do_"):
            return self._method_not_allowed
        raise AttributeError(name)

    def _method_not_allowed(self) -> None:
        self._discard_body()
        self._send_json_error(
            405,
            f"{self.command} is not supported",
            {"Allow": "GET, POST, PATCH, DELETE, OPTIONS"},
        )

    # BaseHTTPRequestHandler dispatches on these names, bound in the base class to
    # its own _generic_handle: rebind them or the override above is never called.
    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _generic_handle


class ApiServer(BackgroundServer):
    """The app on ``host:port`` in a background thread."""

    def __init__(self, app: Chalice, config: Config, host: str, port: int) -> None:
        dev_server = LocalDevServer(app, config, host, port, handler_cls=GatewayRequestHandler)
        super().__init__(dev_server.server)

    @property
    def url(self) -> str:
        """The API base URL, ending in ``/api``."""
        return self.origin + API_PREFIX
