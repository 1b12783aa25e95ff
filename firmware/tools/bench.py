"""`make bench`: the engine's real-time factor on the simulated board, the DSP throughput table, HQ sync, the ticket
and customer pages' answer times, memory, the knowledge base's search, the live events' screen pop, the
recordings search, the SMS codec and what a day of calls writes to the SD card."""
from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from firmware.tools import (bench_customers, bench_dsp, bench_e1, bench_events, bench_memory, bench_reports, bench_sms,
                            bench_sync, bench_tickets, bench_writes)
from firmware.tools.bench_box import WARMUP_S, busy_box
from firmware.tools.scenario import ScenarioRun, load_scenario


def engine_rtf(lines: int, seconds: float) -> dict:
    with busy_box(lines) as (run, busy):
        engine = run.engine
        ticks0 = engine.stats.count
        start_cpu, start_s = time.process_time(), engine.clock.seconds
        engine.run(until=lambda: engine.clock.seconds >= WARMUP_S + seconds)
        cpu = time.process_time() - start_cpu
        sim_s = engine.clock.seconds - start_s
        stats = engine.stats.status()
    return {"lines": lines, "busy": busy, "channels": len(engine.board), "sim_s": sim_s, "cpu_s": cpu,
            "rtf": sim_s / cpu, "channel_s_per_cpu_s": busy * sim_s / cpu,
            "tick_mean_ms": stats["mean_ms"], "tick_p99_ms": stats["p99_ms"],
            "ticks": stats["count"] - ticks0}


def idle_tick_ms(lines: int, seconds: float, virtual_lines: bool = False) -> float:
    """CPU ms per tick with every line idle: the cost that must stay flat in the channel count (and with
    the load test's virtual lines reserved, `virtual_lines`)."""
    with tempfile.TemporaryDirectory(prefix="branchline-bench-") as tmp:
        path = Path(tmp) / "idle.toml"
        path.write_text(f"[run]\nseconds = 100000\ntrunks = {lines}\ndrain = 0\n")
        engine = ScenarioRun(load_scenario(path), Path(tmp) / "state", clock="fast",
                             virtual_lines=virtual_lines).engine
        engine.run(until=lambda: engine.clock.seconds >= 1.0)
        start_cpu, ticks = time.process_time(), engine.stats.count
        engine.run(until=lambda: engine.clock.seconds >= 1.0 + seconds)
        cpu = time.process_time() - start_cpu
        n = engine.stats.count - ticks
        engine.close()
    return 1000.0 * cpu / n


def load_test(callers: int, seconds: float) -> dict:
    """A load test of `callers` virtual callers on an idle 8-line box in fast time, as `loadtest.start`
    runs it on a live box: its figures at the end (firmware/config/loadtest.py)."""
    from firmware.core.commands import check

    with tempfile.TemporaryDirectory(prefix="branchline-bench-") as tmp:
        path = Path(tmp) / "live.toml"
        path.write_text("[run]\nseconds = 100000\ntrunks = 8\ndrain = 0\n")
        engine = ScenarioRun(load_scenario(path), Path(tmp) / "state", clock="fast", control=True,
                             virtual_lines=True).engine
        assert engine.control is not None, "the bench's box has its control commands"
        engine.run(until=lambda: engine.clock.seconds >= 10.0)
        args: dict = {"callers": callers, "duration": seconds, "talk": 30.0, "keys": "1 2"}
        check("loadtest.start", args)
        engine.command("loadtest.start", engine.control.prepare["loadtest.start"](args))
        start_cpu = time.process_time()
        engine.run(until=lambda: engine.clock.seconds >= 10.0 + seconds - 1.0)
        cpu = time.process_time() - start_cpu
        run = engine.command("loadtest.status", {})["run"]
        engine.close()
    return {**run["calls"], **run["ticks"], "stop_reason": run["stop_reason"], "rtf": (seconds - 1.0) / cpu}


def main(quick: bool = False) -> int:
    seconds = 20.0 if quick else 60.0
    print("Engine on the simulated board (every trunk in a call: IVR done, half talking and recorded, "
          "half queued with music)")
    print(f"{'lines':>6} {'channels':>9} {'sim s':>7} {'CPU s':>7} {'real-time x':>12} "
          f"{'ch-s/CPU-s':>11} {'tick mean ms':>13} {'tick p99 ms':>12}")
    for lines in (30, 120):
        r = engine_rtf(lines, seconds)
        print(f"{r['lines']:>6} {r['channels']:>9} {r['sim_s']:>7.0f} {r['cpu_s']:>7.2f} {r['rtf']:>12.1f} "
              f"{r['channel_s_per_cpu_s']:>11.0f} {r['tick_mean_ms']:>13.3f} {r['tick_p99_ms']:>12.3f}")
    print("(real-time x: simulated seconds per CPU second; above 1 keeps up with the lines. "
          "ch-s/CPU-s counts busy trunk channels.)")
    print()
    print("Idle lines: CPU ms per tick (should stay nearly flat in the number of lines)")
    for lines in (8, 30, 120, 480):
        print(f"{lines:>6} lines {idle_tick_ms(lines, seconds):>8.3f} ms/tick")
    print()
    print("The load test's virtual lines (firmware/config/loadtest.py), idle: CPU ms per tick on 8 idle lines")
    print(f"  without {idle_tick_ms(8, seconds):>8.3f} ms/tick   with them reserved "
          f"{idle_tick_ms(8, seconds, virtual_lines=True):>8.3f} ms/tick")
    r = load_test(30, seconds)
    print(f"Load test, 30 virtual callers on the 8-line box for {seconds:.0f} s: offered {r['offered']}, "
          f"to an agent {r['connected']}; tick mean {r['mean_ms']:.3f} ms, p99 {r['p99_ms']:.3f} ms "
          f"(worst {r['p99_max_ms']:.3f}), overruns {r['overruns']}, real-time x {r['rtf']:.1f}"
          + (f"; stopped: {r['stop_reason']}" if r["stop_reason"] else ""))
    print()
    bench_dsp.run(out=print)
    print()
    bench_e1.run(out=print, seconds=seconds / 4)
    print()
    bench_sync.run(out=print)
    print()
    bench_tickets.run(out=print, quick=quick)
    print()
    bench_reports.run(out=print, quick=quick)
    print()
    bench_memory.run(out=print, quick=quick)
    print()
    # The knowledge base's search is the web process's code, which the box's packages do not import.
    subprocess.run([sys.executable, "-m", "webui.kb_bench", "--rounds", "10" if quick else "20"], check=False)
    print()
    # Likewise the recordings search (webui/recording_queries.py).
    subprocess.run([sys.executable, "-m", "webui.recordings_bench", "--rounds", "10" if quick else "20"], check=False)
    print()
    bench_customers.run(out=print, quick=quick)
    print()
    bench_events.run(out=print, quick=quick)
    print()
    bench_sms.run(out=print, seconds=0.5 if quick else 2.0)
    print()
    bench_writes.run(out=print, quick=quick)
    return 0
