"""The load test on the live box (R18): virtual callers through the live flow and queues, answered by
virtual agents, on the board's virtual lines, while the box goes on answering its real lines.

How it is kept apart from the real calls (docs/architecture.md §8):
- Lines: every board reserves VIRTUAL_TRUNKS virtual trunks and VIRTUAL_STATIONS virtual stations
  (a simulated exchange and handsets, drivers/sim.py, numbered after the real channels). Until a
  test starts the board does not exchange them nor the listener run their detectors, so they cost
  the tick nothing (`make bench`: 8 idle lines 0.126 ms a tick, 0.128 ms with them reserved).
- Calls: a second call center, built from the live site settings and the flow running now, with
  virtual agents only, runs on the virtual lines as the engine's guest (firmware/core/guest.py). Its
  view of the board holds only the virtual lines, so it can seize no real line, and real callers and
  agents never meet virtual ones: a real agent is never rung for a virtual caller.
- Records: the guest writes to its own database and recordings under <state>/loadtest/<run>/, never
  to the box's records, so reports and HQ never see a load-test call and no change sequence HQ
  follows is spent on one. A run's database is kept for inspection until the next run starts, which
  deletes it; its recordings are written, hashed and deleted call by call.
"""
from __future__ import annotations

import logging
import secrets
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from drivers.channel import TICK_SECONDS
from drivers.sim import SimCaller, SimDriver

from firmware.callcenter.center import CallCenter
from firmware.callcenter.settings import AgentConfig, SiteConfig
from firmware.core.control import REPLY_TIMEOUT, ControlError
from firmware.core.engine import Engine, EngineError
from firmware.core.guest import Guest
from firmware.core.recorder import Recorder
from firmware.store.writer import StoreWriter

if TYPE_CHECKING:
    from firmware.core.timers import Timer

log = logging.getLogger(__name__)

# The virtual lines every board reserves. The engine is dimensioned for 30 busy lines: docs/
# requirements.md D1 holds it to 90 MB at 30 busy lines, and `make bench` measures its ticks there
# (30 lines in calls: tick mean 0.37 ms, p99 1.6 ms on the development machine). One station per
# trunk lets every virtual caller reach an agent.
VIRTUAL_TRUNKS = 30
VIRTUAL_STATIONS = 30
# Calls the box carries at once, real and virtual together: the same 30 lines (above).
CARRY_LINES = 30
TICK_MS = TICK_SECONDS * 1000.0
# A box whose ticks already take half the tick at the 99th percentile is not loaded further: the
# other half is the headroom control commands (a quarter, firmware/core/engine.py COMMAND_BUDGET_S)
# and a Pi's scheduling jitter need.
START_P99_MS = TICK_MS / 2
# A running test stops itself once the last GUARD_TICKS ticks' p99 passes three quarters of the tick:
# beyond that the jitter of a Pi-class board turns into overruns, gaps the real callers would hear.
STOP_P99_MS = TICK_MS * 3 / 4
GUARD_TICKS = 250        # 5 s of ticks: one slow tick is not a trend
# The test's own bookkeeping (refilling callers, the guard) runs once a second, never per tick.
CHECK_S = 1.0
# New virtual callers per second at most: the lines fill over a few seconds, as a hotline's do after
# an advertisement, rather than in one tick.
RAMP_PER_S = 5
DURATION_S = (10.0, 3600.0)
TALK_S = (1.0, 600.0)
KEY_AFTER_S = 2.0        # a caller who knows the menu presses during the greeting (barge-in)
DTMF_KEYS = frozenset("0123456789*#")
MAX_KEY_CHOICES = 10
# Virtual callers' numbers: a range no real subscriber has (they are only in the load test's records).
NUMBER_PREFIX = "0999"
# A start prepared but never taken by the loop (its client gave up: firmware/core/control.py withdraws
# a command the loop has not started within REPLY_TIMEOUT) is forgotten after twice that.
STALE_PREPARE_S = 2 * REPLY_TIMEOUT


