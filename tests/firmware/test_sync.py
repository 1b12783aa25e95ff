"""The box's side of HQ sync: the change feed under concurrent writers, tokens, acknowledgements, retention."""
import random
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from firmware.cli import main
from firmware.store import SYNCED_TABLES, open_db, open_readonly
from firmware.store.writer import StoreWriter
from firmware.store.sync import (MAX_LIMIT, CursorError, FileRefused, SyncError, TokenRefused, acked_floor,
                           apply_retention, box_instance, check_token, create_token, find_file, list_tokens,
                           parse_cursor, parse_limit, read_changes, record_ack, revoke_token, sync_status)

NOW = 1_800_000_000.0
DAY = 86400.0


@pytest.fixture
def db(tmp_path):
    d = open_db(tmp_path / "branchline.db")
    yield d
    d.conn.close()


def reader(path: Path) -> sqlite3.Connection:
    conn = open_readonly(path).conn
    conn.isolation_level = None
    return conn


def pull_all(conn, since=0, limit=MAX_LIMIT):
    changes = []
    while True:
        page = read_changes(conn, since, limit)
        changes += page.changes
        since = page.next
        if not page.more:
            return changes, since


@pytest.mark.parametrize("text, expected", [(None, 0), ("", 0), ("0", 0), ("12", 12), ("000017", 17)])
def test_cursor_accepts_whole_numbers(text, expected):
    assert parse_cursor(text) == expected


@pytest.mark.parametrize("text", ["-1", "1.5", "abc", "1e3", " 1", "0x10", "9" * 19, "١٢"])
def test_malformed_cursor_is_refused_with_the_reason(text):
    with pytest.raises(CursorError, match="since must be a whole number"):
        parse_cursor(text)


@pytest.mark.parametrize("text, expected", [(None, 1000), ("1", 1), ("5000", MAX_LIMIT)])
def test_limit_is_read(text, expected):
    assert parse_limit(text) == expected


@pytest.mark.parametrize("text", ["0", "-3", "ten", "2.5", "5001", "999999"])
def test_bad_limit_is_refused(text):
    with pytest.raises(CursorError, match="limit"):
        parse_limit(text)


def test_changes_come_in_sequence_order_with_full_rows_and_deletions(db, tmp_path):
    db["calls"].insert({"id": "c1", "number": "021", "disposition": "answered"})
    db["agents"].insert({"id": "a1", "name": "Ana"})
    db["recordings"].insert({"id": "r1", "call_id": "c1", "path": "x.wav", "size": 10, "sha256": "ab"})
    db.execute("UPDATE calls SET talk = 12.5 WHERE id = 'c1'")      # c1 moves to a new, later seq
    db["agents"].delete("a1")
    conn = reader(tmp_path / "branchline.db")
    page = read_changes(conn, 0, 100)
    assert [(c["table"], c["id"], c.get("deleted", False)) for c in page.changes] == [
        ("recordings", "r1", False), ("calls", "c1", False), ("agents", "a1", True)]
    seqs = [c["seq"] for c in page.changes]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3
    call = page.changes[1]["row"]
    assert call["talk"] == 12.5 and call["number"] == "021" and call["seq"] == seqs[1]
    assert page.changes[2]["reason"] is None
    # A short page ends at the counter, past the sequences c1 and a1 had before they changed.
    assert not page.more and page.next == page.latest == seqs[-1]
    assert read_changes(conn, page.next).changes == []


def test_paging_resumes_exactly_where_it_stopped(db, tmp_path):
    for i in range(25):
        db[SYNCED_TABLES[i % 3]].insert({"id": f"r{i}"})
    conn = reader(tmp_path / "branchline.db")
    seen, since, pages = [], 0, 0
    while True:
        page = read_changes(conn, since, 4)
        assert len(page.changes) <= 4
        seen += page.changes
        since, pages = page.next, pages + 1
        if not page.more:
            break
    assert pages == 7
    assert [c["seq"] for c in seen] == list(range(1, 26))


def test_a_cursor_from_the_future_is_refused(db, tmp_path):
    db["calls"].insert({"id": "c1"})
    with pytest.raises(CursorError, match="ahead of this box's latest change 1"):
        read_changes(reader(tmp_path / "branchline.db"), 2)


