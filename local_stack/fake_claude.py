"""A fake Anthropic Messages API on 127.0.0.1 for tests and the local stack.

The real ``anthropic`` SDK talks to it through ``base_url``. Its behaviour is
scripted over HTTP (``POST /_control``) so tests in other processes can drive it:

- ``{"mode": "ok"}`` (default): a ``tool_use`` answer. The classification is the
  scripted ``answer`` if one is set (sent as is, so a script may leave out
  ``confidence``), else the offline classifier's reading of the fenced ticket text,
  with its confidence, so the local stack gives sensible suggestions.
- ``"timeout"``: wait ``delay`` seconds (default 30) before answering.
- ``"error500"``, ``"overloaded529"``, ``"ratelimit429"``: that error.
- ``"out_of_enum"``: a tool call whose category is not an allowed value.
- ``"no_tool"``: a plain text answer with no tool call.

``delay`` (seconds) also slows the ``ok`` answer. The latest
:data:`REQUEST_LOG_SIZE` requests are recorded and listed by ``GET /_requests``
(oldest first; a log of every request grew the local stack by some 9 KB per
classification for as long as it ran); ``POST /_reset`` restores the defaults.
"""

from __future__ import annotations

import json
import re
import sys
import threading
import time
import uuid
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from local_stack.background import BackgroundServer

REQUEST_LOG_SIZE = 200

_TITLE = re.compile(r"<ticket_title>(.*?)</ticket_title>", re.S)
_DESCRIPTION = re.compile(r"<ticket_description>(.*?)</ticket_description>", re.S)


class FakeClaudeState:
    """What the fake does next, and what it has seen."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Back to answering normally, with an empty request log."""
        self.mode = "ok"
        self.delay = 0.0
        self.answer: dict[str, str] | None = None
        self.requests: deque[dict[str, Any]] = deque(maxlen=REQUEST_LOG_SIZE)


def _message(tool_input: dict[str, Any] | None, model: str, tool_name: str) -> dict[str, Any]:
    content: list[dict[str, Any]]
    if tool_input is None:
        content = [{"type": "text", "text": "I think this is a billing question."}]
    else:
        content = [
            {
                "type": "tool_use",
                "id": f"toolu_{uuid.uuid4().hex[:24]}",
                "name": tool_name,
                "input": tool_input,
            }
        ]
    return {
        "id": f"msg_{uuid.uuid4().hex[:24]}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": "tool_use" if tool_input is not None else "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 120, "output_tokens": 18},
    }


class _Handler(BaseHTTPRequestHandler):
    server: _FakeClaudeHTTPServer
    protocol_version = "HTTP/1.1"
    # Headers and body are separate sends: without TCP_NODELAY the SDK's keep-alive
    # connection waits ~40 ms for each answer (Nagle's algorithm meets delayed ACKs).
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Quiet: tests read the request log instead."""

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b"{}"
        return json.loads(raw or b"{}")

    def do_GET(self) -> None:
        state = self.server.state
        if self.path == "/_requests":
            with state.lock:
                self._send(200, list(state.requests))
        else:
            self._send(404, {"type": "error", "error": {"type": "not_found_error"}})

    def do_POST(self) -> None:
        state = self.server.state
        body = self._body()
        if self.path == "/_reset":
            with state.lock:
                state.reset()
            self._send(200, {"ok": True})
            return
        if self.path == "/_control":
            with state.lock:
                state.mode = body.get("mode", state.mode)
                state.delay = float(body.get("delay", state.delay))
                state.answer = body.get("answer", state.answer)
            self._send(200, {"ok": True})
            return
        if self.path.split("?")[0] != "/v1/messages":
            self._send(404, {"type": "error", "error": {"type": "not_found_error"}})
            return
        with state.lock:
            state.requests.append(
                {"headers": {k.lower(): v for k, v in self.headers.items()}, "body": body}
            )
            mode, delay, answer = state.mode, state.delay, state.answer
        self._answer(body, mode, delay, answer)

    def _answer(
        self, body: dict[str, Any], mode: str, delay: float, answer: dict[str, str] | None
    ) -> None:
        # SDK versions differ: older ones send x-api-key, newer ones a Bearer token.
        bearer = (self.headers.get("authorization") or "").removeprefix("Bearer ").strip()
        if (self.headers.get("x-api-key") or bearer) in (None, "", "invalid"):
            self._send(401, _error("authentication_error", "invalid x-api-key"))
            return
        if mode == "timeout":
            time.sleep(delay or 30.0)
        elif delay:
            time.sleep(delay)
        if mode == "error500":
            self._send(500, _error("api_error", "Internal server error"))
            return
        if mode == "overloaded529":
            self._send(529, _error("overloaded_error", "Overloaded"))
            return
        if mode == "ratelimit429":
            self._send(429, _error("rate_limit_error", "Rate limited"), {"retry-after": "30"})
            return
        tool_name = (body.get("tool_choice") or {}).get("name", "record")
        model = str(body.get("model", "claude"))
        if mode == "no_tool":
            self._send(200, _message(None, model, tool_name))
            return
        if mode == "out_of_enum":
            self._send(
                200, _message({"category": "shipping", "priority": "urgent"}, model, tool_name)
            )
            return
        self._send(200, _message(answer or _read_ticket(body), model, tool_name))


def _error(kind: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": message}}


def _read_ticket(body: dict[str, Any]) -> dict[str, str]:
    text = ""
    for message in body.get("messages", []):
        content = message.get("content")
        if isinstance(content, str):
            text += content
        elif isinstance(content, list):
            text += "".join(part.get("text", "") for part in content if isinstance(part, dict))
    title = _TITLE.search(text)
    description = _DESCRIPTION.search(text)
    # Imported on first use, like the app does: the fake starts without loading the model.
    from chalicelib.classification.offline import classify_offline

    answer = classify_offline(
        title.group(1) if title else "", description.group(1) if description else text
    )
    return {
        "category": answer.category.value,
        "priority": answer.priority.value,
        "confidence": answer.confidence.value,
    }


class _FakeClaudeHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    state: FakeClaudeState

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out and hung up is the point of the timeout mode.
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)


class FakeClaudeServer(BackgroundServer):
    """Runs the fake in a background thread; ``url`` is the SDK's ``base_url``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        server = _FakeClaudeHTTPServer((host, port), _Handler)
        server.state = FakeClaudeState()
        super().__init__(server)
        self._state = server.state

    @property
    def state(self) -> FakeClaudeState:
        """The shared state (in-process tests may set it directly)."""
        return self._state

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return self.origin
