"""Train the offline classifier from the development set and write its weights.

Run from the repository root (``make train-classifier``)::

    python -m tools.train_classifier           # writes classification/offline_model.json
    python -m tools.train_classifier --check   # exits 1 if the shipped file differs

Only ``tests/data/labelled_tickets.jsonl`` (the development set) is read. The holdout
is never opened here: the hyperparameters below and the confidence thresholds are chosen
from 5-fold cross-validation on the development set alone.

The model is multinomial logistic regression, one for the category and one for the
priority, over the features of ``chalicelib.classification.features``, trained by
stochastic gradient descent with L2 regularisation, in the standard library. Training
is deterministic (fixed seed, fixed order), so the same data always gives the same file.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chalicelib.classification.features import ticket_features
from chalicelib.classification.offline import (
    MODEL_FORMAT,
    MODEL_PATH,
    WEIGHT_SCALE,
    model_from_document,
    softmax,
)
from chalicelib.domain import Category, Priority
from tools.classifier_accuracy import DEV_SET, LabelledTicket, load_labelled

CATEGORIES = tuple(Category)
PRIORITIES = tuple(Priority)


@dataclass(frozen=True, slots=True)
class Hyperparameters:
    """Chosen by 5-fold cross-validation on the development set (docs/classifier.md)."""

    # A feature must occur in this many development tickets to get a weight: rarer ones
    # are mostly names, ids and typos, and would only memorise their ticket.
    min_tickets: int = 3
    epochs: int = 20
    learning_rate: float = 0.5
    l2: float = 1e-4
    # High and critical tickets are what an agent must not miss, and the rarer labels:
    # their errors cost more during training, which trades a little medium precision for
    # their recall.
    priority_class_weights: tuple[float, ...] = (1.0, 1.0, 1.4, 1.3)
    seed: int = 12
    folds: int = 5


PARAMETERS = Hyperparameters()

# The confidence thresholds are searched on this grid of probabilities.
_THRESHOLD_GRID = tuple(round(0.30 + 0.025 * step, 3) for step in range(25))
_OFFSET_GRID = tuple(round(0.1 * step, 1) for step in range(16))
# At most this share of tickets may be flagged "low": a flag on most suggestions would
# tell an agent nothing.
_MAX_LOW_SHARE = 0.35

Example = list[tuple[str, float]]


def _vocabulary(feature_sets: Sequence[set[str]], min_tickets: int) -> set[str]:
    counts: dict[str, int] = {}
    for features in feature_sets:
        for feature in features:
            counts[feature] = counts.get(feature, 0) + 1
    return {feature for feature, count in counts.items() if count >= min_tickets}


def _example(features: set[str], vocabulary: set[str]) -> Example:
    # The same scaling as OfflineModel.probabilities: 1 / sqrt(number of known features).
    known = sorted(features & vocabulary)
    value = 1.0 / math.sqrt(len(known)) if known else 0.0
    return [(feature, value) for feature in known]


def train_head(
    examples: Sequence[Example],
    labels: Sequence[int],
    classes: int,
    class_weights: Sequence[float] | None = None,
    parameters: Hyperparameters = PARAMETERS,
) -> tuple[dict[str, list[float]], list[float]]:
    """Softmax regression by SGD; returns (weights per feature, bias)."""
    weights: dict[str, list[float]] = {}
    bias = [0.0] * classes
    order = list(range(len(examples)))
    shuffle = random.Random(parameters.seed)
    for epoch in range(parameters.epochs):
        shuffle.shuffle(order)
        rate = parameters.learning_rate / (1 + 0.2 * epoch)
        for index in order:
            example, label = examples[index], labels[index]
            scores = bias[:]
            for feature, value in example:
                row = weights.get(feature)
                if row is not None:
                    for k in range(classes):
                        scores[k] += row[k] * value
            probabilities = softmax(scores)
            weight = class_weights[label] if class_weights else 1.0
            gradient = [
                (probabilities[k] - (1.0 if k == label else 0.0)) * weight for k in range(classes)
            ]
            for k in range(classes):
                bias[k] -= rate * gradient[k]
            for feature, value in example:
                row = weights.setdefault(feature, [0.0] * classes)
                for k in range(classes):
                    row[k] -= rate * (gradient[k] * value + parameters.l2 * row[k])
    return weights, bias


def build_document(
    tickets: Sequence[LabelledTicket],
    feature_sets: Sequence[set[str]],
    thresholds: tuple[float, float],
    priority_offsets: Sequence[float],
    source: dict[str, Any],
    parameters: Hyperparameters = PARAMETERS,
) -> dict[str, Any]:
    """Train both heads on ``tickets`` and return the model file's content.

    ``priority_offsets`` are added to the priority bias (see ``choose_priority_offsets``).
    """
    vocabulary = _vocabulary(feature_sets, parameters.min_tickets)
    examples = [_example(features, vocabulary) for features in feature_sets]
    category_weights, category_bias = train_head(
        examples, [CATEGORIES.index(t.category) for t in tickets], len(CATEGORIES), None, parameters
    )
    priority_weights, priority_bias = train_head(
        examples,
        [PRIORITIES.index(t.priority) for t in tickets],
        len(PRIORITIES),
        parameters.priority_class_weights,
        parameters,
    )

    def scaled(values: Sequence[float]) -> list[int]:
        return [round(value * WEIGHT_SCALE) for value in values]

    zeros = [0.0] * len(CATEGORIES)
    return {
        "format": MODEL_FORMAT,
        "trained_on": source,
        "hyperparameters": {
            "min_tickets": parameters.min_tickets,
            "epochs": parameters.epochs,
            "learning_rate": parameters.learning_rate,
            "l2": parameters.l2,
            "priority_class_weights": list(parameters.priority_class_weights),
            "seed": parameters.seed,
        },
        "confidence": {
            "min_category_probability": thresholds[0],
            "min_priority_probability": thresholds[1],
        },
        "categories": [c.value for c in CATEGORIES],
        "priorities": [p.value for p in PRIORITIES],
        "priority_offsets": list(priority_offsets),
        "bias": scaled(
            [*category_bias, *(b + o for b, o in zip(priority_bias, priority_offsets, strict=True))]
        ),
        "weights": {
            feature: scaled(
                [*category_weights.get(feature, zeros), *priority_weights.get(feature, zeros)]
            )
            for feature in sorted(vocabulary)
        },
    }


@dataclass(frozen=True, slots=True)
class OutOfFold:
    """One development ticket's prediction by a model that did not see it."""

    category_ok: bool
    category_probability: float
    expected_priority: Priority
    priority_probabilities: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class Verdict:
    """An out-of-fold prediction after the priority offsets: right or wrong, how sure."""

    category_ok: bool
    priority_ok: bool
    category_probability: float
    priority_probability: float
    expected_priority: Priority


