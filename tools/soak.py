"""``make soak``: a bounded load test of the local stack over loopback HTTP.

It starts ``python -m local_stack`` (as ``make run`` does) on free ports, fills it with
tickets and runs the workload for a warm-up (a fifth of the run, at least 10 s: caches,
connections and the allocator settle), then runs several concurrent clients for
``SOAK_SECONDS`` (default 300), each on its own keep-alive session, with a mixed
workload: creates with
an Idempotency-Key (some sent twice, as a client retrying after a lost answer),
lists with filters and orders, searches, PATCHes with and without If-Match,
deletes, stats and classifications. Creates and deletes balance (each client deletes
only tickets it made and has not deleted), so the number of tickets stays level, and
the report shows it; what a deleted ticket leaves (its history, an audit log, and its
Idempotency record, which moto never expires) still grows with the work done, so a
faster stack grows more in the same time (docs/benchmarks.md). The local outbox's
emails are kept on disk.

It reports throughput and p50/p99 per route, the status codes, the stack process's
resident memory after the warm-up and at the end, counter drift against a recount
of every ticket, and duplicate tickets from retried keys; and it fails (exit 1) on
any 5xx, any drift, any duplicate, or memory growth of 10% or more.

    make soak                       # 5 minutes, recorded in docs/benchmarks.md
    SOAK_SECONDS=30 make soak       # the short run `make test` does too
    python -m tools.soak --seconds 60 --clients 6 --write /tmp/soak.md
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from tools.stack_process import StackProcess

WORDS = [
    "refund", "invoice", "charged", "login", "password", "crash", "slow", "export",
    "webhook", "timeout", "billing", "error", "502", "account", "locked", "upgrade",
]  # fmt: skip
STATUSES = ["open", "in_progress", "resolved", "closed"]
CATEGORIES = ["billing", "technical", "account", "general"]
PRIORITIES = ["low", "medium", "high", "critical"]
MEMORY_GROWTH_LIMIT = 0.10


@dataclass
class Results:
    """What every client saw (shared, under a lock)."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    errors: list[str] = field(default_factory=list)
    # Idempotency-Key -> every ticket id a create with that key answered
    keys: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    new_tickets: int = 0  # tickets made (a replayed create makes none)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def deleted(self) -> int:
        """Tickets deleted."""
        return self.statuses.get("DELETE /tickets/{id}", Counter())[204]

    def record(self, route: str, started: float, response: requests.Response) -> None:
        with self.lock:
            self.latencies[route].append((time.perf_counter() - started) * 1000)
            self.statuses[route][response.status_code] += 1
            if response.status_code >= 500:
                self.errors.append(f"{route}: {response.status_code} {response.text[:200]}")


