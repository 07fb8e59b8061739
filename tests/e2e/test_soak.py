"""The soak's short run (about 30 s plus its warm-up): the local stack under a mixed,
concurrent workload gives no 5xx, its counters equal a recount, retried
Idempotency-Keys create nothing twice, and its memory holds after the warm-up.
The 5-minute run's figures are in docs/benchmarks.md (`make soak`)."""

from __future__ import annotations

import pytest

from tools.soak import run


@pytest.mark.slow
def test_a_short_soak_meets_every_target() -> None:
    report, passed = run(seconds=30, clients=4, warmup_tickets=100)
    assert passed, report
    assert "5xx answers: **0**" in report
    assert "counter drift against a recount: **0**" in report
    assert "duplicate tickets from retried Idempotency-Keys: **0**" in report
