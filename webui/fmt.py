"""Formatting for the templates: the box's local times, durations, numbers and event details, in the
request's locale (webui/i18n.py)."""
from __future__ import annotations

import datetime as dt
import json

from babel.dates import format_skeleton
from babel.numbers import format_decimal

from .i18n import locale

NONE = "—"


def when(epoch: float | None) -> str:
    """Local date and time in the locale's order, on the 24-hour clock the box's timelines use:
    "Mar 31, 2025, 14:05:09" (en), "2025年3月31日 14:05:09" (zh)."""
    if epoch is None:
        return NONE
    moment = dt.datetime.fromtimestamp(epoch)
    here = locale()
    # CLDR's medium date-time pattern joins the date and time skeletons as the locale writes them.
    return here.datetime_formats["medium"].format(format_skeleton("Hms", moment, locale=here),
                                                  format_skeleton("yMMMd", moment, locale=here))


def clock(epoch: float | None) -> str:
    """Local time of day on the 24-hour clock, e.g. 14:05:09."""
    if epoch is None:
        return NONE
    return format_skeleton("Hms", dt.datetime.fromtimestamp(epoch), locale=locale())


def duration(seconds: float | None) -> str:
    """m:ss, or h:mm:ss from an hour up."""
    if seconds is None:
        return NONE
    whole = max(0, int(round(seconds)))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def offset(seconds: float) -> str:
    """Time since the call's arrival, to a tenth of a second: +1:05.3."""
    sign = "-" if seconds < 0 else "+"
    minutes, secs = divmod(abs(seconds), 60)
    return f"{sign}{int(minutes)}:{secs:04.1f}"


def number(value: float | None) -> str:
    """A count or measure with the locale's grouping and decimal sign: 1,234 / 1,234.5."""
    return NONE if value is None else format_decimal(value, locale=locale())


def details(data: dict) -> list[tuple[str, str]]:
    """An event's data as (key, value) text pairs."""
    return [(str(k), v if isinstance(v, str) else json.dumps(v)) for k, v in data.items()]
