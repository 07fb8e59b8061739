"""An in-process moto server whose requests are applied one at a time.

DynamoDB applies a transaction atomically; moto's backend is plain Python with
no locking, so two threads could interleave inside one transaction. Serialising
requests restores the atomicity the application relies on (the HTTP server is
still threaded, so slow clients do not block each other while connecting).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import Any

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

from local_stack.background import BackgroundServer


class _SerialisedApp:
    def __init__(self, app: Any) -> None:
        self._app = app
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        with self._lock:
            return list(self._app(environ, start_response))


class MotoServer(BackgroundServer):
    """moto on 127.0.0.1; ``port=0`` picks a free port."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        app = _SerialisedApp(DomainDispatcherApplication(create_backend_app))
        super().__init__(
            make_server(host, port, app, threaded=True, request_handler=MotoRequestHandler)
        )

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:5123``."""
        return self.origin