def test_an_uncommitted_sequence_hides_itself_and_holds_back_the_next(db, tmp_path):
    """Seq N+1 cannot exist before N commits: sequences are handed out under SQLite's one write lock."""
    path = tmp_path / "branchline.db"
    db["calls"].insert({"id": "before"})
    w1 = sqlite3.connect(path, isolation_level=None)
    w1.execute("PRAGMA busy_timeout = 10000")
    w1.execute("BEGIN IMMEDIATE")
    w1.execute("INSERT INTO calls (id) VALUES ('n')")
    n = w1.execute("SELECT seq FROM calls WHERE id = 'n'").fetchone()[0]
    second = threading.Thread(target=lambda: open_db(path)["agents"].insert({"id": "n+1"}))
    second.start()
    time.sleep(0.3)
    conn = reader(path)
    page = read_changes(conn, 0)
    assert [c["id"] for c in page.changes] == ["before"] and page.next == n - 1
    assert second.is_alive(), "the second writer must wait for the first to commit"
    w1.execute("COMMIT")
    second.join(10)
    page = read_changes(conn, page.next)
    assert [(c["id"], c["seq"]) for c in page.changes] == [("n", n), ("n+1", n + 1)]


def _writer_load(path: Path, seed: int, stop: threading.Event, use_engine_writer: bool) -> None:
    """Random inserts, updates and deletes over the synced tables, in small transactions."""
    rng = random.Random(seed)
    columns = {"calls": "number", "call_events": "kind", "agents": "name", "recordings": "path",
               "survey_answers": "answer"}
    tables = tuple(columns)
    ids = [f"w{seed}-{i}" for i in range(60)]
    if use_engine_writer:
        writer = StoreWriter(path)
        writer.start()
        while not stop.is_set():
            for _ in range(rng.randint(1, 20)):
                table = rng.choice(tables)
                writer.upsert(table, {"id": rng.choice(ids), columns[table]: str(rng.random())})
            writer.pump()
            time.sleep(rng.random() * 0.01)
        writer.close()
        return
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA busy_timeout = 10000")
    while not stop.is_set():
        conn.execute("BEGIN IMMEDIATE")
        for _ in range(rng.randint(1, 8)):
            table, rid = rng.choice(tables), rng.choice(ids)
            action = rng.random()
            if action < 0.5:
                conn.execute(f"INSERT INTO {table} (id) VALUES (?) ON CONFLICT(id) DO UPDATE SET id = id", [rid])
            elif action < 0.8:
                conn.execute(f"UPDATE {table} SET id = id WHERE id = ?", [rid])
            else:
                conn.execute(f"DELETE FROM {table} WHERE id = ?", [rid])
        conn.execute("COMMIT")
        time.sleep(rng.random() * 0.003)
    conn.close()


def test_a_reader_pulling_during_concurrent_writes_misses_nothing(db, tmp_path):
    """Four writers (the engine's writer thread and three other connections, as the web process and
    the retention command are) change rows while a reader pulls small pages. The stream must be in
    strictly increasing sequence order, and replaying it must give exactly the final tables: a page
    that showed N+1 before N had committed would have moved the cursor past N for good."""
    path = tmp_path / "branchline.db"
    stop = threading.Event()
    writers = [threading.Thread(target=_writer_load, args=(path, seed, stop, seed == 0)) for seed in range(4)]
    for w in writers:
        w.start()
    conn = reader(path)
    mirror: dict[tuple[str, str], dict] = {}
    since, last_seq, pages = 0, 0, 0
    rng = random.Random(7)

    def apply(page):
        nonlocal last_seq
        for c in page.changes:
            assert c["seq"] > last_seq, "the feed went back in sequence"
            last_seq = c["seq"]
            if c.get("deleted"):
                mirror.pop((c["table"], c["id"]), None)
            else:
                mirror[(c["table"], c["id"])] = c["row"]
        assert page.next >= last_seq

    deadline = time.monotonic() + 2.5
    while time.monotonic() < deadline:
        page = read_changes(conn, since, rng.randint(1, 12))
        apply(page)
        since, pages = page.next, pages + 1
    stop.set()
    for w in writers:
        w.join(20)
    while True:
        page = read_changes(conn, since, 50)
        apply(page)
        since = page.next
        if not page.more:
            break
    truth = {}
    final = open_readonly(path)
    for table in SYNCED_TABLES:
        for row in final[table].rows:
            truth[(table, row["id"])] = row
    assert pages > 50 and last_seq > 500
    assert mirror == truth


