"""The calls report: volume, outcomes, service level, speed of answer, waits and traffic (docs/kpi.md)."""
from __future__ import annotations

import sqlite3

from ..i18n import N_, gettext as _
from . import buckets
from .params import ReportParams
from .table import Chart, Column, Table

# The bound on a call's length the event queries take: a day (the box's longest waits and talks are minutes).
CALL_MAX_S = 86400.0
# The one figure of a period's cells merged by its maximum (the longest wait); the others add up.
LONGEST = 6

PERIOD_COLUMNS = (
    Column("offered", N_("Offered"), "int", N_("Inbound calls that entered a queue, by the time they arrived.")),
    Column("answered", N_("Answered"), "int", N_("Offered calls an agent answered.")),
    Column("abandoned", N_("Abandoned"), "int",
           N_("Offered calls whose caller hung up while waiting, short abandons included.")),
    Column("short_abandoned", N_("Short abandons"), "int",
           N_("Abandoned within the short-abandon threshold of entering the queue: left out of service level "
              "and abandon rate.")),
    Column("timeouts", N_("Timeouts"), "int", N_("Callers taken out of a queue at its longest wait.")),
    Column("overflows", N_("Overflows"), "int",
           N_("Callers sent elsewhere because the queue was full or closed, or by its overflow settings.")),
    Column("voicemails", N_("Voicemails"), "int", N_("Calls that ended with a voicemail message.")),
    Column("callbacks", N_("Callbacks"), "int", N_("Calls that ended with a callback request.")),
    Column("service_level", N_("Service level"), "percent",
           N_("Answered within the service-level target (the site's, 20 s unless set otherwise on the Reports "
              "configuration page) of entering the queue / (offered - short abandons).")),
    Column("abandon_rate", N_("Abandon rate"), "percent",
           N_("(Abandoned - short abandons) / (offered - short abandons).")),
    Column("asa", N_("ASA"), "duration", N_("Average speed of answer: mean queue wait of answered calls.")),
    Column("longest_wait", N_("Longest wait"), "duration",
           N_("The longest time a caller waited in a queue, answered or not.")),
    Column("erlangs", N_("Traffic (Erlangs)"), "number",
           N_("Agents' talk and hold time / the period's length: the mean number of calls in progress.")),
)
OUTCOME_COLUMNS = (Column("outcome", N_("Outcome"), "text", N_("How an offered call ended.")),
                   Column("calls", N_("Calls"), "int", N_("Offered calls that ended so.")))
HOUR_COLUMNS = (
    Column("hour", N_("Hour of day"), "int", N_("The local hour the calls arrived in (0-23).")),
    Column("offered", N_("Offered per day"), "number", N_("Offered calls in this hour / days in the range.")),
    Column("erlangs", N_("Traffic (Erlangs)"), "number",
           N_("Talk and hold time of the calls arriving in this hour / (days x 3600 s).")),
    Column("busy_hour", N_("Busy hour"), "text",
           N_("The hour of the day with the most traffic over the range (ITU-T E.500 time-consistent busy hour).")),
)
OUTCOMES = (("answered", N_("Answered")), ("short_abandoned", N_("Short abandons")),
            ("abandoned_long", N_("Abandoned")), ("voicemails", N_("Voicemails")), ("callbacks", N_("Callbacks")),
            ("other", N_("Other (timeouts, overflows, IVR)")))


def _ratio(num: float, den: float) -> float | None:
    return num / den if den > 0 else None


