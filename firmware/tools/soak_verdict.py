"""The soak's verdicts, from its samples alone (docs/architecture.md §29): flat, zero overruns, WAL bounded.

Flat: the mean of the last quarter of the rows against the mean of the second quarter. The first quarter
is the warm-up (imports done lazily, caches and SQLite's page cache filling, the lines filling up) and
is left out; a leak shows as the last quarter standing above the second by what leaked in between.
"""
from __future__ import annotations

from dataclasses import dataclass

# (column, relative tolerance, absolute tolerance): the last quarter may stand this much above the second.
# Memory: 2 MB: CPython's small-object allocator takes memory from the system in 1 MiB arenas
# (Objects/obmalloc.c ARENA_SIZE) and gives an arena back only once it is empty, so one arena more or
# less is noise, two are the smallest step called growth (a day's leak of 4 MB is caught over 24 rows). Descriptors and threads:
# a connection or a worker more at the moment of a sample (a report's, an HQ pull's) is noise; a few
# more is not. The engine's CPU per simulated second: a quarter more, beyond what the traffic's own swings
# make (the arrivals are random; the lines are not equally busy from one interval to the next). The tick p99: a quarter of the 20 ms tick's budget (docs/architecture.md §8 works at a 10 ms
# p99), since on a shared CPU a p99 moves with the neighbours' load, not only with the engine's own work.
FLAT = (("engine_rss_mb", 0.0, 2.0), ("web_rss_mb", 0.0, 2.0), ("engine_fds", 0.0, 2.0), ("web_fds", 0.0, 4.0),
        ("engine_threads", 0.0, 1.0), ("web_threads", 0.0, 2.0), ("engine_cpu_ms", 0.25, 0.0),
        ("tick_p99_ms", 0.5, 1.0))
# The WAL's size in the last quarter may exceed the largest of the first half by this much: SQLite's
# automatic checkpoint runs at 1000 pages of WAL (sqlite.org/pragma.html#pragma_wal_autocheckpoint; 4 MB
# at 4 KiB pages) and the file keeps its high-water mark, so a bounded WAL stops growing early on.
WAL_SLACK_MB = 1.0
MIN_ROWS = 4


@dataclass(frozen=True)
class Verdict:
    name: str
    ok: bool
    detail: str


def _values(rows: list[dict], column: str) -> list[float]:
    return [r[column] for r in rows if r.get(column) is not None]


def flat(rows: list[dict], column: str, rel: float, abs_: float) -> Verdict:
    values = _values(rows, column)
    n = len(values)
    if n < MIN_ROWS:
        return Verdict(f"{column} flat", False, f"{n} samples: at least {MIN_ROWS} are needed to judge")
    second, last = values[n // 4:n // 2], values[3 * n // 4:]
    before, after = sum(second) / len(second), sum(last) / len(last)
    allowed = before + max(rel * before, abs_)
    return Verdict(f"{column} flat", after <= allowed,
                   f"second quarter {before:.2f}, last quarter {after:.2f} (at most {allowed:.2f})")


def no_overruns(rows: list[dict]) -> Verdict:
    overruns = int(sum(_values(rows, "overruns")))
    ticks = int(sum(_values(rows, "ticks")))
    worst = max(_values(rows, "tick_max_ms"), default=0.0)
    return Verdict("zero overruns", overruns == 0, f"{overruns} of {ticks} ticks over 20 ms; longest {worst:.1f} ms")


def wal_bounded(rows: list[dict]) -> Verdict:
    sizes = _values(rows, "wal_mb")
    resets = _values(rows, "wal_resets")
    n = len(sizes)
    if n < MIN_ROWS:
        return Verdict("WAL bounded", False, f"{n} samples: at least {MIN_ROWS} are needed to judge")
    early, late = max(sizes[:n // 2]), max(sizes[3 * n // 4:])
    checkpoints = int(resets[-1] - resets[0]) if len(resets) >= 2 else 0
    grows = late > early + WAL_SLACK_MB
    return Verdict("WAL bounded", not grows and checkpoints > 0,
                   f"largest {early:.1f} MB in the first half, {late:.1f} MB in the last quarter; "
                   f"{checkpoints} checkpoints restarted it")


def verdicts(rows: list[dict]) -> list[Verdict]:
    """Every verdict; a process not sampled (its column empty) is left out."""
    out = [flat(rows, column, rel, abs_) for column, rel, abs_ in FLAT if _values(rows, column)]
    return [*out, no_overruns(rows), wal_bounded(rows)]


def main(argv: list[str]) -> int:
    """`python -m firmware.tools.soak_verdict samples.csv`: judge a soak's samples again, or a run cut short."""
    from pathlib import Path

    from firmware.tools.soak_sample import read_rows

    found = verdicts(read_rows(Path(argv[0])))
    for v in found:
        print(f"{'ok  ' if v.ok else 'FAIL'} {v.name}: {v.detail}")
    return 0 if all(v.ok for v in found) else 1


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
