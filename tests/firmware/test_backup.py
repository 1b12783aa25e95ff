"""Backup and restore (issue 12 item 6): a consistent archive while the writer commits, a faithful round
trip, refusals of another schema, box or a corrupted member, and the sequence rule that keeps HQ whole."""
import hashlib
import json
import os
import shutil
import sqlite3
import threading
import time
import zipfile
from pathlib import Path

import pytest

from firmware.cli import main as cli
from firmware.store import SYNCED_TABLES, connect, open_db
from firmware.store.backup import DB_MEMBER, MANIFEST, BackupError, prepare, read_box_id
from firmware.store.restore import (OTHER_BOX, OTHER_DATABASE, SCHEMA_NEWER, SCHEMA_OLDER, RestoreError,
                                    RestoreRefused, apply_staged, pending, stage)
from firmware.store.sync import box_instance, create_token
from firmware.store.writer import StoreWriter
from hq.collector import Collector, load_config
from hq.store import HqStore
from webui.app import create_app
from webui.server import make_server

ROOT = Path(__file__).resolve().parents[2]
EVENTS_PER_CALL = 4


def make_box(state: Path, box_id: str = "branch-007") -> Path:
    """A state directory as a box leaves it: configuration, an uploaded prompt, a database with records."""
    (state / "config" / "flows").mkdir(parents=True)
    site = (ROOT / "board" / "defaults" / "site.toml").read_text().replace('id = "branch-001"', f'id = "{box_id}"')
    (state / "config" / "site.toml").write_text(site)
    shutil.copy(ROOT / "board" / "defaults" / "flows" / "main.toml", state / "config" / "flows" / "main.toml")
    (state / "prompts" / "en").mkdir(parents=True)
    (state / "prompts" / "en" / "promo.wav").write_bytes(b"RIFF-uploaded-prompt")
    db = open_db(state / "branchline.db")
    box_instance(db.conn)
    db["customers"].insert({"id": "cust-1", "number": "13900000001", "name": "Lin Wei", "vip": 2})
    add_calls(db, 0, 3)
    db.conn.close()
    return state


def add_calls(db, first: int, n: int) -> None:
    for i in range(first, first + n):
        db["calls"].insert({"id": f"call-{i:05d}", "number": f"0215550{i:03d}", "disposition": "answered"})
        db["call_events"].insert_all([{"id": f"call-{i:05d}-e{k}", "call_id": f"call-{i:05d}", "kind": "x", "at": k}
                                      for k in range(EVENTS_PER_CALL)])


def archive_of(state: Path, out: Path, **kwargs) -> Path:
    with prepare(state, time.time(), **kwargs) as backup:
        backup.write(out)
    return out


def rows(db_path: Path, with_seq: bool = False) -> dict:
    conn = sqlite3.connect(db_path)
    conn.row_factory = sqlite3.Row
    try:
        return {(t, r["id"]): {k: r[k] for k in r.keys() if with_seq or k != "seq"}
                for t in SYNCED_TABLES for r in conn.execute(f"SELECT * FROM {t}")}
    finally:
        conn.close()


def counter(db_path: Path) -> int:
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute("SELECT value FROM change_counter").fetchone()[0]
    finally:
        conn.close()


def rewrite(src: Path, dest: Path, change) -> Path:
    """A copy of archive `src` with `change(name, data, manifest) -> data | None` applied to each member."""
    with zipfile.ZipFile(src) as z:
        manifest = json.loads(z.read(MANIFEST))
        members = {n: z.read(n) for n in z.namelist() if n != MANIFEST}
    out = {}
    for name, data in members.items():
        new = change(name, data, manifest)
        if new is not None:
            out[name] = new
    with zipfile.ZipFile(dest, "w") as z:
        z.writestr(MANIFEST, json.dumps(manifest))
        for name, data in out.items():
            z.writestr(name, data)
    return dest


