"""``python -m local_stack``: what ``make run`` starts. Ctrl-C stops it cleanly."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from pathlib import Path

from local_stack.cognito import DEFAULT_AGENT_PASSWORD, DEFAULT_AGENT_USERNAME
from local_stack.stack import LocalStack, StackOptions

STATE_FILE = Path(os.environ.get("LOCAL_STACK_STATE", ".local-stack.json"))


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def _port(name: str, default: int) -> int:
    raw = os.environ.get(name) or str(default)
    if not raw.isdigit() or not 0 <= int(raw) <= 65535:
        sys.exit(f"{name} must be a port number, got {raw!r}")
    return int(raw)


def main() -> None:
    """Start the stack, print its URLs, wait for Ctrl-C or SIGTERM, stop it."""
    options = StackOptions(
        host=os.environ.get("HOST", "127.0.0.1"),
        api_port=_port("API_PORT", 8000),
        site_port=_port("SITE_PORT", 3000),
        fake_claude=_flag("FAKE_CLAUDE"),
        seed=_flag("SEED"),
        agent_username=os.environ.get("AGENT_USERNAME") or DEFAULT_AGENT_USERNAME,
        agent_password=os.environ.get("AGENT_PASSWORD") or DEFAULT_AGENT_PASSWORD,
        moto_patch=os.environ.get("LOCAL_MOTO_PATCH", "1").strip() != "0",
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        stack = LocalStack(options).start()
    except OSError as exc:
        sys.exit(f"Could not start the local stack: {exc} (is the port already in use?)")
    assert stack.api is not None and stack.moto is not None
    lines = [
        f"API:     {stack.api.url}/",
        f"Site:    {stack.site.url}" if stack.site else "Site:    (not served)",
        f"moto:    {stack.moto.url}" + ("" if stack.moto.patched else " (plain moto, unpatched)"),
        "Claude:  "
        + (
            f"fake server at {stack.fake_claude.url}"
            if stack.fake_claude
            else (
                "real API (ANTHROPIC_API_KEY set)"
                if os.environ.get("ANTHROPIC_API_KEY")
                else "offline classifier (no ANTHROPIC_API_KEY)"
            )
        ),
    ]
    lines.append(
        f"Agent:   {options.agent_username} / {options.agent_password}"
        "  (sign in on the site; `make token` prints a Bearer token)"
    )
    if stack.site:
        lines.append(f"Outbox:  {stack.site.url}_outbox/  (every email the desk sends, locally)")
    if stack.seeded:
        lines.append(f"Seeded:  {stack.seeded} demo tickets")
    STATE_FILE.write_text(json.dumps(stack.state(), indent=2))
    print("\n".join(lines), flush=True)
    print("Local stack ready. Press Ctrl-C to stop.", flush=True)
    stop.wait()
    print("Stopping...", flush=True)
    stack.stop()
    STATE_FILE.unlink(missing_ok=True)
    print("Stopped.", flush=True)


if __name__ == "__main__":
    main()
