"""Reports benchmark (issue 15): a box holding 100,000 calls over 90 days (1.5 M call events), their agents'
state changes, 20,000 tickets and 50,000 recordings; the time the web process takes to answer a month's
reports as JSON, its Excel workbooks and its detail CSV, over HTTP (budgets: 300 ms a report, 3 s a workbook)."""
from __future__ import annotations

import datetime as dt
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
EVENTS_PER_CALL = 15
TICKETS = 20_000
RECORDINGS = 50_000
AGENTS = 40
DAYS = 90
REPORT_BUDGET_MS = 300.0
WORKBOOK_BUDGET_MS = 3000.0
FIRST_DAY = dt.date(2026, 1, 1)
MONTH = ("2026-02-01", "2026-02-28")
# A call's journal as the engine writes it (firmware/callcenter): 15 events of an answered call.
KINDS = ("call:answered", "ivr:node", "ivr:node", "ivr:digit", "ivr:node", "queue:enter", "queue:announce",
         "agent:ring", "queue:connect", "recording:start", "call:hold", "call:resume", "ivr:survey",
         "call:transfer", "call:hangup")
# Outcomes by share of 100, as a branch's day has them.
DISPOSITIONS = ("CASE WHEN d < 70 THEN 'answered' WHEN d < 79 THEN 'abandoned' WHEN d < 84 THEN 'ivr_hangup' "
                "WHEN d < 89 THEN 'completed' WHEN d < 93 THEN 'voicemail' WHEN d < 96 THEN 'callback' "
                "WHEN d < 98 THEN 'overflow' ELSE 'timeout' END")


def build_box(db_path: Path, calls: int = CALLS) -> None:
    """The records as the engine and the web process write them (through the change-sequence triggers),
    spread over DAYS days of 08:00-20:00 with deterministic pseudo-random waits, talk times and outcomes."""
    start = time.mktime(FIRST_DAY.timetuple())
    db = open_db(db_path)
    conn = db.conn
    conn.execute("BEGIN IMMEDIATE")
    conn.execute(f"""
        CREATE TEMP TABLE g AS
        WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
        SELECT i, (i * 2654435761) % 4294967296 AS h, (i * 40503) % 100 AS d,
               ? + (i * {DAYS} / ?) * 86400 + 28800 + ((i * 2654435761) % 4294967296) % 43200 AS t FROM n""",
                 [calls - 1, start, calls])
    conn.execute(f"""
        INSERT INTO calls (id, direction, channel, number, arrived_at, answered_at, queue, queued_at, agent_id,
                           connected_at, ended_at, path, disposition, hangup_by, wait, talk, hold, transfers, digits)
        SELECT printf('c%031x', i), 'inbound', 'trunk-' || (i % 8), printf('138%08d', h % 50000), t, t + 1,
               CASE WHEN disp IN ('ivr_hangup', 'completed') THEN NULL ELSE 'q' || (i % 3) END,
               CASE WHEN disp IN ('ivr_hangup', 'completed', 'overflow') THEN NULL ELSE t + 12 END,
               CASE WHEN disp = 'answered' THEN printf('10%02d', i % {AGENTS}) END,
               CASE WHEN disp = 'answered' THEN t + 12 + h % 45 END,
               t + 12 + h % 45 + CASE WHEN disp = 'answered' THEN 60 + h % 400 ELSE 20 END,
               CASE disp WHEN 'ivr_hangup' THEN '["welcome","menu"]'
                         WHEN 'completed' THEN '["welcome","menu","balance"]' ELSE '["welcome","menu","q' || (i % 3) || '"]' END,
               disp, 'caller',
               CASE WHEN disp IN ('ivr_hangup', 'completed', 'overflow') THEN NULL ELSE h % 45 END,
               CASE WHEN disp = 'answered' THEN 60 + h % 400 END,
               CASE WHEN disp = 'answered' AND h % 5 = 0 THEN 30 ELSE 0 END,
               CASE WHEN h % 20 = 0 THEN 1 ELSE 0 END, '1'
        FROM (SELECT *, {DISPOSITIONS} AS disp FROM g)""")
    kinds = " ".join(f"WHEN {k} THEN '{kind}'" for k, kind in enumerate(KINDS))
    conn.execute(f"""
        WITH RECURSIVE k(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM k WHERE j < {EVENTS_PER_CALL - 1})
        INSERT INTO call_events (id, call_id, at, kind, data)
        SELECT printf('c%031x-%04d', g.i, k.j), printf('c%031x', g.i), g.t + k.j * 8,
               CASE WHEN k.j = 13 AND g.d >= 98 THEN 'queue:timeout' WHEN k.j = 13 AND g.d >= 96 THEN 'queue:full'
                    ELSE CASE k.j {kinds} END END,
               '{{"queue":"q' || (g.i % 3) || '","node":"menu"}}'
        FROM g, k ORDER BY g.t, k.j""")
    _agent_states(conn, start)
    conn.execute(f"""
        WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
        INSERT INTO tickets (id, number, number_key, call_id, category, priority, department, title, description,
                             state, created_by, agent_id, created_at, updated_at, due_at, resolved_at, version,
                             repeat_of, first_contact_resolution, satisfaction)
        SELECT printf('t%031x', i), printf('138%08d', i % 50000), printf('138%08d', i % 50000), printf('c%031x', i * 5),
               CASE i % 5 WHEN 0 THEN 'complaint' WHEN 1 THEN 'consultation' WHEN 2 THEN 'repair' WHEN 3 THEN 'return'
                          ELSE 'suggestion' END, 'normal',
               CASE i % 4 WHEN 0 THEN 'complaints' WHEN 1 THEN 'service' WHEN 2 THEN 'repair' ELSE 'logistics' END,
               CASE i % 7 WHEN 0 THEN '退款未到账' WHEN 1 THEN 'Rude agent on the phone' WHEN 2 THEN '送货延误'
                          ELSE 'Order ' || i END,
               '客户反映订单 ' || i || ' 的问题，quality of item', CASE WHEN i % 3 = 0 THEN 'closed'
               WHEN i % 3 = 1 THEN 'resolved' ELSE 'dispatched' END, 'agent', printf('10%02d', i % {AGENTS}),
               ? + i * (? / ?), ? + i * (? / ?), ? + i * (? / ?) + 86400,
               CASE WHEN i % 3 < 2 THEN ? + i * (? / ?) + 3600 END, 1,
               CASE WHEN i % 10 = 0 AND i > 0 THEN printf('t%031x', i - 1) END,
               CASE WHEN i % 3 < 2 THEN (i % 2) END, CASE WHEN i % 3 = 0 THEN 1 + i % 5 END
        FROM n""", [TICKETS - 1] + [start, DAYS * 86400.0, TICKETS] * 4)
    conn.execute("""
        INSERT INTO ticket_events (id, ticket_id, at, username, kind, action, from_state, to_state)
        SELECT 'e' || id, id, created_at + 60, 'agent', 'transition', 'dispatch', 'new', 'dispatched' FROM tickets""")
    conn.execute("""
        INSERT INTO recordings (id, call_id, path, duration, size, sha256, created_at)
        SELECT 'r' || substr(id, 2), id, 'recordings/' || id || '.wav', talk, CAST(talk * 32000 AS INTEGER),
               'sha', ended_at FROM calls WHERE disposition = 'answered' ORDER BY arrived_at LIMIT ?""", [RECORDINGS])
    conn.execute("""
        INSERT INTO survey_answers (id, call_id, survey, question, answer, at)
        SELECT 's' || substr(id, 2), id, 'after_call', 'q', CAST(1 + CAST(talk AS INTEGER) % 5 AS TEXT), ended_at
        FROM calls WHERE disposition = 'answered' AND CAST(talk AS INTEGER) % 5 = 0""")
    conn.execute("INSERT INTO agents (id, name, station, queues, skills, updated_at)"
                 " SELECT DISTINCT agent_id, 'Agent ' || agent_id, 's', '[\"q0\",\"q1\",\"q2\"]', '{}', 0"
                 " FROM calls WHERE agent_id IS NOT NULL")
    conn.execute("INSERT INTO queues (id, strategy, skill, updated_at) VALUES ('q0', 'longest_idle', 'sales', 0),"
                 " ('q1', 'longest_idle', 'care', 0), ('q2', 'round_robin', 'billing', 0)")
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()