class Client:
    """One simulated user of the API: an agent who also files tickets as a customer."""

    def __init__(self, api: str, token: str, results: Results, seed: int) -> None:
        self.api = api
        self.session = requests.Session()
        self.headers = {"Authorization": f"Bearer {token}"}
        self.results = results
        self.rng = random.Random(seed)
        self.mine: list[str] = []

    def _call(self, route: str, method: str, path: str, **kwargs: Any) -> requests.Response:
        started = time.perf_counter()
        response = self.session.request(method, f"{self.api}{path}", timeout=30, **kwargs)
        self.results.record(route, started, response)
        return response

    def create(self) -> None:
        key = str(uuid.uuid4())
        body = {
            "title": " ".join(self.rng.choices(WORDS, k=3)),
            "description": " ".join(self.rng.choices(WORDS, k=12)),
            "customer_email": f"soak{self.rng.randrange(500)}@example.com",
        }
        if self.rng.random() < 0.5:
            body["category"] = self.rng.choice(CATEGORIES)
            body["priority"] = self.rng.choice(PRIORITIES)
        headers = {"Idempotency-Key": key}
        attempts = 2 if self.rng.random() < 0.2 else 1  # a retry after a "lost" answer
        for _ in range(attempts):
            response = self._call("POST /tickets", "POST", "/tickets/", json=body, headers=headers)
            if response.status_code == 201:
                ticket_id = response.json()["id"]
                with self.results.lock:
                    ids = self.results.keys[key]
                    new = ticket_id not in ids
                    ids.add(ticket_id)
                    self.results.new_tickets += new
                if new:  # a replay answers with the ticket already made: one to delete
                    self.mine.append(ticket_id)

    def list(self) -> None:
        params: dict[str, str] = {"limit": "50"}
        choice = self.rng.random()
        if choice < 0.3:
            params.update({"status": "unsolved", "sort": "priority"})
        elif choice < 0.5:
            params["category"] = self.rng.choice(CATEGORIES)
            params["status"] = self.rng.choice(STATUSES)
        elif choice < 0.6:
            params["assignee"] = self.rng.choice(["me", "none"])
        self._call("GET /tickets", "GET", "/tickets/", params=params, headers=self.headers)

    def search(self) -> None:
        query = " ".join(self.rng.sample(WORDS, k=self.rng.choice([1, 1, 2])))
        self._call(
            "GET /tickets?search",
            "GET",
            "/tickets/",
            params={"search": query},
            headers=self.headers,
        )

    def _pick(self) -> str | None:
        if not self.mine:
            return None
        return self.rng.choice(self.mine)

    def patch(self) -> None:
        ticket_id = self._pick()
        if ticket_id is None:
            return
        changes = {"status": self.rng.choice(STATUSES), "priority": self.rng.choice(PRIORITIES)}
        if self.rng.random() < 0.5:
            path = f"/tickets/{ticket_id}/"
            current = self._call("GET /tickets/{id}", "GET", path, headers=self.headers)
            if current.status_code != 200:
                return
            headers = {**self.headers, "If-Match": current.headers["ETag"]}
            self._call(
                "PATCH /tickets/{id} (If-Match)", "PATCH", path, json=changes, headers=headers
            )
        else:
            path = f"/tickets/{ticket_id}/"
            self._call("PATCH /tickets/{id}", "PATCH", path, json=changes, headers=self.headers)

    def delete(self) -> None:
        if len(self.mine) < 5:
            return
        ticket_id = self.mine.pop(self.rng.randrange(len(self.mine)))
        self._call("DELETE /tickets/{id}", "DELETE", f"/tickets/{ticket_id}/", headers=self.headers)

    def stats(self) -> None:
        self._call("GET /tickets/stats", "GET", "/tickets/stats/", headers=self.headers)

    def classify(self) -> None:
        text = " ".join(self.rng.choices(WORDS, k=10))
        self._call(
            "POST /tickets/classify", "POST", "/tickets/classify/", json={"description": text}
        )

    def step(self) -> None:
        """One operation, chosen by weight (creates and deletes balance)."""
        operations = [
            self.create,
            self.delete,
            self.list,
            self.search,
            self.patch,
            self.stats,
            self.classify,
        ]
        operation = self.rng.choices(operations, weights=[12, 12, 25, 15, 20, 8, 8])[0]
        operation()


def _all_tickets(api: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    url: str | None = f"{api}/tickets/?limit=100"
    origin = api.removesuffix("/api")
    while url:
        response = requests.get(url, headers=headers, timeout=30)
        response.raise_for_status()
        found.extend(response.json())
        link = response.headers.get("Link")
        url = origin + link[1 : link.index(">")] if link else None
    return found


def drift(api: str, headers: dict[str, str]) -> dict[str, Any]:
    """Every counter the stats show that differs from a recount of the tickets."""
    tickets = _all_tickets(api, headers)
    stats = requests.get(f"{api}/tickets/stats/", headers=headers, timeout=30).json()
    expected = {
        "total_tickets": len(tickets),
        "unsolved_tickets": sum(t["status"] in ("open", "in_progress") for t in tickets),
        "status_breakdown": {s: sum(t["status"] == s for t in tickets) for s in STATUSES},
        "category_breakdown": {c: sum(t["category"] == c for t in tickets) for c in CATEGORIES},
        "priority_breakdown": {p: sum(t["priority"] == p for t in tickets) for p in PRIORITIES},
    }
    return {key: (stats[key], value) for key, value in expected.items() if stats[key] != value}


def _ticket_count(api: str, headers: dict[str, str]) -> int:
    response = requests.get(f"{api}/tickets/stats/", headers=headers, timeout=30)
    response.raise_for_status()
    return int(response.json()["total_tickets"])


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _run_clients(clients: list[Client], seconds: float, results: Results) -> float:
    """Every client steps until ``seconds`` have passed; returns the time taken."""
    deadline = time.monotonic() + seconds

    def work(client: Client) -> None:
        client.results = results
        while time.monotonic() < deadline:
            try:
                client.step()
            except requests.RequestException as exc:
                with results.lock:
                    results.errors.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=work, args=(client,)) for client in clients]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.monotonic() - started


