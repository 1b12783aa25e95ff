"""Formatting for the templates: the box's local times, durations, numbers and event details, the way
the request's language writes them (CLDR, through webui/locale/<lang>/formats.json)."""
from __future__ import annotations

import datetime as dt
import functools
import json
import math

from .i18n import LOCALE_DIR, language

NONE = "—"


@functools.cache
def _formats(lang: str) -> dict:
    """The language's date, time and number formats, made from CLDR by webui/locale_build.py."""
    with (LOCALE_DIR / lang / "formats.json").open(encoding="utf-8") as fh:
        return json.load(fh)


def _pattern(tokens: list, moment: dt.datetime, months: list[str]) -> str:
    # The fields webui/locale_build.py lets through (UTS #35 §8): a year, a month as a number or its
    # abbreviated name, a day, and the 24-hour time; their width is the least number of digits.
    values = {"y": moment.year, "M": moment.month, "L": moment.month, "d": moment.day, "H": moment.hour,
              "m": moment.minute, "s": moment.second}
    out = []
    for token in tokens:
        if len(token) == 1:
            out.append(token[0])
            continue
        letter, width = token
        if letter in "ML" and width == 3:
            out.append(months[moment.month - 1])
        elif letter == "y" and width == 2:
            out.append(f"{moment.year % 100:02d}")
        else:
            out.append(f"{values[letter]:0{width}d}")
    return "".join(out)


def when(epoch: float | None) -> str:
    """Local date and time in the language's order, on the 24-hour clock the box's timelines use:
    "Mar 31, 2025, 14:05:09" (en), "2025年3月31日 14:05:09" (zh)."""
    if epoch is None:
        return NONE
    moment = dt.datetime.fromtimestamp(epoch)
    f = _formats(language())
    # CLDR's medium date-time pattern joins the date and the time as the language does: {1} date, {0} time.
    return f["date_time"].format(_pattern(f["time"], moment, f["months"]), _pattern(f["date"], moment, f["months"]))


def clock(epoch: float | None) -> str:
    """Local time of day on the 24-hour clock, e.g. 14:05:09."""
    if epoch is None:
        return NONE
    f = _formats(language())
    return _pattern(f["time"], dt.datetime.fromtimestamp(epoch), f["months"])


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
    """A count or measure as CLDR's "#,##0.###" writes it in the language: grouped by threes, up to
    three decimals, with the language's signs (1,234.5)."""
    if value is None:
        return NONE
    f = _formats(language())
    whole, thousandths = divmod(_half_even_thousandths(value), 1000)
    text = f"{whole:,}" + (f".{thousandths:03d}".rstrip("0") if thousandths else "")
    text = text.translate(str.maketrans({",": f["group"], ".": f["decimal"]}))
    return f["minus"] + text if math.copysign(1, value) < 0 else text


def _half_even_thousandths(value: float) -> int:
    """|value| in thousandths, rounded half to even from its shortest decimal form (repr), as CLDR's
    formatters round: 2.675 is 2.68, though the float nearest it lies below. Integer arithmetic: the
    decimal module would cost the web process 0.4 MB (docs/architecture.md "Memory")."""
    mantissa, _, exponent = repr(abs(value)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits, shift = int(whole + fraction), int(exponent or 0) - len(fraction) + 3
    if shift >= 0:
        return digits * 10 ** shift
    quotient, rest = divmod(digits, 10 ** -shift)
    twice = 2 * rest - 10 ** -shift
    return quotient + (twice > 0 or (twice == 0 and quotient % 2 == 1))


def details(data: dict) -> list[tuple[str, str]]:
    """An event's data as (key, value) text pairs."""
    return [(str(k), v if isinstance(v, str) else json.dumps(v)) for k, v in data.items()]
