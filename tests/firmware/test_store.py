"""The store: migrations, change sequences HQ relies on, and the writer thread that never loses a row."""
import json
import sqlite3
import threading
import time

import pytest

from firmware.store import SYNCED_TABLES, StoreError, connect, migrations, open_db, open_readonly
from firmware.store.writer import StoreWriter


def test_migrations_are_idempotent_and_wal(tmp_path):
    db = open_db(tmp_path / "b.db")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = set(db.table_names())
    db.conn.close()
    db = open_db(tmp_path / "b.db")
    assert set(db.table_names()) == tables
    assert {"calls", "call_events", "agents", "agent_states", "queues", "recordings", "users"} <= tables


def test_every_migration_in_the_module_is_applied_in_order():
    # A migration written but left out of MIGRATIONS would never run on any box.
    written = [name for name in vars(migrations) if name[:1] == "m" and name[1:5].isdigit()]
    assert [m.__name__ for m in migrations.MIGRATIONS] == sorted(written)


def test_a_plain_connection_migrates_a_new_database_once(tmp_path):
    conn = connect(tmp_path / "b.db")
    assert migrations.pending(conn) == []
    applied = conn.execute("SELECT name, applied_at FROM _sqlite_migrations").fetchall()
    assert [name for name, _ in applied] == [m.__name__ for m in migrations.MIGRATIONS]
    conn.close()
    conn = connect(tmp_path / "b.db")
    assert conn.execute("SELECT name, applied_at FROM _sqlite_migrations").fetchall() == applied
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


@pytest.mark.parametrize("table", SYNCED_TABLES)
def test_every_synced_row_gets_a_new_increasing_sequence(tmp_path, table):
    db = open_db(tmp_path / "b.db")
    required = {"customers": {"number": "1"}, "lookup_items": {"table_name": "t", "key": "1"},
                "audit_log": {"at": "1", "action": "user.create"},
                "kb_articles": {"title": "t", "body": "b", "created_at": "1", "updated_at": "1"},
                "tickets": {"category": "c", "priority": "p", "state": "new", "created_at": "1", "updated_at": "1"},
                "ticket_events": {"ticket_id": "t", "at": "1", "kind": "note"},
                "customer_numbers": {"customer_id": "c", "number": "+1"},
                "sms_messages": {"direction": "out", "number": "1", "text": "t", "state": "queued", "created_at": "1",
                                 "updated_at": "1"},
                "evaluations": {"recording_id": "r", "evaluator": "e", "score": "1", "scores": "[]",
                                "created_at": "1"},
                "campaigns": {"name": "n", "mode": "message", "purpose": "notification", "state": "draft",
                              "created_at": "1", "updated_at": "1"},
                "campaign_contacts": {"campaign_id": "c", "number": "+1", "state": "pending", "updated_at": "1"},
                "dnc_numbers": {"added_at": "1"},
                "campaign_rules": {"campaign_id": "c", "field": "warranty_until", "days_before": "30", "enabled": "1",
                                   "created_at": "1", "updated_at": "1"}}.get(table, {})
    db[table].insert({"id": "a", **required})
    db[table].insert({"id": "b", **{k: v + "2" for k, v in required.items()}})
    first = {r["id"]: r["seq"] for r in db[table].rows}
    assert first["a"] < first["b"]
    db.execute(f"UPDATE {table} SET id = id WHERE id = 'a'")
    db.conn.commit()
    assert db[table].get("a")["seq"] > first["b"]
    db[table].delete("b")
    tomb = list(db["tombstones"].rows)
    assert tomb[-1]["table_name"] == table and tomb[-1]["row_id"] == "b"
    assert tomb[-1]["seq"] > db[table].get("a")["seq"]


def test_sequences_unique_across_tables_and_processes(tmp_path):
    w = open_db(tmp_path / "b.db")
    other = open_db(tmp_path / "b.db")     # a second writer, as the web process is
    for i in range(20):
        (w if i % 2 else other)["calls" if i % 3 else "agents"].insert({"id": f"r{i}"})
    seqs = [r[0] for r in w.execute("SELECT seq FROM calls UNION ALL SELECT seq FROM agents")]
    assert len(seqs) == len(set(seqs)) == 20


def test_readonly_connection_cannot_write(tmp_path):
    open_db(tmp_path / "b.db").conn.close()
    ro = open_readonly(tmp_path / "b.db")
    with pytest.raises(sqlite3.OperationalError):
        ro.execute("INSERT INTO settings (key, value) VALUES ('a', 'b')")


