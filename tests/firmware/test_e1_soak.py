"""30 E1 channels kept busy by traffic through the simulated exchange (China R2): no channel stuck, every
call record complete. A simulated hour is the soak (make test-slow); forty seconds run in make test."""
import sqlite3

import pytest

from firmware.tools.scenario import ScenarioRun, load_scenario
from scenario_builder import agent, run_section, scenario, traffic


def soak(tmp_path, seconds, hold):
    text = scenario(
        run_section(seconds, board="sim-e1", drain=900.0, seed=11),
        [agent(f"10{i:02d}", queues=["sales", "service"], answer_after=1.0, talk=4 * hold) for i in range(12)],
        # About two calls a second, each holding its circuit `hold` s and more: the 30 circuits stay full
        # and some callers find every one busy.
        traffic(per_hour=7200.0, keys=["1", "2"], key_delay=3.0, patience=[hold, 4 * hold],
                talk=[hold / 2, hold]),
    )
    path = tmp_path / "soak.toml"
    path.write_text(text)
    run = ScenarioRun(load_scenario(path), tmp_path / "state")
    span = run.engine.board.drivers[0]
    exchange = span.simulator
    report = run.run()
    return report, span, exchange, tmp_path / "state" / "branchline.db"


def check(report, span, exchange, db_path):
    # Callers found every circuit busy (the exchange refuses a call only then), and the span carried
    # calls in and out of that state.
    assert exchange.counters["refused"] > 0 and exchange.counters["answered_by_box"] > 30
    # No stuck channel: every circuit idle at both ends, no call left anywhere.
    assert [c.state.value for c in span.r2.chans] == ["idle"] * 30
    assert [c.state.value for c in exchange.r2.chans] == ["idle"] * 30
    assert not exchange.calls and span.r2.counters["forced_idle"] == 0
    # Every call record complete: ended, with a disposition; every answered call's ANI and DNIS kept.
    db = sqlite3.connect(db_path)
    incomplete = db.execute("select count(*) from calls where ended_at is null or disposition is null").fetchone()
    assert incomplete[0] == 0
    calls = [c for c in report["calls"] if c["call_id"]]
    assert calls and all(c["ani"] == c["number"] and c["dnis"] == "8001" for c in calls)
    refused = [c for c in report["calls"] if not c["call_id"]]
    assert all(c["disposition"] == "busy" for c in refused)
    assert len(calls) + len(refused) == report["totals"]["calls"]


def test_thirty_busy_channels_for_forty_seconds(tmp_path):
    check(*soak(tmp_path, 40.0, hold=10.0))


@pytest.mark.slow
def test_thirty_busy_channels_for_a_simulated_hour(tmp_path):
    check(*soak(tmp_path, 3600.0, hold=60.0))
