"""The soak (docs/architecture.md §29): its samples are what the engine and the files show, and its verdicts
tell a flat run from a leaking or growing one. The 24-hour and the 120-line runs are `branchline soak day`
and `branchline soak lines`; the end-to-end run here is a short one, in `make test-slow`."""
from __future__ import annotations

import dataclasses
import gc
import mmap
import sqlite3
from pathlib import Path

import pytest

from drivers.sim import SimCaller
from firmware.core.engine import STATS_TICKS, TickStats
from firmware.tools.scenario import DEMO_SCENARIO, FORGET_S, ScenarioRun, load_scenario
from firmware.tools.soak import PROFILES, load_profile, run_soak
from firmware.tools.soak_sample import GATHER_S, Sampler, SoakError, read_rows, wal_salt
from firmware.tools.soak_verdict import verdicts

ROWS = 16
SAMPLED = 6        # simulated minutes of the demo in the sampler's own tests


def _rows(**grow: float) -> list[dict]:
    """A flat run's samples (with some jitter), each column in `grow` climbing that much a row."""
    rows = []
    for i in range(ROWS):
        jitter = (-1) ** i * 0.3
        row = {"engine_rss_mb": 80.0 + jitter, "web_rss_mb": 40.0 + jitter, "engine_fds": 14.0, "web_fds": 60.0,
               "engine_threads": 11.0, "web_threads": 17.0, "tick_p99_ms": 2.0 + jitter, "tick_max_ms": 9.0,
               "engine_cpu_ms": 300.0 + 20 * jitter,
               "ticks": 180_000.0, "overruns": 0.0, "wal_mb": 4.2, "wal_resets": float(3 * i)}
        for column, step in grow.items():
            row[column] += step * i
        rows.append(row)
    return rows


def _failed(rows: list[dict]) -> set[str]:
    return {v.name for v in verdicts(rows) if not v.ok}


def test_a_flat_run_passes_every_verdict():
    assert _failed(_rows()) == set()


@pytest.mark.parametrize("column, step", [("engine_rss_mb", 0.5), ("web_rss_mb", 0.5), ("engine_fds", 1.0),
                                          ("web_fds", 1.0), ("web_threads", 1.0), ("engine_cpu_ms", 15.0),
                                          ("tick_p99_ms", 0.3)])
def test_a_growing_column_fails_its_flat_verdict(column, step):
    # Half a MB a sample is 4 MB between the second quarter's mean and the last's: over the 2 MB noise.
    assert _failed(_rows(**{column: step})) == {f"{column} flat"}


