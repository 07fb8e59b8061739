"""``make bench``: DynamoDB work per request at two table sizes, cold import time,
package size and the offline classifier's accuracy. Writes docs/benchmarks.md.

DynamoDB calls and items examined are counted from botocore's after-call events
(ScannedCount for queries), so they are exact and independent of machine noise.
Times are medians on this shared machine: compare them only within one run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent
SIZES = (1_000, 20_000)
TOPICS = ("login", "invoice", "crash", "idea")


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
            # One JSON log line per request would bury the report.
            "POWERTOOLS_LOG_LEVEL": "WARNING",
        }
    )
    for name in ("ANTHROPIC_API_KEY", "AWS_PROFILE", "AWS_ENDPOINT_URL_DYNAMODB"):
        os.environ.pop(name, None)


def _seed(count: int) -> list[str]:
    """Write ``count`` tickets with batch writes, and matching counters in one update."""
    from pynamodb.expressions.operand import Path as AttributePath

    from chalicelib.data.counters import counter_deltas
    from chalicelib.data.items import to_ticket_model
    from chalicelib.data.models import STATS_PK, StatsShardModel, TicketModel
    from chalicelib.domain import Category, Priority, Status, Ticket
    from chalicelib.tickets import new_ticket_id

    rng = random.Random(count)
    now = datetime.now(UTC)
    totals: dict[str, int] = {}
    months: dict[str, dict[str, int]] = {}
    ids: list[str] = []
    with TicketModel.batch_write() as batch:
        for index in range(count):
            created = now - timedelta(days=rng.randrange(60), seconds=index)
            ticket = Ticket(
                id=new_ticket_id(),
                title=f"Seeded ticket {index}",
                description=f"Benchmark ticket {index} about {rng.choice(TOPICS)}",
                category=rng.choice(list(Category)),
                priority=rng.choice(list(Priority)),
                status=rng.choice(list(Status)),
                created_at=created,
                updated_at=created,
                version=1,
            )
            ids.append(ticket.id)
            batch.save(to_ticket_model(ticket))
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
    return ids


def _measure_endpoints(ids: list[str], token: str) -> dict[str, dict[str, Any]]:
    from chalice.test import Client

    from app import app
    from tools.dynamo_meter import DynamoMeter

    results: dict[str, dict[str, Any]] = {}
    with Client(app, stage_name="bench", project_dir=str(PROJECT_DIR)) as client:
        http = _SignedIn(client.http, token)
        http.get("/tickets/stats")  # warm connections and the JWKS cache
        meter = DynamoMeter().attach()

        def measure(name: str, call: Callable[[], Any], repeat: int = 3) -> Any:
            samples: list[float] = []
            response = None
            for _ in range(repeat):
                meter.reset()
                started = time.perf_counter()
                response = call()
                samples.append((time.perf_counter() - started) * 1000)
            assert response is not None, name
            assert response.status_code < 400, (name, response.body)
            results[name] = {
                "status": response.status_code,
                "calls": dict(meter.calls),
                "total_calls": meter.total_calls,
                "items_examined": meter.items_examined,
                "items_written": meter.items_written,
                "median_ms": statistics.median(samples),
            }
            return response

        json_headers = {"Content-Type": "application/json"}  # merged with Authorization
        body = json.dumps(
            {
                "title": "Bench",
                "description": "Invoice charged twice",
                "category": "billing",
                "priority": "high",
            }
        ).encode()
        created = measure(
            "POST /tickets (category+priority given)",
            lambda: http.post("/tickets", headers=json_headers, body=body),
            repeat=1,
        )
        unclassified = json.dumps(
            {"title": "Bench", "description": "The app crashes on login"}
        ).encode()
        measure(
            "POST /tickets (classified offline)",
            lambda: http.post("/tickets", headers=json_headers, body=unclassified),
            repeat=1,
        )
        ticket_id = json.loads(created.body)["id"]
        measure("GET /tickets/{id}", lambda: http.get(f"/tickets/{ticket_id}"))
        statuses = iter(["closed", "open", "resolved", "in_progress"] * 3)
        measure(
            "PATCH /tickets/{id}",
            lambda: http.patch(
                f"/tickets/{ticket_id}",
                headers=json_headers,
                body=json.dumps({"status": next(statuses)}).encode(),
            ),
            repeat=1,
        )
        measure("GET /tickets/{id}/history", lambda: http.get(f"/tickets/{ticket_id}/history"))
        measure("GET /tickets (no filter, limit 50)", lambda: http.get("/tickets"))
        measure("GET /tickets?status=open", lambda: http.get("/tickets?status=open"))
        measure(
            "GET /tickets?category&priority",
            lambda: http.get("/tickets?category=billing&priority=high"),
        )
        measure(
            "GET /tickets?category&priority&status",
            lambda: http.get("/tickets?category=billing&priority=high&status=open"),
        )
        first = http.get("/tickets?limit=50")
        link = first.headers.get("Link") or first.headers.get("link") or ""
        next_path = link[link.index("</api") + 5 : link.index(">")]
        measure("GET /tickets (second page via cursor)", lambda: http.get(next_path))
        measure(
            "GET /tickets?search=<rare word> (one request)",
            lambda: http.get("/tickets?search=zzqx"),
        )
        measure("GET /tickets/stats", lambda: http.get("/tickets/stats"))
        measure(
            "POST /tickets/classify (offline)",
            lambda: http.post(
                "/tickets/classify",
                headers=json_headers,
                body=json.dumps({"description": "Password reset link expired"}).encode(),
            ),
        )
        measure("DELETE /tickets/{id}", lambda: http.delete(f"/tickets/{ids[0]}"), repeat=1)
        meter.detach()
    return results


class _SignedIn:
    """Chalice's test HTTP client, sending the agent's token on every request."""

    def __init__(self, http: Any, token: str) -> None:
        self._http = http
        self._auth = {"Authorization": f"Bearer {token}"}

    def _call(self, method: str, path: str, headers: dict[str, str] | None, body: bytes) -> Any:
        return self._http.request(
            method, path, headers={**self._auth, **(headers or {})}, body=body
        )

    def get(self, path: str, headers: dict[str, str] | None = None) -> Any:
        return self._call("GET", path, headers, b"")

    def post(self, path: str, headers: dict[str, str] | None = None, body: bytes = b"") -> Any:
        return self._call("POST", path, headers, body)

    def patch(self, path: str, headers: dict[str, str] | None = None, body: bytes = b"") -> Any:
        return self._call("PATCH", path, headers, body)

    def delete(self, path: str, headers: dict[str, str] | None = None) -> Any:
        return self._call("DELETE", path, headers, b"")


def _agent_token(moto_url: str) -> str:
    """A moto Cognito pool with one agent, configured for the app; the agent's ID token."""
    from local_stack.cognito import add_agent, create_agent_pool, sign_in

    pool = create_agent_pool(moto_url, "us-east-1")
    add_agent(pool, "bench@example.com", "Bench-agent-password-1")
    os.environ.update(
        {
            "COGNITO_USER_POOL_ID": pool.pool_id,
            "COGNITO_APP_CLIENT_ID": pool.client_id,
            "COGNITO_JWKS_URL": pool.jwks_url,
        }
    )
    tokens = sign_in(pool.endpoint, pool.client_id, "bench@example.com", "Bench-agent-password-1")
    return str(tokens["IdToken"])


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
    sdk_code = (
        "import time; t = time.perf_counter(); import anthropic; print(time.perf_counter() - t)"
    )
    sdk = [
        float(
            subprocess.run(
                [sys.executable, "-c", sdk_code], capture_output=True, text=True, check=True
            ).stdout
        )
        * 1000
        for _ in range(5)
    ]
    return {
        "median_ms": statistics.median(samples),
        "min_ms": min(samples),
        "max_ms": max(samples),
        "anthropic_imported": anthropic_loaded,
        "anthropic_import_median_ms": statistics.median(sdk),
    }


