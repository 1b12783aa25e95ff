"""The soak's samples (docs/architecture.md §29): a row per interval of the engine's simulated time, with
both processes' memory, file descriptors and threads, the interval's tick timing, and the database's
and its WAL's size, written as CSV while the run goes on."""
from __future__ import annotations

import csv
import os
import queue
import re
import sqlite3
import struct
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from firmware.config.box import StatePaths
from firmware.core.engine import STATS_TICKS, Engine
from drivers.channel import TICK_SECONDS

COLUMNS = ("sim_s", "wall_s", "calls_active", "calls_stored", "engine_rss_mb", "engine_fds", "engine_recordings_open",
           "engine_threads", "engine_cpu_ms", "web_rss_mb", "web_fds", "web_threads", "web_cpu_pct", "ticks", "tick_mean_ms",
           "tick_p99_ms", "tick_max_ms", "overruns", "db_mb", "wal_mb", "wal_resets", "load1")
# The tick times are taken off the engine's window of the last STATS_TICKS ticks before it wraps round:
# every 50 simulated seconds, inside its 60 s.
GATHER_S = 0.8 * STATS_TICKS * TICK_SECONDS
# sqlite.org/fileformat.html §4.1: the WAL header is 32 big-endian bytes; the fifth 32-bit word, salt-1, is
# incremented each time a writer starts the WAL over after a complete checkpoint (sqlite3 wal.c
# walRestartHdr, from the value all connections share). Its going up is what shows that checkpoints
# happen; the file's size alone never shrinks. (The fourth word, the checkpoint sequence number, is each
# connection's own count, so the engine's and the web process's writes make it jump back and forth.)
_WAL_HEADER = struct.Struct(">8I")
_WAL_MAGIC = (0x377F0682, 0x377F0683)
_STATUS = re.compile(r"^(VmRSS|Threads):\s+(\d+)", re.M)


class SoakError(Exception):
    """A soak cannot run as asked, or a process it measures is gone; the message says which."""


def _targets(pid: int) -> list[str]:
    out = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            out.append(os.readlink(f"/proc/{pid}/fd/{fd}"))
        except FileNotFoundError:       # closed since the listing
            pass
    return out