def test_growth_in_the_first_quarter_only_is_warm_up():
    rows = _rows()
    for i, row in enumerate(rows[:ROWS // 4]):
        row["engine_rss_mb"] -= 10.0 - 2.5 * i
    assert _failed(rows) == set()


def test_a_wal_never_checkpointed_or_still_growing_is_not_bounded():
    rows = _rows(wal_mb=0.5)
    assert _failed(rows) == {"WAL bounded"}
    stuck = _rows()
    for row in stuck:
        row["wal_resets"] = 7.0        # a reader held a snapshot: no checkpoint ever started the WAL over
    assert _failed(stuck) == {"WAL bounded"}


def test_one_overrun_fails_and_too_few_samples_judge_nothing():
    rows = _rows()
    rows[9]["overruns"] = 1.0
    assert _failed(rows) == {"zero overruns"}
    assert all(not v.ok for v in verdicts(_rows()[:3]) if v.name != "zero overruns")


def test_the_wal_reader_counts_sqlites_restarts_of_the_wal_across_connections(tmp_path):
    db = tmp_path / "x.db"
    engine, web = (sqlite3.connect(db, isolation_level=None) for _ in range(2))
    engine.execute("PRAGMA journal_mode = WAL")
    for conn in (engine, web):
        conn.execute("PRAGMA wal_autocheckpoint = 0")
    engine.execute("CREATE TABLE t (x)")
    first = wal_salt(tmp_path / "x.db-wal")
    assert first is not None
    engine.execute("INSERT INTO t VALUES (1)")
    assert wal_salt(tmp_path / "x.db-wal") == first           # no checkpoint: the same WAL goes on
    for n, conn in enumerate((engine, web, engine, web), start=1):
        conn.execute("PRAGMA wal_checkpoint(RESTART)")
        conn.execute("INSERT INTO t VALUES (2)")                # the writer starts the WAL over: a new header
        assert (wal_salt(tmp_path / "x.db-wal") - first) % (1 << 32) == n
    engine.close()
    web.close()
    assert wal_salt(tmp_path / "none.db-wal") is None


def test_tick_stats_since_gives_every_tick_after_a_count_within_the_window():
    stats = TickStats()
    for i in range(STATS_TICKS + 500):
        stats.add(i / 1e6)                          # tick i took i microseconds: i / 1000 ms
    got = stats.since(STATS_TICKS + 100)
    assert got.tolist() == pytest.approx([i / 1000 for i in range(STATS_TICKS + 100, STATS_TICKS + 500)], rel=1e-5)
    assert stats.since(0).size == STATS_TICKS      # no further back than the window
    assert stats.since(stats.count).size == 0


def _demo(tmp_path: Path, seconds: float) -> ScenarioRun:
    scn = dataclasses.replace(load_scenario(DEMO_SCENARIO), seconds=seconds)
    return ScenarioRun(scn, tmp_path / "state", clock="fast")


def _checkpoint(db: Path) -> None:
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(RESTART)")
    conn.close()


def _sampled(tmp_path: Path, rows: int, leak_mb: float = 0.0) -> list[dict]:
    """The demo's traffic in fast time, sampled every simulated minute, its WAL checkpointed whole at 150 s
    (the demo's few calls would take longer to fill SQLite's 1000 pages); with `leak_mb`, the engine's
    process keeps that much more memory every simulated 10 s, touched so that it is resident: fresh pages
    of their own (mmap), not the heap, whose blocks a long-lived test process may already hold resident."""
    run = _demo(tmp_path, 60.0 * rows)
    engine = run.engine
    engine.later(150.0, _checkpoint, run.paths.db)
    kept: list[mmap.mmap] = []

    def leak() -> None:
        size = int(leak_mb * 1e6)
        block = mmap.mmap(-1, size)
        block.write(b"x" * size)
        kept.append(block)
        engine.later(10.0, leak)
    if leak_mb:
        engine.later(10.0, leak)
    start = engine.stats.count
    sampler = Sampler(engine, run.paths, 60.0, tmp_path / "samples.csv")
    engine.run(until=lambda: engine.clock.seconds >= 60.0 * rows)
    sampler.close()
    ticks = engine.stats.count - start
    engine.close()
    got = read_rows(tmp_path / "samples.csv")
    assert sum(r["ticks"] for r in got) == ticks, "every tick of the run is in exactly one row"
    return got


@pytest.fixture(scope="module")
def clean_rows(tmp_path_factory) -> list[dict]:
    return _sampled(tmp_path_factory.mktemp("soak"), SAMPLED)


def test_the_sampler_writes_a_row_a_simulated_minute_from_the_engine_and_the_files(clean_rows):
    rows = clean_rows
    # A row at each minute, and the last when the run closed (here at the same tick as the last minute's).
    assert [r["sim_s"] for r in rows][:SAMPLED] == [60.0 * (i + 1) for i in range(SAMPLED)]
    assert all(r["ticks"] == 3000 for r in rows[:SAMPLED])
    assert rows[-1]["calls_stored"] > rows[0]["calls_stored"] > 0      # the demo's calls, in the database
    assert all(r["engine_rss_mb"] > 10 and r["engine_fds"] > 3 and r["engine_threads"] >= 4 for r in rows)
    # The recordings open are counted apart from the other descriptors: the demo records its calls.
    assert any(r["engine_recordings_open"] > 0 for r in rows)
    assert all(r["web_rss_mb"] is None for r in rows)                    # no web process in this run
    assert all(r["db_mb"] > 0 and r["wal_mb"] > 0 for r in rows)
    # After the checkpoint at 150 s the engine's next write starts the WAL over, and the samples count it.
    assert [r["wal_resets"] for r in rows[:2]] == [0, 0] and rows[-1]["wal_resets"] >= 1
    assert all(0 < r["tick_mean_ms"] <= r["tick_p99_ms"] <= r["tick_max_ms"] for r in rows)
    assert all(r["engine_cpu_ms"] > 0 for r in rows)


def test_the_sampled_engine_is_flat_and_a_leaking_one_is_caught(clean_rows, tmp_path):
    clean = {v.name: v for v in verdicts(clean_rows)}
    assert clean["engine_rss_mb flat"].ok, clean["engine_rss_mb flat"].detail
    # Half a MB every 10 s: 3 MB a minute, 9 MB between the second quarter and the last.
    leaking = {v.name: v for v in verdicts(_sampled(tmp_path, SAMPLED, leak_mb=0.5))}
    assert not leaking["engine_rss_mb flat"].ok, leaking["engine_rss_mb flat"].detail


def test_a_sample_shorter_than_the_tick_window_is_refused(tmp_path):
    run = _demo(tmp_path, 60.0)
    try:
        with pytest.raises(SoakError, match="tick window"):
            Sampler(run.engine, run.paths, GATHER_S / 2, tmp_path / "samples.csv")
    finally:
        run.engine.close()


@pytest.mark.parametrize("name", ["day", "lines"])
def test_the_shipped_profiles_and_their_scenarios_load(name):
    profile = load_profile(PROFILES / f"{name}.toml")
    scn = load_scenario(profile.scenario)
    assert scn.seconds == profile.seconds
    assert len(scn.agents) >= profile.consoles     # each console is signed in as one of the agents


@pytest.mark.slow
def test_a_short_soak_of_both_processes_samples_and_judges_them(tmp_path):
    profile = dataclasses.replace(load_profile(PROFILES / "day.toml"), seconds=1200.0, interval=120.0, consoles=5,
                                  ticket_every=1.0, report_every=2.0, hq_pull_every=3.0)
    summary = run_soak(profile, tmp_path, echo=lambda line: None)
    rows = read_rows(tmp_path / "samples.csv")
    assert len(rows) == 10 and all(r["web_rss_mb"] and r["web_fds"] for r in rows)
    web = summary["web"]
    assert web["errors"] == 0, web["first_errors"]
    assert web["tickets_closed"] > 0 and web["reports"] > 0 and web["hq_pulls"] > 0 and web["events"] > 0
    assert web["hq_records"] >= summary["calls_stored"] > 0
    judged = {v["name"]: v for v in summary["verdicts"]}
    assert {"engine_rss_mb flat", "web_rss_mb flat", "web_fds flat"} <= set(judged)
    # 30 lines for 20 minutes write past SQLite's automatic checkpoint: the WAL starts over and stays bounded.
    assert judged["WAL bounded"]["ok"], judged["WAL bounded"]["detail"]


def test_a_run_without_a_report_keeps_no_finished_caller(tmp_path):
    # The soak's engine ran the scenario runner, which kept every simulated caller (and their phone on the
    # simulated network) for its report: the engine process grew by about 0.7 MB a simulated hour of the
    # day's traffic, none of it the box's. Without a report it keeps only the callers still on a call.
    scn = dataclasses.replace(load_scenario(DEMO_SCENARIO), seconds=900.0)
    run = ScenarioRun(scn, tmp_path / "state", clock="fast", report=False)
    engine = run.engine
    start = set(run.sim.directory)
    engine.run(until=lambda: engine.clock.seconds >= 900.0)
    arrived = [c for c in run.callers if c.at < 900.0]
    scripts = {id(c) for c in arrived}
    gc.collect()
    kept = [o for o in gc.get_objects() if isinstance(o, SimCaller) and id(o.tag) in scripts]
    engine.close()
    assert len(arrived) > 20 and run.sim_callers == [] and run.call_of == {}
    # Nor does the simulated board, whose lists of finished and blocked callers are for a report too.
    assert not [c for c in kept if c.ended is not None and 900.0 - c.ended > 2 * FORGET_S]
    assert len(kept) < len(arrived) / 3
    callers = set(run.sim.directory) - start
    # Left: at most the callers of the last two minutes (on a call, or ended less than FORGET_S ago).
    assert len(callers) <= sum(1 for c in arrived if c.at >= 900.0 - 2 * FORGET_S - max(c.patience, c.talk))
    assert len(callers) < len(arrived) / 3
