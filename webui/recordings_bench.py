"""`make bench`'s recordings search: p50/p95 of each of the search's filters, as the API runs it (one page of
50 and the total), on a box holding 100,000 calls, 50,000 recordings, 20,000 customers, 20,000 tickets and
5,000 evaluations (issue 15: under 100 ms); run as `python -m webui.recordings_bench` (firmware/tools/bench.py
starts it as a child, since the box's packages do not import the web UI)."""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from firmware.store import connect_readonly, open_db

from .recording_queries import RecordingFilter, search

BUDGET_MS = 100.0
CALLS = 100_000
CUSTOMERS = 20_000
TICKETS = 20_000
EVALUATIONS = 5_000
# 2026-01-01 00:00 UTC, a call every 30 s (35 days); every other call answered and recorded.
EPOCH = 1767225600.0
DAY = 86400.0
QUERIES = {
    "newest page": {},
    "a day": {"from": "2026-01-20", "to": "2026-01-20"},
    "a month": {"from": "2026-01-05", "to": "2026-02-04"},
    "number": {"number": "2468"},
    "customer name": {"customer": "Customer 1234"},
    "agent": {"agent": "1008"},
    "agent, a month": {"agent": "1008", "from": "2026-01-05", "to": "2026-02-04"},
    "queue": {"queue": "service"},
    "ticket": {"ticket": "t000000000000000000000000000012"},
    "disposition": {"disposition": "transferred"},
    "duration": {"min_duration": "600", "max_duration": "900"},
    "not evaluated": {"evaluated": "0"},
    "evaluated": {"evaluated": "1"},
    "far page": {"page": "900"},
}


def build(db_path: Path) -> None:
    db = open_db(db_path)
    conn = db.conn
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("""
        WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
        INSERT INTO calls (id, direction, channel, number, arrived_at, answered_at, queue, agent_id, connected_at,
                           ended_at, disposition, hangup_by, wait, talk, customer_id)
        SELECT printf('c%031x', i), 'inbound', 'trunk-' || (i % 30), printf('138%08d', i % 60000), ? + i * 30.0,
               ? + i * 30.0 + 1, CASE i % 3 WHEN 0 THEN 'service' ELSE 'sales' END,
               CASE i % 2 WHEN 0 THEN printf('10%02d', i % 40) END, ? + i * 30.0 + 20, ? + i * 30.0 + 200 + i % 900,
               CASE WHEN i % 2 = 1 THEN 'abandoned' WHEN i % 50 = 0 THEN 'transferred' ELSE 'answered' END,
               'agent', 19.0, 180.0 + i % 900, printf('u%031x', i % ?)
        FROM n""", [CALLS - 1, EPOCH, EPOCH, EPOCH, EPOCH, CUSTOMERS])
    conn.execute("""
        INSERT INTO recordings (id, call_id, path, duration, size, sha256, created_at)
        SELECT 'r' || substr(id, 2), id, strftime('%Y/%m/%d/', arrived_at, 'unixepoch') || id || '.wav',
               talk, 44 + talk * 32000, '', ended_at FROM calls WHERE agent_id IS NOT NULL""")
    conn.execute("""
        WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
        INSERT INTO customers (id, number, name, company, vip, updated_at)
        SELECT printf('u%031x', i), printf('138%08d', i), 'Customer ' || i, 'Company ' || (i % 500), i % 4, ? FROM n""",
                 [CUSTOMERS - 1, EPOCH])
    conn.execute("""
        WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
        INSERT INTO tickets (id, call_id, category, priority, state, title, created_at, updated_at)
        SELECT printf('t%031x', i), printf('c%031x', i * 4), 'complaint', 'normal', 'new', 'Ticket ' || i,
               ? + i * 150.0, ? + i * 150.0 FROM n""", [TICKETS - 1, EPOCH, EPOCH])
    conn.execute("""
        INSERT INTO evaluations (id, recording_id, call_id, agent_id, evaluator, score, scores, created_at)
        SELECT 'e' || substr(r.id, 2), r.id, r.call_id, c.agent_id, 'supervisor', 60 + (c.rowid % 40), '[]',
               r.created_at FROM recordings r JOIN calls c ON c.id = r.call_id WHERE c.rowid % 10 = 1 LIMIT ?""",
                 [EVALUATIONS])
    conn.execute("COMMIT")
    # As a box's database is after `branchline retention` or a restart: the planner knows the tables' sizes.
    conn.execute("ANALYZE")
    conn.close()


def run(rounds: int, out=print) -> float:
    with tempfile.TemporaryDirectory(prefix="branchline-recordings-bench-") as tmp:
        db_path = Path(tmp) / "branchline.db"
        started = time.perf_counter()
        build(db_path)
        filled = time.perf_counter() - started
        conn = connect_readonly(db_path)
        recordings = conn.execute("SELECT count(*) FROM recordings").fetchone()[0]
        times: dict[str, list[float]] = {name: [] for name in QUERIES}
        totals = {}
        for _ in range(rounds):
            for name, query in QUERIES.items():
                f = RecordingFilter.from_query(query)
                t0 = time.perf_counter()
                _rows, totals[name] = search(conn, f, None)
                times[name].append(1000 * (time.perf_counter() - t0))
        # An agent's own search: every agent filter goes through the same scope.
        agent = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            search(conn, RecordingFilter(), "1008")
            agent.append(1000 * (time.perf_counter() - t0))
        times["an agent's own"] = agent
        conn.close()
    out(f"Recordings search: {CALLS:,} calls, {recordings:,} recordings, {CUSTOMERS:,} customers, {TICKETS:,} tickets, "
        f"{EVALUATIONS:,} evaluations (filled in {filled:.1f} s); one page of 50 and the total")
    out(f"{'filter':<18} {'found':>7} {'p50 ms':>8} {'p95 ms':>8}")
    worst = 0.0
    for name, ts in times.items():
        ts = sorted(ts)
        p95 = ts[int(0.95 * (len(ts) - 1))]
        worst = max(worst, p95)
        out(f"{name:<18} {totals.get(name, ''):>7} {statistics.median(ts):>8.1f} {p95:>8.1f}")
    verdict = "within" if worst <= BUDGET_MS else "OVER"
    out(f"slowest filter: p95 {worst:.1f} ms ({verdict} the {BUDGET_MS:.0f} ms budget)")
    return worst


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m webui.recordings_bench")
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args(argv)
    return 0 if run(args.rounds) <= BUDGET_MS else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
