"""A restart on the same state: ids never reused, and what a crash left open is closed and filed at start."""
import functools
import hashlib
import json
import textwrap
import wave
from pathlib import Path

import pytest

from firmware.tools import scenario as scenario_module
from firmware.core import recorder as recorder_module
from firmware.core.recorder import wav_header
from firmware.tools.scenario import SCENARIO_EPOCH, ScenarioRun, load_scenario, run_scenario
from firmware.callcenter.settings import SiteConfig
from firmware.store import open_readonly
from firmware.store.sync import read_changes
from scenario_builder import agent, caller, flow, run_section, scenario

# Callers who reach a queue (1) and wait or talk, one who leaves a message (3); two agents.
def scenario_text(seconds, talk):
    return scenario(
        run_section(seconds, seed=5, trunks=6, flow="flow.toml"),
        agent("1001", queues=["sales"], answer_after=1.0, talk=talk),
        agent("1002", queues=["sales"], answer_after=1.0, talk=talk),
        caller(1.0, "13800000001", keys=[[1.0, "1"]], talk=talk),
        caller(2.0, "13800000002", keys=[[1.0, "1"]], talk=talk),
        caller(3.0, "13800000003", keys=[[1.0, "1"]], patience=talk),
        caller(4.0, "13800000004", keys=[[1.0, "3"]], patience=talk, speak=[[6.0, talk]]),
    )


FLOW = flow(
    "menu",
    menu={"type": "menu", "prompts": ["main-menu"], "choices": {"1": "sales", "3": "message"}, "on_fail": "bye"},
    sales={"type": "queue", "queue": "sales"},
    message={"type": "voicemail", "box": "sales"},
    bye={"type": "hangup", "prompts": ["goodbye"]},
)


def _scenario(tmp_path: Path, seconds: float = 600.0, talk: float = 400.0) -> Path:
    """Calls that last `talk` s: long enough for a crash to cut them, or short to run to their end."""
    (tmp_path / "flow.toml").write_text(textwrap.dedent(FLOW))
    path = tmp_path / "scenario.toml"
    path.write_text(scenario_text(seconds, talk))
    return path


@pytest.fixture
def crash(stop_as_killed):
    def crash(path: Path, state: Path, seconds: float, epoch: float) -> ScenarioRun:
        """Run `seconds` of traffic, then stop as a SIGKILL would."""
        run = ScenarioRun(load_scenario(path), state, clock="fast", epoch=epoch)
        run.engine.run(until=lambda: run.engine.clock.seconds >= seconds)
        assert run.center.calls, "the crash must find calls in progress"
        stop_as_killed(run.engine)
        return run
    return crash


def _restart(path: Path, state: Path, epoch: float) -> ScenarioRun:
    run = ScenarioRun(load_scenario(path), state, clock="fast", epoch=epoch)
    run.engine.store.flush()
    return run


def _close(run: ScenarioRun) -> None:
    run.engine.run(until=lambda: run.engine.clock.seconds >= 1.0)
    run.engine.close()


def _wavs(state: Path) -> dict[str, Path]:
    root = state / "recordings"
    return {str(p.relative_to(root)): p for p in root.rglob("*.wav")}


def test_a_seeded_run_restarted_on_its_state_reuses_no_id(tmp_path):
    path = _scenario(tmp_path, seconds=60.0, talk=15.0)
    state = tmp_path / "state"
    first = run_scenario(path, state_dir=state)
    second = run_scenario(path, state_dir=state)
    db = open_readonly(state / "branchline.db")
    ids1 = {c["call_id"] for c in first["calls"]}
    ids2 = {c["call_id"] for c in second["calls"]}
    assert len(ids1) == len(ids2) == 4 and not ids1 & ids2
    # Every call of both runs has its own row, and nothing was refused.
    assert db["calls"].count == 8
    assert not (state / "branchline.rejected.jsonl").exists()
    # No recording overwrote another: each file is its own row's, byte for byte.
    rows = {r["path"]: r for r in db["recordings"].rows} | {r["path"]: r for r in db["voicemails"].rows}
    wavs = _wavs(state)
    assert len(wavs) == len(rows) >= 6 and set(wavs) == set(rows)
    for name, p in wavs.items():
        assert hashlib.sha256(p.read_bytes()).hexdigest() == rows[name]["sha256"]
    # The events of each call are its own run's: none before its arrival or after its end.
    for call in db["calls"].rows:
        ats = [e["at"] for e in db["call_events"].rows_where("call_id = ?", [call["id"]])]
        assert call["arrived_at"] <= min(ats) and max(ats) <= call["ended_at"]


