"""The web process as `branchline run`'s child: started, started again when it dies, stopped with the engine.

On a Pi systemd restarts the web unit (board/systemd/branchline-web.service, `Restart=always`,
`RestartSec=2s`); a box run as `branchline run` (the demo, a bench, a box without the units) has only
its engine to do that, or a killed or crashed web process would leave the branch without its pages
until someone restarted the whole box, calls and all.
"""
from __future__ import annotations

import logging
import os
import subprocess
import threading
from collections.abc import Mapping
from typing import Sequence

log = logging.getLogger(__name__)

# As the systemd unit: RestartSec=2s.
RESTART_S = 2.0
# webui/server.py stops within its SHUTDOWN_TIMEOUT (5 s) of SIGTERM.
STOP_S = 10.0
# How the interpreter runs the web process: without docstrings and asserts (-OO). The docstrings of the
# modules it loads are 1.3 MB of its 40 MB budget (docs/architecture.md §1 "Memory") and nothing in it
# reads them; its asserts only restate what the code around them already ensures. `make install`
# compiles what it loads for this level, since the services cannot write beside their code.
WEB_PYTHON_FLAGS = ("-OO",)
# glibc's malloc as the web process wants it, read by the dynamic loader at the start (glibc's "Tunables";
# mallopt(3) has no parameter for this one). tcache_count=0: no per-thread caches of freed blocks. Each
# thread may keep up to 7 blocks of each of 64 sizes to itself, and the web process has 18 threads: the
# kept blocks pinned pages of the heap that nobody used again. Without them the memory benchmark's web
# process ended 2 MB smaller over HTTP and HTTPS alike (python -m firmware.tools.bench_memory, 1,000
# views: 38.2 -> 36.3 and 39.8 -> 37.3 MB); its threads mostly wait for the GIL, not for malloc.
WEB_MALLOC_TUNABLES = "glibc.malloc.tcache_count=0"


def web_environment(base: Mapping[str, str] = os.environ) -> dict[str, str]:
    """The environment to start the web process in: `base` with WEB_MALLOC_TUNABLES added to any
    tunables it already sets."""
    env = dict(base)
    given = env.get("GLIBC_TUNABLES")
    env["GLIBC_TUNABLES"] = f"{given}:{WEB_MALLOC_TUNABLES}" if given else WEB_MALLOC_TUNABLES
    return env


class WebChildError(Exception):
    """The web process could not be stopped in time."""


class WebChild:
    """Runs `command` on a thread of its own that lives as long as the engine, restarting it when it exits.

    The thread forks every start: the parent-death signal the web process asks for
    (webui/server.py `die_with_parent`) follows the thread that forked it, not the process."""

    def __init__(self, command: Sequence[str], restart_s: float = RESTART_S):
        self.command = list(command)
        self.restart_s = restart_s
        self._proc: subprocess.Popen | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="web-child", daemon=True)

    def start(self) -> WebChild:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        with self._lock:
            proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(STOP_S)
            except subprocess.TimeoutExpired as exc:
                proc.kill()
                raise WebChildError(f"the web process (pid {proc.pid}) did not stop in {STOP_S} s") from exc
        self._thread.join(STOP_S)

    def _run(self) -> None:
        while not self._stopping.is_set():
            with self._lock:
                if self._stopping.is_set():
                    return
                self._proc = proc = subprocess.Popen(self.command, env=web_environment())
            code = proc.wait()
            if self._stopping.is_set():
                return
            log.error("the web process (pid %d) exited with %d: starting it again in %.0f s", proc.pid, code,
                      self.restart_s)
            self._stopping.wait(self.restart_s)
