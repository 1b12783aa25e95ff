"""HQ's collector against live boxes: exact copies, idempotent re-runs, resumed and verified files, PostgreSQL."""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from typed_toml import ConfigError
from hq.collector import Collector, load_config
from hq.store import HqStore
from firmware.tools.scenario import run_scenario
from firmware.store import SYNCED_TABLES, open_db, open_readonly
from firmware.store.sync import apply_retention, create_token
from webui.app import create_app
from webui.server import make_server

FLOW = Path(__file__).resolve().parents[1] / "scenarios" / "day_flow.toml"
# Four simulated minutes on six lines: answered and recorded calls, and callers who press 8 and leave
# a voicemail, so the box holds both kinds of file.
SCENARIO = f"""
[run]
seconds = 240
seed = 5
trunks = 6
flow = "{FLOW}"

[[agents]]
id = "101"
skills = {{ sales = 5, service = 5 }}
talk = 20.0
answer_after = 2.0

[[traffic]]
per_hour = 300
keys = ["1", "2"]
key_delay = 5.0
patience = [60.0, 200.0]
talk = [10.0, 25.0]
later_keys = [[12.0, "8", 0.4]]
speak = [[16.0, 5.0]]
"""


@pytest.fixture(scope="module")
def scenario_box(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("scenario-box")
    (root / "scenario.toml").write_text(SCENARIO)
    run_scenario(root / "scenario.toml", state_dir=root / "state", fast=True)
    return root / "state"


@dataclass
class Box:
    state: Path
    url: str
    token: str
    token_id: str

    @property
    def db(self) -> Path:
        return self.state / "branchline.db"


@pytest.fixture
def serve_box(tmp_path):
    """serve_box(state_dir) -> Box: the web process's app for that state on a loopback port, with a token."""
    servers = []

    def start(state: Path) -> Box:
        db = open_db(state / "branchline.db")
        row, token = create_token(db.conn, "HQ test", time.time())
        db.conn.close()
        app = create_app(state / "branchline.db", state / "control.sock")
        server = make_server(app, "127.0.0.1", 0)
        server.prepare()
        thread = threading.Thread(target=server.serve, daemon=True)
        thread.start()
        servers.append((server, thread, app))
        host, port = server.bind_addr[:2]
        return Box(state, f"http://{host}:{port}", token, row["id"])
    yield start
    for server, thread, app in servers:
        server.stop()
        thread.join(5)
        app.close()


@pytest.fixture
def box(scenario_box, tmp_path, serve_box) -> Box:
    """A copy of the scenario's box, served."""
    state = tmp_path / "box"
    shutil.copytree(scenario_box, state)
    return serve_box(state)


def write_config(tmp_path: Path, boxes: dict[str, Box], database: str = "hq.db", **hq) -> Path:
    settings = "".join(f"{k} = {v!r}\n" for k, v in {"database": database, "page": 50, **hq}.items())
    boxes_toml = "".join(f'[[box]]\nid = "{bid}"\nurl = "{b.url}"\ntoken = "{b.token}"\n' for bid, b in boxes.items())
    path = tmp_path / "hq.toml"
    path.write_text(f"[hq]\n{settings}\n{boxes_toml}")
    return path


def box_rows(db: Path) -> dict[tuple[str, str], dict]:
    d = open_readonly(db)
    try:
        return {(t, r["id"]): r for t in SYNCED_TABLES for r in d[t].rows}
    finally:
        d.conn.close()


def assert_hq_mirrors(store: HqStore, box_id: str, box: Box, files_dir: Path) -> None:
    """HQ holds exactly the box's records, and each recording and voicemail byte for byte."""
    rows = box_rows(box.db)
    assert store.records(box_id) == rows
    files = store.files(box_id)
    for (table, rid), row in rows.items():
        if table in ("recordings", "voicemails"):
            state, path = files[(table, rid)]
            assert state == "done", (table, rid)
            assert (files_dir / path).read_bytes() == (box.state / "recordings" / row["path"]).read_bytes()


# --- configuration ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, error", [
    ("[hq]\n", "no [[box]] to pull from"),
    ('[[box]]\nid = "a"\nurl = "ftp://x/"\ntoken = "t"\n', "box[0].url: 'ftp://x/' is not an http"),
    ('[[box]]\nid = "../a"\nurl = "http://x/"\ntoken = "t"\n', "box[0].id: '../a'"),
    ('[[box]]\nid = "a"\nurl = "http://x/"\n', "box[0].token: required key is missing"),
    ('[[box]]\nid = "a"\nurl = "http://x/"\ntoken = "t"\ncolour = 1\n', "colour"),
    ('[[box]]\nid = "a"\nurl = "http://x/"\ntoken = "t"\n[[box]]\nid = "a"\nurl = "http://y/"\ntoken = "u"\n',
     "box a is listed twice"),
    ('[hq]\npage = 0\n[[box]]\nid = "a"\nurl = "http://x/"\ntoken = "t"\n', "hq.page: 0 is below the minimum 1"),
    ('[hq]\nspeed = 2\n[[box]]\nid = "a"\nurl = "http://x/"\ntoken = "t"\n', "speed"),
])
def test_bad_configuration_names_the_key(tmp_path, text, error):
    path = tmp_path / "hq.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as exc:
        load_config(path)
    assert str(path) in str(exc.value) and error in str(exc.value)


