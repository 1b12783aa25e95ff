"""A campaign's calling hours: the days of the week and the time of day it may dial, and the site's
holidays it keeps off (campaigns.hours, campaigns.skip_holidays; docs/architecture.md §22)."""
from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Collection
from dataclasses import dataclass

# ISO 8601 weekdays, Monday 1 to Sunday 7 (campaigns.hours "days").
ALL_DAYS = (1, 2, 3, 4, 5, 6, 7)
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class CallingWindowError(ValueError):
    """A campaign's calling hours are not {"days": [1..7], "start": "HH:MM", "end": "HH:MM"}."""


@dataclass(frozen=True)
class CallingHours:
    days: tuple[int, ...] = ALL_DAYS
    start: str = "09:00"       # local time, inclusive
    end: str = "21:00"         # local time, exclusive; after `start`
    skip_holidays: bool = True
    # The campaign's own days off (campaigns.hours "holidays", YYYY-MM-DD), kept whatever skip_holidays says.
    days_off: frozenset[str] = frozenset()

    def open_at(self, when: dt.datetime, holidays: Collection[str]) -> bool:
        """Whether a call may be placed at the local time `when`; `holidays` are YYYY-MM-DD dates."""
        day = when.strftime("%Y-%m-%d")
        if day in self.days_off or (self.skip_holidays and day in holidays):
            return False
        return when.isoweekday() in self.days and self.start <= when.strftime("%H:%M") < self.end


def read_hours(text: str | None, skip_holidays: bool) -> CallingHours:
    """campaigns.hours as CallingHours; no hours given: every day 09:00-21:00, the hours China's
    telemarketing rules and most operators' codes of practice leave for calls to consumers."""
    if not text:
        return CallingHours(skip_holidays=skip_holidays)
    try:
        raw = json.loads(text)
    except ValueError:
        raise CallingWindowError(f"calling hours are not JSON: {text[:40]!r}") from None
    if not isinstance(raw, dict):
        raise CallingWindowError("calling hours must be an object with days, start and end")
    days = raw.get("days", list(ALL_DAYS))
    start, end = raw.get("start", "09:00"), raw.get("end", "21:00")
    if (not isinstance(days, list) or not days
            or not all(isinstance(d, int) and not isinstance(d, bool) and d in ALL_DAYS for d in days)):
        raise CallingWindowError(f"calling days must be weekdays 1 (Monday) to 7 (Sunday), got {days!r}")
    for value in (start, end):
        if not isinstance(value, str) or not _HHMM.match(value):
            raise CallingWindowError(f"calling hours must be HH:MM, got {value!r}")
    if start >= end:
        raise CallingWindowError(f"calling hours end ({end}) must come after their start ({start})")
    days_off = raw.get("holidays", [])
    if not isinstance(days_off, list) or not all(isinstance(d, str) and _DATE.match(d) for d in days_off):
        raise CallingWindowError(f"a campaign's holidays must be YYYY-MM-DD dates, got {str(days_off)[:40]!r}")
    return CallingHours(tuple(sorted(set(days))), start, end, skip_holidays, frozenset(days_off))
