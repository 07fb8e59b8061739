"""The local stack in a subprocess, started exactly as ``make run`` starts it."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from tools.chromium import CHROMIUM_ARGS, find_chromium

PROJECT_DIR = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_SECONDS = 60


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningStack:
    """URLs of a running local stack and a way to script its fake Claude."""

    api_url: str  # ends with /api
    site_url: str  # ends with /
    fake_claude_url: str
    process: subprocess.Popen[str]
    state: dict[str, str] = field(default_factory=dict)
    output: list[str] = field(default_factory=list)

    def agent_token(self) -> str:
        """A fresh ID token for the stack's demo agent, from moto's Cognito."""
        from local_stack.cognito import sign_in

        tokens = sign_in(
            self.state["cognito_endpoint"],
            self.state["cognito_client_id"],
            self.state["agent_username"],
            self.state["agent_password"],
        )
        return str(tokens["IdToken"])

    def agent_headers(self) -> dict[str, str]:
        """``Authorization`` for the demo agent."""
        return {"Authorization": f"Bearer {self.agent_token()}"}

    def claude(self, **control: Any) -> None:
        """Script the fake Claude (see local_stack.fake_claude)."""
        requests.post(
            f"{self.fake_claude_url}/_control", json=control, timeout=5
        ).raise_for_status()

    def outbox(self) -> list[dict[str, Any]]:
        """Every email the stack has sent, newest first (the local outbox's JSON)."""
        response = requests.get(f"{self.site_url}_outbox.json", timeout=5)
        response.raise_for_status()
        result: list[dict[str, Any]] = response.json()
        return result

    def reset_claude(self) -> None:
        """Default behaviour and an empty request log."""
        requests.post(f"{self.fake_claude_url}/_reset", timeout=5).raise_for_status()

    def claude_requests(self) -> list[dict[str, Any]]:
        """What the fake Claude has received since the last reset."""
        response = requests.get(f"{self.fake_claude_url}/_requests", timeout=5)
        response.raise_for_status()
        result: list[dict[str, Any]] = response.json()
        return result


def start_stack(extra_env: dict[str, str] | None = None) -> RunningStack:
    """Start ``python -m local_stack`` on free ports with the fake Claude; wait until ready."""
    api_port, site_port = _free_port(), _free_port()
    state_file = Path(tempfile.mkdtemp(prefix="local-stack-")) / "state.json"
    env = {
        **os.environ,
        "API_PORT": str(api_port),
        "SITE_PORT": str(site_port),
        "FAKE_CLAUDE": "1",
        "RESOLVED_EMAIL_DELAY_SECONDS": "1",
        "PYTHONUNBUFFERED": "1",
        "LOCAL_STACK_STATE": str(state_file),
        **(extra_env or {}),
    }
    env.pop("AWS_ENDPOINT_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "local_stack"],
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    ready = False
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "Local stack ready" in line:
            ready = True
            break
    if not ready:
        process.kill()
        raise RuntimeError("local stack did not start:\n" + "".join(lines))
    text = "".join(lines)
    fake = re.search(r"fake server at (http://\S+)", text)
    assert fake, text
    stack = RunningStack(
        api_url=f"http://127.0.0.1:{api_port}/api",
        site_url=f"http://127.0.0.1:{site_port}/",
        fake_claude_url=fake.group(1),
        process=process,
        state=json.loads(state_file.read_text()),
        output=lines,
    )

    def drain() -> None:  # keep the pipe from filling up; keep the log for failures
        for line in process.stdout or []:
            stack.output.append(line)

    threading.Thread(target=drain, daemon=True).start()
    return stack


def stop_stack(stack: RunningStack) -> None:
    """Ctrl-C, as a person would, then wait for a clean exit."""
    stack.process.send_signal(signal.SIGINT)
    try:
        # On a busy 2-core machine a stack with a large moto table takes longer to exit.
        stack.process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        stack.process.kill()
        raise


@pytest.fixture(scope="session")
def stack() -> Iterator[RunningStack]:
    """One local stack for the e2e session."""
    running = start_stack()
    yield running
    stop_stack(running)


@pytest.fixture
def claude(stack: RunningStack) -> Iterator[RunningStack]:
    """The stack with its fake Claude reset before and after the test."""
    stack.reset_claude()
    yield stack
    stack.reset_claude()


def chromium_path() -> str:
    """The system Chromium (Playwright cannot download browsers here)."""
    path = find_chromium()
    if path is None:
        pytest.fail("Chromium not found: run `make test` (it installs it) or set CHROMIUM_PATH")
    return path


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """pytest-playwright launch options: Debian's Chromium, flags for a closed network."""
    return {
        **browser_type_launch_args,
        "executable_path": chromium_path(),
        "args": CHROMIUM_ARGS,
    }
