"""`branchline soak day|lines`: the box's two processes run for a long while under mixed traffic, sampled as
they go; verdicts at the end (docs/architecture.md §29).

`day`: 24 simulated hours in fast time (board/soak/day.toml). `lines`: an hour in real time on 120 busy
lines (board/soak/lines.toml). The engine runs a scenario on the simulated board in its own process with
the soak's sampler attached (firmware/tools/soak_sample.py); the web process serves the consoles' live
events, tickets created and worked, reports and HQ's pulls at the same time, as on a box. The samples go
to `<out>/samples.csv`, a line per row to the terminal, the verdicts and figures to `<out>/summary.json`.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
from pathlib import Path

from firmware.tools.bench_box import start_process, start_web, web_port
from firmware.tools.bench_events import _Session, _staff, _Stream
from firmware.tools.soak_sample import COLUMNS, GATHER_S, SoakError, read_rows
from firmware.tools.soak_verdict import verdicts
from typed_toml import read_file

PROFILES = Path(__file__).resolve().parents[2] / "board" / "soak"
REPORTS = ("calls", "agents", "tickets", "campaigns")
TICKET_STEPS = ("dispatch", "start", "resolve", "confirm", "close")
# Set by SIGTERM or SIGINT: the run ends early, judged on the rows it has.
cut_short = threading.Event()
# How long the engine may take to come up (its database migrated, the control socket listening).
START_S = 120.0


@dataclasses.dataclass(frozen=True)
class Profile:
    scenario: Path
    clock: str
    seconds: float
    interval: float
    consoles: int
    ticket_every: float
    report_every: float
    hq_pull_every: float


def load_profile(path: Path) -> Profile:
    top = read_file(path)
    soak, web = top.get_table("soak"), top.get_table("web")
    profile = Profile(scenario=path.parent / soak.get_str("scenario"),
                      clock=soak.get_str("clock", choices=("fast", "paced")),
                      seconds=soak.get_float("seconds", minval=60.0, maxval=7 * 86400.0),
                      interval=soak.get_float("interval", minval=60.0, maxval=86400.0),
                      consoles=soak.get_int("consoles", 0, 0, 200),
                      ticket_every=web.get_float("ticket_every", minval=0.1),
                      report_every=web.get_float("report_every", minval=0.1),
                      hq_pull_every=web.get_float("hq_pull_every", minval=1.0))
    soak.done()
    web.done()
    top.done()
    return profile


def engine_main(state: Path, scenario: Path, clock: str, seconds: float, interval: float, out: Path) -> None:
    """The engine's process: the scenario for `seconds` with the sampler attached, until then or SIGTERM."""
    from firmware.tools.scenario import ScenarioRun, load_scenario
    from firmware.tools.soak_sample import Sampler

    scn = dataclasses.replace(load_scenario(scenario), seconds=seconds)
    # Fast time ends its day now, so the web's reports (the last 7 days by default) cover all of it.
    epoch = time.time() - seconds if clock == "fast" else None
    # report=False: the scenario runner keeps nothing of a finished call, so the engine process's memory is
    # the box's own (it kept every simulated caller for its report: about 0.7 MB an hour of the day).
    run = ScenarioRun(scn, state, clock=clock, control=True, epoch=epoch, report=False)
    engine = run.engine
    pid_file = out / "web.pid"

    def web_pid() -> int | None:
        try:
            return int(pid_file.read_text())
        except (FileNotFoundError, ValueError):
            return None
    sampler = Sampler(engine, run.paths, interval, out / "samples.csv", web_pid)
    # SIGINT too: Ctrl-C and `timeout` signal the whole process group, the engine with the soak.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: engine.stop())
    try:
        engine.run(until=lambda: engine.clock.seconds >= seconds)
    finally:
        sampler.close()
        engine.close()


# The load's threads stand for browsers and HQ on other machines: on the box's own cores they give way to
# both of its processes (the web process runs at webui/server.py NICE).
LOAD_NICE = 15