# --- the archive ---------------------------------------------------------------------------------------------
def test_backup_while_the_writer_commits_is_one_consistent_snapshot(tmp_path):
    """Each backup holds exactly the writer's committed batches: every closed call with all its events."""
    state = tmp_path / "box"
    state.mkdir()
    writer = StoreWriter(state / "branchline.db")
    writer.start()
    stop, ready, made = threading.Event(), threading.Event(), [0]

    def engine_loop():   # the loop thread's side: a call, its events, then its end, over and over
        while not stop.is_set():
            i = made[0]
            writer.insert("calls", {"id": f"call-{i:06d}", "number": "0215550000"})
            for k in range(EVENTS_PER_CALL):
                writer.insert("call_events", {"id": f"call-{i:06d}-e{k}", "call_id": f"call-{i:06d}", "kind": "x"})
            writer.update("calls", f"call-{i:06d}", {"disposition": "answered", "ended_at": float(i)})
            made[0] += 1
            if i % 50 == 49:
                writer.flush()
                if i >= 150:
                    ready.set()
    loop = threading.Thread(target=engine_loop)
    loop.start()
    try:
        assert ready.wait(60)
        seen = []
        for n in range(3):
            archive = archive_of(state, tmp_path / f"b{n}.zip")
            with zipfile.ZipFile(archive) as z:
                (tmp_path / f"b{n}.db").write_bytes(z.read(DB_MEMBER))
            copy = sqlite3.connect(tmp_path / f"b{n}.db")
            assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            calls = copy.execute("SELECT id, disposition FROM calls ORDER BY id").fetchall()
            events = dict(copy.execute("SELECT call_id, count(*) FROM call_events GROUP BY call_id").fetchall())
            # A prefix of what the loop handed over: calls 0..n-1, every one but the last closed.
            assert [c[0] for c in calls] == [f"call-{i:06d}" for i in range(len(calls))]
            assert all(d == "answered" for _, d in calls[:-1])
            for call_id, disposition in calls:
                if disposition == "answered":
                    assert events.get(call_id) == EVENTS_PER_CALL, call_id
            assert json.loads(zipfile.ZipFile(archive).read(MANIFEST))["latest_seq"] == \
                copy.execute("SELECT value FROM change_counter").fetchone()[0]
            seen.append(len(calls))
            copy.close()
        # Taken while the writer went on: each later backup holds more calls than the one before.
        assert 150 <= seen[0] <= seen[1] <= seen[2]
    finally:
        stop.set()
        loop.join(10)
        writer.close()


def test_archive_holds_database_configuration_prompts_and_a_manifest(tmp_path):
    state = make_box(tmp_path / "box")
    archive = archive_of(state, tmp_path / "a.zip")
    with zipfile.ZipFile(archive) as z:
        assert z.namelist()[0] == MANIFEST
        manifest = json.loads(z.read(MANIFEST))
        assert set(z.namelist()) == {MANIFEST, DB_MEMBER, "config/site.toml", "config/flows/main.toml",
                                     "prompts/en/promo.wav"}
        assert z.read("config/site.toml") == (state / "config" / "site.toml").read_bytes()
    conn = sqlite3.connect(state / "branchline.db")
    instance = conn.execute("SELECT value FROM settings WHERE key = 'sync.box_instance'").fetchone()[0]
    assert manifest["box_id"] == "branch-007" and manifest["box_instance"] == instance
    assert manifest["schema"][0] == "m0001_core" and manifest["latest_seq"] == counter(state / "branchline.db")
    assert manifest["software"] and manifest["recordings"] is False
    assert all(len(m["sha256"]) == 64 for m in manifest["members"].values())
    # The work copy of the database is gone with the backup.
    assert not list(state.glob(".backup-*"))