def _agent_states(conn, start: float) -> None:
    """Each agent's day (ready 08:00, lunch 12:00-13:00, signed out 20:30) and each answered call's talk,
    wrap-up (30 s) and ready again, written in time order as the engine writes them."""
    conn.execute(f"""
        CREATE TEMP TABLE s AS
        SELECT agent_id, 'talking' AS state, NULL AS reason, connected_at AS at FROM calls WHERE agent_id IS NOT NULL
        UNION ALL SELECT agent_id, 'wrapup', NULL, ended_at FROM calls WHERE agent_id IS NOT NULL
        UNION ALL SELECT agent_id, 'ready', NULL, ended_at + 30 FROM calls WHERE agent_id IS NOT NULL
        UNION ALL SELECT a.agent_id, x.state, x.reason, ? + d.day * 86400 + x.offset
        FROM (SELECT DISTINCT agent_id FROM calls WHERE agent_id IS NOT NULL) a,
             (WITH RECURSIVE n(day) AS (SELECT 0 UNION ALL SELECT day + 1 FROM n WHERE day < {DAYS - 1})
              SELECT day FROM n) d,
             (SELECT 'ready' AS state, NULL AS reason, 28000 AS offset UNION ALL SELECT 'not_ready', 'Lunch', 43200
              UNION ALL SELECT 'ready', NULL, 46800 UNION ALL SELECT 'logged_out', NULL, 73800) x""", [start])
    conn.execute("INSERT INTO agent_states (id, agent_id, state, reason, at)"
                 " SELECT agent_id || '-' || rowid, agent_id, state, reason, at FROM s ORDER BY at")


