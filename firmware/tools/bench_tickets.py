"""Tickets benchmark: how fast the web process answers the ticket list (each filter), a ticket's page and its
API on a box holding 100,000 calls, 20,000 customers and 20,000 tickets (issue 13: under 100 ms at p95)."""
from __future__ import annotations

import os
import secrets
import signal
import statistics
import tempfile
import time
from pathlib import Path

from firmware.store import open_db
from firmware.tools.bench_box import start_web, web_port
from firmware.tools.bench_memory import _Browser

CALLS = 100_000
CUSTOMERS = 20_000
TICKETS = 20_000
# Each ticket's history: created, dispatched, started, resolved, plus a note.
EVENTS_PER_TICKET = 5
REQUESTS = 200
BUDGET_MS = 100.0
# 2026-01-01 00:00 UTC: the history runs back from here, a call every 30 s, a ticket every 150 s.
EPOCH = 1767225600.0
NOW = EPOCH + CALLS * 30.0
STATES = ("new", "dispatched", "in_progress", "resolved", "confirmed", "closed", "reopened", "cancelled")
CATEGORIES = ("consultation", "complaint", "repair", "return", "suggestion")
DEPARTMENTS = ("service", "complaints", "repair", "logistics")
PRIORITIES = ("urgent", "high", "normal", "low")


def build_box(db_path: Path, calls: int = CALLS, customers: int = CUSTOMERS, tickets: int = TICKETS) -> None:
    """The records as the engine and the web process write them, through the change-sequence triggers."""
    db = open_db(db_path)
    conn = db.conn
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("""
        WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
        INSERT INTO calls (id, direction, channel, number, arrived_at, answered_at, queue, agent_id, connected_at,
                           ended_at, disposition, hangup_by, wait, talk, customer_id)
        SELECT printf('c%031x', i), 'inbound', 'trunk-' || (i % 30), printf('138%08d', i % ?), ? + i * 30.0,
               ? + i * 30.0 + 1, 'sales', printf('10%02d', i % 40), ? + i * 30.0 + 20, ? + i * 30.0 + 200,
               'answered', 'agent', 19.0, 180.0, printf('u%031x', i % ?)
        FROM n""", [calls - 1, customers, EPOCH, EPOCH, EPOCH, EPOCH, customers])
    conn.execute("""
        WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
        INSERT INTO customers (id, number, name, vip, updated_at)
        SELECT printf('u%031x', i), printf('138%08d', i), 'Customer ' || i, i % 4, ? FROM n""",
                 [customers - 1, EPOCH])
    states, categories, departments, priorities = (
        "CASE i % {n} {whens} END".format(n=len(v), whens=" ".join(f"WHEN {k} THEN '{s}'" for k, s in enumerate(v)))
        for v in (STATES, CATEGORIES, DEPARTMENTS, PRIORITIES))
    conn.execute(f"""
        WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
        INSERT INTO tickets (id, customer_id, number, number_key, call_id, category, priority, department, title,
                             description, address, state, created_by, agent_id, created_at, updated_at, due_at,
                             version, repeat_of)
        SELECT printf('t%031x', i), printf('u%031x', (i * 7) % ?), printf('138%08d', (i * 7) % ?),
               printf('138%08d', (i * 7) % ?), printf('c%031x', i * 5), {categories}, {priorities}, {departments},
               'Ticket ' || i || ' about order ' || (i * 13), 'The customer says item ' || i || ' arrived damaged',
               i || ' Nanjing Road', {states}, 'agent' || (i % 40), printf('10%02d', i % 40), ? + i * 150.0,
               ? + i * 150.0, ? + i * 150.0 + 86400, 1, CASE WHEN i % 10 = 0 AND i > 0 THEN printf('t%031x', i - 1) END
        FROM n""", [tickets - 1, customers, customers, customers, EPOCH, EPOCH, EPOCH])
    conn.execute("""
        WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
        INSERT INTO ticket_events (id, ticket_id, at, username, kind, action, from_state, to_state, note)
        SELECT printf('e%031x', i), printf('t%031x', i / ?), ? + (i / ?) * 150.0 + (i % ?) * 600, 'agent1',
               CASE i % ? WHEN 4 THEN 'note' ELSE 'transition' END, 'dispatch', 'new', 'dispatched', 'a note'
        FROM n""", [tickets * EVENTS_PER_TICKET - 1, EVENTS_PER_TICKET, EPOCH, EVENTS_PER_TICKET,
                    EVENTS_PER_TICKET, EVENTS_PER_TICKET])
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()


