"""The local stack in a subprocess, started exactly as ``make run`` starts it.

Used by the tools that measure the stack from the outside (``make soak``): free ports,
a state file for the Cognito details, the process's resident memory from /proc.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType

PROJECT_DIR = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT_SECONDS = 90


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class StackProcess:
    """``python -m local_stack`` on free ports; a context manager that stops it with Ctrl-C."""

    def __init__(self, extra_env: dict[str, str] | None = None) -> None:
        self.api_port, self.site_port = free_port(), free_port()
        self._state_file = Path(tempfile.mkdtemp(prefix="local-stack-")) / "state.json"
        self._env = {
            **os.environ,
            "API_PORT": str(self.api_port),
            "SITE_PORT": str(self.site_port),
            "PYTHONUNBUFFERED": "1",
            "LOCAL_STACK_STATE": str(self._state_file),
            "POWERTOOLS_LOG_LEVEL": "WARNING",
            **(extra_env or {}),
        }
        self._env.pop("AWS_ENDPOINT_URL", None)
        self.process: subprocess.Popen[str] | None = None
        self.output: list[str] = []
        self.state: dict[str, str] = {}

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}/api"

    @property
    def site_url(self) -> str:
        return f"http://127.0.0.1:{self.site_port}/"

    def __enter__(self) -> StackProcess:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "local_stack"],
            cwd=PROJECT_DIR,
            env=self._env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert self.process.stdout is not None
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            self.output.append(line)
            if "Local stack ready" in line:
                self.state = json.loads(self._state_file.read_text())
                threading.Thread(target=self._drain, daemon=True).start()
                return self
        self.process.kill()
        raise RuntimeError("the local stack did not start:\n" + "".join(self.output))

    def _drain(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()

    def agent_token(self) -> str:
        """A fresh ID token for the stack's demo agent."""
        from local_stack.cognito import sign_in

        tokens = sign_in(
            self.state["cognito_endpoint"],
            self.state["cognito_client_id"],
            self.state["agent_username"],
            self.state["agent_password"],
        )
        return str(tokens["IdToken"])

    def rss_mb(self) -> float:
        """The stack process's resident memory, in MB (Linux /proc)."""
        assert self.process is not None
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        kilobytes = next(
            int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS")
        )
        return kilobytes / 1024
