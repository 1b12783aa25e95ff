"""The reports' pages and API: `/reports/<name>` (form, tables, charts) and
`GET /api/v1/reports/<name>?from=&to=&group=&format=json|csv|xlsx` with the same figures."""
from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Callable
from urllib.parse import quote, urlencode

from bottle import Bottle, HTTPError, HTTPResponse, redirect, request, response

from firmware.store import StoreError, connect_readonly

from .. import fmt
from ..auth import requires, user_has
from ..i18n import gettext as _
from ..records import filter_choices
from ..replies import json_body, json_error
from ..site_file import SiteFile
from ..site_values import service_level
from . import settings
from .params import FORMATS, GROUPS, ParamsError, ReportParams, parse
from .registry import REPORTS, Report, UnknownReport, get
from .table import Table, json_value

READ_ROLES = ("admin", "supervisor", "agent")
# Supervisors read the complaint keywords; admins set them (audited: report.keywords).
KEYWORD_READERS = ("admin", "supervisor")
KEYWORD_WRITERS = ("admin",)
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ReportRefused(Exception):
    """The user may not read this report, or not for the agent asked."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def readable(user: dict) -> list[Report]:
    """The reports this user may open, in the registry's order."""
    return [r for r in REPORTS.values() if user_has(user, *r.roles) or (r.agents_own and user_has(user, "agent"))]


def scoped(report: Report, user: dict, p: ReportParams) -> ReportParams:
    """The params the report is built with: a manager's as asked; an agent's limited to their own agent id
    (docs/requirements.md R16: an agent sees only their own figures), whatever the request says."""
    if user_has(user, *report.roles):
        return p
    if not (report.agents_own and user_has(user, "agent")):
        raise ReportRefused(403, _("Your role may not read the %(report)s report.") % {"report": _(report.title)})
    if not user.get("agent_id"):
        raise ReportRefused(409, _("Your account is not linked to an agent id. Ask an administrator to link it."))
    if p.agent and p.agent != user["agent_id"]:
        raise ReportRefused(403, _("An agent may read only their own figures."))
    return dataclasses.replace(p, agent=user["agent_id"])


def as_json(report: Report, p: ReportParams, tables: list[Table]) -> dict:
    return {"report": report.name, "title": _(report.title), "params": p.query(format="json"),
            "tables": [table_json(t) for t in tables]}


def table_json(t: Table) -> dict:
    kinds = [c.kind for c in t.columns]
    body: dict[str, object] = {"name": t.name, "title": _(t.title), "note": _(t.note) if t.note else "",
            "columns": [{"key": c.key, "label": _(c.label), "kind": c.kind,
                         "definition": _(c.definition) if c.definition else ""} for c in t.columns],
            "rows": [[json_value(k, v) for k, v in zip(kinds, row)] for row in t.rows],
            "charts": [{"kind": c.kind, "title": _(c.title), "category": c.category, "values": list(c.values)}
                       for c in t.charts]}
    if t.total is not None:
        body["total"] = t.total
    return body


def cell_text(kind: str, value: object) -> str:
    """A cell on the page, in the request's language."""
    if value is None:
        return fmt.NONE
    if kind == "date" and isinstance(value, dt.date):
        return value.isoformat()
    if kind == "datetime" and isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if kind == "duration":
        return fmt.duration(float(value))  # type: ignore[arg-type]
    if kind == "percent":
        return fmt.number(round(float(value) * 100, 1)) + "%"  # type: ignore[arg-type]
    if kind == "number":
        return fmt.number(round(float(value), 2))  # type: ignore[arg-type]
    if kind == "int":
        return fmt.number(value)  # type: ignore[arg-type]
    return str(value)


