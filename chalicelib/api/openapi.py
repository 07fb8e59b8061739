"""The OpenAPI 3.1 document of the API, served at ``GET /api/openapi.json``.

It lives beside the code (``openapi.json`` in this package) and the tests hold the
API to it: the document is validated, and Schemathesis runs against the local stack.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

DOCUMENT_PATH = Path(__file__).with_name("openapi.json")


@lru_cache(maxsize=1)
def openapi_document() -> dict[str, Any]:
    """The parsed document (read once per process)."""
    document: dict[str, Any] = json.loads(DOCUMENT_PATH.read_text(encoding="utf-8"))
    return document
