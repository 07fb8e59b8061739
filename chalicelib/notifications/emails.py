"""The emails customers receive, written as plain text and HTML.

Everything a person or the model wrote is escaped in the HTML part (``html.escape``)
and only ever inserted as text; line breaks are kept. Subjects carry the ticket's
number and title with every control character (CR and LF included) removed, so a
title can never add a header. Every email says what to do if the reader never
wrote to us.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from chalicelib.domain import Ticket

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")
_SUBJECT_TITLE_MAX = 120
NOT_YOU = (
    "If you did not contact us, someone may have typed your address by mistake: you can "
    "ignore this email. We send no more than a few such emails to one address per hour, "
    "and nothing else unless someone replies to that request."
)


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


def subject_text(value: str) -> str:
    """A single header line: controls become spaces, whitespace collapsed, length capped."""
    flat = " ".join(_CONTROL.sub(" ", value).split())
    if len(flat) > _SUBJECT_TITLE_MAX:
        flat = flat[: _SUBJECT_TITLE_MAX - 1].rstrip() + "…"
    return flat


def _subject(ticket: Ticket, prefix: str = "") -> str:
    return f"[{reference(ticket)}] {prefix}{subject_text(ticket.title)}"


def _paragraphs_html(text: str) -> str:
    blocks = [block for block in re.split(r"\n\s*\n", text.strip()) if block.strip()]
    return "".join(
        "<p>" + "<br>".join(html.escape(line) for line in block.splitlines()) + "</p>"
        for block in blocks
    )


def _page(body_html: str) -> str:
    return (
        '<!doctype html><html><head><meta charset="utf-8"></head>'
        '<body style="font-family:sans-serif;line-height:1.5;color:#1f2933">'
        f"{body_html}</body></html>"
    )


def _link_html(url: str | None, text: str) -> str:
    if not url:
        return ""
    return f'<p><a href="{html.escape(url, quote=True)}">{html.escape(text)}</a></p>'


def _greeting(ticket: Ticket) -> str:
    return f"Hello {ticket.customer_name}," if ticket.customer_name else "Hello,"


def _link_text(url: str | None) -> str:
    return f"\n{url}\n" if url else "\n(Your private link is on the confirmation page.)\n"


def confirmation(ticket: Ticket, to: str, url: str | None) -> Email:
    """We have your request: its number, and the private link to follow it."""
    ref = reference(ticket)
    lines = [
        _greeting(ticket),
        "",
        f"We have received your request {ref}, “{subject_text(ticket.title)}”. "
        "A support agent will answer you here.",
        "",
        "Follow the conversation and reply on your private page (keep this link to "
        "yourself: anyone with it can read and answer this request):",
        _link_text(url),
        NOT_YOU,
    ]
    body = (
        f"<p>{html.escape(_greeting(ticket))}</p>"
        f"<p>We have received your request <strong>{html.escape(ref)}</strong>, "
        f"“{html.escape(subject_text(ticket.title))}”. A support agent will answer you here.</p>"
        "<p>Follow the conversation and reply on your private page (keep this link to "
        "yourself: anyone with it can read and answer this request):</p>"
        f"{_link_html(url, 'Open your request ' + ref)}"
        f'<p style="color:#52606d">{html.escape(NOT_YOU)}</p>'
    )
    return Email(to, _subject(ticket, "We received your request: "), "\n".join(lines), _page(body))


def reply(ticket: Ticket, to: str, url: str | None, author_name: str, text: str) -> Email:
    """An agent's public reply."""
    ref = reference(ticket)
    lines = [
        _greeting(ticket),
        "",
        f"{author_name} replied to your request {ref}:",
        "",
        text.strip(),
        "",
        "Answer or see the whole conversation on your private page:",
        _link_text(url),
        NOT_YOU,
    ]
    body = (
        f"<p>{html.escape(_greeting(ticket))}</p>"
        f"<p>{html.escape(author_name)} replied to your request "
        f"<strong>{html.escape(ref)}</strong>:</p>"
        f'<blockquote style="border-left:3px solid #cbd2d9;margin:0;padding-left:1em">'
        f"{_paragraphs_html(text)}</blockquote>"
        "<p>Answer or see the whole conversation on your private page:</p>"
        f"{_link_html(url, 'Open your request ' + ref)}"
        f'<p style="color:#52606d">{html.escape(NOT_YOU)}</p>'
    )
    return Email(to, _subject(ticket), "\n".join(lines), _page(body))


def resolved(ticket: Ticket, to: str, url: str | None) -> Email:
    """The request was marked resolved; answering reopens it."""
    ref = reference(ticket)
    lines = [
        _greeting(ticket),
        "",
        f"Your request {ref}, “{subject_text(ticket.title)}”, has been marked as resolved.",
        "If it is not solved for you, answer on your private page and it reopens:",
        _link_text(url),
        NOT_YOU,
    ]
    body = (
        f"<p>{html.escape(_greeting(ticket))}</p>"
        f"<p>Your request <strong>{html.escape(ref)}</strong>, "
        f"“{html.escape(subject_text(ticket.title))}”, has been marked as resolved.</p>"
        "<p>If it is not solved for you, answer on your private page and it reopens:</p>"
        f"{_link_html(url, 'Open your request ' + ref)}"
        f'<p style="color:#52606d">{html.escape(NOT_YOU)}</p>'
    )
    return Email(to, _subject(ticket, "Resolved: "), "\n".join(lines), _page(body))


def new_link(ticket: Ticket, to: str, url: str | None) -> Email:
    """An agent sent a new private link; the old one no longer works."""
    ref = reference(ticket)
    lines = [
        _greeting(ticket),
        "",
        f"Here is a new private link to your request {ref}. "
        "Any earlier link to it no longer works.",
        _link_text(url),
        NOT_YOU,
    ]
    body = (
        f"<p>{html.escape(_greeting(ticket))}</p>"
        f"<p>Here is a new private link to your request <strong>{html.escape(ref)}</strong>. "
        "Any earlier link to it no longer works.</p>"
        f"{_link_html(url, 'Open your request ' + ref)}"
        f'<p style="color:#52606d">{html.escape(NOT_YOU)}</p>'
    )
    return Email(to, _subject(ticket, "Your new link: "), "\n".join(lines), _page(body))