def test_configuration_paths_are_relative_to_the_file(tmp_path):
    path = tmp_path / "hq.toml"
    path.write_text('[hq]\nfiles = "archive"\n[[box]]\nid = "a"\nurl = "https://a.example/"\ntoken = "t"\n')
    cfg = load_config(path)
    assert cfg.database == str(tmp_path / "hq.db") and cfg.files == tmp_path / "archive"
    path.write_text('[hq]\ndatabase = "postgresql://hq@db/hq"\n[[box]]\nid = "a"\nurl = "http://a/"\ntoken = "t"\n')
    assert load_config(path).database == "postgresql://hq@db/hq"


# --- pulling -----------------------------------------------------------------------------------------------
def test_collector_copies_a_box_exactly_once_and_acknowledges(box, tmp_path):
    cfg = load_config(write_config(tmp_path, {"branch-a": box}))
    first = Collector(cfg).run_once()[0]
    assert not first.errors, first.errors
    rows = box_rows(box.db)
    n_files = sum(1 for t, _ in rows if t in ("recordings", "voicemails"))
    assert first.records == len(rows) and first.pages > 3 and first.files == first.downloaded == n_files > 5
    assert first.lag_changes == 0 and first.behind_s == 0.0 and "caught up" in first.line()
    store = HqStore.open(cfg.database)
    assert_hq_mirrors(store, "branch-a", box, cfg.files)
    latest = open_readonly(box.db).execute("SELECT value FROM change_counter").fetchone()[0]
    acked = open_readonly(box.db).execute("SELECT seq FROM hq_acks WHERE token_id = ?", [box.token_id]).fetchone()
    assert first.acked == acked[0] == latest
    again = Collector(cfg).run_once()[0]
    assert (again.pulled, again.downloaded, again.records, again.errors) == (0, 0, first.records, [])
    assert store.records("branch-a") == rows


def test_hq_gets_customer_cards_with_their_numbers_and_merges(box, tmp_path):
    db = open_db(box.db)
    db["customers"].insert_all([{"id": "card-a", "number": "+862161234567", "name": "Lin Wei"},
                                {"id": "card-b", "number": "+8613800138000", "name": "Lin W"}])
    db["customer_numbers"].insert_all([{"id": "n-a", "customer_id": "card-a", "number": "+862161234567"},
                                       {"id": "n-b", "customer_id": "card-b", "number": "+8613800138000"}])
    db.conn.commit()
    cfg = load_config(write_config(tmp_path, {"branch-a": box}))
    assert not Collector(cfg).run_once()[0].errors
    # A merge as the web makes it: the number moves, the merged card stays as a redirect.
    db.execute("UPDATE customer_numbers SET customer_id = 'card-a' WHERE id = 'n-b'")
    db.execute("UPDATE customers SET merged_into = 'card-a' WHERE id = 'card-b'")
    db.conn.commit()
    db.conn.close()
    assert not Collector(cfg).run_once()[0].errors
    records = HqStore.open(cfg.database).records("branch-a")
    assert records[("customer_numbers", "n-b")]["customer_id"] == "card-a"
    assert records[("customers", "card-b")]["merged_into"] == "card-a"
    assert records == box_rows(box.db)


