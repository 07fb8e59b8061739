"""The patched moto server finds a request's backend as moto does, from a bounded memo."""

from __future__ import annotations

from typing import Any

import pytest
from moto import backends
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

from local_stack.moto_server import _MemoDispatcher

HOSTS = [
    None,
    "moto_api",
    "instance_metadata",
    "dynamodb",
    "dynamodb.us-east-1.amazonaws.com",
    "dynamodb.eu-west-1.amazonaws.com",
    "streams.dynamodb.us-east-1.amazonaws.com",
    "email.us-east-1.amazonaws.com",
    "cognito-idp.us-east-1.amazonaws.com",
    "s3.amazonaws.com",
    "127.0.0.1:5000",
    "localhost",
    "not-a-service.example.org",
]


@pytest.mark.parametrize("host", HOSTS)
def test_the_backend_is_the_one_moto_finds(host: str | None) -> None:
    plain = DomainDispatcherApplication(create_backend_app)
    memo = _MemoDispatcher(create_backend_app)

    expected = plain.get_backend_for_host(host)

    assert memo.get_backend_for_host(host) == expected
    assert memo.get_backend_for_host(host) == expected  # from the memo


def test_a_remembered_host_does_not_list_motos_modules_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    listed: list[int] = []
    original = backends.list_of_moto_modules

    def counting() -> Any:
        listed.append(1)
        return original()

    monkeypatch.setattr(backends, "list_of_moto_modules", counting)
    memo = _MemoDispatcher(create_backend_app)

    assert memo.get_backend_for_host("dynamodb.us-east-1.amazonaws.com") == "dynamodb"
    assert len(listed) == 1
    assert memo.get_backend_for_host("dynamodb.us-east-1.amazonaws.com") == "dynamodb"
    assert len(listed) == 1


def test_the_memo_is_bounded_and_answers_past_its_bound() -> None:
    memo = _MemoDispatcher(create_backend_app)
    hosts = [f"dynamodb.region-{n}.amazonaws.com" for n in range(memo.MEMO_LIMIT + 50)]

    answers = {memo.get_backend_for_host(host) for host in hosts}

    assert answers == {"dynamodb"}
    assert len(memo._backends) == memo.MEMO_LIMIT
