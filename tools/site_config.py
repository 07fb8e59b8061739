"""The site's runtime configuration file, ``config.js``, for local runs and deploys."""

from __future__ import annotations

import json
from typing import Any


def render_config_js(config: dict[str, Any]) -> str:
    """``config.js``: one frozen global the site reads at start-up (JSON-encoded, so safe)."""
    payload = json.dumps(config, indent=2, sort_keys=True)
    return f"window.SUPPORT_DESK_CONFIG = Object.freeze({payload});\n"
