"""The soak's short run (about 30 s plus its warm-up): the local stack under a mixed,
concurrent workload gives no 5xx, its counters equal a recount, retried
Idempotency-Keys create nothing twice, and its memory holds after the warm-up.
The 5-minute run's figures are in docs/benchmarks.md (`make soak`). A quick test checks the
soak client's own bookkeeping: a create retried with its key is one ticket to delete."""

from __future__ import annotations

import random

import pytest

from tests.e2e.conftest import RunningStack
from tools.soak import Client, Results, run


class _EveryCoinYes(random.Random):
    """The soak client's coins all land on "yes": the create is sent twice."""

    def random(self) -> float:
        return 0.0


def test_a_retried_create_is_one_ticket_for_the_soak_to_delete(stack: RunningStack) -> None:
    # Given a soak client whose create's answer is "lost" once, so it sends it again
    results = Results()
    client = Client(stack.api_url, stack.agent_token(), results, seed=1)
    client.rng = _EveryCoinYes(1)
    # When it creates a ticket
    client.create()
    # Then both answers were the same ticket: one new ticket, listed once to delete
    assert results.statuses["POST /tickets"][201] == 2
    (ids,) = results.keys.values()
    assert len(ids) == 1 and results.new_tickets == 1
    assert client.mine == list(ids)


@pytest.mark.slow
def test_a_short_soak_meets_every_target() -> None:
    report, passed = run(seconds=30, clients=4, warmup_tickets=100)
    assert passed, report
    assert "5xx answers: **0**" in report
    assert "counter drift against a recount: **0**" in report
    assert "duplicate tickets from retried Idempotency-Keys: **0**" in report
