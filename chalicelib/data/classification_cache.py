"""Cache of Claude's classifications in DynamoDB, so identical text costs one call."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable

from pynamodb.exceptions import DoesNotExist, PynamoDBException

from chalicelib.data.models import ClassificationCacheModel
from chalicelib.domain import Category, Confidence, Priority
from chalicelib.observability import logger
from chalicelib.search.text import words

_SK = "CLASSIFY"


def suggestion_id(model: str, title: str, description: str) -> str:
    """Same model and near-identical text -> same id: the words as search reads them
    (case, accents, punctuation and spacing ignored), so a comma added while typing
    or a capital letter fixed does not cost another call. 64 hex digits; the
    classification answer gives it to the form, which sends it back with the create."""
    text = f"{model}\n{' '.join(words(title))}\n{' '.join(words(description))}"
    return hashlib.sha256(text.encode()).hexdigest()


def cache_key(model: str, title: str, description: str) -> str:
    """The cache item's partition key for this text."""
    return "CLASSIFY#" + suggestion_id(model, title, description)


class DynamoClassificationCache:
    """A best-effort cache: a failing cache never fails a classification."""

    def __init__(
        self, model: str, ttl_seconds: int, clock: Callable[[], float] = time.time
    ) -> None:
        self._model = model
        self._ttl = ttl_seconds
        self._clock = clock

    def suggestion_id(self, title: str, description: str) -> str:
        """The id of this text's cached answer (whether or not one is cached)."""
        return suggestion_id(self._model, title, description)

    def get(self, title: str, description: str) -> tuple[Category, Priority, Confidence] | None:
        """The cached answer, if one exists and has not expired.

        Items cached before answers carried a confidence read as low: nothing vouches
        for them.
        """
        try:
            item = ClassificationCacheModel.get(cache_key(self._model, title, description), _SK)
        except DoesNotExist:
            return None
        except PynamoDBException as exc:
            logger.warning("classification cache unreadable", extra={"error": str(exc)})
            return None
        # DynamoDB removes expired items lazily (within days): check the time too.
        if item.expires_at <= self._clock():
            return None
        return item.category, item.priority, item.confidence or Confidence.LOW

    def put(
        self,
        title: str,
        description: str,
        category: Category,
        priority: Priority,
        confidence: Confidence,
    ) -> None:
        """Remember Claude's answer and its confidence for the TTL."""
        item = ClassificationCacheModel(
            cache_key(self._model, title, description),
            _SK,
            category=category,
            priority=priority,
            confidence=confidence,
            expires_at=int(self._clock()) + self._ttl,
        )
        try:
            item.save()
        except PynamoDBException as exc:
            logger.warning("classification cache unwritable", extra={"error": str(exc)})