def test_recordings_only_on_request_and_only_those_with_a_row(tmp_path):
    state = make_box(tmp_path / "box")
    (state / "recordings" / "2025" / "03").mkdir(parents=True)
    (state / "recordings" / "2025" / "03" / "call-00000.wav").write_bytes(b"RIFF" + bytes(100))
    (state / "recordings" / "2025" / "03" / "still-recording.wav").write_bytes(b"RIFF")
    db = open_db(state / "branchline.db")
    db["recordings"].insert({"id": "rec-0", "call_id": "call-00000", "path": "2025/03/call-00000.wav", "size": 104,
                             "sha256": hashlib.sha256(b"RIFF" + bytes(100)).hexdigest()})
    db.conn.close()
    without = zipfile.ZipFile(archive_of(state, tmp_path / "a.zip")).namelist()
    assert not [n for n in without if n.startswith("recordings/")]
    with_them = zipfile.ZipFile(archive_of(state, tmp_path / "b.zip", recordings=True)).namelist()
    assert [n for n in with_them if n.startswith("recordings/")] == ["recordings/2025/03/call-00000.wav"]


def test_a_work_copy_left_by_a_crash_is_removed_by_the_next_backup(tmp_path):
    state = make_box(tmp_path / "box")
    (state / ".backup-dead").mkdir()
    (state / ".backup-dead" / "branchline.db").write_bytes(b"x" * 100)
    os.utime(state / ".backup-dead", (time.time() - 2 * 86400,) * 2)
    (state / ".backup-busy").mkdir()   # another download, still running
    archive_of(state, tmp_path / "a.zip")
    assert [p.name for p in state.glob(".backup-*")] == [".backup-busy"]


def test_the_box_id_is_read_as_the_site_reader_reads_it(tmp_path):
    from firmware.config.site import read_site
    (tmp_path / "config").mkdir()
    site = tmp_path / "config" / "site.toml"
    site.write_text("[box]\nlanguage = \"en\"\n")
    assert read_box_id(tmp_path) == read_site(site).box_id
    site.write_text('[box]\nid = "branch-042"\n')
    assert read_box_id(tmp_path) == read_site(site).box_id == "branch-042"


def test_a_broken_site_toml_is_another_box_an_override_may_mend(tmp_path):
    state = make_box(tmp_path / "box")
    archive = archive_of(state, tmp_path / "a.zip")
    (state / "config" / "site.toml").write_text("[box\n")
    with pytest.raises(RestoreRefused) as refused:
        stage(archive, state, override=False, by="admin", now=0.0)
    assert [p["code"] for p in refused.value.problems] == [OTHER_BOX]
    stage(archive, state, override=True, by="admin", now=0.0)
    apply_staged(state, time.time())
    assert 'id = "branch-007"' in (state / "config" / "site.toml").read_text()


def test_the_archive_name_is_safe_whatever_the_box_id(tmp_path):
    state = make_box(tmp_path / "box", box_id="../x y;")
    with prepare(state, time.time()) as backup:
        assert backup.filename.startswith("branchline-.._x_y_-") and "/" not in backup.filename


def test_no_backup_without_a_database(tmp_path):
    with pytest.raises(BackupError, match="no box database"):
        prepare(tmp_path, time.time())