def _elsewhere(fn) -> None:
    """Run `fn` on this thread at LOAD_NICE (Linux sets a thread's own priority, setpriority(2) NOTES)."""
    os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), LOAD_NICE)
    fn()


class WebLoad:
    """What the branch's staff and HQ do on the web process meanwhile, at wall-clock rates, each on a thread;
    counts what was done and every failure (an HTTP 5xx, a refused write, a stream the server dropped)."""

    def __init__(self, profile: Profile, base: str, port: int, admin: _Session,
                 consoles: list[tuple[_Session, str | None]], hq_config: Path):
        self.profile, self.base, self.admin, self.hq_config = profile, base, admin, hq_config
        self.streams = [_Stream(port, session.cookie, agent) for session, agent in consoles]
        self.counts = {"tickets_closed": 0, "reports": 0, "hq_pulls": 0, "hq_records": 0, "events": 0}
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=_elsewhere, args=(fn,), name=f"soak-{fn.__name__}", daemon=True)
                         for fn in (self._consoles, self._tickets, self._reports, self._hq)]

    def start(self) -> None:
        for t in self._threads:
            t.start()

    def stop(self) -> dict:
        self._stop.set()
        for t in self._threads:
            t.join(120)
        for s in self.streams:
            s.sock.close()
        self.counts["events"] = sum(s.messages for s in self.streams)
        return {**self.counts, "errors": len(self.errors), "first_errors": self.errors[:10]}

    def _failed(self, what: str, exc: Exception) -> None:
        detail = exc.read().decode(errors="replace")[:200] if isinstance(exc, urllib.error.HTTPError) else ""
        self.errors.append(f"{time.strftime('%H:%M:%S')} {what}: {exc} {detail}".strip())

    def _every(self, seconds: float, fn) -> None:
        while not self._stop.wait(seconds):
            fn()

    def _consoles(self) -> None:
        selector = selectors.DefaultSelector()
        for s in self.streams:
            selector.register(s.sock, selectors.EVENT_READ, s)
        while not self._stop.is_set():
            for key, _ in selector.select(timeout=0.5):
                try:
                    key.data.read(time.time(), [])
                except (RuntimeError, OSError) as exc:
                    self._failed("console stream", exc)
                    selector.unregister(key.fileobj)
        selector.close()

    def _ticket(self) -> None:
        try:
            ticket = self.admin.post_json("/api/v1/tickets", {"title": "Soak: delivery date", "category": "consultation",
                                                              "priority": "normal"})["ticket"]
            self.admin.post_json(f"/api/v1/tickets/{ticket['id']}/notes", {"note": "Called back, waiting on stock."})
            for action in TICKET_STEPS:
                ticket = self.admin.post_json(f"/api/v1/tickets/{ticket['id']}/transitions",
                                              {"action": action, "version": ticket["version"]})["ticket"]
            self.counts["tickets_closed"] += 1
        except (urllib.error.URLError, OSError, KeyError, ValueError) as exc:
            self._failed("ticket", exc)

    def _tickets(self) -> None:
        self._every(self.profile.ticket_every, self._ticket)

    def _reports(self) -> None:
        turn = iter(range(1 << 62))

        def one() -> None:
            name = REPORTS[next(turn) % len(REPORTS)]
            try:
                json.loads(self.admin.opener.open(f"{self.base}/api/v1/reports/{name}?group=hour", timeout=120).read())
                self.counts["reports"] += 1
            except (urllib.error.URLError, OSError, ValueError) as exc:
                self._failed(f"report {name}", exc)
        self._every(self.profile.report_every, one)

    def _hq(self) -> None:
        from hq.collector import Collector, load_config

        collector = Collector(load_config(self.hq_config))

        def pull() -> None:
            report = collector.run_once()[0]
            self.counts["hq_pulls"] += 1
            self.counts["hq_records"] += report.pulled
            for error in report.errors:
                self.errors.append(f"{time.strftime('%H:%M:%S')} HQ pull: {error}")
        self._every(self.profile.hq_pull_every, pull)


