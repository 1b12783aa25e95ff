"""The real box on 120 busy lines, cut down at random points and started again on the same state
(tests/e2e/crash_harness.py says what is checked after each restart and at the end).

The engine killed with SIGKILL, the web process killed while it writes, and power cuts (both processes
and every write not yet made durable lost at once: tests/e2e/powercut.py). `make test` runs a few of
each; `make test-slow` runs 200 and prints the figures: rounds, losses (the run stops at the first)
and the restart-to-answering times.

"Answering" is measured from the process's start to the first `status` reply on the control socket:
the reply comes from the tick loop, so the box is taking calls by then. The wall time is printed; the
bound is checked on the process's CPU time, which a machine shared with other work does not inflate.
"""
import random

import pytest

from crash_harness import rounds

# A short hold keeps each round of `make test` to a few seconds of calls.
SHORT_HOLD = (3.0, 5.0)


def test_engine_kills_under_load_lose_nothing(tmp_path):
    print(rounds(tmp_path, ["engine"] * 3, seed=1, hold=SHORT_HOLD).report())


def test_web_kills_while_it_writes_lose_nothing_and_the_engine_starts_it_again(tmp_path):
    print(rounds(tmp_path, ["web"] * 2, seed=2, hold=SHORT_HOLD).report())


def test_power_cuts_under_load_lose_nothing_acknowledged(tmp_path):
    print(rounds(tmp_path, ["power"] * 3, seed=3, hold=SHORT_HOLD).report())


@pytest.mark.slow
def test_200_cuts_under_load_lose_nothing(tmp_path):
    # 80 engine kills, 60 web kills and 60 power cuts, in a random order.
    plan = ["engine"] * 80 + ["web"] * 60 + ["power"] * 60
    random.Random(200).shuffle(plan)
    print(rounds(tmp_path, plan, seed=200, hold=(2.0, 5.0)).report())