def test_seeded_ids_are_reproducible_on_a_fresh_state_and_differ_between_boxes(tmp_path, monkeypatch):
    path = _scenario(tmp_path, seconds=20.0, talk=15.0)
    ids = lambda report: [c["call_id"] for c in report["calls"]]  # noqa: E731
    a = ids(run_scenario(path, state_dir=tmp_path / "a"))
    assert a == ids(run_scenario(path, state_dir=tmp_path / "b"))
    monkeypatch.setattr(scenario_module, "SiteConfig", functools.partial(SiteConfig, box_id="branch-002"))
    other_box = ids(run_scenario(path, state_dir=tmp_path / "c"))
    assert len(other_box) == len(a) and not set(other_box) & set(a)


def test_calls_and_recordings_a_crash_left_are_closed_and_filed_at_start(tmp_path, crash):
    path = _scenario(tmp_path)
    state = tmp_path / "state"
    crash(path, state, 40.0, SCENARIO_EPOCH)
    db = open_readonly(state / "branchline.db")
    left_open = {r["id"] for r in db["calls"].rows_where("disposition IS NULL")}
    known = {r["path"] for r in db["recordings"].rows} | {r["path"] for r in db["voicemails"].rows}
    orphans = set(_wavs(state)) - known
    # Two callers talking (recorded), one waiting, one leaving a message: all open, three files unfiled.
    assert len(left_open) == 4 and len(orphans) == 3
    latest = db.execute("SELECT value FROM change_counter").fetchone()[0]
    db.conn.close()

    restarted = _restart(path, state, SCENARIO_EPOCH + 3600.0)
    db = open_readonly(state / "branchline.db")
    for call_id in left_open:
        row = db["calls"].get(call_id)
        last = db.execute("SELECT max(at) FROM call_events WHERE call_id = ? AND id NOT LIKE '%-recovered'",
                          [call_id]).fetchone()[0]
        assert row["disposition"] == "interrupted" and row["hangup_by"] == "box"
        assert row["ended_at"] == last
        hangup = list(db["call_events"].rows_where("call_id = ? AND kind = 'call:hangup'", [call_id]))
        assert len(hangup) == 1 and json.loads(hangup[0]["data"])["disposition"] == "interrupted"
    talking = [r for r in db["calls"].rows_where("id IN ({})".format(",".join("?" * len(left_open))),
                                                 list(left_open)) if r["connected_at"]]
    assert len(talking) == 2 and all(r["talk"] == round(r["ended_at"] - r["connected_at"], 3) for r in talking)
    # Every file has its row, as a recording the engine finished would: duration, size, SHA-256.
    rows = {r["path"]: r for r in db["recordings"].rows} | {r["path"]: r for r in db["voicemails"].rows}
    for name, p in _wavs(state).items():
        row = rows[name]
        data = p.read_bytes()
        with wave.open(str(p)) as w:
            assert row["duration"] == round(w.getnframes() / w.getframerate(), 3)
        assert row["size"] == len(data) and row["sha256"] == hashlib.sha256(data).hexdigest()
        assert row["call_id"] in left_open
    message = next(r for r in db["voicemails"].rows)
    assert message["box"] == "sales" and message["number"] == "13800000004"
    # HQ's change feed carries the closed calls and the filed files.
    changes = read_changes(db.conn, latest, 5000).changes
    carried = {(c["table"], c["id"]) for c in changes}
    assert {("calls", cid) for cid in left_open} <= carried
    assert {(t, rows[name]["id"]) for name in orphans
            for t in ("recordings", "voicemails") if rows[name] in list(db[t].rows)} <= carried
    assert sum(1 for t, _ in carried if t in ("recordings", "voicemails")) >= len(orphans)
    _close(restarted)


