"""Formatting for the templates: the box's local times, durations and event details."""
from __future__ import annotations

import json
import time

NONE = "—"


def when(epoch: float | None) -> str:
    """Local date and time, e.g. 2025-03-31 14:05:09."""
    if epoch is None:
        return NONE
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch))


def clock(epoch: float | None) -> str:
    """Local time of day, e.g. 14:05:09."""
    if epoch is None:
        return NONE
    return time.strftime("%H:%M:%S", time.localtime(epoch))


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


def details(data: dict) -> list[tuple[str, str]]:
    """An event's data as (key, value) text pairs."""
    return [(str(k), v if isinstance(v, str) else json.dumps(v)) for k, v in data.items()]