# --- tokens and acknowledgements --------------------------------------------------------------------------
def test_token_is_stored_hashed_and_shown_once(db, tmp_path):
    row, token = create_token(db.conn, "HQ reporting", NOW, "admin")
    assert token.startswith("blhq_") and len(token) > 40
    assert "token_hash" not in row and "token" not in row
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert token.encode() not in (tmp_path / "branchline.db").read_bytes()
    assert check_token(db.conn, token) == {"id": row["id"], "name": "HQ reporting"}
    assert [t["id"] for t in list_tokens(db.conn)] == [row["id"]]


@pytest.mark.parametrize("name", ["", " ", "x" * 65, "tab\there"])
def test_token_needs_a_printable_name(db, name):
    with pytest.raises(SyncError, match="name"):
        create_token(db.conn, name, NOW)


def test_wrong_and_revoked_tokens_are_refused(db):
    row, token = create_token(db.conn, "HQ", NOW)
    for bad, reason in [("", "no bearer token"), ("Bearer", "not an HQ token"), ("blhq_" + "A" * 43, "unknown"),
                        (token + "x", "unknown"), ("blhq_" + "x" * 300, "not an HQ token")]:
        with pytest.raises(TokenRefused, match=reason):
            check_token(db.conn, bad)
    revoke_token(db.conn, row["id"], NOW + 1)
    with pytest.raises(TokenRefused, match=f"{row['id']} .HQ. was revoked"):
        check_token(db.conn, token)
    assert revoke_token(db.conn, row["id"], NOW + 5)["revoked_at"] == NOW + 1
    with pytest.raises(SyncError, match="no HQ token with id 'hq-nope'"):
        revoke_token(db.conn, "hq-nope", NOW)


def test_ack_is_stored_per_token_and_checked(db):
    a, _ = create_token(db.conn, "HQ", NOW)
    b, _ = create_token(db.conn, "backup HQ", NOW)
    assert acked_floor(db.conn) == 0
    db["calls"].insert_all([{"id": f"c{i}"} for i in range(5)])
    with pytest.raises(CursorError, match="ahead of this box's latest change 5"):
        record_ack(db.conn, a["id"], 6, NOW)
    for bad in (-1, "3", 2.5, -1.0, float("nan"), float("inf"), True, None):
        with pytest.raises(CursorError):
            record_ack(db.conn, a["id"], bad, NOW)
    # JSON's one number type: a whole number written 2.0 is 2 (RFC 8259 §6; JSON Schema's integer).
    assert record_ack(db.conn, a["id"], 2.0, NOW)["acked"] == 2
    record_ack(db.conn, a["id"], 5, NOW, "192.0.2.1")
    assert acked_floor(db.conn) == 0        # the backup HQ has taken nothing yet
    record_ack(db.conn, b["id"], 3, NOW)
    assert acked_floor(db.conn) == 3
    revoke_token(db.conn, b["id"], NOW)
    assert acked_floor(db.conn) == 5        # a revoked HQ holds nothing back
    acks = {t["id"]: (t["acked_seq"], t["acked_from"]) for t in list_tokens(db.conn)}
    assert acks[a["id"]] == (5, "192.0.2.1")


def test_no_active_token_means_nothing_is_acknowledged(db):
    assert acked_floor(db.conn) is None


def test_box_instance_is_made_once(db, tmp_path):
    first = box_instance(db.conn)
    other = open_db(tmp_path / "branchline.db")
    assert box_instance(other.conn) == first and len(first) == 32


# --- files and retention -----------------------------------------------------------------------------------
@pytest.fixture
def recordings(tmp_path):
    root = tmp_path / "recordings"
    (root / "2026" / "01").mkdir(parents=True)
    return root


def add_recording(db, root, rid, created_at, table="recordings", relpath=None):
    relpath = relpath or f"2026/01/{rid}.wav"
    if not relpath.startswith(("/", "..")):
        (root / relpath).write_bytes(b"RIFF" + rid.encode() * 100)
    db[table].insert({"id": rid, "path": relpath, "size": 4 + 100 * len(rid), "sha256": "00" * 32,
                      "created_at": created_at})


