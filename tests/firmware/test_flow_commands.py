"""The flow editor's commands on a running engine: `flow.validate` checks a text and draws it without
touching the running flow; `prompts.reload` takes up the box's own recordings without a restart."""
import wave

import numpy as np
import pytest

from firmware import cli
from firmware.config.site import DEFAULTS_DIR
from firmware.core.control import ControlClient, ControlError
from scenario_builder import agent, run_section, scenario

SCENARIO = scenario(run_section(3600), agent("1001", name="Li Wei", queues=["sales"], login_at=3000.0))
STOCK = (DEFAULTS_DIR / "flows" / "main.toml").read_text()


@pytest.fixture
def box(live_box):
    run, state = live_box(SCENARIO)
    client = ControlClient(state / "control.sock")
    yield run, state, client
    client.close()


def write_prompt(path, seconds=1.0):
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(8000 * seconds)) / 8000
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes((3000 * np.sin(2 * np.pi * 440 * t)).astype("<i2").tobytes())


def test_validate_reports_every_problem_and_the_graph_and_leaves_the_running_flow(box):
    run, _, client = box
    running = run.engine.app.flow
    text = STOCK.replace('queue = "service"', 'queue = "billing"').replace("timeout = 5.0", "timeout = 0.5")
    report = client.call("flow.validate", text=text, name="main")
    assert report["valid"] is False and report["running"] == "main"
    found = {(p["node"], p["field"]) for p in report["problems"]}
    assert found == {("service", "queue"), ("main_menu", "timeout")}
    assert all(text.splitlines()[p["line"] - 1].lstrip().startswith(p["field"]) for p in report["problems"])
    edges = {(e["from"], e["label"], e["to"]) for e in report["graph"]["edges"]}
    assert ("main_menu", "1", "sales") in edges and ("main_menu", "on_fail", "goodbye") in edges
    assert run.engine.app.flow is running


def test_validate_refuses_a_text_the_socket_cannot_carry(box):
    _, _, client = box
    with pytest.raises(ControlError, match="flow.validate: text must be a string of 0-10000"):
        client.call("flow.validate", text="#" * 10_001)
    with pytest.raises(ControlError, match="flow.validate: text must be"):
        client.call("flow.validate", text="a\x00b")


def test_a_prompt_recorded_for_the_box_is_usable_after_prompts_reload(box, capsys):
    run, state, client = box
    text = STOCK.replace('prompts = ["welcome"]', 'prompts = ["welcome", "promo"]')
    problems = client.call("flow.validate", text=text)["problems"]
    assert [(p["node"], p["message"]) for p in problems] == [("welcome", "no prompt named 'promo'")]
    write_prompt(state / "prompts" / "en" / "promo.wav", seconds=1.5)
    assert cli.main(["ctl", "--state", str(state), "reload-prompts"]) == 0
    assert capsys.readouterr().out == f"prompts reloaded: {len(run.engine.prompts.names())}\n"
    assert client.call("flow.validate", text=text)["valid"] is True
    assert len(run.engine.prompts.get("promo")) == 12_000


def test_a_prompt_file_that_is_not_a_prompt_keeps_the_running_set(box):
    run, state, client = box
    before = run.engine.prompts.names()
    bad = state / "prompts" / "en" / "broken.wav"
    bad.parent.mkdir(parents=True, exist_ok=True)
    bad.write_bytes(b"RIFF0000WAVEjunk")
    with pytest.raises(ControlError, match="prompts not reloaded, the running set stays: prompt .*broken.wav"):
        client.call("prompts.reload")
    assert run.engine.prompts.names() == before


def test_status_names_the_running_flow_and_the_prompt_language(box):
    _, _, client = box
    status = client.call("status")
    assert status["flow"] == {"name": "main", "start": "welcome", "nodes": 5}
    assert status["language"] == "en"


def test_the_schema_the_editor_shows_is_the_one_the_engine_checks(box):
    from firmware.callcenter.flows import schema_json
    _, _, client = box
    assert client.call("flow.schema") == schema_json()
