"""The offline model's file, its training and its lazy loading."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from chalicelib.classification import offline
from chalicelib.classification.offline import model_from_document
from tests.conftest import PROJECT_DIR
from tools import train_classifier
from tools.classifier_accuracy import DEV_SET, HOLDOUT_SET, load_labelled

MAX_MODEL_BYTES = 300 * 1024
MODEL_PATH = Path(offline.MODEL_PATH)


def shipped_document() -> dict[str, Any]:
    return dict(json.loads(MODEL_PATH.read_text(encoding="utf-8")))


def test_the_model_file_is_small_and_was_trained_on_the_current_development_set() -> None:
    # Given the model file that ships in the Lambda package
    document = shipped_document()
    # Then it is small, and records that it was trained on the development set exactly as
    # it is in the repository now (a changed data file needs `make train-classifier`)
    assert MODEL_PATH.stat().st_size < MAX_MODEL_BYTES
    assert document["trained_on"] == {
        "file": DEV_SET.name,
        "tickets": len(load_labelled(DEV_SET)),
        "sha256": hashlib.sha256(DEV_SET.read_bytes()).hexdigest(),
    }
    assert HOLDOUT_SET.name not in json.dumps(document["trained_on"])


@pytest.mark.slow
def test_training_reproduces_the_shipped_model_byte_for_byte(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given the training script and the development set (about 15 s of training)
    # When it is run in check mode
    status = train_classifier.main(["--check"])
    # Then what it trains is exactly the file in the repository
    assert status == 0, capsys.readouterr().out
    assert "up to date" in capsys.readouterr().out


def test_a_model_file_of_another_format_is_refused() -> None:
    # Given the shipped model with its format number changed
    document = shipped_document() | {"format": 99}
    # When it is loaded, then it is refused with a reason rather than misread
    with pytest.raises(ValueError, match="format"):
        model_from_document(document)


def test_a_model_row_of_the_wrong_width_is_refused() -> None:
    # Given the shipped model with one feature's weights cut short
    document = shipped_document()
    weights = dict(document["weights"])
    feature = next(iter(weights))
    weights[feature] = weights[feature][:3]
    # When it is loaded, then it is refused
    with pytest.raises(ValueError, match="weights"):
        model_from_document(document | {"weights": weights})


def test_importing_the_classifier_loads_no_model_and_the_app_does_not_import_it() -> None:
    # Given fresh interpreters
    code = (
        "import sys, app\n"
        "print('offline' if 'chalicelib.classification.offline' in sys.modules else 'lazy')\n"
        "import chalicelib.classification.offline as offline\n"
        "print(offline._model.cache_info().currsize)\n"
    )
    # When the app, and then the offline classifier, are imported
    output = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_DIR, capture_output=True, text=True, check=True
    ).stdout.split()
    # Then the app's cold start does not import the offline classifier at all, and
    # importing it reads no weights (they load on the first classification)
    assert output == ["lazy", "0"]


def test_the_model_file_lists_one_weight_row_per_line() -> None:
    # Given the shipped file, re-rendered from its parsed content
    document = shipped_document()
    # Then rendering is stable (the file is exactly what the renderer writes), which keeps
    # a retrained model's diff readable: one feature per line
    assert train_classifier.render_document(document) == MODEL_PATH.read_text(encoding="utf-8")
    assert MODEL_PATH.read_text(encoding="utf-8").count("\n") > len(document["weights"])
