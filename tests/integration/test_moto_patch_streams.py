"""DynamoDB Streams on the patched moto: one record per written item, nothing from a
rolled-back transaction, and memory a poller can keep bounded."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from local_stack.moto_patch import streams
from local_stack.moto_server import MotoServer


@pytest.fixture
def stream_table(moto_server: MotoServer) -> Iterator[tuple[Any, Any, str]]:
    kwargs = {"endpoint_url": moto_server.url, "region_name": "us-east-1"}
    client, streams_client = (
        boto3.client("dynamodb", **kwargs),
        boto3.client("dynamodbstreams", **kwargs),
    )
    name = f"streams-{uuid.uuid4().hex[:8]}"
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    yield client, streams_client, name
    client.delete_table(TableName=name)


def _records(client: Any, streams_client: Any, name: str, kind: str = "TRIM_HORIZON") -> Any:
    arn = client.describe_table(TableName=name)["Table"]["LatestStreamArn"]
    shard = streams_client.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
    iterator = streams_client.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType=kind
    )["ShardIterator"]
    return streams_client, iterator


def _put_items(client: Any, name: str, count: int) -> None:
    """Items ``item0`` to ``item<count - 1>``, one put each (one stream record each)."""
    for n in range(count):
        client.put_item(TableName=name, Item={"pk": {"S": f"item{n}"}})


def _pks(records: list[dict[str, Any]]) -> list[str]:
    return [r["dynamodb"]["Keys"]["pk"]["S"] for r in records]


def _read(streams_client: Any, iterator: str) -> tuple[list[dict[str, Any]], str]:
    answer = streams_client.get_records(ShardIterator=iterator, Limit=1000)
    return answer["Records"], answer["NextShardIterator"]


def test_one_record_per_write_and_none_for_a_rolled_back_transaction(
    stream_table: tuple[Any, Any, str],
) -> None:
    client, streams_client, name = stream_table
    # Given an upsert through UpdateItem, a transaction of two items, and one that fails
    client.update_item(
        TableName=name,
        Key={"pk": {"S": "counter"}},
        UpdateExpression="ADD n :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
    )
    client.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": name, "Item": {"pk": {"S": "a"}}}},
            {"Put": {"TableName": name, "Item": {"pk": {"S": "b"}}}},
        ]
    )
    with pytest.raises(ClientError, match="TransactionCanceled"):
        client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": name, "Item": {"pk": {"S": "c"}}}},
                {
                    "Put": {
                        "TableName": name,
                        "Item": {"pk": {"S": "a"}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )
    # Then the stream holds one INSERT per item written, nothing of the failed transaction
    reader, iterator = _records(client, streams_client, name)
    records, _ = _read(reader, iterator)
    assert [(r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"]) for r in records] == [
        ("INSERT", "counter"),
        ("INSERT", "a"),
        ("INSERT", "b"),
    ]
    assert records[0]["dynamodb"]["NewImage"] == {"pk": {"S": "counter"}, "n": {"N": "1"}}
    assert "c" not in {item["pk"]["S"] for item in client.scan(TableName=name)["Items"]}


def test_a_poller_trims_what_it_consumed_and_keeps_reading(
    stream_table: tuple[Any, Any, str],
) -> None:
    client, streams_client, name = stream_table
    _put_items(client, name, 5)
    reader, iterator = _records(client, streams_client, name)
    first, following = _read(reader, iterator)
    assert len(first) == 5

    # When the poller drops what it processed
    dropped = streams.trim_stream(name, first[-1]["dynamodb"]["SequenceNumber"])

    # Then the shard holds nothing, its iterator still reads what comes next, numbered on
    assert dropped == 5
    client.put_item(TableName=name, Item={"pk": {"S": "later"}})
    later, _ = _read(reader, following)
    assert _pks(later) == ["later"]
    assert (
        int(later[0]["dynamodb"]["SequenceNumber"])
        == int(first[-1]["dynamodb"]["SequenceNumber"]) + 1
    )
    again, _ = _read(*_records(client, streams_client, name))
    assert _pks(again) == ["later"]
    latest, _ = _read(*_records(client, streams_client, name, "LATEST"))
    assert latest == []


def test_a_stream_keeps_at_most_the_configured_records(
    stream_table: tuple[Any, Any, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    client, streams_client, name = stream_table
    monkeypatch.setattr(streams, "max_records", 3)
    monkeypatch.setattr(streams, "report_drops", True)  # as the local stack has it
    _put_items(client, name, 7)
    records, _ = _read(*_records(client, streams_client, name))
    assert _pks(records) == ["item4", "item5", "item6"]
    # And the server says that records were dropped unread
    assert f"moto stream of {name}: 1 records dropped unread at the cap of 3" in (
        capsys.readouterr().out
    )


def test_a_poller_behind_by_a_full_batch_says_so_and_reads_on(
    stream_table: tuple[Any, Any, str], moto_server: MotoServer
) -> None:
    # Given 7 writes and a poller that reads 3 records a batch
    from local_stack.stream_poller import StreamPoller

    client, _, name = stream_table
    _put_items(client, name, 7)
    poller = StreamPoller(
        name,
        "us-east-1",
        lambda _event, _context: {},
        moto_server.url,
        batch_size=3,
        consumed=streams.trim_stream,
    )

    # When it polls: a full batch means more may be waiting (its loop reads on at once)
    reads = []
    while True:
        poller.poll_once()
        reads.append(poller.behind)
        if not poller.behind:
            break

    # Then it was behind for two full batches, and the third (one record) caught up
    assert reads == [True, True, False]
    # And every record it read was trimmed from the stream
    table = streams.dynamodb_backends[streams.DEFAULT_ACCOUNT_ID]["us-east-1"].get_table(name)
    assert table.stream_shard is not None
    assert len(table.stream_shard.items) == 0


def test_shard_iterators_are_not_kept_for_ever(stream_table: tuple[Any, Any, str]) -> None:
    from moto.dynamodbstreams.models import dynamodbstreams_backends

    client, streams_client, name = stream_table
    reader, iterator = _records(client, streams_client, name)
    for _ in range(streams.MAX_SHARD_ITERATORS + 50):
        _, iterator = _read(reader, iterator)
    backend = dynamodbstreams_backends["123456789012"]["us-east-1"]
    assert len(backend.shard_iterators) <= streams.MAX_SHARD_ITERATORS


def _put_bodies(client: Any, name: str, count: int, body: dict[str, str]) -> Any:
    """Put ``count`` items (``item0``, ...) holding ``body``; the table's stream shard."""
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    for n in range(count):
        client.put_item(TableName=name, Item={"pk": {"S": f"item{n}"}, "body": body})
    shard = dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].get_table(name).stream_shard
    assert shard is not None
    return shard