def cross_validate(
    tickets: Sequence[LabelledTicket],
    feature_sets: Sequence[set[str]],
    parameters: Hyperparameters = PARAMETERS,
) -> list[OutOfFold]:
    """Predict every ticket with a model trained on the other folds."""
    order = list(range(len(tickets)))
    random.Random(parameters.seed).shuffle(order)
    results: list[OutOfFold | None] = [None] * len(tickets)
    for fold in range(parameters.folds):
        held = set(order[fold :: parameters.folds])
        train = [i for i in range(len(tickets)) if i not in held]
        document = build_document(
            [tickets[i] for i in train],
            [feature_sets[i] for i in train],
            (0.0, 0.0),
            (0.0,) * len(PRIORITIES),
            {},
            parameters,
        )
        model = model_from_document(document)
        for i in held:
            categories, priorities = model.probabilities(feature_sets[i])
            best = max(range(len(categories)), key=categories.__getitem__)
            results[i] = OutOfFold(
                category_ok=model.categories[best] == tickets[i].category,
                category_probability=categories[best],
                expected_priority=tickets[i].priority,
                priority_probabilities=tuple(priorities),
            )
    return [result for result in results if result is not None]


def judge(predictions: Sequence[OutOfFold], offsets: Sequence[float]) -> list[Verdict]:
    """The out-of-fold predictions with ``offsets`` added to the priority scores."""
    verdicts = []
    for p in predictions:
        adjusted = softmax(
            [
                math.log(max(q, 1e-12)) + o
                for q, o in zip(p.priority_probabilities, offsets, strict=True)
            ]
        )
        best = max(range(len(adjusted)), key=adjusted.__getitem__)
        verdicts.append(
            Verdict(
                category_ok=p.category_ok,
                priority_ok=PRIORITIES[best] is p.expected_priority,
                category_probability=p.category_probability,
                priority_probability=adjusted[best],
                expected_priority=p.expected_priority,
            )
        )
    return verdicts