def install(app: Bottle, render: Callable[..., str], db_path: str | Path, site: SiteFile, clock=time.time) -> None:
    """Add the report pages and /api/v1/reports to the web app."""

    def open_db() -> sqlite3.Connection:
        # Its own read-only connection (a WAL snapshot per statement batch, never blocking the engine's
        # writer): an export streams its rows after the route has returned, so it outlives the request's.
        try:
            return connect_readonly(db_path)
        except StoreError as exc:
            raise HTTPError(503, _("The records database cannot be read: %(reason)s") % {"reason": exc}) from None

    def build(report: Report, p: ReportParams, db: sqlite3.Connection) -> list[Table]:
        # One read transaction: every table of the report sees the same snapshot of the records.
        db.execute("BEGIN")
        return report.build(db, p)

    @app.get("/reports")
    @requires(*READ_ROLES)
    def reports_home(user):
        found = readable(user)
        if not found:
            raise HTTPError(403, _("Your role may not read any report."))
        redirect(f"/reports/{found[0].name}")

    keyword_store = settings.ReportSettings(db_path)

    def change_keywords(audit, given: object) -> list[str]:
        words = settings.check(given)
        before = keyword_store.set_keywords(words)
        audit.record("report.keywords", settings.KEY, {"before": before, "after": words})
        return words

    @app.get("/reports/definitions")
    @requires(*READ_ROLES)
    def definitions_page(user, db):
        # Every figure of every report this user reads, with how it is counted (docs/kpi.md); the tables
        # are built over an empty range, so only their columns are read.
        p = parse({"from": "2000-01-01", "to": "2000-01-01"}, clock(), service_level(site))
        db.execute("BEGIN")
        built = [(r, r.build(db, p)) for r in readable(user)]
        db.execute("COMMIT")
        return render("report_definitions", title=_("Report definitions"), active="reports", built=built,
                      reports=readable(user))

    @app.get("/reports/keywords")
    @requires(*KEYWORD_READERS)
    def keywords_page(user, db):
        return render("report_keywords", title=_("Complaint keywords"), active="reports",
                      keywords=settings.keywords(db), problems={}, saved=request.query.get("saved") == "1",
                      can_edit=user_has(user, *KEYWORD_WRITERS), reports=readable(user))

    @app.post("/reports/keywords")
    @requires(*KEYWORD_WRITERS)
    def keywords_submit(user, audit):
        text = request.forms.getunicode("keywords", default="")
        try:
            change_keywords(audit, text.splitlines())
        except settings.SettingsError as exc:
            response.status = 400
            return render("report_keywords", title=_("Complaint keywords"), active="reports",
                          keywords=text.splitlines(), problems=exc.problems, saved=False, can_edit=True,
                          reports=readable(user))
        redirect("/reports/keywords?saved=1")

    @app.get("/api/v1/reports/keywords")
    @requires(*KEYWORD_READERS)
    def api_keywords(db):
        return {"keywords": settings.keywords(db)}

    @app.put("/api/v1/reports/keywords")
    @requires(*KEYWORD_WRITERS)
    def api_keywords_put(audit):
        try:
            return {"keywords": change_keywords(audit, json_body().get("keywords"))}
        except settings.SettingsError as exc:
            raise json_error(400, str(exc), exc.problems) from None

    @app.get("/reports/<name>")
    @requires(*READ_ROLES)
    def report_page(name, user, db):
        try:
            report = get(name)
        except UnknownReport:
            raise HTTPError(404, _("There is no report %(name)s.") % {"name": name}) from None
        query = request.query.decode()
        problems: dict[str, str] = {}
        tables: list[Table] = []
        try:
            p = parse({**query, "format": "json"}, clock(), service_level(site))
        except ParamsError as exc:
            response.status, problems = 400, exc.problems
            p = parse({}, clock(), service_level(site))
        try:
            p = scoped(report, user, p)
        except ReportRefused as exc:
            raise HTTPError(exc.status, str(exc)) from None
        if not problems:
            db.execute("BEGIN")
            tables = [Table(t.name, t.title, t.columns, list(t.rows), t.charts, t.total, t.note)
                      for t in report.build(db, p)]
            db.execute("COMMIT")
        api = f"/api/v1/reports/{name}?" + urlencode(p.query())
        return render("report", title=_(report.title), active="reports", report=report, reports=readable(user),
                      p=p, form=dict(query), problems=problems, tables=tables, groups=GROUPS, api=api,
                      manager=user_has(user, *report.roles), choices=_choices(db), cell_text=cell_text,
                      urlencode=urlencode, keywords=settings.keywords(db) if name == "complaints" else [],
                      export_url=lambda **changes: f"/api/v1/reports/{name}?" + urlencode(p.query(**changes)),
                      scripts=["api.js", "vendor/chart.js-4.5.1/chart.umd.min.js", "reports.js"])

    @app.get("/api/v1/reports")
    @requires(*READ_ROLES)
    def api_reports(user):
        return {"reports": [{"name": r.name, "title": _(r.title), "paged": r.paged} for r in readable(user)],
                "groups": list(GROUPS), "formats": list(FORMATS)}

    @app.get("/api/v1/reports/<name>")
    @requires(*READ_ROLES)
    def api_report(name, user):
        try:
            report = get(name)
        except UnknownReport:
            raise json_error(404, _("no report %(name)s: use one of %(names)s")
                             % {"name": name, "names": ", ".join(REPORTS)}) from None
        try:
            p = scoped(report, user, parse(request.query.decode(), clock(), service_level(site)))
        except ParamsError as exc:
            raise json_error(400, str(exc), exc.problems) from None
        except ReportRefused as exc:
            raise json_error(exc.status, str(exc)) from None
        db = open_db()
        streaming = False
        try:
            tables = build(report, p, db)
            if p.format == "json":
                return as_json(report, p, tables)
            # The exports (and XlsxWriter under them) load with the first export, not at the start.
            from . import export
            if p.format == "xlsx":
                body: Iterator[bytes] = export.file_chunks(export.xlsx_file(_(report.title), tables))
                return _download(body, XLSX_TYPE, _file_name(report, p, "xlsx"))
            table = _one_table(tables, p.table)
            chunks = export.csv_chunks(table)
            # The rows are read as they are sent: the stream closes the connection.
            streaming = True
            return _download(_closing(chunks, db), "text/csv; charset=utf-8", _file_name(report, p, "csv", table))
        finally:
            if not streaming:
                db.close()


