"""`make bench` (and `python -m firmware.tools.bench_writes`): what the box writes to its SD card for a
day of traffic, per call and per day, by what writes it, and what that means for the card's life
(docs/architecture.md §30).

The day (tests/scenarios/day_2000.toml: about 2,000 calls in 8 hours on 30 lines; `--hours` runs its
first hours) runs on the simulated board in fast time. What is written once and only appended (the
recordings and their peaks, the queue journal, the log lines) is counted by size. The database is not:
how much it writes depends on how often its writer commits, which in real time is at most every
BATCH_SECONDS while calls go on, and in fast time far less often. So the operations the engine hands its
writer are kept with the simulated second of each, and replayed into a copy of the database as it was
before the first call, in the batches the writer makes in real time, one transaction each; this
process's write calls during the replay are the database's (/proc/self/io: wchar, syscw, and
write_bytes where the kernel accounts block I/O), with its WAL checkpoints counted from the WAL header.
"""
from __future__ import annotations

import argparse
import logging
import math
import sqlite3
import struct
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from firmware.core.recorder import SYNC_SECONDS
from firmware.store.writer import BATCH_OPS, BATCH_SECONDS, StoreWriter

ROOT = Path(__file__).resolve().parents[2]
DAY_SCENARIO = ROOT / "tests" / "scenarios" / "day_2000.toml"
MB = 1e6
# The card the figures are set against: a 32 GB SanDisk High Endurance microSDHC is rated for 2,500 hours
# of Full HD video (SanDisk's product data sheet), at the 26 Mbit/s SanDisk calls Full HD: 2,500 x 3.25
# MB/s x 3,600 s = 29 TB written. A plain consumer card states no endurance; its TLC NAND is commonly
# rated for about 500 program/erase cycles, 16 TB for 32 GB, before write amplification.
CARD_GB = 32
HIGH_ENDURANCE_TBW = 2500 * 26e6 / 8 * 3600 / 1e12
CONSUMER_PE_CYCLES = 500


class BenchWritesError(Exception):
    """The day cannot be run or measured."""


@dataclass
class Io:
    wchar: int = 0
    syscw: int = 0
    write_bytes: int = 0

    @classmethod
    def now(cls) -> Io:
        fields = dict(line.split(": ") for line in Path("/proc/self/io").read_text().splitlines())
        return cls(int(fields["wchar"]), int(fields["syscw"]), int(fields["write_bytes"]))

    def __sub__(self, other: Io) -> Io:
        return Io(self.wchar - other.wchar, self.syscw - other.syscw, self.write_bytes - other.write_bytes)


@dataclass
class Day:
    seconds: float
    calls: int = 0
    recordings: int = 0
    recorded_s: float = 0.0
    audio_bytes: int = 0
    peaks_bytes: int = 0
    journal_bytes: int = 0
    log_bytes: int = 0
    log_lines: int = 0
    ops: list[tuple[float, tuple]] = field(default_factory=list)
    start_db: Path | None = None


@dataclass
class DbWrites:
    window_s: float
    commits: int
    io: Io
    checkpoints: int


