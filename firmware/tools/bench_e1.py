"""`make bench`: the E1 span driver's cost per tick on 30 and 120 channels (one and four spans), in register
signalling (every channel in a compelled MFC-R2 cycle) and in conversation (every channel answered)."""
from __future__ import annotations

import logging
import time
from collections.abc import Callable

import numpy as np

from drivers.channel import TICK_SAMPLES, TICK_SECONDS
from drivers.e1_exchange import SimExchange
from drivers.e1_span import E1SpanDriver
from drivers.r2 import R2State
from drivers.sim import SimCaller
from firmware.config.r2_variants import load_variant

SPANS = (1, 4)            # 30 and 120 channels
LOADS = ("signalling", "conversation")


class _Span:
    """One span and its simulated exchange, the box's cost timed apart from the exchange's."""

    def __init__(self, index: int, variant_name: str):
        variant = load_variant(variant_name)
        self.exchange = SimExchange(variant, number_digits=8, seed=index)
        self.driver = E1SpanDriver(f"span{index + 1}", self.exchange.card, self.exchange.audio, variant,
                                   dnis_digits=4, clock=self.exchange.audio.now)
        self.far_s = 0.0
        far = self.exchange.audio.exchange

        def timed_far(tx: np.ndarray, rx: np.ndarray) -> None:
            t0 = time.perf_counter()
            far(tx, rx)
            self.far_s += time.perf_counter() - t0
        self.exchange.audio.exchange = timed_far      # type: ignore[method-assign]
        self.tx = np.zeros((30, TICK_SAMPLES), np.int16)
        self.rx = np.zeros((30, TICK_SAMPLES), np.int16)
        self.driver.start()
        self.calls = 0

    def tick(self, answer: bool = True) -> float:
        """One tick, answering the calls offered (or with the caller hanging up as soon as the call is
        offered, so that the circuit is seized again); -> the box's seconds in it (the span driver
        without the simulated far end)."""
        far0 = self.far_s
        t0 = time.perf_counter()
        rings = [ev.channel for ev in self.driver.exchange(self.tx, self.rx) if ev.kind.value == "ring"]
        box = time.perf_counter() - t0 - (self.far_s - far0)
        for ch in rings:
            if answer:
                self.driver.answer(ch)
            else:
                self.exchange.hang_up(ch)
        return box

    def keep_signalling(self) -> None:
        """Every idle circuit seized again at once: a caller whose address and number never end soon."""
        for ch in self.exchange.idle_channels():
            self.calls += 1
            self.exchange.place_call(SimCaller(f"1390{self.calls:07d}", patience=1e9, talk=1e9), "8001", channel=ch)

    def signalling(self) -> int:
        return sum(1 for c in self.driver.r2.chans if c.state == R2State.IN_SEIZED)

    def talking(self) -> int:
        return sum(1 for c in self.driver.r2.chans if c.state == R2State.IN_ANSWERED)


def measure(spans: int, load: str, seconds: float, variant: str = "china") -> dict:
    rigs = [_Span(i, variant) for i in range(spans)]
    n = 30 * spans
    for _ in range(int(0.2 / TICK_SECONDS)):
        for r in rigs:
            r.tick()
    for r in rigs:
        r.keep_signalling()
    if load == "conversation":
        # Every caller through the register signalling and answered: then only voice crosses the span.
        for _ in range(int(10.0 / TICK_SECONDS)):
            for r in rigs:
                r.tick()
            if all(r.talking() == 30 for r in rigs):
                break
    box_s, ticks, busy = 0.0, 0, 0
    step: Callable[[_Span], None] = _Span.keep_signalling if load == "signalling" else (lambda r: None)
    for _ in range(int(seconds / TICK_SECONDS)):
        for r in rigs:
            step(r)
            box_s += r.tick(answer=load == "conversation")
            busy += r.signalling() if load == "signalling" else r.talking()
        ticks += 1
    return {"channels": n, "load": load, "ticks": ticks, "busy": busy / ticks,
            "tick_ms": 1000.0 * box_s / ticks, "us_per_channel": 1e6 * box_s / ticks / n}


def run(out: Callable[[str], None] = print, seconds: float = 10.0) -> list[dict]:
    logging.getLogger("drivers").setLevel(logging.ERROR)     # a span coming up says so: not the table's
    out("E1 span driver (drivers/e1_span.py: card link, alarms, MFC-R2 China on dsp.mfr2, tones), per tick of "
        "20 ms; the simulated far end's own work is not counted")
    out(f"{'load':>13} {'channels':>9} {'busy':>6} {'tick ms':>8} {'us/channel':>11}")
    rows = []
    for load in LOADS:
        for spans in SPANS:
            r = measure(spans, load, seconds)
            rows.append(r)
            out(f"{r['load']:>13} {r['channels']:>9} {r['busy']:>6.1f} {r['tick_ms']:>8.3f} {r['us_per_channel']:>11.2f}")
    out("(busy: channels in the load on average; signalling: in register signalling as the called side, "
        "conversation: answered. A tick must stay well under 20 ms.)")
    return rows


if __name__ == "__main__":
    run()
