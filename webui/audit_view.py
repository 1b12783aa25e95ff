"""The audit log for admins: the /audit page and GET /api/v1/audit, filtered by user, action and date, paged."""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import sqlite3
from collections.abc import Mapping
from typing import Callable
from urllib.parse import urlencode

from bottle import Bottle, request, response

from .auth import requires
from .i18n import gettext as _
from .records import FilterError
from .replies import json_error
from .records import local_midnight

AUDIT_ROLES = ("admin",)
PER_PAGE = 50
MAX_PER_PAGE = 500
MAX_TEXT = 64
MAX_PAGE = 1_000_000


@dataclasses.dataclass(frozen=True)
class AuditFilter:
    """Which entries to show: `action` matches an action or a dotted family ("user" is user.*)."""

    user: str = ""
    action: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    page: int = 1
    per_page: int = PER_PAGE

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> AuditFilter:
        problems: dict[str, str] = {}
        values: dict = {}
        for name in ("user", "action"):
            values[name] = (query.get(name) or "").strip()
            if len(values[name]) > MAX_TEXT or not values[name].isprintable():
                problems[name] = _("At most %(n)d printable characters.") % {"n": MAX_TEXT}
        for name in ("from", "to"):
            raw = (query.get(name) or "").strip()
            values[f"date_{name}"] = None
            if raw:
                try:
                    values[f"date_{name}"] = dt.date.fromisoformat(raw)
                except ValueError:
                    problems[name] = _("A date like 2025-03-31, not %(raw)r.") % {"raw": raw[:20]}
        if values["date_from"] and values["date_to"] and values["date_from"] > values["date_to"]:
            problems["to"] = _("The To date is before the From date.")
        for name, high, default in (("page", MAX_PAGE, 1), ("per_page", MAX_PER_PAGE, PER_PAGE)):
            raw = (query.get(name) or "").strip()
            try:
                values[name] = int(raw) if raw else default
                if not 1 <= values[name] <= high:
                    raise ValueError
            except ValueError:
                problems[name] = _("A whole number from 1 to %(high)d.") % {"high": high}
        if problems:
            raise FilterError(problems)
        return cls(**values)

    def query_string(self, **changes) -> str:
        """This filter's non-default parameters (with `changes`), for the pager's links."""
        f = dataclasses.replace(self, **changes)
        params = {"user": f.user, "action": f.action,
                  "from": f.date_from.isoformat() if f.date_from else "",
                  "to": f.date_to.isoformat() if f.date_to else "",
                  "page": "" if f.page == 1 else str(f.page),
                  "per_page": "" if f.per_page == PER_PAGE else str(f.per_page)}
        return urlencode({k: v for k, v in params.items() if v})

    def where(self) -> tuple[str, list]:
        clauses: list[str] = []
        args: list[object] = []
        if self.user:
            clauses.append("username = ?")
            args.append(self.user)
        if self.action:
            # "user" and "user." both mean every user.* action; "user.create" means that one.
            family = self.action.rstrip(".")
            escaped = family.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            clauses.append("(action = ? OR action LIKE ? ESCAPE '\\')")
            args += [family, escaped + ".%"]
        if self.date_from:
            clauses.append("at >= ?")
            args.append(local_midnight(self.date_from))
        if self.date_to:
            clauses.append("at < ?")
            args.append(local_midnight(self.date_to + dt.timedelta(days=1)))
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", args



def list_entries(db: sqlite3.Connection, f: AuditFilter) -> tuple[list[dict], int]:
    """One page of entries matching `f`, newest first, and how many match in all."""
    where, args = f.where()
    total = db.execute(f"SELECT count(*) FROM audit_log{where}", args).fetchone()[0]
    cursor = db.execute(f"SELECT id, seq, at, username, address, action, target, detail FROM audit_log{where}"
                        " ORDER BY at DESC, seq DESC LIMIT ? OFFSET ?", [*args, f.per_page, (f.page - 1) * f.per_page])
    names = [d[0] for d in cursor.description]
    entries = [dict(zip(names, row)) for row in cursor.fetchall()]
    for entry in entries:
        try:
            entry["detail"] = json.loads(entry["detail"]) if entry["detail"] else {}
        except ValueError:
            entry["detail"] = {"raw": entry["detail"]}
    return entries, total


def choices(db: sqlite3.Connection) -> dict[str, list[str]]:
    """The users and actions the log holds, for the filter's menus."""
    return {"users": [r[0] for r in db.execute("SELECT DISTINCT username FROM audit_log WHERE username IS NOT NULL"
                                               " ORDER BY username")],
            "actions": [r[0] for r in db.execute("SELECT DISTINCT action FROM audit_log ORDER BY action")]}


def install(app: Bottle, render: Callable[..., str]) -> None:
    """Add the audit page and its API to the web app."""

    @app.get("/audit")
    @requires(*AUDIT_ROLES)
    def audit_page(db):
        query = request.query.decode()
        entries: list[dict] = []
        problems, total, f = {}, 0, AuditFilter()
        try:
            f = AuditFilter.from_query(query)
            entries, total = list_entries(db, f)
        except FilterError as exc:
            response.status, problems = 400, exc.problems
        return render("audit", title=_("Audit log"), active="audit", form=dict(query), problems=problems,
                      entries=entries, total=total, f=f, pages=max(1, math.ceil(total / f.per_page)),
                      choices=choices(db))

    @app.get("/api/v1/audit")
    @requires(*AUDIT_ROLES)
    def api_audit(db):
        try:
            f = AuditFilter.from_query(request.query.decode())
        except FilterError as exc:
            raise json_error(400, str(exc), exc.problems) from None
        entries, total = list_entries(db, f)
        return {"entries": entries, "total": total, "page": f.page, "per_page": f.per_page,
                "pages": max(1, math.ceil(total / f.per_page))}