class _LogVolume(logging.Handler):
    """What the engine's log file would take: the bytes of every formatted line at INFO and above."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.bytes = self.lines = 0

    def emit(self, record: logging.LogRecord) -> None:
        from firmware.core.logfiles import FORMAT, mask

        self.bytes += len(mask(logging.Formatter(FORMAT).format(record)).encode()) + 1
        self.lines += 1


def run_day(work: Path, hours: float | None = None, scenario: Path = DAY_SCENARIO) -> Day:
    """Run the day (its first `hours`) in fast time under `work`; what it wrote, and the writer's operations."""
    from firmware.tools.scenario import SCENARIO_EPOCH, ScenarioRun, load_scenario

    if not scenario.exists():
        raise BenchWritesError(f"no scenario {scenario}")
    text = scenario.read_text()
    if hours is not None:
        text = text.replace("seconds = 28800", f"seconds = {int(hours * 3600)}", 1)
    work.mkdir(parents=True, exist_ok=True)
    (work / "day.toml").write_text(text)
    for sibling in scenario.parent.glob("day_flow.toml"):
        (work / sibling.name).write_text(sibling.read_text())
    scn = load_scenario(work / "day.toml")
    state = work / "state"
    run = ScenarioRun(scn, state, clock="fast", epoch=SCENARIO_EPOCH + scn.seed * 86400.0)
    engine, store = run.engine, run.engine.store
    if not isinstance(store, StoreWriter):
        raise BenchWritesError(f"the box's records go to {type(store).__name__}, not the store's writer")
    store.flush()
    start = work / "start.db"
    day = Day(seconds=float(scn.seconds), start_db=start)
    with sqlite3.connect(store.db_path) as src, sqlite3.connect(start) as dst:
        src.backup(dst)
    src.close()
    dst.close()
    submit = store._submit

    def keep(op: tuple) -> None:
        day.ops.append((engine.clock.seconds, op))
        submit(op)
    # The writer's one entry point: every insert, upsert and update the loop hands it passes here.
    setattr(store, "_submit", keep)  # noqa: B010 (an instance's method replaced, which mypy refuses)
    volume = _LogVolume()
    root = logging.getLogger()
    level = root.level
    root.addHandler(volume)
    root.setLevel(logging.INFO)
    try:
        run.run()
    finally:
        root.removeHandler(volume)
        root.setLevel(level)
    day.log_bytes, day.log_lines = volume.bytes, volume.lines
    with sqlite3.connect(f"file:{state / 'branchline.db'}?mode=ro", uri=True) as db:
        day.calls = db.execute("SELECT count(*) FROM calls").fetchone()[0]
        day.recordings, recorded = db.execute("SELECT count(*), coalesce(sum(duration), 0) FROM recordings").fetchone()
    db.close()
    day.recorded_s = float(recorded)
    for path in (state / "recordings").rglob("*"):
        if path.suffix == ".wav":
            day.audio_bytes += path.stat().st_size
        elif path.suffix == ".peaks":
            day.peaks_bytes += path.stat().st_size
    day.journal_bytes = sum(p.stat().st_size for p in (state / "queue_log").glob("*") if p.is_file())
    return day


def batches(ops: list[tuple[float, tuple]], window: float) -> list[list[tuple]]:
    """The writer's batches in real time (firmware/store/writer.py `_run`): from the first operation
    waiting, everything handed over within `window` seconds, up to BATCH_OPS, in one transaction."""
    out: list[list[tuple]] = []
    start = -math.inf
    for at, op in ops:
        if at >= start + window or len(out[-1]) >= BATCH_OPS:
            out.append([])
            start = at
        out[-1].append(op)
    return out


def _checkpoint_sequence(wal: Path) -> int:
    # sqlite.org/fileformat2.html#walformat: WAL header bytes 12-15, the checkpoint sequence number,
    # which grows by one each time the WAL is restarted after a checkpoint.
    try:
        with open(wal, "rb") as f:
            header = f.read(16)
    except FileNotFoundError:
        return 0
    return struct.unpack(">I", header[12:16])[0] if len(header) == 16 else 0


def replay(day: Day, work: Path, window: float = BATCH_SECONDS) -> DbWrites:
    """The database's writes for the day with the writer committing every `window` seconds at most."""
    if day.start_db is None:
        raise BenchWritesError("the day kept no copy of its starting database")
    db = work / f"replay-{window:g}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    with sqlite3.connect(day.start_db) as src, sqlite3.connect(db) as dst:
        src.backup(dst)
    src.close()
    dst.close()
    # The writer's own connection and transaction code (WAL, synchronous=FULL), without its thread:
    # the batches are the ones it would make in real time.
    writer = StoreWriter(db, dead_letter=work / "replay.rejected.jsonl")
    wal = Path(f"{db}-wal")
    todo = batches(day.ops, window)
    checkpoints, sequence = 0, _checkpoint_sequence(wal)
    before = Io.now()
    for batch in todo:
        writer._commit(batch)
        now = _checkpoint_sequence(wal)
        checkpoints += now != sequence
        sequence = now
    io = Io.now() - before
    writer.db.conn.close()
    if writer.rejected:
        raise BenchWritesError(f"the replay refused {writer.rejected} operations (see {writer.dead_letter})")
    return DbWrites(window, len(todo), io, checkpoints)


