"""What the benchmarks share: the busy-lines scenario and the box's processes started and measured apart."""
from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

WARMUP_S = 20.0   # long enough for every caller to pass the IVR into a queue or a conversation
_LISTENING = re.compile(rb"web UI listening on http://127\.0\.0\.1:(\d+)/")


def busy_scenario(lines: int) -> str:
    """Every trunk busy for as long as a run lasts: half the callers talking to agents, half waiting in queue."""
    agents = "".join(f'[[agents]]\nid = "{9000 + i}"\nqueues = ["sales", "service"]\nanswer_after = 1.0\n'
                     f"talk = 100000.0\n" for i in range(lines // 2))
    callers = "".join(f'[[callers]]\nat = {0.5 + i * 0.02:.2f}\nnumber = "1380000{i:04d}"\n'
                      f'keys = [[1.0, "{1 + i % 2}"]]\npatience = 100000.0\ntalk = 100000.0\n'
                      for i in range(lines))
    return f"[run]\nseconds = 100000\ntrunks = {lines}\ndrain = 0\n{agents}{callers}"


def rss_mb(pid: int | str = "self") -> float:
    """A process's resident set size in MB (VmRSS, /proc)."""
    found = re.search(r"^VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text(), re.M)
    if found is None:
        raise RuntimeError(f"process {pid} reports no resident size (a kernel thread, or gone)")
    return int(found[1]) / 1024


def start_process(args: list[str], log: Path) -> subprocess.Popen:
    with open(log, "wb") as out:
        return subprocess.Popen([sys.executable, *args], stdout=out, stderr=subprocess.STDOUT,
                                cwd=Path(__file__).resolve().parents[2])


def web_port(log: Path, proc: subprocess.Popen, timeout: float = 60.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if m := _LISTENING.search(log.read_bytes()):
            return int(m[1])
        time.sleep(0.05)
    raise RuntimeError(f"the web process did not start: {log.read_text()[-2000:]}")