def _last_states(db) -> dict[str, dict]:
    rows = db.execute("SELECT agent_id, state, reason, at FROM agent_states ORDER BY seq").fetchall()
    return {agent: {"state": state, "reason": reason, "at": at} for agent, state, reason, at in rows}


def test_agents_a_crash_left_logged_in_are_logged_out_where_the_box_stopped(tmp_path, crash):
    path = _scenario(tmp_path)
    state = tmp_path / "state"
    crash(path, state, 40.0, SCENARIO_EPOCH)
    db = open_readonly(state / "branchline.db")
    before = _last_states(db)
    # Both agents were on a call when the box died: their state log says they still are.
    assert {a: s["state"] for a, s in before.items()} == {"1001": "talking", "1002": "talking"}
    last_event = db.execute("SELECT max(at) FROM call_events").fetchone()[0]
    db.conn.close()

    restarted = _restart(path, state, SCENARIO_EPOCH + 3600.0)
    db = open_readonly(state / "branchline.db")
    rows = db.execute("SELECT agent_id, state, reason, at FROM agent_states ORDER BY seq").fetchall()
    closing = [r for r in rows if r[2] == "interrupted"]
    # One logout each, at the last thing the box recorded, not at the restart an hour later.
    assert sorted(r[0] for r in closing) == ["1001", "1002"]
    assert all(r[1] == "logged_out" and r[3] == last_event for r in closing)
    _close(restarted)
    # A clean stop logs every agent out itself, so the next start has nothing to close.
    db = open_readonly(state / "branchline.db")
    assert {a: (s["state"], s["reason"]) for a, s in _last_states(db).items()} == {
        "1001": ("logged_out", "shutdown"), "1002": ("logged_out", "shutdown")}
    db.conn.close()
    again = _restart(path, state, SCENARIO_EPOCH + 7200.0)
    db = open_readonly(state / "branchline.db")
    assert db.execute("SELECT count(*) FROM agent_states WHERE reason = 'interrupted'").fetchone()[0] == 2
    _close(again)


def test_the_journal_agrees_with_the_records_after_a_crash(tmp_path, crash):
    path = _scenario(tmp_path)
    state = tmp_path / "state"
    crash(path, state, 40.0, SCENARIO_EPOCH)
    db = open_readonly(state / "branchline.db")
    talking = [r["id"] for r in db["calls"].rows_where("disposition IS NULL AND connected_at IS NOT NULL",
                                                        order_by="arrived_at")]
    db.conn.close()
    # The journal thread wrote one caller's hang-up; the store had not committed it when the box died.
    journal = sorted((state / "queue_log").glob("queue_log-*.log"))[-1]
    ended_at = int(SCENARIO_EPOCH + 41.0)
    with open(journal, "a") as f:
        f.write(f"{ended_at}|{talking[0]}|sales|1001|COMPLETECALLER|3|37|1\n")

    restarted = _restart(path, state, SCENARIO_EPOCH + 3600.0)
    db = open_readonly(state / "branchline.db")
    settled = db["calls"].get(talking[0])
    assert (settled["disposition"], settled["hangup_by"], settled["ended_at"]) == ("answered", "caller", ended_at)
    assert db["calls"].get(talking[1])["disposition"] == "interrupted"
    lines = [line.split("|") for f in sorted((state / "queue_log").glob("*.log"))
             for line in f.read_text().splitlines()]
    # The restart is marked the way Asterisk marks its own: every call still open before it was cut.
    restart = [i for i, f in enumerate(lines) if f[4] == "QUEUESTART"]
    assert len(restart) == 2 and lines[restart[1]][0] == str(int(SCENARIO_EPOCH + 3600.0))
    # No completion in the journal for a call the records say was interrupted.
    interrupted = {r["id"] for r in db["calls"].rows_where("disposition = 'interrupted'")}
    assert interrupted and not [f for f in lines if f[1] in interrupted and f[4].startswith("COMPLETE")]
    _close(restarted)


