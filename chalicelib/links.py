"""The customer's private links to a ticket: ``<site>/#/my-ticket/<id>?key=<secret>``.

A ticket has two secrets, both derived, never stored: ``HMAC-SHA256(link key,
purpose, id, nonce)`` where the nonce is 128 random bits kept on the ticket with the
SHA-256 of each secret.

- The **page** secret is shown once, to whoever submitted the form (the create's
  answer): it lets them follow the ticket at once.
- The **email** secret goes only into emails to the ticket's address. Opening the
  ticket with it proves that whoever reads that mailbox knows of the ticket, so the
  ticket's email is marked verified: the form takes any address, and agents see
  "not verified" until then.

The API checks a presented key against the stored hashes (constant time). The
mailer, which only sees the ticket, re-derives the email secret from the nonce;
whoever reads the table (a backup, an export) learns neither secret nor a way to
make one without the link key, which lives in SSM. Issuing a new nonce revokes both
old links. Secrets travel in the URL fragment, so they never reach a server log or
a ``Referer``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from chalicelib.domain import Ticket

_SECRET_CHARACTERS = 32  # base32: 160 bits
PAGE = "page"
EMAIL = "email"


@dataclass(frozen=True, slots=True)
class IssuedLink:
    """A new pair of links: what the ticket stores and the page secret to show once."""

    nonce: str
    secret: str  # the page secret
    key_hash: str  # of the page secret
    email_key_hash: str


def key_hash(secret: str) -> str:
    """What the ticket stores of a secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


class CustomerLinks:
    """Issues, re-derives and checks customers' private links."""

    def __init__(self, key: bytes, site_url: str | None) -> None:
        self._key = key
        self._site_url = site_url.rstrip("/") if site_url else None

    def issue(self, ticket_id: str) -> IssuedLink:
        """Fresh links for the ticket (their nonce has 128 random bits)."""
        nonce = secrets.token_hex(16)
        page = self.secret(ticket_id, nonce, PAGE)
        return IssuedLink(
            nonce, page, key_hash(page), key_hash(self.secret(ticket_id, nonce, EMAIL))
        )

    def secret(self, ticket_id: str, nonce: str, purpose: str = PAGE) -> str:
        """The secret of the link issued with ``nonce`` for ``purpose`` (page or email)."""
        label = "customer-link/v1" if purpose == PAGE else f"customer-link/v1/{purpose}"
        digest = hmac.new(self._key, f"{label}/{ticket_id}/{nonce}".encode(), hashlib.sha256)
        return base64.b32encode(digest.digest()).decode("ascii").lower()[:_SECRET_CHARACTERS]

    @staticmethod
    def matches(ticket: Ticket, presented: str | None) -> str | None:
        """Which of the ticket's current secrets ``presented`` is (``page``, ``email``), or
        None."""
        if not presented or len(presented) > 128:
            return None
        digest = key_hash(presented.strip())
        found = None
        # Both comparisons always run, in constant time each.
        if ticket.access_key_hash and hmac.compare_digest(digest, ticket.access_key_hash):
            found = PAGE
        if ticket.email_key_hash and hmac.compare_digest(digest, ticket.email_key_hash):
            found = EMAIL
        return found

    def url(self, ticket_id: str, secret: str) -> str | None:
        """The link a customer opens (None when the site's address is not configured)."""
        if not self._site_url:
            return None
        return f"{self._site_url}/#/my-ticket/{ticket_id}?key={secret}"

    def email_url(self, ticket: Ticket, nonce: str | None = None) -> str | None:
        """The link to put in an email about the ticket (the email secret of ``nonce``,
        by default the ticket's current one)."""
        nonce = nonce or ticket.access_nonce
        if nonce is None:
            return None
        return self.url(ticket.id, self.secret(ticket.id, nonce, EMAIL))
