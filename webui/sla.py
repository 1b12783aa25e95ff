"""SLA due times: a number of business hours after a moment, counted on the tickets' calendar."""
from __future__ import annotations

import datetime as dt

from .ticket_config import Calendar

# A calendar open a few hours a week still reaches the longest SLA (720 h) within years; a loop bound
# keeps a calendar with no open day at all (every day a holiday) from spinning.
MAX_DAYS_AHEAD = 3 * 366


class SlaError(ValueError):
    """The calendar has no business hours within reach of the due time."""


def add_business_hours(calendar: Calendar, start: float, hours: float) -> float:
    """The epoch time `hours` business hours after `start` (epoch seconds)."""
    left = dt.timedelta(hours=hours)
    moment = dt.datetime.fromtimestamp(start, calendar.tz)
    for _ in range(MAX_DAYS_AHEAD):
        day = moment.date()
        if day.weekday() in calendar.days and day not in calendar.holidays:
            opening = dt.datetime.combine(day, calendar.open, calendar.tz)
            closing = dt.datetime.combine(day, calendar.close, calendar.tz)
            begin = max(moment, opening)
            if begin < closing:
                if begin + left <= closing:
                    return (begin + left).timestamp()
                left -= closing - begin
        moment = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), calendar.tz)
    raise SlaError(f"no business hours in the {MAX_DAYS_AHEAD} days after {dt.datetime.fromtimestamp(start)}")
