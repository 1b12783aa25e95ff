"""A report request as the page and the API take it from the URL: the range, the grouping, the filters."""
from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Mapping

from firmware.config.site_keys import REPORTS

from ..i18n import N_, gettext as _

GROUPS = {"hour": N_("Hour"), "day": N_("Day"), "week": N_("Week"), "month": N_("Month")}
FORMATS = ("json", "csv", "xlsx")
# Two years: this year against the last is the widest comparison a manager asks of a branch; a wider
# range is a typing mistake (a year 20205), answered with a 400 rather than minutes of work.
MAX_RANGE_DAYS = 731
# The box's records start after this; an earlier date is a mistake, not history.
EARLIEST = dt.date(2000, 1, 1)
LATEST = dt.date(2099, 12, 31)
# Short abandon: a caller who hangs up within this many seconds of entering the queue dialled wrongly
# or changed their mind; the industry leaves them out of service level and abandon rate (docs/kpi.md,
# callcentrehelper's formula 5). The site's threshold and service-level target (site.toml [reports]) are
# a report's defaults; a request may ask for another threshold, 0 counting every abandon.
SERVICE_LEVEL_S, _LO, _HI = REPORTS["service_level_s"]
SHORT_ABANDON_S, _LO, MAX_SHORT_ABANDON_S = REPORTS["short_abandon_s"]
PER_PAGE = 50
MAX_PER_PAGE = 500
MAX_TEXT = 64
FIELDS = {"from": N_("From"), "to": N_("To"), "group": N_("Group by"), "queue": N_("Queue"), "agent": N_("Agent"),
          "skill": N_("Skill"), "category": N_("Category"), "short_abandon": N_("Short abandon (s)"),
          "format": N_("Format"), "table": N_("Table"), "page": N_("Page"), "per_page": N_("Per page")}


class ParamsError(ValueError):
    """One or more parameters are invalid; `problems` maps each to its message."""

    def __init__(self, problems: dict[str, str]):
        super().__init__(" ".join(problems.values()))
        self.problems = problems


@dataclasses.dataclass(frozen=True)
class ReportParams:
    date_from: dt.date
    date_to: dt.date           # inclusive: the last local day in the report
    group: str = "day"
    queue: str = ""
    agent: str = ""
    skill: str = ""
    category: str = ""
    short_abandon: int = SHORT_ABANDON_S
    service_level_s: int = SERVICE_LEVEL_S    # the site's target: not a request's to change
    format: str = "json"
    table: str = ""            # the table a CSV holds (a CSV has one); empty: the report's first
    page: int = 1
    per_page: int = PER_PAGE
    now: float = 0.0           # the request's time: a state still running is counted up to it

    @property
    def start(self) -> float:
        """The range's first instant, local midnight of `date_from`, as the records' epoch seconds."""
        return local_midnight(self.date_from)

    @property
    def end(self) -> float:
        """The instant after the range: local midnight after `date_to`."""
        return local_midnight(self.date_to + dt.timedelta(days=1))

    def query(self, **changes) -> dict[str, str]:
        """This request's parameters (with `changes`) for links and the export buttons."""
        p = dataclasses.replace(self, **changes)
        out = {"from": p.date_from.isoformat(), "to": p.date_to.isoformat(), "group": p.group, "queue": p.queue,
               "agent": p.agent, "skill": p.skill, "category": p.category,
               "short_abandon": str(p.short_abandon), "format": p.format, "table": p.table,
               "page": "" if p.page == 1 else str(p.page),
               "per_page": "" if p.per_page == PER_PAGE else str(p.per_page)}
        return {k: v for k, v in out.items() if v and not (k == "format" and v == "json")}


def local_midnight(day: dt.date) -> float:
    # Report days are the box's local calendar days, as the staff read them (webui/records.py alike).
    return time.mktime(day.timetuple())


def parse(query: Mapping[str, str], now: float, site: Mapping[str, int] | None = None) -> ReportParams:
    """Check every parameter; raise ParamsError naming each bad one. No range: the last 7 days to today.
    `site`: the site's [reports] values (webui/site_values.py service_level), the defaults."""
    site = site or {}
    short_default = site.get("short_abandon_s", SHORT_ABANDON_S)
    today = dt.date.fromtimestamp(now)
    problems: dict[str, str] = {}
    values: dict = {}
    for name, default in (("from", today - dt.timedelta(days=6)), ("to", today)):
        raw = (query.get(name) or "").strip()
        values[name] = default
        if raw:
            try:
                values[name] = dt.date.fromisoformat(raw)
            except ValueError:
                problems[name] = (_("%(field)s must be a date like 2025-03-31, not %(given)r.")
                                  % {"field": _(FIELDS[name]), "given": raw[:20]})
                continue
            if not EARLIEST <= values[name] <= LATEST:
                problems[name] = (_("%(field)s must be a date from %(first)s to %(last)s.")
                                  % {"field": _(FIELDS[name]), "first": EARLIEST.isoformat(),
                                     "last": LATEST.isoformat()})
    if not problems:
        if values["from"] > values["to"]:
            problems["to"] = _("To date is before the From date.")
        elif (values["to"] - values["from"]).days + 1 > MAX_RANGE_DAYS:
            problems["to"] = (_("A report covers at most %(days)d days; this range has %(given)d.")
                              % {"days": MAX_RANGE_DAYS, "given": (values["to"] - values["from"]).days + 1})
    for name, choices in (("group", tuple(GROUPS)), ("format", FORMATS)):
        raw = (query.get(name) or "").strip()
        values[name] = raw or choices[0 if name == "format" else 1]
        if values[name] not in choices:
            problems[name] = (_("%(field)s must be one of: %(values)s.")
                              % {"field": _(FIELDS[name]), "values": ", ".join(choices)})
    for name in ("queue", "agent", "skill", "category", "table"):
        values[name] = (query.get(name) or "").strip()
        if len(values[name]) > MAX_TEXT:
            problems[name] = (_("%(field)s filter is longer than %(max)d characters.")
                              % {"field": _(FIELDS[name]), "max": MAX_TEXT})
    for name, low, high, whole in (("short_abandon", 0, MAX_SHORT_ABANDON_S, short_default),
                                   ("page", 1, 1_000_000, 1), ("per_page", 1, MAX_PER_PAGE, PER_PAGE)):
        raw = (query.get(name) or "").strip()
        try:
            values[name] = int(raw) if raw else whole
            if not low <= values[name] <= high:
                raise ValueError
        except ValueError:
            problems[name] = (_("%(field)s must be a whole number from %(low)d to %(high)d.")
                              % {"field": _(FIELDS[name]), "low": low, "high": high})
    if problems:
        raise ParamsError(problems)
    return ReportParams(date_from=values.pop("from"), date_to=values.pop("to"), now=now,
                        service_level_s=site.get("service_level_s", SERVICE_LEVEL_S), **values)
