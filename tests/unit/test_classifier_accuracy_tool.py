"""`make accuracy`: the offline report and its targets, and the Claude mode's plumbing."""

from __future__ import annotations

import pytest

from local_stack.fake_claude import FakeClaudeServer
from tools.classifier_accuracy import HOLDOUT_SET, evaluate, main, missed_targets


def test_make_accuracy_reports_both_sets_and_passes_the_targets(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given the offline classifier and both labelled sets
    # When `make accuracy` runs
    status = main([])
    output = capsys.readouterr().out
    # Then it prints per-class tables, confusion matrices and the confidence split for
    # both sets, and exits 0 because the holdout meets every target
    assert status == 0, output
    assert "### Development set" in output and "### Holdout set" in output
    assert output.count("Confusion (priority") == 2
    assert output.count("| low |") >= 2 and "Wrong suggestions flagged low" in output
    assert "Holdout meets the targets" in output


def test_a_report_below_a_target_is_named() -> None:
    # Given a real holdout report with the critical recall knocked below 70%
    report = evaluate(HOLDOUT_SET)
    report["priority"]["critical"]["recall"] = 0.5
    report["category_accuracy"] = 0.9
    # When the targets are checked, then both misses are named
    assert missed_targets(report) == ["category 90.0% < 92%", "critical recall 50.0% < 70%"]


def test_claude_mode_runs_through_the_sdk_against_the_fake(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given no Anthropic key (the test environment never has one)
    # When `make accuracy CLAUDE=1` runs on a small sample
    status = main(["--claude", "--limit", "6", "--workers", "2"])
    output = capsys.readouterr().out
    # Then every sampled ticket was answered through the SDK by the fake Messages API,
    # the report says so, and no target is claimed for Claude
    assert status == 0, output
    assert "the fake Messages API" in output
    assert "### Development set (trained and tuned on) (6 tickets)" in output
    assert "### Holdout set (6 tickets)" in output
    assert "no answer" not in output
    assert "Targets not applied" in output


def test_claude_mode_fails_when_the_api_does_not_answer(
    fake_claude_server: FakeClaudeServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given a configured key whose API answers every call with a 500
    fake_claude_server.state.reset()
    fake_claude_server.state.mode = "error500"
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake_claude_server.url)
    try:
        # When the Claude mode runs on a sample
        status = main(["--claude", "--limit", "2", "--timeout", "2"])
    finally:
        fake_claude_server.state.reset()
    output = capsys.readouterr().out
    # Then it reports the tickets that got no answer, and why, and fails
    assert status == 1
    assert "error (500)" in output
    assert "FAILED: 4 tickets got no answer" in output
