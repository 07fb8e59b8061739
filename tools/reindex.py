"""``make reindex``: build or repair the search index for the tickets a table already holds.

Idempotent: a ticket whose index is up to date (its manifest names its current
version) is skipped, so running it twice writes nothing the second time; ``--force``
recomputes every ticket. Resumable: progress is saved in the table after every page
(``REINDEX / STATE``), and a run that was interrupted continues from there; ``--restart``
starts from the oldest ticket again. It reads tickets oldest first through the
``by_created`` index, 100 at a time.

    make reindex                      # the local stack started by `make run`
    make reindex STAGE=dev            # the deployed dev table (AWS credentials, AWS_REGION)
    python -m tools.reindex --table NAME [--region R] [--endpoint-url URL] [--force] [--restart]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist
from pynamodb.models import Model

PAGE = 100
STATE_FILE = Path(".local-stack.json")


class ReindexState(Model):
    """Where an interrupted re-index continues (``pk = REINDEX``, ``sk = STATE``)."""

    class Meta:
        table_name = "support-tickets-local"
        region = "us-east-1"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    after = UnicodeAttribute(null=True)
    done = NumberAttribute(default=0)


@dataclass
class Summary:
    """What a run did."""

    tickets: int = 0
    skipped: int = 0
    terms_written: int = 0
    terms_deleted: int = 0
    most_terms: int = 0
    total_terms: int = 0
    truncated: int = 0


def reindex(
    table: str,
    region: str,
    force: bool = False,
    restart: bool = False,
    progress: Callable[[str], None] = print,
) -> Summary:
    """Index every ticket of ``table``; returns what was done."""
    from chalicelib.data.items import created_sort_key, to_ticket
    from chalicelib.data.models import TicketModel, bind_models
    from chalicelib.data.repository import DynamoTicketRepository
    from chalicelib.search.indexer import SearchIndexer

    bind_models(table, region)
    ReindexState.Meta.table_name = table
    ReindexState.Meta.region = region
    ReindexState._connection = None
    repository = DynamoTicketRepository(counter_shards=1)
    indexer = SearchIndexer(repository)
    try:
        state = ReindexState.get("REINDEX", "STATE")
    except DoesNotExist:
        state = ReindexState("REINDEX", "STATE", after=None, done=0)
    if restart or state.after is None:
        state.after, state.done = None, 0
    total = repository.stats(_utc_now()).totals.get("total", 0)
    summary = Summary()
    started = time.monotonic()
    if state.after:
        progress(f"Resuming after {int(state.done):,} tickets (use --restart to start over)")
    condition = TicketModel.created_sk > state.after if state.after else None
    last_key = None
    while True:
        result = TicketModel.by_created.query(
            "ALL",
            range_key_condition=condition,
            scan_index_forward=True,
            limit=PAGE,
            page_size=PAGE,
            last_evaluated_key=last_key,
        )
        tickets = [to_ticket(item) for item in result]
        if not tickets:
            break
        for outcome in indexer.reindex_page(tickets, force=force):
            summary.tickets += 1
            summary.skipped += int(outcome.skipped)
            summary.terms_written += outcome.written
            summary.terms_deleted += outcome.deleted
            summary.total_terms += outcome.terms
            summary.most_terms = max(summary.most_terms, outcome.terms)
            summary.truncated += int(outcome.truncated)
        last = tickets[-1]
        state.after = created_sort_key(last.created_at, last.id)
        state.done = int(state.done) + len(tickets)
        state.save()
        rate = summary.tickets / max(time.monotonic() - started, 1e-6)
        share = f" ({int(state.done) / total:.0%})" if total else ""
        progress(f"{int(state.done):,} / {total:,} tickets{share} · {rate:,.0f}/s")
        last_key = result.last_evaluated_key
        if last_key is None:
            break
    state.after, state.done = None, 0
    state.save()
    return summary


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _local_endpoint() -> str | None:
    if STATE_FILE.exists():
        return str(json.loads(STATE_FILE.read_text())["moto_url"])
    return None


def main(argv: list[str] | None = None) -> int:
    """Command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stage", choices=["local", "dev", "prod"], default="local")
    parser.add_argument("--table", help="table name (default: support-tickets-<stage>)")
    parser.add_argument(
        "--region", default=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    )
    parser.add_argument("--endpoint-url", help="a DynamoDB endpoint (moto); local: from make run")
    parser.add_argument("--force", action="store_true", help="recompute tickets already indexed")
    parser.add_argument("--restart", action="store_true", help="ignore saved progress")
    args = parser.parse_args(argv)
    table = args.table or f"support-tickets-{args.stage}"
    region = args.region or "us-east-1"
    if args.stage == "local":
        endpoint = args.endpoint_url or _local_endpoint()
        if not endpoint:
            print("No local stack found: start it with `make run` (or pass --endpoint-url)")
            return 2
        os.environ.update(
            {
                "AWS_ENDPOINT_URL": endpoint,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
            }
        )
    elif args.endpoint_url:
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = args.endpoint_url
    print(f"Re-indexing {table} in {region}")
    summary = reindex(table, region, force=args.force, restart=args.restart)
    indexed = summary.tickets - summary.skipped
    mean = summary.total_terms / max(summary.tickets, 1)
    print(
        f"Done: {summary.tickets:,} tickets, {indexed:,} (re)indexed, "
        f"{summary.skipped:,} up to date; "
        f"{summary.terms_written:,} postings written, {summary.terms_deleted:,} deleted; "
        f"terms per ticket: mean {mean:.1f}, "
        f"max {summary.most_terms}; {summary.truncated} tickets hit the cap"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
