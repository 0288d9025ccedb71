"""Benchmark: the care inbox at volume, over real HTTP.

1. Builds an organization with 20 agents, 5 teams and `--conversations` conversations
   (default 100,000) of `--messages-per` messages each (default 10: 1,000,000 messages),
   bulk-inserted, with texts from the Customer Support on Twitter sample (customers' tweets
   inbound, brands' answers outbound). Statuses, assignees, teams, priorities and SLA due
   instants are spread like a busy inbox (about 60 % resolved).
   The messages go in with the search documents' per-message upkeep suspended, and the
   documents are built once at the end (`care.search.bulk_messages`).
2. Serves the app with uvicorn in a separate process on a loopback port.
3. Latency, one client at a time: p50/p95 of the inbox list page (`/care` in each view:
   all, mine, unassigned, breaching soon, a team, a status, the second page) and of opening a
   conversation (`/care/conversations/{id}`, the whole page). Targets: list p95 <= 150 ms,
   open p95 <= 100 ms. The full-text search is printed apart, by kind of query (words
   drawn from the seeded texts by frequency, phrases, prefixes, handles, no match), each in
   the default view and over every status.
4. Load: `--agents` simulated agents (default 20), each signed in with its own session, loop
   for `--duration` seconds: list a view, open a conversation, send a presence heartbeat,
   and one time in ten take the conversation (a write, audited). Prints requests, errors
   (any exception or HTTP status >= 400) and p95 under load.

Usage::

    python bench/inbox.py [--conversations 100000] [--messages-per 10] [--agents 20]
                          [--duration 30] [--database-url postgresql+psycopg://.../db]

Without `--database-url` it runs on a fresh SQLite file in a temporary folder. A PostgreSQL
database must be empty or be one you allow to be wiped (`--reset` drops schema public).
Figures are measured and printed, never asserted.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, insert, text

from groundswell.care import search
from groundswell.care.tables import CareConversation, CareCustomer, CareMessage, CareTeam
from groundswell.identity import service as identity
from groundswell.identity.domain import Role
from groundswell.kernel import migrate
from groundswell.kernel.db import Database, new_id

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
if not DATA.exists():
    DATA = Path("/work/shared/data")
PASSWORD = "bench-password-for-agents"  # throwaway accounts in a bench database
STATUSES = ["resolved"] * 12 + ["open"] * 3 + ["new"] * 2 + ["pending_customer"] * 2 + ["snoozed"]
SOURCES = ["mastodon", "bluesky", "reddit", "x"]
BATCH = 5000


def texts() -> tuple[list[str], list[str]]:
    """(customers' tweets, brands' answers) from the TWCS sample, handles stripped."""
    inbound: list[str] = []
    outbound: list[str] = []
    with (DATA / "customer-support-twitter" / "twcs_head5000.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            body = re.sub(r"^(@\w+\s*)+", "", row.get("text") or "").strip()
            if body:
                (inbound if row.get("inbound") == "True" else outbound).append(body)
    return inbound, outbound


def search_queries(rng: random.Random, customers: int) -> dict[str, list[str]]:
    """What agents type, drawn from the seeded texts: words by how many texts hold them
    (common: among the 30 most frequent words of four letters or more; medium: ranks 200 to
    1,000; rare: in 2 to 5 texts), two-word phrases and prefixes from real texts, customer
    handles, and words found nowhere. Ten of each kind."""
    inbound, outbound = texts()
    held: dict[str, int] = {}
    for body in inbound + outbound:
        for word in {w.lower() for w in re.findall(r"[^\W\d_]{4,}", body)}:
            held[word] = held.get(word, 0) + 1
    ranked = sorted(held, key=lambda w: (-held[w], w))
    rare = [w for w in ranked if 2 <= held[w] <= 5]
    phrases: list[str] = []
    while len(phrases) < 10:
        words = re.findall(r"[^\W\d_]{3,}", rng.choice(inbound))
        if len(words) >= 2:
            at = rng.randrange(len(words) - 1)
            phrases.append(f'"{words[at]} {words[at + 1]}"')
    return {
        "common word": rng.sample(ranked[:30], 10),
        "medium word": rng.sample(ranked[200:1000], 10),
        "rare word": rng.sample(rare, 10),
        "two words": [
            f"{a} {b}"
            for a, b in zip(rng.sample(ranked[:300], 10), rng.sample(ranked[:300], 10), strict=True)
        ],
        "phrase": phrases,
        "prefix": [w[:4] + "*" for w in rng.sample(ranked[:500], 10)],
        "customer handle": [f"@customer{rng.randrange(customers)}" for _ in range(10)],
        "no match": [f"zq{rng.randrange(10**6)}x" for _ in range(10)],
    }


def reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def seed_people(db: Database, agents: int) -> tuple[str, list[tuple[str, str]]]:
    """The organization and its agents: (organization id, [(user id, email)])."""
    with db.unit_of_work() as session:
        org, owner = identity.create_organization(
            session, "Bench Air", owner_email="owner@bench.example", owner_password=PASSWORD
        )
        actor = identity.actor_for_user(owner)
        people = []
        for n in range(agents):
            user = identity.create_user(
                session,
                actor,
                email=f"agent{n}@bench.example",
                name=f"Agent {n:02d}",
                role=Role.AGENT,
                password=PASSWORD,
            )
            people.append((user.id, user.email))
        return org.id, people


def _chunks(rows: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def bulk_insert(
    db: Database,
    org_id: str,
    agent_ids: list[str],
    conversations: int,
    messages_per: int,
    now: datetime,
    rng: random.Random,
) -> tuple[list[str], list[str]]:
    """Insert teams, customers, conversations and messages; returns (conversation ids of
    unresolved conversations, team ids)."""
    inbound, outbound = texts()
    team_ids = [new_id() for _ in range(5)]
    customers = [new_id() for _ in range(max(conversations // 3, 1))]
    open_ids: list[str] = []
    with db.write_engine.begin() as conn:
        conn.execute(
            insert(CareTeam.__table__),
            [
                {
                    "id": tid,
                    "organization_id": org_id,
                    "name": name,
                    "timezone": zone,
                    "business_hours": "mon-fri 08:00-20:00; sat 10:00-16:00",
                    "holidays": [],
                    "languages": [],
                    "assignment": "round_robin",
                    "escalation": "notify",
                    "created_at": now,
                    "updated_at": now,
                }
                for tid, name, zone in zip(
                    team_ids,
                    ["Care EN", "Care ES", "Care FR", "Baggage", "Loyalty"],
                    ["Europe/London", "Europe/Madrid", "Europe/Paris", "UTC", "America/New_York"],
                    strict=True,
                )
            ],
        )
        for batch in _chunks(
            (
                {
                    "id": cid,
                    "organization_id": org_id,
                    "name": f"Customer {i}",
                    "notes": "",
                    "created_at": now - timedelta(days=120),
                }
                for i, cid in enumerate(customers)
            ),
            BATCH,
        ):
            conn.execute(insert(CareCustomer.__table__), batch)

    def conversation_rows() -> Iterator[dict[str, Any]]:
        for i in range(conversations):
            created = now - timedelta(minutes=rng.uniform(1, 90 * 24 * 60))
            status = rng.choice(STATUSES)
            resolved = status == "resolved"
            updated = min(created + timedelta(minutes=rng.uniform(5, 3000)), now)
            due = None if resolved else created + timedelta(minutes=rng.choice([30, 60, 240, 480]))
            cid = new_id()
            if not resolved:
                open_ids.append(cid)
            first = created + timedelta(minutes=rng.uniform(2, 300)) if status != "new" else None
            customer = rng.randrange(len(customers))
            yield {
                "id": cid,
                "organization_id": org_id,
                "source": rng.choice(SOURCES),
                "thread_key": f"t{i}",
                "customer_id": customers[customer],
                "customer_name": f"Customer {customer}",
                "customer_handle": f"@customer{customer}",
                "status": status,
                "assignee_id": None if rng.random() < 0.2 else rng.choice(agent_ids),
                "team_id": rng.choice(team_ids),
                "priority": rng.randrange(0, 101),
                "tags": [],
                "preview": rng.choice(inbound)[:300],
                "created_at": created,
                "updated_at": updated,
                "last_inbound_at": created,
                "first_response_due_at": due,
                "first_responded_at": first,
                "resolved_at": updated if resolved else None,
                "sla_target": None if due is None else "first_response",
                "sla_due_at": due,
                "sla_warn_at": None if due is None else due - timedelta(minutes=10),
            }

    ids_in_order: list[tuple[str, datetime]] = []
    with db.write_engine.begin() as conn:
        for batch in _chunks(conversation_rows(), BATCH):
            conn.execute(insert(CareConversation.__table__), batch)
            ids_in_order += [(r["id"], r["created_at"]) for r in batch]

    def message_rows() -> Iterator[dict[str, Any]]:
        for cid, created in ids_in_order:
            for k in range(messages_per):
                out = k % 2 == 1
                yield {
                    "id": new_id(),
                    "organization_id": org_id,
                    "conversation_id": cid,
                    "direction": "outbound" if out else "inbound",
                    "author_label": "Agent" if out else "customer",
                    "text": rng.choice(outbound if out else inbound),
                    "mentioned_user_ids": [],
                    "created_at": created + timedelta(minutes=7 * k),
                    "delivery_status": "sent" if out else None,
                    "attempts": 1 if out else 0,
                }

    with db.write_engine.begin() as conn, search.bulk_messages(conn):
        # The search documents are built once at the end, not message by message.
        for batch in _chunks(message_rows(), BATCH * 2):
            conn.execute(insert(CareMessage.__table__), batch)
    with db.write_engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    return open_ids, team_ids


def reuse(db: Database) -> tuple[list[tuple[str, str]], list[str], list[str]]:
    """What an earlier run seeded: (agents, unresolved conversation ids, team ids)."""
    with db.reader() as session:
        people = [
            (row[0], row[1])
            for row in session.execute(
                text("SELECT id, email FROM user_account WHERE email LIKE 'agent%@bench.example'")
            )
        ]
        open_ids = list(
            session.scalars(
                text("SELECT id FROM care_conversation WHERE status != 'resolved' LIMIT 20000")
            )
        )
        team_ids = list(session.scalars(text("SELECT id FROM care_team ORDER BY name")))
    if not people:
        raise SystemExit("nothing to reuse: run once without --reuse")
    return people, open_ids, team_ids


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def serve(url: str, data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ, GROUNDSWELL_DATABASE_URL=url, GROUNDSWELL_DATA_DIR=str(data_dir))
    process = subprocess.Popen(  # our own interpreter and module
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "groundswell.app:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the server did not start")


def signed_in(base: str, email: str) -> tuple[httpx.Client, str]:
    """A client with a session cookie, and the session's CSRF token."""
    client = httpx.Client(base_url=base, timeout=30)
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, "no CSRF token on /login"
    answer = client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": token.group(1)}
    )
    assert answer.status_code in (200, 303), answer.status_code
    inbox = client.get("/care")
    csrf = re.search(r'"X-CSRF-Token": "([^"]+)"', inbox.text)
    assert csrf, "no CSRF token on /care"
    return client, csrf.group(1)


