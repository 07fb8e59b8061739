"""Classification with a fallback: Claude when it answers well, the offline classifier otherwise."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Protocol

from aws_lambda_powertools.metrics import MetricUnit

from chalicelib.domain import Category, Classification, ClassificationSource, Confidence, Priority
from chalicelib.errors import ClassificationUnavailable
from chalicelib.observability import logger, metrics


class LlmClassifier(Protocol):
    """Anything that classifies with a model or raises ClassificationUnavailable."""

    def classify(self, title: str, description: str) -> Classification: ...

    def configured(self) -> bool:
        """Whether a call could be made at all (a key is available)."""
        ...


class ClassificationCache(Protocol):
    """Remembers Claude's answers, with their confidence, by text."""

    def suggestion_id(self, title: str, description: str) -> str:
        """The id the cache keeps this text's answer under."""
        ...

    def get(self, title: str, description: str) -> tuple[Category, Priority, Confidence] | None: ...

    def put(
        self,
        title: str,
        description: str,
        category: Category,
        priority: Priority,
        confidence: Confidence,
    ) -> None: ...


class CallBudget(Protocol):
    """How many Claude calls may still be made today."""

    def try_spend(self) -> bool: ...


BUDGET_SPENT = "the daily AI budget is used up"


class TicketClassifier:
    """Always returns a suggestion; says in ``warning`` when it is the offline one.

    Claude's answers are cached by normalised text (case, accents, punctuation and
    spacing ignored): classification is public and costs money, and the form asks
    again for text it has already seen. Every Claude call is counted against a daily
    budget; once it is spent, the offline classifier answers.
    """

    def __init__(
        self,
        llm: LlmClassifier,
        cache: ClassificationCache | None = None,
        budget: CallBudget | None = None,
    ) -> None:
        self._llm = llm
        self._cache = cache
        self._budget = budget

    def classify(
        self,
        title: str,
        description: str,
        *,
        allow_llm: bool = True,
        suggestion_id: str | None = None,
    ) -> Classification:
        """Category, priority and confidence, from Claude (or its cache) or else offline.

        ``allow_llm=False`` (a ticket that already has its values) never makes a new
        Claude call, and reads the cache only for the ``suggestion_id`` a classification
        answered with for this same text: the suggestion the form showed. Otherwise the
        offline classifier answers, and no read is spent on a cache that, for a program
        that never asked for a suggestion, holds nothing.
        """
        started = time.perf_counter()
        # Without a key the cache can hold nothing useful: skip its read.
        cache = self._cache if self._cache is not None and self._llm.configured() else None
        # A create with its values and no suggestion named neither reads nor names one.
        named = allow_llm or suggestion_id is not None
        text_id = cache.suggestion_id(title, description) if cache and named else None
        shown = suggestion_id is not None and suggestion_id == text_id
        cached = cache.get(title, description) if cache and (allow_llm or shown) else None
        if cached is not None:
            metrics.add_metric(name="ClassificationCacheHit", unit=MetricUnit.Count, value=1)
            category, priority, confidence = cached
            return Classification(
                category, priority, ClassificationSource.LLM, confidence, suggestion_id=text_id
            )
        try:
            if not allow_llm:
                raise ClassificationUnavailable("not asked", no_key=True)
            if self._llm.configured() and self._budget and not self._budget.try_spend():
                metrics.add_metric(name="ClaudeBudgetSpent", unit=MetricUnit.Count, value=1)
                raise ClassificationUnavailable(BUDGET_SPENT)
            result = self._llm.classify(title, description)
            if cache:
                cache.put(title, description, result.category, result.priority, result.confidence)
                result = replace(result, suggestion_id=text_id)
        except ClassificationUnavailable as exc:
            # Imported on the first fallback, not at cold start: most requests (lists,
            # reads, updates) never classify, and with Claude configured few fall back.
            from chalicelib.classification.offline import classify_offline

            suggestion = classify_offline(title, description)
            result = Classification(
                suggestion.category,
                suggestion.priority,
                ClassificationSource.FALLBACK,
                suggestion.confidence,
                warning=f"AI suggestion unavailable ({exc}); "
                "this suggestion comes from the offline classifier.",
            )
            # Running without a key is a choice, not an incident: keep it out of INFO logs.
            log = logger.debug if exc.no_key else logger.warning
            log("classification fell back to offline", extra={"reason": str(exc)})
        elapsed_ms = (time.perf_counter() - started) * 1000
        metrics.add_metric(
            name=f"Classification_{result.source.value}", unit=MetricUnit.Count, value=1
        )
        metrics.add_metric(
            name="ClassificationLatency", unit=MetricUnit.Milliseconds, value=elapsed_ms
        )
        return result
