"""`make bench`'s live events (firmware/tools/bench_events.py): the load it claims, and the pop time
measured against the engine's clock however far that clock has fallen behind the wall clock."""
import pytest

from firmware.core.events import Subscriber
from firmware.tools.bench_events import AGENTS, LINES, _pop_ms, scenario
from firmware.tools.scenario import ScenarioRun, load_scenario


def test_the_bench_keeps_the_lines_busy_and_the_agents_offered_calls(tmp_path):
    path = tmp_path / "events.toml"
    path.write_text(scenario(LINES, AGENTS))
    run = ScenarioRun(load_scenario(path), tmp_path / "state")
    sub = Subscriber(1_000_000)
    run.engine.command("events.subscribe", {"subscriber": sub})
    engine = run.engine
    engine.run(until=lambda: engine.clock.seconds >= 30.0)
    busy = sum(1 for line in engine.status()["lines"] if line["kind"] == "trunk" and line["state"] != "idle")
    events = sub.take(0)
    engine.close()
    assert busy >= LINES - 3
    offers = [e for e in events if e["type"] == "offer"]
    assert len(offers) >= 15 and len({e["agent"] for e in offers}) >= 10
    assert any(e["customer_id"] for e in offers)


def test_the_pop_is_timed_from_the_ring_on_the_wall_clock():
    # The engine's clock is 5 s behind the wall clock (its paced loop was held up and resynchronised):
    # an offer stamped 100.0 by the engine rang at 105.0 on the wall clock.
    lag = [(104.0, 5.02), (105.5, 5.0), (300.0, 9.0)]
    assert _pop_ms(105.04, {"at": 100.0}, lag) == pytest.approx(40.0)