def _one_table(tables: list[Table], name: str) -> Table:
    if not name:
        return tables[0]
    for t in tables:
        if t.name == name:
            return t
    raise json_error(400, _("table must be one of: %(names)s") % {"names": ", ".join(t.name for t in tables)},
                     {"table": _("no table %(name)s in this report") % {"name": name[:40]}})


def _closing(chunks: Iterator[bytes], db: sqlite3.Connection) -> Iterator[bytes]:
    try:
        yield from chunks
    finally:
        db.close()


def _file_name(report: Report, p: ReportParams, ext: str, table: Table | None = None) -> str:
    part = f"-{table.name}" if table is not None and table.name != report.name else ""
    return f"branchline-{report.name}{part}-{p.date_from.isoformat()}-{p.date_to.isoformat()}.{ext}"


def _download(body: Iterator[bytes], content_type: str, name: str) -> HTTPResponse:
    # RFC 6266: the plain name for every browser, and filename* for the UTF-8 one.
    return HTTPResponse(body, 200, {"Content-Type": content_type,
                                    "Content-Disposition": f"attachment; filename=\"{name}\"; "
                                                           f"filename*=UTF-8''{quote(name)}"})


def _choices(db: sqlite3.Connection) -> dict[str, list[tuple[str, str]]]:
    """(value, label) options of the filters, from the records."""
    choices = filter_choices(db)
    choices["skills"] = [(r[0], r[0]) for r in db.execute(
        "SELECT DISTINCT skill FROM queues WHERE skill IS NOT NULL AND skill != '' ORDER BY skill")]
    from .tickets import names as ticket_names   # the tickets report's module, loaded with a report page

    categories, _departments = ticket_names(db)
    choices["categories"] = [(r[0], categories.get(r[0], r[0])) for r in db.execute(
        "SELECT DISTINCT category FROM tickets ORDER BY category")]
    return choices