def _package_size() -> str:
    try:
        from tools import deploy
    except ImportError:
        return "not measured (tools/deploy.py missing)"
    report = getattr(deploy, "package_size_report", None)
    if report is None:
        return "not measured (tools.deploy.package_size_report missing)"
    return str(report())


def _accuracy() -> dict[str, Any]:
    from chalicelib.classification.offline import MODEL_PATH, classify_offline
    from tools.classifier_accuracy import DEV_SET, HOLDOUT_SET, evaluate, load_labelled

    tickets = load_labelled(DEV_SET) + load_labelled(HOLDOUT_SET)
    classify_offline("warm", "up")  # the first call loads the weights and compiles the cues
    times = []
    for ticket in tickets:
        started = time.perf_counter()
        classify_offline(ticket.title, ticket.description)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {
        "dev": evaluate(DEV_SET),
        "holdout": evaluate(HOLDOUT_SET),
        "cross_validation": json.loads(Path(MODEL_PATH).read_text(encoding="utf-8"))[
            "cross_validation"
        ],
        "model_kb": Path(MODEL_PATH).stat().st_size / 1024,
        "median_ms": statistics.median(times),
        "p95_ms": times[int(0.95 * (len(times) - 1))],
    }


def _render_accuracy(accuracy: dict[str, Any]) -> list[str]:
    from chalicelib.domain import Confidence, Priority
    from tools.classifier_accuracy import TARGETS, missed_targets

    def recalls(report: dict[str, Any]) -> list[str]:
        return [f"{report['priority'][p.value]['recall']:.0%}" for p in Priority]

    dev, holdout, cv = accuracy["dev"], accuracy["holdout"], accuracy["cross_validation"]
    lines = [
        "## Classifier accuracy",
        "",
        "Labelled tickets in `tests/data/`, labelled by the shared definitions and boundary",
        "rules the Claude prompt uses. The offline model is trained on the development set only;",
        "the holdout was written and committed before the model existed, and nothing was tuned",
        "against its errors (see docs/classifier.md).",
        "",
        "### Offline classifier",
        "",
        "| set | tickets | category | priority | both | recall low | medium | high | critical |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| dev (trained on: not a test) | {dev['count']} | {dev['category_accuracy']:.1%} | "
        f"{dev['priority_accuracy']:.1%} | {dev['both_accuracy']:.1%} | "
        + " | ".join(recalls(dev))
        + " |",
        f"| dev, {cv['folds']}-fold cross-validation | {cv['tickets']} | "
        f"{cv['category_accuracy']:.1%} | {cv['priority_accuracy']:.1%} | | "
        + " | ".join(f"{cv['priority_recall'][p.value]:.0%}" for p in Priority)
        + " |",
        f"| **holdout** | {holdout['count']} | {holdout['category_accuracy']:.1%} | "
        f"{holdout['priority_accuracy']:.1%} | {holdout['both_accuracy']:.1%} | "
        + " | ".join(recalls(holdout))
        + " |",
        "",
        'Confidence on the holdout ("low" asks a person to check the suggestion):',
        "",
        "| confidence | tickets | category | priority | both correct |",
        "|---|---|---|---|---|",
    ]
    for level in Confidence:
        share = holdout["confidence"][level.value]
        lines.append(
            f"| {level.value} | {share['count']} ({share['count'] / holdout['count']:.0%}) | "
            f"{share['category_accuracy']:.1%} | {share['priority_accuracy']:.1%} | "
            f"{share['both_accuracy']:.1%} |"
        )
    missed = missed_targets(holdout)
    targets = (
        f"category >= {TARGETS.category:.0%}, priority >= {TARGETS.priority:.0%}, "
        + ", ".join(f"{p.value} recall >= {floor:.0%}" for p, floor in TARGETS.recall)
    )
    lines += [
        "",
        f'"Low" flags {holdout["confidence"]["wrong_flagged_low"]:.0%} of the holdout\'s wrong '
        "suggestions.",
        "",
        f"Targets on the holdout ({targets}): "
        + ("**met**." if not missed else "**missed**: " + "; ".join(missed) + "."),
        "",
        f"Model file {accuracy['model_kb']:.0f} KB; classifying one labelled ticket takes "
        f"{accuracy['median_ms']:.2f} ms (median; p95 {accuracy['p95_ms']:.2f} ms). Per-class",
        "precision and recall and the confusion matrices: `make accuracy`.",
        "",
        "### Claude",
        "",
        "Claude: not measured against the real API (no network here); the plumbing is tested",
        "against the fake (`make accuracy CLAUDE=1` runs both sets through `ClaudeClassifier` and",
        "the real SDK; with `ANTHROPIC_API_KEY` set it measures Claude itself).",
        "",
    ]
    return lines