def test_collector_follows_updates_and_deletions_but_keeps_what_retention_purged(box, tmp_path):
    cfg = load_config(write_config(tmp_path, {"branch-a": box}))
    assert not Collector(cfg).run_once()[0].errors
    db = open_db(box.db)
    call = next(iter(db["calls"].rows))
    db["calls"].update(call["id"], {"wrapup_code": "sale"})
    db["agents"].delete("101")
    report = apply_retention(db.conn, box.state / "recordings", 0, time.time() + 1)
    assert report.deleted["recordings"] > 0 and report.deleted["voicemails"] > 0
    assert not Collector(cfg).run_once()[0].errors
    store = HqStore.open(cfg.database)
    held = store.records("branch-a")
    assert held[("calls", call["id"])]["wrapup_code"] == "sale"
    assert ("agents", "101") not in held
    # The box no longer has the files; HQ, which acknowledged them, keeps records and files.
    on_box = box_rows(box.db)
    purged = {k for k in held if k[0] in ("recordings", "voicemails")} - set(on_box)
    assert len(purged) == report.deleted["recordings"] + report.deleted["voicemails"]
    files = store.files("branch-a")
    assert all(files[k][0] == "done" and (cfg.files / files[k][1]).exists() for k in purged)
    assert {k: v for k, v in held.items() if k not in purged} == on_box


def test_collector_resumes_a_cut_download_and_discards_a_bad_one(box, tmp_path):
    cfg = load_config(write_config(tmp_path, {"branch-a": box}))
    rows = box_rows(box.db)
    recs = sorted((r for (t, _), r in rows.items() if t == "recordings"), key=lambda r: r["seq"])
    whole = (box.state / "recordings" / recs[0]["path"]).read_bytes()
    part = cfg.files / "branch-a" / "recordings" / f"{recs[0]['id']}.wav.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(whole[: len(whole) // 2])               # a link cut half way
    bad = cfg.files / "branch-a" / "recordings" / f"{recs[1]['id']}.wav.part"
    bad.write_bytes(b"X" * 1000)                            # a partial file that is not the box's
    first = Collector(cfg).run_once()[0]
    assert first.resumed == 2
    assert any(recs[1]["id"] in e and "SHA-256" in e for e in first.errors)
    assert (cfg.files / "branch-a" / "recordings" / f"{recs[0]['id']}.wav").read_bytes() == whole
    assert not bad.exists()
    # The bad file holds the acknowledgement below its record; the next round fetches it whole.
    acked = open_readonly(box.db).execute("SELECT seq FROM hq_acks").fetchone()[0]
    assert acked == recs[1]["seq"] - 1
    second = Collector(cfg).run_once()[0]
    assert not second.errors and second.downloaded == 1
    assert_hq_mirrors(HqStore.open(cfg.database), "branch-a", box, cfg.files)


def test_a_file_that_does_not_match_its_record_is_never_acknowledged(box, tmp_path):
    cfg = load_config(write_config(tmp_path, {"branch-a": box}))
    rows = box_rows(box.db)
    rec = min((r for (t, _), r in rows.items() if t == "voicemails"), key=lambda r: r["seq"])
    path = box.state / "recordings" / rec["path"]
    path.write_bytes(path.read_bytes()[:-2] + b"\x00\x01")   # the SD card corrupted it
    for _ in range(2):
        report = Collector(cfg).run_once()[0]
        assert any(f"voicemail {rec['id']}: SHA-256" in e for e in report.errors)
        assert report.files_pending == 1
    acked = open_readonly(box.db).execute("SELECT seq FROM hq_acks").fetchone()[0]
    assert acked == rec["seq"] - 1
    db = open_db(box.db)
    apply_retention(db.conn, box.state / "recordings", 0, time.time() + 1)
    assert path.exists(), "retention must keep a file HQ does not hold"


