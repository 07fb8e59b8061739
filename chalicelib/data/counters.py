"""The statistics counters: which counters a ticket contributes to, and how they move.

Every counter is a function of one ticket's state: a ticket counts 1 in each of the
counters :func:`ticket_counters` names for it. A write that turns ``before`` into
``after`` therefore adds ``counters(after) - counters(before)``, inside the same
transaction as the write, so the counters always equal a recount of the tickets
(tests/integration/test_counters_concurrency.py checks exactly that).

Two kinds of counters:

- *totals* (one item per shard, ``STATS / SHARD#nn``): ``total``, ``c_<category>``,
  ``p_<priority>``, ``s_<status>``, ``u`` (unsolved), ``up_<priority>`` (unsolved by
  priority), ``ua`` (unsolved and unassigned), ``ai_c_kept`` / ``ai_c_over`` and
  ``ai_p_kept`` / ``ai_p_over`` (the final category/priority equals the classifier's
  suggestion, or not), and ``fr_<bucket>`` (time from creation to the first agent
  reply, bucketed);
- *days* (one item per month and shard, ``STATS / M#yyyymm#nn``): ``d_<yyyymmdd>``
  (tickets created that UTC day) and ``ud_<yyyymmdd>`` (of those, still unsolved).

Stats read the totals and the last two months of day counters: a constant amount,
whatever the table holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chalicelib.domain import Ticket

# Upper bounds (minutes) of the first-reply buckets; the last bucket is open-ended.
FIRST_REPLY_BUCKETS: tuple[tuple[str, int | None], ...] = (
    ("fr_15m", 15),
    ("fr_1h", 60),
    ("fr_4h", 240),
    ("fr_8h", 480),
    ("fr_1d", 1440),
    ("fr_2d", 2880),
    ("fr_7d", 10080),
    ("fr_more", None),
)


def day_key(moment: datetime) -> str:
    """``20261129`` for a moment (UTC)."""
    return moment.strftime("%Y%m%d")


def month_key(moment: datetime) -> str:
    """``202611`` for a moment (UTC): the month item that holds its day counters."""
    return moment.strftime("%Y%m")


def first_reply_bucket(minutes: float) -> str:
    """The name of the bucket a first-reply time falls in."""
    for name, bound in FIRST_REPLY_BUCKETS:
        if bound is None or minutes <= bound:
            return name
    raise AssertionError("the last bucket is open-ended")  # pragma: no cover


@dataclass(frozen=True, slots=True)
class CounterNames:
    """The counters one ticket counts in: totals, and day counters of its creation month."""

    totals: frozenset[str]
    month: str
    days: frozenset[str]


def ticket_counters(ticket: Ticket) -> CounterNames:
    """Every counter ``ticket`` counts 1 in."""
    totals = {
        "total",
        f"c_{ticket.category.value}",
        f"p_{ticket.priority.value}",
        f"s_{ticket.status.value}",
    }
    day = day_key(ticket.created_at)
    days = {f"d_{day}"}
    if ticket.unsolved:
        totals.update({"u", f"up_{ticket.priority.value}"})
        days.add(f"ud_{day}")
        if ticket.assignee is None:
            totals.add("ua")
    if ticket.suggested_category is not None:
        totals.add("ai_c_kept" if ticket.category == ticket.suggested_category else "ai_c_over")
    if ticket.suggested_priority is not None:
        totals.add("ai_p_kept" if ticket.priority == ticket.suggested_priority else "ai_p_over")
    if ticket.first_reply_at is not None:
        minutes = (ticket.first_reply_at - ticket.created_at).total_seconds() / 60
        totals.add(first_reply_bucket(max(minutes, 0.0)))
    return CounterNames(frozenset(totals), month_key(ticket.created_at), frozenset(days))


@dataclass(frozen=True, slots=True)
class CounterDeltas:
    """How the counters move for one write: totals, and per creation month the days."""

    totals: dict[str, int]
    months: dict[str, dict[str, int]]

    @property
    def empty(self) -> bool:
        """Nothing moves (for example a title edit)."""
        return not self.totals and not any(self.months.values())


def counter_deltas(before: Ticket | None, after: Ticket | None) -> CounterDeltas:
    """How each counter moves when ``before`` becomes ``after`` (None = absent)."""
    totals: dict[str, int] = {}
    months: dict[str, dict[str, int]] = {}
    for ticket, sign in ((before, -1), (after, +1)):
        if ticket is None:
            continue
        names = ticket_counters(ticket)
        for name in names.totals:
            totals[name] = totals.get(name, 0) + sign
        month = months.setdefault(names.month, {})
        for name in names.days:
            month[name] = month.get(name, 0) + sign
    return CounterDeltas(
        totals={name: delta for name, delta in totals.items() if delta},
        months={
            month: moved
            for month, values in months.items()
            if (moved := {name: delta for name, delta in values.items() if delta})
        },
    )