# --- restore -------------------------------------------------------------------------------------------------
def test_round_trip_restores_records_and_configuration_and_keeps_the_current_ones(tmp_path):
    state = make_box(tmp_path / "box")
    archive = archive_of(state, tmp_path / "a.zip")
    before = rows(state / "branchline.db")
    site_before = (state / "config" / "site.toml").read_bytes()
    db = open_db(state / "branchline.db")
    add_calls(db, 3, 2)
    db["customers"].update("cust-1", {"vip": 5})
    db.conn.close()
    (state / "config" / "site.toml").write_text(site_before.decode().replace("Li Wei", "Wang Fang"))
    (state / "prompts" / "en" / "promo.wav").unlink()
    current = rows(state / "branchline.db")

    staged = stage(archive, state, override=False, by="admin", now=time.time())
    assert staged["overridden"] == [] and pending(state)["manifest"]["box_id"] == "branch-007"
    # Staged only: the box is as it was until the engine's next start.
    assert rows(state / "branchline.db") == current
    report = apply_staged(state, time.time())

    after = rows(state / "branchline.db")
    audit = [r for (t, _), r in after.items() if t == "audit_log"]
    assert {k: v for k, v in after.items() if k[0] != "audit_log"} == before
    assert [(a["action"], a["username"]) for a in audit] == [("restore.apply", "admin")]
    assert (state / "config" / "site.toml").read_bytes() == site_before
    assert (state / "prompts" / "en" / "promo.wav").read_bytes() == b"RIFF-uploaded-prompt"
    kept = state / report["kept"]
    assert rows(kept / "branchline.db") == current and "Wang Fang" in (kept / "config" / "site.toml").read_text()
    assert pending(state) is None and apply_staged(state, time.time()) is None
    assert sqlite3.connect(state / "branchline.db").execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_damaged_current_database_is_kept_as_it_is_and_the_restore_gets_a_new_identity(tmp_path):
    state = make_box(tmp_path / "box")
    archive = archive_of(state, tmp_path / "a.zip")
    before = rows(state / "branchline.db")
    stage(archive, state, override=False, by="admin", now=time.time())
    damaged = b"SQLite format 3\x00" + bytes(range(256)) * 64
    (state / "branchline.db").write_bytes(damaged)
    report = apply_staged(state, time.time())
    assert report["rule"].startswith("another database")
    assert (state / report["kept"] / "branchline.db.unreadable").read_bytes() == damaged
    assert {k: v for k, v in rows(state / "branchline.db").items() if k[0] != "audit_log"} == before


def test_branchline_backup_and_restore_on_the_command_line(tmp_path, capsys):
    state = make_box(tmp_path / "box")
    assert cli(["backup", "--state", str(state), "--out", str(tmp_path)]) == 0
    archive = next(tmp_path.glob("branchline-branch-007-*.zip"))
    assert "recordings not included" in capsys.readouterr().out
    logged = sqlite3.connect(state / "branchline.db").execute(
        "SELECT username, address, target FROM audit_log WHERE action = 'backup.create'").fetchall()
    assert logged == [(f"cli:{os.getuid()}", "command line", archive.name)]
    (state / "config" / "site.toml").write_text((state / "config" / "site.toml").read_text()
                                               .replace('id = "branch-007"', 'id = "branch-009"'))
    assert cli(["restore", "--state", str(state), str(archive)]) == 1
    assert "archive is of box branch-007, this box is branch-009" in capsys.readouterr().err
    assert cli(["restore", "--state", str(state), str(archive), "--override"]) == 0
    assert pending(state) is not None
    assert cli(["restore", "--state", str(state), "--cancel"]) == 0 and pending(state) is None


def _schema(names):
    def change(name, data, manifest):
        manifest["schema"] = names
        return data
    return change


def test_refuses_another_schema_unless_older_and_overridden(tmp_path):
    state = make_box(tmp_path / "box")
    archive = archive_of(state, tmp_path / "a.zip")
    schema = json.loads(zipfile.ZipFile(archive).read(MANIFEST))["schema"]
    older = rewrite(archive, tmp_path / "older.zip", _schema(schema[:-1]))
    with pytest.raises(RestoreRefused) as refused:
        stage(older, state, override=False, by="admin", now=0.0)
    assert [p["code"] for p in refused.value.problems] == [SCHEMA_OLDER]
    assert "older schema" in str(refused.value) and pending(state) is None
    assert stage(older, state, override=True, by="admin", now=0.0)["overridden"][0]["code"] == SCHEMA_OLDER
    newer = rewrite(archive, tmp_path / "newer.zip", _schema([*schema, "m0099_future"]))
    with pytest.raises(RestoreRefused) as refused:
        stage(newer, state, override=True, by="admin", now=0.0)
    assert [p["code"] for p in refused.value.problems] == [SCHEMA_NEWER]
    assert "update this box's software first" in str(refused.value)


