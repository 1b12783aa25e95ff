"""The reports benchmark's box holds what the reports read, the way the engine writes it (timings are not
judged: `make bench` prints them)."""
import datetime as dt
import sqlite3

from firmware.tools import bench_reports


def test_the_bench_box_has_every_calls_journal_and_agents_days(tmp_path):
    path = tmp_path / "branchline.db"
    bench_reports.build_box(path, calls=3000)
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT count(*) FROM calls").fetchone()[0] == 3000
    assert conn.execute("SELECT count(*) FROM call_events").fetchone()[0] == 3000 * bench_reports.EVENTS_PER_CALL
    # Every call arrives in business hours within the 90 days, and its outcome is one of the engine's.
    first, last = conn.execute("SELECT min(arrived_at), max(arrived_at) FROM calls").fetchone()
    assert dt.datetime.fromtimestamp(first).date() == bench_reports.FIRST_DAY
    assert (dt.datetime.fromtimestamp(last).date() - bench_reports.FIRST_DAY).days < bench_reports.DAYS
    assert {r[0] for r in conn.execute("SELECT DISTINCT disposition FROM calls")} == {
        "answered", "abandoned", "ivr_hangup", "completed", "voicemail", "callback", "overflow", "timeout"}
    # The agents' states were written in time order, so the trigger's days hold every signed-in second:
    # 08:00-ish to 20:30 a day, less nothing (a state lasts until the next).
    [(days, seconds)] = conn.execute("SELECT count(DISTINCT day), total(seconds) FROM agent_state_days"
                                     " WHERE state != 'logged_out'").fetchall()
    assert days == bench_reports.DAYS
    agents = conn.execute("SELECT count(*) FROM agent_state_open").fetchone()[0]
    assert seconds == (73800 - 28000) * bench_reports.DAYS * agents