def test_a_journal_line_after_a_block_a_power_cut_left_as_zeros_still_settles_its_call(tmp_path, crash):
    # The journal is written at once and not synced: a power cut may keep a later block of it and lose
    # an earlier one, which then reads as zeros, and the line after it starts with them.
    path = _scenario(tmp_path)
    state = tmp_path / "state"
    crash(path, state, 40.0, SCENARIO_EPOCH)
    db = open_readonly(state / "branchline.db")
    talking = [r["id"] for r in db["calls"].rows_where("disposition IS NULL AND connected_at IS NOT NULL",
                                                        order_by="arrived_at")]
    db.conn.close()
    journal = sorted((state / "queue_log").glob("queue_log-*.log"))[-1]
    ended_at = int(SCENARIO_EPOCH + 41.0)
    with open(journal, "ab") as f:
        f.write(bytes(300) + f"{ended_at}|{talking[0]}|sales|1001|COMPLETECALLER|3|37|1\n".encode())

    restarted = _restart(path, state, SCENARIO_EPOCH + 3600.0)
    db = open_readonly(state / "branchline.db")
    settled = db["calls"].get(talking[0])
    assert (settled["disposition"], settled["hangup_by"], settled["ended_at"]) == ("answered", "caller", ended_at)
    _close(restarted)


@pytest.mark.parametrize("written", [b"", wav_header(0)[:20]])
def test_a_recording_killed_before_its_first_sync_is_kept_as_an_empty_one(tmp_path, written, crash):
    path = _scenario(tmp_path)
    state = tmp_path / "state"
    crash(path, state, 40.0, SCENARIO_EPOCH)
    db = open_readonly(state / "branchline.db")
    call_id = next(r["id"] for r in db["calls"].rows_where("disposition IS NULL AND connected_at IS NULL"))
    db.conn.close()
    # The header still in the write buffer when the process died: the file is empty or cut short.
    cut = state / "recordings" / "2026" / "01" / "01" / f"{call_id}.wav"
    cut.parent.mkdir(parents=True, exist_ok=True)
    cut.write_bytes(written)
    restarted = _restart(path, state, SCENARIO_EPOCH + 3600.0)
    db = open_readonly(state / "branchline.db")
    row = next(db["recordings"].rows_where("call_id = ?", [call_id]))
    with wave.open(str(cut)) as w:
        assert (w.getnchannels(), w.getnframes()) == (2, 0)
    assert (row["duration"], row["size"]) == (0.0, 44)
    _close(restarted)


def test_a_start_opens_only_the_recordings_a_crash_left_without_a_row(tmp_path, crash, mocker):
    # A filed recording was closed whole before its row was written: a start that opened every file
    # on the card would take longer with every day of recordings kept (docs/architecture.md §25).
    path = _scenario(tmp_path)
    state = tmp_path / "state"
    crash(path, state, 40.0, SCENARIO_EPOCH)
    repair = mocker.spy(recorder_module, "repair")
    _close(_restart(path, state, SCENARIO_EPOCH + 3600.0))
    cut = {Path(c.args[0]).name for c in repair.call_args_list}
    assert len(cut) == 3
    repair.reset_mock()
    db = open_readonly(state / "branchline.db")
    filed = {r["path"] for r in db["recordings"].rows} | {r["path"] for r in db["voicemails"].rows}
    db.conn.close()
    assert set(_wavs(state)) == filed and len(filed) == 3

    _close(_restart(path, state, SCENARIO_EPOCH + 7200.0))
    assert repair.call_count == 0