def test_refuses_another_box_and_another_database_unless_overridden(tmp_path):
    other = make_box(tmp_path / "other", box_id="branch-042")
    archive = archive_of(other, tmp_path / "a.zip")
    state = make_box(tmp_path / "box")
    with pytest.raises(RestoreRefused) as refused:
        stage(archive, state, override=False, by="admin", now=0.0)
    assert {p["code"] for p in refused.value.problems} == {OTHER_BOX, OTHER_DATABASE}
    assert "archive is of box branch-042, this box is branch-007" in str(refused.value)
    assert stage(archive, state, override=True, by="admin", now=0.0)


@pytest.mark.parametrize("change, message", [
    (lambda n, d, m: d[:-1] + bytes([d[-1] ^ 1]) if n == DB_MEMBER else d, "database/branchline.db is corrupted"),
    (lambda n, d, m: None if n == "config/site.toml" else d, "lacks config/site.toml"),
    (lambda n, d, m: m["members"].pop(n, None) and d if n == "config/site.toml" else d,
     "holds config/site.toml, which its manifest"),
])
def test_refuses_a_corrupted_or_incomplete_archive(tmp_path, change, message):
    state = make_box(tmp_path / "box")
    bad = rewrite(archive_of(state, tmp_path / "a.zip"), tmp_path / "bad.zip", change)
    with pytest.raises(RestoreError, match=message):
        stage(bad, state, override=True, by="admin", now=0.0)
    assert pending(state) is None


def test_refuses_what_is_not_a_backup(tmp_path):
    state = make_box(tmp_path / "box")
    (tmp_path / "x.zip").write_bytes(b"not a zip")
    with pytest.raises(RestoreError, match="not a readable zip"):
        stage(tmp_path / "x.zip", state, override=True, by="admin", now=0.0)
    entry = {"size": 1, "sha256": hashlib.sha256(b"x").hexdigest()}
    with zipfile.ZipFile(tmp_path / "y.zip", "w") as z:
        z.writestr(MANIFEST, json.dumps({"format": 1, "box_id": "b", "schema": [], "latest_seq": 0, "created_at": 0,
                                         "members": {DB_MEMBER: entry, "../../etc/passwd": entry}}))
        z.writestr(DB_MEMBER, "x")
        z.writestr("../../etc/passwd", "x")
    with pytest.raises(RestoreError, match="outside what a backup holds: '../../etc/passwd'"):
        stage(tmp_path / "y.zip", state, override=True, by="admin", now=0.0)
    assert not (tmp_path / "etc").exists() and pending(state) is None


# --- the sequence rule, against HQ's collector -------------------------------------------------------------
class ServedBox:
    """The box's web process on a loopback port, as HQ reaches it."""

    def __init__(self, state: Path):
        self.app = create_app(state / "branchline.db", state / "control.sock")
        self.server = make_server(self.app, "127.0.0.1", 0)
        self.server.prepare()
        self.thread = threading.Thread(target=self.server.serve, daemon=True)
        self.thread.start()
        host, port = self.server.bind_addr[:2]
        self.url = f"http://{host}:{port}"

    def stop(self) -> None:
        self.server.stop()
        self.thread.join(5)
        self.app.close()


@pytest.fixture
def serve():
    served: list[ServedBox] = []

    def start(state: Path) -> ServedBox:
        served.append(ServedBox(state))
        return served[-1]
    yield start
    for s in served:
        s.stop()


def hq_config(tmp_path: Path, box_id: str, url: str, token: str) -> Path:
    path = tmp_path / "hq.toml"
    path.write_text(f'[hq]\ndatabase = "hq.db"\npage = 7\n[[box]]\nid = "{box_id}"\nurl = "{url}"\ntoken = "{token}"\n')
    return path


def pull(config: Path):
    report = Collector(load_config(config)).run_once()[0]
    return report


