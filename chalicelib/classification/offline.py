"""The offline ticket classifier, used when Claude is unavailable: the cues' own answer.

The weighted keyword and severity cues live in ``cues.py``; this module is the entry
point the service calls. With no usable signal at all it answers ``general`` /
``medium``.
"""

from __future__ import annotations

from chalicelib.classification.cues import (
    MAX_DESCRIPTION_CHARS,
    MAX_TITLE_CHARS,
    normalise,
    read_cues,
)
from chalicelib.domain import Category, Priority


def classify_offline(title: str, description: str) -> tuple[Category, Priority]:
    """Suggest a category and priority for a ticket from its text alone.

    Deterministic, stdlib only, and bounded in time however long the text is.
    """
    title_text = normalise(title[:MAX_TITLE_CHARS])
    description_text = normalise(description[:MAX_DESCRIPTION_CHARS])
    if not title_text.strip() and not description_text.strip():
        return Category.GENERAL, Priority.MEDIUM
    reading = read_cues(title_text, description_text)
    return reading.category, reading.priority
