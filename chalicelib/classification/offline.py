"""The offline ticket classifier: a small learned model, used when Claude is unavailable.

It has to be good enough to be a useful suggestion on its own (no API key, the API down,
a timeout), small in the Lambda package, and fast. So it is two linear models
(multinomial logistic regression: one for the category, one for the priority) over the
features of ``features.py``: words, word pairs and what the hand-written cues of
``cues.py`` found. The weights were learned from the development set in ``tests/data/``
by ``tools/train_classifier.py`` and ship as ``offline_model.json``; scoring is a sum of
weights and a softmax, in the standard library. The priority bias includes offsets,
chosen in training, that lean towards high and critical: missing an urgent ticket costs
more than over-rating a medium one.

Importing this module is cheap and reads nothing: the weights, the feature code and the
cues' expressions are loaded on the first classification, and only by the Lambda
instances that classify offline (the service imports this module on its first fallback).

Every suggestion comes with a confidence. It is "low" when the model's probability for
its category or for its priority falls below a threshold chosen by the training script
from cross-validated predictions on the development set (see docs/classifier.md), so
that "low" singles out the suggestions most likely to be wrong.
"""

from __future__ import annotations

import functools
import json
import math
import os
from collections.abc import Sequence
from typing import Any, Final, NamedTuple

from chalicelib.domain import Category, Confidence, Priority

# A plain string path: pathlib is not worth importing for one file name.
MODEL_PATH: Final = os.path.join(os.path.dirname(os.path.abspath(__file__)), "offline_model.json")
MODEL_FORMAT: Final = 1

# Weights are stored as integers in thousandths, which keeps the file small.
WEIGHT_SCALE: Final = 1000


# NamedTuples rather than frozen dataclasses: creating a dataclass costs a few
# milliseconds at import (measured here), a NamedTuple a fraction of one.
class OfflineSuggestion(NamedTuple):
    """The offline model's answer and how sure it is."""

    category: Category
    priority: Priority
    confidence: Confidence
    category_probability: float
    priority_probability: float


class OfflineModel(NamedTuple):
    """Two linear models over one vocabulary: the category's and the priority's.

    Each known feature has one weight per category followed by one per priority. A
    ticket's feature values are 1 / sqrt(number of known features), so a long ticket
    does not outvote a short one by sheer word count (the training script does the same).
    """

    categories: tuple[Category, ...]
    priorities: tuple[Priority, ...]
    bias: tuple[float, ...]
    weights: dict[str, tuple[float, ...]]
    min_category_probability: float
    min_priority_probability: float

    def probabilities(self, features: set[str]) -> tuple[list[float], list[float]]:
        """Category and priority probabilities, in the order of ``categories``/``priorities``."""
        known = [row for feature in features if (row := self.weights.get(feature)) is not None]
        value = 1.0 / math.sqrt(len(known)) if known else 0.0
        scores = [
            bias + value * sum(row[index] for row in known) for index, bias in enumerate(self.bias)
        ]
        split = len(self.categories)
        return softmax(scores[:split]), softmax(scores[split:])


def softmax(scores: Sequence[float]) -> list[float]:
    """Probabilities from scores (shifted by the maximum, so large scores cannot overflow)."""
    top = max(scores)
    exponentials = [math.exp(score - top) for score in scores]
    total = sum(exponentials)
    return [value / total for value in exponentials]


def model_from_document(document: dict[str, Any]) -> OfflineModel:
    """Build the model from the parsed JSON file; a file of another format fails loudly."""
    if document.get("format") != MODEL_FORMAT:
        raise ValueError(f"offline model format {document.get('format')!r}, want {MODEL_FORMAT}")
    categories = tuple(Category(label) for label in document["categories"])
    priorities = tuple(Priority(label) for label in document["priorities"])
    if set(categories) != set(Category) or set(priorities) != set(Priority):
        raise ValueError("the offline model's labels do not match the enums")
    width = len(categories) + len(priorities)
    weights = {
        feature: tuple(value / WEIGHT_SCALE for value in row)
        for feature, row in document["weights"].items()
    }
    if len(document["bias"]) != width or any(len(row) != width for row in weights.values()):
        raise ValueError(f"every row of the offline model must hold {width} weights")
    thresholds = document["confidence"]
    return OfflineModel(
        categories=categories,
        priorities=priorities,
        bias=tuple(value / WEIGHT_SCALE for value in document["bias"]),
        weights=weights,
        min_category_probability=float(thresholds["min_category_probability"]),
        min_priority_probability=float(thresholds["min_priority_probability"]),
    )


@functools.cache
def _model() -> OfflineModel:
    # Loaded on first use, not at import: parsing the file costs a few milliseconds that
    # cold starts of Lambda instances which never classify offline should not pay.
    with open(MODEL_PATH, encoding="utf-8") as model_file:
        return model_from_document(json.load(model_file))


def classify_offline(title: str, description: str) -> OfflineSuggestion:
    """Suggest a category and priority for a ticket from its text alone, with a confidence.

    Deterministic, stdlib only, and bounded in time however long the text is. With no
    words at all to go on it answers ``general`` / ``medium`` with low confidence.
    """
    from chalicelib.classification.features import has_words, ticket_features

    if not has_words(title, description):
        return OfflineSuggestion(Category.GENERAL, Priority.MEDIUM, Confidence.LOW, 0.0, 0.0)
    return suggest(_model(), ticket_features(title, description))


def suggest(model: OfflineModel, features: set[str]) -> OfflineSuggestion:
    """The model's answer for a ticket's features (the training script calls this too)."""
    category_probabilities, priority_probabilities = model.probabilities(features)
    category_index = _argmax(category_probabilities)
    priority_index = _argmax(priority_probabilities)
    category_probability = category_probabilities[category_index]
    priority_probability = priority_probabilities[priority_index]
    sure = (
        category_probability >= model.min_category_probability
        and priority_probability >= model.min_priority_probability
    )
    return OfflineSuggestion(
        category=model.categories[category_index],
        priority=model.priorities[priority_index],
        confidence=Confidence.HIGH if sure else Confidence.LOW,
        category_probability=category_probability,
        priority_probability=priority_probability,
    )


def _argmax(values: list[float]) -> int:
    return max(range(len(values)), key=values.__getitem__)
