"""Accessibility audits with axe-core (WCAG 2.2 A and AA rules) in the real browser.

axe-core comes from npm (tests/e2e/axe/, pinned by its lock file, installed by
``make browser``). The site's Content-Security-Policy rightly refuses inline scripts,
so the audit runs in a browser context created with ``bypass_csp=True``; the page
itself is unchanged.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

AXE_SCRIPT = Path(__file__).parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
# axe's best practices (one h1, landmarks, heading order, ...): not WCAG failures, checked
# where a page is known to follow them (the customers' pages).
BEST_PRACTICE_TAGS = [*WCAG_TAGS, "best-practice"]


def axe_violations(
    page: Page, include: str | None = None, tags: list[str] | None = None
) -> list[dict[str, Any]]:
    """The axe violations of the page as it is now (optionally within ``include``), for
    the rules with ``tags`` (WCAG 2.2 A and AA by default)."""
    if not AXE_SCRIPT.exists():
        raise AssertionError("axe-core is missing: run `make browser`")
    page.add_script_tag(content=AXE_SCRIPT.read_text(encoding="utf-8"))
    context = json.dumps(include) if include else "document"
    result: dict[str, Any] = page.evaluate(
        f"""async () => await axe.run({context}, {{
            runOnly: {{type: "tag", values: {json.dumps(tags or WCAG_TAGS)}}},
            resultTypes: ["violations"]
        }})"""
    )
    return [
        {
            "id": violation["id"],
            "impact": violation.get("impact"),
            "help": violation["help"],
            "targets": [node["target"] for node in violation["nodes"]][:5],
        }
        for violation in result["violations"]
    ]


def assert_accessible(
    page: Page, include: str | None = None, tags: list[str] | None = None
) -> None:
    """Fail with every violation listed when axe finds any."""
    violations = axe_violations(page, include, tags)
    assert violations == [], json.dumps(violations, indent=2)