def _stop(proc: subprocess.Popen | None, timeout: float = 60.0) -> None:
    if proc is not None and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _print_row(row: dict, out) -> None:
    def cell(key: str, fmt: str) -> str:
        return "-" if row.get(key) is None else format(row[key], fmt)
    out(f"{cell('sim_s', '>8.0f')} {cell('wall_s', '>7.0f')} {cell('calls_active', '>5.0f')} "
        f"{cell('calls_stored', '>7.0f')} {cell('engine_rss_mb', '>7.1f')} {cell('engine_fds', '>4.0f')} "
        f"{cell('engine_threads', '>3.0f')} {cell('engine_cpu_ms', '>6.0f')} {cell('web_rss_mb', '>7.1f')} "
        f"{cell('web_fds', '>4.0f')} {cell('web_threads', '>3.0f')} {cell('web_cpu_pct', '>5.0f')} "
        f"{cell('tick_p99_ms', '>7.2f')} {cell('tick_max_ms', '>7.1f')} "
        f"{cell('overruns', '>5.0f')} {cell('db_mb', '>7.1f')} {cell('wal_mb', '>6.2f')} {cell('wal_resets', '>6.0f')} "
        f"{cell('load1', '>5.1f')}")


HEADER = (f"{'sim s':>8} {'wall s':>7} {'calls':>5} {'stored':>7} {'eng MB':>7} {'fds':>4} {'thr':>3} {'cpu ms':>6} "
          f"{'web MB':>7} {'fds':>4} {'thr':>3} {'cpu %':>5} {'p99 ms':>7} {'max ms':>7} {'over':>5} {'db MB':>7} "
          f"{'WAL MB':>6} {'ckpts':>6} {'load':>5}")


