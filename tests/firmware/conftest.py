"""Helpers for firmware tests: run a scenario written inline and read its records."""
import json
import textwrap

import pytest

from firmware.tools.scenario import run_scenario
from firmware.store import open_readonly


class Ran:
    def __init__(self, report, state):
        self.report, self.state = report, state
        self.db = open_readonly(state / "branchline.db")

    def call(self, i=0):
        return self.report["calls"][i]

    def events(self, call_id):
        return [(e["kind"], json.loads(e["data"]) if e["data"] else {})
                for e in self.db["call_events"].rows_where("call_id = ?", [call_id], order_by="id")]


@pytest.fixture
def run_inline(tmp_path):
    """run_inline(scenario_toml, flow_toml=None) -> Ran, in fast time with a fresh state directory."""
    def run(scenario, flow=None):
        scenario = textwrap.dedent(scenario)
        if flow is not None:
            (tmp_path / "flow.toml").write_text(textwrap.dedent(flow))
            scenario = scenario.replace("[run]\n", '[run]\nflow = "flow.toml"\n', 1)
        path = tmp_path / "scenario.toml"
        path.write_text(scenario)
        state = tmp_path / "state"
        return Ran(run_scenario(path, state_dir=state, fast=True), state)
    return run


def _stop_as_killed(engine) -> None:
    """Stop the box as a SIGKILL would: what was handed to the writer, the recorder and the journal is
    on disk (their threads drain), nothing is ended, no recording filed, nobody logged out."""
    engine.store.close()
    engine.recorder.stop()
    engine.queue_log.close()
    engine.app.customers.close()
    engine.app.lookups.close()
    engine.board.close()


@pytest.fixture
def stop_as_killed():
    """stop_as_killed(engine): the box stops as a SIGKILL would leave it."""
    return _stop_as_killed

