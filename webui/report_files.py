"""The scheduled reports' pages and API: the files for supervisors and admins to download, and the daily and
monthly schedules an admin sets (audited). The files are written by webui/report_runner.py."""
from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Callable

from bottle import Bottle, HTTPError, redirect, request, response, static_file

from firmware.config.messaging import ADDRESS, MAX_ADDRESS

from .auth import requires
from .i18n import LANGUAGE_NAMES, gettext as _
from .media_types import media_type
from .replies import json_body, json_error
from .report_schedule import (FORMATS, MAX_KEEP, SCHEDULES, ScheduleError, VersionConflict, check, load, save)
from .reports import REPORTS
from .reports.web import readable
from .write_store import WriteStore

# The files hold every agent's and queue's figures: for those who read every report (webui/reports).
FILE_ROLES = ("admin", "supervisor")
SCHEDULE_ROLES = ("admin",)
FILE_COLUMNS = ("id", "schedule", "period", "date_from", "date_to", "filename", "format", "size", "sha256",
                "created_at")


def address_problem(address: str) -> str | None:
    """Why `address` cannot take mail, or None (the mail outbox's own check, webui/mail.py)."""
    if len(address) > MAX_ADDRESS or not ADDRESS.fullmatch(address):
        return _("expected an address like name@example.com")
    return None


def list_files(db: sqlite3.Connection) -> list[dict]:
    """Every report file kept, newest period first (daily before monthly on a tie)."""
    rows = db.execute(f"SELECT {', '.join(FILE_COLUMNS)} FROM report_files ORDER BY date_to DESC, schedule")
    return [dict(zip(FILE_COLUMNS, row)) for row in rows]


def install(app: Bottle, render: Callable[..., str], db_path: str | Path, reports_dir: str | Path,
            clock=time.time) -> None:
    """Add /reports/files, /reports/schedules and their API."""
    folder = Path(reports_dir)
    writes = WriteStore(db_path, clock, "report-schedule-store")
    app.install(writes)
    report_names = {name: report.title for name, report in REPORTS.items()}

    def store(name: str, values: dict, version: int | None, user: dict, audit) -> dict:
        if name not in SCHEDULES:
            raise HTTPError(404, _("There is no %(name)s schedule: use daily or monthly.") % {"name": name[:40]})
        settings = check(name, values, report_names, address_problem)
        saved = writes.write(save, name, settings, version, user["username"])
        audit.record("report_schedule.update", name, settings)
        return saved.as_dict()

    def download(file_id: str, db: sqlite3.Connection, audit):
        row = db.execute("SELECT filename, schedule, period FROM report_files WHERE id = ?", [file_id]).fetchone()
        if row is None or not (folder / row[0]).is_file():
            return None
        audit.record("report_file.download", row[0], {"schedule": row[1], "period": row[2]})
        return static_file(row[0], root=str(folder), download=row[0], mimetype=media_type(row[0]))

    @app.get("/reports/files")
    @requires(*FILE_ROLES)
    def files_page(db, user):
        schedules = load(db)
        return render("report_files", title=_("Report files"), active="reports", report_tabs=readable(user),
                      files=list_files(db), schedules=schedules, schedule_names=SCHEDULES, reports=REPORTS)

    @app.get("/reports/files/<file_id>")
    @requires(*FILE_ROLES)
    def file_download(file_id, db, audit):
        found = download(file_id, db, audit)
        if found is None:
            raise HTTPError(404, _("There is no report file %(id)s.") % {"id": file_id[:40]})
        return found

    def schedules_view(db: sqlite3.Connection, user: dict, problems: dict, form: dict, saved: str | None) -> str:
        return render("report_schedules", title=_("Report schedules"), active="reports", report_tabs=readable(user),
                      schedules=load(db), schedule_names=SCHEDULES, reports=REPORTS, formats=FORMATS,
                      languages=LANGUAGE_NAMES, max_keep=MAX_KEEP, problems=problems, form=form, saved=saved)

    @app.get("/reports/schedules")
    @requires(*SCHEDULE_ROLES)
    def schedules_page(db, user):
        return schedules_view(db, user, {}, {}, request.query.getunicode("saved"))

    @app.post("/reports/schedules/<name>")
    @requires(*SCHEDULE_ROLES)
    def schedule_form(name, user, db, audit):
        form = request.forms
        values = {"enabled": form.getunicode("enabled", default=""), "reports": form.getall("reports"),
                  "format": form.getunicode("format", default=""), "keep": form.getunicode("keep", default=""),
                  "language": form.getunicode("language", default=""),
                  "recipients": form.getunicode("recipients", default="")}
        version_text = form.getunicode("version", default="")
        try:
            store(name, values, int(version_text) if version_text.isdigit() else None, user, audit)
        except ScheduleError as exc:
            response.status = 400
            return schedules_view(db, user, {name: exc.problems}, {name: values}, None)
        except VersionConflict:
            response.status = 409
            return schedules_view(db, user, {name: {"version": _("Someone changed this schedule meanwhile: this is "
                                                                 "it now. Make your change again.")}}, {}, None)
        redirect(f"/reports/schedules?saved={name}")

    @app.get("/api/v1/report-files")
    @requires(*FILE_ROLES)
    def api_files(db):
        return {"files": [{**f, "url": f"/api/v1/report-files/{f['id']}"} for f in list_files(db)]}

    @app.get("/api/v1/report-files/<file_id>")
    @requires(*FILE_ROLES)
    def api_file(file_id, db, audit):
        found = download(file_id, db, audit)
        if found is None:
            raise json_error(404, _("no report file %(id)s") % {"id": file_id[:40]})
        return found

    @app.get("/api/v1/report-schedules")
    @requires(*SCHEDULE_ROLES)
    def api_schedules(db):
        return {"schedules": [s.as_dict() for s in load(db)], "reports": list(REPORTS), "formats": list(FORMATS),
                "max_keep": MAX_KEEP}

    @app.put("/api/v1/report-schedules/<name>")
    @requires(*SCHEDULE_ROLES)
    def api_schedule_put(name, user, audit):
        body = json_body()
        version = body.get("version")
        if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
            raise json_error(400, _("version must be the whole number the schedule was read with"))
        try:
            return store(name, body, version, user, audit)
        except HTTPError as exc:
            raise json_error(exc.status_code, str(exc.body)) from None
        except ScheduleError as exc:
            raise json_error(400, str(exc), exc.problems) from None
        except VersionConflict:
            raise json_error(409, _("the schedule changed since version %(version)s: read it again")
                             % {"version": version}) from None