def test_unopenable_database_is_a_store_error(tmp_path):
    with pytest.raises(StoreError, match=str(tmp_path)):
        open_db(tmp_path / "missing-dir" / "b.db")


def test_writer_commits_everything_in_order(tmp_path):
    w = StoreWriter(tmp_path / "b.db")
    w.start()
    for i in range(5000):
        w.insert("call_events", {"id": f"e{i:05d}", "call_id": None, "at": float(i), "kind": "x"})
    w.update("call_events", "e00000", {"kind": "y"})
    assert w.flush()
    rows = list(open_readonly(tmp_path / "b.db")["call_events"].rows_where(order_by="seq"))
    assert len(rows) == 5000
    assert [r["id"] for r in rows[:-1]] == [f"e{i:05d}" for i in range(1, 5000)]
    assert rows[-1]["id"] == "e00000" and rows[-1]["kind"] == "y"
    w.close()


def test_writer_sets_a_bad_row_aside_and_keeps_the_rest(tmp_path):
    w = StoreWriter(tmp_path / "b.db")
    w.start()
    w.insert("calls", {"id": "a"})
    w.insert("calls", {"id": "a"})                     # duplicate id
    w.insert("calls", {"id": "b"})
    w.insert("calls", {"id": "c", "bogus; DROP": 1})   # not a column name
    assert w.flush()
    assert w.status()["committed"] == 2 and w.status()["rejected"] == 2
    assert {r["id"] for r in open_readonly(tmp_path / "b.db")["calls"].rows} == {"a", "b"}
    kept = [json.loads(line) for line in (tmp_path / "b.rejected.jsonl").read_text().splitlines()]
    assert [k["op"][2]["id"] for k in kept] == ["a", "c"]
    w.close()


def _locked_by_another_process(path):
    """A foreign connection holding the write lock (a technician's sqlite3 shell, a backup)."""
    blocker = sqlite3.connect(path, isolation_level=None, timeout=5.0, check_same_thread=False)
    blocker.execute("BEGIN IMMEDIATE")
    return blocker


def _until(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.01)


# A not_ready reason the control socket once let through (the item 4): a lone surrogate has
# no UTF-8 form, 10**23 is beyond SQLite's 64-bit integers, a dict or list is no SQL value.
@pytest.mark.parametrize("bad, why", [("\ud800", "UnicodeEncodeError"), (10**23, "OverflowError"),
                                      ({"a": 1}, "not supported"), (["x"], "not supported")])
def test_writer_sets_aside_a_row_it_cannot_encode_and_carries_on(tmp_path, bad, why):
    w = StoreWriter(tmp_path / "b.db")
    w.start()
    w.insert("calls", {"id": "before"})
    w.insert("agent_states", {"id": "s1", "agent_id": "1001", "state": "not_ready", "reason": bad, "at": 1.0})
    w.insert("calls", {"id": "after"})
    assert w.flush(timeout=5)
    w.insert("calls", {"id": "later"})    # the thread is still there for the next batch
    assert w.flush(timeout=5)
    status = w.status()
    assert status["alive"] and status["fault"] is None
    assert (status["committed"], status["rejected"]) == (3, 1)
    db = open_readonly(tmp_path / "b.db")
    assert {r["id"] for r in db["calls"].rows} == {"before", "after", "later"}
    assert db["agent_states"].count == 0
    kept = [json.loads(line) for line in (tmp_path / "b.rejected.jsonl").read_text().splitlines()]
    assert len(kept) == 1 and kept[0]["op"][2]["id"] == "s1" and why in kept[0]["error"]
    assert kept[0]["op"][2]["reason"] == bad     # the value itself survives, to be replayed by hand
    w.close()


