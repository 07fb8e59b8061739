"""The served OpenAPI document is exactly what tools/openapi_build.py writes, and valid."""

from __future__ import annotations

from openapi_spec_validator import validate

from chalicelib.api.openapi import DOCUMENT_PATH
from tools.openapi_build import document, render


def test_the_committed_document_is_the_built_one() -> None:
    # When someone edits the JSON by hand or changes the source without `make openapi`
    # Then this fails, naming the fix
    assert DOCUMENT_PATH.read_text(encoding="utf-8") == render(), "run `make openapi`"


def test_the_built_document_is_valid_openapi_3_1() -> None:
    built = document()
    assert built["openapi"] == "3.1.0"
    validate(built)
