"""Deliver the table's DynamoDB stream to the stream Lambda's handler, as Lambda would.

``chalice local`` ignores ``on_dynamodb_record``, and moto records every write in the
stream but delivers nothing. This poller reads moto's DynamoDB Streams API and calls
the very handler the deployed consumer runs (chalicelib.events.stream) with events
shaped like Lambda's. It keeps Lambda's semantics for the records a batch reports
as failed: they are delivered again (from the first failure on, in order) after a
pause, up to ``max_attempts`` times in all, then set aside as dead letters (Lambda's
on-failure destination), and the stream moves on.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import boto3
import botocore.session

from chalicelib.data.wire import use_fast_parser

SHARD_REFRESH_SECONDS = 10.0

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def wanted_by_consumer(record: dict[str, Any]) -> bool:
    """The event source mapping's filter (infra/template.yaml): tickets and messages only.

    Search postings, counters and history live in the same table; the consumer has
    nothing to do for them, so Lambda's event filtering drops them before invoking.
    """
    keys = (record.get("dynamodb") or {}).get("Keys") or {}
    pk = str((keys.get("pk") or {}).get("S", ""))
    sk = str((keys.get("sk") or {}).get("S", ""))
    return pk.startswith("TICKET#") and (sk == "TICKET" or sk.startswith("MSG#"))


@dataclass
class _Shard:
    iterator: str | None
    pending: list[dict[str, Any]] = field(default_factory=list)
    attempts: int = 0
    retry_at: float = 0.0
    last_read: str | None = None  # the sequence number of the last record read


class StreamPoller:
    """Polls one table's stream on a background thread (or on demand with :meth:`drain`)."""

    def __init__(
        self,
        table_name: str,
        region: str,
        handler: Handler,
        endpoint_url: str | None = None,
        interval_seconds: float = 0.2,
        max_attempts: int = 3,
        batch_size: int = 100,
        retry_pause_seconds: float = 0.5,
        consumed: Callable[[str, str], object] | None = None,
    ) -> None:
        self._table = table_name
        self._handler = handler
        self._interval = interval_seconds
        self._max_attempts = max_attempts
        self._batch_size = batch_size
        self._retry_pause = retry_pause_seconds
        # Told (table, sequence number) once every record up to it is handled: the local
        # stack drops them from moto's stream (local_stack.moto_patch.streams.trim_stream).
        self._consumed = consumed
        # Lambda hands the consumer records AWS has parsed already; here each GetRecords
        # answer (some 60 records a ticket create, search postings included, each with its
        # images) is parsed by chalicelib.data.wire, as the app's own clients parse theirs,
        # rather than walked value by value in the process that serves the requests.
        botocore_session = botocore.session.get_session()
        use_fast_parser(botocore_session)
        session = boto3.Session(botocore_session=botocore_session, region_name=region)
        self._dynamodb = session.client("dynamodb", endpoint_url=endpoint_url)
        self._streams = session.client("dynamodbstreams", endpoint_url=endpoint_url)
        self._stream_arn: str | None = None
        self._shards: dict[str, _Shard] = {}
        self._shards_checked_at = 0.0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.dead_letters: list[dict[str, Any]] = []
        self.delivered = 0
        # True when the last poll read a full batch from a shard (more may be waiting).
        self.behind = False

    # ---- lifecycle ------------------------------------------------------------------

    def start(self) -> StreamPoller:
        """Poll in a daemon thread until :meth:`stop`."""
        self._thread = threading.Thread(target=self._run, name="stream-poller", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop polling (waits for the batch in hand)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception as exc:  # noqa: BLE001 - keep polling; moto may be restarting
                print(f"stream poller: {type(exc).__name__}: {exc}", flush=True)
                self.behind = False
            # A full batch means more is waiting: read on at once, as Lambda's poller does.
            # Pausing after every batch capped the poller at 500 records a second, about
            # 8 ticket creates (each writes some 60 records, search postings included):
            # under load it fell behind until the stream's cap dropped unread records.
            if not self.behind:
                self._stop.wait(self._interval)

    # ---- polling --------------------------------------------------------------------

    def poll_once(self) -> int:
        """Read what is new and deliver it (and due retries); returns records delivered."""
        with self._lock:
            self._discover_shards()
            delivered = 0
            self.behind = False
            for shard_id, shard in self._shards.items():
                if not shard.pending and shard.iterator:
                    response = self._streams.get_records(
                        ShardIterator=shard.iterator, Limit=self._batch_size
                    )
                    shard.iterator = response.get("NextShardIterator")
                    raw = response.get("Records", [])
                    self.behind = self.behind or len(raw) >= self._batch_size
                    if raw:
                        shard.last_read = str(raw[-1]["dynamodb"]["SequenceNumber"])
                    shard.pending = [
                        self._lambda_shape(r)
                        for r in response.get("Records", [])
                        if wanted_by_consumer(r)
                    ]
                    shard.attempts = 0
                if shard.pending and time.monotonic() >= shard.retry_at:
                    delivered += self._deliver(shard_id, shard)
                if not shard.pending and shard.last_read and self._consumed is not None:
                    self._consumed(self._table, shard.last_read)
                    shard.last_read = None
            return delivered

    def drain(self, timeout_seconds: float = 10.0) -> None:
        """Deliver everything written so far (tests call this after a request)."""
        deadline = time.monotonic() + timeout_seconds
        while time.monotonic() < deadline:
            self.poll_once()
            with self._lock:
                busy = any(shard.pending for shard in self._shards.values())
            if not busy:
                # One more read: records written while the last batch ran.
                if self.poll_once() == 0 and not any(s.pending for s in self._shards.values()):
                    return
            else:
                time.sleep(0.05)
        raise TimeoutError("the stream still had records to deliver")

    def _discover_shards(self) -> None:
        # Shards change rarely (moto's stream has one for ever): look again every few
        # seconds, not on every poll, as Lambda's poller does.
        now = time.monotonic()
        if self._shards and now - self._shards_checked_at < SHARD_REFRESH_SECONDS:
            return
        self._shards_checked_at = now
        if self._stream_arn is None:
            table = self._dynamodb.describe_table(TableName=self._table)["Table"]
            self._stream_arn = table.get("LatestStreamArn")
            if not self._stream_arn:
                raise RuntimeError(f"table {self._table} has no stream")
        description = self._streams.describe_stream(StreamArn=self._stream_arn)
        for shard in description["StreamDescription"].get("Shards", []):
            shard_id = shard["ShardId"]
            if shard_id not in self._shards:
                iterator = self._streams.get_shard_iterator(
                    StreamArn=self._stream_arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
                self._shards[shard_id] = _Shard(iterator)

    def _lambda_shape(self, record: dict[str, Any]) -> dict[str, Any]:
        shaped = dict(record)
        shaped["eventSourceARN"] = self._stream_arn
        data = dict(shaped.get("dynamodb") or {})
        created = data.get("ApproximateCreationDateTime")
        if isinstance(created, datetime):
            data["ApproximateCreationDateTime"] = created.timestamp()
        shaped["dynamodb"] = data
        return shaped

    def _deliver(self, shard_id: str, shard: _Shard) -> int:
        batch = shard.pending
        try:
            result = self._handler({"Records": batch}, None)
            failed = [f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])]
        except Exception:  # noqa: BLE001 - Powertools raises when every record failed
            failed = [batch[0]["dynamodb"]["SequenceNumber"]]
        if not failed:
            self.delivered += len(batch)
            shard.pending = []
            shard.attempts = 0
            return len(batch)
        first = min(failed, key=int)
        index = next(i for i, r in enumerate(batch) if r["dynamodb"]["SequenceNumber"] == first)
        self.delivered += index
        shard.pending = batch[index:]
        shard.attempts += 1
        if shard.attempts >= self._max_attempts:
            # Lambda's on-failure destination: record it and move past it.
            self.dead_letters.append({"shard": shard_id, "record": shard.pending[0]})
            shard.pending = shard.pending[1:]
            shard.attempts = 0
            shard.retry_at = 0.0
        else:
            shard.retry_at = time.monotonic() + self._retry_pause * shard.attempts
        return index
