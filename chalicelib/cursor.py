"""Opaque page cursors: a position in one query, sealed with an HMAC.

A cursor carries the sort key of the last item of the page (and, in the priority
order, the priority it was in) and a fingerprint of the query it belongs to.
Anything that was edited, truncated, made for another query (other filters,
search or order) or signed with another key fails the check and is a 400.

Format (documented in the OpenAPI document): URL-safe base64 without padding of a
compact JSON array followed by a 16-byte HMAC-SHA256, at most 1,024 characters.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass

from chalicelib.errors import ValidationFailed

_VERSION = 2
_MAC_BYTES = 16


@dataclass(frozen=True, slots=True)
class PagePosition:
    """Where the next page starts: after the item with this sort key (creation time,
    then id), within ``priority`` when the list is in priority order."""

    created_sk: str
    priority: str | None = None


def query_fingerprint(filters: Mapping[str, object], search: str | None, sort: str = "") -> str:
    """A stable short digest of what a query selects and how it is ordered (not of its
    page size)."""
    canonical = json.dumps(
        {
            "f": {name: _canonical(value) for name, value in sorted(filters.items())},
            "s": (search or "").casefold(),
            "o": sort,
        },
        separators=(",", ":"),
        ensure_ascii=True,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _canonical(value: object) -> object:
    if isinstance(value, (set, frozenset, list, tuple)):
        return sorted(str(item) for item in value)
    return str(value)


class CursorCodec:
    """Encodes and checks cursors with a key from the settings."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()[:_MAC_BYTES]

    def encode(self, position: PagePosition, fingerprint: str) -> str:
        """A URL-safe cursor for ``position`` within the query ``fingerprint``."""
        payload = json.dumps(
            [_VERSION, fingerprint, position.created_sk, position.priority],
            separators=(",", ":"),
        ).encode()
        token = payload + self._mac(payload)
        return base64.urlsafe_b64encode(token).rstrip(b"=").decode("ascii")

    def decode(self, cursor: str, fingerprint: str) -> PagePosition:
        """The position in ``cursor``; 400 when it was altered or is for another query."""
        invalid = ValidationFailed(
            "The cursor is invalid or belongs to a different query; "
            "start again from the first page",
            fields={"cursor": "invalid"},
        )
        if len(cursor) > 1024 or not cursor.isascii():
            raise invalid
        try:
            token = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        except ValueError as exc:
            raise invalid from exc
        payload, mac = token[:-_MAC_BYTES], token[-_MAC_BYTES:]
        if len(token) <= _MAC_BYTES or not hmac.compare_digest(mac, self._mac(payload)):
            raise invalid
        try:
            version, cursor_fingerprint, created_sk, priority = json.loads(payload)
        except (ValueError, TypeError) as exc:
            raise invalid from exc
        if version != _VERSION or cursor_fingerprint != fingerprint:
            raise invalid
        if not isinstance(created_sk, str) or not (priority is None or isinstance(priority, str)):
            raise invalid
        return PagePosition(created_sk=created_sk, priority=priority)
