"""The patched moto server finds a request's backend as moto does, from a bounded memo."""

from __future__ import annotations

import io
from typing import Any

import pytest
from moto import backends
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

from local_stack.moto_server import MotoServer, _MemoDispatcher

HOSTS = [
    None,
    "moto_api",
    "instance_metadata",
    "dynamodb",
    "dynamodbstreams",
    "dynamodb.us-east-1.amazonaws.com",
    "dynamodb.eu-west-1.amazonaws.com",
    "streams.dynamodb.us-east-1.amazonaws.com",
    "email.us-east-1.amazonaws.com",
    "ses",
    "cognito-idp.us-east-1.amazonaws.com",
    "s3.amazonaws.com",
    "127.0.0.1:5000",
    "localhost",
    "not-a-service.example.org",
]


def test_one_memo_answers_every_host_as_moto_does_again_and_again() -> None:
    plain = DomainDispatcherApplication(create_backend_app)
    memo = _MemoDispatcher(create_backend_app)
    expected = {host: plain.get_backend_for_host(host) for host in HOSTS}
    assert len(set(expected.values())) > 5  # the hosts reach different backends

    for _ in range(2):  # the second pass answers from the memo
        assert {host: memo.get_backend_for_host(host) for host in HOSTS} == expected


def _signed_environ(service: str, target: str) -> dict[str, Any]:
    """A request as botocore signs it for ``service`` against a local endpoint."""
    return {
        "PATH_INFO": "/",
        "REQUEST_METHOD": "POST",
        "HTTP_HOST": "127.0.0.1:5000",
        "HTTP_X_AMZ_TARGET": target,
        "HTTP_AUTHORIZATION": (
            "AWS4-HMAC-SHA256 Credential=testing/20261130/us-east-1/"
            f"{service}/aws4_request, SignedHeaders=host, Signature=abc"
        ),
        "CONTENT_TYPE": "application/x-amz-json-1.0",
        "CONTENT_LENGTH": "2",
        "wsgi.input": io.BytesIO(b"{}"),
    }


@pytest.mark.parametrize(
    ("service", "target", "backend"),
    [
        ("dynamodb", "DynamoDB_20120810.GetItem", "dynamodb"),
        ("dynamodb", "DynamoDBStreams_20120810.GetRecords", "dynamodbstreams"),
        ("ses", "", "ses"),
    ],
)
def test_a_signed_request_reaches_the_backend_moto_picks(
    service: str, target: str, backend: str
) -> None:
    plain = DomainDispatcherApplication(create_backend_app)
    memo = _MemoDispatcher(create_backend_app)

    for _ in range(2):
        expected = plain.get_application(_signed_environ(service, target))
        found = memo.get_application(_signed_environ(service, target))
        assert [k for k, app in plain.app_instances.items() if app is expected] == [backend]
        assert [k for k, app in memo.app_instances.items() if app is found] == [backend]


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

    # "dynamodb" is the host moto infers from a signed DynamoDB request.
    assert memo.get_backend_for_host("dynamodb") == "dynamodb"
    assert len(listed) == 1
    assert memo.get_backend_for_host("dynamodb") == "dynamodb"
    assert len(listed) == 1


def test_the_memo_is_bounded_and_answers_past_its_bound() -> None:
    plain = DomainDispatcherApplication(create_backend_app)
    memo = _MemoDispatcher(create_backend_app)
    services = ("dynamodb", "email", "cognito-idp")
    hosts = [f"{services[n % 3]}.region-{n}.amazonaws.com" for n in range(memo.MEMO_LIMIT + 50)]

    for host in hosts + hosts:
        assert memo.get_backend_for_host(host) == plain.get_backend_for_host(host)
    assert len(memo._backends) == memo.MEMO_LIMIT


def test_only_a_patched_server_uses_the_memo() -> None:
    patched, plain = MotoServer(patched=True), MotoServer(patched=False)
    try:
        assert type(patched._server.app._app) is _MemoDispatcher
        assert type(plain._server.app._app) is DomainDispatcherApplication
    finally:
        for server in (patched, plain):
            server._server.server_close()