def _timed(browser: _Browser, path: str, marker: str, n: int) -> float:
    """p95 of `n` GETs of `path`, ms; the page must carry `marker` (an error page is no answer)."""
    times = []
    for _ in range(n):
        start = time.perf_counter()
        text = browser.get(path)
        times.append((time.perf_counter() - start) * 1000.0)
        if marker not in text:
            raise RuntimeError(f"tickets benchmark: {path} answered without {marker!r}: {text[:300]!r}")
    return statistics.quantiles(times, n=20)[-1]


def measure(requests: int = REQUESTS, tickets: int = TICKETS) -> list[tuple[str, float]]:
    """p95 ms of each page; a smaller box (`tickets`, with 5 calls and one customer a ticket) for a test."""
    with tempfile.TemporaryDirectory(prefix="branchline-bench-tickets-") as tmp:
        state = Path(tmp) / "state"
        state.mkdir()
        build_box(state / "branchline.db", tickets * CALLS // TICKETS, tickets * CUSTOMERS // TICKETS, tickets)
        web = start_web(state, Path(tmp) / "web.log")
        try:
            browser = _Browser(f"http://127.0.0.1:{web_port(Path(tmp) / 'web.log', web)}")
            password = secrets.token_urlsafe(12)
            browser.form("/setup", {"username": "admin", "password": password, "confirm": password})
            browser.form("/login", {"username": "admin", "password": password, "next": "/"})
            middle = f"t{tickets // 2:031x}"
            cases = [
                ("list, no filter", "/tickets", "table-tickets"),
                ("list, open", "/tickets?state=open", "table-tickets"),
                ("list, category + department", "/tickets?category=complaint&department=repair", "table-tickets"),
                ("list, overdue", "/tickets?overdue=1", "table-tickets"),
                ("list, customer", f"/tickets?customer=u{7:031x}", "table-tickets"),
                ("list, agent + dates", "/tickets?agent=1007&from=2026-01-10&to=2026-01-20", "table-tickets"),
                ("list, text search", "/tickets?q=Nanjing%20Road%20x", "table-tickets"),
                ("list, page 200", "/tickets?page=200", "table-tickets"),
                ("ticket page", f"/tickets/{middle}", 'id="history"'),
                ("ticket API", f"/api/v1/tickets/{middle}", '"events"'),
                ("department queue", "/tickets/queue?department=repair", "table-tickets"),
            ]
            return [(name, _timed(browser, path, marker, requests)) for name, path, marker in cases]
        finally:
            web.send_signal(signal.SIGTERM)
            web.wait(30)


def run(out=print, quick: bool = False, tickets: int = TICKETS, requests: int = REQUESTS) -> list[tuple[str, float]]:
    results = measure(requests // 4 if quick else requests, tickets)
    calls, customers = tickets * CALLS // TICKETS, tickets * CUSTOMERS // TICKETS
    out(f"Tickets (`python -m webui.server`, {calls:,} calls, {customers:,} customers, {tickets:,} tickets, "
        f"{tickets * EVENTS_PER_TICKET:,} history rows; budget {BUDGET_MS:.0f} ms at p95 over HTTP; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    for name, p95 in results:
        out(f"{name:>30} {p95:>8.1f} ms p95{'' if p95 < BUDGET_MS else '  OVER BUDGET'}")
    return results


if __name__ == "__main__":
    run()
