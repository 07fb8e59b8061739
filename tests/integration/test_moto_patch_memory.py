"""Memory per write must not grow as the table grows (moto used to leak a table copy per
transaction: memory grew with the square of the writes).

Measured as the Python objects still allocated (``sys.getallocatedblocks``, free to read,
unlike tracemalloc which slows every allocation) after the first and the third window of
350 ticket creates, each a three-item transaction through the real repository (1,050 item
writes a window), against the patched moto server in this process. A ratio, not a size:
absolute numbers depend on the machine. (On plain moto the third window keeps several
times what the first did: docs/local-stack.md.)
"""

from __future__ import annotations

import gc
import sys
from datetime import UTC, datetime, timedelta

from chalicelib.data.lists import ListSpec
from chalicelib.data.repository import DynamoTicketRepository
from chalicelib.domain import Category, Priority, Status, Ticket

WINDOW = 350  # ticket creates: 1,050 item writes
T0 = datetime(2026, 3, 1, tzinfo=UTC)


def _ticket(n: int) -> Ticket:
    at = T0 + timedelta(seconds=n)
    return Ticket(
        id=f"{n:024x}",
        title=f"Ticket {n}: cannot download the invoice",
        description=f"Details for ticket {n}: the invoice PDF link returns an error.",
        category=list(Category)[n % 4],
        priority=list(Priority)[n // 4 % 4],
        status=list(Status)[n // 16 % 4],
        created_at=at,
        updated_at=at,
        version=1,
    )


def _create(repository: DynamoTicketRepository, numbers: range) -> None:
    for n in numbers:
        repository.create(_ticket(n), "customer")


def _growth(repository: DynamoTicketRepository, numbers: range) -> int:
    """How many more objects are allocated after creating these tickets than before."""
    gc.collect()
    before = sys.getallocatedblocks()
    _create(repository, numbers)
    gc.collect()
    return sys.getallocatedblocks() - before


def test_memory_per_write_stays_flat_as_the_table_grows(table: str) -> None:
    # Given a ticket table whose list indexes have been queried (so they are maintained)
    repository = DynamoTicketRepository(counter_shards=8)
    assert repository.list_page(ListSpec(), 10, None).tickets == []

    # When the first, second and third windows of tickets are created
    first = _growth(repository, range(WINDOW))
    _create(repository, range(WINDOW, 2 * WINDOW))
    third = _growth(repository, range(2 * WINDOW, 3 * WINDOW))

    # Then the third window kept no more memory than the first (with room for noise)
    assert first > 0
    assert third <= 1.5 * first, (first, third)
    # And the indexes still answer from the whole table
    page = repository.list_page(ListSpec({"category": frozenset({"billing"})}), 5, None)
    assert len(page.tickets) == 5
    newest_billing = max(n for n in range(3 * WINDOW) if _ticket(n).category is Category.BILLING)
    assert page.tickets[0].id == _ticket(newest_billing).id