def test_after_a_restore_changes_continue_above_what_hq_holds_and_hq_gets_every_row(tmp_path, serve):
    state = make_box(tmp_path / "box")
    db = open_db(state / "branchline.db")
    _, token = create_token(db.conn, "HQ", time.time())
    db.conn.close()
    box = serve(state)
    config = hq_config(tmp_path, "branch-007", box.url, token)
    assert not pull(config).errors
    archive = archive_of(state, tmp_path / "a.zip")
    # After the backup: new calls, a customer changed and an event deleted; HQ takes and acknowledges it all.
    db = open_db(state / "branchline.db")
    add_calls(db, 3, 4)
    db["customers"].update("cust-1", {"vip": 9})
    db["call_events"].delete("call-00001-e0")
    wav = b"RIFF" + bytes(60)
    (state / "recordings" / "2025").mkdir(parents=True)
    (state / "recordings" / "2025" / "call-00004.wav").write_bytes(wav)
    db["recordings"].insert({"id": "rec-4", "call_id": "call-00004", "path": "2025/call-00004.wav",
                             "size": len(wav), "sha256": hashlib.sha256(wav).hexdigest()})
    db.conn.close()
    report = pull(config)
    assert not report.errors
    acked = report.acked
    assert acked == counter(state / "branchline.db") > json.loads(zipfile.ZipFile(archive).read(MANIFEST))["latest_seq"]
    box.stop()

    stage(archive, state, override=False, by="admin", now=time.time())
    result = apply_staged(state, time.time())
    assert result["rule"].startswith("same database")
    # The customer and the event HQ holds in a later version are sent again, in the restored version; the
    # recording made since keeps its row (its file is still on the card), so it is never filed twice.
    assert result["restamped"] == 2 and result["file_rows_carried"] == 1
    db = open_db(state / "branchline.db")
    add_calls(db, 100, 2)
    db.conn.close()
    restored = rows(state / "branchline.db", with_seq=True)
    new = [r for (t, i), r in restored.items() if i.startswith("call-0010")]
    assert new and all(r["seq"] > acked for r in new)
    applied = [k for k, r in restored.items() if k[0] == "audit_log" and r["action"] == "restore.apply"]
    assert len(applied) == 1 and restored[applied[0]]["username"] == "admin"
    assert {k for k, r in restored.items() if r["seq"] > acked} == {
        *((t, i) for (t, i) in restored if i.startswith("call-0010")), ("customers", "cust-1"),
        ("call_events", "call-00001-e0"), ("recordings", "rec-4"), *applied}

    box = serve(state)
    config = hq_config(tmp_path, "branch-007", box.url, token)
    report = pull(config)
    assert not report.errors, report.errors
    held = HqStore.open(load_config(config).database).records("branch-007")
    # HQ holds every row the box holds, as the box holds it; the calls taken after the backup stay at HQ.
    assert {k: held.get(k) for k in restored} == restored
    assert ("calls", "call-00005") in held