def test_files_are_found_only_inside_the_recordings_directory(db, tmp_path, recordings):
    add_recording(db, recordings, "ok", NOW)
    assert find_file(db.conn, recordings, "recordings", "ok").path == (recordings / "2026/01/ok.wav").resolve()
    (tmp_path / "secret.txt").write_text("not a recording")
    (recordings / "2026/01/link.wav").symlink_to(tmp_path / "secret.txt")
    db["recordings"].insert_all([{"id": "up", "path": "../branchline.db"}, {"id": "abs", "path": "/etc/passwd"},
                                 {"id": "link", "path": "2026/01/link.wav"}, {"id": "nul", "path": "a\0b"}])
    db["voicemails"].insert({"id": "vm-up", "path": "2026/../../secret.txt"})
    for table, rid in [("recordings", "up"), ("recordings", "abs"), ("recordings", "link"), ("recordings", "nul"),
                       ("voicemails", "vm-up")]:
        with pytest.raises(FileRefused, match="outside the recordings directory"):
            find_file(db.conn, recordings, table, rid)
    db["recordings"].insert({"id": "gone", "path": "2026/01/gone.wav"})
    with pytest.raises(FileRefused, match="recording gone: file 2026/01/gone.wav is missing"):
        find_file(db.conn, recordings, "recordings", "gone")
    with pytest.raises(FileRefused, match="no recording with id 'nope'"):
        find_file(db.conn, recordings, "recordings", "nope")
    with pytest.raises(FileRefused):
        find_file(db.conn, recordings, "calls", "ok")


def test_retention_deletes_nothing_before_hq_acknowledged(db, recordings):
    add_recording(db, recordings, "old", NOW - 40 * DAY)
    r = apply_retention(db.conn, recordings, 30, NOW)
    assert r.acked is None and r.deleted == {"recordings": 0, "voicemails": 0} and r.kept_unacked == 1
    token, _ = create_token(db.conn, "HQ", NOW)
    r = apply_retention(db.conn, recordings, 30, NOW)      # a token that never acknowledged
    assert r.deleted["recordings"] == 0 and (recordings / "2026/01/old.wav").exists()


def test_retention_deletes_old_acknowledged_files_only(db, tmp_path, recordings):
    token, _ = create_token(db.conn, "HQ", NOW)
    add_recording(db, recordings, "old1", NOW - 40 * DAY)
    add_recording(db, recordings, "oldvm", NOW - 35 * DAY, table="voicemails")
    add_recording(db, recordings, "young", NOW - 2 * DAY)
    acked = db.execute("SELECT value FROM change_counter").fetchone()[0]
    add_recording(db, recordings, "old-unacked", NOW - 50 * DAY)     # HQ has not taken this one yet
    db["recordings"].insert({"id": "escape", "path": "../keep.txt", "size": 1, "created_at": NOW - 90 * DAY})
    (tmp_path / "keep.txt").write_text("outside")
    record_ack(db.conn, token["id"], acked, NOW)
    dry = apply_retention(db.conn, recordings, 30, NOW, dry_run=True)
    assert dry.deleted == {"recordings": 1, "voicemails": 1} and (recordings / "2026/01/old1.wav").exists()
    r = apply_retention(db.conn, recordings, 30, NOW)
    assert r.deleted == {"recordings": 1, "voicemails": 1} and r.kept_unacked == 2
    assert r.freed_bytes == (4 + 400) + (4 + 500)
    assert not (recordings / "2026/01/old1.wav").exists() and not (recordings / "2026/01/oldvm.wav").exists()
    assert (recordings / "2026/01/young.wav").exists() and (recordings / "2026/01/old-unacked.wav").exists()
    assert {r["id"] for r in db["recordings"].rows} == {"young", "old-unacked", "escape"}
    changes, _ = pull_all(db.conn, acked)
    gone = [(c["table"], c["id"], c["reason"]) for c in changes if c.get("deleted")]
    assert sorted(gone) == [("recordings", "old1", "retention"), ("voicemails", "oldvm", "retention")]
    # Acknowledging the rest lets the escaping row's record go, but never its file outside the directory.
    record_ack(db.conn, token["id"], db.execute("SELECT value FROM change_counter").fetchone()[0], NOW)
    assert apply_retention(db.conn, recordings, 30, NOW).deleted["recordings"] == 2
    assert (tmp_path / "keep.txt").read_text() == "outside"
    with pytest.raises(SyncError, match="at least 0"):
        apply_retention(db.conn, recordings, -1, NOW)


