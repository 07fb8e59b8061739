"""checkov audits the generated templates: nothing fails, every skip is explained.

The templates are the ones the template tests check (the session's ``builds`` fixture in
tests/integration/conftest.py). checkov runs from its own virtualenv, which
``make test`` installs (``make checkov``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tools.deploy import CHECKOV, STAGES, AuditResult, Build, audit_templates

PROJECT_DIR = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def audit(builds: dict[str, Build]) -> AuditResult:
    assert CHECKOV.exists(), "checkov is not installed: run `make checkov` (make test does)"
    return audit_templates([builds[stage].template_path for stage in STAGES])


def decisions() -> dict[tuple[str, str], str]:
    """docs/security.md's table: (check id, resource) -> "fixed" or "skipped"."""
    text = (PROJECT_DIR / "docs" / "security.md").read_text()
    section = text.split("## Template audit (checkov)", 1)[1]
    row = r"^\| `(CKV2?_AWS_\d+)`[^|]*\| `([^`]+)` \| (fixed|skipped) \|"
    rows = re.findall(row, section, re.MULTILINE)
    table = {(check_id, resource): decision for check_id, resource, decision in rows}
    assert len(table) == len(rows), "a check is listed twice"
    return table


def test_checkov_finds_nothing_unexplained(audit: AuditResult) -> None:
    # Given checkov's report on the dev and prod templates
    # Then no check fails, and checkov really looked at both
    assert audit.failed == []
    assert len(audit.passed) >= 80
    # And every skip carries its reason, one line a reviewer can read
    assert audit.unexplained == []
    for check_id, resource, reason in audit.skipped:
        assert 40 <= len(reason) <= 200 and "\n" not in reason, (check_id, resource)


def test_security_doc_lists_every_decision(audit: AuditResult) -> None:
    # Given the table of decisions in docs/security.md
    table = decisions()
    skipped_in_doc = {key for key, decision in table.items() if decision == "skipped"}
    fixed_in_doc = {key for key, decision in table.items() if decision == "fixed"}
    # Then it lists exactly the checks the templates skip (in both stages)
    skipped = {(check_id, resource) for check_id, resource, _ in audit.skipped}
    assert skipped_in_doc == skipped
    assert len(audit.skipped) == len(skipped) * len(STAGES)
    # And each check it calls fixed now passes, for that resource, in both stages
    passed = [(check_id, resource) for check_id, resource in audit.passed]
    for key in fixed_in_doc:
        assert passed.count(key) == len(STAGES), key


def test_a_finding_fails_the_audit(builds: dict[str, Build], tmp_path: Path) -> None:
    # Given the dev template with versioning off and a skip whose reason is gone (proves
    # the audit can fail)
    # (the two resources alone: checkov's time grows with the template)
    template = builds["dev"].template()
    template["Resources"] = {
        name: template["Resources"][name] for name in ("SiteBucket", "SiteDistribution")
    }
    template["Resources"]["SiteBucket"]["Properties"].pop("VersioningConfiguration")
    distribution = template["Resources"]["SiteDistribution"]["Metadata"]["checkov"]["skip"]
    distribution[0].pop("comment")
    path = tmp_path / "template.json"
    path.write_text(json.dumps(template, indent=1))
    # When checkov audits it
    result = audit_templates([path])
    # Then the finding and the unexplained skip are both reported
    assert [line.split()[:2] for line in result.failed] == [
        ["CKV_AWS_21", "AWS::S3::Bucket.SiteBucket"]
    ]
    assert result.unexplained == [
        f"{distribution[0]['id']} AWS::CloudFront::Distribution.SiteDistribution: "
        "skipped without a reason"
    ]
