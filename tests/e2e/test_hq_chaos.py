"""Two boxes taking calls while HQ pulls, with the collector, the boxes and the WAN link failing at random."""
import random
import time
from pathlib import Path

import pytest

from hq.collector import Collector, load_config
from hq.store import HqStore
from firmware.store import SYNCED_TABLES, open_db, open_readonly
from firmware.store.sync import create_token

from sync_harness import BoxProcesses, CollectorProcess, CuttingProxy

FILE_TABLES = ("recordings", "voicemails")


def box_rows(db: Path) -> dict[tuple[str, str], dict]:
    d = open_readonly(db)
    try:
        return {(t, r["id"]): r for t in SYNCED_TABLES for r in d[t].rows}
    finally:
        d.conn.close()


def run_chaos(tmp_path: Path, seconds: float, seed: int) -> None:
    rng = random.Random(seed)
    names = ("branch-north", "branch-south")
    boxes = {n: BoxProcesses(n, tmp_path / n, 1000 * (i + 1)) for i, n in enumerate(names)}
    proxies = {n: CuttingProxy(random.Random(seed + i)) for i, n in enumerate(names)}
    config = tmp_path / "hq.toml"
    text = '[hq]\ndatabase = "hq.db"\nfiles = "hq-files"\npage = 100\ninterval = 1.0\ntimeout = 5.0\n'
    # A LAN's worth of patience: retry a failed box within a second, so the cuts keep coming.
    text += "max_backoff = 1.0\n"
    for n in names:
        db = open_db(boxes[n].state / "branchline.db")
        _, token = create_token(db.conn, "HQ", time.time())
        db.conn.close()
        text += f'[[box]]\nid = "{n}"\nurl = "{proxies[n].url}"\ntoken = "{token}"\n'
    config.write_text(text)
    collector = CollectorProcess(config, tmp_path)
    try:
        for n in names:
            proxies[n].target = ("127.0.0.1", boxes[n].start_web())
            boxes[n].start_engine()
        collector.start()
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            time.sleep(rng.uniform(0.2, 1.0))
            n = rng.choice(names)
            box, proxy, roll = boxes[n], proxies[n], rng.random()
            if roll < 0.3:
                collector.kill()
                time.sleep(rng.uniform(0.0, 0.4))
                collector.start()
            elif roll < 0.5:
                proxy.target = None
                box.kill_web()
                time.sleep(rng.uniform(0.0, 0.5))
                proxy.target = ("127.0.0.1", box.start_web())
            elif roll < 0.7:
                box.kill_engine()
                box.start_engine()
            elif roll < 0.8:
                # Power cut: the whole box at once.
                proxy.target = None
                box.kill_engine()
                box.kill_web()
                time.sleep(rng.uniform(0.0, 0.5))
                proxy.target = ("127.0.0.1", box.start_web())
                box.start_engine()
            for b in boxes.values():
                if not b.engine_running():
                    b.start_engine()
        # The link holds again, the boxes finish the day they are on, the collector catches up.
        for n in names:
            proxies[n].cutting = False
            boxes[n].wait_engine()
        collector.kill()
        cfg = load_config(config)
        for _ in range(6):
            reports = Collector(cfg).run_once()
            if all(not r.errors and r.files_pending == 0 and r.lag_changes == 0 for r in reports):
                break
        else:
            pytest.fail("HQ did not catch up once the link held: " + "; ".join(r.line() for r in reports))

        store = HqStore.open(cfg.database)
        total = 0
        for n in names:
            rows = box_rows(boxes[n].state / "branchline.db")
            total += len(rows)
            assert store.records(n) == rows, f"{n}: HQ's records differ from the box's"
            files = store.files(n)
            expected = set()
            for (table, rid), row in rows.items():
                if table in FILE_TABLES:
                    state, path = files[(table, rid)]
                    assert state == "done", (n, table, rid)
                    expected.add(cfg.files / path)
                    assert (cfg.files / path).read_bytes() == \
                        (boxes[n].state / "recordings" / row["path"]).read_bytes(), (n, table, rid)
            assert set((cfg.files / n).rglob("*.*")) == expected, f"{n}: stray or partial files at HQ"
            assert sum(1 for t, _ in rows if t == "calls") > 20 and len(expected) > 10
        assert store.conn.execute("SELECT count(*) FROM hq_records").fetchone()[0] == total
        store.close()

        stats = {k: sum(p.stats[k] for p in proxies.values()) for k in proxies[names[0]].stats}
        runs = {n: (b.engine_runs, b.engine_kills, b.web_kills) for n, b in boxes.items()}
        what = f"proxy {stats}, boxes (runs, engine kills, web kills) {runs}, collector kills {collector.kills}"
        assert stats["cut_page"] >= 1 and stats["cut_file"] >= 1, what
        assert stats["range_requests"] >= 1, what       # a cut file was resumed, not fetched again
        assert collector.kills >= 1 and sum(k for _, k, _ in runs.values()) >= 1, what
        assert sum(w for _, _, w in runs.values()) >= 1, what
    finally:
        collector.kill()
        for n in names:
            boxes[n].stop()
            proxies[n].close()


def test_hq_holds_exactly_the_boxes_records_after_failures(tmp_path):
    run_chaos(tmp_path, seconds=20.0, seed=11)


@pytest.mark.slow
def test_hq_holds_exactly_the_boxes_records_after_a_long_run_of_failures(tmp_path):
    run_chaos(tmp_path, seconds=120.0, seed=23)


def test_a_page_and_a_file_cut_mid_transfer_are_thrown_away_and_resumed(tmp_path):
    """Scripted cuts: the first page breaks after 3,000 bytes, the first file after 100,000."""
    box = BoxProcesses("branch-east", tmp_path / "box", 500)
    db = open_db(box.state / "branchline.db")
    _, token = create_token(db.conn, "HQ", time.time())
    db.conn.close()
    proxy = CuttingProxy(random.Random(1), plan={"page": [3000], "file": [100_000]})
    try:
        box.start_engine()
        box.wait_engine()
        proxy.target = ("127.0.0.1", box.start_web())
        config = tmp_path / "hq.toml"
        config.write_text(f'[hq]\npage = 100\n[[box]]\nid = "east"\nurl = "{proxy.url}"\ntoken = "{token}"\n')
        cfg = load_config(config)
        cut_page = Collector(cfg).run_once()[0]
        assert "arrived incomplete" in cut_page.errors[0] or "IncompleteRead" in cut_page.errors[0]
        assert cut_page.records == 0
        cut_file = Collector(cfg).run_once()[0]
        assert len(cut_file.errors) == 1 and "transfer cut after" in cut_file.errors[0], cut_file.errors
        part = next((cfg.files / "east").rglob("*.part"))
        assert 99_000 < part.stat().st_size < 100_000        # what came before the cut, less the reply's head
        done = Collector(cfg).run_once()[0]
        assert not done.errors and done.resumed == 1 and done.downloaded == 1 and done.files_pending == 0
        assert proxy.stats["cut_page"] == 1 and proxy.stats["cut_file"] == 1 and proxy.stats["range_requests"] == 1
        store = HqStore.open(cfg.database)
        rows = box_rows(box.state / "branchline.db")
        assert store.records("east") == rows
        for (table, rid), row in rows.items():
            if table in FILE_TABLES:
                held = cfg.files / store.files("east")[(table, rid)][1]
                assert held.read_bytes() == (box.state / "recordings" / row["path"]).read_bytes()
    finally:
        box.stop()
        proxy.close()

