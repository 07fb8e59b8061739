"""A socket server running in a daemon thread: the shape every local service shares."""

from __future__ import annotations

import threading
from socketserver import BaseServer
from typing import Any, Self


class BackgroundServer:
    """Owns one ``serve_forever`` server; ``start()`` returns self, ``stop()`` frees the port."""

    def __init__(self, server: BaseServer) -> None:
        self._server: Any = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)

    @property
    def origin(self) -> str:
        """``http://host:port`` (the port the OS chose when asked for port 0)."""
        host, port = self._server.server_address[:2]
        if isinstance(host, (bytes, bytearray)):
            host = host.decode()
        return f"http://{host}:{port}"

    def start(self) -> Self:
        """Serve in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
