"""The OpenAPI 3.1 document is valid, served, complete, and the running API keeps to it.

Schemathesis (its command line, as a person runs it) generates requests from the
document (valid and invalid ones, a bounded number per operation, with an agent token,
and stateful sequences following the document's links) against the local stack and
runs every check: no 5xx, status codes, headers, content types and bodies as
documented, schema-valid requests accepted and invalid ones refused, nothing served
after a delete. schemathesis.toml holds the few per-operation allowances, each with
its reason.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import requests
from openapi_spec_validator import validate

from app import app
from chalicelib.api.openapi import openapi_document
from tests.e2e.conftest import PROJECT_DIR, RunningStack

# Enough for the target of 1,000+ cases in every `make test` (the coverage
# phase adds its own boundary cases to these), in about a minute.
MAX_EXAMPLES_PER_OPERATION = 12
MIN_CASES = 1_000


def test_the_document_is_valid_openapi_3_1() -> None:
    document = openapi_document()
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_the_document_describes_every_route_and_method() -> None:
    # Given the routes Chalice serves (405 handlers aside)
    served = {
        (path.rstrip("/") or "/", method)
        for path, methods in app.routes.items()
        for method, entry in methods.items()
        if not entry.view_name.startswith("not_allowed_")
    }
    # And the operations the document describes
    documented = {
        (path.rstrip("/"), method.upper())
        for path, item in openapi_document()["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    }
    # Then they are the same set
    assert served == documented


def test_the_document_is_served_by_the_api(stack: RunningStack) -> None:
    response = requests.get(f"{stack.api_url}/openapi.json", timeout=10)
    assert response.status_code == 200
    assert response.json() == openapi_document()


def test_the_api_keeps_to_its_document_under_every_schemathesis_check(
    stack: RunningStack, tmp_path: Path
) -> None:
    # Given the stack and an agent's token
    token = stack.agent_token()
    # When Schemathesis runs every check (the stateful phase included) over every operation,
    # with the per-operation allowances of schemathesis.toml (each states its reason)
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("st")),
            "--config-file",
            str(PROJECT_DIR / "schemathesis.toml"),
            "--no-color",
            "run",
            f"{stack.api_url}/openapi.json",
            "--url",
            stack.api_url,
            "-H",
            f"Authorization: Bearer {token}",
            "--checks",
            "all",
            # A check named on the command line outranks schemathesis.toml's per-operation
            # allowances, so the two they turn off are left out here by name:
            # - use_after_free, for the history (it outlives its ticket, as documented);
            # - ensure_resource_availability, for createTicket: the stateful phase may
            #   delete a created ticket (DELETE /tickets/{id}) and then follow the
            #   create's link to /tickets/by-number/{n}, whose 404 Schemathesis reports as
            #   "created resource not found" (it counts a DELETE only on the same path);
            #   and an Idempotency-Key replay returns a deleted ticket's creation snapshot.
            # Both are tested directly in tests/integration/test_api_tickets.py: a created
            # ticket is read by id and by number, a deleted one's routes answer 404.
            "--exclude-checks",
            "use_after_free,ensure_resource_availability",
            "--max-examples",
            str(MAX_EXAMPLES_PER_OPERATION),
            "--workers",
            "1",
            "--seed",
            "20261129",
            "--report",
            "junit",
            "--report-dir",
            str(tmp_path),
        ],
        cwd=tmp_path,  # its replay cache (.schemathesis/) stays out of the checkout
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    # Then it finds nothing: no 5xx, every answer as documented, nothing accepted that the
    # document refuses, no resource served after it was deleted
    summary = result.stdout[-20000:]
    assert result.returncode == 0, summary
    assert "0 failures" in summary or "passed" in summary, summary
    # And it really ran the cases it is counted on
    generated = re.search(r"(\d+) generated", summary)
    assert generated and int(generated.group(1)) >= MIN_CASES, summary
