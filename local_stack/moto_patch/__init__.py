"""A local DynamoDB whose cost follows the request, not the table: a patch for moto 5.2.5.

moto 5.2.5 has three costs that grow with the table (see docs/local-stack.md):

- ``transact_write_items`` deep-copies every table it touches, once per item of the
  transaction, for rollback; every copy is a ``BaseModel`` and stays in its class's
  ``instances_tracked`` list, so memory grows with the square of the writes;
- a Query on an index walks and sorts every item of the table; a Query on the base
  table sorts every item of the table too;
- a few throwaway objects (query results, stream records, shard iterators) are tracked
  forever as well.

:func:`install` replaces those code paths with ones that keep the same results:

- :mod:`.transactions`: an undo log of just the items a transaction touches;
- :mod:`.indexes`: per-index sorted structures (partition value -> sorted sort keys)
  maintained on every write path, answering Query from them;
- :mod:`.memory`: no tracking of DynamoDB items, stream records and shard iterators,
  interned attribute names and short string values, key attributes sharing one object;
- :mod:`.streams`: one stream record per written item (an upsert through UpdateItem made
  two) and a bound on the records and shard iterators a table's stream keeps;
- :mod:`.serialize`: attribute values written to JSON directly (moto's generic
  serializer spent ~0.2 ms on each attribute of each item returned);
- :mod:`.expressions`: update expressions parsed once per text, two quadratic
  validators run at the root of the expression only, validator passes with nothing to
  process skipped, and conditions parsed once per expression, names and values;
- :mod:`.projection`: a ProjectionExpression of top-level names costs the names asked
  for (moto converted the whole item once per name), and is parsed once per text.

The patch is active only for requests served by a :class:`local_stack.moto_server.MotoServer`
started with ``patched=True`` (the default): another server in the same process started
with ``patched=False`` serves plain moto, which is how the tests compare the two.
A table should be written through one kind of server only; writing it through a plain
server simply drops the patch's structures for that table, which are rebuilt on the next
patched query.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import moto

MOTO_VERSION = "5.2.5"

_state = threading.local()
_installed: list[bool] = []  # one element once installed
_install_lock = threading.Lock()


class UnsupportedMotoVersion(RuntimeError):
    """The installed moto is not the version this patch was written and tested for."""


def check_moto_version(version: str | None = None) -> None:
    """Refuse to patch any moto but the pinned one: the patch replaces moto internals."""
    found = version if version is not None else moto.__version__
    if found != MOTO_VERSION:
        raise UnsupportedMotoVersion(
            f"local_stack.moto_patch was written for moto {MOTO_VERSION}, found moto {found}. "
            "Re-check every replaced function against the new moto (see docs/local-stack.md), "
            "drop what upstream has fixed, then update MOTO_VERSION."
        )


def is_active() -> bool:
    """True while this thread serves a request of a patched moto server."""
    return bool(getattr(_state, "active", False))


@contextmanager
def active() -> Iterator[None]:
    """Run the block with the patch in force (a patched server wraps every request in it)."""
    previous = is_active()
    _state.active = True
    try:
        yield
    finally:
        _state.active = previous


def install() -> None:
    """Patch moto's classes once per process. Idempotent; fails loudly on another moto."""
    with _install_lock:
        if _installed:
            return
        check_moto_version()
        from local_stack.moto_patch import (
            expressions,
            indexes,
            memory,
            projection,
            serialize,
            streams,
            transactions,
        )

        memory.install()
        indexes.install()
        streams.install()
        serialize.install()
        expressions.install()
        projection.install()
        transactions.install()
        _installed.append(True)