def test_restore_onto_another_database_makes_a_new_identity_hq_will_not_mix_in(tmp_path, serve):
    state = make_box(tmp_path / "box")
    db = open_db(state / "branchline.db")
    _, token = create_token(db.conn, "HQ", time.time())
    db.conn.close()
    box = serve(state)
    config = hq_config(tmp_path, "branch-007", box.url, token)
    assert not pull(config).errors
    archive = archive_of(state, tmp_path / "a.zip")
    box.stop()
    # The card fails: a new one, first started with an empty database, then the archive restored.
    fresh = tmp_path / "new-card"
    fresh.mkdir()
    conn = connect(fresh / "branchline.db")
    box_instance(conn)
    conn.close()
    with pytest.raises(RestoreRefused) as refused:
        stage(archive, fresh, override=False, by="admin", now=time.time())
    assert {p["code"] for p in refused.value.problems} == {OTHER_BOX, OTHER_DATABASE}
    stage(archive, fresh, override=True, by="admin", now=time.time())
    result = apply_staged(fresh, time.time())
    manifest = json.loads(zipfile.ZipFile(archive).read(MANIFEST))
    assert result["rule"].startswith("another database") and result["box_instance"] != manifest["box_instance"]
    assert sqlite3.connect(fresh / "branchline.db").execute("SELECT count(*) FROM hq_acks").fetchone()[0] == 0
    box = serve(fresh)
    # Under its old name HQ refuses the new identity rather than mixing two sequences...
    report = pull(hq_config(tmp_path, "branch-007", box.url, token))
    assert report.errors and "replaced" in report.errors[0]
    # ...and pulled as a new box it gets every row.
    (tmp_path / "hq.db").unlink()
    config = hq_config(tmp_path, "branch-007b", box.url, token)
    assert not pull(config).errors
    held = HqStore.open(load_config(config).database).records("branch-007b")
    assert held == {k: {**v} for k, v in rows(fresh / "branchline.db", with_seq=True).items()}


class _Opened(Exception):
    """Raised by the stand-in for open_engine: the test has seen what the engine would start on."""


def test_branchline_run_applies_a_staged_restore_before_it_reads_the_site_or_opens_the_store(tmp_path, monkeypatch):
    import firmware.config.box
    state = make_box(tmp_path / "box")
    archive = archive_of(state, tmp_path / "a.zip")
    site = state / "config" / "site.toml"
    site.write_text(site.read_text().replace('name = "Li Wei"', 'name = "Zhao Lei"'))
    db = open_db(state / "branchline.db")
    add_calls(db, 3, 1)
    db.conn.close()
    stage(archive, state, override=False, by="admin", now=time.time())
    seen = {}

    def open_engine(paths, board, site, **kwargs):
        seen["agents"] = [a.name for a in site.agents]
        seen["calls"] = sorted(r[0] for r in sqlite3.connect(paths.db).execute("SELECT id FROM calls"))
        raise _Opened
    monkeypatch.setattr(firmware.config.box, "open_engine", open_engine)
    with pytest.raises(_Opened):
        cli(["run", "--state", str(state), "--no-web"])
    assert "Li Wei" in seen["agents"] and "Zhao Lei" not in seen["agents"]
    assert seen["calls"] == ["call-00000", "call-00001", "call-00002"]
    assert pending(state) is None


def test_scheduled_report_files_are_carried_and_restored_with_the_rows_that_name_them(tmp_path):
    state = make_box(tmp_path / "box")
    reports = state / "reports"
    reports.mkdir()
    (reports / "daily-2026-12-06.xlsx").write_bytes(b"PK-daily-report")
    (reports / ".monthly-2026-11.xlsx.part").write_bytes(b"PK-half-written")   # being written now
    db = open_db(state / "branchline.db")
    db.conn.execute("INSERT INTO report_files (id, schedule, period, date_from, date_to, filename, format, reports,"
                    " size, sha256, created_at) VALUES ('f1', 'daily', '2026-12-06', '2026-12-06', '2026-12-06',"
                    " 'daily-2026-12-06.xlsx', 'xlsx', 'calls', 15, '', 0)")
    db.conn.commit()
    db.conn.close()
    archive = archive_of(state, tmp_path / "a.zip")
    with zipfile.ZipFile(archive) as z:
        assert [n for n in z.namelist() if n.startswith("reports/")] == ["reports/daily-2026-12-06.xlsx"]

    shutil.rmtree(reports)       # the card the box is restored onto has none of them
    stage(archive, state, override=False, by="admin", now=time.time())
    apply_staged(state, time.time())
    assert (reports / "daily-2026-12-06.xlsx").read_bytes() == b"PK-daily-report"
    conn = sqlite3.connect(state / "branchline.db")
    assert conn.execute("SELECT filename FROM report_files").fetchall() == [("daily-2026-12-06.xlsx",)]