def test_status_says_what_hq_has_and_has_not_taken(db, tmp_path, recordings):
    token, _ = create_token(db.conn, "HQ", NOW)
    db["calls"].insert({"id": "c1", "arrived_at": NOW - 100, "ended_at": NOW - 50})
    add_recording(db, recordings, "r1", NOW - 40)
    record_ack(db.conn, token["id"], 2, NOW)
    db["calls"].insert({"id": "c2", "arrived_at": NOW - 30, "ended_at": NOW - 20})
    add_recording(db, recordings, "r2", NOW - 10)
    db["calls"].delete("c1")
    s = sync_status(reader(tmp_path / "branchline.db"), NOW)
    assert s["latest_seq"] == 5 and s["acked_seq"] == 2
    assert s["tables"]["calls"] == {"taken": 0, "not_taken": 1}
    assert s["tables"]["recordings"] == {"taken": 1, "not_taken": 1}
    assert s["deletions_not_taken"] == 1 and s["not_taken"] == 3
    assert s["files_not_taken"]["recordings"] == {"not_taken": 1, "bytes": 204}
    assert s["oldest_not_taken"] == {"table": "calls", "id": "c2", "seq": 3, "at": NOW - 20, "age_s": 20.0}
    assert s["hq_tokens"][0]["acked_seq"] == 2


def test_command_line_makes_lists_and_revokes_tokens_and_runs_retention(tmp_path, capsys):
    state = tmp_path / "state"
    state.mkdir()
    open_db(state / "branchline.db").conn.close()
    assert main(["hq-token", "create", "--name", "HQ Shanghai", "--state", str(state)]) == 0
    out = capsys.readouterr().out
    token, token_id = out.strip().splitlines()[-1], out.split()[2]
    assert token.startswith("blhq_") and token_id.startswith("hq-")
    assert main(["hq-token", "list", "--state", str(state)]) == 0
    listed = capsys.readouterr().out
    assert token_id in listed and "active" in listed and "never acknowledged" in listed and token not in listed
    assert main(["retention", "--days", "30", "--dry-run", "--state", str(state)]) == 0
    assert "would delete 0 recordings" in capsys.readouterr().out
    assert main(["hq-token", "revoke", token_id, "--state", str(state)]) == 0
    assert "revoked" in capsys.readouterr().out
    assert main(["retention", "--days", "30", "--state", str(state)]) == 0
    assert "no active HQ token" in capsys.readouterr().out
    assert main(["hq-token", "revoke", "hq-nope", "--state", str(state)]) == 1
    assert "no HQ token with id 'hq-nope'" in capsys.readouterr().err
    assert main(["hq-token", "create", "--state", str(state)]) == 1
    assert main(["retention", "--days", "-1", "--state", str(state)]) == 2
    assert main(["hq-token", "list", "--state", str(tmp_path / "elsewhere")]) == 2
    assert "no box database at" in capsys.readouterr().err


def test_retention_makes_room_with_the_oldest_files_hq_holds_whatever_their_age(db, recordings):
    token, _ = create_token(db.conn, "HQ", NOW)
    add_recording(db, recordings, "r1", NOW - 5 * DAY)
    add_recording(db, recordings, "vm1", NOW - 4 * DAY, table="voicemails")
    add_recording(db, recordings, "r2", NOW - 3 * DAY)
    add_recording(db, recordings, "r3", NOW - 1 * DAY)
    record_ack(db.conn, token["id"], db.execute("SELECT value FROM change_counter").fetchone()[0], NOW)
    add_recording(db, recordings, "r0", NOW - 6 * DAY)       # the oldest, but HQ has not taken it yet

    def free():
        # A card of 1,500 bytes: what the files on it leave.
        return 1500 - sum(p.stat().st_size for p in recordings.rglob("*.wav"))

    # r1, vm1, r2, r3 and r0 take 204 + 304 + 204 + 204 + 204 = 1,120 bytes: 380 are free.
    r = apply_retention(db.conn, recordings, 90, NOW, keep_free=700, free=free)
    # Oldest first across recordings and voicemails, and no more than the room needs: r1 and vm1 leave 888.
    assert r.for_space == 2 and r.deleted == {"recordings": 1, "voicemails": 1} and free() >= 700
    assert sorted(p.stem for p in recordings.rglob("*.wav")) == ["r0", "r2", "r3"]
    changes, _ = pull_all(db.conn, 0)
    assert sorted(c["id"] for c in changes if c.get("deleted")) == ["r1", "vm1"]   # HQ keeps its copies
    # Asked for more room than what HQ holds can give: all of it goes, never what HQ has not taken.
    r = apply_retention(db.conn, recordings, 90, NOW, keep_free=1400, free=free)
    assert r.for_space == 2 and r.short_of_space
    assert [p.stem for p in recordings.rglob("*.wav")] == ["r0"]
