"""The local outbox: every email moto's SES accepted, for people and for tests.

``/_outbox.json`` on the site server is a JSON array, newest first, of
``{to, subject, text, html, sent_at}``; ``/_outbox/`` shows the same as a page. The
moto server runs in this process, so its SES backend is read directly; its list of sent
messages is kept on disk (:class:`SpooledOutbox`).
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import html
import json
import os
import tempfile
import threading
from collections.abc import Iterator
from datetime import UTC
from typing import IO, Any

REGION = "us-east-1"
ACCOUNT = "123456789012"


def _parts(message: email.message.EmailMessage) -> tuple[str, str]:
    text = html_part = ""
    for part in message.walk():
        if part.get_content_maintype() != "text" or part.is_attachment():
            continue
        content = str(part.get_content())
        if part.get_content_subtype() == "plain" and not text:
            text = content
        elif part.get_content_subtype() == "html" and not html_part:
            html_part = content
    return text, html_part


def _record(sent: Any) -> dict[str, Any]:
    """One email as the outbox shows it."""
    from moto.ses.models import RawMessage

    if isinstance(sent, RawMessage):
        message = email.message_from_string(sent.raw_data, policy=email.policy.default)
        text, html_part = _parts(message)  # type: ignore[arg-type]
        date = message["Date"]
        sent_at = (
            email.utils.parsedate_to_datetime(str(date)).astimezone(UTC).isoformat()
            if date
            else None
        )
        return {
            "to": [address for _, address in email.utils.getaddresses([str(message["To"] or "")])],
            "from": str(message["From"] or ""),
            "subject": str(message["Subject"] or ""),
            "text": text,
            "html": html_part,
            "sent_at": sent_at,
        }
    # A simple (non-raw) send: moto keeps one body.
    destinations = getattr(sent, "destinations", {}) or {}
    return {
        "to": list(destinations.get("ToAddresses", [])),
        "from": str(getattr(sent, "source", "")),
        "subject": str(getattr(sent, "subject", "")),
        "text": str(getattr(sent, "body", "")),
        "html": "",
        "sent_at": None,
    }


class SpooledOutbox:
    """moto SES's ``sent_messages``, kept on disk rather than in memory.

    moto keeps every email it accepts, as sent (the whole MIME text, some kilobytes), in
    a list, and again in its message class's ``instances_tracked`` list, for as long as
    the process lives: the local stack's memory grew by each confirmation and reply it
    mailed. This list-like replacement writes each email, as the outbox shows it, as a
    line of JSON to an unlinked temporary file, and drops moto's tracking of the message.
    Reading it back gives the records, oldest first, as moto's list would.
    """

    def __init__(self) -> None:
        self._file: IO[bytes] = tempfile.TemporaryFile(prefix="local-outbox-")  # noqa: SIM115
        self._lock = threading.Lock()
        self._count = 0

    def append(self, message: Any) -> None:
        """Keep ``message`` (as moto's ``list.append``)."""
        line = (json.dumps(_record(message), ensure_ascii=False) + "\n").encode()
        with self._lock:
            self._file.seek(0, os.SEEK_END)
            self._file.write(line)
            self._file.flush()
            self._count += 1
        tracked: list[Any] = getattr(type(message), "instances_tracked", [])
        for position in range(len(tracked) - 1, max(len(tracked) - 16, 0) - 1, -1):
            if tracked[position] is message:
                del tracked[position]
                break

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[dict[str, Any]]:
        with self._lock:
            self._file.seek(0)
            data = self._file.read()
        return iter([json.loads(line) for line in data.splitlines()])


def spool_outbox() -> None:
    """Keep this process's SES outbox on disk (idempotent)."""
    from moto.ses.models import ses_backends

    backend = ses_backends[ACCOUNT][REGION]
    with _SPOOL_LOCK:
        if not isinstance(backend.sent_messages, SpooledOutbox):
            backend.sent_messages = SpooledOutbox()  # type: ignore[assignment]


_SPOOL_LOCK = threading.Lock()


def sent_emails() -> list[dict[str, Any]]:
    """Every email sent through moto's SES in this process, newest first."""
    from moto.ses.models import ses_backends

    backend = ses_backends[ACCOUNT][REGION]
    result = [
        sent if isinstance(sent, dict) else _record(sent) for sent in list(backend.sent_messages)
    ]
    result.reverse()
    return result


def outbox_page(emails: list[dict[str, Any]]) -> str:
    """A plain page listing the emails (text parts shown; HTML parts escaped, not rendered)."""
    rows = []
    for item in emails:
        rows.append(
            "<article><h2>"
            + html.escape(item["subject"])
            + "</h2><p><strong>To:</strong> "
            + html.escape(", ".join(item["to"]))
            + " · <strong>Sent:</strong> "
            + html.escape(item["sent_at"] or "")
            + "</p><pre>"
            + html.escape(item["text"])
            + "</pre><details><summary>HTML part (source)</summary><pre>"
            + html.escape(item["html"])
            + "</pre></details></article>"
        )
    body = "".join(rows) or "<p>No emails yet.</p>"
    policy = "default-src 'none'; style-src 'unsafe-inline'"
    style = (
        "body{font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
        "article{border-bottom:1px solid #ccc;padding:1rem 0}pre{white-space:pre-wrap}"
    )
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f'<meta http-equiv=Content-Security-Policy content="{policy}">'
        f"<title>Local outbox</title><style>{style}</style></head><body><h1>Local outbox</h1>"
        f'<p>{len(emails)} email(s), newest first. Also as <a href="/_outbox.json">JSON</a>.</p>'
        f"{body}</body></html>"
    )
