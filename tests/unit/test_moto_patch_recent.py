"""The bounded memo the local DynamoDB's caches share."""

from __future__ import annotations

from local_stack.moto_patch.recent import Recent


def test_it_forgets_the_least_recently_used_answer_beyond_its_size() -> None:
    recent: Recent[str, int] = Recent(2)
    assert recent.put("a", 1) == 1
    recent.put("b", 2)
    assert recent.get("a") == 1  # "a" is now the most recent
    recent.put("c", 3)  # so "b" goes
    assert (recent.get("a"), recent.get("b"), recent.get("c")) == (1, None, 3)
    assert len(recent) == 2
    assert recent.get("missing") is None
