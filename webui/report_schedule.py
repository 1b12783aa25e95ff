"""The daily and monthly report schedules: their periods, which are due, and the settings an admin keeps in
`report_schedules` (which reports, the format, how many files to keep, the language, who gets them)."""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sqlite3
import time
from collections.abc import Mapping

from firmware.config.messaging import MAX_ADDRESS

from .i18n import LANGUAGES, N_, gettext as _
from .mail import MAX_RECIPIENTS

SCHEDULES = {"daily": N_("Daily"), "monthly": N_("Monthly")}
FORMATS = {"xlsx": N_("Excel workbook (.xlsx)"), "csv": N_("CSV files in a zip (.zip)")}
# A period's file is written this long after it ends: the engine's writer has committed its last calls
# within a second (docs/architecture.md §6), but a call that began before midnight may still be going on.
# Half an hour finishes all but the longest; their report counts them as the calls page does then.
RUN_AFTER_S = 1800
# Files kept per schedule: a year of daily files, ten years of monthly ones at most.
MAX_KEEP = {"daily": 366, "monthly": 120}


class ScheduleError(ValueError):
    """A schedule's settings are not valid; `problems` maps each field to its message."""

    def __init__(self, problems: dict[str, str]):
        super().__init__(" ".join(problems.values()))
        self.problems = problems


@dataclasses.dataclass(frozen=True)
class Period:
    """One period a schedule reports on: a local day, or a calendar month."""

    schedule: str
    first: dt.date
    last: dt.date

    @property
    def label(self) -> str:
        return self.first.isoformat() if self.schedule == "daily" else self.first.strftime("%Y-%m")

    @property
    def due_at(self) -> float:
        """When its file may be written: local midnight after its last day, plus RUN_AFTER_S."""
        return time.mktime((self.last + dt.timedelta(days=1)).timetuple()) + RUN_AFTER_S


def period_of(schedule: str, day: dt.date) -> Period:
    """The period of `schedule` holding `day`."""
    if schedule == "daily":
        return Period(schedule, day, day)
    first = day.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return Period(schedule, first, following - dt.timedelta(days=1))


def _before(period: Period) -> Period:
    return period_of(period.schedule, period.first - dt.timedelta(days=1))


def due_periods(schedule: str, now: float, last_label: str | None, enabled_at: float, keep: int,
                written: frozenset[str] = frozenset()) -> list[Period]:
    """The periods to write now, oldest first: each one due, after the last written (`last_label`) and the
    newest of `written` (the periods whose files are on record), and ending after the schedule was
    enabled; at most `keep` (older ones would be deleted as soon as they were written)."""
    found: list[Period] = []
    # Back from the current period: a clock gone back (a Pi has no clock of its own until NTP answers)
    # meets the last period written at once, and writes nothing until it passes it again.
    period = period_of(schedule, dt.date.fromtimestamp(now))
    while len(found) < keep + 1:
        if period.due_at <= now:
            if period.label in written or (last_label is not None and period.label <= last_label):
                break
            # A period that ended before the schedule was switched on was never promised.
            if time.mktime((period.last + dt.timedelta(days=1)).timetuple()) <= enabled_at:
                break
            found.append(period)
        period = _before(period)
    return list(reversed(found[:keep]))


@dataclasses.dataclass(frozen=True)
class Schedule:
    name: str
    enabled: bool
    reports: tuple[str, ...]
    format: str
    keep: int
    language: str
    recipients: tuple[str, ...]
    enabled_at: float | None
    last_period: str | None
    last_error: str | None
    last_error_at: float | None
    updated_at: float | None
    updated_by: str | None
    version: int

    def as_dict(self) -> dict:
        out = dataclasses.asdict(self)
        out["reports"], out["recipients"] = list(self.reports), list(self.recipients)
        return out


COLUMNS = ("name", "enabled", "reports", "format", "keep", "language", "recipients", "enabled_at", "last_period",
           "last_error", "last_error_at", "updated_at", "updated_by", "version")


def _schedule(row: sqlite3.Row | tuple) -> Schedule:
    values = dict(zip(COLUMNS, row))
    values["enabled"] = bool(values["enabled"])
    values["reports"] = tuple(json.loads(values["reports"]))
    values["recipients"] = tuple(json.loads(values["recipients"]))
    return Schedule(**values)


