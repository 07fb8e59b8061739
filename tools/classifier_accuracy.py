"""Measure the offline classifier against the hand-labelled ticket sets.

Run from the repository root::

    python -m tools.classifier_accuracy

It prints a markdown section (accuracy, per-class precision and recall, confusion
matrices) for the development set, which the keyword tables were tuned against, and the
holdout set, which they never were. Only the holdout numbers say how the classifier
generalises. This lives outside ``chalicelib`` because it never ships to Lambda.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from chalicelib.classification.offline import classify_offline
from chalicelib.domain import Category, Priority

DATA_DIR = Path(__file__).resolve().parent.parent / "tests" / "data"
DEV_SET = DATA_DIR / "labelled_tickets.jsonl"
HOLDOUT_SET = DATA_DIR / "labelled_tickets_holdout.jsonl"


@dataclass(frozen=True, slots=True)
class LabelledTicket:
    """One line of a labelled data file."""

    title: str
    description: str
    category: Category
    priority: Priority


def load_labelled(path: Path) -> list[LabelledTicket]:
    """Read a JSON-lines file of labelled tickets; a bad label fails loudly."""
    tickets = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                tickets.append(
                    LabelledTicket(
                        title=row["title"],
                        description=row["description"],
                        category=Category(row["category"]),
                        priority=Priority(row["priority"]),
                    )
                )
            except (KeyError, ValueError) as exc:
                raise ValueError(f"{path}:{number}: {exc}") from exc
    return tickets


def _per_class(
    labels: Sequence[StrEnum], expected: Sequence[StrEnum], predicted: Sequence[StrEnum]
) -> dict[str, dict[str, float | int]]:
    result: dict[str, dict[str, float | int]] = {}
    for label in labels:
        true_positive = sum(
            1 for want, got in zip(expected, predicted, strict=True) if want == got == label
        )
        predicted_count = sum(1 for got in predicted if got == label)
        support = sum(1 for want in expected if want == label)
        result[label.value] = {
            "precision": true_positive / predicted_count if predicted_count else 0.0,
            "recall": true_positive / support if support else 0.0,
            "support": support,
        }
    return result


def _confusion(
    labels: Sequence[StrEnum], expected: Sequence[StrEnum], predicted: Sequence[StrEnum]
) -> dict[str, dict[str, int]]:
    matrix = {want.value: {got.value: 0 for got in labels} for want in labels}
    for want, got in zip(expected, predicted, strict=True):
        matrix[want.value][got.value] += 1
    return matrix


def evaluate(path: Path | str) -> dict[str, Any]:
    """Classify every ticket in ``path`` and compare with its labels.

    Returns ``count``, ``category_accuracy``, ``priority_accuracy``, ``both_accuracy``,
    ``category``/``priority`` (per-class precision, recall and support),
    ``category_confusion``/``priority_confusion`` (expected -> predicted -> count) and
    ``mistakes`` (the tickets where either guess was wrong).
    """
    tickets = load_labelled(Path(path))
    if not tickets:
        raise ValueError(f"{path} holds no tickets")
    predictions = [classify_offline(ticket.title, ticket.description) for ticket in tickets]
    want_categories = [ticket.category for ticket in tickets]
    want_priorities = [ticket.priority for ticket in tickets]
    got_categories = [category for category, _ in predictions]
    got_priorities = [priority for _, priority in predictions]
    category_hits = [w == g for w, g in zip(want_categories, got_categories, strict=True)]
    priority_hits = [w == g for w, g in zip(want_priorities, got_priorities, strict=True)]
    count = len(tickets)
    return {
        "count": count,
        "category_accuracy": sum(category_hits) / count,
        "priority_accuracy": sum(priority_hits) / count,
        "both_accuracy": sum(c and p for c, p in zip(category_hits, priority_hits, strict=True))
        / count,
        "category": _per_class(list(Category), want_categories, got_categories),
        "priority": _per_class(list(Priority), want_priorities, got_priorities),
        "category_confusion": _confusion(list(Category), want_categories, got_categories),
        "priority_confusion": _confusion(list(Priority), want_priorities, got_priorities),
        "mistakes": [
            {
                "title": ticket.title,
                "expected": f"{ticket.category.value}/{ticket.priority.value}",
                "got": f"{category.value}/{priority.value}",
            }
            for ticket, (category, priority), c_ok, p_ok in zip(
                tickets, predictions, category_hits, priority_hits, strict=True
            )
            if not (c_ok and p_ok)
        ],
    }


def _markdown_table(header: list[str], rows: list[list[str]]) -> list[str]:
    return [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


def render(name: str, report: dict[str, Any]) -> str:
    """Format one ``evaluate`` result as a markdown section."""
    lines = [
        f"### {name} ({report['count']} tickets)",
        "",
        f"- category accuracy: {report['category_accuracy']:.1%}",
        f"- priority accuracy: {report['priority_accuracy']:.1%}",
        f"- both correct: {report['both_accuracy']:.1%}",
        "",
    ]
    for axis in ("category", "priority"):
        per_class = report[axis]
        lines += _markdown_table(
            [axis, "precision", "recall", "support"],
            [
                [label, f"{m['precision']:.2f}", f"{m['recall']:.2f}", str(m["support"])]
                for label, m in per_class.items()
            ],
        )
        lines.append("")
        confusion = report[f"{axis}_confusion"]
        labels = list(confusion)
        lines.append(f"Confusion ({axis}; rows = expected, columns = predicted):")
        lines.append("")
        lines += _markdown_table(
            ["expected \\ predicted", *labels],
            [[want, *(str(confusion[want][got]) for got in labels)] for want in labels],
        )
        lines.append("")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the report for both sets; ``--mistakes`` also lists every wrong guess."""
    args = list(sys.argv[1:] if argv is None else argv)
    print("## Offline classifier accuracy\n")
    for name, path in (("Development set, tuned against", DEV_SET), ("Holdout set", HOLDOUT_SET)):
        report = evaluate(path)
        print(render(name, report))
        if "--mistakes" in args:
            for mistake in report["mistakes"]:
                print(
                    f"- {mistake['title']!r}: expected {mistake['expected']}, got {mistake['got']}"
                )
            print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