def _calls_text(calls: dict[str, int]) -> str:
    return ", ".join(f"{n} {op}" for op, n in sorted(calls.items())) or "none"


def render(report: dict[str, Any]) -> str:
    """The markdown for docs/benchmarks.md."""
    small, large = (report["endpoints"][str(size)] for size in SIZES)
    lines = [
        "# Benchmarks",
        "",
        f"Generated by `make bench` on {report['when']} ({report['machine']}).",
        "DynamoDB calls and items examined are counted from botocore's after-call events",
        "(`ScannedCount` for queries, items returned for gets) against moto, so they are exact.",
        "Times are medians on a shared, noisy 2-core machine against moto: compare them only",
        "with each other, within this run; real DynamoDB latency is different.",
        "",
        f"## DynamoDB work per request at {SIZES[0]:,} and {SIZES[1]:,} tickets",
        "",
        f"| endpoint | calls @{SIZES[0]:,} | items examined @{SIZES[0]:,} | "
        f"calls @{SIZES[1]:,} | items examined @{SIZES[1]:,} | items written | bounded? |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, a in small.items():
        b = large[name]
        # Flat: the same work at both sizes, or capped by the page size (a partition
        # that holds fewer than limit + 1 tickets at 1,000 fills up at 20,000).
        flat = a["total_calls"] == b["total_calls"] and (
            a["items_examined"] == b["items_examined"] or b["items_examined"] <= 51
        )
        lines.append(
            f"| `{name}` | {_calls_text(a['calls'])} | {a['items_examined']} | "
            f"{_calls_text(b['calls'])} | {b['items_examined']} | {b['items_written']} | "
            f"{'yes' if flat else '**NO**'} |"
        )
    lines += [
        "",
        "Items written counts every item of a transaction: the ticket, one counter shard and",
        "one history entry. Lists read `limit + 1` items to know whether a next page exists.",
        "",
        "Search examines at most `SEARCH_SCAN_BUDGET` (default 1,000) items per request and then",
        "returns a `Link` to continue; at 1,000 tickets one request covers the whole table.",
        "",
        "Median time per request against moto (ms, same run; moto's GSI queries and transactions",
        "are O(table), real DynamoDB's are not):",
        "",
        f"| endpoint | @{SIZES[0]:,} | @{SIZES[1]:,} |",
        "|---|---|---|",
    ]
    for name, a in small.items():
        lines.append(f"| `{name}` | {a['median_ms']:.1f} | {large[name]['median_ms']:.1f} |")
    cold = report["cold_import"]
    lines += [
        "",
        "## Cold start: importing `app.py` in a fresh interpreter",
        "",
        f"- median {cold['median_ms']:.0f} ms (min {cold['min_ms']:.0f}, max {cold['max_ms']:.0f}) "
        "over 9 runs",
        "- `anthropic` imported by `import app`: "
        f"**{'yes' if cold['anthropic_imported'] else 'no'}**"
        " (it is imported on the first classification that has a key)",
        "- for comparison, `import anthropic` alone: "
        f"median {cold['anthropic_import_median_ms']:.0f} ms",
        "",
        "## Lambda deployment package",
        "",
        f"{report['package']}",
        "",
    ]
    lines += _render_accuracy(report["accuracy"])
    return "\n".join(lines)


def main() -> None:
    """Run every measurement and print (and optionally write) the report."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", type=Path, help="write the markdown report here")
    args = parser.parse_args()
    sys.path.insert(0, str(PROJECT_DIR))
    from local_stack.moto_server import MotoServer

    moto = MotoServer().start()
    _prepare_environment(moto.url)
    from chalicelib.data.models import TicketModel
    from chalicelib.dependencies import reset_dependencies
    from local_stack.schema import ensure_table

    endpoints: dict[str, Any] = {}
    token = _agent_token(moto.url)
    try:
        for size in SIZES:
            table = f"bench-{size}-{uuid.uuid4().hex[:6]}"
            os.environ["TICKETS_TABLE_NAME"] = table
            reset_dependencies()
            ensure_table(table, "us-east-1")
            started = time.perf_counter()
            ids = _seed(size)
            print(
                f"seeded {size} tickets in {time.perf_counter() - started:.0f} s", file=sys.stderr
            )
            endpoints[str(size)] = _measure_endpoints(ids, token)
            TicketModel.delete_table()
    finally:
        moto.stop()
    report = {
        "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": (
            f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        ),
        "endpoints": endpoints,
        "cold_import": _cold_import(),
        "package": _package_size(),
        "accuracy": _accuracy(),
    }
    markdown = render(report)
    print(markdown)
    if args.write:
        args.write.write_text(markdown)
        print(f"wrote {args.write}", file=sys.stderr)


if __name__ == "__main__":
    main()
