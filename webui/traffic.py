"""Observed traffic per half hour for staffing: offered calls and their handle time from the call records,
averaged over the days of a range (or one day of the week in it), then Erlang C per interval."""
from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
import time
from collections.abc import Mapping

from . import erlang
from .i18n import N_, gettext as _
from .records import local_midnight

# Half hours: the interval workforce planners staff by (and Erlang C's steady-state assumption holds
# better over 30 minutes than over an hour whose first and last quarters differ).
INTERVAL_S = 1800
INTERVALS = 86400 // INTERVAL_S
# A year of days is the longest range averaged: a pattern older than that says little about next week.
MAX_DAYS = 366
# Calendar days the box can have records for: after its software was written, before 2100.
FIRST_DAY, LAST_DAY = dt.date(2000, 1, 1), dt.date(2099, 12, 31)
MAX_TEXT = 64
# Targets when the form leaves them out: docs/requirements.md R15's 20 s, the industry's 80/20 and the
# 30% shrinkage planners use when they have not measured their own (Call Centre Helper's worked example).
DEFAULT_SERVICE_LEVEL = 0.80
DEFAULT_ANSWER_S = 20.0
DEFAULT_SHRINKAGE = 0.30
WEEKDAYS = (N_("Monday"), N_("Tuesday"), N_("Wednesday"), N_("Thursday"), N_("Friday"), N_("Saturday"),
            N_("Sunday"))
FIELD_LABELS = {"from": N_("From"), "to": N_("To"), "weekday": N_("Day of the week"), "queue": N_("Queue"),
                "service_level": N_("Service level"), "answer_s": N_("Answer within"),
                "shrinkage": N_("Shrinkage"), "calls_per_hour": N_("Calls per hour"), "aht_s": N_("AHT")}


class TrafficError(ValueError):
    """One or more parameters are invalid; `problems` maps each field to its message."""

    def __init__(self, problems: dict[str, str]):
        super().__init__(" ".join(problems.values()))
        self.problems = problems


@dataclasses.dataclass(frozen=True)
class Targets:
    """What the agents must achieve, and the shrinkage between people scheduled and agents answering."""

    service_level: float = DEFAULT_SERVICE_LEVEL   # fraction
    answer_s: float = DEFAULT_ANSWER_S
    shrinkage: float = DEFAULT_SHRINKAGE            # fraction

    def as_dict(self) -> dict:
        return {"service_level": self.service_level, "answer_s": self.answer_s, "shrinkage": self.shrinkage}


