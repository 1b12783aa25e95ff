"""`make bench`: real-time factor, DSP throughput, HQ sync, memory, and the customer pages' response times."""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

from firmware.tools import bench_customers, bench_dsp, bench_memory, bench_sync
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


def idle_tick_ms(lines: int, seconds: float) -> float:
    """CPU ms per tick with every line idle: the cost that must stay flat in the channel count."""
    with tempfile.TemporaryDirectory(prefix="branchline-bench-") as tmp:
        path = Path(tmp) / "idle.toml"
        path.write_text(f"[run]\nseconds = 100000\ntrunks = {lines}\ndrain = 0\n")
        engine = ScenarioRun(load_scenario(path), Path(tmp) / "state", clock="fast").engine
        engine.run(until=lambda: engine.clock.seconds >= 1.0)
        start_cpu, ticks = time.process_time(), engine.stats.count
        engine.run(until=lambda: engine.clock.seconds >= 1.0 + seconds)
        cpu = time.process_time() - start_cpu
        n = engine.stats.count - ticks
        engine.close()
    return 1000.0 * cpu / n


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
    bench_dsp.run(out=print)
    print()
    bench_sync.run(out=print)
    print()
    bench_memory.run(out=print, quick=quick)
    print()
    bench_customers.run(out=print, quick=quick)
    return 0
