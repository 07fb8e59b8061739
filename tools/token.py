"""``make token``: a Bearer token for the local demo agent of the running ``make run`` stack."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from local_stack.cognito import sign_in


def main() -> None:
    """Print ``Bearer <id token>`` (to use as the Authorization header value)."""
    state_file = Path(os.environ.get("LOCAL_STACK_STATE", ".local-stack.json"))
    if not state_file.exists():
        sys.exit("No local stack is running: start it with `make run` in another terminal.")
    state = json.loads(state_file.read_text())
    try:
        tokens = sign_in(
            state["cognito_endpoint"],
            state["cognito_client_id"],
            os.environ.get("AGENT_USERNAME") or state["agent_username"],
            os.environ.get("AGENT_PASSWORD") or state["agent_password"],
        )
    except OSError as exc:
        sys.exit(f"Could not sign in to the local stack ({exc}); is `make run` still running?")
    print(f"Bearer {tokens['IdToken']}")


if __name__ == "__main__":
    main()
