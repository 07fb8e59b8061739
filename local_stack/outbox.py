"""The local outbox: every email moto's SES accepted, for people and for tests.

``/_outbox.json`` on the site server is a JSON array, newest first, of
``{to, subject, text, html, sent_at}``; ``/_outbox/`` shows the same as a page. The
moto server runs in this process, so its SES backend is read directly.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import html
from datetime import UTC
from typing import Any

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


def sent_emails() -> list[dict[str, Any]]:
    """Every email sent through moto's SES in this process, newest first."""
    from moto.ses.models import RawMessage, ses_backends

    backend = ses_backends[ACCOUNT][REGION]
    result: list[dict[str, Any]] = []
    for sent in list(backend.sent_messages):
        if isinstance(sent, RawMessage):
            message = email.message_from_string(sent.raw_data, policy=email.policy.default)
            text, html_part = _parts(message)  # type: ignore[arg-type]
            date = message["Date"]
            sent_at = (
                email.utils.parsedate_to_datetime(str(date)).astimezone(UTC).isoformat()
                if date
                else None
            )
            result.append(
                {
                    "to": [
                        address
                        for _, address in email.utils.getaddresses([str(message["To"] or "")])
                    ],
                    "from": str(message["From"] or ""),
                    "subject": str(message["Subject"] or ""),
                    "text": text,
                    "html": html_part,
                    "sent_at": sent_at,
                }
            )
        else:  # a simple (non-raw) send: moto keeps one body
            body = str(getattr(sent, "body", ""))
            destinations = getattr(sent, "destinations", {}) or {}
            result.append(
                {
                    "to": list(destinations.get("ToAddresses", [])),
                    "from": str(getattr(sent, "source", "")),
                    "subject": str(getattr(sent, "subject", "")),
                    "text": body,
                    "html": "",
                    "sent_at": None,
                }
            )
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
