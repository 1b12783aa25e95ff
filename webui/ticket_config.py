"""The tickets' configuration (<state>/config/tickets.toml): categories, priorities, departments, SLA
hours, the business calendar, the repeat and first-contact windows, and the transition table."""
from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass
from pathlib import Path

from typed_toml import ConfigError, Section, read_file

DEFAULTS = Path(__file__).resolve().parents[1] / "board" / "defaults" / "tickets.toml"
# The ticket's life (docs/requirements.md R14, the seeds' ticket flow): an agent records it, a department
# works it, the agent calls the customer back and closes it, or it is reopened.
STATES = ("new", "dispatched", "in_progress", "resolved", "confirmed", "closed", "reopened", "cancelled")
# States that wait on nobody: the SLA clock has stopped.
FINISHED = ("resolved", "confirmed", "closed", "cancelled")
ROLES_IN_TRANSITIONS = ("admin", "supervisor", "agent", "department", "owner")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ID_RE = re.compile(r"[a-z][a-z0-9_-]{0,31}")
CLOCK_RE = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")
# A year of days off is a few dozen; bounds the calendar a typo could blow up.
MAX_HOLIDAYS = 366
# A month of business hours: beyond this an SLA is no service level.
MAX_SLA_HOURS = 720


class TicketConfigError(ConfigError):
    """tickets.toml is unreadable or has a bad key; the message names the file, key and reason."""


@dataclass(frozen=True)
class Named:
    id: str
    names: dict[str, str]

    def name(self, language: str) -> str:
        return self.names.get(language) or self.names["en"]


@dataclass(frozen=True)
class Category(Named):
    department: str | None
    sla_hours: dict[str, float]


@dataclass(frozen=True)
class Transition(Named):
    sources: tuple[str, ...]
    to: str
    by: tuple[str, ...]


@dataclass(frozen=True)
class Calendar:
    """Business hours: the days and the hours of each the SLA clock runs, and the days off."""
    tz: dt.tzinfo
    days: frozenset[int]         # datetime.weekday() numbers
    open: dt.time
    close: dt.time
    holidays: frozenset[dt.date]


@dataclass(frozen=True)
class TicketConfig:
    categories: dict[str, Category]
    priorities: dict[str, Named]
    departments: dict[str, Named]
    transitions: dict[str, Transition]
    calendar: Calendar
    repeat_window_days: int
    repeat_categories: frozenset[str]
    fcr_window_days: int
    # A resolved ticket's customer is called by the standing satisfaction campaign (docs/architecture.md §23).
    satisfaction_call: bool = False

    def actions_from(self, state: str) -> list[Transition]:
        return [t for t in self.transitions.values() if state in t.sources]


def ticket_config_path(config_dir: Path) -> Path:
    """The box's tickets.toml (the engine seeds it on the first start: firmware/config/site.py ensure_config),
    or the stock one while the box has none; the web process writes no configuration of its own accord."""
    path = config_dir / "tickets.toml"
    return path if path.exists() else DEFAULTS


def load_ticket_config(path: Path) -> TicketConfig:
    """Read and check tickets.toml; TicketConfigError names the file, key and reason."""
    try:
        return _read(read_file(path))
    except TicketConfigError:
        raise
    except ConfigError as exc:
        raise TicketConfigError(str(exc), exc.key, exc.reason) from None


def _error(section: Section, key: str, reason: str) -> TicketConfigError:
    err = section.error(key, reason)
    return TicketConfigError(str(err), err.key, err.reason)


def _names(section: Section) -> dict[str, str]:
    table = section.get_table("name")
    names = {lang: table.get_str(lang) for lang in ("en", "zh") if table.has(lang) or lang == "en"}
    table.done()
    for lang, text in names.items():
        if not 0 < len(text) <= 60:
            raise _error(table, lang, "a name is 1-60 characters")
    return names


def _ids(sections: list[Section], what: str, root: Section) -> dict[str, tuple[str, Section]]:
    found: dict[str, tuple[str, Section]] = {}
    for s in sections:
        ident = s.get_str("id")
        if not ID_RE.fullmatch(ident):
            raise _error(s, "id", "lower-case letters, digits, - and _, starting with a letter, up to 32")
        if ident in found:
            raise _error(s, "id", f"{what} {ident!r} is given twice")
        found[ident] = (ident, s)
    if not found:
        raise _error(root, what, f"at least one [[{what}]] is needed")
    return found


