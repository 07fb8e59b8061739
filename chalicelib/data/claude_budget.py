"""A daily budget of Claude calls, as an atomic counter in DynamoDB.

Classification is public and every Claude call costs money: whatever the number of
clients, at most ``limit`` calls are made per UTC day. Each call first takes one
unit with a conditional ``ADD`` (so concurrent Lambdas never overspend); when the
day's budget is spent the offline classifier answers, with the usual warning.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from pynamodb.exceptions import DoesNotExist, PynamoDBException, UpdateError

from chalicelib.data.models import CounterModel
from chalicelib.observability import logger

_PK = "BUDGET#claude"
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
    """Takes one unit per Claude call; refuses once the day's units are spent."""

    def __init__(self, limit: int, clock: Callable[[], datetime] = _utc_now) -> None:
        self._limit = limit
        self._clock = clock

    def try_spend(self) -> bool:
        """True when a call may be made (and counts it); False when the budget is spent.

        A failing store also says False: the offline classifier is free, a runaway
        bill is not.
        """
        if self._limit <= 0:
            return False
        now = self._clock()
        item = CounterModel(_PK, now.strftime("%Y-%m-%d"))
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

    def usage(self) -> BudgetUsage:
        """Today's use (zero when nothing was spent or the store cannot say)."""
        day = self._clock().strftime("%Y-%m-%d")
        try:
            used = int(CounterModel.get(_PK, day).value)
        except DoesNotExist:
            used = 0
        except PynamoDBException:
            used = 0
        return BudgetUsage(day=day, used=used, limit=self._limit)
