"""Callbacks survive a restart: a request left waiting by a stop or a crash is taken up at the next
start in its place, and the caller is called back (README, callbacks)."""
from pathlib import Path

import scenario_builder as sb

from firmware.tools.scenario import SCENARIO_EPOCH, ScenarioRun, load_scenario
from firmware.store import open_readonly

NUMBER = "13800000001"
# Waiting in sales, 2 asks for a callback.
FLOW = sb.flow("sales", sales={"type": "queue", "queue": "sales", "keys": {"2": "cb"}},
               cb={"type": "callback", "on_fail": "bye"}, bye={"type": "hangup", "prompts": ["goodbye"]})


def before_stop(seconds: float, login_at: float, answer_after: float) -> str:
    """Before the stop: the caller waits, presses 2 for a callback and confirms their number with 1; the
    agent logs in at `login_at` (after the stop when it is beyond the run)."""
    return sb.scenario(sb.run_section(seconds, flow="flow.toml"), sb.queue("sales", wrapup=0.0),
                       sb.agent("1001", queues=["sales"], login_at=login_at, answer_after=1.0, talk=20.0),
                       sb.caller(1.0, NUMBER, keys=[[5.0, "2"], [9.0, "1"]], patience=200.0, talk=15.0,
                                 callback_answer=answer_after))


def after_start(seconds: float) -> str:
    """After the start: the agent logs in; nobody calls; the customer picks up when called back."""
    return sb.scenario(sb.run_section(seconds, flow="flow.toml"), sb.queue("sales", wrapup=0.0),
                       sb.agent("1001", queues=["sales"], login_at=1.0, answer_after=1.0, talk=20.0),
                       sb.external(NUMBER, answer_after=2.0, talk=20.0))


def _write(tmp_path: Path, name: str, text: str) -> Path:
    (tmp_path / "flow.toml").write_text(FLOW)
    path = tmp_path / name
    path.write_text(text)
    return path


def _run(path: Path, state: Path, seconds: float, epoch: float) -> ScenarioRun:
    run = ScenarioRun(load_scenario(path), state, clock="fast", epoch=epoch)
    run.engine.run(until=lambda: run.engine.clock.seconds >= seconds)
    return run


def _requests(state: Path) -> list[dict]:
    db = open_readonly(state / "branchline.db")
    try:
        return list(db["callbacks"].rows)
    finally:
        db.conn.close()


def _called_back(tmp_path: Path, state: Path, seconds: float) -> tuple[dict, list[dict]]:
    after = _write(tmp_path, "after.toml", after_start(seconds))
    run = _run(after, state, seconds, SCENARIO_EPOCH + 3600.0)
    run.engine.close()
    db = open_readonly(state / "branchline.db")
    (request,) = list(db["callbacks"].rows)
    calls = [dict(r) for r in db["calls"].rows_where("direction = 'callback'", order_by="arrived_at")]
    db.conn.close()
    return request, calls


def test_a_callback_requested_before_a_stop_is_called_back_after_the_start(tmp_path):
    state = tmp_path / "state"
    before = _write(tmp_path, "before.toml", before_stop(40, login_at=1000.0, answer_after=4.0))
    run = _run(before, state, 40.0, SCENARIO_EPOCH)
    run.engine.close()
    (request,) = _requests(state)
    assert request["number"] == NUMBER and request["state"] == "pending" and request["attempts"] == 0

    request, calls = _called_back(tmp_path, state, 60.0)
    assert request["state"] == "done" and request["attempts"] == 1
    (back,) = calls
    assert back["id"] == request["callback_call_id"] and back["number"] == NUMBER
    assert back["agent_id"] == "1001" and back["disposition"] == "answered"


def test_a_callback_left_waiting_by_a_crash_is_called_back_after_the_start(tmp_path, stop_as_killed):
    state = tmp_path / "state"
    before = _write(tmp_path, "before.toml", before_stop(40, login_at=1000.0, answer_after=4.0))
    stop_as_killed(_run(before, state, 40.0, SCENARIO_EPOCH).engine)
    (request,) = _requests(state)
    assert request["state"] == "pending"

    request, calls = _called_back(tmp_path, state, 60.0)
    assert request["state"] == "done" and [c["disposition"] for c in calls] == ["answered"]


def test_a_callback_being_dialled_at_a_crash_counts_as_an_attempt_and_is_retried(tmp_path, stop_as_killed):
    # The agent logs in at 30 s and the customer's phone rings unanswered when the box goes down.
    state = tmp_path / "state"
    before = _write(tmp_path, "before.toml", before_stop(40, login_at=30.0, answer_after=100.0))
    stop_as_killed(_run(before, state, 40.0, SCENARIO_EPOCH).engine)
    (request,) = _requests(state)
    assert request["state"] == "dialing" and request["attempts"] == 1

    # Not reached: it goes back to the queue after the retry interval (RETRY_S, 300 s) and is dialled again.
    request, calls = _called_back(tmp_path, state, 400.0)
    assert request["state"] == "done" and request["attempts"] == 2
    assert calls[-1]["id"] == request["callback_call_id"] and calls[-1]["disposition"] == "answered"
    # The attempt the crash cut off was closed at the start as interrupted.
    assert calls[0]["disposition"] == "interrupted"