def _read(root: Section) -> TicketConfig:
    general = root.get_table("tickets")
    repeat_days = general.get_int("repeat_window_days", minval=1, maxval=365)
    repeat_categories = general.get_list("repeat_categories")
    fcr_days = general.get_int("fcr_window_days", minval=1, maxval=90)
    satisfaction_call = general.get_bool("satisfaction_call", False)
    general.done()
    calendar = _calendar(root.get_table("calendar"))

    departments = {}
    for ident, s in _ids(root.get_tables("department"), "department", root).values():
        departments[ident] = Named(ident, _names(s))
        s.done()
    priorities = {}
    for ident, s in _ids(root.get_tables("priority"), "priority", root).values():
        priorities[ident] = Named(ident, _names(s))
        s.done()
    categories = {}
    for ident, s in _ids(root.get_tables("category"), "category", root).values():
        department = s.get_str("department", None) if s.has("department") else None
        if department is not None and department not in departments:
            raise _error(s, "department", f"{department!r} is not a [[department]]")
        hours_table = s.get_table("sla_hours")
        hours = {p: hours_table.get_float(p, minval=0.25, maxval=MAX_SLA_HOURS) for p in priorities}
        hours_table.done()
        categories[ident] = Category(ident, _names(s), department, hours)
        s.done()
    for name in repeat_categories:
        if name not in categories:
            raise _error(general, "repeat_categories", f"{name!r} is not a [[category]]")

    transitions = {}
    for s in root.get_tables("transition"):
        action = s.get_str("action")
        if not ID_RE.fullmatch(action) or action in transitions:
            raise _error(s, "action", f"{action!r}: a new lower-case word")
        sources = tuple(s.get_list("from"))
        to = s.get_str("to", choices=STATES)
        by = tuple(s.get_list("by"))
        for state in sources:
            if state not in STATES:
                raise _error(s, "from", f"{state!r} is not one of {', '.join(STATES)}")
        for who in by:
            if who not in ROLES_IN_TRANSITIONS:
                raise _error(s, "by", f"{who!r} is not one of {', '.join(ROLES_IN_TRANSITIONS)}")
        transitions[action] = Transition(action, _names(s), sources, to, by)
        s.done()
    # The satisfaction callback (webui/ticket_store.py record_satisfaction) confirms, closes or reopens.
    for needed in ("confirm", "close", "reopen"):
        if needed not in transitions:
            raise _error(root, "transition", f"the {needed!r} transition is needed by the satisfaction callback")
    root.done()
    return TicketConfig(categories, priorities, departments, transitions, calendar, repeat_days,
                        frozenset(repeat_categories), fcr_days, satisfaction_call)


def _calendar(s: Section) -> Calendar:
    try:
        tz = zoneinfo.ZoneInfo(s.get_str("timezone"))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise _error(s, "timezone", "not an IANA time zone name (e.g. Asia/Shanghai)") from None
    days = s.get_list("days")
    if not days or any(d not in WEEKDAYS for d in days):
        raise _error(s, "days", f"some of {', '.join(WEEKDAYS)}")
    opening, closing = (_clock(s, key) for key in ("open", "close"))
    if closing <= opening:
        raise _error(s, "close", "the close time must be after the open time")
    holidays = s.get_list("holidays", [])
    if len(holidays) > MAX_HOLIDAYS:
        raise _error(s, "holidays", f"at most {MAX_HOLIDAYS} days")
    try:
        dates = frozenset(dt.date.fromisoformat(d) for d in holidays)
    except ValueError:
        raise _error(s, "holidays", "dates are written YYYY-MM-DD") from None
    s.done()
    return Calendar(tz, frozenset(WEEKDAYS.index(d) for d in days), opening, closing, dates)


def _clock(s: Section, key: str) -> dt.time:
    text = s.get_str(key)
    if not (m := CLOCK_RE.fullmatch(text)):
        raise _error(s, key, "a time of day HH:MM on the 24-hour clock")
    return dt.time(int(m[1]), int(m[2]))
