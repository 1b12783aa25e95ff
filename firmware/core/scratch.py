"""The box's scratch directory, <state>/tmp: every temporary file of the engine, the web process and the
programs they start goes there, so that on the image, whose `/` is read-only and whose /tmp may be
memory, nothing is written outside the state directory (docs/architecture.md §30)."""
from __future__ import annotations

import os
import sqlite3
import tempfile
import time
from pathlib import Path

SCRATCH = "tmp"
# What a process killed mid-way leaves (a report workbook's directory, a prompt being converted) is
# removed at the next start once this old: never a file a running process still writes.
STALE_SECONDS = 24 * 3600.0


class ScratchError(Exception):
    """The scratch directory cannot be made."""


def use(state: str | Path) -> Path:
    """Send this process's temporary files, and its children's, to the state directory's scratch
    directory; remove what a killed process left there; the directory."""
    path = (Path(state) / SCRATCH).resolve()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ScratchError(f"cannot make the scratch directory {path}: {exc}") from None
    _sweep(path, time.time())
    # Python's tempfile (bottle's request bodies, report workbooks, XlsxWriter) and every child
    # program, which reads TMPDIR; SQLite also reads SQLITE_TMPDIR, then TMPDIR, but only once, when
    # the library starts (sqlite.org/tempfiles.html §5): a child gets both from its environment ...
    os.environ["TMPDIR"] = os.environ["SQLITE_TMPDIR"] = str(path)
    tempfile.tempdir = str(path)
    # ... while this process's library has already started (Python initialises it on import), so it
    # is told directly. The pragma sets the directory for every connection of the process and must not
    # change while one is open: it is set before the process opens its database
    # (sqlite.org/pragma.html#pragma_temp_store_directory). Without it a large sort or a temporary
    # index (a report over a year of calls) would open its file in /var/tmp, on the read-only root.
    with sqlite3.connect(":memory:") as conn:
        conn.execute(f"PRAGMA temp_store_directory = '{_quoted(str(path))}'")
    conn.close()
    return path


def _quoted(text: str) -> str:
    return text.replace("'", "''")


def _sweep(path: Path, now: float) -> None:
    for entry in path.iterdir():
        try:
            if now - entry.lstat().st_mtime < STALE_SECONDS:
                continue
            if entry.is_dir() and not entry.is_symlink():
                # Not shutil.rmtree: shutil loads the compressors into the web process (§1 "Memory").
                for root, dirs, files in os.walk(entry, topdown=False):
                    for name in files:
                        os.unlink(os.path.join(root, name))
                    for name in dirs:
                        os.rmdir(os.path.join(root, name))
                entry.rmdir()
            else:
                entry.unlink()
        except OSError:
            # Another process removed it first, or it cannot go now: the next start tries again.
            continue