def report(db: sqlite3.Connection, p: ReportParams) -> list[Table]:
    where, args = buckets.call_filter(p)
    bucket = buckets.sql(p.group, "c.arrived_at")
    # One pass over the range's calls, by period and local hour of day: the periods' figures and the hours'
    # (busy hour) are both sums of these cells.
    cells = db.execute(f"""
        SELECT {bucket} AS b, CAST(strftime('%H', c.arrived_at, 'unixepoch', 'localtime') AS INTEGER) AS h,
               count(c.queued_at),
               sum(c.queued_at IS NOT NULL AND c.connected_at IS NOT NULL),
               sum(c.disposition IS 'abandoned'),
               sum(c.disposition IS 'abandoned' AND ifnull(c.wait, 1e9) <= ?),
               sum(c.queued_at IS NOT NULL AND c.connected_at IS NOT NULL AND ifnull(c.wait, 1e9) <= ?),
               total(CASE WHEN c.queued_at IS NOT NULL AND c.connected_at IS NOT NULL THEN c.wait END),
               max(CASE WHEN c.queued_at IS NOT NULL THEN c.wait END),
               sum(c.disposition IS 'voicemail'), sum(c.disposition IS 'callback'),
               total(c.talk)
        FROM calls c WHERE {where} GROUP BY b, h""", [p.short_abandon, p.service_level_s, *args]).fetchall()
    periods: dict[str, list] = {}
    hours: dict[int, list[float]] = {}
    for b, h, *figures in cells:
        cell = periods.setdefault(b, [0, 0, 0, 0, 0, 0.0, None, 0, 0, 0.0])
        for i, v in enumerate(figures):
            if i == LONGEST:
                cell[i] = max((x for x in (cell[i], v) if x is not None), default=None)
            else:
                cell[i] += v
        hour = hours.setdefault(h, [0, 0.0])
        hour[0] += figures[0]
        hour[1] += figures[9]
    exits = _exits(db, p, bucket, where, args)
    table_rows, totals = [], dict.fromkeys(("offered", "answered", "abandoned", "short", "voicemails",
                                            "callbacks", "in_sl"), 0)
    for b in sorted(periods):
        offered, answered, abandoned, short, in_sl, wait, longest, vms, cbs, talk = periods[b]
        when = buckets.value(p.group, b)
        timeouts, overflows = exits.get(b, (0, 0))
        counted = offered - short
        table_rows.append((when, offered, answered, abandoned, short, timeouts, overflows, vms, cbs,
                           _ratio(in_sl, counted), _ratio(abandoned - short, counted), _ratio(wait, answered),
                           longest, _ratio(talk, buckets.seconds(p.group, when, p)) or 0.0))
        for key, v in (("offered", offered), ("answered", answered), ("abandoned", abandoned), ("short", short),
                       ("voicemails", vms), ("callbacks", cbs), ("in_sl", in_sl)):
            totals[key] += v
    per_period = Table("calls", N_("Calls by period"), (buckets.column(p.group), *PERIOD_COLUMNS), table_rows,
                       charts=(Chart("bar", N_("Offered, answered and abandoned"), "period",
                                     ("offered", "answered", "abandoned")),
                               Chart("line", N_("Service level"), "period", ("service_level",))))
    t = totals
    counts = {"answered": t["answered"], "short_abandoned": t["short"], "abandoned_long": t["abandoned"] - t["short"],
              "voicemails": t["voicemails"], "callbacks": t["callbacks"]}
    counts["other"] = max(0, t["offered"] - sum(counts.values()))
    outcomes = Table("outcomes", N_("Outcomes of offered calls"), OUTCOME_COLUMNS,
                     [(_(label), counts[key]) for key, label in OUTCOMES] if t["offered"] else [],
                     charts=(Chart("pie", N_("Outcomes of offered calls"), "outcome", ("calls",)),))
    return [per_period, outcomes, _hours(p, hours)]


def _exits(db: sqlite3.Connection, p: ReportParams, bucket: str, where: str, args: list) -> dict[str, tuple[int, int]]:
    # Timeouts and overflows are events, not dispositions: a timed-out caller may still leave a voicemail.
    # The few events of these kinds are read by kind and time (index idx_call_events_kind_at: CROSS JOIN
    # keeps SQLite from walking every event of the month's calls instead); a call's events follow its
    # arrival and a call lasts less than a day (queues' longest wait is minutes), which bounds them.
    rows = db.execute(f"""
        SELECT {bucket} AS b, sum(e.kind = 'queue:timeout'), sum(e.kind != 'queue:timeout')
        FROM call_events e CROSS JOIN calls c ON c.id = e.call_id
        WHERE e.kind IN ('queue:timeout', 'queue:overflow', 'queue:full', 'queue:closed')
          AND e.at >= ? AND e.at < ? AND {where}
        GROUP BY b""", [p.start, p.end + CALL_MAX_S, *args]).fetchall()
    return {b: (timeouts, overflows) for b, timeouts, overflows in rows}


def _hours(p: ReportParams, hours: dict[int, list[float]]) -> Table:
    days = (p.date_to - p.date_from).days + 1
    figures = [(h, offered / days, talk / (days * 3600)) for h, (offered, talk) in sorted(hours.items())]
    busiest = max(figures, key=lambda f: f[2])[0] if figures and max(f[2] for f in figures) > 0 else None
    return Table("hours", N_("Traffic by hour of day"), HOUR_COLUMNS,
                 [(h, offered, erl, "*" if h == busiest else "") for h, offered, erl in figures],
                 charts=(Chart("bar", N_("Traffic by hour of day"), "hour", ("erlangs",)),))
