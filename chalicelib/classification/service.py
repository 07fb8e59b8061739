"""Classification with a fallback: Claude when it answers well, the offline classifier otherwise."""

from __future__ import annotations

import time
from typing import Protocol

from aws_lambda_powertools.metrics import MetricUnit

from chalicelib.classification.offline import classify_offline
from chalicelib.domain import Classification, ClassificationSource
from chalicelib.errors import ClassificationUnavailable
from chalicelib.observability import logger, metrics


class LlmClassifier(Protocol):
    """Anything that classifies with a model or raises ClassificationUnavailable."""

    def classify(self, title: str, description: str) -> Classification: ...


class TicketClassifier:
    """Always returns a suggestion; says in ``warning`` when it is the offline one."""

    def __init__(self, llm: LlmClassifier) -> None:
        self._llm = llm

    def classify(self, title: str, description: str) -> Classification:
        """Category and priority for the text, from Claude or, failing that, offline."""
        started = time.perf_counter()
        try:
            result = self._llm.classify(title, description)
        except ClassificationUnavailable as exc:
            category, priority = classify_offline(title, description)
            result = Classification(
                category,
                priority,
                ClassificationSource.FALLBACK,
                warning=f"AI suggestion unavailable ({exc}); "
                "this suggestion comes from the offline keyword classifier.",
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
