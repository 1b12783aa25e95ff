"""The scratch directory <state>/tmp takes every temporary file of a box process: Python's, SQLite's (even
though the library started before the process knew its state directory) and its children's; what a
killed process left there long ago goes at the next start (docs/architecture.md §30)."""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# In a process of its own: the scratch directory is the process's (the environment, tempfile's and
# SQLite's globals), never the test runner's.
PROBE = """
import json, os, sqlite3, subprocess, sys, tempfile
from firmware.core import scratch

path = scratch.use(sys.argv[1])
db = sqlite3.connect(os.path.join(sys.argv[1], "box.db"))
# A temporary table larger than its page cache (2 MB by default): SQLite spills it to a file
# (sqlite.org/tempfiles.html), as it does a long report's sort.
db.execute("PRAGMA temp_store = FILE")
db.execute("CREATE TEMP TABLE t (x)")
db.executemany("INSERT INTO t VALUES (?)", [(os.urandom(256),) for _ in range(20000)])
files = []
for fd in os.listdir("/proc/self/fd"):
    try:
        files.append(os.readlink(f"/proc/self/fd/{fd}"))
    except OSError:
        pass
child = subprocess.run([sys.executable, "-c", "import tempfile; print(tempfile.gettempdir())"],
                       capture_output=True, text=True, check=True).stdout.strip()
print(json.dumps({"scratch": str(path), "files": files, "python": tempfile.mkdtemp(), "child": child}))
"""


def probe(state: Path, **env) -> dict:
    environ = {k: v for k, v in os.environ.items() if k not in ("TMPDIR", "SQLITE_TMPDIR")}
    environ.update(PYTHONPATH=str(ROOT), **env)
    out = subprocess.run([sys.executable, "-c", PROBE, str(state)], capture_output=True, text=True, timeout=60,
                         env=environ, check=True).stdout
    return json.loads(out)


def test_python_sqlite_and_child_temporary_files_go_to_the_state_directory(tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    found = probe(state)
    scratch = str((state / "tmp").resolve())
    assert found["scratch"] == scratch
    spilled = [f for f in found["files"] if "etilqs_" in f]     # SQLite's name for its temporary files
    assert spilled and all(f.startswith(scratch + "/") for f in spilled), found["files"]
    assert found["python"].startswith(scratch + "/") and found["child"] == scratch


def test_what_a_killed_process_left_goes_after_a_day_and_nothing_younger(tmp_path):
    state = tmp_path / "state"
    old_dir, old_file, fresh = state / "tmp" / "branchline-report-x", state / "tmp" / "prompt.wav", \
        state / "tmp" / "branchline-report-y"
    for d in (old_dir / "sub", fresh):
        d.mkdir(parents=True)
    (old_dir / "sub" / "report.xlsx").write_bytes(b"PK")
    old_file.write_bytes(b"RIFF")
    (fresh / "report.xlsx").write_bytes(b"PK")
    day_ago = time.time() - 25 * 3600
    for p in (old_dir, old_file):
        os.utime(p, (day_ago, day_ago))
    probe(state)
    assert sorted(p.name for p in (state / "tmp").iterdir() if p.is_dir() and p.name.startswith("branchline-")) \
        == ["branchline-report-y"]
    assert not old_file.exists() and (fresh / "report.xlsx").exists()
