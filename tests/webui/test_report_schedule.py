"""Scheduled reports (webui/report_schedule.py, report_runner.py, report_files.py): each period written once,
the missed ones after downtime, the oldest pruned, mailed, and downloadable only by the right roles."""
from __future__ import annotations

import datetime as dt
import io
import json
import sqlite3
import time
import zipfile

import openpyxl
import pytest

from conftest import api_call
from webui.report_runner import ReportRunner
from webui.report_schedule import due_periods


def _at(day: str, hh: int = 0, mm: int = 0) -> float:
    return time.mktime(dt.date.fromisoformat(day).timetuple()) + hh * 3600 + mm * 60


def _labels(periods) -> list[str]:
    return [p.label for p in periods]


def test_a_day_is_written_half_an_hour_after_it_ends():
    enabled = _at("2025-03-10", 10)
    assert due_periods("daily", _at("2025-03-11", 0, 29), None, enabled, 31) == []
    assert _labels(due_periods("daily", _at("2025-03-11", 0, 30), None, enabled, 31)) == ["2025-03-10"]
    # Written: nothing more until the next day's file is due.
    assert due_periods("daily", _at("2025-03-11", 23, 59), "2025-03-10", enabled, 31) == []


def test_missed_days_are_caught_up_oldest_first_within_the_files_kept():
    enabled = _at("2025-03-01")
    assert _labels(due_periods("daily", _at("2025-03-14", 9), "2025-03-10", enabled, 31)) == [
        "2025-03-11", "2025-03-12", "2025-03-13"]
    # Only as many as are kept: older ones would be deleted as soon as written.
    assert _labels(due_periods("daily", _at("2025-03-14", 9), "2025-03-10", enabled, 2)) == [
        "2025-03-12", "2025-03-13"]
    # Periods over before the schedule was switched on were never promised.
    assert _labels(due_periods("daily", _at("2025-03-14", 9), None, _at("2025-03-12", 15), 31)) == [
        "2025-03-12", "2025-03-13"]


def test_a_month_is_written_after_it_ends():
    enabled = _at("2025-01-15")
    assert due_periods("monthly", _at("2025-02-01", 0, 10), None, enabled, 12) == []
    assert _labels(due_periods("monthly", _at("2025-02-01", 0, 30), None, enabled, 12)) == ["2025-01"]
    assert _labels(due_periods("monthly", _at("2025-05-02"), "2025-02", enabled, 12)) == ["2025-03", "2025-04"]


def _enabled_on(db_path, name: str, when: float) -> None:
    # The records are of March 2025: the schedule is dated as if it had been switched on then.
    conn = sqlite3.connect(db_path)
    with conn:
        conn.execute("UPDATE report_schedules SET enabled_at = ? WHERE name = ?", [when, name])
    conn.close()


@pytest.fixture
def daily(admin, records, db_path):
    """The admin switches the daily calls report on (an xlsx, two kept, mailed) on 10 March 2025 at 08:00."""
    reply = api_call(admin, "PUT", "/api/v1/report-schedules/daily",
                     {"enabled": True, "reports": ["calls"], "format": "xlsx", "keep": 2, "language": "zh",
                      "recipients": ["manager@example.com"]})
    assert reply.status == 200, reply.text
    _enabled_on(db_path, "daily", _at("2025-03-10", 8))
    return reply.json()


def _rows(db_path, sql: str, args=()) -> list[tuple]:
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def _runner(db_path, tmp_path, now: float) -> ReportRunner:
    return ReportRunner(db_path, tmp_path / "reports", clock=lambda: now)


def _run(runner: ReportRunner) -> int:
    written = 0
    while runner.pass_once():
        written += 1
    return written


def test_the_schedule_runs_once_per_day_catches_up_and_prunes(daily, db_path, tmp_path, admin):
    # The box was off from the 10th to the 13th at 01:00: the 10th, 11th and 12th are owed; two are kept.
    runner = _runner(db_path, tmp_path, _at("2025-03-13", 1))
    assert _run(runner) == 2
    assert _rows(db_path, "SELECT period FROM report_files ORDER BY period") == [("2025-03-11",), ("2025-03-12",)]
    assert _run(runner) == 0                               # never twice
    runner.close()
    restarted = _runner(db_path, tmp_path, _at("2025-03-13", 2))
    assert _run(restarted) == 0                            # nor after a restart
    restarted.close()
    # The next day: the 13th written, the 11th deleted (rows and file).
    later = _runner(db_path, tmp_path, _at("2025-03-14", 1))
    assert _run(later) == 1
    later.close()
    assert _rows(db_path, "SELECT period FROM report_files ORDER BY period") == [("2025-03-12",), ("2025-03-13",)]
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == ["daily-2025-03-12.xlsx",
                                                                         "daily-2025-03-13.xlsx"]
    # Each is mailed once, with its file.
    mails = _rows(db_path, "SELECT key, recipients, subject FROM mail_outbox ORDER BY id")
    assert [m[0] for m in mails] == ["report:daily:2025-03-11", "report:daily:2025-03-12", "report:daily:2025-03-13"]
    assert json.loads(mails[0][1]) == ["manager@example.com"]
    assert _rows(db_path, "SELECT filename FROM mail_attachments a JOIN mail_outbox m ON m.id = a.mail_id"
                          " WHERE m.key = 'report:daily:2025-03-12'") == [("daily-2025-03-12.xlsx",)]


