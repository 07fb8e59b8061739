"""The hand-written cues: what they read, and the literal prefilter that skips most of them."""

from __future__ import annotations

import pytest

from chalicelib.classification import cues
from chalicelib.domain import Category, Priority
from tools.classifier_accuracy import DEV_SET, HOLDOUT_SET, load_labelled


def test_a_reading_holds_the_rules_answer_and_what_fired() -> None:
    # Given an outage that blocks everyone, phrased plainly
    title = cues.normalise("Site down")
    description = cues.normalise("The site is down for all our users, we cannot work.")
    # When the cues read it
    reading = cues.read_cues(title, description)
    # Then the rules call it a critical technical ticket, and say why
    assert (reading.category, reading.priority) == (Category.TECHNICAL, Priority.CRITICAL)
    assert {"service down", "many affected", "cannot use it"} <= reading.severity_groups
    assert not reading.partial and not reading.enquiry


def test_a_workaround_and_a_question_are_noticed() -> None:
    # Given a partial problem with a workaround, and a plain question
    partial = cues.read_cues("export slow", "sometimes slow, a refresh fixes it for now")
    question = cues.read_cues("api limits?", "how many requests can we send per minute?")
    # Then the first is flagged partial and the second an enquiry
    assert partial.partial and not partial.enquiry
    assert question.enquiry


def test_the_cue_prefilter_never_skips_a_match() -> None:
    # Given every hand-written cue and every labelled ticket's text
    every_cue = [
        cue
        for group in (*cues._CATEGORY_CUES.values(), *cues._SEVERITY_GROUPS.values())
        for cue in group
    ] + list(cues._PARTIAL)
    texts = [
        cues.normalise(f"{t.title}.\n{t.description}")
        for t in load_labelled(DEV_SET) + load_labelled(HOLDOUT_SET)
    ]
    # When each cue's literal prefilter says where its earliest match could start
    missed = [
        (cue.alternatives, text[:60])
        for text in texts
        for cue in every_cue
        for match in cue.pattern.finditer(text)
        if (start := cue.first_possible_start(text)) is None or match.start() < start
    ]
    # Then no match is ever missed: none in a text it rules out, none before its start.
    # The prefilter only saves time.
    assert missed == []
    # And it applies to nearly every cue (the others always run)
    always_run = [cue for cue in every_cue if cues._prefixes_of(cue.alternatives) is None]
    assert len(always_run) <= 3


@pytest.mark.parametrize(
    ("alternatives", "prefixes"),
    [
        (r"invoic\w*|refund\w*|receipts?\b", ("invoic", "refund", "receipt")),
        (r"(?:over|re)?charg(?:e|ed)\b|bill", ("over", "re", "charg", "bill")),
        (r"(?:is|are) down\b|went down", ("is", "are", "went down")),
        (r"(?<!nothing )works(?: fine)?\s*(?:[.!,;)]|$)", ("works",)),
        (r"log ?in|sign-in", ("log", "sign-in")),
        (r"\d{2,} users|all users", None),
    ],
)
def test_cue_prefixes_are_text_every_match_must_contain(
    alternatives: str, prefixes: tuple[str, ...] | None
) -> None:
    # Given a cue's alternatives, when its required literals are read,
    # then each alternative contributes the literal text it starts with (or None)
    assert cues._prefixes_of(alternatives) == prefixes
