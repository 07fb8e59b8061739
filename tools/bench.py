"""``make bench``: DynamoDB work per request as the table grows, search at 100,000
tickets, the CSV export, costs, the local stack over HTTP, cold import, package size
and the classifier's accuracy. Writes docs/benchmarks.md.

DynamoDB calls and items examined are counted from botocore's after-call events
(ScannedCount for queries, items returned for gets), so they are exact and
independent of machine noise. Times are medians on this shared machine: compare them
only within one run. The soak's report (``make soak``) is kept between its markers.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent
SIZES = (1_000, 20_000)
SEARCH_SIZES = (1_000, 20_000, 100_000)
CATEGORIES = ("billing", "technical", "account", "general")
PRIORITIES = ("low", "medium", "high", "critical")
STATUSES = ("open", "in_progress", "resolved", "closed")
# Seeded text: filler words (Zipf-like), two common words in about 30% of tickets each,
# one rare word in exactly one ticket, one customer with exactly five tickets.
COMMON = ("refund", "invoice")
RARE_WORD = "zyxwvutsr"
BENCH_CUSTOMER = "bench.customer@example.com"
FILLER = [f"w{index:04d}" for index in range(2_000)]
SOAK_START = "<!-- soak:start -->"
SOAK_END = "<!-- soak:end -->"
BENCH_AGENT = "bench@example.com"
OTHER_AGENT = "other@example.com"
AGENT_PASSWORD = "Bench-agent-password-1"  # noqa: S105 - a moto-only credential

# On-demand prices (us-east-1, USD; checked 2026-11): DynamoDB per million write and read
# request units; Lambda per million requests and per GB-second; SES per 1,000 emails.
PRICES = {
    "write_unit": 0.625 / 1e6,
    "read_unit": 0.125 / 1e6,
    "lambda_request": 0.20 / 1e6,
    "lambda_gb_second": 0.0000166667,
    "email": 0.10 / 1000,
    # Claude Haiku 4.5 per token (input, output)
    "claude_input": 1.0 / 1e6,
    "claude_output": 5.0 / 1e6,
}


def _prepare_environment(moto_url: str) -> None:
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": moto_url,
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "CORS_ALLOWED_ORIGINS": "http://127.0.0.1:3000",
            "CURSOR_KEY": "bench-cursor-key-0123456789",
            "LINK_KEY": "bench-link-key-0123456789",
            "SITE_URL": "http://127.0.0.1:3000",
            "MAIL_SENDER": "Support desk <support@example.com>",
            # One JSON log line per request would bury the report.
            "POWERTOOLS_LOG_LEVEL": "WARNING",
        }
    )
    for name in ("ANTHROPIC_API_KEY", "AWS_PROFILE", "AWS_ENDPOINT_URL_DYNAMODB"):
        os.environ.pop(name, None)


def _has_common(word: str, index: int) -> bool:
    """Whether ticket ``index`` holds ``word``: a pattern with a period of 100 tickets, so
    the newest tickets hold the same mix at every table size (the sizes are multiples of
    100) and a difference between sizes can only come from the table's size. ``refund``:
    30% (positions 0-29 of each 100); ``invoice``: 30% (21-50); both: 9% (21-29)."""
    position = index % 100
    return position < 30 if word == COMMON[0] else 21 <= position <= 50


def _status_of(index: int) -> str:
    """Statuses in turn (period 4), so each word's tickets hold every status alike."""
    return STATUSES[index % 4]


