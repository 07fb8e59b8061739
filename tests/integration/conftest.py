"""Fixtures of the deploy tests: each stage is built once per session, and shared."""

from __future__ import annotations

import pytest

from tools.deploy import STAGES, Build, build


@pytest.fixture(scope="session")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Build]:
    """Both stages built once: template.json and the slimmed deployment.zip.

    Shared by the template tests and the checkov audit, so ``chalice package`` runs
    twice per session, not once per test module.
    """
    root = tmp_path_factory.mktemp("deploy-build")
    return {stage: build(stage, root / stage) for stage in STAGES}