def load(conn: sqlite3.Connection) -> list[Schedule]:
    """Both schedules, daily first."""
    rows = conn.execute(f"SELECT {', '.join(COLUMNS)} FROM report_schedules")
    found = {s.name: s for s in map(_schedule, rows)}
    return [found[name] for name in SCHEDULES if name in found]


def check(name: str, values: Mapping[str, object], report_names: Mapping[str, str],
          address_problem) -> dict:
    """The settings to store for `values` (a form or a JSON body); ScheduleError naming every bad field.
    `report_names`: the reports a schedule may hold; `address_problem(address)`: why an address is bad."""
    problems: dict[str, str] = {}
    reports = values.get("reports") or []
    if isinstance(reports, str):
        reports = [reports]
    if not isinstance(reports, list) or not all(isinstance(r, str) for r in reports):
        problems["reports"] = _("Reports must be a list of report names.")
        reports = []
    unknown = [r for r in reports if r not in report_names]
    if unknown:
        problems["reports"] = (_("Unknown reports: %(names)s. Choose from: %(known)s.")
                               % {"names": ", ".join(unknown), "known": ", ".join(report_names)})
    enabled = values.get("enabled") in (True, "1", "on", "true")
    if enabled and not reports and "reports" not in problems:
        problems["reports"] = _("Choose at least one report for a schedule that runs.")
    fmt = values.get("format") or "xlsx"
    if fmt not in FORMATS:
        problems["format"] = _("Format must be one of: %(values)s.") % {"values": ", ".join(FORMATS)}
    language = values.get("language") or "en"
    if language not in LANGUAGES:
        problems["language"] = _("Language must be one of: %(values)s.") % {"values": ", ".join(LANGUAGES)}
    raw_keep = values.get("keep")
    keep = 0
    if isinstance(raw_keep, int) and not isinstance(raw_keep, bool):
        keep = raw_keep
    elif isinstance(raw_keep, str) and raw_keep.strip().isdigit():
        keep = int(raw_keep)
    if not 1 <= keep <= MAX_KEEP[name]:
        problems["keep"] = (_("Files kept must be a whole number from 1 to %(max)d.") % {"max": MAX_KEEP[name]})
    recipients = values.get("recipients") or []
    if isinstance(recipients, str):
        recipients = [line.strip() for line in recipients.replace(",", "\n").splitlines() if line.strip()]
    if not isinstance(recipients, list) or not all(isinstance(r, str) for r in recipients):
        problems["recipients"] = _("Recipients must be a list of e-mail addresses.")
        recipients = []
    elif len(recipients) > MAX_RECIPIENTS:
        problems["recipients"] = _("At most %(max)d recipients.") % {"max": MAX_RECIPIENTS}
    else:
        bad = [f"{r[:MAX_ADDRESS]}: {reason}" for r in recipients if (reason := address_problem(r))]
        if bad:
            problems["recipients"] = _("Not an e-mail address: %(list)s") % {"list": "; ".join(bad)}
    if problems:
        raise ScheduleError(problems)
    return {"enabled": enabled, "reports": list(dict.fromkeys(reports)), "format": fmt, "keep": keep,
            "language": language, "recipients": list(dict.fromkeys(recipients))}


class VersionConflict(Exception):
    """The schedule changed since the version the change was made from."""


def save(conn: sqlite3.Connection, name: str, settings: dict, version: int | None, username: str,
         now: float) -> Schedule:
    """Inside a write transaction: store `settings` (from `check`) if `version` is still the stored one
    (None: whatever it is). Switching a schedule on starts its promise now: no catch-up of older periods."""
    current = {s.name: s for s in load(conn)}[name]
    if version is not None and version != current.version:
        raise VersionConflict(name)
    enabled_at = (current.enabled_at if current.enabled else now) if settings["enabled"] else None
    conn.execute("UPDATE report_schedules SET enabled = ?, reports = ?, format = ?, keep = ?, language = ?,"
                 " recipients = ?, enabled_at = ?, updated_at = ?, updated_by = ?, version = version + 1"
                 " WHERE name = ?",
                 [int(settings["enabled"]), json.dumps(settings["reports"]), settings["format"], settings["keep"],
                  settings["language"], json.dumps(settings["recipients"]), enabled_at, now, username, name])
    return {s.name: s for s in load(conn)}[name]
