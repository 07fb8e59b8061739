"""Confidence through the classification cache in DynamoDB (moto) and the service."""

from __future__ import annotations

from chalicelib.classification.llm import ClaudeClassifier
from chalicelib.classification.service import TicketClassifier
from chalicelib.data.classification_cache import (
    _SK,
    DynamoClassificationCache,
    cache_key,
)
from chalicelib.data.models import ClassificationCacheModel
from chalicelib.domain import Category, Confidence, Priority
from local_stack.fake_claude import FakeClaudeServer

MODEL = "claude-test"


def test_the_cache_stores_and_returns_the_confidence(table: str) -> None:
    # Given a cached low-confidence answer
    cache = DynamoClassificationCache(MODEL, ttl_seconds=3600)
    cache.put("Refund?", "Charged twice", Category.BILLING, Priority.MEDIUM, Confidence.LOW)
    # When it is read back
    cached = cache.get("Refund?", "Charged twice")
    # Then the confidence came back with the category and priority
    assert cached == (Category.BILLING, Priority.MEDIUM, Confidence.LOW)


def test_an_answer_cached_before_confidence_existed_reads_as_low(table: str) -> None:
    # Given an item written the way the cache wrote them before confidence existed
    ClassificationCacheModel(
        cache_key(MODEL, "Old", "cached text"),
        _SK,
        category=Category.ACCOUNT,
        priority=Priority.HIGH,
        expires_at=2_000_000_000,
    ).save()
    # When it is read
    cached = DynamoClassificationCache(MODEL, ttl_seconds=3600).get("Old", "cached text")
    # Then nothing vouches for it: it is low confidence
    assert cached == (Category.ACCOUNT, Priority.HIGH, Confidence.LOW)


def test_a_cache_hit_returns_claudes_confidence(
    table: str, fake_claude_server: FakeClaudeServer
) -> None:
    # Given Claude answering with high confidence once, then failing
    fake_claude_server.state.reset()
    fake_claude_server.state.answer = {
        "category": "technical",
        "priority": "critical",
        "confidence": "high",
    }
    llm = ClaudeClassifier(
        api_key=lambda: "test-key",
        model=MODEL,
        timeout_seconds=2.0,
        base_url=fake_claude_server.url,
    )
    service = TicketClassifier(llm, DynamoClassificationCache(MODEL, ttl_seconds=3600))
    try:
        first = service.classify("Site down", "Every page returns 503")
        fake_claude_server.state.mode = "error500"
        # When the same text is classified again
        second = service.classify("Site down", "Every page returns 503")
        calls = len(fake_claude_server.state.requests)
    finally:
        fake_claude_server.state.reset()
    # Then the second answer came from the cache (Claude was called once), confidence
    # included
    assert first.confidence is Confidence.HIGH
    assert second == first
    assert calls == 1