def test_a_box_whose_database_was_replaced_is_refused(box, scenario_box, tmp_path, serve_box):
    cfg = load_config(write_config(tmp_path, {"branch-a": box}))
    assert not Collector(cfg).run_once()[0].errors
    held = HqStore.open(cfg.database).records("branch-a")
    other_state = tmp_path / "reflashed"
    shutil.copytree(scenario_box, other_state)
    (other_state / "branchline.db").unlink()
    for suffix in ("-wal", "-shm"):
        (other_state / f"branchline.db{suffix}").unlink(missing_ok=True)
    db = open_db(other_state / "branchline.db")
    db["calls"].insert({"id": "new-life"})
    db.conn.close()
    reflashed = serve_box(other_state)
    cfg = load_config(write_config(tmp_path, {"branch-a": reflashed}))
    report = Collector(cfg).run_once()[0]
    assert report.errors and "branch-a" in report.errors[0] and "ahead of this box's latest change" in report.errors[0]
    # Once the new database has passed HQ's cursor, its own id gives it away.
    db = open_db(other_state / "branchline.db")
    cursor = HqStore.open(cfg.database).box_state("branch-a", reflashed.url).cursor
    db["calls"].insert_all([{"id": f"later-{i}"} for i in range(cursor)])
    db.conn.close()
    report = Collector(cfg).run_once()[0]
    assert "box branch-a now answers as database" in report.errors[0] and "was replaced" in report.errors[0]
    assert HqStore.open(cfg.database).records("branch-a") == held


def test_many_boxes_and_a_dead_one_in_continuous_mode(box, scenario_box, tmp_path, serve_box):
    second_state = tmp_path / "box-b"
    shutil.copytree(scenario_box, second_state)
    second = serve_box(second_state)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]
    dead = Box(tmp_path, f"http://127.0.0.1:{dead_port}", "blhq_x", "hq-x")
    cfg = load_config(write_config(tmp_path, {"branch-a": box, "branch-b": second, "branch-dead": dead},
                                   interval=1.0, timeout=2.0))
    lines = []
    stop = threading.Event()
    runner = threading.Thread(target=Collector(cfg).run_forever, args=(stop, lines.append))
    runner.start()
    time.sleep(3.0)
    stop.set()
    runner.join(10)
    assert not runner.is_alive()
    by_box = {b: [ln for ln in lines if ln.startswith(b + ":")] for b in ("branch-a", "branch-b", "branch-dead")}
    assert all("caught up" in ln and "errors 0" in ln for ln in by_box["branch-a"] + by_box["branch-b"])
    assert len(by_box["branch-a"]) >= 2
    # Backoff: 1-2 s, then 2-4 s after the first two failures, so a dead box is tried at most thrice.
    assert 1 <= len(by_box["branch-dead"]) <= 3 and "ConnectionRefused" in by_box["branch-dead"][0]
    store = HqStore.open(cfg.database)
    assert_hq_mirrors(store, "branch-a", box, cfg.files)
    assert_hq_mirrors(store, "branch-b", second, cfg.files)
    assert store.records("branch-a").keys() == store.records("branch-b").keys()   # copies of one box


# --- PostgreSQL ----------------------------------------------------------------------------------------------
def _postgres_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1].parent if found else None


