"""The emails customers receive, written as plain text and HTML.

- The confirmation goes to an address anyone can type into the form, so it carries
  nothing the sender wrote (no title, no name): only the ticket's number, the link
  and what to do if the reader never wrote to us. The public form cannot be used to
  put an attacker's words in someone's inbox.
- Replies, the resolution and a new link follow an agent's action: they name the
  ticket by number and title and greet the customer by name.
- Everything a person wrote is escaped in the HTML part (``html.escape``; web links
  become anchors only after escaping) and only ever inserted as text; line breaks
  are kept. Subjects carry no control or invisible characters and no encoded words,
  so a title can never add a header.
- Every email says not to answer by email (the desk reads no mail): answers go on
  the ticket's page.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass

from chalicelib.domain import Ticket

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")
# An RFC 2047 encoded word ("=?utf-8?q?...?=") in a header is decoded by mail software;
# CPython before 3.11.10 (CVE-2024-6923) even writes the line breaks it decodes to raw.
# Text people wrote never starts one: "=?" becomes "= ?".
_ENCODED_WORD = re.compile(r"=\s*\?")
_SUBJECT_TITLE_MAX = 120


def plain_text(value: str) -> str:
    """People's text for one line of an email: no control or invisible formatting
    characters (bidirectional overrides, zero-width), whitespace collapsed."""
    visible = "".join(
        " " if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp") else char for char in value
    )
    return " ".join(visible.split())


def subject_text(value: str) -> str:
    """A single header line: controls and invisible characters become spaces, no encoded
    words, whitespace collapsed, length capped."""
    flat = _ENCODED_WORD.sub("= ?", plain_text(_CONTROL.sub(" ", value)))
    if len(flat) > _SUBJECT_TITLE_MAX:
        flat = flat[: _SUBJECT_TITLE_MAX - 1].rstrip() + "…"
    return flat


_URL = re.compile(r"https?://[^\s<>\"']+")


@dataclass(frozen=True, slots=True)
class Email:
    """One email, ready to send."""

    to: str
    subject: str
    text: str
    html: str


def reference(ticket: Ticket) -> str:
    """``#1042`` (or the short id for a ticket without a number)."""
    return f"#{ticket.number}" if ticket.number is not None else f"#{ticket.id[:8]}"


def subject_title(ticket: Ticket, prefix: str = "") -> str:
    """``[#1042] <prefix><title>``, as one safe header line."""
    return f"[{reference(ticket)}] {prefix}{subject_text(ticket.title)}"


def _html_text(text: str) -> str:
    """Escaped paragraphs, line breaks kept, web links made clickable after escaping."""
    blocks = [block for block in re.split(r"\n\s*\n", text.strip()) if block.strip()]

    def line(raw: str) -> str:
        escaped = html.escape(raw)
        return _URL.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escaped)

    return "".join(
        "<p>" + "<br>".join(line(r) for r in block.splitlines()) + "</p>" for block in blocks
    )


def _page(body_html: str) -> str:
    return (
        '<!doctype html><html><head><meta charset="utf-8"></head>'
        '<body style="font-family:sans-serif;line-height:1.5;color:#1f2933">'
        f"{body_html}</body></html>"
    )


def _button(url: str | None, text: str) -> str:
    if not url:
        return ""
    return f'<p><a href="{html.escape(url, quote=True)}">{html.escape(text)}</a></p>'


def _greeting(ticket: Ticket) -> str:
    name = plain_text(ticket.customer_name or "")
    return f"Hello {name}," if name else "Hello,"


def _link_line(url: str | None) -> str:
    return f"\n{url}\n" if url else "\n(Your private link is on the confirmation page.)\n"


NO_REPLY = (
    "Please do not reply to this email: answers sent by email are not read. "
    "Write to us on your ticket's page instead."
)
NOT_YOU = (
    "If you did not contact us, someone may have typed your address by mistake: you can "
    "ignore this email."
)
_SMALL = 'style="color:#52606d"'