def test_the_file_holds_the_days_report_and_downloads(daily, db_path, tmp_path, admin, add_user, records):
    runner = _runner(db_path, tmp_path, _at("2025-03-11", 1))
    assert _run(runner) == 1
    runner.close()
    listed = admin.get("/api/v1/report-files").json()["files"]
    assert [(f["schedule"], f["period"], f["format"]) for f in listed] == [("daily", "2025-03-10", "xlsx")]
    supervisor = add_user("sue", "supervisor")
    reply = supervisor.get(listed[0]["url"])
    assert reply.status == 200
    book = openpyxl.load_workbook(io.BytesIO(reply.body), read_only=True)
    assert len(book.sheetnames) >= 2                       # the report's tables, then the definitions
    # The same figures as the report asked of the API for that day, by hour.
    api = admin.get("/api/v1/reports/calls?from=2025-03-10&to=2025-03-10&group=hour").json()["tables"][0]
    counts = [i for i, c in enumerate(api["columns"]) if c["kind"] == "int"]
    sheet = list(book.worksheets[0].iter_rows(values_only=True))
    assert len(sheet) - 1 == len(api["rows"]) > 0
    assert [[row[i] for i in counts] for row in sheet[1:]] == [[row[i] for i in counts] for row in api["rows"]]
    assert sum(row[counts[0]] for row in api["rows"]) > 0
    assert _rows(db_path, "SELECT action, target FROM audit_log WHERE action = 'report_file.download'") == [
        ("report_file.download", "daily-2025-03-10.xlsx")]
    agent = add_user("ann", "agent", remote_addr="192.0.2.21")
    assert agent.get("/api/v1/report-files").status == 403
    assert agent.get(listed[0]["url"]).status == 403
    assert agent.get(f"/reports/files/{listed[0]['id']}").status == 403
    assert supervisor.get("/api/v1/report-files/nonesuch").status == 404


def test_a_csv_schedule_writes_a_zip_of_csv_files(admin, records, db_path, tmp_path):
    assert api_call(admin, "PUT", "/api/v1/report-schedules/monthly",
                    {"enabled": True, "reports": ["calls", "agents"], "format": "csv", "keep": 12}).status == 200
    _enabled_on(db_path, "monthly", _at("2025-03-01"))
    runner = _runner(db_path, tmp_path, _at("2025-04-01", 1))
    assert _run(runner) == 1
    runner.close()
    with zipfile.ZipFile(tmp_path / "reports" / "monthly-2025-03.zip") as zf:
        names = zf.namelist()
        assert names and all(n.endswith(".csv") for n in names)
        assert zf.read(names[0]).startswith("\ufeff".encode())   # the BOM Excel needs for Chinese


def test_a_failed_run_is_shown_and_retried_later(daily, db_path, tmp_path, monkeypatch):
    monkeypatch.setattr("webui.reports.export.write_xlsx", lambda *a: (_ for _ in ()).throw(OSError(28, "No space")))
    runner = _runner(db_path, tmp_path, _at("2025-03-11", 1))
    assert runner.pass_once() is False                     # tried, failed, not tried again at once
    assert runner.pass_once() is False
    runner.close()
    (error,) = _rows(db_path, "SELECT last_error FROM report_schedules WHERE name = 'daily'")[0]
    assert "2025-03-10" in error and "No space" in error
    assert _rows(db_path, "SELECT count(*) FROM report_files") == [(0,)]
    assert list((tmp_path / "reports").iterdir()) == []   # no half-written file left
    monkeypatch.undo()
    retried = _runner(db_path, tmp_path, _at("2025-03-11", 1) + 301)
    assert _run(retried) == 1
    retried.close()
    assert _rows(db_path, "SELECT last_error FROM report_schedules WHERE name = 'daily'") == [(None,)]


