"""The dashboard's figures: the queue now, trends, AI agreement and reply times.

Everything comes from the counters kept in the same transactions as the ticket
writes (chalicelib.data.counters) and the day's Claude budget kept beside them, read
with one query, plus one list read for the oldest unsolved ticket: O(days shown),
never O(tickets).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from chalicelib.data.claude_budget import DynamoClaudeBudget
from chalicelib.data.counters import FIRST_REPLY_BUCKETS, day_key
from chalicelib.data.lists import ListSpec
from chalicelib.data.repository import TicketRepository
from chalicelib.domain import PRIORITY_ORDER, UNSOLVED, Category, SortOrder, Status

TREND_DAYS = 30
# Age buckets of the unsolved queue, by whole UTC days since creation.
AGE_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("today", 0, 0),
    ("1_to_2_days", 1, 2),
    ("3_to_6_days", 3, 6),
    ("7_days_or_more", 7, None),
)


def _round(value: Decimal) -> float:
    return float(value.quantize(Decimal("0.1"), ROUND_HALF_UP))


class StatsService:
    """Builds the stats document from the counters."""

    def __init__(
        self,
        repository: TicketRepository,
        budget: DynamoClaudeBudget,
        clock: Callable[[], datetime],
    ) -> None:
        self._repository = repository
        self._budget = budget
        self._clock = clock

    def stats(self) -> dict[str, Any]:
        """The figures the dashboard shows (see the Stats schema in the OpenAPI document)."""
        now = self._clock()
        counts = self._repository.stats(now)
        totals, days = counts.totals, counts.days
        trend = [
            {
                "date": (now - timedelta(days=offset)).strftime("%Y-%m-%d"),
                "count": days.get(f"d_{day_key(now - timedelta(days=offset))}", 0),
            }
            for offset in range(TREND_DAYS - 1, -1, -1)
        ]
        created_recently = sum(int(str(point["count"])) for point in trend)
        unsolved = totals.get("u", 0)
        oldest = self._oldest_unsolved()
        usage = self._budget.usage(counts, now)
        return {
            "generated_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "total_tickets": totals.get("total", 0),
            "open_tickets": totals.get(f"s_{Status.OPEN.value}", 0),
            "unsolved_tickets": unsolved,
            "unassigned_unsolved": totals.get("ua", 0),
            "new_today": days.get(f"d_{day_key(now)}", 0),
            "avg_tickets_per_day": _round(Decimal(created_recently) / Decimal(TREND_DAYS)),
            "priority_breakdown": {p.value: totals.get(f"p_{p.value}", 0) for p in PRIORITY_ORDER},
            "category_breakdown": {c.value: totals.get(f"c_{c.value}", 0) for c in Category},
            "status_breakdown": {s.value: totals.get(f"s_{s.value}", 0) for s in Status},
            "unsolved_by_priority": {
                p.value: totals.get(f"up_{p.value}", 0) for p in PRIORITY_ORDER
            },
            "unsolved_by_age": self._ages(now, days, unsolved),
            "created_per_day": trend,
            "oldest_unsolved": oldest,
            "ai_agreement": {
                field: {
                    "kept": totals.get(f"ai_{short}_kept", 0),
                    "overridden": totals.get(f"ai_{short}_over", 0),
                }
                for field, short in (("category", "c"), ("priority", "p"))
            },
            "first_reply": self._first_reply(totals),
            "claude_budget": {"date": usage.day, "used": usage.used, "limit": usage.limit},
        }

    @staticmethod
    def _ages(now: datetime, days: dict[str, int], unsolved: int) -> dict[str, int]:
        """Unsolved tickets by age; everything older than the counters read is 7+ days."""
        result: dict[str, int] = {}
        counted = 0
        for name, low, high in AGE_BUCKETS:
            if high is None:
                result[name] = max(unsolved - counted, 0)
                continue
            count = sum(
                days.get(f"ud_{day_key(now - timedelta(days=age))}", 0)
                for age in range(low, high + 1)
            )
            result[name] = count
            counted += count
        return result

    @staticmethod
    def _first_reply(totals: dict[str, int]) -> dict[str, Any]:
        """The first-reply histogram and its median, estimated within the median's bucket."""
        histogram = {name: totals.get(name, 0) for name, _ in FIRST_REPLY_BUCKETS}
        count = sum(histogram.values())
        median: float | None = None
        if count:
            half = count / 2
            seen = 0
            lower = 0
            for name, bound in FIRST_REPLY_BUCKETS:
                in_bucket = histogram[name]
                if seen + in_bucket >= half and in_bucket:
                    upper = bound if bound is not None else lower * 2
                    fraction = (half - seen) / in_bucket
                    median = round(lower + (upper - lower) * fraction, 1)
                    break
                seen += in_bucket
                lower = bound if bound is not None else lower
        return {"count": count, "median_minutes": median, "histogram": histogram}

    def _oldest_unsolved(self) -> dict[str, Any] | None:
        oldest = self._repository.first_summary(
            ListSpec({"status": frozenset(s.value for s in UNSOLVED)}, SortOrder.OLDEST)
        )
        if oldest is None:
            return None
        return {
            "id": oldest.id,
            "number": oldest.number,
            "title": oldest.title,
            "priority": oldest.priority.value,
            "created_at": oldest.created_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        }
