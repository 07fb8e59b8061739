"""The features the offline model reads from a ticket.

Inference (``offline.py``) and training (``tools/train_classifier.py``) both call
``ticket_features``, so a ticket is read the same way in both and a retrained model can
never disagree with the code that scores it.

A ticket becomes a set of named, binary features:

* words, lightly stemmed ("charged", "charges" and "charging" are one feature), from the
  whole text, and again with a ``t:`` prefix from the title, where people name the topic;
* pairs of adjacent words ("not working", "all users", "cannot login"), which carry what
  single words lose: scope, negation and who is affected;
* what the hand-written cues (``cues.py``) found: the rules' own category and priority,
  which severity groups fired, a workaround, a question that reports no problem;
* the length of the text, since one-line tickets and pasted logs read differently.
"""

from __future__ import annotations

import itertools
import re
from typing import Final

from chalicelib.classification.cues import CueReading, normalise, read_cues

_TOKEN: Final = re.compile(r"[a-z][a-z0-9']*|\d+")

# Spellings of the same word, as customers type them, folded before stemming.
_SPELLINGS: Final[dict[str, str]] = {
    "cant": "cannot",
    "couldnt": "cannot",
    "unable": "cannot",
    "dont": "not",
    "doesnt": "not",
    "didnt": "not",
    "isnt": "not",
    "arent": "not",
    "wasnt": "not",
    "werent": "not",
    "wont": "not",
    "never": "not",
    "pls": "please",
    "plz": "please",
    "pw": "password",
    "pwd": "password",
    "pasword": "password",
    "passwort": "password",
    "login": "log_in",
    "logon": "log_in",
    "signin": "log_in",
}

# Words too common to make a useful pair on their own.
_FILLER: Final = frozenset(
    {
        *("a", "an", "the", "to", "of", "and", "or", "is", "are", "was", "were", "be"),
        *("been", "i", "we", "you", "it", "this", "that", "in", "on", "at", "for", "with"),
        *("my", "our", "your", "me", "us", "from", "as", "by", "so", "but", "if", "have"),
        *("has", "had", "do"),
    }
)

# HTTP statuses and error codes are informative; other numbers (amounts, ids, dates)
# only say that a number was there.
_STATUS_CODES: Final = frozenset(
    {"401", "403", "404", "408", "413", "429", "500", "502", "503", "504"}
)

# Words are cheap to read, so they are read further than the cues; past this the text is
# nearly always a pasted log, and the bound keeps the time per ticket flat.
MAX_TITLE_CHARS: Final = 500
MAX_DESCRIPTION_CHARS: Final = 3_000

_SHORT_TEXT: Final = 60
_LONG_TEXT: Final = 700


def stem(word: str) -> str:
    """A deliberately crude stemmer: enough to merge the forms a ticket uses.

    "invoice", "invoices", "invoiced" and "invoicing" all become "invoic". Words of four
    letters or fewer are kept whole ("was", "down", "lost").
    """
    if len(word) <= 4:
        return word
    for suffix in ("ing", "ed", "s"):
        if word.endswith(suffix) and not word.endswith("ss") and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    if word.endswith("e") and len(word) > 4:
        word = word[:-1]
    return word


def _tokens(text: str) -> list[str]:
    words = []
    for raw in _TOKEN.findall(text):
        if raw[0].isdigit():
            words.append(f"n{raw}" if raw in _STATUS_CODES else ("#" if len(raw) > 1 else "#1"))
            continue
        word = raw.replace("'", "")
        word = _SPELLINGS.get(word, word)
        words.append(stem(word))
    return words


def _word_features(tokens: list[str], prefix: str, pairs: bool) -> set[str]:
    found = {prefix + token for token in tokens}
    if pairs:
        for first, second in itertools.pairwise(tokens):
            if first in _FILLER and second in _FILLER:
                continue
            found.add(f"{prefix}{first}_{second}")
    return found


def _cue_features(reading: CueReading) -> set[str]:
    found = {
        f"rule_category:{reading.category.value}",
        f"rule_priority:{reading.priority.value}",
        f"rule_both:{reading.category.value}/{reading.priority.value}",
    }
    found.update(f"severity:{group}" for group in reading.severity_groups)
    if reading.partial:
        found.add("cue:workaround")
    if reading.enquiry:
        found.add("cue:enquiry")
    best = max(reading.category_scores.values())
    if best > 0:
        # How decisively the rules chose: a clear lead versus a near tie.
        ranked = sorted(reading.category_scores.values(), reverse=True)
        found.add("rule_margin:wide" if ranked[0] >= 2 * ranked[1] else "rule_margin:narrow")
    return found


def ticket_features(title: str, description: str) -> set[str]:
    """The set of feature names present in a ticket; an empty ticket has almost none.

    Only the start of a long description is read (``MAX_DESCRIPTION_CHARS``): what a
    ticket is about is stated early, and the bound keeps the cost flat on pasted logs.
    """
    title_text = normalise(title[:MAX_TITLE_CHARS])
    description_text = normalise(description[:MAX_DESCRIPTION_CHARS])
    title_tokens = _tokens(title_text)
    description_tokens = _tokens(description_text)
    features = _word_features(title_tokens, "t:", pairs=False)
    features |= _word_features(title_tokens, "", pairs=True)
    features |= _word_features(description_tokens, "", pairs=True)
    features |= _cue_features(read_cues(title_text, description_text))
    length = len(title_text) + len(description_text)
    if length < _SHORT_TEXT:
        features.add("length:short")
    elif length > _LONG_TEXT:
        features.add("length:long")
    return features


def has_words(title: str, description: str) -> bool:
    """Whether the ticket holds any word or number at all to classify by."""
    text = normalise(f"{title[:MAX_TITLE_CHARS]} {description[:MAX_DESCRIPTION_CHARS]}")
    return _TOKEN.search(text) is not None
