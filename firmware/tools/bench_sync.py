"""Sync benchmark: records per second HQ pulls from a box holding 1,000,000 records, and what serving costs the box."""
from __future__ import annotations

import os
import signal
import tempfile
import time
from pathlib import Path

from firmware.core.control import ControlClient, ControlError
from firmware.tools.bench_box import busy_scenario, start_process, start_web, web_port
from hq.collector import Collector, load_config
from firmware.store import open_db
from firmware.store.sync import MAX_LIMIT, create_token

RECORDS = 1_000_000
# Each call of the box's history makes eight records: the call, six call events, one agent state.
EVENTS_PER_CALL = 6
LINES = 30


def build_box(db_path: Path, records: int) -> None:
    """A box database whose history holds `records` synced records, written as the engine writes them."""
    calls = records // (EVENTS_PER_CALL + 2)
    db = open_db(db_path)
    conn = db.conn
    conn.execute("BEGIN IMMEDIATE")
    # Each row goes through the change-sequence triggers, as the engine's writes do.
    conn.execute("""
        WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
        INSERT INTO calls (id, direction, channel, number, name, arrived_at, answered_at, queue, queued_at,
                           agent_id, connected_at, ended_at, digits, path, disposition, hangup_by, wait, talk,
                           customer_id, priority, wrapup_code, hold, transfers)
        SELECT printf('%032x', i), 'inbound', 'trunk-' || (i % 30), printf('138%08d', i), NULL,
               1767225600.0 + i * 20.0, 1767225601.0 + i * 20.0, 'sales', 1767225614.0 + i * 20.0,
               printf('10%02d', i % 40), 1767225630.0 + i * 20.0, 1767225780.0 + i * 20.0, '1',
               '["welcome","menu","sales"]', 'answered', 'agent', 16.0, 150.0, NULL, 0, 'sale', 0.0, 0
        FROM n""", [calls - 1])
    conn.execute("""
        WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
        INSERT INTO call_events (id, call_id, at, kind, data)
        SELECT printf('%032x-e%d', i / ?, i % ?), printf('%032x', i / ?), 1767225600.0 + i * 3.0,
               'ivr:node', '{"node": "menu"}'
        FROM n""", [calls * EVENTS_PER_CALL - 1] + [EVENTS_PER_CALL] * 3)
    conn.execute("""
        WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
        INSERT INTO agent_states (id, agent_id, state, reason, at)
        SELECT printf('%032x-s', i), printf('10%02d', i % 40), 'ready', NULL, 1767225600.0 + i * 20.0
        FROM n""", [records - calls * (EVENTS_PER_CALL + 1) - 1])
    conn.execute("COMMIT")
    conn.close()


def _cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _ticks(client: ControlClient | None) -> dict | None:
    if client is None:
        return None
    try:
        return client.call("status")["ticks"]
    except ControlError:
        return None


def run(out=print, records: int = RECORDS, calls: bool = True) -> dict:
    """Build the box, serve it (with calls running on the engine), pull it all into HQ; print the figures."""
    with tempfile.TemporaryDirectory(prefix="branchline-bench-sync-") as tmp:
        root = Path(tmp)
        state = root / "state"
        state.mkdir()
        t0 = time.perf_counter()
        build_box(state / "branchline.db", records)
        build_s = time.perf_counter() - t0
        db = open_db(state / "branchline.db")
        _, token = create_token(db.conn, "bench", time.time())
        db.conn.close()
        engine = client = None
        if calls:
            (root / "calls.toml").write_text(busy_scenario(LINES))
            engine = start_process(["-m", "firmware.cli", "run", "--state", str(state), "--demo", "--no-web",
                             "--scenario", str(root / "calls.toml")], root / "engine.log")
            client = ControlClient(state / "control.sock", timeout=5.0)
        web = start_web(state, root / "web.log")
        try:
            port = web_port(root / "web.log", web)
            if client is not None:
                deadline = time.monotonic() + 60
                while (_ticks(client) or {}).get("count", 0) < 500 and time.monotonic() < deadline:
                    time.sleep(0.5)      # the calls are up and the tick statistics have a window
            (root / "hq.toml").write_text(f'[hq]\npage = {MAX_LIMIT}\ntimeout = 120.0\n[[box]]\nid = "bench"\n'
                                          f'url = "http://127.0.0.1:{port}"\ntoken = "{token}"\n')
            collector = Collector(load_config(root / "hq.toml"))
            before, web_cpu0 = _ticks(client), _cpu_s(web.pid)
            t1 = time.perf_counter()
            report = collector.run_once()[0]
            wall = time.perf_counter() - t1
            web_cpu = _cpu_s(web.pid) - web_cpu0
            after = _ticks(client)
        finally:
            for proc in (web, engine):
                if proc is not None:
                    proc.send_signal(signal.SIGTERM)
                    proc.wait(30)
    if report.errors:
        raise RuntimeError(f"sync benchmark: the pull failed: {report.errors[-1]}")
    result = {"records": report.records, "pulled": report.pulled, "build_s": build_s, "wall_s": wall,
              "records_per_s": report.pulled / wall, "web_cpu_s": web_cpu,
              "web_cpu_us_per_record": 1e6 * web_cpu / report.pulled, "web_cpu_share": web_cpu / wall,
              "ticks_before": before, "ticks_after": after}
    out(f"HQ sync: one box holding {records:,} records (calls, call events, agent states), pulled by "
        f"`branchline hq pull` into SQLite, {MAX_LIMIT} records a page, over loopback")
    out(f"  records pulled        {report.pulled:>12,} in {wall:.1f} s (box built in {build_s:.1f} s)")
    out(f"  records per second    {result['records_per_s']:>12,.0f}  (box and HQ share this machine's CPUs)")
    out(f"  box web process CPU   {web_cpu:>12.1f} s = {result['web_cpu_us_per_record']:.1f} us per record, "
        f"{100 * web_cpu / wall:.0f} % of one core while pulling")
    if before and after:
        overruns, ticks = after["overruns"] - before["overruns"], after["count"] - before["count"]
        out(f"  calls running         {LINES} lines busy (half talking and recorded, half queued); engine tick "
            f"p99 {after['p99_ms']:.2f} ms, max {after['max_ms']:.1f} ms, "
            f"overruns during the pull {overruns} of {ticks} ticks")
    return result


if __name__ == "__main__":
    run()