def _cpu_ms(pid: int) -> float:
    """The process's CPU time (user + system), ms: what a request costs the box whatever else runs on it."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000.0 / os.sysconf("SC_CLK_TCK")


def _timed(browser: _Browser, path: str, n: int, pid: int) -> tuple[float, float, int]:
    """Median wall ms of `n` GETs of `path`, the web process's mean CPU ms for one, and the answer's size;
    an error answer (urllib raises it) stops the bench."""
    times, size = [], 0
    cpu = _cpu_ms(pid)
    for _ in range(n):
        begin = time.perf_counter()
        with browser.opener.open(browser.base + path, timeout=300) as reply:
            body = reply.read()
        times.append((time.perf_counter() - begin) * 1000.0)
        size = len(body)
    return statistics.median(times), (_cpu_ms(pid) - cpu) / n, size


def measure(rounds: int = 10, calls: int = CALLS) -> list[tuple[str, float, float, int, float]]:
    with tempfile.TemporaryDirectory(prefix="branchline-bench-reports-") as tmp:
        state = Path(tmp) / "state"
        state.mkdir()
        begin = time.perf_counter()
        build_box(state / "branchline.db", calls)
        built = time.perf_counter() - begin
        web = start_web(state, Path(tmp) / "web.log")
        try:
            browser = _Browser(f"http://127.0.0.1:{web_port(Path(tmp) / 'web.log', web)}")
            password = secrets.token_urlsafe(12)
            browser.form("/setup", {"username": "admin", "password": password, "confirm": password})
            browser.form("/login", {"username": "admin", "password": password, "next": "/"})
            month = f"from={MONTH[0]}&to={MONTH[1]}"
            cases = [
                ("calls, month by day", f"/api/v1/reports/calls?{month}&group=day", REPORT_BUDGET_MS),
                ("calls, month by hour", f"/api/v1/reports/calls?{month}&group=hour", REPORT_BUDGET_MS),
                ("calls, month, one queue", f"/api/v1/reports/calls?{month}&queue=q1", REPORT_BUDGET_MS),
                ("agents, month", f"/api/v1/reports/agents?{month}&group=week", REPORT_BUDGET_MS),
                ("IVR, month", f"/api/v1/reports/ivr?{month}", REPORT_BUDGET_MS),
                ("tickets, month", f"/api/v1/reports/tickets?{month}", REPORT_BUDGET_MS),
                ("complaints, month", f"/api/v1/reports/complaints?{month}", REPORT_BUDGET_MS),
                ("call details, month, page 50", f"/api/v1/reports/call_details?{month}&page=50", REPORT_BUDGET_MS),
                ("calls page, month (HTML)", f"/reports/calls?{month}", REPORT_BUDGET_MS),
                ("staffing, month by half hour", f"/api/v1/staffing?{month}", REPORT_BUDGET_MS),
                ("staffing what-if", "/api/v1/staffing/what-if?calls_per_hour=200&aht_s=180", REPORT_BUDGET_MS),
                ("calls xlsx, month by hour", f"/api/v1/reports/calls?{month}&group=hour&format=xlsx",
                 WORKBOOK_BUDGET_MS),
                ("agents xlsx, month", f"/api/v1/reports/agents?{month}&format=xlsx", WORKBOOK_BUDGET_MS),
                ("call details xlsx, month", f"/api/v1/reports/call_details?{month}&format=xlsx", None),
                ("call details csv, month", f"/api/v1/reports/call_details?{month}&format=csv", None),
            ]
            results = []
            for name, path, budget in cases:
                n = rounds if budget == REPORT_BUDGET_MS else max(2, rounds // 4)
                median, cpu, size = _timed(browser, path, n, web.pid)
                results.append((name, median, cpu, size, budget or 0.0))
            results.append(("(store built in)", built * 1000.0, 0.0, (state / "branchline.db").stat().st_size, 0.0))
            return results
        finally:
            web.send_signal(signal.SIGTERM)
            web.wait(30)


def run(out=print, quick: bool = False, calls: int = CALLS) -> list[tuple[str, float, float, int, float]]:
    results = measure(4 if quick else 10, calls)
    out(f"Reports (`python -m webui.server`, {calls:,} calls over {DAYS} days, {calls * EVENTS_PER_CALL:,} call "
        f"events, {TICKETS:,} tickets, {RECORDINGS:,} recordings; the month {MONTH[0]} to {MONTH[1]}; median wall "
        f"time over HTTP and the web process's CPU time a request, which other work on the machine does not "
        f"inflate; budgets {REPORT_BUDGET_MS:.0f} ms a report, {WORKBOOK_BUDGET_MS / 1000:.0f} s a workbook; load "
        f"average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    out(f"{'':>32} {'wall':>12} {'CPU':>12} {'size':>13}")
    for name, wall, cpu, size, budget in results:
        verdict = "" if not budget else ("" if min(wall, cpu) < budget else "  OVER BUDGET")
        out(f"{name:>32} {wall:>9.1f} ms {cpu:>9.1f} ms {size / 1024:>9.0f} KiB{verdict}")
    return results


if __name__ == "__main__":
    run()
