"""MFC-R2 (drivers/r2.py) fed any sequence of line signals, register tones, silences and call requests
(docs/architecture.md §27): whatever the far end sends, in any order and at any time, the circuit is
in one of its states, reports only the events its contract names, sends only the variant's line
signals, and once both ends clear it is idle again within the variant's timers: a confused or hostile
exchange costs one call, never the circuit."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.r2 import R2Error, R2Span, R2State
from dsp import mfr2
from firmware.config.r2_variants import load_variant, variant_names

TICK = 160
FORWARD, BACKWARD = "forward", "backward"
KINDS = {"offered", "answered", "accepted", "failed", "cleared", "abandoned", "blocked"}
# Any 4-bit word the card could report (it debounces, it does not validate), and a few it never should.
ABCD = st.one_of(st.sampled_from([f"{n:04b}" for n in range(16)]), st.sampled_from(["", "1", "10", "xx"]))
STEPS = st.lists(st.one_of(
    st.tuples(st.just("cas"), ABCD),
    st.tuples(st.just("tone"), st.integers(1, 15), st.sampled_from([FORWARD, BACKWARD]), st.integers(1, 12)),
    st.tuples(st.just("quiet"), st.integers(1, 12)),
    st.tuples(st.just("wait"), st.floats(0.0, 90.0)),
    st.tuples(st.just("seize"), st.text("0123456789", min_size=1, max_size=6)),
    st.tuples(st.just("answer")),
    st.tuples(st.just("hangup")),
), max_size=40)


class Rig:
    """One circuit of `variant` and what it sent; time in 20 ms ticks from 0."""

    def __init__(self, variant):
        self.sent: list[str] = []
        self.r2 = R2Span(1, variant, lambda ch, abcd: self.sent.append(abcd))
        self.now, self.pos, self.out = 0.0, 0, []
        self.tx = np.zeros((1, TICK), np.int16)

    def tick(self, rx: np.ndarray | None = None) -> None:
        self.now += TICK / 8000
        self.out += self.r2.tick(np.zeros((1, TICK), np.int16) if rx is None else rx, self.tx, self.now)

    def tone(self, signal: int, direction: str, ticks: int) -> None:
        for _ in range(ticks):
            self.tick(mfr2.tone(signal, direction, TICK, start=self.pos)[None, :])
            self.pos += TICK

    def wait(self, seconds: float) -> None:
        self.now += seconds
        self.tick()


@pytest.mark.parametrize("name", variant_names())
def test_any_far_end_leaves_the_circuit_in_a_state_and_idle_after_both_clear(name):
    variant = load_variant(name)
    line_words = {variant.abcd(s) for s in variant.line}
    longest = max(variant.timers_s.values())

    @settings(max_examples=150, deadline=None, derandomize=True)
    @given(STEPS)
    def run(steps):
        rig = Rig(variant)
        for step in steps:
            kind, *args = step
            if kind == "cas":
                rig.r2.cas(0, args[0])
            elif kind == "tone":
                rig.tone(*args)
            elif kind == "quiet":
                for _ in range(args[0]):
                    rig.tick()
            elif kind == "wait":
                rig.wait(args[0])
            else:
                try:
                    getattr(rig.r2, kind)(0, *args)
                except R2Error:
                    pass            # a request the state does not allow: refused by name, nothing changed
            assert isinstance(rig.r2.chans[0].state, R2State)
        for out in rig.out:
            assert out.kind in KINDS and out.channel == 0
            if out.kind == "offered":
                assert out.data["dnis"].isdecimal() or out.data["dnis"] == ""
        assert set(rig.sent) <= line_words, "only the variant's line signals go to the far end"
        # Both ends clear: this side hangs up, the far end goes idle; the timers bring the circuit home.
        rig.r2.hangup(0)
        rig.r2.cas(0, variant.abcd("idle"))
        for _ in range(3):
            rig.wait(longest + 1)
        assert rig.r2.chans[0].state == R2State.IDLE, rig.r2.status(0)
        assert rig.r2.status(0)["tone"] == 0
    run()
