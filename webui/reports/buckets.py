"""Time buckets of a report (hour, day, week, month of the box's local calendar) and the call filters
every call report shares."""
from __future__ import annotations

import datetime as dt
import time

from ..i18n import N_
from .params import ReportParams
from .table import Column

# SQLite's own date functions on the local calendar: the bucket of an epoch column as text. A week is
# ISO 8601's, starting on Monday ('weekday 0' is the next Sunday or the day itself, 6 days before it
# the Monday).
_SQL = {
    "hour": "strftime('%Y-%m-%d %H:00', {col}, 'unixepoch', 'localtime')",
    "day": "date({col}, 'unixepoch', 'localtime')",
    "week": "date({col}, 'unixepoch', 'localtime', 'weekday 0', '-6 days')",
    "month": "strftime('%Y-%m-01', {col}, 'unixepoch', 'localtime')",
}
LABELS = {"hour": N_("Hour"), "day": N_("Day"), "week": N_("Week (from Monday)"), "month": N_("Month")}


def sql(group: str, column: str) -> str:
    return _SQL[group].format(col=column)


def column(group: str) -> Column:
    return Column("period", LABELS[group], "datetime" if group == "hour" else "date",
                  N_("The local hour, day, ISO week (from its Monday) or month the figures belong to."))


def value(group: str, text: str) -> dt.date | dt.datetime:
    if group == "hour":
        return dt.datetime.strptime(text, "%Y-%m-%d %H:%M")
    return dt.date.fromisoformat(text)


def _next(group: str, start: dt.datetime) -> dt.datetime:
    if group == "hour":
        return start + dt.timedelta(hours=1)
    if group == "day":
        return start + dt.timedelta(days=1)
    if group == "week":
        return start + dt.timedelta(days=7)
    return start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)


def seconds(group: str, bucket: dt.date | dt.datetime, p: ReportParams) -> float:
    """The bucket's length inside the report's range, in seconds of the local clock (a day of a change to
    or from summer time has 23 or 25 hours): the divisor of traffic in Erlangs."""
    start = bucket if isinstance(bucket, dt.datetime) else dt.datetime.combine(bucket, dt.time())
    begin = max(time.mktime(start.timetuple()), p.start)
    end = min(time.mktime(_next(group, start).timetuple()), p.end)
    return max(0.0, end - begin)


def call_filter(p: ReportParams, alias: str = "c") -> tuple[str, list]:
    """The WHERE clauses of an inbound-call report: arrival in the range, and the queue, agent, skill and
    category filters (a skill names the queues that ask for it; a ticket category, the calls tickets of
    it were made from)."""
    clauses = [f"{alias}.arrived_at >= ?", f"{alias}.arrived_at < ?", f"{alias}.direction = 'inbound'"]
    args: list = [p.start, p.end]
    if p.queue:
        clauses.append(f"{alias}.queue = ?")
        args.append(p.queue)
    if p.agent:
        clauses.append(f"{alias}.agent_id = ?")
        args.append(p.agent)
    if p.skill:
        clauses.append(f"{alias}.queue IN (SELECT id FROM queues WHERE skill = ?)")
        args.append(p.skill)
    if p.category:
        clauses.append(f"{alias}.id IN (SELECT call_id FROM tickets WHERE category = ? AND call_id IS NOT NULL)")
        args.append(p.category)
    return " AND ".join(clauses), args
