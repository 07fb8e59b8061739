"""Where the system Chromium is and how to launch it here (Playwright cannot download
browsers on this network; Debian's ``chromium`` is used instead)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

# Sandboxing needs user namespaces root does not get; the rest keeps Chromium from
# calling Google's services, which a closed network refuses many times a second.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def find_chromium() -> str | None:
    """``CHROMIUM_PATH``, else the Debian package's binary, else ``chromium`` on PATH."""
    for candidate in (
        os.environ.get("CHROMIUM_PATH"),
        "/usr/bin/chromium",
        shutil.which("chromium"),
    ):
        if candidate and Path(candidate).exists():
            return candidate
    return None
