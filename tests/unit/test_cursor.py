"""The cursor codec: round trips, and anything altered or foreign is refused (property-based)."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.cursor import CursorCodec, PagePosition, query_fingerprint
from chalicelib.errors import ValidationFailed

codec = CursorCodec(b"test-key")
positions = st.builds(
    PagePosition,
    created_sk=st.text(min_size=1, max_size=60),
    priority=st.one_of(st.none(), st.sampled_from(["critical", "high", "medium", "low"])),
)
filters = st.dictionaries(
    st.sampled_from(["category", "priority", "status"]), st.sampled_from(["a", "b", "c"])
)


@given(positions, filters, st.one_of(st.none(), st.text(max_size=20)))
def test_round_trip(position: PagePosition, chosen: dict[str, str], search: str | None) -> None:
    fingerprint = query_fingerprint(chosen, search)
    cursor = codec.encode(position, fingerprint)
    assert cursor.isascii() and "=" not in cursor and "+" not in cursor and "/" not in cursor
    assert codec.decode(cursor, fingerprint) == position


@given(positions, st.data())
def test_any_single_character_change_is_refused(
    position: PagePosition, data: st.DataObject
) -> None:
    fingerprint = query_fingerprint({}, None)
    cursor = codec.encode(position, fingerprint)
    index = data.draw(st.integers(0, len(cursor) - 1))
    replacement = data.draw(
        st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_").filter(
            lambda c: c != cursor[index]
        )
    )
    tampered = cursor[:index] + replacement + cursor[index + 1 :]
    try:
        codec.decode(tampered, fingerprint)
    except ValidationFailed:
        return
    # Accepted only if the change sat in base64's unused padding bits of the last
    # character, so the bytes (and the MAC over them) are exactly the original's.
    assert _bytes(tampered) == _bytes(cursor)


def _bytes(cursor: str) -> bytes:
    return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))


@given(st.text(max_size=300))
def test_garbage_is_refused_never_crashes(garbage: str) -> None:
    with pytest.raises(ValidationFailed):
        codec.decode(garbage, query_fingerprint({}, None))


@given(positions)
def test_cursor_of_another_query_or_key_is_refused(position: PagePosition) -> None:
    mine = query_fingerprint({"status": "open"}, None)
    assert mine != query_fingerprint({"status": "open"}, None, "priority")
    cursor = codec.encode(position, mine)
    with pytest.raises(ValidationFailed):
        codec.decode(cursor, query_fingerprint({"status": "closed"}, None))
    with pytest.raises(ValidationFailed):
        codec.decode(cursor, query_fingerprint({"status": "open"}, "login"))
    with pytest.raises(ValidationFailed):
        CursorCodec(b"another-key").decode(cursor, mine)


def test_search_fingerprint_ignores_case_but_not_content() -> None:
    assert query_fingerprint({}, "Login") == query_fingerprint({}, "login")
    assert query_fingerprint({}, "login") != query_fingerprint({}, "logout")
    assert query_fingerprint({"a": "1", "b": "2"}, None) == query_fingerprint(
        {"b": "2", "a": "1"}, None
    )
