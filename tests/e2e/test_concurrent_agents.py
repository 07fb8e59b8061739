"""Signed-in agents editing the same tickets at once, over HTTP: no update is lost.

Each agent does what the console does: read the ticket (ETag), change it with
If-Match, and on 412 reload and try again.
"""

from __future__ import annotations

import random
import threading
import uuid
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from local_stack.cognito import AgentPool, add_agent, sign_in
from tests.e2e.conftest import RunningStack

AGENTS = 4
EDITS_PER_AGENT = 6
TICKETS = 2


def _agents(stack: RunningStack) -> list[tuple[str, str]]:
    """Extra agents in the stack's pool, each with a token."""
    pool = AgentPool(
        endpoint=stack.state["cognito_endpoint"],
        region="us-east-1",
        pool_id=stack.state["cognito_user_pool_id"],
        client_id=stack.state["cognito_client_id"],
    )
    agents = []
    for index in range(AGENTS):
        username = f"agent{index}-{uuid.uuid4().hex[:6]}@example.com"
        password = f"Agent-{uuid.uuid4().hex}"
        add_agent(pool, username, password)
        token = sign_in(pool.endpoint, pool.client_id, username, password)["IdToken"]
        agents.append((username, token))
    return agents


def test_agents_editing_the_same_tickets_lose_no_update(stack: RunningStack) -> None:
    api = stack.api_url
    marker = uuid.uuid4().hex[:8]
    ids = [
        requests.post(
            f"{api}/tickets/",
            json={
                "title": f"shared {marker}",
                "description": "log:",
                "category": "general",
                "priority": "low",
            },
            timeout=10,
        ).json()["id"]
        for _ in range(TICKETS)
    ]
    applied: dict[str, list[str]] = defaultdict(list)
    conflicts: Counter[str] = Counter()
    errors: list[str] = []
    lock = threading.Lock()

    def work(username: str, token: str, seed: int) -> None:
        rng = random.Random(seed)
        headers = {"Authorization": f"Bearer {token}"}
        for edit in range(EDITS_PER_AGENT):
            ticket_id = rng.choice(ids)
            note = f"[{username.split('-', maxsplit=1)[0]}#{edit}]"
            for _attempt in range(30):
                current = requests.get(f"{api}/tickets/{ticket_id}/", headers=headers, timeout=10)
                body = current.json()
                response = requests.patch(
                    f"{api}/tickets/{ticket_id}/",
                    json={
                        "description": body["description"] + " " + note,
                        "status": rng.choice(["open", "in_progress", "resolved", "closed"]),
                    },
                    headers={**headers, "If-Match": current.headers["ETag"]},
                    timeout=10,
                )
                if response.status_code == 200:
                    with lock:
                        applied[ticket_id].append(note)
                    break
                if response.status_code == 412:
                    with lock:
                        conflicts[username] += 1
                    continue
                with lock:
                    errors.append(f"{response.status_code} {response.text}")
                return
            else:
                with lock:
                    errors.append(f"{note} never applied")

    threads = [
        threading.Thread(target=work, args=(username, token, seed))
        for seed, (username, token) in enumerate(_agents(stack))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)

    assert not errors, errors
    assert sum(conflicts.values()) > 0, "the test should provoke conflicts"
    agent = stack.agent_headers()
    for ticket_id in ids:
        ticket = requests.get(f"{api}/tickets/{ticket_id}/", headers=agent, timeout=10).json()
        notes = ticket["description"].split()[1:]
        # Every successful edit is there exactly once: none was overwritten
        assert sorted(notes) == sorted(applied[ticket_id])
        history = requests.get(
            f"{api}/tickets/{ticket_id}/history/", headers=agent, timeout=10
        ).json()
        assert len(history) == 1 + len(applied[ticket_id])
        assert ticket["version"] == 1 + len(applied[ticket_id])


def _all_tickets(stack: RunningStack) -> list[dict[str, Any]]:
    headers = stack.agent_headers()
    url: str | None = f"{stack.api_url}/tickets/?limit=100"
    found: list[dict[str, Any]] = []
    while url:
        response = requests.get(url, headers=headers, timeout=10)
        found.extend(response.json())
        link = response.headers.get("Link")
        url = stack.api_url.removesuffix("/api") + link[1 : link.index(">")] if link else None
    return found


def test_counters_equal_a_recount_after_concurrent_edits(stack: RunningStack) -> None:
    tickets = _all_tickets(stack)
    stats = requests.get(
        f"{stack.api_url}/tickets/stats/", headers=stack.agent_headers(), timeout=10
    ).json()
    assert stats["total_tickets"] == len(tickets)
    assert stats["status_breakdown"] == {
        status: sum(1 for t in tickets if t["status"] == status)
        for status in ("open", "in_progress", "resolved", "closed")
    }
    assert stats["category_breakdown"] == {
        category: sum(1 for t in tickets if t["category"] == category)
        for category in ("billing", "technical", "account", "general")
    }


def test_sixteen_unconditional_patches_to_one_ticket_all_succeed(stack: RunningStack) -> None:
    # Given one ticket and sixteen clients that change it without If-Match, 8 at a time
    api = stack.api_url
    headers = stack.agent_headers()
    ticket = requests.post(
        f"{api}/tickets/",
        json={"title": "contended", "description": "d", "category": "general", "priority": "low"},
        timeout=10,
    ).json()

    def patch(index: int) -> requests.Response:
        # Each update sets two fields that belong together: the final ticket must hold
        # one whole update, never a mix of two.
        return requests.patch(
            f"{api}/tickets/{ticket['id']}/",
            json={"title": f"edit {index}", "description": f"description of edit {index}"},
            headers=headers,
            timeout=30,
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(patch, range(16)))
    # Then every one was applied (a database with row locks would have queued them too)
    assert [r.status_code for r in responses] == [200] * 16, [r.text for r in responses]
    versions = sorted(r.json()["version"] for r in responses)
    assert versions == list(range(2, 18))
    final = requests.get(f"{api}/tickets/{ticket['id']}/", headers=headers, timeout=10).json()
    index = final["title"].removeprefix("edit ")
    assert final["description"] == f"description of edit {index}"
    assert final["version"] == 17
    history = requests.get(f"{api}/tickets/{ticket['id']}/history/", headers=headers, timeout=10)
    assert len(history.json()) == 17  # created + 16 updates

    # And with If-Match a stale write still gets its 412 at once
    stale = requests.patch(
        f"{api}/tickets/{ticket['id']}/",
        json={"title": "late"},
        headers={**headers, "If-Match": '"v1"'},
        timeout=10,
    )
    assert stale.status_code == 412
