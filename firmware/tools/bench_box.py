"""What the benchmarks share: the busy-lines scenario and the box's processes started and measured apart."""
from __future__ import annotations

import contextlib
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from firmware.tools.scenario import ScenarioRun

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


@contextlib.contextmanager
def busy_box(lines: int) -> Iterator[tuple[ScenarioRun, int]]:
    """The box in fast time with `lines` trunks, warmed up until every caller is in a call or a queue:
    (the run, how many calls it carries). Stopped and closed on leaving."""
    # Imported here: the web process's memory bench shares this module and must not load the engine.
    from firmware.tools.scenario import ScenarioRun, load_scenario

    with tempfile.TemporaryDirectory(prefix="branchline-bench-") as tmp:
        path = Path(tmp) / "busy.toml"
        path.write_text(busy_scenario(lines))
        run = ScenarioRun(load_scenario(path), Path(tmp) / "state", clock="fast")
        engine = run.engine
        engine.run(until=lambda: engine.clock.seconds >= WARMUP_S)
        try:
            yield run, len(run.center.calls)
        finally:
            engine.stop()
            engine.close()


def rss_mb(pid: int | str = "self") -> float:
    """A process's resident set size in MB (VmRSS, /proc)."""
    found = re.search(r"^VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text(), re.M)
    if found is None:
        raise RuntimeError(f"process {pid} reports no resident size (a kernel thread, or gone)")
    return int(found[1]) / 1024


def start_web(state: Path, log: Path, *args: str) -> subprocess.Popen:
    """The web process over the box at `state`, on a free port, run as the box runs it: with its flags, and
    its code compiled beforehand as `make install` compiles it (firmware/tools/bytecode.py), so that it
    loads bytecode, not source, as the box's does."""
    from firmware.tools.bytecode import compile_all
    from firmware.tools.web_child import WEB_PYTHON_FLAGS, web_environment

    if not compile_all():
        raise RuntimeError("the box's own modules do not compile (above)")
    return start_process([*WEB_PYTHON_FLAGS, "-m", "webui.server", "--state", str(state), "--port", "0", *args], log,
                         env=web_environment())


def start_process(args: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    with open(log, "wb") as out:
        return subprocess.Popen([sys.executable, *args], stdout=out, stderr=subprocess.STDOUT,
                                cwd=Path(__file__).resolve().parents[2], env=env)


def web_port(log: Path, proc: subprocess.Popen, timeout: float = 60.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if m := _LISTENING.search(log.read_bytes()):
            return int(m[1])
        time.sleep(0.05)
    raise RuntimeError(f"the web process did not start: {log.read_text()[-2000:]}")