def _category_of(index: int) -> str:
    """Categories in blocks of 5 (period 20): billing and open together in 10%."""
    return CATEGORIES[index // 5 % 4]


class Seeder:
    """Writes tickets straight into the table with batch writes (with their number
    pointers and matching counters), as a bulk import would; the search index is then
    built with ``make reindex``'s code, which is itself measured."""

    def __init__(self, agent_ids: list[str], last: int) -> None:
        self.rng = random.Random(20261129)
        self.last = last  # the index of the newest ticket the run will seed
        self.agent_ids = agent_ids
        self.count = 0
        self.now = datetime.now(UTC)

    def _text(self, length: int, index: int | None = None) -> list[str]:
        words = [
            FILLER[min(int(self.rng.paretovariate(1.2)) - 1, len(FILLER) - 1)]
            for _ in range(length)
        ]
        if index is not None:
            words += [word for word in COMMON if _has_common(word, index)]
        return words

    def grow_to(self, size: int) -> float:
        """Add tickets until the table holds ``size``; returns the seconds it took."""
        from pynamodb.expressions.operand import Path as AttributePath

        from chalicelib.data.counters import counter_deltas
        from chalicelib.data.items import number_pk, to_ticket_model
        from chalicelib.data.models import (
            STATS_PK,
            CounterModel,
            NumberModel,
            StatsShardModel,
            TicketModel,
        )
        from chalicelib.domain import Category, Priority, Status, Ticket, WaitingOn
        from chalicelib.tickets import new_ticket_id

        started = time.perf_counter()
        totals: dict[str, int] = {}
        months: dict[str, dict[str, int]] = {}
        with TicketModel.batch_write() as batch:
            while self.count < size:
                index = self.count
                self.count += 1
                # Newest last, 30 s apart, so each size adds newer tickets and the first
                # page of a search meets the same pattern at every size.
                created = self.now - timedelta(seconds=30 * (self.last - index))
                title = self._text(self.rng.randint(3, 5))
                description = self._text(self.rng.randint(5, 9), index)
                email = f"customer{self.rng.randrange(5000)}@example.com"
                if index == 7:
                    description.append(RARE_WORD)
                if index < 5:
                    email = BENCH_CUSTOMER
                status = Status(_status_of(index))
                assignee = self.rng.choice([None, *self.agent_ids])
                ticket = Ticket(
                    id=new_ticket_id(),
                    number=index + 1,
                    title=" ".join(title),
                    description=" ".join(description),
                    category=Category(_category_of(index)),
                    priority=self.rng.choice(list(Priority)),
                    status=status,
                    created_at=created,
                    updated_at=created,
                    version=1,
                    customer_email=email,
                    assignee=assignee,
                    waiting_on=WaitingOn.AGENT
                    if status in (Status.OPEN, Status.IN_PROGRESS)
                    else None,
                )
                batch.save(to_ticket_model(ticket))
                batch.save(NumberModel(number_pk(index + 1), "NUMBER", ticket_id=ticket.id))
                deltas = counter_deltas(None, ticket)
                for name, delta in deltas.totals.items():
                    totals[name] = totals.get(name, 0) + delta
                for month, values in deltas.months.items():
                    target = months.setdefault(month, {})
                    for name, delta in values.items():
                        target[name] = target.get(name, 0) + delta
        StatsShardModel(STATS_PK, "SHARD#00").update(
            actions=[AttributePath(name).add(value) for name, value in sorted(totals.items())]
        )
        for month, values in months.items():
            StatsShardModel(STATS_PK, f"M#{month}#00").update(
                actions=[AttributePath(name).add(value) for name, value in sorted(values.items())]
            )
        CounterModel("SEQUENCE", "TICKET_NUMBER", value=self.count).save()
        return time.perf_counter() - started


class SignedIn:
    """Chalice's test HTTP client (the app in this process), as the bench agent."""

    # ID tokens live an hour, and a run at 100,000 tickets takes longer than that.
    TOKEN_SECONDS = 20 * 60

    def __init__(self, http: Any, sign_in: Callable[[], str]) -> None:
        self._http = http
        self._sign_in = sign_in
        self._token = sign_in()
        self._signed_at = time.monotonic()

    def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> Any:
        if time.monotonic() - self._signed_at > self.TOKEN_SECONDS:
            self._token, self._signed_at = self._sign_in(), time.monotonic()
        all_headers = {"Authorization": f"Bearer {self._token}", **(headers or {})}
        raw = b""
        if body is not None:
            raw = json.dumps(body).encode()
            all_headers.setdefault("Content-Type", "application/json")
        return self._http.request(method, path, headers=all_headers, body=raw)


class Meter:
    """Runs a request under the DynamoDB meter; keeps calls, items and times."""

    def __init__(self, http: SignedIn) -> None:
        from tools.dynamo_meter import DynamoMeter

        self.http = http
        http.request("GET", "/tickets/stats")  # warm connections, the JWKS cache
        self.meter = DynamoMeter().attach()
        self.results: dict[str, dict[str, Any]] = {}

    def measure(
        self, name: str, call: Callable[[], Any], repeat: int = 3, expect: int | None = None
    ) -> Any:
        samples: list[float] = []
        response = None
        for _ in range(repeat):
            self.meter.reset()
            started = time.perf_counter()
            response = call()
            samples.append((time.perf_counter() - started) * 1000)
        assert response is not None
        assert response.status_code < 400 or response.status_code == expect, (name, response.body)
        self.results[name] = {
            "calls": dict(self.meter.calls),
            "total_calls": self.meter.total_calls,
            "items_examined": self.meter.items_examined,
            "items_written": self.meter.items_written,
            "median_ms": statistics.median(samples),
            "count": len(json.loads(response.body))
            if response.body and response.body[:1] == b"["
            else None,
        }
        return response


LIST_VIEWS = [
    ("no filter (newest)", ""),
    ("category", "category=billing"),
    ("status", "status=open"),
    ("3 filters", "category=billing&priority=high&status=open"),
    ("unsolved, by priority (the default view)", "status=unsolved&sort=priority"),
    ("unsolved by priority + category", "status=unsolved&sort=priority&category=billing"),
    ("unsolved by priority, mine", "status=unsolved&sort=priority&assignee=me"),
    ("unsolved by priority, unassigned", "status=unsolved&sort=priority&assignee=none"),
    ("mine, any status", "assignee=me"),
    ("unassigned, any status", "assignee=none"),
    ("mine + status", "assignee=me&status=open"),
    ("mine + category (16 partitions, the worst case)", "assignee=me&category=billing"),
    ("oldest first", "sort=oldest"),
    ("second page (cursor)", None),
]


def search_cases(reference: int) -> list[tuple[str, str]]:
    return [
        ("rare word (1 match)", f"search={RARE_WORD}"),
        ("common word (~30%)", f"search={COMMON[0]}"),
        ("two words (~9%)", f"search={COMMON[0]}%20{COMMON[1]}"),
        ("prefix", f"search={COMMON[0][:4]}"),
        ("reference", f"search=%23{reference}"),
        ("email (5 tickets)", f"search={BENCH_CUSTOMER}"),
        # 30% x 25%: enough matches for a full page at 1,000 tickets too
        ("word + status (~7.5%)", f"search={COMMON[1]}&status=open"),
        # 30% x 10%: fewer matches than a page at 1,000 (reads all of them there)
        ("word + category + status (~3%)", f"search={COMMON[1]}&category=billing&status=open"),
    ]


def measure_endpoints(meter: Meter, ticket_ids: list[str]) -> None:
    """Every kind of request, once the table holds its size."""
    http = meter.http
    created = meter.measure(
        "POST /tickets (category+priority given)",
        lambda: http.request(
            "POST",
            "/tickets",
            {
                "title": "Bench",
                "description": "Invoice charged twice",
                "category": "billing",
                "priority": "high",
                "customer_email": "bench.run@example.com",
            },
        ),
        repeat=1,
    )
    meter.measure(
        "POST /tickets (classified offline)",
        lambda: http.request(
            "POST", "/tickets", {"title": "Bench", "description": "The app crashes"}
        ),
        repeat=1,
    )
    ticket = json.loads(created.body)
    tid = ticket["id"]
    meter.measure("GET /tickets/{id}", lambda: http.request("GET", f"/tickets/{tid}"))
    meter.measure(
        "GET /tickets/by-number/{n}",
        lambda: http.request("GET", f"/tickets/by-number/{ticket['number']}"),
    )
    statuses = iter(["in_progress", "open", "resolved", "in_progress"] * 3)
    meter.measure(
        "PATCH /tickets/{id}",
        lambda: http.request("PATCH", f"/tickets/{tid}", {"status": next(statuses)}),
        repeat=1,
    )
    meter.measure(
        "PATCH /tickets/{id} (assign)",
        lambda: http.request("PATCH", f"/tickets/{tid}", {"assignee": BENCH_AGENT}),
        repeat=1,
    )
    meter.measure(
        "POST /tickets/{id}/messages (reply)",
        lambda: http.request("POST", f"/tickets/{tid}/messages", {"body": "We are on it."}),
        repeat=1,
    )
    meter.measure(
        "POST /tickets/{id}/messages (internal note)",
        lambda: http.request(
            "POST", f"/tickets/{tid}/messages", {"body": "Note", "internal": True}
        ),
        repeat=1,
    )
    meter.measure(
        "GET /tickets/{id}/messages", lambda: http.request("GET", f"/tickets/{tid}/messages")
    )
    meter.measure(
        "GET /public/tickets/{id} (customer's page)",
        lambda: http.request(
            "GET", f"/public/tickets/{tid}", headers={"X-Ticket-Key": ticket["customer_key"]}
        ),
    )
    meter.measure(
        "POST /public/tickets/{id}/messages",
        lambda: http.request(
            "POST",
            f"/public/tickets/{tid}/messages",
            {"body": "Thanks"},
            headers={"X-Ticket-Key": ticket["customer_key"]},
        ),
        repeat=1,
    )
    meter.measure(
        "GET /tickets/{id}/history", lambda: http.request("GET", f"/tickets/{tid}/history")
    )
    meter.measure("GET /tickets/stats", lambda: http.request("GET", "/tickets/stats"))
    meter.measure(
        "POST /tickets/classify (offline)",
        lambda: http.request(
            "POST", "/tickets/classify", {"description": "Password reset link expired"}
        ),
    )
    items = [{"id": i, "version": 1, "changes": {"priority": "high"}} for i in ticket_ids[:10]]
    meter.measure(
        "POST /tickets/bulk (10 tickets)",
        lambda: http.request("POST", "/tickets/bulk", {"items": items}),
        repeat=1,
    )
    meter.measure(
        "DELETE /tickets/{id}", lambda: http.request("DELETE", f"/tickets/{tid}"), repeat=1
    )


def measure_lists(meter: Meter) -> None:
    http = meter.http
    for name, query in LIST_VIEWS:
        if query is None:
            first = http.request("GET", "/tickets?limit=50")
            link = first.headers.get("Link") or first.headers.get("link") or ""
            next_path = link[link.index("</api") + 5 : link.index(">")]
            meter.measure(f"list: {name}", _getter(http, next_path))
        else:
            meter.measure(f"list: {name}", _getter(http, f"/tickets?{query}&limit=50"))


def measure_searches(meter: Meter, reference: int) -> None:
    http = meter.http
    for name, query in search_cases(reference):
        meter.measure(f"search: {name}", _getter(http, f"/tickets?{query}&limit=50"))


def _getter(http: SignedIn, path: str) -> Callable[[], Any]:
    return lambda: http.request("GET", path)


def measure_export(http: SignedIn) -> dict[str, Any]:
    """The console's CSV export of every ticket, done the way the page does it: pages of
    100 following Link, each page turned into RFC 4180 rows appended to the file."""
    fields = ["id", "number", "title", "description", "category", "priority", "status",
              "created_at", "updated_at", "customer_name", "customer_email", "assignee",
              "suggested_category", "suggested_priority", "classification_source",
              "suggested_confidence", "waiting_on", "last_message_at", "message_count",
              "version"]  # fmt: skip

    def cell(value: Any) -> str:
        text = "" if value is None else str(value)
        return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text

    tracemalloc.start()
    started = time.perf_counter()
    requests = rows = 0
    path: str | None = "/tickets?limit=100&sort=oldest"
    with tempfile.TemporaryFile("w+", encoding="utf-8-sig", newline="") as output:
        writer = csv.writer(output, lineterminator="\r\n")
        writer.writerow(fields)
        while path:
            response = http.request("GET", path)
            requests += 1
            for ticket in json.loads(response.body):
                writer.writerow([cell(ticket.get(name)) for name in fields])
                rows += 1
            link = response.headers.get("Link") or response.headers.get("link")
            path = link[link.index("</api") + 5 : link.index(">")] if link else None
        size = output.tell()
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "rows": rows,
        "requests": requests,
        "seconds": elapsed,
        "peak_mb": peak / 1e6,
        "mb": size / 1e6,
    }


