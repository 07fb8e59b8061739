"""An in-process moto server whose requests are applied one at a time.

DynamoDB applies a transaction atomically; moto's backend is plain Python with
no locking, so two threads could interleave inside one transaction. Serialising
requests restores the atomicity the application relies on (the HTTP server is
still threaded, so slow clients do not block each other while connecting).

By default the server runs moto with :mod:`local_stack.moto_patch` (memory that holds,
costs that follow the request, bounded streams) and remembers which backend serves a
host; ``patched=False`` serves plain moto, so tests can compare the two in one process
(both share moto's backends).
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

from local_stack import moto_patch
from local_stack.background import BackgroundServer
from local_stack.outbox import spool_outbox


class _SerialisedApp:
    def __init__(self, app: Any, patched: bool) -> None:
        self._app = app
        self._lock = threading.Lock()
        self._patched = patched

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        with self._lock:
            if not self._patched:
                return list(self._app(environ, start_response))
            with moto_patch.active():
                return list(self._app(environ, start_response))


class _MemoDispatcher(DomainDispatcherApplication):  # type: ignore[misc]
    """moto's dispatcher, answering which backend serves a host from a memo.

    moto 5.2.5 works that out afresh for every request. For a signed DynamoDB request
    the host it infers is the bare service name, ``dynamodb``, and ``host in
    list_of_moto_modules()`` lists and sorts moto's package directory and calls
    ``isdir`` on its entries until it reaches ``dynamodb``: about 0.4 to 0.5 ms of every
    DynamoDB call (other services' hosts also try every service's URL patterns). The
    answer depends on the host alone, and moto's modules and patterns do not change
    while it runs. The memo is bounded: a client chooses the service and region that
    other services' hosts are built from.
    """

    MEMO_LIMIT = 256

    def __init__(self, create_app: Any) -> None:
        super().__init__(create_app)
        self._backends: dict[str | None, Any] = {}

    def get_backend_for_host(self, host: str | None) -> Any:
        try:
            return self._backends[host]
        except KeyError:
            backend = super().get_backend_for_host(host)
            if len(self._backends) < self.MEMO_LIMIT:
                self._backends[host] = backend
            return backend


class _NoDelayRequestHandler(MotoRequestHandler):  # type: ignore[misc]
    # werkzeug writes the status line and headers, then the body: with Nagle's
    # algorithm on, the body waits for the client's delayed ACK (~40 ms) on a
    # keep-alive connection, as botocore's pooled connections are.
    disable_nagle_algorithm = True


class MotoServer(BackgroundServer):
    """moto on 127.0.0.1; ``port=0`` picks a free port."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, patched: bool = True) -> None:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        if patched:
            moto_patch.install()
        spool_outbox()  # the SES outbox on disk (one per process, whichever server mails)
        self.patched = patched
        dispatcher = _MemoDispatcher if patched else DomainDispatcherApplication
        app = _SerialisedApp(dispatcher(create_backend_app), patched)
        super().__init__(
            make_server(host, port, app, threaded=True, request_handler=_NoDelayRequestHandler)
        )

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:5123``."""
        return self.origin
