"""The customer's private link to a ticket: ``<site>/#/my-ticket/<id>?key=<secret>``.

The secret is derived, never stored: ``HMAC-SHA256(link key, id, nonce)`` where the
nonce is 128 random bits kept on the ticket with the SHA-256 of the secret. The API
checks a presented key against that hash (constant time). The mailer, which only
sees the ticket, re-derives the secret from the nonce to put the link in an email;
whoever reads the table (a backup, an export) learns neither the secret nor a way
to make one without the key, which lives in SSM. Issuing a new nonce revokes the
old link. The secret travels in the URL fragment, so it never reaches a server log
or a ``Referer``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from chalicelib.domain import Ticket

_SECRET_CHARACTERS = 32  # base32: 160 bits


@dataclass(frozen=True, slots=True)
class IssuedLink:
    """A new link: what the ticket stores (nonce, hash) and what the customer gets."""

    nonce: str
    secret: str
    key_hash: str


def key_hash(secret: str) -> str:
    """What the ticket stores of a secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


class CustomerLinks:
    """Issues, re-derives and checks customers' private links."""

    def __init__(self, key: bytes, site_url: str | None) -> None:
        self._key = key
        self._site_url = site_url.rstrip("/") if site_url else None

    def issue(self, ticket_id: str) -> IssuedLink:
        """A fresh link for the ticket (its nonce has 128 random bits)."""
        nonce = secrets.token_hex(16)
        secret = self.secret(ticket_id, nonce)
        return IssuedLink(nonce, secret, key_hash(secret))

    def secret(self, ticket_id: str, nonce: str) -> str:
        """The secret of the link issued with ``nonce``."""
        digest = hmac.new(
            self._key, f"customer-link/v1/{ticket_id}/{nonce}".encode(), hashlib.sha256
        ).digest()
        return base64.b32encode(digest).decode("ascii").lower()[:_SECRET_CHARACTERS]

    @staticmethod
    def matches(ticket: Ticket, presented: str | None) -> bool:
        """Whether ``presented`` is the ticket's current secret."""
        if not presented or not ticket.access_key_hash or len(presented) > 128:
            return False
        return hmac.compare_digest(key_hash(presented.strip()), ticket.access_key_hash)

    def url(self, ticket_id: str, secret: str) -> str | None:
        """The link a customer opens (None when the site's address is not configured)."""
        if not self._site_url:
            return None
        return f"{self._site_url}/#/my-ticket/{ticket_id}?key={secret}"

    def url_for(self, ticket: Ticket) -> str | None:
        """The current link of a ticket (re-derived from its nonce)."""
        if ticket.access_nonce is None:
            return None
        return self.url(ticket.id, self.secret(ticket.id, ticket.access_nonce))
