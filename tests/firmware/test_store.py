"""The store: migrations, change sequences HQ relies on, and the writer thread that never loses a row."""
import json
import sqlite3
import threading

import pytest

from firmware.store import SYNCED_TABLES, StoreError, open_db, open_readonly
from firmware.store.writer import StoreWriter


def test_migrations_are_idempotent_and_wal(tmp_path):
    db = open_db(tmp_path / "b.db")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = set(db.table_names())
    db.conn.close()
    db = open_db(tmp_path / "b.db")
    assert set(db.table_names()) == tables
    assert {"calls", "call_events", "agents", "agent_states", "queues", "recordings", "users"} <= tables


@pytest.mark.parametrize("table", SYNCED_TABLES)
def test_every_synced_row_gets_a_new_increasing_sequence(tmp_path, table):
    db = open_db(tmp_path / "b.db")
    required = {"customers": {"number": "1"}, "lookup_items": {"table_name": "t", "key": "1"}}.get(table, {})
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


def test_writer_waits_out_a_locked_database(tmp_path):
    w = StoreWriter(tmp_path / "b.db")
    w.start()
    blocker = sqlite3.connect(tmp_path / "b.db", isolation_level=None, timeout=0.1, check_same_thread=False)
    blocker.execute("BEGIN IMMEDIATE")
    w.insert("calls", {"id": "late"})
    threading.Timer(6.5, lambda: blocker.execute("COMMIT")).start()   # longer than busy_timeout
    assert w.flush(timeout=20)
    assert open_readonly(tmp_path / "b.db")["calls"].get("late")
    w.close()


def test_handoff_never_blocks_and_never_drops():
    from firmware.handoff import Handoff
    h = Handoff(maxsize=3)
    for i in range(10):
        h.put(i)
    assert h.backlog == 10 and h.spilled == 7
    got = []
    while h.backlog:
        got.append(h.queue.get_nowait())
        h.pump()
    assert got == list(range(10))
