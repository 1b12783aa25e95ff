"""`branchline scenario` on the simulated E1 span (board sim-e1): 30 callers at once seize every
timeslot by China No.1 R2; the report gives each call's ANI and DNIS as the box received them."""
import json
import sqlite3

from firmware import cli
from scenario_builder import agent, caller, run_section, scenario

N = 30
SCENARIO = scenario(
    run_section(20.0, board="sim-e1", drain=120.0, seed=5),
    [agent(f"10{i:02d}", queues=["sales", "service"], answer_after=0.2, talk=60.0) for i in range(10)],
    [caller(1.0 + i * 0.02, f"139{i:08d}", keys=[[3.0, str(1 + i % 2)]], patience=300.0, talk=1.0)
     for i in range(N + 1)],
)


def test_thirty_simultaneous_callers_through_the_e1_span(tmp_path, capsys):
    path = tmp_path / "e1.toml"
    path.write_text(SCENARIO)
    report_path = tmp_path / "report.json"
    state = tmp_path / "state"
    assert cli.main(["scenario", str(path), "--fast", "--report", str(report_path), "--state", str(state)]) == 0
    assert f"{N + 1} calls: {{'answered': {N}, 'busy': 1}}" in capsys.readouterr().out
    report = json.loads(report_path.read_text())
    calls = report["calls"]
    # Every timeslot carried one call at the same time; the 31st caller found none free.
    assert {c["ani"] for c in calls[:N]} == {f"139{i:08d}" for i in range(N)}
    assert all(c["ani"] == c["number"] and c["dnis"] == "8001" for c in calls[:N])
    assert calls[N]["disposition"] == "busy" and calls[N]["ani"] is None
    overlap = max(c["answer"] for c in calls[:N]) < min(c["end"] for c in calls[:N])
    assert overlap
    for c in calls[:N]:
        assert c["digits_detected"] == c["digits_pressed"] and c["hangup_by"] == "caller"
        assert c["caller"] == {"answered": True, "connected": True, "ended_by": "caller"}
    # Every record complete: answered, ended, and the DNIS in the call's journal.
    db = sqlite3.connect(state / "branchline.db")
    rows = db.execute("select count(*) from calls where ended_at is not null and disposition = 'answered'")
    assert rows.fetchone()[0] == N
    journal = [json.loads(d) for (d,) in db.execute("select data from call_events where kind = 'call:callerid'")]
    assert len(journal) == N and all(j["dnis"] == "8001" for j in journal)
