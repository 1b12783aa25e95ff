"""The tickets report: by category, department (dispatch), state and period; overdue, closed, satisfaction,
repeat complaints, first-contact resolution and time to resolve (docs/kpi.md)."""
from __future__ import annotations

import functools
import sqlite3
from pathlib import Path

from ..i18n import N_, language
from ..ticket_config import FINISHED, TicketConfig, TicketConfigError, load_ticket_config, ticket_config_path
from ..ticket_store import state_labels
from . import buckets
from .params import ReportParams
from .table import Chart, Column, Table

FIGURES = (
    Column("created", N_("Created"), "int", N_("Tickets created in the range.")),
    Column("resolved", N_("Resolved"), "int", N_("Of them, resolved (resolved, confirmed or closed) by now.")),
    Column("closed", N_("Closed"), "int", N_("Of them, closed by now.")),
    Column("open", N_("Open"), "int", N_("Of them, not yet resolved or cancelled.")),
    Column("overdue", N_("Overdue"), "int", N_("Of them, open past their SLA due time now.")),
    Column("repeats", N_("Repeat complaints"), "int",
           N_("Of them, repeating an earlier ticket of the same customer or number and category in the window.")),
    Column("fcr", N_("FCR"), "percent",
           N_("Resolved during the call they came from / tickets judged either way (first-contact resolution).")),
    Column("time_to_resolve", N_("Mean time to resolve"), "duration",
           N_("Mean of resolution time - creation time over the resolved ones, on the clock (not business hours).")),
    Column("satisfaction", N_("Satisfaction"), "number", N_("Mean score (1-5) customers gave at the callback.")),
)
DISPATCH = (
    Column("dispatched", N_("Dispatched"), "int", N_("Moves to the department in the range (a ticket's history).")),
    Column("backlog", N_("Backlog now"), "int", N_("The department's tickets not yet resolved or cancelled, now.")),
    Column("overdue_now", N_("Overdue now"), "int", N_("The department's open tickets past their due time, now.")),
)
_SUMS = """count(*), sum(t.state IN ('resolved', 'confirmed', 'closed')), sum(t.state = 'closed'),
           sum(t.state NOT IN ({done})), sum(t.state NOT IN ({done}) AND t.due_at < ?),
           sum(t.repeat_of IS NOT NULL), sum(t.first_contact_resolution = 1), count(t.first_contact_resolution),
           avg(CASE WHEN t.resolved_at IS NOT NULL THEN t.resolved_at - t.created_at END), avg(t.satisfaction)"""


@functools.lru_cache(maxsize=4)
def _config(path: Path, mtime: float) -> TicketConfig | None:
    try:
        return load_ticket_config(path)
    except TicketConfigError:
        return None   # the tickets pages say what is wrong; a report shows the keys


def ticket_config(db: sqlite3.Connection) -> TicketConfig | None:
    """The box's ticket settings (names of categories and departments), found beside the database."""
    main = next((row[2] for row in db.execute("PRAGMA database_list") if row[1] == "main"), "")
    if not main:
        return None
    path = ticket_config_path(Path(main).parent / "config")
    return _config(path, path.stat().st_mtime)


def names(db: sqlite3.Connection) -> tuple[dict[str, str], dict[str, str]]:
    """Category and department keys -> names in the request's language."""
    config, lang = ticket_config(db), language()
    if config is None:
        return {}, {}
    return ({k: c.name(lang) for k, c in config.categories.items()},
            {k: d.name(lang) for k, d in config.departments.items()})


def ticket_filter(p: ReportParams, alias: str = "t") -> tuple[str, list]:
    clauses = [f"{alias}.created_at >= ?", f"{alias}.created_at < ?"]
    args: list = [p.start, p.end]
    for column, value in (("category", p.category), ("agent_id", p.agent)):
        if value:
            clauses.append(f"{alias}.{column} = ?")
            args.append(value)
    return " AND ".join(clauses), args


def _figures(row: tuple) -> tuple:
    created, resolved, closed, still_open, overdue, repeats, fcr_yes, fcr_judged, ttr, satisfaction = row
    return (created, resolved or 0, closed or 0, still_open or 0, overdue or 0, repeats or 0,
            fcr_yes / fcr_judged if fcr_judged else None, ttr, satisfaction)