def test_records_read_back_whether_written_to_the_file_or_still_waiting(
    stream_table: tuple[Any, Any, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given one segment whose records are written to its file two or three at a time
    client, streams_client, name = stream_table
    monkeypatch.setattr(streams, "SPOOL_BUFFER_BYTES", 1_800)
    body = {"S": "y" * 300}
    shard = _put_bodies(client, name, 8, body)
    (segment,) = {record.segment for record in shard.items}  # type: ignore[attr-defined]
    # (some records are in the file and some wait)
    assert 0 < segment.flushed < segment.size and segment.pending
    # When the stream is read, then every record reads back whole, in order
    records, _ = _read(*_records(client, streams_client, name))
    assert _pks(records) == [f"item{n}" for n in range(8)]
    assert all(r["dynamodb"]["NewImage"]["body"] == body for r in records)


def test_records_are_kept_on_disk_and_their_files_closed_once_trimmed(
    stream_table: tuple[Any, Any, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given segments of about three records each
    client, streams_client, name = stream_table
    monkeypatch.setattr(streams, "SPOOL_SEGMENT_BYTES", 1_200)
    # (written to their file when the segment is full, the buffer being larger)
    monkeypatch.setattr(streams, "SPOOL_BUFFER_BYTES", 10_000)
    body = {"S": "x" * 300}
    shard = _put_bodies(client, name, 9, body)
    spool = streams.spool_of(shard)

    # Then memory holds where each record is, the files the records themselves
    assert all(type(record) is streams.PackedRecord for record in shard.items)
    assert spool.segments >= 3
    files = {id(record.segment) for record in shard.items}  # type: ignore[attr-defined]
    assert len(files) == spool.segments
    # And every full segment's records are in its file; the newest's wait in memory
    segments = list(dict.fromkeys(record.segment for record in shard.items))  # type: ignore[attr-defined]
    for segment in segments:
        on_disk = os.fstat(segment.file.fileno()).st_size
        assert on_disk == segment.flushed and segment.flushed + len(segment.pending) == segment.size
    assert all(not segment.pending for segment in segments[:-1])
    assert segments[-1].flushed == 0 and len(segments[-1].pending) == segments[-1].size
    # And they read back whole, in order
    reader, iterator = _records(client, streams_client, name)
    records, _ = _read(reader, iterator)
    assert _pks(records) == [f"item{n}" for n in range(9)]
    assert all(r["dynamodb"]["NewImage"]["body"] == body for r in records)

    # When the consumer trims all but the last record
    streams.trim_stream(name, records[-2]["dynamodb"]["SequenceNumber"])

    # Then only the newest file stays open, and the last record still reads
    assert spool.segments == 1
    again, _ = _read(*_records(client, streams_client, name))
    assert _pks(again) == ["item8"]


def test_a_table_whose_records_are_on_disk_can_be_backed_up(
    stream_table: tuple[Any, Any, str],
) -> None:
    # Given records on disk
    client, streams_client, name = stream_table
    _put_items(client, name, 3)

    # When the table is backed up (moto deep-copies it, stream records included)
    backup = client.create_backup(TableName=name, BackupName=f"{name}-backup")

    # Then the backup is made, and the table's stream still reads every record
    assert backup["BackupDetails"]["BackupStatus"] in {"AVAILABLE", "CREATING"}
    records, _ = _read(*_records(client, streams_client, name))
    assert _pks(records) == ["item0", "item1", "item2"]
    client.delete_backup(BackupArn=backup["BackupDetails"]["BackupArn"])
