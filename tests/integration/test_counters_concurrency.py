"""Counters live in the same transaction as the tickets: a concurrent workload cannot make
them drift. Several threads create, patch, assign, reply and delete at random; every
figure of the stats must equal a recount of the ticket items."""

from __future__ import annotations

import random
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.data.models import TicketModel
from chalicelib.dependencies import (
    get_conversation_service,
    get_directory,
    get_stats_service,
    get_ticket_service,
)
from chalicelib.domain import Actor, Category, Priority, Status
from chalicelib.errors import TicketNotFound, UpdateConflict, VersionMismatch
from chalicelib.validation import NewMessage, parse_new_ticket, parse_ticket_changes
from tests.conftest import AGENT_USERNAME

THREADS = 6
OPERATIONS_PER_THREAD = 30
UNSOLVED = {Status.OPEN, Status.IN_PROGRESS}


def _bucket(minutes: float) -> str:
    for name, bound in (("fr_15m", 15), ("fr_1h", 60), ("fr_4h", 240), ("fr_8h", 480),
                        ("fr_1d", 1440), ("fr_2d", 2880), ("fr_7d", 10080)):  # fmt: skip
        if minutes <= bound:
            return name
    return "fr_more"


def recount() -> dict[str, Any]:
    """Every figure the counters keep, counted from the ticket items (a full scan),
    written independently of chalicelib.data.counters."""
    tickets = [item for item in TicketModel.scan(TicketModel.sk == "TICKET", consistent_read=True)]
    unsolved = [t for t in tickets if t.status in UNSOLVED]
    today = datetime.now(UTC).date()
    created_today = sum(1 for t in tickets if t.created_at.date() == today)
    first_replies = Counter(
        _bucket((t.first_reply_at - t.created_at).total_seconds() / 60)
        for t in tickets
        if t.first_reply_at is not None
    )
    return {
        "total_tickets": len(tickets),
        "open_tickets": sum(1 for t in tickets if t.status == Status.OPEN),
        "unsolved_tickets": len(unsolved),
        "unassigned_unsolved": sum(1 for t in unsolved if t.assignee is None),
        "new_today": created_today,
        "category_breakdown": {
            c.value: sum(1 for t in tickets if t.category == c) for c in Category
        },
        "priority_breakdown": {
            p.value: sum(1 for t in tickets if t.priority == p) for p in Priority
        },
        "status_breakdown": {s.value: sum(1 for t in tickets if t.status == s) for s in Status},
        "unsolved_by_priority": {
            p.value: sum(1 for t in unsolved if t.priority == p) for p in Priority
        },
        "ai_agreement": {
            "category": {
                "kept": sum(1 for t in tickets if t.category == t.suggested_category),
                "overridden": sum(
                    1
                    for t in tickets
                    if t.suggested_category and t.category != t.suggested_category
                ),
            },
            "priority": {
                "kept": sum(1 for t in tickets if t.priority == t.suggested_priority),
                "overridden": sum(
                    1
                    for t in tickets
                    if t.suggested_priority and t.priority != t.suggested_priority
                ),
            },
        },
        "first_reply_histogram": dict(first_replies),
    }


def test_random_concurrent_workload_keeps_counters_exact(table: str) -> None:
    # Given a shared pool of ticket ids and several threads hammering the services
    service = get_ticket_service()
    conversation = get_conversation_service()
    agent = get_directory().assignable(AGENT_USERNAME)
    actor = Actor(agent.id, agent.email)
    known_ids: list[str] = []
    ids_lock = threading.Lock()
    errors: list[BaseException] = []
    outcomes: Counter[str] = Counter()

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        try:
            for _ in range(OPERATIONS_PER_THREAD):
                operation = rng.choice(["create", "create", "patch", "patch", "reply", "delete"])
                with ids_lock:
                    target = rng.choice(known_ids) if known_ids else None
                if operation == "create" or target is None:
                    fields = {
                        "title": f"load {seed}",
                        "description": "concurrent workload",
                        "status": rng.choice(list(Status)).value,
                    }
                    if rng.random() < 0.7:
                        fields["category"] = rng.choice(list(Category)).value
                        fields["priority"] = rng.choice(list(Priority)).value
                    ticket = service.create(parse_new_ticket(fields), actor).ticket
                    with ids_lock:
                        known_ids.append(ticket.id)
                    outcomes["created"] += 1
                    continue
                try:
                    if operation == "patch":
                        changes: dict[str, Any] = {
                            "status": rng.choice(list(Status)).value,
                            "category": rng.choice(list(Category)).value,
                        }
                        if rng.random() < 0.5:
                            changes["assignee"] = rng.choice([None, AGENT_USERNAME])
                        service.update(target, parse_ticket_changes(changes), None, actor)
                        outcomes["patched"] += 1
                    elif operation == "reply":
                        conversation.post_as_agent(target, NewMessage("On it"), actor)
                        outcomes["replied"] += 1
                    else:
                        service.delete(target, None, actor)
                        outcomes["deleted"] += 1
                except (TicketNotFound, UpdateConflict, VersionMismatch) as exc:
                    # Another thread deleted or kept changing it: a legitimate outcome.
                    outcomes[type(exc).__name__] += 1
        except BaseException as exc:  # surfaced in the main thread below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(THREADS)]
    # When they run at the same time
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)
    # Then nothing crashed, real work happened, and every counter equals a full recount
    assert not errors, errors
    assert outcomes["created"] > 30 and outcomes["patched"] > 10 and outcomes["deleted"] > 5
    assert outcomes["replied"] > 5
    stats = get_stats_service().stats()
    expected = recount()
    histogram = {k: v for k, v in stats["first_reply"]["histogram"].items() if v}
    assert histogram == expected.pop("first_reply_histogram")
    assert {key: stats[key] for key in expected} == expected
    # And the per-day figures add up to the total (every ticket was made today)
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    by_day = {point["date"]: point["count"] for point in stats["created_per_day"]}
    assert by_day[today] == expected["total_tickets"]
    assert stats["unsolved_by_age"]["today"] == expected["unsolved_tickets"]
    assert by_day[(datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%d")] == 0