def timed(call: Callable[[], httpx.Response]) -> float:
    start = time.perf_counter()
    response = call()
    elapsed = (time.perf_counter() - start) * 1000
    if response.status_code >= 400:
        raise RuntimeError(f"HTTP {response.status_code} for {response.request.url}")
    return elapsed


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def describe(label: str, values: list[float], target: float | None = None) -> None:
    goal = ""
    if target is not None:
        verdict = "met" if p(values, 95) <= target else "MISSED"
        goal = f"  (target p95 <= {target:.0f} ms: {verdict})"
    print(
        f"  {label:<34} n={len(values):>4}  p50 {statistics.median(values):7.1f} ms  "
        f"p95 {p(values, 95):7.1f} ms  max {max(values):7.1f} ms" + goal
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--messages-per", type=int, default=10)
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--samples", type=int, default=140)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--reset", action="store_true", help="PostgreSQL: drop schema public first")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--reuse", action="store_true", help="measure an already seeded --database-url again"
    )
    args = parser.parse_args()
    rng = random.Random(args.seed)

    workdir = Path(tempfile.mkdtemp(prefix="gs-inbox-bench-"))
    url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
    if args.reset and url.startswith("postgresql"):
        reset_postgres(url)
    print(f"groundswell inbox bench · {platform.python_version()} · {platform.machine()}")
    print(
        f"database: {url.split('://')[0]} · {args.conversations:,} conversations × "
        f"{args.messages_per} messages · {os.cpu_count()} CPUs"
    )
    migrate.upgrade(url)
    db = Database(url)
    now = datetime.now(UTC)
    if args.reuse:
        people, open_ids, team_ids = reuse(db)
        print(f"reusing the seeded database: {len(open_ids):,} unresolved conversations")
    else:
        org_id, people = seed_people(db, args.agents)
        start = time.perf_counter()
        open_ids, team_ids = bulk_insert(
            db, org_id, [uid for uid, _ in people], args.conversations, args.messages_per, now, rng
        )
        total = args.conversations * (args.messages_per + 1)
        elapsed = time.perf_counter() - start
        print(f"seeded {total:,} rows in {elapsed:.1f} s ({total / elapsed:,.0f} rows/s)")
    db.dispose()

    port = free_port()
    server = serve(url, workdir, port)
    base = f"http://127.0.0.1:{port}"
    try:
        sessions = [signed_in(base, email) for _, email in people][: args.agents]
        client, _csrf = sessions[0]
        views = [
            "",
            "?view=mine",
            "?view=unassigned",
            "?view=breaching",
            f"?view=team:{team_ids[0]}",
            "?status=open",
            "?status=pending_customer",
        ]
        # Page two of the default view, by its own cursor.
        second = re.search(r'href="([^"]+)" rel="next"', client.get("/care").text)
        if second:
            views.append(second.group(1).replace("&amp;", "&").removeprefix("/care"))
        for c in open_ids[:3]:  # warm up (the first open loads the triage models)
            client.get(f"/care/conversations/{c}")
        for _ in range(3):
            for v in views:
                client.get("/care" + v)
        print("\nlatency, one client at a time (whole pages over HTTP):")
        listing = [
            timed(lambda v=v: client.get("/care" + v))
            for v in (views * (args.samples // len(views) + 1))[: args.samples]
        ]
        describe("inbox list (7 views + page 2)", listing, 150)
        sample = rng.sample(open_ids, min(args.samples, len(open_ids)))
        opening = [timed(lambda c=c: client.get(f"/care/conversations/{c}")) for c in sample]
        describe("open a conversation", opening, 100)
        kinds = search_queries(random.Random(args.seed), customers=max(args.conversations // 3, 1))
        for kind, queries in kinds.items():
            searching = [
                timed(lambda q=q, v=v: client.get("/care", params={"q": q, **v}))
                for q in queries
                for v in ({}, {"status": "any"})  # unresolved (the default), then all
            ]
            describe(f"search: {kind}", searching)

        print(
            f"\nload: {args.agents} agents for {args.duration:.0f} s "
            "(list, open, heartbeat; 1 in 10 takes the conversation)"
        )
        errors: list[str] = []
        under_load: list[float] = []
        count = [0]
        lock = threading.Lock()
        stop_at = time.monotonic() + args.duration

        def agent(n: int) -> None:
            mine = random.Random(args.seed + n)
            http, csrf = sessions[n]
            headers = {"X-CSRF-Token": csrf, "HX-Request": "true"}
            while time.monotonic() < stop_at:
                cid = mine.choice(open_ids)
                calls: list[Callable[[], httpx.Response]] = [
                    lambda: http.get("/care" + mine.choice(views)),
                    lambda cid=cid: http.get(f"/care/conversations/{cid}"),
                    lambda cid=cid: http.post(
                        f"/care/conversations/{cid}/presence", data={"typing": "1"}, headers=headers
                    ),
                ]
                if mine.random() < 0.1:
                    calls.append(
                        lambda cid=cid: http.post(
                            f"/care/conversations/{cid}/assign",
                            data={"assignee_id": "me"},
                            headers=headers | {"HX-Target": f"row-{cid}"},
                        )
                    )
                for call in calls:
                    try:
                        ms = timed(call)
                    except Exception as exc:  # every failure counts, whatever it is
                        with lock:
                            errors.append(f"{type(exc).__name__}: {exc}")
                        continue
                    with lock:
                        under_load.append(ms)
                        count[0] += 1

        threads = [threading.Thread(target=agent, args=(n,)) for n in range(args.agents)]
        began = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        took = time.monotonic() - began
        print(
            f"  requests {count[0] + len(errors):,} in {took:.1f} s "
            f"({(count[0] + len(errors)) / took:,.1f}/s) · errors {len(errors)}"
        )
        if under_load:
            describe("any request under load", under_load)
        for line in sorted(set(errors))[:10]:
            print(f"    {line}")
        for http, _ in sessions:
            http.close()
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