def _agents(moto_url: str) -> tuple[Callable[[], str], list[str]]:
    """A moto Cognito pool with two agents, configured for the app: a way to sign the
    bench agent in (a fresh ID token) and both agents' subs."""
    import boto3

    from local_stack.cognito import add_agent, create_agent_pool, sign_in

    pool = create_agent_pool(moto_url, "us-east-1")
    for email in (BENCH_AGENT, OTHER_AGENT):
        add_agent(pool, email, AGENT_PASSWORD)
    os.environ.update(
        {
            "COGNITO_USER_POOL_ID": pool.pool_id,
            "COGNITO_APP_CLIENT_ID": pool.client_id,
            "COGNITO_JWKS_URL": pool.jwks_url,
        }
    )
    client = boto3.client("cognito-idp", endpoint_url=moto_url, region_name="us-east-1")
    subs = []
    for email in (BENCH_AGENT, OTHER_AGENT):
        user = client.admin_get_user(UserPoolId=pool.pool_id, Username=email)
        subs.append(next(a["Value"] for a in user["UserAttributes"] if a["Name"] == "sub"))

    def token() -> str:
        return str(sign_in(pool.endpoint, pool.client_id, BENCH_AGENT, AGENT_PASSWORD)["IdToken"])

    return token, subs


def _cold_import(runs: int = 9) -> dict[str, Any]:
    code = (
        "import time, sys; t = time.perf_counter(); import app; "
        "print(time.perf_counter() - t, 'anthropic' in sys.modules)"
    )
    samples: list[float] = []
    anthropic_loaded = False
    for _ in range(runs):
        output = subprocess.run(
            [sys.executable, "-c", code],
            cwd=PROJECT_DIR,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        samples.append(float(output[0]) * 1000)
        anthropic_loaded |= output[1] == "True"
    return {
        "median_ms": statistics.median(samples),
        "min_ms": min(samples),
        "max_ms": max(samples),
        "anthropic_imported": anthropic_loaded,
    }


def _package_size() -> str:
    from tools import deploy

    report = getattr(deploy, "package_size_report", None)
    return str(report()) if report else "not measured (tools.deploy.package_size_report missing)"


def _ticket_item_units() -> float:
    """Write units of one ticket item as the bench creates it (its JSON size, rounded up
    to whole kilobytes, as DynamoDB bills)."""
    from chalicelib.data.items import to_ticket_model
    from chalicelib.domain import Category, Priority, Status, Ticket

    now = datetime.now(UTC)
    ticket = Ticket(
        "a" * 24, "A ticket title of a few words", "A description " * 20, Category.BILLING,
        Priority.HIGH, Status.OPEN, now, now, 1, number=1042, customer_email="ana@example.com",
        access_nonce="0" * 32, access_key_hash="0" * 64,
    )  # fmt: skip
    size = len(json.dumps(to_ticket_model(ticket).serialize()))
    return float(-(-size // 1024))


def costs(index_terms_mean: float) -> dict[str, float]:
    """Dollars per 1,000 tickets at on-demand prices (see PRICES), for a ticket that is
    created, changed twice, answered twice and resolved, with a customer email."""
    item_units = _ticket_item_units()
    per_write_of_ticket = item_units * (1 + 11)  # the item and its 11 list index entries
    writes = (
        # create: sequence, ticket+indexes, history, counters (2), number, idempotency (2)
        1
        + per_write_of_ticket
        + 1
        + 2
        + 1
        + 2
        # 2 changes and 2 replies and the resolution: each ticket+indexes, history, counters
        + 5 * (per_write_of_ticket + 1 + 2)
        # 2 messages, their delivery marks, notification items (3 emails: claim + mark)
        + 2
        + 2
        + 3 * 2
        # the search index: postings and the manifest (re-written when text changes)
        + index_terms_mean
        + 3
    )
    reads = 20  # a read before each write, the list pages and the ticket page it appears on
    lambda_invocations = 2 + 6 + 6  # API requests for the writes, stream batches (upper bound)
    emails = 3
    return {
        "DynamoDB writes": writes * PRICES["write_unit"] * 1000,
        "DynamoDB reads": reads * PRICES["read_unit"] * 1000,
        "stream reads (free for Lambda triggers)": 0.0,
        "Lambda requests and 512 MB x 100 ms": lambda_invocations
        * (PRICES["lambda_request"] + 0.5 * 0.1 * PRICES["lambda_gb_second"])
        * 1000,
        "SES emails": emails * PRICES["email"] * 1000,
    }


def claude_worst_case(budget: int = 2000) -> dict[str, float]:
    """The most the default daily budget can cost: every call with the longest prompt."""
    from chalicelib.classification.prompt import SYSTEM_PROMPT

    input_tokens = (len(SYSTEM_PROMPT) + 4_000 + 600) / 3.5  # ~3.5 characters per token
    output_tokens = 60
    per_call = input_tokens * PRICES["claude_input"] + output_tokens * PRICES["claude_output"]
    return {
        "calls": budget,
        "input_tokens": input_tokens,
        "per_call": per_call,
        "per_day": per_call * budget,
    }


def _accuracy_lines() -> list[str]:
    from tools.bench_accuracy import accuracy, render_accuracy

    return render_accuracy(accuracy())


FEWER_THAN_A_PAGE_AT_FIRST_SIZE = {"search: word + category + status (~3%)"}


def _table(
    title: str, results_by_size: dict[int, dict[str, dict[str, Any]]], names: list[str]
) -> list[str]:
    sizes = sorted(results_by_size)
    head = " | ".join(f"calls @{s:,} | items @{s:,}" for s in sizes)
    lines = [
        title,
        "",
        f"| request | {head} | flat? |",
        "|---|" + "---|" * (2 * len(sizes)) + "---|",
    ]
    for name in names:
        cells = []
        examined = []
        calls = []
        for size in sizes:
            result = results_by_size[size].get(name)
            if result is None:
                cells.append("- | -")
                continue
            calls.append(result["total_calls"])
            examined.append(result["items_examined"])
            text = ", ".join(f"{n} {op}" for op, n in sorted(result["calls"].items())) or "none"
            cells.append(f"{text} | {result['items_examined']}")
        # A query with fewer matches than a page at the smallest size reads them all there
        # (less than a page's worth): it is flat if it stays flat from the next size on.
        skip = 1 if name in FEWER_THAN_A_PAGE_AT_FIRST_SIZE and len(calls) > 2 else 0
        calls, examined = calls[skip:], examined[skip:]
        flat = len(set(calls)) <= 1 and (
            max(examined, default=0) <= min(examined, default=0) * 1.25 + 10
        )
        verdict = (
            "**NO**"
            if not flat
            else f"not from {sizes[0]:,}; yes from {sizes[skip]:,}"
            if skip
            else "yes"
        )
        lines.append(f"| `{name}` | {' | '.join(cells)} | {verdict} |")
    return lines


def render(report: dict[str, Any], soak: str) -> str:
    """The markdown for docs/benchmarks.md."""
    endpoints = report["endpoints"]
    names = list(next(iter(endpoints.values())))
    endpoint_names = [n for n in names if not n.startswith(("list:", "search:"))]
    list_names = [n for n in names if n.startswith("list:")]
    search_sizes = list(report["searches"])
    search_names = list(report["searches"][search_sizes[0]])
    index = report["index"]
    lines = [
        "# Benchmarks",
        "",
        f"Generated by `make bench` on {report['when']} ({report['machine']}).",
        "DynamoDB calls and items examined are counted from botocore's after-call events",
        "(`ScannedCount` for queries, items returned for gets and batch gets) against moto, so",
        "they are exact. Times are medians on a shared, noisy 2-core machine against moto: compare",
        "them only with each other, within this run.",
        "",
        "Tickets are bulk-loaded with batch writes (as an import would) and indexed with",
        "`make reindex`'s",
        "code; the requests go through the app in process (Chalice's test client), as an agent.",
        "",
    ]
    lines += _table(
        f"## DynamoDB work per request at {SIZES[0]:,} and {SIZES[1]:,} tickets",
        {s: endpoints[s] for s in SIZES},
        endpoint_names,
    )
    lines += [
        "",
        "Creating a ticket is one `UpdateItem` (its number) and one `TransactWriteItems` (the",
        "ticket, its number, history and counters); the emails and the search index follow from",
        "the stream, adding nothing to the request. Posting a message is one `GetItem` and one",
        "transaction (message, ticket, history when the status changes, counters); reading a",
        "thread is one `GetItem` (is the ticket still there?) and one `Query` for the page.",
        "",
    ]
    lines += _table(
        f"## Lists (limit 50) at {SIZES[0]:,} and {SIZES[1]:,} tickets",
        {s: endpoints[s] for s in SIZES},
        list_names,
    )
    lines += [
        "",
        "Every view reads about a page: one partition reads `limit + 1`; a merged view reads",
        "a first chunk from each partition it merges (chalicelib/data/lists.py).",
        "",
    ]
    lines += _table(
        "## Search: the first page at " + ", ".join(f"{s:,}" for s in search_sizes) + " tickets",
        report["searches"],
        search_names,
    )
    lines += [
        "",
        "The rare word is in exactly one ticket and the customer has exactly five at every size;",
        f"`{COMMON[0]}` and `{COMMON[1]}` are each in 30% of tickets (9% hold both), and each",
        "status in 25%, in patterns that repeat every 100 tickets, newest last: the newest seeded",
        "tickets are the same mix at every size (the few tickets the endpoint rows create at",
        "1,000 and 20,000 are newer still), so a difference between sizes is the table's doing.",
        "Items are postings read plus tickets read; the driver is the list with the fewest",
        "matches, read in chunks until a page of tickets passes every word and filter, or until",
        "2,000 candidates were examined (then the page is short and the Link header goes on).",
        "That bound never grows with the table. The patterns spread the words evenly; words that",
        "rarely occur together take the path to the 2,000-candidate budget, not measured here.",
        '"flat" allows 25% + 10 items between sizes. `word + category + status` has fewer',
        "matches than a page at 1,000 tickets (30) and reads them all there, so it is not flat",
        "from 1,000; it is from 20,000, where its matches first fill a page.",
        "",
        "## Search index",
        "",
        f"- index items written per ticket (postings of its words and their prefixes): mean "
        f"{index['mean']:.1f}, max {index['max']} (seeded tickets have 8 to 16 words; a 60-word",
        f"  ticket would have roughly 150, an estimate, not measured: the cost below uses the "
        f"seeded mean, so real tickets' index writes cost several times more); cap "
        f"{index['cap']} per ticket",
        f"- building the index for the last {search_sizes[-1] - search_sizes[-2]:,} tickets (to "
        f"{search_sizes[-1]:,}) with `make reindex`: "
        f"{index['seconds']:.0f} s against moto",
        "",
    ]
    export = report["export"]
    lines += [
        f"## CSV export of {export['rows']:,} tickets",
        "",
        f"{export['requests']} requests of 100, {export['seconds']:.1f} s, "
        f"{export['mb']:.1f} MB file;",
        f"peak memory of the export loop {export['peak_mb']:.1f} MB "
        "(one page at a time: it does not",
        "grow with the export). The console does the same in the browser, page by page.",
        "",
        "## Cost per 1,000 tickets (on-demand, us-east-1)",
        "",
        "A ticket that is created with a customer email, changed twice, answered twice and",
        "resolved (3 emails). DynamoDB write units count the item and its 11 list index entries.",
        "",
        "| part | USD per 1,000 tickets |",
        "|---|---|",
    ]
    total = 0.0
    for part, dollars in report["costs"].items():
        lines.append(f"| {part} | {dollars:.4f} |")
        total += dollars
    lines.append(f"| **total** | **{total:.4f}** |")
    claude = report["claude"]
    lines += [
        "",
        "Storage: about 3 KB per ticket in the table plus 12 index copies, about $0.01 a month per",
        "1,000 tickets. Claude adds about $0.002 per classification call (below).",
        "",
        "## Worst-case daily Claude spend",
        "",
        f"At the default budget of {claude['calls']:,} calls a day (`CLAUDE_DAILY_CALL_BUDGET`),",
        f"each with the longest prompt (about {claude['input_tokens']:,.0f} input tokens) "
        "and a short",
        f"answer: ${claude['per_call']:.4f} a call, **${claude['per_day']:.2f} a day** at most,",
        "whatever the number of clients. Identical or near-identical texts are answered from",
        "the cache; when the budget is spent, suggestions come from the offline classifier.",
        "",
    ]
    cold = report["cold_import"]
    lines += [
        "## Cold start: importing `app.py` in a fresh interpreter",
        "",
        f"- median {cold['median_ms']:.0f} ms "
        f"(min {cold['min_ms']:.0f}, max {cold['max_ms']:.0f}) over 9 runs",
        "- `anthropic` imported by `import app`: "
        f"**{'yes' if cold['anthropic_imported'] else 'no'}**",
        "",
        "## Lambda deployment package",
        "",
        report["package"],
        "",
    ]
    lines += report["local_stack"].rstrip().splitlines()
    lines += ["", SOAK_START, soak.strip() or "## Soak\n\nNot run yet: `make soak`.", SOAK_END, ""]
    lines += report["accuracy"]
    return "\n".join(lines) + "\n"


def existing_soak(path: Path) -> str:
    """The soak section already in the file (``make soak --write`` puts it there)."""
    if not path.exists():
        return ""
    text = path.read_text(encoding="utf-8")
    if SOAK_START in text and SOAK_END in text:
        return text[text.index(SOAK_START) + len(SOAK_START) : text.index(SOAK_END)]
    return ""


def main() -> None:  # noqa: PLR0915 - one straight run of every measurement
    """Run every measurement and print (and optionally write) the report."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", type=Path, help="write the markdown report here")
    parser.add_argument("--skip-local-stack", action="store_true", help="skip the HTTP section")
    parser.add_argument(
        "--search-sizes",
        default=",".join(str(size) for size in SEARCH_SIZES),
        help="table sizes for the search rows (default: %(default)s; 100,000 takes an hour)",
    )
    args = parser.parse_args()
    search_sizes = tuple(int(size) for size in args.search_sizes.split(","))
    sys.path.insert(0, str(PROJECT_DIR))
    from local_stack.moto_server import MotoServer

    moto = MotoServer().start()
    _prepare_environment(moto.url)
    token, subs = _agents(moto.url)
    from chalice.test import Client

    from app import app
    from chalicelib.dependencies import reset_dependencies
    from local_stack.schema import ensure_table
    from tools.reindex import reindex

    os.environ["TICKETS_TABLE_NAME"] = table = f"bench-{uuid.uuid4().hex[:8]}"
    reset_dependencies()
    ensure_table(table, "us-east-1")
    seeder = Seeder(subs, max(search_sizes))
    report: dict[str, Any] = {"endpoints": {}, "searches": {}}
    index_results: list[int] = []
    index_seconds = 0.0
    with Client(app, stage_name="bench", project_dir=str(PROJECT_DIR)) as client:
        http = SignedIn(client.http, token)
        for size in search_sizes:
            seconds = seeder.grow_to(size)
            started = time.perf_counter()
            summary = reindex(table, "us-east-1", progress=lambda _line: None)
            index_seconds = time.perf_counter() - started
            index_results.append(summary.most_terms)
            report.setdefault("index_summary", summary)
            print(
                f"{size:,} tickets: seeded in {seconds:.0f} s, indexed in {index_seconds:.0f} s",
                flush=True,
            )
            meter = Meter(http)
            first = http.request("GET", "/tickets?limit=20")
            assert first.status_code == 200, first.body
            ids = [t["id"] for t in json.loads(first.body)]
            if size in SIZES:
                measure_endpoints(meter, ids)
                measure_lists(meter)
                report["endpoints"][size] = dict(meter.results)
                meter.results.clear()
            measure_searches(meter, reference=3)
            report["searches"][size] = dict(meter.results)
            meter.meter.detach()
            if size == SIZES[-1]:
                report["export"] = measure_export(http)
    final = summary
    report["index"] = {
        "mean": final.total_terms / max(final.tickets, 1),
        "max": max(index_results),
        "cap": 400,
        "seconds": index_seconds,
    }
    report["costs"] = costs(report["index"]["mean"])
    report["claude"] = claude_worst_case()
    report["cold_import"] = _cold_import()
    report["package"] = _package_size()
    report["accuracy"] = _accuracy_lines()
    moto.stop()
    if args.skip_local_stack:
        report["local_stack"] = ""
    else:
        from tools.bench_local import local_stack_section

        report["local_stack"] = local_stack_section()
    report["when"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    report["machine"] = (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    text = render(report, existing_soak(args.write) if args.write else "")
    print(text)
    if args.write:
        args.write.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