def test_a_lock_longer_than_the_old_give_up_time_rejects_no_row(tmp_path):
    """The issue's item 5, writer alone: rows keep coming while another process holds the write
    lock for longer than the writer used to try (5 attempts of the busy timeout plus 3 s of
    sleeps: 28 s at the box's 5 s, 4.0 s at the 0.2 s set here); none may be set aside."""
    w = StoreWriter(tmp_path / "b.db")
    w.db.conn.execute("PRAGMA busy_timeout = 200")
    w.start()
    blocker = _locked_by_another_process(tmp_path / "b.db")
    locked_at = time.monotonic()
    n = 0
    while time.monotonic() - locked_at < 6.0:     # 6 s of traffic under the lock
        w.insert("calls", {"id": f"c{n}"})
        n += 1
        time.sleep(0.05)
    waiting = w.status().get("waiting")
    blocker.execute("COMMIT")
    assert w.flush(timeout=10)
    status = w.status()
    assert (status["committed"], status["rejected"]) == (n, 0)
    assert open_readonly(tmp_path / "b.db")["calls"].count == n
    assert not (tmp_path / "b.rejected.jsonl").exists()
    assert waiting is not None and "SQLITE_BUSY" in waiting["reason"]   # the wait showed while it lasted
    assert status["alive"] and status["waiting"] is None
    w.close()


class _FailingBegin:
    """The writer's connection, failing its first `times` transactions with `error`."""

    def __init__(self, conn, error, times):
        self.conn, self.error, self.times = conn, error, times

    def execute(self, sql, *params):
        if sql == "BEGIN IMMEDIATE" and self.times:
            self.times -= 1
            raise self.error
        return self.conn.execute(sql, *params)

    def __getattr__(self, name):
        return getattr(self.conn, name)


def test_a_full_disk_waits_instead_of_setting_rows_aside(tmp_path):
    w = StoreWriter(tmp_path / "b.db")
    full = sqlite3.OperationalError("database or disk is full")    # the SD card, full for a while
    full.sqlite_errorcode, full.sqlite_errorname = sqlite3.SQLITE_FULL, "SQLITE_FULL"
    w.db.conn = _FailingBegin(w.db.conn, full, times=3)
    w.start()
    w.insert("calls", {"id": "kept"})
    assert w.flush(timeout=10)
    assert (w.status()["committed"], w.status()["rejected"]) == (1, 0)
    assert open_readonly(tmp_path / "b.db")["calls"].get("kept")
    w.close()


def test_shutdown_under_a_lock_keeps_waiting_rows_in_the_dead_letter_file(tmp_path):
    w = StoreWriter(tmp_path / "b.db")
    w.db.conn.execute("PRAGMA busy_timeout = 100")
    w.start()
    blocker = _locked_by_another_process(tmp_path / "b.db")
    for i in range(3):
        w.insert("calls", {"id": f"c{i}"})
    _until(lambda: w.status()["waiting"] is not None)
    w.close(timeout=1.0)
    blocker.execute("COMMIT")
    kept = [json.loads(line) for line in (tmp_path / "b.rejected.jsonl").read_text().splitlines()]
    assert sorted(k["op"][2]["id"] for k in kept) == ["c0", "c1", "c2"]
    assert all("engine stopped before commit (SQLITE_BUSY" in k["error"] for k in kept)


def test_a_fault_of_our_own_in_the_writer_is_logged_and_the_thread_goes_on(tmp_path):
    w = StoreWriter(tmp_path / "b.db")
    w.db.conn = _FailingBegin(w.db.conn, RuntimeError("a bug of ours"), times=1)
    w.start()
    w.insert("calls", {"id": "a"})
    assert w.flush(timeout=5)
    w.insert("calls", {"id": "b"})
    assert w.flush(timeout=5)
    status = w.status()
    assert status["alive"] and (status["committed"], status["rejected"]) == (1, 1)
    assert status["errors"] == 1 and "RuntimeError: a bug of ours" in status["last_error"]
    kept = [json.loads(line) for line in (tmp_path / "b.rejected.jsonl").read_text().splitlines()]
    assert kept[0]["op"][2] == {"id": "a"} and kept[0]["error"] == "writer fault: RuntimeError: a bug of ours"
    w.close()


def test_a_writer_thread_that_died_is_a_fault_in_its_status(tmp_path):
    w = StoreWriter(tmp_path / "b.db")

    def die(batch):
        raise SystemExit("gone")      # what no guard catches: the thread ends
    w._guarded = die
    w.start()
    w.insert("calls", {"id": "a"})
    _until(lambda: not w.status()["alive"])
    assert w.status()["fault"] == "store-writer thread died (SystemExit: gone)"
    w.close(timeout=0.5)