def process_figures(pid: int | None, recordings: Path | None = None) -> dict:
    """RSS (MB), open file descriptors, threads and CPU seconds used so far (user and system) of a live
    process, from /proc (proc(5)); None where there is none. With `recordings`, the descriptors open on
    files under it are counted apart (`recordings_open`): each is a call being recorded, not a leak."""
    if pid is None:
        return {"rss_mb": None, "fds": None, "recordings_open": None, "threads": None, "cpu_s": None}
    try:
        found = dict(_STATUS.findall(Path(f"/proc/{pid}/status").read_text()))
        targets = _targets(pid)
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return {"rss_mb": None, "fds": None, "recordings_open": None, "threads": None, "cpu_s": None}
    inside = str(recordings.resolve()) + os.sep if recordings is not None else None
    open_recordings = sum(1 for t in targets if t.startswith(inside)) if inside else None
    # proc(5): utime and stime are the 14th and 15th fields, the 12th and 13th after the command's ")".
    return {"rss_mb": round(int(found["VmRSS"]) / 1024, 2), "fds": len(targets) - (open_recordings or 0),
            "recordings_open": open_recordings, "threads": int(found["Threads"]),
            "cpu_s": (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")}


def wal_salt(wal: Path) -> int | None:
    """The WAL header's salt-1, or None while there is no WAL with a header yet."""
    try:
        with open(wal, "rb") as f:
            head = f.read(_WAL_HEADER.size)
    except FileNotFoundError:
        return None
    if len(head) < _WAL_HEADER.size:
        return None
    words = _WAL_HEADER.unpack(head)
    return words[4] if words[0] in _WAL_MAGIC else None


def _size_mb(path: Path) -> float:
    try:
        return round(path.stat().st_size / 1e6, 3)
    except FileNotFoundError:
        return 0.0


def _calls_stored(db: Path) -> int | None:
    # A connection of its own for one short read: a reader kept open would hold back the checkpoints
    # the samples are there to see.
    try:
        conn = sqlite3.connect(f"file:{db.resolve()}?mode=ro", uri=True, timeout=5.0)
    except sqlite3.Error:
        return None
    try:
        return int(conn.execute("SELECT count(*) FROM calls").fetchone()[0])
    except sqlite3.Error:
        return None
    finally:
        conn.close()


class Sampler:
    """Attached to an engine: every GATHER_S it takes the ticks since the last look (on the loop: a copy of
    at most 3000 floats); every `interval` simulated seconds it hands the interval's ticks to its own
    thread, which reads /proc and the files and writes the row, so the loop never waits on a disk.

    `web_pid`: called at each row for the web process's pid (None: not started, not sampled)."""

    def __init__(self, engine: Engine, paths: StatePaths, interval: float, out: Path,
                 web_pid: Callable[[], int | None] = lambda: None, wall: Callable[[], float] = time.monotonic):
        if interval < GATHER_S:
            raise SoakError(f"a sample every {interval:g} s is shorter than the tick window's {GATHER_S:g} s")
        self.engine, self.paths, self.interval, self.out = engine, paths, interval, out
        self.web_pid, self.wall = web_pid, wall
        self._started = wall()
        self._seen = engine.stats.count
        self._overruns = engine.stats.overruns
        self._ticks: list[np.ndarray] = []
        self._next_row = engine.clock.seconds + interval
        self._sim0, self._cpu0 = engine.clock.seconds, process_figures(os.getpid())["cpu_s"]
        self._rows: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._write, name="soak-sampler", daemon=True)
        self._thread.start()
        engine.later(GATHER_S, self._gather)

    def _gather(self) -> None:
        stats = self.engine.stats
        self._ticks.append(stats.since(self._seen))
        self._seen = stats.count
        now = self.engine.clock.seconds
        if now >= self._next_row - 1e-9:
            self._next_row += self.interval
            self.row()
        self.engine.later(min(GATHER_S, max(TICK_SECONDS, self._next_row - now)), self._gather)

    def row(self) -> None:
        """Close the interval now (also at the end of a run): its ticks and figures go to the writer."""
        stats = self.engine.stats
        self._ticks.append(stats.since(self._seen))
        self._seen = stats.count
        ticks = np.concatenate(self._ticks) if self._ticks else np.zeros(0, np.float32)
        self._ticks = []
        overruns, self._overruns = stats.overruns - self._overruns, stats.overruns
        center = getattr(self.engine.app, "calls", None)
        self._rows.put({"sim_s": round(self.engine.clock.seconds, 1), "wall_s": round(self.wall() - self._started, 1),
                        "calls_active": len(center) if center is not None else None,
                        "ticks": int(ticks.size), "overruns": overruns,
                        "tick_mean_ms": round(float(ticks.mean()), 3) if ticks.size else None,
                        "tick_p99_ms": round(float(np.percentile(ticks, 99)), 3) if ticks.size else None,
                        "tick_max_ms": round(float(ticks.max()), 3) if ticks.size else None})

    def _write(self) -> None:
        with open(self.out, "w", newline="") as f:
            writer = csv.DictWriter(f, COLUMNS)
            writer.writeheader()
            f.flush()
            # The engine's CPU per simulated second: its own work, which a busy neighbour on the CPU does
            # not change, unlike a tick's wall time. The web's per wall second: its load comes at wall rates.
            last: dict = {"engine": self._cpu0, "web": None, "sim_s": self._sim0, "wall_s": 0.0}
            wal = self.paths.db.with_name(self.paths.db.name + "-wal")
            first_salt = wal_salt(wal)
            while (row := self._rows.get()) is not None:
                engine = process_figures(os.getpid(), self.paths.recordings)
                web = process_figures(self.web_pid())
                row.update({f"engine_{k}": v for k, v in engine.items() if k != "cpu_s"})
                row.update({f"web_{k}": v for k, v in web.items() if k not in ("cpu_s", "recordings_open")})
                sim_s, wall_s = row["sim_s"] - last["sim_s"], row["wall_s"] - last["wall_s"]
                if last["engine"] is not None and sim_s > 0:
                    row["engine_cpu_ms"] = round(1000 * (engine["cpu_s"] - last["engine"]) / sim_s, 2)
                if last["web"] is not None and web["cpu_s"] is not None and wall_s > 0:
                    row["web_cpu_pct"] = round(100 * (web["cpu_s"] - last["web"]) / wall_s, 1)
                last.update(engine=engine["cpu_s"], web=web["cpu_s"], sim_s=row["sim_s"], wall_s=row["wall_s"])
                row.update(calls_stored=_calls_stored(self.paths.db), db_mb=_size_mb(self.paths.db),
                           wal_mb=_size_mb(wal), wal_resets=None,
                           # The machine's 1-minute load average (proc(5)): a tick's wall time and the
                           # overruns count what the neighbours on the CPU took too.
                           load1=float(Path("/proc/loadavg").read_text().split()[0]))
                salt = wal_salt(wal)
                if first_salt is None:
                    first_salt = salt
                if salt is not None and first_salt is not None:
                    # Times the WAL was started over since the first sample (salt-1 counts modulo 2^32).
                    row["wal_resets"] = (salt - first_salt) % (1 << 32)
                writer.writerow(row)
                f.flush()

    def close(self) -> None:
        """Write the last row and wait for the writer (after the engine stopped)."""
        self.row()
        self._rows.put(None)
        self._thread.join(30)


def read_rows(path: Path) -> list[dict]:
    """The samples of a CSV, numbers as floats, empty cells None."""
    with open(path, newline="") as f:
        return [{k: (float(v) if v not in ("", None) else None) for k, v in row.items()} for row in csv.DictReader(f)]