def confirmation(ticket: Ticket, to: str, url: str | None) -> Email:
    """We have your request: its number and the private link (nothing the sender wrote)."""
    ref = reference(ticket)
    text = "\n".join(
        [
            "Hello,",
            "",
            f"We have received your support ticket {ref}. An agent will answer you on the",
            "ticket's private page (keep this link to yourself: anyone with it can read and",
            "answer the ticket):",
            _link_line(url),
            NO_REPLY,
            "",
            NOT_YOU,
        ]
    )
    body = (
        "<p>Hello,</p>"
        f"<p>We have received your support ticket <strong>{html.escape(ref)}</strong>. "
        "An agent will answer you on the ticket's private page (keep this link to yourself: "
        "anyone with it can read and answer the ticket):</p>"
        f"{_button(url, 'Open ticket ' + ref)}"
        f"<p {_SMALL}>{html.escape(NO_REPLY)}</p><p {_SMALL}>{html.escape(NOT_YOU)}</p>"
    )
    return Email(to, f"[{ref}] We received your support ticket", text, _page(body))


def reply(ticket: Ticket, to: str, url: str | None, author_name: str, message: str) -> Email:
    """An agent's public reply (saying so when the same step resolved the ticket)."""
    ref = reference(ticket)
    solved = ticket.status.value in ("resolved", "closed")
    after = (
        f"We have marked ticket {ref} as {ticket.status.value}. If that is not right, answer "
        "on its page and it opens again:"
        if solved
        else "Answer, or see the whole conversation, on your ticket's page:"
    )
    text = "\n".join(
        [
            _greeting(ticket),
            "",
            f"{plain_text(author_name)} answered your ticket {ref}:",
            "",
            message.strip(),
            "",
            after,
            _link_line(url),
            NO_REPLY,
        ]
    )
    body = (
        f"<p>{html.escape(_greeting(ticket))}</p>"
        f"<p>{html.escape(plain_text(author_name))} answered your ticket "
        f"<strong>{html.escape(ref)}</strong>:</p>"
        '<blockquote style="border-left:3px solid #cbd2d9;margin:0;padding-left:1em">'
        f"{_html_text(message)}</blockquote>"
        f"<p>{html.escape(after)}</p>{_button(url, 'Open ticket ' + ref)}"
        f"<p {_SMALL}>{html.escape(NO_REPLY)}</p>"
    )
    return Email(to, subject_title(ticket), text, _page(body))


def resolved(ticket: Ticket, to: str, url: str | None) -> Email:
    """The ticket was marked resolved; answering reopens it."""
    ref = reference(ticket)
    text = "\n".join(
        [
            _greeting(ticket),
            "",
            f"Your ticket {ref}, “{subject_text(ticket.title)}”, has been marked as resolved.",
            "If it is not solved for you, answer on its page and it opens again:",
            _link_line(url),
            NO_REPLY,
        ]
    )
    body = (
        f"<p>{html.escape(_greeting(ticket))}</p>"
        f"<p>Your ticket <strong>{html.escape(ref)}</strong>, "
        f"“{html.escape(subject_text(ticket.title))}”, has been marked as resolved.</p>"
        "<p>If it is not solved for you, answer on its page and it opens again:</p>"
        f"{_button(url, 'Open ticket ' + ref)}<p {_SMALL}>{html.escape(NO_REPLY)}</p>"
    )
    return Email(to, subject_title(ticket, "Resolved: "), text, _page(body))


def new_link(ticket: Ticket, to: str, url: str | None) -> Email:
    """An agent sent a new private link; the old ones no longer work."""
    ref = reference(ticket)
    text = "\n".join(
        [
            _greeting(ticket),
            "",
            f"Here is a new private link to your ticket {ref}. Any earlier link to it no",
            "longer works.",
            _link_line(url),
            NO_REPLY,
        ]
    )
    body = (
        f"<p>{html.escape(_greeting(ticket))}</p>"
        f"<p>Here is a new private link to your ticket <strong>{html.escape(ref)}</strong>. "
        "Any earlier link to it no longer works.</p>"
        f"{_button(url, 'Open ticket ' + ref)}<p {_SMALL}>{html.escape(NO_REPLY)}</p>"
    )
    return Email(to, subject_title(ticket, "Your new link: "), text, _page(body))
