"""Customer emails, delivered from the table's stream through moto's SES.

The stream is read from moto and handed to the real consumer exactly as the local
stack's poller (and Lambda) does; the emails are read back from moto's SES the way
the local outbox shows them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from chalicelib.events.stream import handle_stream_batch
from chalicelib.notifications.sender import SendFailed, SesEmailSender
from local_stack.stream_poller import StreamPoller
from tests.conftest import REGION, ApiClient
from tests.factories import ticket_payload

Outbox = Callable[[], list[dict[str, Any]]]


def create(api: ApiClient, email: str = "ana@example.com", **fields: Any) -> dict[str, Any]:
    response = api.post(
        "/api/tickets/",
        json_body=ticket_payload(customer_email=email, customer_name="Ana", **fields),
        token=None,
    )
    assert response.status_code == 201, response.body
    body: dict[str, Any] = response.json_body
    return body


def mails_to(outbox: Outbox, address: str) -> list[dict[str, Any]]:
    return [mail for mail in outbox() if address in mail["to"]]


def key_in(mail: dict[str, Any]) -> str:
    url = next(word for word in mail["text"].split() if "/#/my-ticket/" in word)
    return parse_qs(urlsplit(url.replace("#", "", 1)).query)["key"][0]


def test_the_confirmation_carries_the_reference_and_a_working_private_link(
    api: ApiClient, stream: StreamPoller, outbox: Outbox
) -> None:
    ticket = create(api, email="first@example.com", title="Cannot pay my invoice")
    stream.drain()
    mails = mails_to(outbox, "first@example.com")
    assert len(mails) == 1
    mail = mails[0]
    # Nothing the sender wrote is in it (anyone can type anyone's address into the form)
    assert mail["subject"] == f"[#{ticket['number']}] We received your support ticket"
    assert "Cannot pay my invoice" not in mail["text"] + mail["html"]
    assert "Ana" not in mail["text"]
    assert mail["text"] and mail["html"] and "did not contact us" in mail["text"]
    assert "do not reply to this email" in mail["text"]
    # The emailed link is not the one the form showed, and opening it verifies the address
    key = key_in(mail)
    assert key != ticket["customer_key"]
    assert api.get(f"/api/tickets/{ticket['id']}/").json_body["customer_email_verified"] is False
    page = api.get(
        f"/api/public/tickets/{ticket['id']}/",
        headers={"X-Ticket-Key": ticket["customer_key"]},
        token=None,
    )
    assert page.status_code == 200
    assert api.get(f"/api/tickets/{ticket['id']}/").json_body["customer_email_verified"] is False
    view = api.get(
        f"/api/public/tickets/{ticket['id']}/", headers={"X-Ticket-Key": key}, token=None
    )
    assert view.status_code == 200
    assert api.get(f"/api/tickets/{ticket['id']}/").json_body["customer_email_verified"] is True
    emails = api.get(f"/api/tickets/{ticket['id']}/emails/").json_body
    assert [(e["kind"], e["status"]) for e in emails] == [("confirmation", "sent")]


def test_replies_and_the_resolution_are_emailed_notes_never(
    api: ApiClient, stream: StreamPoller, outbox: Outbox
) -> None:
    ticket = create(api, email="second@example.com")
    path = f"/api/tickets/{ticket['id']}/messages/"
    api.post(path, json_body={"body": "Secret internal note", "internal": True})
    api.post(path, json_body={"body": "Here is the fix.\n\nRegards", "status": "resolved"})
    stream.drain()
    mails = mails_to(outbox, "second@example.com")
    subjects = sorted(mail["subject"] for mail in mails)
    reference = f"[#{ticket['number']}]"
    # A reply that resolves the ticket is one email that says so, not two
    assert subjects == sorted(
        [f"{reference} We received your support ticket", f"{reference} {ticket['title']}"]
    )
    reply_text = next(m["text"] for m in mails if "support ticket" not in m["subject"])
    assert "marked ticket" in reply_text and "resolved" in reply_text
    # A status change alone sends the resolution note
    api.patch(f"/api/tickets/{ticket['id']}/", json_body={"status": "open"})
    api.patch(f"/api/tickets/{ticket['id']}/", json_body={"status": "resolved"})
    stream.drain()
    assert f"{reference} Resolved: {ticket['title']}" in [
        m["subject"] for m in mails_to(outbox, "second@example.com")
    ]
    for mail in mails:
        assert "Secret internal note" not in mail["text"] + mail["html"]
    mails = mails_to(outbox, "second@example.com")
    reply = next(m for m in mails if m["subject"] == f"{reference} {ticket['title']}")
    assert "Here is the fix.\r\n\r\nRegards" in reply["text"] or "Here is the fix." in reply["text"]
    thread = api.get(path).json_body
    assert [(m["internal"], m["delivery"]) for m in thread] == [(True, "none"), (False, "sent")]


def test_markup_and_line_breaks_in_titles_never_reach_headers_or_html(
    api: ApiClient, stream: StreamPoller, outbox: Outbox
) -> None:
    ticket = create(
        api,
        email="third@example.com",
        title="Hello\r\nBcc: victim@example.com <script>x</script>",
        description="<img src=x onerror=alert(1)>",
    )
    api.post(
        f"/api/tickets/{ticket['id']}/messages/", json_body={"body": "<b>bold</b> & <i>co</i>"}
    )
    stream.drain()
    mails = mails_to(outbox, "third@example.com")
    assert len(mails) == 2
    assert all("victim@example.com" not in mail["to"] for mail in outbox())
    for mail in mails:
        assert "\r" not in mail["subject"] and "\n" not in mail["subject"]
        assert "<script>" not in mail["html"] and "<b>bold</b>" not in mail["html"]
    reply = next(mail for mail in mails if "received" not in mail["subject"])
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;i&gt;co&lt;/i&gt;" in reply["html"]


def test_confirmations_to_one_address_are_limited_and_agents_see_why(
    api: ApiClient, stream: StreamPoller, outbox: Outbox
) -> None:
    # Given five tickets filed with the same address within the hour
    tickets = [create(api, email="flooded@example.com") for _ in range(5)]
    stream.drain()
    # Then every ticket exists, but only three confirmations went out
    assert len(mails_to(outbox, "flooded@example.com")) == 3
    statuses = [api.get(f"/api/tickets/{t['id']}/emails/").json_body[0] for t in tickets]
    assert sorted(s["status"] for s in statuses) == ["sent"] * 3 + ["suppressed"] * 2
    suppressed = next(s for s in statuses if s["status"] == "suppressed")
    assert "more than 3 confirmation emails" in suppressed["note"]


def test_a_retried_batch_sends_every_email_exactly_once(
    api: ApiClient, table: str, aws: str, outbox: Outbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given three tickets, and SES failing once on the second confirmation
    addresses = ["r1@example.com", "r2@example.com", "r3@example.com"]
    for address in addresses:
        create(api, email=address)
    real_send = SesEmailSender.send
    failures = {"r2@example.com": 1}

    def flaky(self: SesEmailSender, message: Any) -> str:
        if failures.get(message.to, 0) > 0:
            failures[message.to] -= 1
            raise SendFailed("throttled (injected)", permanent=False)
        return real_send(self, message)

    monkeypatch.setattr(SesEmailSender, "send", flaky)
    deliveries: list[int] = []

    def consumer(event: dict[str, Any], context: Any) -> dict[str, Any]:
        deliveries.append(len(event["Records"]))
        return handle_stream_batch(event, context)

    # When the stream is delivered: the batch fails part-way and is retried from there
    poller = StreamPoller(table, REGION, consumer, aws, retry_pause_seconds=0.0)
    poller.drain()
    # Then the batch was delivered more than once, yet each email went out exactly once
    assert len(deliveries) >= 2
    for address in addresses:
        assert len(mails_to(outbox, address)) == 1, address
    assert poller.dead_letters == []


def test_a_batch_delivered_twice_sends_nothing_twice(
    api: ApiClient, table: str, aws: str, outbox: Outbox
) -> None:
    ticket = create(api, email="twice@example.com")
    api.post(f"/api/tickets/{ticket['id']}/messages/", json_body={"body": "Reply"})

    def twice(event: dict[str, Any], context: Any) -> dict[str, Any]:
        handle_stream_batch(event, context)
        return handle_stream_batch(event, context)

    StreamPoller(table, REGION, twice, aws).drain()
    assert len(mails_to(outbox, "twice@example.com")) == 2  # confirmation and reply


def test_ses_failing_never_fails_the_request_and_agents_see_not_delivered(
    api: ApiClient, table: str, aws: str, outbox: Outbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given SES failing on every attempt
    def down(self: SesEmailSender, message: Any) -> str:
        raise SendFailed("SES could not be reached (injected)", permanent=False)

    monkeypatch.setattr(SesEmailSender, "send", down)
    # When a customer files a ticket and an agent replies, the API answers as usual
    ticket = create(api, email="unlucky@example.com")
    reply = api.post(f"/api/tickets/{ticket['id']}/messages/", json_body={"body": "Hello"})
    assert reply.status_code == 201
    # And after Lambda's attempts the failing record goes to the on-failure destination
    # (the reply, retried with it each time, has used up its attempts by then too)
    poller = StreamPoller(table, REGION, handle_stream_batch, aws, retry_pause_seconds=0.0)
    poller.drain()
    assert len(poller.dead_letters) >= 1
    assert mails_to(outbox, "unlucky@example.com") == []
    # And agents see that neither email was delivered
    emails = api.get(f"/api/tickets/{ticket['id']}/emails/").json_body
    assert {(e["kind"], e["status"]) for e in emails} == {
        ("confirmation", "not_delivered"),
        ("reply", "not_delivered"),
    }
    message = api.get(f"/api/tickets/{ticket['id']}/messages/").json_body[0]
    assert message["delivery"] == "not_delivered" and "Not delivered" in message["delivery_note"]


def test_a_refused_address_is_not_retried(
    api: ApiClient, stream: StreamPoller, outbox: Outbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(self: SesEmailSender, message: Any) -> str:
        raise SendFailed("SES refused the email (MessageRejected)", permanent=True)

    monkeypatch.setattr(SesEmailSender, "send", refused)
    ticket = create(api, email="bounce@example.com")
    stream.drain()
    assert stream.dead_letters == []
    emails = api.get(f"/api/tickets/{ticket['id']}/emails/").json_body
    assert [(e["status"], "MessageRejected" in e["note"]) for e in emails] == [
        ("not_delivered", True)
    ]


def test_a_new_link_is_emailed_and_works(
    api: ApiClient, stream: StreamPoller, outbox: Outbox
) -> None:
    ticket = create(api, email="renew@example.com")
    api.post(f"/api/tickets/{ticket['id']}/access-link/")
    stream.drain()
    mail = next(m for m in mails_to(outbox, "renew@example.com") if "new link" in m["subject"])
    new_key = key_in(mail)
    assert new_key != ticket["customer_key"]
    ok = api.get(
        f"/api/public/tickets/{ticket['id']}/", headers={"X-Ticket-Key": new_key}, token=None
    )
    assert ok.status_code == 200


def test_deleting_a_ticket_removes_its_conversation_and_index(
    api: ApiClient, stream: StreamPoller
) -> None:
    ticket = create(api, email="gone@example.com", title="Zebra unique words")
    api.post(f"/api/tickets/{ticket['id']}/messages/", json_body={"body": "quagga"})
    stream.drain()
    assert [t["id"] for t in api.get("/api/tickets/?search=quagga").json_body] == [ticket["id"]]
    api.delete(f"/api/tickets/{ticket['id']}/")
    stream.drain()
    assert api.get("/api/tickets/?search=quagga").json_body == []
    from chalicelib.data.models import MessageModel, PostingModel

    assert list(MessageModel.query(f"TICKET#{ticket['id']}")) != []  # history stays
    assert all(not i.sk.startswith("MSG#") for i in MessageModel.query(f"TICKET#{ticket['id']}"))
    assert list(PostingModel.query("IX#quagga")) == []


@pytest.mark.parametrize(
    "title",
    [
        "Hi =?utf-8?q?=0D=0ABcc:_evil@x.test?=",
        "Hi =?utf-8?q?=0D=0AReply-To:_x@evil.example.com=0D=0AContent-Type:_text/html?=",
        "Hi =?UTF-8?B?DQpCY2M6IGV2aWxAeC50ZXN0?=",
        "Bidi \u202eevil.com\u202c and zero\u200bwidth",
    ],
)
def test_encoded_words_and_invisible_characters_never_add_a_header(
    api: ApiClient, stream: StreamPoller, outbox: Outbox, title: str
) -> None:
    # Given a title that the mail library would decode into line breaks (CVE-2024-6923)
    address = f"enc{abs(hash(title)) % 10**8}@example.com"
    ticket = create(api, email=address, title=title)
    api.post(f"/api/tickets/{ticket['id']}/messages/", json_body={"body": "Hello"})
    stream.drain()
    # Then every email has the expected headers only, and the subject no encoded word
    mails = mails_to(outbox, address)
    assert len(mails) == 2
    for mail in mails:
        assert mail["to"] == [address]
        assert "=?" not in mail["subject"].replace("= ?", "")
        assert "\u202e" not in mail["subject"] and "\u200b" not in mail["subject"]
        assert "evil" not in mail["from"]


def test_the_per_address_limit_counts_one_mailbox_whatever_its_spelling(
    api: ApiClient, stream: StreamPoller, outbox: Outbox
) -> None:
    spellings = [
        "victim@gmail.com",
        "vic.tim@gmail.com",
        "victim+1@gmail.com",
        "VICTIM+2@GMAIL.COM",
        "v.i.c.t.i.m+3@gmail.com",
    ]
    for address in spellings:
        create(api, email=address)
    stream.drain()
    sent = [m for m in outbox() if m["to"][0].endswith("@gmail.com")]
    assert len(sent) == 3


def test_the_desk_wide_limit_stops_a_flood_over_many_addresses(
    api: ApiClient, table: str, aws: str, outbox: Outbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONFIRMATIONS_PER_HOUR_TOTAL", "4")
    from chalicelib.dependencies import reset_dependencies

    reset_dependencies()
    tickets = [create(api, email=f"deskflood{index}@example.org") for index in range(6)]
    StreamPoller(table, REGION, handle_stream_batch, aws).drain()
    assert len([m for m in outbox() if m["to"][0].startswith("deskflood")]) == 4
    notes = [api.get(f"/api/tickets/{t['id']}/emails/").json_body[0] for t in tickets]
    assert sum(n["status"] == "suppressed" for n in notes) == 2
    assert any("the desk sent 4 confirmations" in (n["note"] or "") for n in notes)


def test_an_undone_resolve_sends_no_resolved_email(
    api: ApiClient, stream: StreamPoller, outbox: Outbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib import dependencies
    from chalicelib.notifications import notifier as notifier_module

    ticket = create(api, email="undo@example.com")
    stream.drain()
    path = f"/api/tickets/{ticket['id']}/"
    waits: list[float] = []

    def agent_undoes_during_the_wait(seconds: float) -> None:
        # While the email waits out the undo window, the agent clicks Undo
        waits.append(seconds)
        current = api.get(path).json_body
        if current["status"] == "resolved":
            undo = api.patch(
                path, json_body={"status": "open"}, headers={"If-Match": f'"v{current["version"]}"'}
            )
            assert undo.status_code == 200, undo.body

    real = dependencies.get_notifier()
    delayed = notifier_module.Notifier(
        repository=real._repository,
        sender=real._sender,
        links=real._links,
        directory=real._directory,
        confirmations_per_hour=3,
        clock=real._clock,
        sleep=agent_undoes_during_the_wait,
        resolved_delay_seconds=10,
    )
    monkeypatch.setattr("chalicelib.events.stream.get_notifier", lambda: delayed)
    # When the agent resolves and undoes it within the window
    assert api.patch(path, json_body={"status": "resolved"}).status_code == 200
    stream.drain()
    # Then the mailer waited (no longer than the window) and sent nothing
    assert waits and 0 < waits[0] <= 10
    subjects = [m["subject"] for m in mails_to(outbox, "undo@example.com")]
    assert not [s for s in subjects if "Resolved" in s]
    emails = api.get(f"{path}emails/").json_body
    held = [e for e in emails if e["kind"] == "resolved"]
    assert [e["status"] for e in held] == ["suppressed"]
    assert "reopened" in held[0]["note"]
    # And a resolve that is kept is emailed after the window
    waits.clear()
    delayed._sleep = waits.append
    assert api.patch(path, json_body={"status": "resolved"}).status_code == 200
    stream.drain()
    assert waits
    subjects = [m["subject"] for m in mails_to(outbox, "undo@example.com")]
    assert [s for s in subjects if "Resolved" in s]


def test_the_outbox_is_kept_on_disk_not_in_memory(
    agent_pool: Any, moto_server: Any, outbox: Outbox
) -> None:
    import gc

    import boto3
    from moto.ses.models import RawMessage, ses_backends

    from chalicelib.notifications.emails import Email
    from local_stack.outbox import ACCOUNT, SpooledOutbox
    from tests.conftest import MAIL_SENDER

    def raw_messages() -> int:
        return sum(1 for obj in gc.get_objects() if isinstance(obj, RawMessage))

    client = boto3.client("sesv2", endpoint_url=moto_server.url, region_name=REGION)
    sender = SesEmailSender(MAIL_SENDER, REGION, client)
    gc.collect()
    before, sent_before = raw_messages(), len(outbox())
    # When twenty emails of a few kilobytes each are sent through moto's SES
    body = "A reply long enough to matter. " * 150
    for n in range(20):
        sender.send(Email(f"spool{n}@example.com", f"Spooled {n}", body, f"<p>{body}</p>"))
    # Then the outbox shows every one, newest first, as sent
    mails = outbox()
    assert len(mails) == sent_before + 20
    assert [mail["subject"] for mail in mails[:3]] == ["Spooled 19", "Spooled 18", "Spooled 17"]
    assert mails[0]["to"] == ["spool19@example.com"] and mails[0]["text"].strip() == body.strip()
    # And moto holds none of them in memory (its list is the spool; nothing tracks them)
    assert isinstance(ses_backends[ACCOUNT][REGION].sent_messages, SpooledOutbox)
    gc.collect()
    assert raw_messages() == before
