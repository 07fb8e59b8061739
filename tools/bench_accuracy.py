"""The classifier's section of ``make bench``: accuracy on the labelled sets, confidence
and speed (the numbers ``make accuracy`` checks against the targets)."""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path
from typing import Any


def accuracy() -> dict[str, Any]:
    """The offline classifier on the labelled sets, and how fast it classifies."""
    from chalicelib.classification.offline import MODEL_PATH, classify_offline
    from tools.classifier_accuracy import DEV_SET, HOLDOUT_SET, evaluate, load_labelled

    tickets = load_labelled(DEV_SET) + load_labelled(HOLDOUT_SET)
    classify_offline("warm", "up")  # the first call loads the weights and compiles the cues
    times = []
    for ticket in tickets:
        started = time.perf_counter()
        classify_offline(ticket.title, ticket.description)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {
        "dev": evaluate(DEV_SET),
        "holdout": evaluate(HOLDOUT_SET),
        "cross_validation": json.loads(Path(MODEL_PATH).read_text(encoding="utf-8"))[
            "cross_validation"
        ],
        "model_kb": Path(MODEL_PATH).stat().st_size / 1024,
        "median_ms": statistics.median(times),
        "p95_ms": times[int(0.95 * (len(times) - 1))],
    }


def render_accuracy(accuracy: dict[str, Any]) -> list[str]:
    """The accuracy section of docs/benchmarks.md."""
    from chalicelib.domain import Confidence, Priority
    from tools.classifier_accuracy import TARGETS, missed_targets

    def recalls(report: dict[str, Any]) -> list[str]:
        return [f"{report['priority'][p.value]['recall']:.0%}" for p in Priority]

    dev, holdout, cv = accuracy["dev"], accuracy["holdout"], accuracy["cross_validation"]
    lines = [
        "## Classifier accuracy",
        "",
        "Labelled tickets in `tests/data/`, labelled by the shared definitions and boundary",
        "rules the Claude prompt uses. The offline model is trained on the development set only;",
        "the holdout was written and committed before the model existed, and nothing was tuned",
        "against its errors (see docs/classifier.md).",
        "",
        "### Offline classifier",
        "",
        "| set | tickets | category | priority | both | recall low | medium | high | critical |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| dev (trained on: not a test) | {dev['count']} | {dev['category_accuracy']:.1%} | "
        f"{dev['priority_accuracy']:.1%} | {dev['both_accuracy']:.1%} | "
        + " | ".join(recalls(dev))
        + " |",
        f"| dev, {cv['folds']}-fold cross-validation | {cv['tickets']} | "
        f"{cv['category_accuracy']:.1%} | {cv['priority_accuracy']:.1%} | | "
        + " | ".join(f"{cv['priority_recall'][p.value]:.0%}" for p in Priority)
        + " |",
        f"| **holdout** | {holdout['count']} | {holdout['category_accuracy']:.1%} | "
        f"{holdout['priority_accuracy']:.1%} | {holdout['both_accuracy']:.1%} | "
        + " | ".join(recalls(holdout))
        + " |",
        "",
        'Confidence on the holdout ("low" asks a person to check the suggestion):',
        "",
        "| confidence | tickets | category | priority | both correct |",
        "|---|---|---|---|---|",
    ]
    for level in Confidence:
        share = holdout["confidence"][level.value]
        lines.append(
            f"| {level.value} | {share['count']} ({share['count'] / holdout['count']:.0%}) | "
            f"{share['category_accuracy']:.1%} | {share['priority_accuracy']:.1%} | "
            f"{share['both_accuracy']:.1%} |"
        )
    missed = missed_targets(holdout)
    targets = (
        f"category >= {TARGETS.category:.0%}, priority >= {TARGETS.priority:.0%}, "
        + ", ".join(f"{p.value} recall >= {floor:.0%}" for p, floor in TARGETS.recall)
    )
    lines += [
        "",
        f'"Low" flags {holdout["confidence"]["wrong_flagged_low"]:.0%} of the holdout\'s wrong '
        "suggestions.",
        "",
        f"Targets on the holdout ({targets}): "
        + ("**met**." if not missed else "**missed**: " + "; ".join(missed) + "."),
        "",
        f"Model file {accuracy['model_kb']:.0f} KB; classifying one labelled ticket takes "
        f"{accuracy['median_ms']:.2f} ms (median; p95 {accuracy['p95_ms']:.2f} ms). Per-class",
        "precision and recall and the confusion matrices: `make accuracy`.",
        "",
        "### Claude",
        "",
        "Claude: not measured against the real API (no network here); the plumbing is tested",
        "against the fake (`make accuracy CLAUDE=1` runs both sets through `ClaudeClassifier` and",
        "the real SDK; with `ANTHROPIC_API_KEY` set it measures Claude itself).",
        "",
    ]
    return lines
