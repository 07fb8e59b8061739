"""DynamoDB Streams that keep a bounded amount of memory.

moto 5.2.5 keeps every stream record of a table for ever (``StreamShard.items``), and
every shard iterator it ever handed out (each ``GetRecords`` call makes a new one). Under
the patch:

- A table's stream keeps at most :data:`max_records` records (default 10,000, or
  ``LOCAL_DYNAMODB_STREAM_MAX_RECORDS``); older ones are dropped, as DynamoDB drops
  records after 24 hours. A poller that falls further behind than that misses the
  dropped records: an iterator pointing at them reads from the oldest record kept.
- The local stack, whose poller trims what it consumed, raises the cap to
  :data:`CONSUMED_MAX_RECORDS` and has dropped records reported (:func:`for_a_consumer`):
  a ticket create writes about 60 records (its search postings included), and a poller
  on a busy 2-core machine indexes about 10 tickets a second, so a burst of creates can
  put it thousands of records behind (at 10,000, 5 tickets of a 300-ticket burst were
  never indexed).
- A poller can drop what it has consumed with :func:`trim_stream` (the sequence number
  of the last record it processed), which keeps memory near zero whatever the cap.
- At most :data:`MAX_SHARD_ITERATORS` iterators are remembered per region (the oldest
  are forgotten; DynamoDB's expire after 15 minutes).

Records are kept on disk, as DynamoDB keeps them (:class:`Spool`): each is pickled into an
unlinked temporary file (in batches of :data:`SPOOL_BUFFER_BYTES`, the newest waiting in
memory), and memory holds only where (about 100 bytes a record, against
about 2.5 KB for moto's tree of dicts of a search posting's record). A burst of creates
puts the local poller tens of thousands of records behind (each create writes some 60,
its search postings included); held in memory, that backlog's high-water mark stayed in
the process's resident memory after the poller caught up. Files whose records have all
been trimmed or dropped are closed (and so deleted).

Sequence numbers stay what moto would have given: dropping records does not renumber
the ones that follow. Each written item gives one record; the upsert case (UpdateItem
on a missing item, two INSERT records in moto) is handled in :mod:`.indexes`.
"""

from __future__ import annotations

import os
import pickle
import tempfile
import threading
from typing import IO, Any

from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.table import StreamRecord, StreamShard, Table
from moto.dynamodbstreams.models import DynamoDBStreamsBackend, ShardIterator

from local_stack.moto_patch import is_active

MAX_SHARD_ITERATORS = 1_000
_CAP_VARIABLE = "LOCAL_DYNAMODB_STREAM_MAX_RECORDS"
max_records = int(os.environ.get(_CAP_VARIABLE, "10000"))
# Records are on disk (about 100 bytes of memory each): a backlog of a million is 100 MB.
CONSUMED_MAX_RECORDS = 1_000_000
# Whether records dropped at the cap are reported (they are lost to a consumer).
report_drops = False

_original_add = StreamShard.add
_original_get = StreamShard.get
_original_iterator_init = ShardIterator.__init__
_original_get_shard_iterator = DynamoDBStreamsBackend.get_shard_iterator
_original_get_records = DynamoDBStreamsBackend.get_records


SPOOL_SEGMENT_BYTES = 16 * 1024 * 1024
# Records go to their file in batches of about this size, not one by one: a write is a
# system call, and a thread that makes one gives up the interpreter lock, which the
# stream poller's thread (busy indexing) then holds for up to a switch interval. One
# write per record cost a ticket create's transaction about 1 ms of waiting.
SPOOL_BUFFER_BYTES = 64 * 1024


class _Segment:
    """One unlinked temporary file of pickled records; the newest wait in memory
    (``pending``, up to :data:`SPOOL_BUFFER_BYTES`) and are written to it together."""

    __slots__ = ("file", "flushed", "lock", "pending", "size")

    def __init__(self, lock: threading.Lock) -> None:
        # Open while the segment holds records; closed by Spool.release_before.
        self.file: IO[bytes] = tempfile.TemporaryFile(prefix="local-dynamodb-stream-")  # noqa: SIM115
        self.lock = lock  # the spool's: guards the pending bytes against a reader
        self.size = 0  # the bytes of the segment's records: in the file, then pending
        self.flushed = 0  # the bytes in the file
        self.pending = bytearray()

    def append(self, packed: bytes) -> int:
        """Add a record at the end (the caller holds the spool's lock); its offset."""
        offset = self.size
        self.pending += packed
        self.size += len(packed)
        if len(self.pending) >= SPOOL_BUFFER_BYTES:
            self.flush()
        return offset

    def flush(self) -> None:
        """Write the pending records to the file (the caller holds the spool's lock)."""
        if self.pending:
            os.pwrite(self.file.fileno(), self.pending, self.flushed)
            self.flushed += len(self.pending)
            self.pending = bytearray()

    def read(self, offset: int, length: int) -> bytes:
        """The bytes of a record."""
        with self.lock:
            if offset >= self.flushed:
                start = offset - self.flushed
                return bytes(self.pending[start : start + length])
        return os.pread(self.file.fileno(), length, offset)


