"""The engine: the 20 ms tick loop that owns the board, the detectors, the timers, the media and the
recorder, and drives one application (the call center) through firmware/core/application.py."""
from __future__ import annotations

import logging
import random
import time
import uuid
from typing import Callable

import numpy as np

from drivers.channel import (TICK_SAMPLES, TICK_SECONDS, Board, ChannelError, ChannelEvent, EventKind, LineTest,
                             LineView)
from dsp.tones import TonePlan

from firmware.core.application import Application, RecordSink, Services
from firmware.core.clock import TickClock
from firmware.core.control import ControlError, ControlServer
from firmware.core.events import EventBus
from firmware.core.guest import Guest
from firmware.core.journal import Journal
from firmware.core.listening import Listener
from firmware.core.media import MediaPlan
from firmware.core.prompts import PromptSet
from firmware.core.recorder import Recorder
from firmware.core.timers import Timers

log = logging.getLogger(__name__)

# Tick durations kept for the statistics in status(): one minute of ticks.
STATS_TICKS = 3000
# A technician's line test listens this long: the modem needs a second to go off-hook and start its
# stream, and dial tone is continuous, so a few seconds settle it.
LINE_TEST_S = 3.0
# A driver that has not finished a test this long after its listening time has lost it (a modem's
# command timeouts add up to a few seconds).
LINE_TEST_GRACE_S = 15.0
# Finished line tests kept for `line.test_result`.
LINE_TESTS_KEPT = 64
# Control commands get a share of each 20 ms tick, never the whole of it: the loop stops taking
# commands once this much of the tick has gone to them, or after this many (a status took 0.12 ms
# with the demo's four calls), and the rest wait for the next tick. The audio, detectors and mixing
# keep the other three quarters of the tick, with headroom for a Pi-class CPU.
COMMAND_BUDGET_S = TICK_SECONDS / 4
COMMANDS_PER_TICK = 32
# While someone follows the live events, the box's own figures (tick timing, the worker threads) go
# out this often: they change every tick, and a page shows them to the second at best.
BOX_EVENT_S = 5.0


class TickStats:
    """Per-tick processing time: mean, p99, max and overruns (ticks that took longer than a tick)."""

    def __init__(self):
        self._ms = np.zeros(STATS_TICKS, np.float32)
        self.count = 0
        self.overruns = 0
        self.max_ms = 0.0

    def add(self, seconds: float) -> None:
        ms = seconds * 1000.0
        self._ms[self.count % STATS_TICKS] = ms
        self.count += 1
        if seconds > TICK_SECONDS:
            self.overruns += 1
        if ms > self.max_ms:
            self.max_ms = ms

    def since(self, count: int) -> np.ndarray:
        """The times (ms) of the ticks from tick number `count` on, as far back as the window reaches: a
        caller that reads at least every STATS_TICKS ticks sees every tick (the soak's per-interval p99)."""
        n = min(self.count - count, self.count, STATS_TICKS)
        if n <= 0:
            return np.zeros(0, np.float32)
        end = self.count % STATS_TICKS
        window = np.roll(self._ms, -end)[STATS_TICKS - n:] if self.count >= STATS_TICKS else self._ms[end - n:end]
        return window.copy()

    def recent(self, ticks: int) -> dict:
        """Mean, p99 and max of the last `ticks` ticks (at most STATS_TICKS): a load test's own window."""
        window = self.since(self.count - ticks)
        if window.size == 0:
            return {"mean_ms": 0.0, "p99_ms": 0.0, "max_ms": 0.0}
        return {"mean_ms": round(float(window.mean()), 3), "p99_ms": round(float(np.percentile(window, 99)), 3),
                "max_ms": round(float(window.max()), 3)}

    def status(self) -> dict:
        window = self._ms[:min(self.count, STATS_TICKS)]
        if window.size == 0:
            return {"count": 0, "mean_ms": 0.0, "p99_ms": 0.0, "max_ms": 0.0, "overruns": 0}
        return {"count": self.count, "mean_ms": round(float(window.mean()), 3),
                "p99_ms": round(float(np.percentile(window, 99)), 3), "max_ms": round(self.max_ms, 3),
                "overruns": self.overruns}


class EngineError(Exception):
    """The loop was run before it was given an application to drive, or cannot host a guest."""


