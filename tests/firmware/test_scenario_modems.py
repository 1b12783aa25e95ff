"""`branchline scenario` on the emulated-modem board: calls ring real V.253 emulators in real time."""
import json

import pytest

from firmware import cli
from typed_toml import ConfigError
from firmware.tools.scenario import load_scenario, run_scenario
from scenario_builder import agent, caller, run_section, scenario

# Two modems: two callers ring at once, a third finds both lines busy. The modems report caller ID
# after the first ring, so the box answers on the second (6 s later, the emulator's cadence).
SCENARIO = scenario(
    run_section(8.0, board="sim-modems", drain=25.0, seed=3),
    agent("1001", queues=["sales"], answer_after=0.5, talk=60.0),
    agent("1002", queues=["service"], answer_after=0.5, talk=60.0),
    caller(2.0, "13800138000", name="ZHAO LEI", keys=[[1.0, "1"]], patience=30.0, talk=2.0),
    caller(2.5, "13900139000", keys=[[1.5, "2"]], patience=30.0, talk=2.0),
    caller(3.0, "13700137000", keys=[[1.0, "1"]]),
)


def test_scenario_drives_the_modem_emulators_through_branchline_scenario(tmp_path, capsys):
    path = tmp_path / "modems.toml"
    path.write_text(SCENARIO)
    report_path = tmp_path / "report.json"
    assert cli.main(["scenario", str(path), "--report", str(report_path), "--state", str(tmp_path / "state")]) == 0
    assert "3 calls: {'answered': 2, 'busy': 1}" in capsys.readouterr().out
    report = json.loads(report_path.read_text())
    first, second, third = report["calls"]
    assert (first["number"], first["arrival"], first["queue"], first["agent"]) == ("13800138000", 2.0, "sales", "1001")
    assert (second["queue"], second["agent"]) == ("service", "1002")
    for call in (first, second):
        # The box heard the caller's key in the modem's audio, and the caller heard an agent.
        assert call["digits_detected"] == call["digits_pressed"]
        assert call["disposition"] == "answered" and call["hangup_by"] == "caller"
        assert call["caller"] == {"answered": True, "connected": True, "ended_by": "caller"}
        assert call["answer"] - call["arrival"] > 5.0     # the second ring
        assert call["recording_s"] > 1.5
    assert third["disposition"] == "busy" and third["arrival"] == 3.0 and third["call_id"] is None
    assert report["agents"] == {"1001": {"calls": 1, "talk_s": pytest.approx(2.0, abs=1.0)},
                                "1002": {"calls": 1, "talk_s": pytest.approx(2.0, abs=1.0)}}


@pytest.mark.parametrize("board, extra, message", [
    ("sim-modems", "", "runs emulated modems in real time, so its scenario cannot run fast"),
    ("usb-modems", "", "drives simulated lines and modem emulators only, not the modem at 'auto'"),
    ("alsa-test", "", "a scenario cannot drive 'alsa' hardware"),
    ("no-such-board", "", "no board profile 'no-such-board'"),
    ("sim-modems", "trunks = 4\n", "board 'sim-modems' describes the lines: leave trunks out"),
])
def test_boards_a_scenario_cannot_drive_are_refused_at_start(tmp_path, board, extra, message):
    path = tmp_path / "s.toml"
    path.write_text(f'[run]\nboard = "{board}"\nseconds = 10\n{extra}')
    with pytest.raises(ConfigError, match=message):
        run_scenario(path, state_dir=tmp_path / "state", fast=True)


def test_a_sim_profile_runs_fast_with_its_own_trunks(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('[run]\nboard = "sim"\nseconds = 30\n[[callers]]\nat = 1.0\nnumber = "1"\nkeys = [[1.0, "1"]]\n'
                    "patience = 12.0\n")
    assert load_scenario(path).board == "sim"
    report = run_scenario(path, state_dir=tmp_path / "state", fast=True)
    assert report["calls"][0]["digits_detected"] == "1" and report["calls"][0]["disposition"] == "abandoned"