def recall(verdicts: Sequence[Verdict], priority: Priority) -> float:
    """Share of the tickets labelled ``priority`` that were given it."""
    labelled = [v for v in verdicts if v.expected_priority is priority]
    return sum(v.priority_ok for v in labelled) / len(labelled) if labelled else 0.0


def choose_priority_offsets(predictions: Sequence[OutOfFold]) -> tuple[float, ...]:
    """Score offsets for high and critical, so that the model does not under-call them.

    A miss on a high or critical ticket costs more than a mistake on a medium one, so the
    priority decision leans towards them: the offsets (added to their two scores) that
    maximise cross-validated accuracy plus the lower of the high and critical recalls,
    the smallest such offsets on a tie.
    """
    best: tuple[tuple[float, float], tuple[float, ...]] | None = None
    for high in _OFFSET_GRID:
        for critical in _OFFSET_GRID:
            offsets = (0.0, 0.0, high, critical)
            verdicts = judge(predictions, offsets)
            accuracy = sum(v.priority_ok for v in verdicts) / len(verdicts)
            urgent = min(recall(verdicts, Priority.HIGH), recall(verdicts, Priority.CRITICAL))
            key = (round(accuracy + urgent, 9), -(high + critical))
            if best is None or key > best[0]:
                best = (key, offsets)
    assert best is not None, "the offset grid is not empty"
    return best[1]


def choose_thresholds(verdicts: Sequence[Verdict]) -> tuple[float, float]:
    """The probability floors under which a suggestion is "low" confidence.

    Chosen to separate wrong suggestions from right ones as well as possible: the pair
    that maximises (share of wrong suggestions flagged) - (share of right ones flagged),
    flagging at most ``_MAX_LOW_SHARE`` of all tickets.
    """
    wrong = [not (v.category_ok and v.priority_ok) for v in verdicts]
    wrong_count = sum(wrong) or 1
    right_count = (len(verdicts) - sum(wrong)) or 1
    best = (-1.0, (0.0, 0.0))
    for category_floor in _THRESHOLD_GRID:
        for priority_floor in _THRESHOLD_GRID:
            flagged = [
                v.category_probability < category_floor or v.priority_probability < priority_floor
                for v in verdicts
            ]
            if sum(flagged) > _MAX_LOW_SHARE * len(verdicts):
                continue
            caught = sum(f and w for f, w in zip(flagged, wrong, strict=True)) / wrong_count
            doubted = sum(f and not w for f, w in zip(flagged, wrong, strict=True)) / right_count
            if caught - doubted > best[0]:
                best = (caught - doubted, (category_floor, priority_floor))
    return best[1]


def render_document(document: dict[str, Any]) -> str:
    """JSON with one feature per line, so a retrained model makes a readable diff."""
    head = {key: value for key, value in document.items() if key != "weights"}
    lines = [json.dumps(head, sort_keys=True)[:-1] + ', "weights": {']
    rows = [
        f"{json.dumps(feature)}: {json.dumps(row, separators=(',', ':'))}"
        for feature, row in document["weights"].items()
    ]
    lines.append(",\n".join(rows))
    lines.append("}}")
    return "\n".join(lines) + "\n"