def test_schedules_are_for_admins_and_audited(admin, add_user, db_path):
    supervisor = add_user("sue", "supervisor")
    assert supervisor.get("/api/v1/report-schedules").status == 403
    assert supervisor.get("/reports/schedules").status == 403
    body = {"enabled": True, "reports": ["calls"], "format": "xlsx", "keep": 7}
    assert api_call(supervisor, "PUT", "/api/v1/report-schedules/daily", body).status == 403
    saved = api_call(admin, "PUT", "/api/v1/report-schedules/daily", body)
    assert saved.status == 200 and saved.json()["enabled"] is True
    (action, target, detail), = _rows(db_path, "SELECT action, target, detail FROM audit_log"
                                               " WHERE action = 'report_schedule.update'")
    assert target == "daily" and json.loads(detail)["keep"] == 7
    stale = api_call(admin, "PUT", "/api/v1/report-schedules/daily", {**body, "version": 1})
    assert stale.status == 409


@pytest.mark.parametrize("body, field", [
    ({"enabled": True, "reports": ["nonesuch"], "keep": 7}, "reports"),
    ({"enabled": True, "reports": [], "keep": 7}, "reports"),
    ({"reports": ["calls"], "keep": 0}, "keep"),
    ({"reports": ["calls"], "keep": 367}, "keep"),
    ({"reports": ["calls"], "keep": 7, "format": "pdf"}, "format"),
    ({"reports": ["calls"], "keep": 7, "recipients": ["not an address"]}, "recipients"),
    ({"reports": ["calls"], "keep": 7, "language": "fr"}, "language"),
])
def test_bad_schedules_are_refused(admin, body, field):
    reply = api_call(admin, "PUT", "/api/v1/report-schedules/daily", body)
    assert reply.status == 400
    assert field in reply.json()["problems"]


def test_the_schedules_page_saves_from_the_form(admin, db_path):
    page = admin.get("/reports/schedules")
    assert page.status == 200 and 'id="schedule-form-monthly"' in page.text
    csrf = admin.csrf("/reports/schedules")
    saved = admin.post("/reports/schedules/monthly", form={"csrf_token": csrf, "version": "1", "enabled": "1",
                                                           "reports": "calls", "format": "xlsx", "keep": "12",
                                                           "language": "en", "recipients": "a@example.com\n"})
    assert saved.status == 303
    assert _rows(db_path, "SELECT enabled, recipients FROM report_schedules WHERE name = 'monthly'") == [
        (1, '["a@example.com"]')]
    bad = admin.post("/reports/schedules/monthly", form={"csrf_token": csrf, "version": "2", "keep": "0",
                                                         "reports": "calls"})
    assert bad.status == 400 and "Files kept must be" in bad.text


def test_a_stop_mid_write_leaves_nothing_half_done(daily, db_path, tmp_path):
    # A stop while writing left a part file; a stop after the rename but before the commit left the file
    # without its row. The next start removes the first and writes the period again over the second, once.
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / ".daily-2025-03-10.xlsx.part").write_bytes(b"half a workbook")
    (reports / "daily-2025-03-10.xlsx").write_bytes(b"renamed, never recorded")
    runner = _runner(db_path, tmp_path, _at("2025-03-11", 1))
    assert not (reports / ".daily-2025-03-10.xlsx.part").exists()
    assert _run(runner) == 1
    runner.close()
    assert sorted(p.name for p in reports.iterdir()) == ["daily-2025-03-10.xlsx"]
    openpyxl.load_workbook(reports / "daily-2025-03-10.xlsx", read_only=True)   # the whole workbook
    (size,) = _rows(db_path, "SELECT size FROM report_files WHERE period = '2025-03-10'")[0]
    assert size == (reports / "daily-2025-03-10.xlsx").stat().st_size


def test_a_clock_gone_back_writes_nothing_twice(daily, db_path, tmp_path):
    # A box without a clock of its own starts in the past until NTP answers: nothing is written again,
    # and once the clock is right the next day comes as usual.
    for now, written in ((_at("2025-03-12", 1), 2),      # the 10th and 11th
                         (_at("2025-03-11", 1), 0),      # back to the 11th
                         (_at("2025-03-05", 9), 0),      # back a week
                         (_at("2025-03-13", 1), 1)):     # right again: the 12th
        runner = _runner(db_path, tmp_path, now)
        assert _run(runner) == written
        runner.close()
    assert _rows(db_path, "SELECT period FROM report_files ORDER BY period") == [("2025-03-11",), ("2025-03-12",)]
    assert _rows(db_path, "SELECT count(*) FROM mail_outbox") == [(3,)]


def test_a_period_already_on_file_is_not_written_again():
    # Its row is the promise kept, whatever `last_period` says (another process recorded it).
    enabled = _at("2025-03-01")
    assert _labels(due_periods("daily", _at("2025-03-12", 1), "2025-03-09", enabled, 31,
                               frozenset({"2025-03-11"}))) == []
    assert _labels(due_periods("daily", _at("2025-03-13", 1), "2025-03-09", enabled, 31,
                               frozenset({"2025-03-11"}))) == ["2025-03-12"]