@pytest.fixture(scope="module")
def postgres_url():
    """A PostgreSQL server of its own in a temporary directory, on a free loopback port, trust auth."""
    bindir = _postgres_bin()
    try:
        import psycopg
    except ImportError:
        psycopg = None
    if bindir is None or psycopg is None:
        missing = "Debian package postgresql" if bindir is None else "psycopg (requirements.txt)"
        if os.environ.get("CI", "").strip().lower() in ("1", "true", "yes"):
            pytest.fail(f"CI must run the PostgreSQL test: {missing} is not installed")
        pytest.skip(f"{missing} is not installed")
    root = Path(tempfile.mkdtemp(prefix="branchline-pg-"))
    # initdb and postgres refuse to run as root: as root, run them as the package's postgres user.
    run_as = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
    if run_as:
        shutil.chown(root, "postgres")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    subprocess.run(run_as + [str(bindir / "initdb"), "-D", str(root / "data"), "-U", "hq", "--auth=trust",
                             "-E", "UTF8", "--no-sync"], check=True, capture_output=True)
    server = subprocess.Popen(run_as + [str(bindir / "postgres"), "-D", str(root / "data"), "-k", str(root),
                                        "-p", str(port), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"postgresql://hq@127.0.0.1:{port}/postgres"
    deadline = time.monotonic() + 30
    while True:
        try:
            psycopg.connect(url, connect_timeout=2).close()
            break
        except psycopg.OperationalError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                pytest.fail(f"PostgreSQL did not start: {server.stderr.read().decode()[-2000:]}")
            time.sleep(0.2)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE DATABASE hq")
    yield f"postgresql://hq@127.0.0.1:{port}/hq"
    server.terminate()
    server.wait(20)
    shutil.rmtree(root, ignore_errors=True)


def test_collector_threads_opening_a_new_database_at_once_all_get_it(tmp_path):
    # One thread per box, all starting together on a database not yet made (hq/store.py _to_wal).
    failures = []
    for attempt in range(30):
        barrier = threading.Barrier(4)

        def open_it(path=tmp_path / f"hq-{attempt}.db", barrier=barrier):
            barrier.wait()
            try:
                HqStore.open(path).close()
            except Exception as exc:   # any failure is the finding
                failures.append(f"{type(exc).__name__}: {exc}")
        threads = [threading.Thread(target=open_it) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    assert failures == []


def test_postgresql_holds_the_same_as_sqlite(box, tmp_path, postgres_url):
    pg_cfg = load_config(write_config(tmp_path, {"branch-a": box}, database=postgres_url, files="pg-files"))
    first = Collector(pg_cfg).run_once()[0]
    assert not first.errors, first.errors
    pg = HqStore.open(postgres_url)
    assert pg.dialect == "postgresql"
    assert_hq_mirrors(pg, "branch-a", box, pg_cfg.files)
    again = Collector(pg_cfg).run_once()[0]
    assert (again.pulled, again.downloaded, again.errors) == (0, 0, [])
    # Same schema: SQLite and PostgreSQL have the same tables with the same columns.
    sqlite_store = HqStore.open(tmp_path / "same.db")
    for table in ("hq_boxes", "hq_records", "hq_deletions", "hq_files", "hq_migrations"):
        pg_cols = [r[0] for r in pg.conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s ORDER BY ordinal_position",
            [table]).fetchall()]
        lite_cols = [r[1] for r in sqlite_store.conn.execute(f"PRAGMA table_info({table})").fetchall()]
        assert pg_cols == lite_cols, table
    # Real JSON at HQ: reports can query inside a record.
    answered = pg.conn.execute("SELECT count(*) FROM hq_records WHERE table_name = 'calls' "
                               "AND data->>'disposition' = 'answered'").fetchone()[0]
    assert answered == sum(1 for (t, _), r in box_rows(box.db).items()
                           if t == "calls" and r["disposition"] == "answered") > 0
    pg.close()


def test_postgresql_url_password_is_not_shown(tmp_path):
    from hq.store import HqStoreError
    with pytest.raises(HqStoreError) as exc:
        HqStore.open("postgresql://hq:sekrit-pw@127.0.0.1:1/hq")
    assert "sekrit-pw" not in str(exc.value) and "hq:***@127.0.0.1:1/hq" in str(exc.value)


def test_hq_module_loads_without_the_engine():
    code = textwrap.dedent("""
        import sys, hq.collector, hq.store
        loaded = [m for m in ("firmware.core.engine", "firmware.callcenter.acd", "numpy", "drivers") if m in sys.modules]
        assert not loaded, loaded
    """)
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[2])