def _per(total: float, calls: int) -> float:
    return total / calls if calls else 0.0


def report(day: Day, writes: list[DbWrites], out=print) -> dict:
    """Print the figures per call and per day (the scenario's 8-hour day, scaled from a part of it)."""
    scale = 28800.0 / day.seconds
    db = writes[0]
    rec_fsyncs = math.ceil(day.recorded_s / SYNC_SECONDS) + day.recordings
    rows = [("database (WAL, checkpoints)", db.io.wchar, db.commits + 2 * db.checkpoints),
            ("recordings (audio)", day.audio_bytes, rec_fsyncs),
            ("recordings' peaks", day.peaks_bytes, day.recordings),
            ("queue journal", day.journal_bytes, 0),
            ("log file (engine)", day.log_bytes, 0)]
    total = sum(r[1] for r in rows)
    out(f"SD card writes: {day.calls} calls in {day.seconds / 3600:g} simulated hours "
        f"({day.recordings} recorded, {day.recorded_s / 3600:.1f} h of audio); per day = the 8-hour day "
        f"of tests/scenarios/day_2000.toml" + (f", scaled x{scale:g}" if scale != 1 else ""))
    out(f"{'what':<30} {'per call kB':>12} {'per day MB':>11} {'fsyncs/day':>11}")
    for name, nbytes, fsyncs in rows:
        out(f"{name:<30} {_per(nbytes, day.calls) / 1e3:>12.1f} {nbytes * scale / MB:>11.1f} {fsyncs * scale:>11.0f}")
    out(f"{'total':<30} {_per(total, day.calls) / 1e3:>12.1f} {total * scale / MB:>11.1f}")
    out(f"database: {db.commits * scale:.0f} commits/day ({_per(db.commits, day.calls):.1f} per call), "
        f"{_per(db.io.wchar, db.commits) / 1e3:.1f} kB per commit, {db.checkpoints * scale:.0f} checkpoints/day, "
        f"{db.io.syscw * scale:.0f} write calls/day"
        + (f", block writes {db.io.write_bytes * scale / MB:.1f} MB/day" if db.io.write_bytes else ""))
    for other in writes[1:]:
        out(f"  with the writer committing at most every {other.window_s:g} s instead of {db.window_s:g} s: "
            f"{other.commits * scale:.0f} commits/day, {other.io.wchar * scale / MB:.1f} MB/day "
            f"({other.io.wchar / db.io.wchar:.2f} x)")
    per_day_tb = total * scale / 1e12
    high = HIGH_ENDURANCE_TBW / per_day_tb / 365 if per_day_tb else math.inf
    plain = CARD_GB * 1e9 * CONSUMER_PE_CYCLES / 1e12 / per_day_tb / 365 if per_day_tb else math.inf
    out(f"card life at this rate, one such day a day: a 32 GB high-endurance card ({HIGH_ENDURANCE_TBW:.0f} TBW) "
        f"{high:.0f} years; a plain 32 GB card (~{CONSUMER_PE_CYCLES} P/E cycles, "
        f"{CARD_GB * CONSUMER_PE_CYCLES / 1e3:.0f} TB) {plain:.0f} years, before write amplification")
    return {"calls": day.calls, "per_call_bytes": _per(total, day.calls), "per_day_bytes": total * scale,
            "db_per_day_bytes": db.io.wchar * scale, "db_commits_per_day": db.commits * scale,
            "audio_per_day_bytes": day.audio_bytes * scale}


def run(out=print, quick: bool = False, hours: float | None = None, windows: tuple[float, ...] = (0.5, 1.0)) -> dict:
    with tempfile.TemporaryDirectory(prefix="branchline-bench-writes-") as tmp:
        work = Path(tmp)
        t0 = time.perf_counter()
        day = run_day(work, hours if hours is not None else (1.0 if quick else None))
        writes = [replay(day, work, BATCH_SECONDS), *(replay(day, work, w) for w in windows)]
        result = report(day, writes, out)
        out(f"(measured in {time.perf_counter() - t0:.0f} s)")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m firmware.tools.bench_writes", description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, help="run only the day's first hours (default: all 8)")
    args = parser.parse_args(argv)
    run(hours=args.hours)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
