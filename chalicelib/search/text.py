"""What a word is, how a ticket's text becomes index terms, and how a query is read.

- A *word* is a run of Unicode letters and digits, folded: accents removed (NFKD,
  combining marks dropped), then case-folded. ``Refund``, ``refund`` and ``réfund``
  are one word; ``INV-2024-0012`` is the words ``inv``, ``2024`` and ``0012``.
- A ticket is indexed under every word and every *prefix* of 2 or more characters of
  its words (up to :data:`MAX_PREFIX` characters), so a query word of 2 or more
  characters matches as a prefix with one exact lookup. One-letter words are indexed
  as themselves.
- Special terms, which text can never produce (they hold ``@`` or ``#``): the
  customer's email address (``@alice@example.com``) and the ticket's short reference,
  the first 8 characters of its id (``#3ykzwkda``).
- A ticket is indexed under at most :data:`MAX_TERMS_PER_TICKET` terms: the special
  terms, then the words of the customer's name and email address, the title, the
  description and the messages in order.
  Words after the cap are not findable (``truncated`` says so).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from chalicelib.errors import ValidationFailed

MIN_PREFIX = 2
MAX_PREFIX = 20
MAX_TERMS_PER_TICKET = 400
MAX_QUERY_LENGTH = 200
SHORT_REF_LENGTH = 8

_WORD = re.compile(r"[^\W_]+")
_EMAIL = re.compile(r"^[^\s@]+@[^\s@]+\.[^\s@]+$")
_NUMBER_REF = re.compile(r"^(#?)(\d{1,9})$")
_SHORT_REF = re.compile(r"^(#?)([a-z2-7]{8})$")
_TICKET_ID = re.compile(r"^#?([a-z2-7]{24})$")


def fold(text: str) -> str:
    """Accents removed and case folded: what words are compared as."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    return unicodedata.normalize("NFKC", stripped.casefold())


def words(text: str) -> list[str]:
    """The folded words of ``text``, in order (repeats kept)."""
    return _WORD.findall(fold(text))


def word_terms(word: str) -> list[str]:
    """The index terms of one folded word: itself if one letter, else its prefixes."""
    if len(word) < MIN_PREFIX:
        return [word]
    return [word[:length] for length in range(MIN_PREFIX, min(len(word), MAX_PREFIX) + 1)]


def query_term(word: str) -> str:
    """The one term a query word is looked up by (prefixes are indexed)."""
    return word[:MAX_PREFIX]


def email_term(email: str) -> str:
    """The term a customer's email address is indexed under."""
    return "@" + email.strip().lower()


def short_ref_term(ticket_id: str) -> str:
    """The term a ticket's short reference (first 8 characters of its id) is indexed under."""
    return "#" + ticket_id[:SHORT_REF_LENGTH]


@dataclass(frozen=True, slots=True)
class TicketTerms:
    """The terms one ticket is indexed under."""

    terms: frozenset[str]
    truncated: bool


def ticket_terms(
    special: Iterable[str], texts: Iterable[str], cap: int = MAX_TERMS_PER_TICKET
) -> TicketTerms:
    """Terms for a ticket: ``special`` terms first, then the words of ``texts`` in order,
    at most ``cap`` terms (a word is taken whole, with all its prefixes, or not at all)."""
    terms: set[str] = set(special)
    seen_words: set[str] = set()
    for text in texts:
        for word in words(text):
            if word in seen_words:
                continue
            seen_words.add(word)
            new = [term for term in word_terms(word) if term not in terms]
            if len(terms) + len(new) > cap:
                return TicketTerms(frozenset(terms), truncated=True)
            terms.update(new)
    return TicketTerms(frozenset(terms), truncated=False)


@dataclass(frozen=True, slots=True)
class Reference:
    """A ticket named directly: by number (``#1042``), short reference or full id."""

    kind: str  # "number", "short" or "id"
    value: str


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """A parsed search: terms that must all match, and maybe a reference to pin."""

    text: str
    terms: tuple[str, ...]
    reference: Reference | None = None

    @property
    def reference_only(self) -> bool:
        """The query is only a reference (``#1042``): no text search."""
        return self.reference is not None and not self.terms


def parse_search(raw: str) -> SearchQuery:
    """Read a search query, or a 400 a person understands.

    The whole query being a reference (``#1042``, ``#3ykzwkda``, a full id) finds
    that ticket; a bare number or short reference (``1042``) finds that ticket first
    and then the tickets whose text matches. Otherwise every word must match, each
    word of 2 or more characters as a prefix; an email address matches exactly.
    """
    text = raw.strip()
    if len(text) > MAX_QUERY_LENGTH:
        message = f"search must be at most {MAX_QUERY_LENGTH} characters (got {len(text)})"
        raise ValidationFailed(message, fields={"search": message})
    folded = fold(text)
    if match := _TICKET_ID.match(folded):
        return SearchQuery(folded, (), Reference("id", match.group(1)))
    if match := _NUMBER_REF.match(folded):
        hashed, digits = match.groups()
        number = str(int(digits))
        return SearchQuery(
            folded, () if hashed else (query_term(digits),), Reference("number", number)
        )
    if match := _SHORT_REF.match(folded):
        hashed, ref = match.groups()
        return SearchQuery(folded, () if hashed else (query_term(ref),), Reference("short", ref))
    terms: list[str] = []
    for token in text.split():
        if _EMAIL.match(token) and len(token) <= 254:
            candidate = email_term(token)
            if candidate not in terms:
                terms.append(candidate)
            continue
        for word in words(token):
            term = query_term(word)
            if term not in terms:
                terms.append(term)
    if not terms:
        message = "search needs at least one word of letters or digits"
        raise ValidationFailed(message, fields={"search": message})
    return SearchQuery(folded, tuple(terms))
