"""The queue journal speaks Asterisk's queue_log grammar (docs/standards.md §20.2)."""
import time
from pathlib import Path

from scenario_builder import agent, caller, queue, run_section, scenario

SALES = [[1.0, "1"]]
SCENARIO = scenario(
    run_section(200),
    queue("sales", ring_timeout=10.0, max_wait=100.0), queue("service"),
    agent("sleepy", skills={"sales": 5}, answer_after=30.0),
    agent("keen", skills={"sales": 5}, login_at=20.0, answer_after=1.0, talk=100.0),
    caller(2.0, "13800000001", keys=SALES, talk=200.0),
    caller(4.0, "13800000002", keys=SALES, patience=8.0),
    caller(5.0, "13800000003", keys=SALES, patience=500.0),
)


def journal(state: Path) -> list[list[str]]:
    lines = []
    for f in sorted((state / "queue_log").glob("queue_log-*.log")):
        lines += [line.split("|") for line in f.read_text().splitlines()]
    return lines


def test_queue_log_lines(run_inline):
    ran = run_inline(SCENARIO)
    lines = journal(ran.state)
    assert lines and all(len(f) >= 5 and f[0].isdigit() for f in lines)
    epochs = [int(f[0]) for f in lines]
    assert epochs == sorted(epochs)
    first, second, third = (c["call_id"] for c in ran.report["calls"])
    by_call = {}
    for f in lines:
        by_call.setdefault(f[1], []).append(f)
    events = lambda cid: [f[4] for f in by_call[cid]]  # noqa: E731
    # First caller: entered, "sleepy" let it ring out, "keen" logged in at 20 s and answered;
    # the agent hung up after 100 s.
    assert events(first) == ["ENTERQUEUE", "RINGNOANSWER", "CONNECT", "COMPLETEAGENT"]
    enter, noanswer, connect, complete = by_call[first]
    assert enter[2:4] == ["sales", "NONE"] and enter[5:] == ["", "13800000001", "1"]
    assert noanswer[3] == "sleepy" and noanswer[5] == "10000"          # ring time in ms
    assert connect[3] == "keen" and connect[6] == first                 # holdtime|bridged id|ringtime
    hold = ran.db["calls"].get(first)["wait"]
    assert int(connect[5]) == round(hold) and int(connect[7]) == 1
    assert complete[3] == "keen" and complete[5:] == [str(round(hold)), "100", "1"]   # holdtime|calltime|origpos
    # Second caller gave up while waiting behind the first: ABANDON position|origposition|waittime.
    abandon = by_call[second][-1]
    assert abandon[4] == "ABANDON" and abandon[5:7] == ["2", "2"]
    # Third caller waited past max_wait.
    assert events(third)[-1] == "EXITWITHTIMEOUT"
    # The agent who let it ring out was paused with the reason; logins are ADDMEMBER.
    agent_lines = [f for f in lines if f[1] == "NONE"]
    assert ["sales", "sleepy", "PAUSE", "no answer"] in [f[2:6] for f in agent_lines]
    assert ["sales", "keen", "ADDMEMBER"] in [f[2:5] for f in agent_lines]
    assert ["sales", "keen", "UNPAUSE", ""] in [f[2:6] for f in agent_lines]


def _read_when(path: Path, n: int, timeout: float = 5.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while True:
        lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
        if len(lines) >= n or time.monotonic() > deadline:
            return lines
        time.sleep(0.01)


def test_the_journal_thread_survives_any_line_and_one_write_stays_one_line(tmp_path):
    """A not_ready reason of "\\ud800" (a lone surrogate: no UTF-8 form) once killed the journal
    thread, and every queue event after it was lost. The line is kept with the code point escaped."""
    from firmware.core.journal import Journal
    j = Journal(tmp_path, "queue_log")
    j.start()
    j.write("2026-01-01", "1|NONE|NONE|1001|PAUSE||\ud800")
    j.write("2026-01-01", "2|NONE|NONE|1001|PAUSE||lunch\n3|forged|sales|1001|CONNECT|1")
    j.write("2026-01-01", "4|NONE|NONE|1001|UNPAUSE|")
    lines = _read_when(tmp_path / "queue_log-2026-01-01.log", 3)
    assert lines == ["1|NONE|NONE|1001|PAUSE||\\ud800",
                     "2|NONE|NONE|1001|PAUSE||lunch\\n3|forged|sales|1001|CONNECT|1",
                     "4|NONE|NONE|1001|UNPAUSE|"]
    status = j.status()
    assert status["alive"] and status["fault"] is None and status["backlog"] == 0
    j.close()


def test_a_journal_that_cannot_write_waits_and_catches_up(tmp_path):
    from firmware.core.journal import Journal
    blocked = tmp_path / "log"
    j = Journal(blocked, "queue_log")
    j.start()
    (blocked / "queue_log-2026-01-01.log").mkdir()     # the write fails as on a failing card
    j.write("2026-01-01", "1|c|sales|NONE|ENTERQUEUE||1|1")
    deadline = time.monotonic() + 5
    while j.status()["waiting"] is None and time.monotonic() < deadline:
        time.sleep(0.01)
    status = j.status()
    assert status["alive"] and "IsADirectoryError" in status["waiting"]["reason"] and status["backlog"] == 1
    (blocked / "queue_log-2026-01-01.log").rmdir()
    assert _read_when(blocked / "queue_log-2026-01-01.log", 1) == ["1|c|sales|NONE|ENTERQUEUE||1|1"]
    j.close()
    assert j.status()["waiting"] is None


def test_a_journal_thread_that_died_is_a_fault_in_its_status(tmp_path):
    from firmware.core.journal import Journal
    j = Journal(tmp_path, "queue_log")

    def die(batch):
        raise SystemExit("gone")      # what no guard catches: the thread ends
    j._guarded = die
    j.start()
    assert j.status()["alive"]
    j.write("2026-01-01", "1|c|sales|NONE|ENTERQUEUE||1|1")
    deadline = time.monotonic() + 5
    while j.status()["alive"] and time.monotonic() < deadline:
        time.sleep(0.01)
    assert j.status()["fault"] == "journal-queue_log thread died (SystemExit: gone)"
    j.close(timeout=0.5)
