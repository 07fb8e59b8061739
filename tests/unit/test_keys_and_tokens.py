"""Keys from SSM fail closed, and unknown token key ids cannot make the API refetch keys."""

from __future__ import annotations

import pytest

from chalicelib import dependencies
from chalicelib.errors import ServiceUnavailable
from chalicelib.settings import Settings


def test_a_configured_but_unreadable_key_is_a_503_not_a_key_of_this_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a deployed-style configuration whose SSM parameter cannot be read
    settings = Settings.from_env(
        {"STAGE": "prod", "LINK_KEY_PARAMETER": "/x/link", "CURSOR_KEY_PARAMETER": "/x/cursor"}
    )
    monkeypatch.setattr(dependencies, "_ssm_value", lambda parameter: None)
    # Then no key is made up: the request is refused, and nothing is cached
    with pytest.raises(ServiceUnavailable):
        dependencies.resolve_link_key(settings)
    with pytest.raises(ServiceUnavailable):
        dependencies.resolve_cursor_key(settings)
    monkeypatch.setattr(dependencies, "_ssm_value", lambda parameter: "k" * 32)
    assert dependencies.resolve_link_key(settings) == b"k" * 32


def test_with_no_configuration_at_all_the_process_key_is_random() -> None:
    settings = Settings.from_env({})
    key = dependencies.resolve_cursor_key(settings)
    assert len(key) == 32 and key != b"support-tickets-cursor-v1"