def _number(query: Mapping[str, str], name: str, default: float, problems: dict[str, str], *,
            percent: bool = False) -> float:
    """The parameter as a number (`default` when absent); a percentage (80 for 80%) as a fraction."""
    raw = (query.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        problems[name] = _("%(field)s must be a number, not %(given)r.") % {"field": _(FIELD_LABELS[name]),
                                                                          "given": raw[:20]}
        return default
    # Percentages are typed as people say them (80 for 80%); the model takes fractions.
    return value / 100 if percent else value


def targets_from_query(query: Mapping[str, str], problems: dict[str, str]) -> Targets:
    """The service-level target, answer time and shrinkage of a form or API query (percent as 0-100)."""
    found = Targets(_number(query, "service_level", DEFAULT_SERVICE_LEVEL, problems, percent=True),
                    _number(query, "answer_s", DEFAULT_ANSWER_S, problems),
                    _number(query, "shrinkage", DEFAULT_SHRINKAGE, problems, percent=True))
    if "service_level" not in problems and not 0 < found.service_level < 1:
        # Erlang C never reaches 100%: some caller always arrives when every agent is busy.
        problems["service_level"] = _("Service level must be more than 0 and less than 100 percent.")
    if "answer_s" not in problems and not 0 <= found.answer_s <= 3600:
        problems["answer_s"] = _("Answer within must be from 0 to 3600 seconds.")
    if "shrinkage" not in problems and not 0 <= found.shrinkage <= erlang.MAX_SHRINKAGE:
        problems["shrinkage"] = (_("Shrinkage must be from 0 to %(max)d percent.")
                                 % {"max": round(erlang.MAX_SHRINKAGE * 100)})
    return found


@dataclasses.dataclass(frozen=True)
class TrafficQuery:
    """Which calls the observed traffic is taken from: a range of local days, one weekday of it, a queue."""

    date_from: dt.date
    date_to: dt.date
    weekday: int | None = None    # ISO 8601: 1 Monday .. 7 Sunday
    queue: str = ""

    @classmethod
    def from_query(cls, query: Mapping[str, str], today: dt.date) -> tuple[TrafficQuery, Targets]:
        """Parse and check the parameters (default: the last four weeks to yesterday); raise TrafficError."""
        problems: dict[str, str] = {}
        dates: dict[str, dt.date] = {"to": today - dt.timedelta(days=1)}
        dates["from"] = dates["to"] - dt.timedelta(days=27)
        for name in ("from", "to"):
            raw = (query.get(name) or "").strip()
            if raw:
                try:
                    dates[name] = dt.date.fromisoformat(raw)
                except ValueError:
                    problems[name] = (_("%(field)s date must be a date like 2025-03-31, not %(given)r.")
                                      % {"field": _(FIELD_LABELS[name]), "given": raw[:20]})
        for name in ("from", "to"):
            if name not in problems and not FIRST_DAY <= dates[name] <= LAST_DAY:
                problems[name] = (_("%(field)s date must be from %(first)s to %(last)s.")
                                  % {"field": _(FIELD_LABELS[name]), "first": FIRST_DAY.isoformat(),
                                     "last": LAST_DAY.isoformat()})
        if not problems:
            if dates["from"] > dates["to"]:
                problems["to"] = _("To date is before the From date.")
            elif (dates["to"] - dates["from"]).days >= MAX_DAYS:
                problems["to"] = _("The range is longer than %(days)d days.") % {"days": MAX_DAYS}
        weekday = None
        raw = (query.get("weekday") or "").strip()
        if raw:
            if raw.isdigit() and 1 <= int(raw) <= 7:
                weekday = int(raw)
            else:
                problems["weekday"] = _("Day of the week must be 1 (Monday) to 7 (Sunday).")
        queue_name = (query.get("queue") or "").strip()
        if len(queue_name) > MAX_TEXT:
            problems["queue"] = _("Queue is longer than %(max)d characters.") % {"max": MAX_TEXT}
        targets = targets_from_query(query, problems)
        if problems:
            raise TrafficError(problems)
        return cls(dates["from"], dates["to"], weekday, queue_name), targets

    def days(self) -> int:
        """The days of the range the averages are taken over (those of the chosen weekday)."""
        total = (self.date_to - self.date_from).days + 1
        if self.weekday is None:
            return total
        first = (self.weekday - self.date_from.isoweekday()) % 7
        return 0 if first >= total else (total - 1 - first) // 7 + 1

    def params(self) -> dict[str, str]:
        out = {"from": self.date_from.isoformat(), "to": self.date_to.isoformat(),
               "weekday": str(self.weekday) if self.weekday else "", "queue": self.queue}
        return {k: v for k, v in out.items() if v}



# Offered: inbound calls that reached a queue (docs/kpi.md). Handle time: talk, which the engine counts
# from connection to hang-up so hold is inside it, plus the wrap-up the agent spent after the call: the
# agent's `wrapup` state that began as the call ended, until the agent's next state. The local half hour
# and weekday come from the call's time plus the UTC offset of its stretch of the range (`_stretches`):
# SQLite's 'localtime' asks the C library once a row, a third of the query's time over a month of calls.
OBSERVED_SQL = """
SELECT slot, count(*) AS offered, count(connected_at) AS handled,
       total(CASE WHEN connected_at IS NOT NULL THEN coalesce(talk, 0) + coalesce(wrapup, 0) END) AS handle_s
FROM (
    SELECT CAST((c.arrived_at + :offset) % 86400 AS INTEGER) / {interval} AS slot,
           c.connected_at, c.talk,
           (SELECT (SELECT min(n.at) FROM agent_states n WHERE n.agent_id = w.agent_id AND n.at > w.at) - w.at
              FROM agent_states w
             WHERE c.connected_at IS NOT NULL AND w.agent_id = c.agent_id AND w.state = 'wrapup'
               AND w.at >= c.connected_at AND w.at <= c.ended_at + 1
             ORDER BY w.at LIMIT 1) AS wrapup
      FROM calls c
     WHERE c.arrived_at >= :start AND c.arrived_at < :end AND c.direction = 'inbound' AND c.queued_at IS NOT NULL
           {where}
)
GROUP BY slot
"""


def _offset(epoch: float) -> int:
    return time.localtime(epoch).tm_gmtoff


def _stretches(start: float, end: float) -> list[tuple[float, float, int]]:
    """[start, end) cut where the local UTC offset changes (daylight saving), each with its offset."""
    out: list[tuple[float, float, int]] = []
    here = start
    while here < end:
        offset = _offset(here)
        # The offset changes at most twice a year: look a day at a time, then find the second by halving.
        step = here
        while step < end and _offset(step) == offset:
            step = min(step + 86400, end)
        if step < end or _offset(step - 1) != offset:
            low, high = here, step
            while high - low > 1:
                mid = (low + high) // 2
                low, high = (mid, high) if _offset(mid) == offset else (low, mid)
            step = high
        out.append((here, step, offset))
        here = step
    return out


def observed(db: sqlite3.Connection, q: TrafficQuery) -> list[dict]:
    """Per half hour of the day (48 rows, local time): offered calls and handle seconds, summed over the range."""
    where = ""
    args: dict[str, float | str] = {}
    if q.weekday is not None:
        # Day 0 of the epoch, 1 January 1970, was a Thursday: ISO weekday 4.
        where += " AND (CAST((c.arrived_at + :offset) / 86400 AS INTEGER) + 3) % 7 + 1 = :weekday"
        args["weekday"] = q.weekday
    if q.queue:
        where += " AND c.queue = :queue"
        args["queue"] = q.queue
    sql = OBSERVED_SQL.format(where=where, interval=INTERVAL_S)
    rows = [{"slot": slot, "offered": 0, "handled": 0, "handle_s": 0.0} for slot in range(INTERVALS)]
    range_end = local_midnight(q.date_to + dt.timedelta(days=1))
    for start, end, offset in _stretches(local_midnight(q.date_from), range_end):
        for slot, offered, handled, handle_s in db.execute(sql, {**args, "start": start, "end": end, "offset": offset}):
            row = rows[slot]
            row.update(offered=row["offered"] + offered, handled=row["handled"] + handled,
                       handle_s=row["handle_s"] + handle_s)
    return rows


def staffing(db: sqlite3.Connection, q: TrafficQuery, targets: Targets) -> dict:
    """The observed traffic per half hour averaged over the range's days, and what Erlang C makes of it."""
    rows = observed(db, q)
    days = q.days()
    handled = sum(r["handled"] for r in rows)
    # An interval whose calls were all abandoned has no handle time of its own: the range's is used.
    overall_aht = sum(r["handle_s"] for r in rows) / handled if handled else None
    intervals = []
    for r in rows:
        minutes = r["slot"] * INTERVAL_S // 60
        calls = r["offered"] / days if days else 0.0
        aht = r["handle_s"] / r["handled"] if r["handled"] else overall_aht
        row = {"start": f"{minutes // 60:02d}:{minutes % 60:02d}", "calls": round(calls, 2),
               "calls_per_hour": round(calls * 3600 / INTERVAL_S, 2), "handled": r["handled"],
               "aht_s": round(aht, 1) if aht is not None else None}
        if calls and aht:
            row.update(erlang.agents_needed(calls * 3600 / INTERVAL_S, aht, targets.service_level,
                                            targets.answer_s, targets.shrinkage).as_dict())
        else:
            row.update(erlang.agents_needed(0, 1, targets.service_level, targets.answer_s,
                                            targets.shrinkage).as_dict(), occupancy=None)
        intervals.append(row)
    busiest = max(intervals, key=lambda i: (i["agents"], i["calls"]))
    return {"from": q.date_from.isoformat(), "to": q.date_to.isoformat(), "weekday": q.weekday,
            "queue": q.queue or None, "days": days, "targets": targets.as_dict(),
            "offered": sum(r["offered"] for r in rows), "handled": handled,
            "aht_s": round(overall_aht, 1) if overall_aht is not None else None,
            "peak": {"start": busiest["start"], "agents": busiest["agents"], "scheduled": busiest["scheduled"]}
            if busiest["agents"] else None,
            "intervals": intervals}