def run(seconds: float, clients: int, warmup_tickets: int) -> tuple[str, bool]:
    """Run the soak; returns (markdown report, passed)."""
    with StackProcess() as stack:
        token = stack.agent_token()
        headers = {"Authorization": f"Bearer {token}"}
        warm = Client(stack.api_url, token, Results(), seed=0)
        for _ in range(warmup_tickets):
            warm.create()
        workers = [Client(stack.api_url, token, Results(), seed) for seed in range(1, clients + 1)]
        for index, client in enumerate(workers):
            client.mine = list(warm.mine[index::clients])
        # The warm-up runs the same workload: the measured window starts in steady state.
        warm_results = Results()
        _run_clients(workers, max(10.0, seconds / 5), warm_results)
        time.sleep(2)  # let the stream consumer catch up before measuring memory
        rss_start = stack.rss_mb()
        tickets_start = _ticket_count(stack.api_url, headers)
        results = Results()
        results.keys.update(warm_results.keys)
        elapsed = _run_clients(workers, seconds, results)
        time.sleep(2)
        rss_end = stack.rss_mb()
        tickets_end = _ticket_count(stack.api_url, headers)
        counter_drift = drift(stack.api_url, headers)
    duplicates = {key: ids for key, ids in results.keys.items() if len(ids) > 1}
    server_errors = sum(
        n for c in results.statuses.values() for code, n in c.items() if code >= 500
    )
    growth = (rss_end - rss_start) / rss_start if rss_start else 0.0
    total = sum(len(v) for v in results.latencies.values())
    lines = [
        f"Soak: {clients} clients for {elapsed:.0f} s after a warm-up of {warmup_tickets} tickets; "
        f"{total:,} requests ({total / elapsed:.0f}/s).",
        "",
        "| route | requests | per second | p50 ms | p99 ms | statuses |",
        "|---|---|---|---|---|---|",
    ]
    for route in sorted(results.latencies):
        values = results.latencies[route]
        codes = ", ".join(f"{code}: {n}" for code, n in sorted(results.statuses[route].items()))
        lines.append(
            f"| `{route}` | {len(values):,} | {len(values) / elapsed:.1f} | "
            f"{statistics.median(values):.1f} | {percentile(values, 0.99):.1f} | {codes} |"
        )
    passed = (
        not server_errors and not counter_drift and not duplicates and growth < MEMORY_GROWTH_LIMIT
    )
    lines += [
        "",
        f"- 5xx answers: **{server_errors}**; "
        f"client errors (timeouts, resets): {len(results.errors)}",
        f"- counter drift against a recount: **{len(counter_drift)}** "
        + (json.dumps(counter_drift) if counter_drift else ""),
        f"- duplicate tickets from retried Idempotency-Keys: **{len(duplicates)}** "
        f"({sum(1 for ids in results.keys.values() if ids)} keys used)",
        f"- tickets: {tickets_start:,} after the warm-up, {tickets_end:,} at the end "
        f"({results.new_tickets:,} created, {results.deleted():,} deleted)",
        f"- stack process memory: {rss_start:.0f} MB after the warm-up, "
        f"{rss_end:.0f} MB at the end "
        f"(**{growth:+.1%}**; target under {MEMORY_GROWTH_LIMIT:.0%})",
        f"- result: **{'passed' if passed else 'FAILED'}**",
    ]
    if results.errors:
        lines.append("- first errors: " + "; ".join(results.errors[:3]))
    return "\n".join(lines) + "\n", passed


def main(argv: list[str] | None = None) -> int:
    """Command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description="Bounded load test of the local stack")
    parser.add_argument(
        "--seconds", type=float, default=float(os.environ.get("SOAK_SECONDS") or "300")
    )
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--warmup", type=int, default=300, help="tickets created before measuring")
    parser.add_argument("--write", type=Path, help="also write the report to this file")
    parser.add_argument(
        "--into", type=Path, help="put the report between the soak markers of this file"
    )
    args = parser.parse_args(argv)
    report, passed = run(args.seconds, args.clients, args.warmup)
    print(report)
    if args.write:
        args.write.write_text(report, encoding="utf-8")
    if args.into:
        record(args.into, report)
    return 0 if passed else 1


def record(path: Path, report: str) -> None:
    """Replace the text between ``<!-- soak:start -->`` and ``<!-- soak:end -->`` in
    ``path`` (``make bench`` keeps it when it rewrites the rest), or append the section."""
    start, end = "<!-- soak:start -->", "<!-- soak:end -->"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    section = f"{start}\n{report.strip()}\n{end}"
    if start in text and end in text:
        text = text[: text.index(start)] + section + text[text.index(end) + len(end) :]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