def train(data: Path = DEV_SET) -> tuple[str, str]:
    """The model file's text, and a summary of the cross-validation behind it."""
    raw = data.read_bytes()
    tickets = load_labelled(data)
    feature_sets = [ticket_features(t.title, t.description) for t in tickets]
    predictions = cross_validate(tickets, feature_sets)
    offsets = choose_priority_offsets(predictions)
    verdicts = judge(predictions, offsets)
    thresholds = choose_thresholds(verdicts)
    source = {
        "file": data.name,
        "tickets": len(tickets),
        "sha256": hashlib.sha256(raw).hexdigest(),
    }
    document = build_document(tickets, feature_sets, thresholds, offsets, source)
    document["cross_validation"] = _cross_validation_record(verdicts, thresholds)
    summary = "\n".join(
        [
            _accuracy_line("without offsets", judge(predictions, (0.0,) * len(PRIORITIES))),
            _accuracy_line(f"with priority offsets {offsets}", verdicts),
            _confidence_line(verdicts, thresholds),
        ]
    )
    return render_document(document), summary


def _cross_validation_record(
    verdicts: Sequence[Verdict], thresholds: tuple[float, float]
) -> dict[str, Any]:
    # Kept in the model file so reports (make bench) can show the honest development-set
    # estimate without retraining.
    count = len(verdicts)
    low = [
        v.category_probability < thresholds[0] or v.priority_probability < thresholds[1]
        for v in verdicts
    ]
    return {
        "folds": PARAMETERS.folds,
        "tickets": count,
        "category_accuracy": round(sum(v.category_ok for v in verdicts) / count, 4),
        "priority_accuracy": round(sum(v.priority_ok for v in verdicts) / count, 4),
        "priority_recall": {p.value: round(recall(verdicts, p), 4) for p in PRIORITIES},
        "low_confidence_share": round(sum(low) / count, 4),
    }


def _accuracy_line(name: str, verdicts: Sequence[Verdict]) -> str:
    count = len(verdicts)
    recalls = ", ".join(f"{p.value} {recall(verdicts, p):.0%}" for p in PRIORITIES)
    return (
        f"5-fold cross-validation on the development set ({count} tickets), {name}: "
        f"category {sum(v.category_ok for v in verdicts) / count:.1%}, "
        f"priority {sum(v.priority_ok for v in verdicts) / count:.1%} (recall: {recalls})"
    )


def _confidence_line(verdicts: Sequence[Verdict], thresholds: tuple[float, float]) -> str:
    count = len(verdicts)
    both = [v.category_ok and v.priority_ok for v in verdicts]
    low = [
        v.category_probability < thresholds[0] or v.priority_probability < thresholds[1]
        for v in verdicts
    ]
    low_count = sum(low)
    low_right = sum(b for b, f in zip(both, low, strict=True) if f)
    high_right = sum(b for b, f in zip(both, low, strict=True) if not f)
    caught = sum(f and not b for b, f in zip(both, low, strict=True))
    return (
        f"confidence floors: category {thresholds[0]}, priority {thresholds[1]}; low on "
        f"{low_count} tickets ({low_count / count:.0%}), both right on "
        f"{low_right / max(low_count, 1):.0%} of them and on "
        f"{high_right / max(count - low_count, 1):.0%} of the high-confidence ones; low "
        f"catches {caught} of {count - sum(both)} wrong suggestions"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Train and write the model file, or with ``--check`` compare it with the shipped one."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="fail if the shipped file differs")
    parser.add_argument("--output", type=Path, default=Path(MODEL_PATH))
    args = parser.parse_args(argv)
    text, summary = train()
    print(summary, file=sys.stderr)
    if args.check:
        if args.output.read_text(encoding="utf-8") != text:
            print(f"{args.output} is not what training gives: run make train-classifier")
            return 1
        print(f"{args.output} is up to date")
        return 0
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output} ({len(text.encode()) / 1024:.0f} KB)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
