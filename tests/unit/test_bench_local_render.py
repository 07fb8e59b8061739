"""The local benchmark's report marks each target met or not from the figures alone."""

from __future__ import annotations

from typing import Any

from tools.bench_local import SizeResult, render


def _report(rss_mb: float, create_ms: float, creates: int = 10_042) -> dict[str, Any]:
    sizes = [
        SizeResult(
            tickets=creates,
            p50_ms={"GET /api/tickets/{id}": 10.0, "create (POST)": create_ms},
            rss_mb=rss_mb - 50,
            seed_seconds=100.0,
        )
    ]
    return {
        "when": "2026-11-30 08:00 UTC",
        "machine": "x86_64, 2 cores, Python 3.11",
        "patched": True,
        "keep_alive": {"keep_alive_ms": 10.0, "fresh_ms": 9.0},
        "sizes": sizes,
        "creates": creates,
        "patches": creates,
        "patch_seconds": 50.0,
        "rss_mb": rss_mb,
        "reconnects": 0,
        "stream_drops": 0,
    }


def test_a_run_within_every_target_is_reported_met() -> None:
    text = render(_report(rss_mb=420, create_ms=25.0))

    assert "| ratio (target within 1.5x) | **1.11x** (met) |" in text
    assert "| create (POST) | 25.0 ms | 2.50x |" in text
    assert "**420 MB**" in text
    assert "under 500 MB after 10,000 creates and 10,000 PATCHes: **met**." in text
    assert "dropped unread at moto's cap: none" in text


def test_a_run_over_its_targets_is_reported_not_met() -> None:
    text = render(_report(rss_mb=500, create_ms=31.0))

    assert "| create (POST) | 31.0 ms | 3.10x **(over)** |" in text
    assert "under 500 MB after 10,000 creates and 10,000 PATCHes: **NOT met**." in text


def test_a_smaller_run_says_so_beside_the_memory_target() -> None:
    text = render(_report(rss_mb=300, create_ms=20.0, creates=1_042))

    assert "**met** (fewer tickets were created here)." in text


def test_freshness_reports_the_slowest_change_against_the_two_second_target() -> None:
    report = _report(rss_mb=300, create_ms=20.0)
    report["sizes"][0].fresh_seconds = {
        "create": [0.3, 0.5, 0.4],
        "title edit": [0.4, 2.5, 0.6],
    }

    text = render(report)

    assert "### Freshness: a change findable by search (target within 2 s)" in text
    assert "| create | 0.40 s | 0.50 s |" in text
    assert "| title edit | 0.60 s | 2.50 s **(over)** |" in text


def test_a_run_without_freshness_figures_has_no_freshness_table() -> None:
    assert "Freshness" not in render(_report(rss_mb=300, create_ms=20.0))