def run_soak(profile: Profile, out: Path, keep_state: bool = False, echo=print) -> dict:
    """Run the soak; the samples, the verdicts and the figures (also in `out`/summary.json)."""
    out.mkdir(parents=True, exist_ok=True)
    state = out / "state"
    if state.exists():
        shutil.rmtree(state)
    (out / "web.pid").unlink(missing_ok=True)
    engine = start_process(["-m", "firmware.tools.soak", "engine", str(state), str(profile.scenario), profile.clock,
                            str(profile.seconds), str(profile.interval), str(out)], out / "engine.log")
    web = None
    load = None
    started = time.monotonic()
    try:
        while not (state / "control.sock").exists():
            if engine.poll() is not None or time.monotonic() > started + START_S:
                raise SoakError(f"the engine did not start: {(out / 'engine.log').read_text()[-2000:]}")
            time.sleep(0.2)
        web = start_web(state, out / "web.log")
        port = web_port(out / "web.log", web)
        (out / "web.pid").write_text(str(web.pid))
        base = f"http://127.0.0.1:{port}"
        admin, consoles = _staff(base, agents=profile.consoles, wallboards=0)
        token = admin.post_json("/api/v1/hq/tokens", {"name": "soak"})["token"]
        (out / "hq.toml").write_text(f'[hq]\ntimeout = 120.0\n[[box]]\nid = "soak"\nurl = "{base}"\ntoken = "{token}"\n')
        load = WebLoad(profile, base, port, admin, consoles, out / "hq.toml")
        load.start()
        echo(HEADER)
        printed = 0
        while engine.poll() is None:
            if cut_short.is_set():
                engine.send_signal(signal.SIGTERM)      # the engine stops and writes its last row
            time.sleep(1.0)
            if (out / "samples.csv").exists():
                rows = read_rows(out / "samples.csv")
                for row in rows[printed:]:
                    _print_row(row, echo)
                printed = len(rows)
        wall = time.monotonic() - started
        web_load = load.stop()
        load = None
        if engine.returncode != 0:
            raise SoakError(f"the engine ended with {engine.returncode}: {(out / 'engine.log').read_text()[-2000:]}")
    finally:
        if load is not None:
            load.stop()
        _stop(web)
        _stop(engine)
    rows = read_rows(out / "samples.csv")
    for row in rows[printed:]:
        _print_row(row, echo)
    found = verdicts(rows)
    last = rows[-1]
    calls = last["calls_stored"] or 0
    summary = {"profile": dataclasses.asdict(profile) | {"scenario": str(profile.scenario)},
               "rows": len(rows), "sim_s": last["sim_s"], "wall_s": round(wall, 1),
               # Fast time: simulated seconds per wall second, with the web process and its load sharing the CPU.
               "speed": round(last["sim_s"] / wall, 2), "calls_stored": calls,
               "db_bytes_per_call": round(last["db_mb"] * 1e6 / calls) if calls else None,
               "web": web_load, "verdicts": [dataclasses.asdict(v) for v in found],
               "ok": all(v.ok for v in found) and web_load["errors"] == 0}
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    echo(f"{last['sim_s']:.0f} simulated s in {wall:.0f} s ({summary['speed']}x); {calls:.0f} calls stored, "
         f"{summary['db_bytes_per_call']} database bytes a call; web: {web_load['tickets_closed']} tickets worked to "
         f"closed, {web_load['reports']} reports, {web_load['hq_pulls']} HQ pulls ({web_load['hq_records']} records), "
         f"{web_load['events']} live events to {profile.consoles} consoles, {web_load['errors']} failures")
    for error in web_load["first_errors"]:
        echo(f"  failure: {error}")
    for v in found:
        echo(f"{'ok  ' if v.ok else 'FAIL'} {v.name}: {v.detail}")
    if not keep_state:
        shutil.rmtree(state, ignore_errors=True)
    return summary


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["engine"]:
        state, scenario, clock, seconds, interval, into = argv[1:7]
        engine_main(Path(state), Path(scenario), clock, float(seconds), float(interval), Path(into))
        return 0
    p = argparse.ArgumentParser(prog="branchline soak", description=__doc__.split("\n\n")[0])
    p.add_argument("profile", choices=sorted(f.stem for f in PROFILES.glob("*.toml") if "-" not in f.stem),
                   help="day: 24 simulated hours in fast time; lines: an hour in real time on 120 lines")
    p.add_argument("--seconds", type=float, help="simulated seconds to run (default: the profile's)")
    p.add_argument("--interval", type=float, help="simulated seconds between samples (default: the profile's)")
    p.add_argument("--consoles", type=int, help="consoles following the live events (default: the profile's)")
    p.add_argument("--out", help="directory for samples.csv, summary.json and the logs (default: a new one)")
    p.add_argument("--keep-state", action="store_true", help="keep the box's state directory (database, recordings)")
    args = p.parse_args(argv)
    # Stopped (`timeout`, a technician's kill, Ctrl-C): the run ends there and what was sampled is judged.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: cut_short.set())
    profile = load_profile(PROFILES / f"{args.profile}.toml")
    profile = dataclasses.replace(profile, **{k: getattr(args, k) for k in ("seconds", "interval", "consoles")
                                              if getattr(args, k) is not None})
    if not GATHER_S <= profile.interval <= profile.seconds:
        p.error(f"a sample every {profile.interval:g} s: at least {GATHER_S:g} s and at most the run's {profile.seconds:g} s")
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix=f"branchline-soak-{args.profile}-"))
    print(f"soak {args.profile}: {profile.seconds:.0f} simulated s ({profile.clock} clock), a sample every "
          f"{profile.interval:.0f} s, {profile.consoles} consoles; samples in {out / 'samples.csv'}", flush=True)
    summary = run_soak(profile, out, keep_state=args.keep_state, echo=lambda line: print(line, flush=True))
    return 0 if summary["ok"] else 1


__all__ = ["COLUMNS", "Profile", "load_profile", "run_soak", "main"]

if __name__ == "__main__":
    sys.exit(main())