class Engine:
    def __init__(self, board: Board, clock: TickClock, tones: TonePlan, prompts: PromptSet, store: RecordSink,
                 recorder: Recorder, box_id: str, board_name: str = "sim", control: ControlServer | None = None,
                 seed: str | None = None, queue_log: Journal | None = None):
        self.board, self.clock, self.tones, self.prompts = board, clock, tones, prompts
        self.store, self.recorder, self.control, self.queue_log = store, recorder, control, queue_log
        self.box_id, self.board_name = box_id, board_name
        self.timers = Timers()
        self.stats = TickStats()
        self.observers: list[Callable[[str, dict], None]] = []
        # Edge threads the box added (the GSM modem's): stopped when the engine closes, before the store.
        self.on_close: list[Callable[[], None]] = []
        self._rng = random.Random(seed) if seed is not None else None
        n = len(board)
        self.listener = Listener(board, tones)
        self.media = MediaPlan(n)
        self.tx = np.zeros((n, TICK_SAMPLES), np.int16)
        self.alarms: dict[int, str] = {}
        self.line_tests: dict[str, dict] = {}        # job id -> record, oldest first
        self.testing: dict[int, tuple[str, LineTest]] = {}   # channel -> (job, test) while one runs
        self._last_test: dict[int, dict] = {}        # channel -> its latest test record
        self.started_at = clock.time()
        # The live call center sees the real lines only; the virtual ones are a guest's (host()).
        self.lines = LineView(board, 0, board.live)
        self.guest: Guest | None = None
        # The live call center's events for the control socket's subscribers (the web's pages); a
        # guest on the virtual lines (the load test) publishes none.
        self.events = EventBus(clock.time)
        self.events.lines = lambda channel: ("line", self._line_status(channel))
        if control is not None:
            control.events = self.events
        self.services = Services(clock, self.later, self.new_id, self.emit, store, self.lines, self.media, recorder,
                                 prompts, self.alarms, lambda ch: ch in self.testing, self.listener.reset,
                                 self.listener.receiving_caller_id, self.observers.append, retune=self.retune,
                                 events=self.events, screen=self.listener.screen)
        self.app: Application | None = None
        self._box_event_at = 0.0
        self._commands: dict[str, Callable[..., dict]] = {}
        self._running = False

    def drive(self, app: Application) -> None:
        """The application the loop runs: its commands join the loop's own."""
        self.app = app
        self._commands = {
            "status": lambda: self.status(),
            "events.subscribe": self.events.subscribe,
            **app.commands(),
            "line.test": self.cmd_line_test,
            "line.test_result": self.cmd_line_test_result,
        }
        if self.control is not None:
            self.control.prepare.update(app.preparers())

    # --- a guest on the virtual lines (the load test) --------------------------------------------
    def guest_services(self, records: RecordSink, recorder: Recorder) -> tuple[Guest, Services]:
        """A guest on the board's virtual lines, and the services its application is to be built with:
        the loop's clock, ids, media, prompts and detectors; its own timers, events, records and recorder."""
        if self.board.virtual is None:
            raise EngineError(f"box {self.box_id}: the board has no virtual lines to host a load test on")
        if self.guest is not None:
            raise EngineError(f"box {self.box_id}: a guest already runs on the virtual lines")
        guest = Guest(LineView(self.board, self.board.live, len(self.board)), records, recorder)

        def later(seconds: float, fn: Callable, *args):
            return guest.timers.at(self.clock.seconds + seconds, fn, *args)

        svc = Services(self.clock, later, self.new_id, guest.emit, records, guest.lines, self.media, recorder,
                       self.prompts, self.alarms, lambda ch: False, self.listener.reset,
                       self.listener.receiving_caller_id, guest.observers.append, screen=self.listener.screen)
        return guest, svc

    def host(self, guest: Guest, app: Application) -> None:
        """From the next tick, the virtual lines' events, detections and timers go to `app`."""
        if self.guest is not None:
            raise EngineError(f"box {self.box_id}: a guest already runs on the virtual lines")
        guest.app = app
        self.guest = guest
        self.board.set_virtual(True)
        self.listener.use_virtual(True)

    def evict(self) -> Guest | None:
        """End the guest's calls and free the virtual lines; the caller closes its records and recorder."""
        guest, self.guest = self.guest, None
        if guest is None:
            return None
        if guest.app is not None:
            try:
                guest.app.close()
            except Exception:  # the virtual lines are freed below whatever the guest left
                log.exception("the load test's call center failed to close")
        for ch in range(guest.lines.lo, guest.lines.hi):
            self.media.disconnect(ch)
            self.media.stop(ch)
            self.listener.reset(ch)
            try:
                self.board.hangup(ch)
            except ChannelError:
                pass   # already on hook
        for fin in guest.recorder.finished():
            if guest.app is not None:
                guest.app.on_recording(fin)
        self.board.set_virtual(False)
        self.listener.use_virtual(False)
        return guest

    def _app_for(self, channel: int) -> Application | None:
        """The application a channel's events go to: the live one, or the guest on a virtual line."""
        if channel < self.board.live:
            return self.application
        return self.guest.app if self.guest is not None else None

    def add_commands(self, commands: dict[str, Callable[..., dict]],
                     preparers: dict[str, Callable[[dict], dict]] | None = None) -> None:
        """More control commands on the loop (the load test's), after drive()."""
        self._commands.update(commands)
        if self.control is not None and preparers:
            self.control.prepare.update(preparers)

    @property
    def application(self) -> Application:
        """The application driven; the box assembly gives it (drive) before the loop runs."""
        if self.app is None:
            raise EngineError(f"box {self.box_id}: the engine drives no application yet")
        return self.app

    # --- services lent to the application -----------------------------------------------------
    def new_id(self) -> str:
        """A record id unique across restarts and boxes (firmware/store/ids.py: a seeded engine's generator
        is seeded with the box id and the boot number as well as the scenario seed)."""
        if self._rng is not None:
            return uuid.UUID(int=self._rng.getrandbits(128), version=4).hex
        return uuid.uuid4().hex

    def emit(self, event: str, /, **data) -> None:
        for observer in self.observers:
            observer(event, data)

    def retune(self, plan: TonePlan) -> None:
        """The network's tone plan changed (a site reload): the detectors and the next line test use it."""
        self.tones = plan
        self.listener.retune(plan)
        log.info("lines now heard by the %s tone plan", plan.name)

    def later(self, seconds: float, fn: Callable, *args):
        return self.timers.at(self.clock.seconds + seconds, fn, *args)

    # --- lines --------------------------------------------------------------------------------
    def _on_channel_event(self, ev: ChannelEvent) -> None:
        if ev.channel >= self.board.live:
            if self.guest is not None and self.guest.app is not None:
                self.guest.app.on_channel_event(ev)
            return
        if ev.kind == EventKind.ALARM:
            self._alarm(ev)
        self.application.on_channel_event(ev)

    def _alarm(self, ev: ChannelEvent) -> None:
        name = self.board.channels[ev.channel].name
        if ev.data.get("active", True):
            self.alarms[ev.channel] = ev.data.get("reason", "alarm")
            log.error("line %s in alarm: %s", name, self.alarms[ev.channel])
        elif self.alarms.pop(ev.channel, None) is not None:
            log.warning("line %s back in service", name)
            self.application.line_freed()
        self.emit("line:alarm", channel=ev.channel, **ev.data)
        self.events.line_changed(ev.channel)

    # --- commands -----------------------------------------------------------------------------
    def command(self, cmd: str, args: dict) -> dict:
        """Run one control command on the loop thread; ControlError for anything refused."""
        fn = self._commands.get(cmd)
        if fn is None:
            raise ControlError(f"unknown command {cmd!r} (commands: {', '.join(sorted(self._commands))})")
        try:
            return fn(**args)
        except TypeError as exc:
            raise ControlError(f"{cmd}: bad arguments: {exc}") from None

    def cmd_line_test(self, channel: int, seconds: float = LINE_TEST_S) -> dict:
        """Start a dial-tone test on an idle line; its result comes later (line.test_result, status)."""
        ch = self._line_arg("line.test", channel)
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0.5 <= seconds <= 60.0:
            raise ControlError(f"line.test: seconds must be a number from 0.5 to 60, got {seconds!r}")
        name = self.board.channels[ch].name
        if ch in self.testing:
            raise ControlError(f"line {name} is being tested already (job {self.testing[ch][0]})")
        busy = self.application.line_in_use(ch)
        if busy:
            raise ControlError(f"line {name} {busy}: it cannot be tested now")
        try:
            test = self.board.test_line(ch, float(seconds), self.tones)
        except ChannelError as exc:
            raise ControlError(f"line {name}: {exc}") from None
        job = self.new_id()
        record = {"job": job, "channel": ch, "line": name, "state": "running", "seconds": float(seconds),
                  "started_at": self.clock.time(), "finished_at": None, "result": None}
        self.line_tests[job] = record
        finished = [j for j, r in self.line_tests.items() if r["state"] != "running"]
        for old in finished[:max(0, len(self.line_tests) - LINE_TESTS_KEPT)]:
            del self.line_tests[old]
        self.testing[ch] = (job, test)
        self._last_test[ch] = record
        log.info("line %s: test %s started (%.1f s)", name, job, seconds)
        self.emit("line:test", channel=ch, job=job)
        self.events.line_changed(ch)
        return dict(record)

    def cmd_line_test_result(self, job: str) -> dict:
        record = self.line_tests.get(job) if isinstance(job, str) else None
        if record is None:
            raise ControlError(f"no line test {job!r} (the last {LINE_TESTS_KEPT} finished tests are kept)")
        return dict(record)

    def _line_arg(self, cmd: str, channel) -> int:
        n = self.board.live
        if isinstance(channel, bool) or not isinstance(channel, int) or not 0 <= channel < n:
            raise ControlError(f"{cmd}: no line {channel!r} on this box (lines 0-{n - 1})")
        return channel

    def _check_tests(self) -> None:
        """Collect the line tests their drivers have finished (or lost)."""
        now = self.clock.time()
        for ch, (job, test) in list(self.testing.items()):
            record = self._last_test[ch]
            if test.result is not None:
                result = test.result
            elif now < record["started_at"] + record["seconds"] + LINE_TEST_GRACE_S:
                continue
            else:
                result = {"dial_tone": None, "level_dbm0": None,
                          "detail": f"line {record['line']}: the {self.board.channels[ch].driver} driver gave no "
                                    f"result within {record['seconds'] + LINE_TEST_GRACE_S:.0f} s"}
            del self.testing[ch]
            self.application.line_freed()
            record.update(state="failed" if result["dial_tone"] is None else "done", result=dict(result),
                          finished_at=now)
            log.info("line %s: test %s %s: %s", record["line"], job, record["state"], result["detail"])
            self.emit("line:tested", channel=ch, job=job, **result)
            self.events.line_changed(ch)

    def _drain_commands(self, control: ControlServer) -> None:
        """Run this tick's share of the waiting commands (COMMAND_BUDGET_S, COMMANDS_PER_TICK)."""
        requests = control.requests
        deadline = time.perf_counter() + COMMAND_BUDGET_S
        # One status answers every status request of the tick, until another command changes what
        # it shows: a flood of status polls costs the loop one status a tick. It is built here on
        # the loop rather than served from a snapshot off it, so a status always shows the commands
        # answered before it (the web polls right after an agent command), and a stalled loop shows
        # as an engine that does not answer, not as a picture that has stopped moving.
        status = None
        for _ in range(COMMANDS_PER_TICK):
            if requests.empty() or time.perf_counter() > deadline:
                return
            cmd, args, fut = requests.get_nowait()
            if not fut.set_running_or_notify_cancel():
                continue
            try:
                if cmd == "status":
                    status = status or self.status()
                    fut.set_result(status)
                    continue
                status = None
                fut.set_result(self.command(cmd, args))
            except ControlError as exc:
                fut.set_exception(exc)
            except Exception as exc:  # a bug in one command must not stop the loop
                log.exception("control command %s failed", cmd)
                fut.set_exception(ControlError(f"{cmd}: internal error: {exc}"))

    # --- faults -------------------------------------------------------------------------------
    def _guarded(self, channel: int, fn: Callable, *args) -> None:
        """Run one handler; a fault ends the call on that channel, never the loop."""
        try:
            fn(*args)
        except Exception as exc:
            app = self._app_for(channel)
            if app is not None:
                app.fault(exc, channel)

    def _timer_fault(self, exc: Exception, timer) -> None:
        self.application.fault(exc, None, timer)

    def _guest_timer_fault(self, exc: Exception, timer) -> None:
        if self.guest is not None and self.guest.app is not None:
            self.guest.app.fault(exc, None, timer)

    # --- the tick -----------------------------------------------------------------------------
    def step(self) -> None:
        """One tick: exchange audio, detect, handle events and timers, render the next output."""
        self.clock.wait()
        t0 = time.perf_counter()
        rx, events = self.board.exchange(self.tx)
        for ev in events:
            self._guarded(ev.channel, self._on_channel_event, ev)
        self.listener.hear(rx, self._app_for, self._guarded)
        self.timers.run_due(self.clock.seconds, on_error=self._timer_fault)
        guest = self.guest
        if guest is not None:
            guest.timers.run_due(self.clock.seconds, on_error=self._guest_timer_fault)
        if self.testing:
            self._check_tests()
        if self.control is not None:
            self._drain_commands(self.control)
        self.tx = self.media.render(rx)
        for channel, done in self.media.finished():
            self._guarded(channel, done)
        self.application.on_audio(rx, self.tx, self.listener.levels)
        for fin in self.recorder.finished():
            self.application.on_recording(fin)
        self.store.pump()
        guest = self.guest
        if guest is not None and guest.app is not None:
            guest.app.on_audio(rx, self.tx, self.listener.levels)
            for fin in guest.recorder.finished():
                guest.app.on_recording(fin)
            guest.records.pump()
        if self.events.subscribed and self.clock.seconds >= self._box_event_at:
            self._box_event_at = self.clock.seconds + BOX_EVENT_S
            self.events.publish("box", self._box_status())
        self.events.flush()
        self.stats.add(time.perf_counter() - t0)
        self.clock.advance()

    def run(self, until: Callable[[], bool] | None = None) -> None:
        """Run ticks until `until()` is true or `stop()` is called."""
        self._running = True
        while self._running and not (until and until()):
            self.step()

    def stop(self) -> None:
        self._running = False

    # --- status -------------------------------------------------------------------------------
    def _line_status(self, channel: int, own: list[dict] | None = None) -> dict:
        """One line as the status and the lines page show it: state, call, driver, counters, last test.
        `own`: every line's driver figures (Board.line_status), when the caller has them already."""
        info = self.board.channels[channel]
        app = self.application.line_status(channel)
        if channel in self.alarms:
            state, since = "alarm", None
        elif app["state"] is not None:
            state, since = app["state"], app["since"]
        elif channel in self.testing:
            state, since = "testing", self._last_test[channel]["started_at"]
        else:
            state, since = "idle", None
        drv = (own if own is not None else self.board.line_status())[channel]
        counters = drv.get("counters") or {}
        test = self._last_test.get(channel)
        return {"channel": channel, "name": info.name, "kind": info.kind.value, "state": state,
                "call_id": app["call_id"], "number": app["number"], "trunk_group": app.get("trunk_group"),
                "since": since, "alarm": self.alarms.get(channel),
                "driver": info.driver, "device": drv.get("device") or info.device,
                "driver_state": drv.get("state"), "last_caller_id": app["last_caller_id"],
                # An E1 trunk's span: its state, alarms and line counters (drivers/e1_span.py).
                "span": drv.get("span"),
                # resets and overruns are the hardware's own counts: None where a driver keeps none.
                # far_end_clears: calls the box ended on the far end's tone or silence (§20).
                "counters": {"calls": app["calls"], "far_end_clears": app["far_end_clears"], "digits": app["digits"],
                             "unreadable_ids": app["unreadable_ids"],
                             "resets": counters.get("resets"), "overruns": counters.get("overruns")},
                "digits": app["heard"],
                "test": dict(test) if test else None}

    def status(self) -> dict:
        own = self.board.line_status()
        lines = [self._line_status(info.index, own) for info in self.lines.channels]
        app_status = self.application.status()
        return {**self._box_status(), "lines": lines, "calls": app_status.pop("calls"), **app_status,
                # The last live event this status includes: a page that read it applies only later ones.
                "events": {"run": self.events.run, "seq": self.events.seq}}

    def _box_status(self) -> dict:
        """The box, its tick timing and its worker threads (the status's head, and the `box` event)."""
        return {"box": {"id": self.box_id, "board": self.board_name, "mode": self.clock.mode,
                        "started_at": self.started_at, "now": self.clock.time()},
                "ticks": self.stats.status(),
                "store": self.store.status(), "recorder": self.recorder.status(),
                "journal": self.queue_log.status() if self.queue_log is not None else None}

    def close(self) -> None:
        for stop in self.on_close:
            stop()
        guest = self.evict()
        if guest is not None:
            guest.recorder.stop()
            guest.records.close()
        self.application.close()
        if self.control is not None:
            self.control.close()
        self.events.close()
        if self.queue_log is not None:
            self.queue_log.close()
        self.recorder.stop()
        for fin in self.recorder.finished():
            self.application.on_recording(fin)
        self.store.close()
        self.board.close()