class PackedRecord:
    """A stream record in a :class:`Spool`; ``to_json`` reads moto's record dict back."""

    __slots__ = ("length", "offset", "segment")

    def __init__(self, segment: _Segment, offset: int, length: int) -> None:
        self.segment = segment
        self.offset = offset
        self.length = length

    def to_json(self) -> dict[str, Any]:
        """The record as moto's ``StreamRecord.to_json`` gave it (a fresh copy)."""
        packed = self.segment.read(self.offset, self.length)
        record: dict[str, Any] = pickle.loads(packed)  # noqa: S301 - written by this process
        return record

    def __deepcopy__(self, memo: dict[int, Any]) -> _MemoryRecord:
        # A backup (or plain moto's transaction) copies the table: the copy keeps its
        # records in memory, independent of this spool's files.
        return _MemoryRecord(self.to_json())


class _MemoryRecord:
    """A stream record held in memory (in a copy of a table)."""

    __slots__ = ("record",)

    def __init__(self, record: dict[str, Any]) -> None:
        self.record = record

    def to_json(self) -> dict[str, Any]:
        """moto's record dict."""
        return self.record


class Spool:
    """A shard's records on disk, in segments; a segment is closed (its file deleted) once
    no kept record is in it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._segments: list[_Segment] = []  # the first is made with the first record

    def __deepcopy__(self, memo: dict[int, Any]) -> Spool:
        # The copy of a table gets a spool of its own (its records are copied to memory).
        return Spool()

    def add(self, record: StreamRecord) -> PackedRecord:
        """Write ``record`` at the end; returns its handle."""
        packed = pickle.dumps(record.to_json(), protocol=pickle.HIGHEST_PROTOCOL)
        with self._lock:
            segment = self._segments[-1] if self._segments else None
            if segment is None or segment.size + len(packed) > SPOOL_SEGMENT_BYTES:
                if segment is not None:
                    segment.flush()
                segment = _Segment(self._lock)
                self._segments.append(segment)
            offset = segment.append(packed)
        return PackedRecord(segment, offset, len(packed))

    def release_before(self, oldest_kept: object | None) -> None:
        """Close the segments older than the oldest kept record's (all but the newest if
        none is kept; none if that record is not in this spool)."""
        with self._lock:
            keep_from = len(self._segments) - 1
            if oldest_kept is not None:
                kept_segment = getattr(oldest_kept, "segment", None)
                positions = [i for i, s in enumerate(self._segments) if s is kept_segment]
                if not positions:
                    return
                keep_from = min(keep_from, positions[0])
            for segment in self._segments[:keep_from]:
                segment.file.close()
            del self._segments[:keep_from]

    @property
    def segments(self) -> int:
        """How many files are open."""
        return len(self._segments)


def spool_of(shard: StreamShard) -> Spool:
    """The shard's spool (made on its first record)."""
    spool: Spool | None = shard.__dict__.get("_spool")
    if spool is None:
        spool = shard.__dict__.setdefault("_spool", Spool())
    return spool


# Guards every shard's records: requests change them under the server's lock, but a
# poller trims from its own thread (trim_stream).
_RECORDS_LOCK = threading.RLock()


def _dropped(shard: StreamShard) -> int:
    return int(shard.__dict__.get("_dropped_records", 0))


def _drop_oldest(shard: StreamShard, count: int) -> int:
    with _RECORDS_LOCK:
        count = max(0, min(count, len(shard.items)))
        if count:
            del shard.items[:count]
            shard.__dict__["_dropped_records"] = _dropped(shard) + count
            if "_spool" in shard.__dict__:
                items = shard.items
                spool_of(shard).release_before(items[0] if items else None)
        return count


def next_sequence_number(shard: StreamShard) -> int:
    """The sequence number the shard's next record will get."""
    return int(shard.starting_sequence_number) + _dropped(shard) + len(shard.items)


def stream_position(table: Table) -> int:
    """Where the table's stream ends now (0 without a stream)."""
    shard = table.stream_shard
    return next_sequence_number(shard) if shard is not None else 0


def truncate_stream(table: Table, position: int) -> None:
    """Remove the records from ``position`` on (those of a rolled-back transaction)."""
    shard = table.stream_shard
    if shard is None:
        return
    with _RECORDS_LOCK:
        keep = position - int(shard.starting_sequence_number) - _dropped(shard)
        del shard.items[max(0, keep) :]