class LoadTestError(ControlError):
    """A load test refused (above what the box carries, already running) or asked for with bad values."""


def virtual_driver() -> SimDriver:
    """The virtual lines a board reserves for the load test."""
    return SimDriver(trunks=VIRTUAL_TRUNKS, stations=VIRTUAL_STATIONS, prefix="v")


@dataclass
class _Opened:
    """What a start prepares off the loop: the run's own records and recordings, and its call center
    with the virtual agents logged in and ready, to be hosted by the loop as it is."""
    run_id: str
    directory: Path
    records: StoreWriter
    recorder: Recorder
    guest: Guest | None = None
    center: CallCenter | None = None

    def close(self) -> None:
        self.recorder.stop()
        self.records.close()


class LoadTest:
    """`loadtest.start`, `loadtest.status` and `loadtest.stop` on the engine it is attached to."""

    def __init__(self, engine: Engine, center: CallCenter, root: Path, clock=time.time):
        driver = engine.board.virtual
        if not isinstance(driver, SimDriver):
            raise EngineError(f"box {engine.box_id}: the load test needs the board's virtual lines")
        self.engine, self.center, self.root, self.wall = engine, center, root, clock
        self.driver = driver
        self._lock = threading.Lock()     # guards `state` between the control threads and the loop
        self.state = "idle"               # idle | preparing | running | stopping
        self.run: dict | None = None      # the current or last run, kept for status
        self._opened: _Opened | None = None
        self._pending: tuple[float, _Opened] | None = None   # prepared, not yet taken by the loop
        self._counts0: dict[str, int] = {}
        self._ended = {"answered": 0, "connected": 0}   # callers who hung up this run, folded in once a second
        self._guest: CallCenter | None = None
        self._timer: Timer | None = None
        self._ends_at = 0.0
        self._ticks0 = 0
        self._overruns0 = 0
        self._keys: list[str] = []
        self._placed = 0
        self._p99_max = 0.0

    def commands(self) -> dict:
        return {"loadtest.start": self.cmd_start, "loadtest.status": self.cmd_status, "loadtest.stop": self.cmd_stop}

    def preparers(self) -> dict:
        return {"loadtest.start": self.prepare}

    # --- limits ------------------------------------------------------------------------------------
    def _live_busy(self) -> int:
        """The real calls in progress. One len() of the call center's table: safe to read off the loop,
        where a start is checked first."""
        return len(self.center.calls)

    def limits(self) -> dict:
        """What a start may ask for now, and where each bound comes from."""
        busy = self._live_busy()
        return {"callers": max(0, min(VIRTUAL_TRUNKS, CARRY_LINES - busy)), "agents": VIRTUAL_STATIONS,
                "virtual_trunks": VIRTUAL_TRUNKS, "virtual_stations": VIRTUAL_STATIONS, "carry_lines": CARRY_LINES,
                "live_calls": busy, "start_p99_ms": START_P99_MS, "stop_p99_ms": STOP_P99_MS,
                "duration_s": list(DURATION_S), "talk_s": list(TALK_S)}

    # --- start (prepared off the loop, then on the loop) ---------------------------------------------
    def prepare(self, args: dict) -> dict:
        """Off the loop: the checks (again on the loop: the box may have got busier since), then the run's
        directory, database and recorder (the previous run's are deleted)."""
        self._check(**self._settings(args))
        with self._lock:
            stale = self._pending is not None and self.wall() - self._pending[0] > STALE_PREPARE_S
            if self.state != "idle" and not (self.state == "preparing" and stale):
                raise LoadTestError(f"a load test is {self.state} already: stop it first")
            self.state = "preparing"
            left, self._pending = self._pending, None
        if left is not None:
            left[1].close()
        opened: _Opened | None = None
        try:
            run_id = time.strftime("%Y%m%d-%H%M%S-", time.gmtime(self.wall())) + secrets.token_hex(3)
            if self.root.exists():
                shutil.rmtree(self.root)
            directory = self.root / run_id
            directory.mkdir(parents=True)
            records = StoreWriter(directory / "loadtest.db")
            records.start()
            # Recorded as the box records (the card's write load is part of the test), each file deleted
            # once hashed: an hour of 30 recorded calls is 3.4 GB (stereo 16-bit 8 kHz, 32 kB/s a call)
            # on the card the real recordings need. The run's records keep each one's size and SHA-256.
            recorder = Recorder(directory / "recordings", keep=False)
            recorder.start()
            opened = _Opened(run_id, directory, records, recorder)
            self._build(opened, **self._settings(args))
        except Exception as exc:
            if opened is not None:
                opened.close()
            with self._lock:
                self.state = "idle"
            log.exception("load test not started")
            raise LoadTestError(f"load test not started: {exc}") from None
        with self._lock:
            self._pending = (self.wall(), opened)
        return {**args, "opened": opened}

    def cmd_start(self, callers: int, duration: float, agents: int | None = None, talk: float = 30.0,
                  keys: str = "1", opened: _Opened | None = None) -> dict:
        with self._lock:
            if opened is None or self._pending is None or self._pending[1] is not opened:
                raise LoadTestError("loadtest.start: its records were not prepared")
            self._pending = None
        settings = self._settings({"callers": callers, "duration": duration, "agents": agents, "talk": talk,
                                   "keys": keys})
        try:
            self._check(**settings)
            self._begin(**settings, opened=opened)
        except Exception:
            self._close_off_loop(opened)
            raise
        return self.cmd_status()

    @staticmethod
    def _settings(args: dict) -> dict:
        """A start's arguments with their defaults: as many agents as callers, 30 s talks, key 1."""
        callers = args["callers"]
        agents = args.get("agents")
        return {"callers": callers, "duration": float(args["duration"]),
                "agents": min(callers, VIRTUAL_STATIONS) if agents is None else agents,
                "talk": float(args.get("talk", 30.0)), "keys": args.get("keys", "1")}

    def _check(self, callers: int, duration: float, agents: int, talk: float, keys: str) -> None:
        limits = self.limits()
        if not 1 <= callers <= VIRTUAL_TRUNKS:
            raise LoadTestError(f"callers must be 1-{VIRTUAL_TRUNKS}: the box has {VIRTUAL_TRUNKS} virtual lines")
        if callers > limits["callers"]:
            raise LoadTestError(
                f"{callers} virtual callers is more than the box can carry now: it carries {CARRY_LINES} calls at "
                f"once and {limits['live_calls']} real lines are busy, so at most {limits['callers']}")
        if not 0 <= agents <= VIRTUAL_STATIONS:
            raise LoadTestError(f"agents must be 0-{VIRTUAL_STATIONS}: the box has {VIRTUAL_STATIONS} virtual stations")
        if not DURATION_S[0] <= duration <= DURATION_S[1]:
            raise LoadTestError(f"duration must be {DURATION_S[0]:g}-{DURATION_S[1]:g} s")
        if not TALK_S[0] <= talk <= TALK_S[1]:
            raise LoadTestError(f"talk must be {TALK_S[0]:g}-{TALK_S[1]:g} s")
        choices = keys.split()
        if not choices or len(choices) > MAX_KEY_CHOICES or any(set(k) - DTMF_KEYS for k in choices):
            raise LoadTestError(f"keys: up to {MAX_KEY_CHOICES} choices of DTMF keys (0-9 * #) separated by spaces, "
                                f"one per caller in turn, e.g. \"1 2\"; got {keys[:40]!r}")
        p99 = self.engine.stats.recent(GUARD_TICKS)["p99_ms"]
        if p99 > START_P99_MS:
            raise LoadTestError(f"the box is busy already: its ticks' p99 is {p99:.1f} ms, above the "
                                f"{START_P99_MS:g} ms a load test may start from")

    def _build(self, opened: _Opened, callers: int, duration: float, agents: int, talk: float, keys: str) -> None:
        """Off the loop (building it takes a few ms, a quarter of a tick): the run's call center on the live
        settings and the flow running now, its virtual agents logged in and ready."""
        site = self._virtual_site(self.center.site, agents)
        guest, svc = self.engine.guest_services(opened.records, opened.recorder)
        center = CallCenter(svc, site, self.center.flow)
        svc.observe(self._on_event)
        for agent in site.agents:
            center.acd.cmd_login(agent.id)
            center.acd.cmd_ready(agent.id)
        opened.guest, opened.center = guest, center

    def _begin(self, callers: int, duration: float, agents: int, talk: float, keys: str, opened: _Opened) -> None:
        guest, center = opened.guest, opened.center
        assert guest is not None and center is not None, "prepare() built the run's call center"
        for handset in self.driver.handsets:
            handset.talk = talk
        self.engine.host(guest, center)
        self._guest, self._opened, self._keys = center, opened, keys.split()
        self._placed, self._p99_max = 0, 0.0
        self._ticks0, self._overruns0 = self.engine.stats.count, self.engine.stats.overruns
        self._ends_at = self.engine.clock.seconds + duration
        self._counts0 = dict(self.driver.counters)
        self._ended = {"answered": 0, "connected": 0}
        self.driver.finished.clear()
        self.driver.blocked.clear()
        now = self.wall()
        self.run = {"id": opened.run_id, "callers": callers, "agents": agents, "duration_s": duration,
                    "talk_s": talk, "keys": keys.split(), "started_at": now, "ends_at": now + duration,
                    "ended_at": None, "stop_reason": None, "records": str(opened.directory)}
        with self._lock:
            self.state = "running"
        log.info("load test %s: %d virtual callers, %d virtual agents for %.0f s (records in %s)",
                 opened.run_id, callers, agents, duration, opened.directory)
        self._timer = self.engine.later(0.0, self._check_in)

    @staticmethod
    def _virtual_site(site: SiteConfig, agents: int) -> SiteConfig:
        """The live settings with virtual agents on the virtual stations in place of the real ones, each
        with every queue's skill at the highest level any queue asks for, so every queue reaches them."""
        levels: dict[str, int] = {}
        for q in site.queues:
            top = max([q.min_level, *(level for _, level in q.escalate)])
            levels[q.skill] = max(levels.get(q.skill, 0), top)
        virtual = [AgentConfig(id=f"lt{i + 1}", name=f"Load test {i + 1}", station=f"vstation{i + 1}",
                               skills=dict(levels)) for i in range(agents)]
        return SiteConfig(box_id=site.box_id, language=site.language, flow=site.flow, answer_rings=site.answer_rings,
                          tones=site.tones, queues=site.queues, agents=virtual, supervisors=[])

    # --- while it runs (a timer on the loop, once a second) ------------------------------------------
    def _check_in(self) -> None:
        self._timer = None
        if self.state != "running":
            return
        try:
            recent = self.engine.stats.recent(GUARD_TICKS)
            if self.engine.stats.count - self._ticks0 >= GUARD_TICKS:
                self._p99_max = max(self._p99_max, recent["p99_ms"])
                if recent["p99_ms"] > STOP_P99_MS:
                    self._stop(f"the box's ticks reached p99 {recent['p99_ms']:.1f} ms over the last "
                               f"{GUARD_TICKS * TICK_SECONDS:.0f} s, above {STOP_P99_MS:g} ms")
                    return
            if self.engine.clock.seconds >= self._ends_at:
                self._stop("finished")
                return
            self._fold()
            self._refill()
        except Exception as exc:   # the test ends; the live calls go on
            log.exception("load test stopped by a fault")
            self._stop(f"stopped by a fault: {exc}")
            return
        self._timer = self.engine.later(CHECK_S, self._check_in)

    def _fold(self) -> None:
        """Count the callers who hung up and let them go: an hour's run must not keep thousands."""
        for c in self.driver.finished:
            self._ended["answered"] += c.answered is not None
            self._ended["connected"] += c.connected is not None
        self.driver.finished.clear()
        self.driver.blocked.clear()

    def _on_event(self, event: str, data: dict) -> None:
        # The simulated caller starts talking once bridged to an agent (as a scenario's callers do).
        if event == "call:bridged":
            local = data["channel"] - self.engine.board.live
            if 0 <= local < self.driver.n_trunks:
                self.driver.connected(local)

    def _refill(self) -> None:
        """Keep `callers` virtual lines busy: a caller who hangs up is followed by another."""
        assert self.run is not None, "refilled only while running"
        busy = sum(1 for ch in range(self.driver.n_trunks) if self.driver.trunks[ch].caller is not None)
        for _ in range(min(RAMP_PER_S, self.run["callers"] - busy)):
            keys = self._keys[self._placed % len(self._keys)]
            self._placed += 1
            # Patient: a virtual caller waits in the queue until an agent answers or the test ends.
            caller = SimCaller(number=f"{NUMBER_PREFIX}{self._placed:07d}", keys=[(KEY_AFTER_S, keys)],
                               patience=self.run["duration_s"] + CHECK_S, talk=TALK_S[1] * 2)
            self.driver.place_call(caller)

    # --- stop ------------------------------------------------------------------------------------------
    def cmd_stop(self) -> dict:
        if self.state != "running":
            raise LoadTestError("no load test is running")
        self._stop("stopped by the operator")
        return self.cmd_status()

    def _stop(self, reason: str) -> None:
        assert self.run is not None, "stopped only while running"
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.run.update(calls=self._calls(), ticks=self._ticks(), ended_at=self.wall(), stop_reason=reason)
        with self._lock:
            self.state = "stopping"
        self.engine.evict()
        self._guest = None
        log.info("load test %s ended: %s; %s; ticks %s", self.run["id"], reason, self.run["calls"], self.run["ticks"])
        opened, self._opened = self._opened, None
        if opened is not None:
            self._close_off_loop(opened)

    def _close_off_loop(self, opened: _Opened) -> None:
        """Close the run's writer and recorder on their own thread: flushing them must never hold a tick."""
        def close() -> None:
            try:
                opened.close()
            except Exception:
                log.exception("load test %s: its records did not close cleanly", opened.run_id)
            finally:
                with self._lock:
                    self.state = "idle"
        threading.Thread(target=close, name="loadtest-close", daemon=True).start()

    # --- status ----------------------------------------------------------------------------------------
    def _calls(self) -> dict:
        self._fold()
        counts = {k: self.driver.counters[k] - self._counts0.get(k, 0) for k in ("calls", "blocked")}
        queues = self._guest.acd.status()["queues"] if self._guest is not None else []
        active = [t.caller for t in self.driver.trunks if t.caller is not None]
        return {"offered": counts["calls"], "blocked": counts["blocked"],
                "answered": self._ended["answered"] + sum(1 for c in active if c.answered is not None),
                "connected": self._ended["connected"] + sum(1 for c in active if c.connected is not None),
                "completed": self._ended["connected"],
                "abandoned": sum(q["abandoned"] for q in queues), "in_progress": len(active),
                "waiting": sum(q["waiting"] for q in queues)}

    def _ticks(self) -> dict:
        stats = self.engine.stats
        ticks = stats.count - self._ticks0
        recent = stats.recent(min(ticks, GUARD_TICKS)) if ticks else {"p99_ms": 0.0, "mean_ms": 0.0, "max_ms": 0.0}
        return {"count": ticks, "p99_ms": recent["p99_ms"], "mean_ms": recent["mean_ms"],
                "p99_max_ms": round(max(self._p99_max, recent["p99_ms"]), 3),
                "overruns": stats.overruns - self._overruns0}

    def cmd_status(self) -> dict:
        out: dict = {"state": self.state, "limits": self.limits(), "run": None}
        if self.run is not None:
            run = dict(self.run)
            if self.state == "running":
                run.update(calls=self._calls(), ticks=self._ticks())
            out["run"] = run
        return out
