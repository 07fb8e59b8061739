"""The table's DynamoDB stream consumer: one Lambda, a small handler per concern.

Every record goes through :func:`handle_record`, which passes ticket and message
changes to the search indexer, the mailer and (for a deleted ticket) the clean-up.
Powertools batch processing runs the records and reports the ones that failed
(``batchItemFailures``), so Lambda retries from the first failure onward; every
handler is idempotent, so re-running records that had succeeded changes nothing.
Locally, local_stack/stream_poller.py reads moto's stream and calls the same
function with events shaped like Lambda's.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from chalicelib.dependencies import get_indexer, get_notifier, get_repository
from chalicelib.events.changes import TableChange
from chalicelib.observability import logger


def handle_record(record: DynamoDBRecord) -> None:
    """Index, mail and clean up after one change (raises to have it retried)."""
    change = TableChange.from_record(record.raw_event)
    if change.kind == "other":
        return
    if change.kind == "ticket" and change.event == "REMOVE":
        get_indexer().remove(change.ticket_id)
        get_repository().purge_conversation(change.ticket_id)
        return
    get_indexer().reindex(change.ticket_id)
    get_notifier().handle(change)


def handle_stream_batch(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Process a batch of stream records; the failed ones are reported for retry."""
    processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
    result: dict[str, Any] = dict(
        process_partial_response(
            event=event, record_handler=handle_record, processor=processor, context=context
        )
    )
    failures = result.get("batchItemFailures") or []
    if failures:
        logger.warning("stream records failed", extra={"failed": len(failures)})
    return result
