"""The tick clock: virtual time in fast mode, wall-clock pacing in paced mode, timers on tick time."""
import time

from firmware.core.clock import PacedClock, TickClock
from firmware.core.timers import Timers


def test_fast_clock_counts_ticks_of_20_ms():
    clock = TickClock(epoch=1000.0)
    for _ in range(50):
        clock.wait()
        clock.advance()
    assert clock.seconds == 1.0 and clock.time() == 1001.0


def test_paced_clock_follows_the_wall_clock():
    clock = PacedClock()
    start = time.monotonic()
    for _ in range(10):
        clock.wait()
        clock.advance()
    # Ten ticks cannot be done before 200 ms of wall time have passed.
    assert time.monotonic() - start >= 0.19


def test_timers_fire_in_order_and_can_be_cancelled():
    timers, fired = Timers(), []
    timers.at(0.5, fired.append, "b")
    timers.at(0.1, fired.append, "a")
    timers.at(0.3, fired.append, "x").cancel()
    timers.run_due(0.2)
    assert fired == ["a"]
    timers.run_due(1.0)
    assert fired == ["a", "b"]
