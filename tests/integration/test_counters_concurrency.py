"""Counters live in the same transaction as the tickets: a concurrent workload cannot make
them drift. Several threads create, patch and delete at random; stats must equal a recount."""

from __future__ import annotations

import random
import threading
from collections import Counter

from chalicelib.data.models import TicketModel
from chalicelib.dependencies import get_ticket_service
from chalicelib.domain import Category, Priority, Status
from chalicelib.errors import TicketNotFound, UpdateConflict, VersionMismatch
from chalicelib.validation import parse_new_ticket, parse_ticket_changes

THREADS = 6
OPERATIONS_PER_THREAD = 30


def recount() -> dict[str, object]:
    """Count the ticket items themselves, with a full scan."""
    tickets = [item for item in TicketModel.scan(consistent_read=True) if item.sk == "TICKET"]
    days = {t.created_at.date() for t in tickets}
    return {
        "total_tickets": len(tickets),
        "days_with_tickets": len(days),
        "avg_tickets_per_day": round(len(tickets) / len(days), 1) if days else 0.0,
        "open_tickets": sum(1 for t in tickets if t.status == Status.OPEN),
        "category_breakdown": {
            c.value: n
            for c, n in ({c: 0 for c in Category} | Counter(t.category for t in tickets)).items()
        },
        "priority_breakdown": {
            p.value: n
            for p, n in ({p: 0 for p in Priority} | Counter(t.priority for t in tickets)).items()
        },
        "status_breakdown": {
            s.value: n
            for s, n in ({s: 0 for s in Status} | Counter(t.status for t in tickets)).items()
        },
    }


def test_random_concurrent_workload_keeps_counters_exact(table: str) -> None:
    # Given a shared pool of ticket ids and several threads hammering the service
    service = get_ticket_service()
    known_ids: list[str] = []
    ids_lock = threading.Lock()
    errors: list[BaseException] = []
    outcomes: Counter[str] = Counter()

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        try:
            for _ in range(OPERATIONS_PER_THREAD):
                operation = rng.choice(["create", "create", "patch", "patch", "delete"])
                with ids_lock:
                    target = rng.choice(known_ids) if known_ids else None
                if operation == "create" or target is None:
                    ticket = service.create(
                        parse_new_ticket(
                            {
                                "title": f"load {seed}",
                                "description": "concurrent workload",
                                "category": rng.choice(list(Category)).value,
                                "priority": rng.choice(list(Priority)).value,
                                "status": rng.choice(list(Status)).value,
                            }
                        ),
                        f"worker-{seed}",
                    )
                    with ids_lock:
                        known_ids.append(ticket.id)
                    outcomes["created"] += 1
                    continue
                try:
                    if operation == "patch":
                        changes = {
                            "status": rng.choice(list(Status)).value,
                            "category": rng.choice(list(Category)).value,
                        }
                        service.update(target, parse_ticket_changes(changes), None, "w")
                        outcomes["patched"] += 1
                    else:
                        service.delete(target, None, "w")
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
        thread.join(timeout=120)
    # Then nothing crashed, real work happened, and the counters equal a full recount
    assert not errors, errors
    assert outcomes["created"] > 40 and outcomes["patched"] > 15 and outcomes["deleted"] > 8
    stats = service.stats()
    expected = recount()
    assert {key: stats[key] for key in expected} == expected