def test_a_writer_thread_stuck_in_our_code_is_a_fault_but_a_wait_is_not(tmp_path):
    w = StoreWriter(tmp_path / "b.db")
    w.start()
    now = [1000.0]
    w.heartbeat.monotonic = lambda: now[0]
    w.heartbeat.beat()
    w.heartbeat.waiting("SQLITE_BUSY: database is locked")
    now[0] += 5.0
    assert w.status()["alive"] and w.status()["waiting"]["reason"] == "SQLITE_BUSY: database is locked"
    w.heartbeat.beat = lambda: None      # the thread no longer comes round to beat
    now[0] += 60.0
    assert not w.status()["alive"] and "store-writer thread stuck for 65 s" == w.status()["fault"]
    w.close(timeout=2.0)


def test_handoff_never_blocks_and_never_drops():
    from firmware.core.handoff import Handoff
    h = Handoff(maxsize=3)
    for i in range(10):
        h.put(i)
    assert h.backlog == 10 and h.spilled == 7
    got = []
    while h.backlog:
        got.append(h.queue.get_nowait())
        h.pump()
    assert got == list(range(10))


TRAFFIC = """
[run]
seconds = {seconds}
seed = 5
trunks = 8
drain = 60
[[agents]]
id = "1001"
skills = {{ sales = 5 }}
answer_after = 1.0
[[agents]]
id = "1002"
skills = {{ sales = 5 }}
answer_after = 1.5
[[agents]]
id = "1003"
skills = {{ sales = 5 }}
answer_after = 1.0
[[traffic]]
per_hour = 3600
keys = ["1"]
key_delay = 1.0
patience = [3.0, 10.0]
talk = [1.0, 3.0]
"""


@pytest.mark.parametrize("lock_s, busy_timeout_ms", [
    (6.0, 200),                                              # past the old give-up time at 0.2 s (4.0 s)
    pytest.param(60.0, None, marks=pytest.mark.slow),        # the 60 s at the box's own 5 s
])
def test_a_foreign_lock_during_traffic_loses_no_row_and_keeps_the_watchdog_pinging(tmp_path, lock_s,
                                                                                     busy_timeout_ms):
    """The issue's item 5: another process holds the write lock while calls come and go. Every
    row reaches the database, none is set aside, every call is closed, and the watchdog never
    withholds a ping (systemd would have restarted the engine and dropped the calls)."""
    from firmware.tools.scenario import ScenarioRun, load_scenario
    from firmware.core.sdnotify import Watchdog
    (tmp_path / "traffic.toml").write_text(TRAFFIC.format(seconds=int(lock_s) + 3))
    run = ScenarioRun(load_scenario(tmp_path / "traffic.toml"), tmp_path / "state", clock="paced")
    engine, store = run.engine, run.engine.store
    if busy_timeout_ms is not None:
        store.db.conn.execute(f"PRAGMA busy_timeout = {busy_timeout_ms}")
    dog = Watchdog(engine, {"WATCHDOG_USEC": "2000000"})     # a ping every second of the loop's time
    dog.start()
    under_lock, others_alive, released = [], [], threading.Event()

    def release(blocker):
        released.set()
        blocker.execute("COMMIT")

    def take_lock():
        threading.Timer(lock_s, release, [_locked_by_another_process(run.paths.db)]).start()
        sample()

    def sample():
        if not released.is_set():
            status = engine.status()         # what the control socket and the lines page get
            under_lock.append(status["store"])
            others_alive.append(status["journal"]["alive"] and status["recorder"]["alive"])
            engine.later(0.5, sample)
    engine.later(1.0, take_lock)
    report = run.run()
    status = store.status()

    assert (status["rejected"], status["backlog"]) == (0, 0)
    assert status["committed"] == status["submitted"]
    assert not run.paths.db.with_suffix(".rejected.jsonl").exists()
    # A caller who found every trunk busy never reached the box; every other call has its record.
    calls = [c for c in report["calls"] if c["caller"]["ended_by"] != "busy"]
    assert calls and all(c["call_id"] and c["disposition"] for c in calls), "a call without its record"
    db = open_readonly(run.paths.db)
    for c in calls:
        assert db["call_events"].count_where("call_id = ?", [c["call_id"]]) > 0
    waits = [s for s in under_lock if s["waiting"]]
    assert waits and max(s["backlog"] for s in waits) > 0, "the lock did not hold up any traffic"
    assert all(s["alive"] for s in under_lock) and all(others_alive)
    assert dog.withheld == 0 and dog.pings >= lock_s