def _add(self: StreamShard, old: Any, new: Any) -> None:
    if not is_active():
        _original_add(self, old, new)
        return
    # moto's StreamShard.add, numbering from the records ever written, not those kept.
    view_type = self.table.stream_specification["StreamViewType"]  # type: ignore[index]
    if old is None:
        event_name = "INSERT"
    elif new is None:
        event_name = "REMOVE"
    else:
        event_name = "MODIFY"
    with _RECORDS_LOCK:
        seq = next_sequence_number(self)
        record = StreamRecord(self.table, view_type, event_name, old, new, seq)
        self.items.append(spool_of(self).add(record))  # type: ignore[arg-type]
    result = None
    from moto.awslambda.utils import get_backend

    for arn, esm in self.table.lambda_event_source_mappings.items():
        region = arn.split(":")[3]
        result = get_backend(self.account_id, region).send_dynamodb_items(
            arn, self.items, esm.event_source_arn
        )
    if result:
        _drop_oldest(self, len(self.items))
    if len(self.items) > max_records:
        dropped = _drop_oldest(self, len(self.items) - max_records)
        lost = int(self.__dict__.get("_capped_records", 0)) + dropped
        self.__dict__["_capped_records"] = lost
        if report_drops and (lost == dropped or lost % 1_000 < dropped):
            print(
                f"moto stream of {self.table.name}: {lost:,} records dropped unread at the "
                f"cap of {max_records:,} (LOCAL_DYNAMODB_STREAM_MAX_RECORDS)",
                flush=True,
            )


def _get(self: StreamShard, start: int, quantity: int) -> list[dict[str, Any]]:
    if not is_active():
        return _original_get(self, start, quantity)  # type: ignore[no-any-return]
    with _RECORDS_LOCK:
        first = max(0, int(start) - int(self.starting_sequence_number) - _dropped(self))
        return [record.to_json() for record in self.items[first : first + quantity]]


def _iterator_init(
    self: ShardIterator,
    streams_backend: DynamoDBStreamsBackend,
    stream_shard: StreamShard,
    shard_iterator_type: str,
    sequence_number: int | None = None,
) -> None:
    _original_iterator_init(
        self, streams_backend, stream_shard, shard_iterator_type, sequence_number
    )
    if is_active() and shard_iterator_type == "LATEST":
        self.sequence_number = next_sequence_number(stream_shard)


def _forget_old_iterators(backend: DynamoDBStreamsBackend) -> None:
    iterators = backend.shard_iterators
    while len(iterators) > MAX_SHARD_ITERATORS:
        del iterators[next(iter(iterators))]


def _get_shard_iterator(self: DynamoDBStreamsBackend, *args: Any, **kwargs: Any) -> Any:
    result = _original_get_shard_iterator(self, *args, **kwargs)
    if is_active():
        _forget_old_iterators(self)
    return result


def _get_records(self: DynamoDBStreamsBackend, iterator_arn: str, limit: int) -> Any:
    result = _original_get_records(self, iterator_arn, limit)
    if is_active():
        _forget_old_iterators(self)
    return result


def trim_stream(
    table_name: str,
    through_sequence_number: str | int,
    account_id: str = DEFAULT_ACCOUNT_ID,
    region: str = "us-east-1",
) -> int:
    """Drop a table's stream records up to and including ``through_sequence_number``
    (a record's ``dynamodb.SequenceNumber``), once a poller has processed them.

    Call it in the process that runs the moto server. Returns how many were dropped.
    """
    table = dynamodb_backends[account_id][region].get_table(table_name)
    shard = table.stream_shard
    if shard is None:
        return 0
    with _RECORDS_LOCK:
        first_kept = int(shard.starting_sequence_number) + _dropped(shard)
        return _drop_oldest(shard, int(through_sequence_number) - first_kept + 1)


def for_a_consumer() -> None:
    """A poller consumes (and trims) the streams: keep more unread records, and report
    any dropped unread (``LOCAL_DYNAMODB_STREAM_MAX_RECORDS`` still decides the cap)."""
    global max_records, report_drops  # noqa: PLW0603 - the module's settings
    max_records = int(os.environ.get(_CAP_VARIABLE, str(CONSUMED_MAX_RECORDS)))
    report_drops = True


def install() -> None:
    """Bound the records and iterators kept; number records across drops."""
    StreamShard.add = _add  # type: ignore[method-assign]
    StreamShard.get = _get  # type: ignore[method-assign]
    ShardIterator.__init__ = _iterator_init  # type: ignore[method-assign]
    DynamoDBStreamsBackend.get_shard_iterator = _get_shard_iterator  # type: ignore[method-assign]
    DynamoDBStreamsBackend.get_records = _get_records  # type: ignore[method-assign]