def report(db: sqlite3.Connection, p: ReportParams) -> list[Table]:
    where, args = ticket_filter(p)
    sums = _SUMS.format(done=", ".join(f"'{s}'" for s in FINISHED))
    now = p.now or p.end
    categories, departments = names(db)
    states = state_labels()

    def grouped(key: str) -> list[tuple]:
        return db.execute(f"SELECT t.{key}, {sums} FROM tickets t WHERE {where} GROUP BY t.{key}"
                          " ORDER BY count(*) DESC", [now, *args]).fetchall()

    by_category = [(categories.get(r[0], r[0]), *_figures(r[1:])) for r in grouped("category")]
    by_state = [(states.get(r[0], r[0]), r[1]) for r in db.execute(
        f"SELECT t.state, count(*) FROM tickets t WHERE {where} GROUP BY t.state ORDER BY count(*) DESC", args)]
    bucket = buckets.sql(p.group, "t.created_at")
    by_period = [(buckets.value(p.group, r[0]), *_figures(r[1:])) for r in db.execute(
        f"SELECT {bucket} AS b, {sums} FROM tickets t WHERE {where} GROUP BY b ORDER BY b", [now, *args])]
    return [
        Table("categories", N_("Tickets by category"),
              (Column("category", N_("Category"), "text", N_("The ticket's category.")), *FIGURES), by_category,
              charts=(Chart("pie", N_("Tickets by category"), "category", ("created",)),
                      Chart("bar", N_("Created, resolved and overdue by category"), "category",
                            ("created", "resolved", "overdue")))),
        _dispatch(db, p, sums, where, args, now, departments),
        Table("states", N_("Tickets by state"),
              (Column("state", N_("State"), "text", N_("The ticket's state now.")),
               Column("tickets", N_("Tickets"), "int", N_("Tickets created in the range that are in this state now."))),
              by_state, charts=(Chart("pie", N_("Tickets by state"), "state", ("tickets",)),)),
        Table("periods", N_("Tickets by period"), (buckets.column(p.group), *FIGURES), by_period,
              charts=(Chart("bar", N_("Tickets created and resolved"), "period", ("created", "resolved")),)),
    ]


def _dispatch(db: sqlite3.Connection, p: ReportParams, sums: str, where: str, args: list, now: float,
              departments: dict[str, str]) -> Table:
    """Per department: the created tickets' figures, the moves to it in the range, its backlog now."""
    done = ", ".join(f"'{s}'" for s in FINISHED)
    figures = {r[0]: _figures(r[1:]) for r in db.execute(
        f"SELECT t.department, {sums} FROM tickets t WHERE {where} GROUP BY t.department", [now, *args])}
    extra, extra_args = "", []
    if p.category:
        extra, extra_args = " AND t.category = ?", [p.category]
    dispatched = dict(db.execute(f"""
        SELECT t.department, count(*) FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id
        WHERE e.to_state = 'dispatched' AND e.at >= ? AND e.at < ?{extra} GROUP BY t.department""",
                                 [p.start, p.end, *extra_args]).fetchall())
    backlog = {r[0]: r[1:] for r in db.execute(f"""
        SELECT t.department, count(*), sum(t.due_at < ?) FROM tickets t
        WHERE t.state NOT IN ({done}){extra} GROUP BY t.department""", [now, *extra_args])}
    # The departments with work in the range; their backlog is today's, shown beside it.
    keys = sorted(set(figures) | set(dispatched), key=lambda k: (k is None, k or ""))
    empty = (0, 0, 0, 0, 0, 0, None, None, None)
    rows = [(departments.get(k, k) if k else "—", dispatched.get(k, 0), backlog.get(k, (0, 0))[0],
             backlog.get(k, (0, 0))[1] or 0, *figures.get(k, empty)) for k in keys]
    return Table("departments", N_("Dispatch by department"),
                 (Column("department", N_("Department"), "text", N_("The department the ticket is with.")),
                  *DISPATCH, *FIGURES), rows,
                 charts=(Chart("bar", N_("Dispatched and backlog by department"), "department",
                               ("dispatched", "backlog", "overdue_now")),))
