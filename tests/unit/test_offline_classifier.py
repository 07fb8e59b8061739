"""The offline classifier: behaviour on clear tickets, robustness, confidence, the targets.

The examples here are written for these tests and appear in neither labelled data set, so
they check that the model generalises rather than remembers.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from chalicelib.classification.definitions import CATEGORY_DEFINITIONS, PRIORITY_DEFINITIONS
from chalicelib.classification.offline import classify_offline
from chalicelib.domain import Category, Confidence, Priority
from tools.classifier_accuracy import (
    DEV_SET,
    HOLDOUT_SET,
    TARGETS,
    evaluate,
    load_labelled,
    missed_targets,
)


def answer(title: str, description: str) -> tuple[Category, Priority]:
    suggestion = classify_offline(title, description)
    return suggestion.category, suggestion.priority


@pytest.mark.parametrize(
    ("title", "description", "expected"),
    [
        (
            "Charged for a plan I never ordered",
            "My statement shows a payment to you for the Business tier. Please refund it.",
            Category.BILLING,
        ),
        (
            "VAT missing on receipt",
            "The receipt for the last renewal has no tax line, finance needs a corrected copy.",
            Category.BILLING,
        ),
        (
            "Kalender-Integration wirft Fehler",
            "The Outlook integration throws an error 'sync failed' every hour since the update.",
            Category.TECHNICAL,
        ),
        (
            "Reports page extremely slow",
            "The reports page takes almost a minute to load in Chrome; other pages are quick.",
            Category.TECHNICAL,
        ),
        (
            "Two-factor code rejected",
            "The authenticator code is refused when I sign in, even right after it refreshes.",
            Category.ACCOUNT,
        ),
        (
            "Give my colleague editor permissions",
            "How can I change Priya's role from viewer to editor in our workspace?",
            Category.ACCOUNT,
        ),
        (
            "Idea: keyboard-only navigation",
            "It would be great if every menu could be reached without a mouse.",
            Category.GENERAL,
        ),
        (
            "Do you publish a security whitepaper?",
            "Our procurement checklist asks for one before we sign.",
            Category.GENERAL,
        ),
    ],
)
def test_clear_tickets_get_their_category(title: str, description: str, expected: Category) -> None:
    # Given a ticket whose topic is unmistakable to a person
    # When it is classified offline
    category, _ = answer(title, description)
    # Then the category is the one a person would choose
    assert category == expected


@pytest.mark.parametrize(
    ("title", "description", "expected"),
    [
        (
            "Whole site down",
            "Every page returns 503 for all of our staff, the service is completely unreachable.",
            Priority.CRITICAL,
        ),
        (
            "Projects deleted after sync",
            "We lost all our project files after last night's sync, nothing left to restore.",
            Priority.CRITICAL,
        ),
        (
            "Account taken over",
            "Someone else logged into my account and changed the recovery email. It was not me.",
            Priority.CRITICAL,
        ),
        (
            "Exports broken for all users",
            "Exporting fails with an error for all our users; the finance team depends on it.",
            Priority.HIGH,
        ),
        (
            "Cannot sign in since this morning",
            "I cannot log in, it says my session is invalid. I have a client call at noon.",
            Priority.HIGH,
        ),
        (
            "Image upload fails on Firefox",
            "Uploading images fails in Firefox with an error. Using Edge works in the meantime.",
            Priority.MEDIUM,
        ),
        (
            "Logo slightly blurry on the login page",
            "Purely cosmetic: the logo looks pixelated on high-resolution screens.",
            Priority.LOW,
        ),
        (
            "Feature request: Gantt view",
            "Would love a timeline view for tasks, it would help us plan sprints.",
            Priority.LOW,
        ),
    ],
)
def test_clear_tickets_get_their_priority(title: str, description: str, expected: Priority) -> None:
    # Given a ticket whose urgency is unmistakable under the shared priority definitions
    # When it is classified offline
    _, priority = answer(title, description)
    # Then the priority matches those definitions
    assert priority == expected


def test_questions_and_feature_requests_are_general_and_low() -> None:
    # Given a product question and a feature request that report nothing broken
    question = ("Can the API filter by date?", "Wondering which parameters the API supports.")
    request = ("Please add a Slack digest", "It would be nice to get a daily summary in Slack.")
    # When both are classified
    results = [answer(*question), answer(*request)]
    # Then both are general questions of low priority, despite naming technical things
    assert results == [(Category.GENERAL, Priority.LOW)] * 2


def test_title_outweighs_description() -> None:
    # Given a billing title whose description also mentions logging in in passing
    title = "Refund the duplicate charge"
    description = "I logged in to check and I see two charges on my card."
    # When it is classified
    category, _ = answer(title, description)
    # Then the title's topic wins
    assert category == Category.BILLING


def test_a_topic_the_writer_rules_out_does_not_count() -> None:
    # Given a ticket that says login and password are fine and the trouble is elsewhere
    ruled_out = "Login works fine. Password is fine too. The invoice total is wrong."
    # And the same ticket with the login trouble real, as a control
    real = "Login is broken. Password is rejected too. The invoice total is wrong."
    # When both are classified
    ruled_out_category, _ = answer("Help", ruled_out)
    real_category, _ = answer("Help", real)
    # Then the ruled-out topic is ignored, and it is the ruling out that made the difference
    assert ruled_out_category == Category.BILLING
    assert real_category == Category.ACCOUNT


def test_a_workaround_makes_an_outage_sounding_ticket_doubtful_or_medium() -> None:
    # Given a failure that would be high on its own
    broken = "The calendar sync is broken for all our users."
    workaround = " We use the manual export as a workaround for now."
    # When it is classified with and without a workaround
    without = classify_offline("Calendar sync broken", broken)
    with_workaround = classify_offline("Calendar sync broken", broken + workaround)
    # Then without one it is high, confidently
    assert (without.priority, without.confidence) == (Priority.HIGH, Confidence.HIGH)
    # And the workaround either brings it down to medium or, as the model leans towards
    # high and critical by design (docs/classifier.md), leaves a high a person should check
    assert with_workaround.priority_probability < without.priority_probability - 0.3
    assert (
        with_workaround.priority is Priority.MEDIUM or with_workaround.confidence is Confidence.LOW
    )


def test_classification_is_deterministic() -> None:
    # Given a mixed ticket touching several categories
    title = "Charged twice and now cannot log in"
    description = "After the double charge my account was locked and the app shows an error."
    # When it is classified many times
    results = {classify_offline(title, description) for _ in range(20)}
    # Then every run gives the same answer
    assert len(results) == 1


@pytest.mark.parametrize(
    ("title", "description"),
    [("", ""), ("   ", "\n\t "), ("🙂🙂🙂", "…")],
)
def test_text_without_signal_is_general_medium_and_unsure(title: str, description: str) -> None:
    # Given a ticket with no words to go on
    # When it is classified
    result = classify_offline(title, description)
    # Then it falls back to the neutral answer, and says it is unsure
    assert (result.category, result.priority) == (Category.GENERAL, Priority.MEDIUM)
    assert result.confidence is Confidence.LOW


def test_unicode_and_typographic_text_is_read() -> None:
    # Given full-width letters and a curly apostrophe, as pasted from word processors
    title = "Ｉ can\u2019t ｌｏｇ ｉｎ"
    description = "Mot de passe refusé – the password is rejected every time. 请帮忙"
    # When it is classified
    category, priority = answer(title, description)
    # Then the normalised text is understood as a single-user access problem
    assert (category, priority) == (Category.ACCOUNT, Priority.HIGH)


def test_huge_input_is_handled_and_only_its_start_is_read() -> None:
    # Given a 100,000-character description, as when someone pastes a log file,
    # whose only billing word comes after the part the classifier reads
    padding = "lorem ipsum dolor sit amet " * 3_704
    huge = padding + "invoice refund"
    assert len(huge) >= 100_000
    # When it is classified
    result = classify_offline("x" * 100_000, huge)
    # Then it returns a normal answer, and the late words did not count, which is what
    # bounds the time spent (measured at about 1.5 ms on a 100k-character ticket)
    assert result == classify_offline("x" * 100_000, padding)
    assert result.category == Category.GENERAL


def test_every_category_and_priority_has_a_shared_definition() -> None:
    # Given the definitions the offline classifier and the Claude prompt both use
    # When they are compared with the enums
    # Then every value is defined, in words a person can read
    assert set(CATEGORY_DEFINITIONS) == set(Category)
    assert set(PRIORITY_DEFINITIONS) == set(Priority)
    assert all(
        text.strip() for text in [*CATEGORY_DEFINITIONS.values(), *PRIORITY_DEFINITIONS.values()]
    )


def test_labelled_sets_are_valid_balanced_and_disjoint() -> None:
    # Given both hand-labelled data files
    dev = load_labelled(DEV_SET)
    holdout = load_labelled(HOLDOUT_SET)
    # When their labels and texts are counted
    everything = dev + holdout
    categories = Counter(ticket.category for ticket in everything)
    priorities = Counter(ticket.priority for ticket in everything)
    dev_texts = {(t.title, t.description) for t in dev}
    holdout_texts = {(t.title, t.description) for t in holdout}
    # Then there are enough of each label to measure, and no ticket is in both sets
    assert len(dev) >= 500 and len(holdout) >= 150
    assert min(categories[c] for c in Category) >= 100
    assert min(priorities[p] for p in Priority) >= 100
    assert not dev_texts & holdout_texts
    assert len(dev_texts) == len(dev) and len(holdout_texts) == len(holdout)


def test_data_files_are_one_json_object_per_line() -> None:
    # Given the raw data files
    for path in (DEV_SET, HOLDOUT_SET):
        lines = Path(path).read_text(encoding="utf-8").splitlines()
        # When every line is parsed
        rows = [json.loads(line) for line in lines]
        # Then each is exactly the four documented fields
        assert all(set(row) == {"title", "description", "category", "priority"} for row in rows)


def test_holdout_meets_the_targets() -> None:
    # Given the holdout set, which the model was never trained or tuned on
    # When the classifier is evaluated on it (as `make accuracy` does)
    report = evaluate(HOLDOUT_SET)
    # Then it meets every target of issue 12 (category, priority, high and critical recall)
    assert missed_targets(report) == []
    assert TARGETS.category >= 0.92 and TARGETS.priority >= 0.75


def test_confidence_separates_likely_errors_from_likely_hits() -> None:
    # Given the holdout set
    # When it is classified and split by the confidence of each suggestion
    split = evaluate(HOLDOUT_SET)["confidence"]
    high, low = split["high"], split["low"]
    # Then both levels occur (the confidence is computed, not a constant), high-confidence
    # suggestions are right far more often than low ones, and "low" flags at least half
    # of the wrong suggestions
    assert high["count"] > 0 and low["count"] > 0
    assert high["both_accuracy"] > low["both_accuracy"] + 0.2
    assert split["wrong_flagged_low"] >= 0.5


def test_evaluate_counts_agree_with_the_confusion_matrices() -> None:
    # Given an evaluation of the development set
    report = evaluate(DEV_SET)
    # When the diagonal of each confusion matrix is summed
    for axis in ("category", "priority"):
        matrix = report[f"{axis}_confusion"]
        correct = sum(matrix[label][label] for label in matrix)
        total = sum(sum(row.values()) for row in matrix.values())
        # Then it gives the reported accuracy over the whole set
        assert total == report["count"]
        assert correct / total == pytest.approx(report[f"{axis}_accuracy"])
