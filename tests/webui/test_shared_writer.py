"""The web process writes through one connection shared by its parts (webui/shared_writer.py)."""
from __future__ import annotations

import gc
import os
import threading
from pathlib import Path

import pytest

from firmware.store import connect
from webui.app import create_app
from webui.shared_writer import SharedWriter
from webui.write_store import WriteStore


def _open_files(path: Path) -> int:
    """How many descriptors of this process have `path` open (one per SQLite connection to it)."""
    target = str(path.resolve())
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            count += os.readlink(f"/proc/self/fd/{fd}") == target
        except OSError:
            pass
    return count


def test_the_web_ui_writes_through_one_connection_whoever_writes(tmp_path):
    db_path = tmp_path / "branchline.db"
    connect(db_path).close()
    app = create_app(db_path, tmp_path / "engine.sock")
    try:
        # accounts, audit, cards, tickets, the knowledge base, campaigns, mail, webhooks, report schedules,
        # evaluations, HQ tokens, VIP levels: each an open connection of its own before, 13 in all.
        assert _open_files(db_path) == 1
    finally:
        app.close()
    assert _open_files(db_path) == 0


def test_the_last_part_to_let_go_closes_the_connection(tmp_path):
    db_path = tmp_path / "branchline.db"
    first, second = SharedWriter(db_path), SharedWriter(tmp_path / "." / "branchline.db")
    assert second.conn is first.conn
    first.close()
    first.close()  # a second close of the same part lets go of nothing more
    assert second.conn.execute("SELECT 1").fetchone() == (1,)
    second.close()
    assert _open_files(db_path) == 0


def test_a_part_never_writes_inside_another_parts_transaction(tmp_path):
    """One part's write waits for another part's open transaction to end; when that transaction rolls
    back, the waiting part's write is still made. Sharing the connection without the lock, it would have
    gone into the other part's transaction and been rolled back with it."""
    db_path = tmp_path / "branchline.db"
    mail, webhooks = WriteStore(db_path, name="mail-store"), WriteStore(db_path, name="webhook-store")
    inside, go_on = threading.Event(), threading.Event()

    def failing_change(conn, now):
        conn.execute("INSERT INTO settings (key, value) VALUES ('from-the-failing-part', '1')")
        inside.set()
        go_on.wait(10)
        raise RuntimeError("this part's change fails after its first statement")

    def fail():
        with pytest.raises(RuntimeError):
            mail.write(failing_change)

    failing = threading.Thread(target=fail)
    failing.start()
    assert inside.wait(10)
    other = threading.Thread(target=webhooks.write, args=(
        lambda conn, now: conn.execute("INSERT INTO settings (key, value) VALUES ('from-the-other-part', '1')"),))
    other.start()
    other.join(0.3)
    assert other.is_alive(), "the other part wrote while the first part's transaction was open"
    go_on.set()
    failing.join(10)
    other.join(10)
    check = connect(db_path)
    keys = {k for (k,) in check.execute("SELECT key FROM settings WHERE key LIKE 'from-the-%'")}
    check.close()
    mail.close()
    webhooks.close()
    assert keys == {"from-the-other-part"}


def test_a_part_dropped_without_closing_lets_the_connection_go(tmp_path):
    db_path = tmp_path / "branchline.db"
    part = WriteStore(db_path, name="mail-store")
    assert _open_files(db_path) == 1
    del part
    gc.collect()
    assert _open_files(db_path) == 0
