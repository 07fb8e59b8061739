"""A daily budget of Claude calls, as an atomic counter in DynamoDB.

Classification is public and every Claude call costs money: whatever the number of
clients, at most ``limit`` calls are made per UTC day. Each call first takes one
unit with a conditional ``ADD`` (so concurrent Lambdas never overspend); when the
day's budget is spent the offline classifier answers, with the usual warning.

The day's counter lives in the stats partition (``pk = STATS``, ``sk =
USAGE#claude#<yyyy-mm-dd>``), so the dashboard's one query over the counters reads it
too (:meth:`DynamoClaudeBudget.usage` takes that query's result).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from pynamodb.exceptions import PynamoDBException, UpdateError

from chalicelib.data.models import STATS_PK, USAGE_PREFIX, CounterModel
from chalicelib.domain import StatsCounts
from chalicelib.observability import logger

_USAGE_NAME = "claude#{day}"
_KEEP_SECONDS = 3 * 86400


@dataclass(frozen=True, slots=True)
class BudgetUsage:
    """Calls made today against the limit."""

    day: str
    used: int
    limit: int


def _utc_now() -> datetime:
    return datetime.now(UTC)


class DynamoClaudeBudget:
    """Takes one unit per Claude call; refuses once the day's units are spent.

    Once the store has refused a day, this instance refuses the rest of that day without
    asking again: a refused conditional write still costs a write, on the partition
    every ticket write's counters use.
    """

    def __init__(self, limit: int, clock: Callable[[], datetime] = _utc_now) -> None:
        self._limit = limit
        self._clock = clock
        self._spent_day: str | None = None

    def try_spend(self) -> bool:
        """True when a call may be made (and counts it); False when the budget is spent.

        A failing store also says False: the offline classifier is free, a runaway
        bill is not.
        """
        if self._limit <= 0:
            return False
        now = self._clock()
        day = now.strftime("%Y-%m-%d")
        if day == self._spent_day:
            return False
        item = CounterModel(STATS_PK, f"{USAGE_PREFIX}{_USAGE_NAME.format(day=day)}")
        try:
            item.update(
                actions=[
                    CounterModel.value.add(1),
                    CounterModel.expires_at.set(int(now.timestamp()) + _KEEP_SECONDS),
                ],
                condition=CounterModel.value.does_not_exist() | (CounterModel.value < self._limit),
            )
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                self._spent_day = day
                return False
            logger.warning(
                "Claude budget unreadable; not calling Claude", extra={"error": str(exc)}
            )
            return False
        except PynamoDBException as exc:
            logger.warning(
                "Claude budget unreadable; not calling Claude", extra={"error": str(exc)}
            )
            return False
        return True

    def usage(self, counts: StatsCounts, now: datetime) -> BudgetUsage:
        """The use on ``now``'s UTC day, from the counters the stats query read (zero when
        nothing was spent)."""
        day = now.strftime("%Y-%m-%d")
        used = counts.usage.get(_USAGE_NAME.format(day=day), 0)
        return BudgetUsage(day=day, used=used, limit=self._limit)
