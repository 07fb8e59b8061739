"""What a word is, which terms a ticket is indexed under, and how queries are read."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.errors import ValidationFailed
from chalicelib.search.text import (
    MAX_PREFIX,
    parse_search,
    query_term,
    ticket_terms,
    word_terms,
    words,
)


def test_words_are_letters_and_digits_without_case_or_accents() -> None:
    assert words("Réfund for INV-2024-0012: error 502!") == [
        "refund", "for", "inv", "2024", "0012", "error", "502",
    ]  # fmt: skip
    assert words("Straße naïve ÉCOLE") == ["strasse", "naive", "ecole"]


def test_a_word_is_indexed_under_its_prefixes() -> None:
    assert word_terms("refund") == ["re", "ref", "refu", "refun", "refund"]
    assert word_terms("a") == ["a"]
    assert len(word_terms("x" * 50)) == MAX_PREFIX - 1


@given(st.text(max_size=300), st.text(min_size=1, max_size=30))
def test_any_word_of_a_text_is_found_by_any_of_its_prefixes(text: str, extra: str) -> None:
    indexed = ticket_terms([], [text + " " + extra]).terms
    for word in words(text + " " + extra):
        for length in range(2, len(word) + 1):
            assert query_term(word[:length]) in indexed


def test_the_number_of_terms_is_capped_whole_words_at_a_time() -> None:
    text = " ".join(f"word{i:04d}" for i in range(1000))
    result = ticket_terms(["#special"], [text], cap=50)
    assert result.truncated and len(result.terms) <= 50 and "#special" in result.terms


def test_queries() -> None:
    assert parse_search("  Refund   INV-2024 ").terms == ("refund", "inv", "2024")
    assert parse_search("alice@Example.com").terms == ("@alice@example.com",)
    number = parse_search("#1042")
    assert number.reference is not None and number.reference.value == "1042"
    assert number.reference_only
    bare = parse_search("1042")
    assert bare.terms == ("1042",) and bare.reference is not None
    short = parse_search("#3YKZWKDA")
    assert short.reference is not None and short.reference.kind == "short" and short.reference_only
    full = parse_search("#" + "a" * 24)
    assert full.reference is not None and full.reference.kind == "id"


@pytest.mark.parametrize("query", ["!!!", "---", "   ", "x" * 201])
def test_queries_without_a_word_or_too_long_are_a_clear_400(query: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        parse_search(query)
    assert "search" in refused.value.details["fields"]
