"""The coverage-guided fuzz targets (tests/coverage_fuzz.py, docs/architecture.md §27): each holds for
its seeds and the inputs it once found (in `make test`, in-process, without atheris), and each runs
clean under atheris for a time budget (`make test-slow`; `make fuzz` runs longer)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from coverage_fuzz import SEEDS, TARGETS

ROOT = Path(__file__).resolve().parents[2]
# What atheris found once, kept so that it is checked on every run.
FOUND = {
    # A concatenation element cut short inside an SMS-SUBMIT's header: an IndexError before.
    "sms_incoming": [bytes.fromhex("07095D01915121F751010009519101215D29000000000100000001000000000000000300")],
}
SLOW_SECONDS = 30
# atheris instruments every loaded function first: about 25 s of CPU before the fuzzing starts, more
# on a busy machine.
START_ALLOWANCE_S = 300


def test_every_target_has_seeds():
    assert set(SEEDS) == set(TARGETS) and all(SEEDS.values())


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_each_target_holds_for_its_seeds_and_what_it_found(name):
    for data in [*SEEDS[name], *FOUND.get(name, [])]:
        for cut in range(len(data) + 1):
            TARGETS[name](data[:cut])


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(TARGETS))
def test_each_target_runs_clean_under_atheris(name, tmp_path):
    pytest.importorskip("atheris")
    run = subprocess.run([sys.executable, str(ROOT / "tests" / "coverage_fuzz.py"), name,
                          f"-max_total_time={SLOW_SECONDS}", "-rss_limit_mb=1024", f"-artifact_prefix={tmp_path}/"],
                         cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdin=subprocess.DEVNULL,
                         capture_output=True, text=True, timeout=SLOW_SECONDS + START_ALLOWANCE_S)
    assert run.returncode == 0, run.stderr[-3000:]
