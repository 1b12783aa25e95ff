"""Say numbers, digits, amounts, dates and queue announcements as lists of prompt names (en, zh)."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

# Prompt names, per language directory under board/prompts/ (made by tools/make_prompts.sh):
# n-0 ... n-19 and n-20 ... n-90 (en) or n-0 ... n-10 (zh); n-hundred, n-thousand, n-million (en),
# n-wan, n-yi (zh); digit keys star, pound; ord-1 ... ord-31 and month-1 ... month-12 (en);
# date-month, date-day (zh); cur-yuan, cur-jiao (zh), cur-fen; you-are-caller, caller-suffix (zh),
# wait-about, minute, minutes (en), wait-under-a-minute.
MAX_NUMBER = 999_999_999


class SayError(ValueError):
    """A value that cannot be said (negative, too large, not a date)."""


def _check(n: int) -> int:
    if not isinstance(n, int) or isinstance(n, bool) or not 0 <= n <= MAX_NUMBER:
        raise SayError(f"cannot say {n!r}: whole numbers 0 to {MAX_NUMBER}")
    return n


def _en_number(n: int) -> list[str]:
    if n < 20:
        return [f"n-{n}"]
    if n < 100:
        return [f"n-{n // 10 * 10}"] + ([f"n-{n % 10}"] if n % 10 else [])
    for size, word in ((1_000_000, "n-million"), (1000, "n-thousand"), (100, "n-hundred")):
        if n >= size:
            head, rest = divmod(n, size)
            return _en_number(head) + [word] + (_en_number(rest) if rest else [])
    raise AssertionError(n)


def _zh_group(g: int, leading: bool) -> list[str]:
    """A group of up to four digits with 千百十; zeros inside collapse to one 零."""
    out: list[str] = []
    zero = False
    for value, unit in ((1000, "n-thousand"), (100, "n-hundred"), (10, "n-10"), (1, None)):
        d = g // value % 10
        if d == 0:
            zero = bool(out)
            continue
        if zero:
            out.append("n-0")
            zero = False
        # 十 alone at the head of a number (十二, not 一十二).
        if not (unit == "n-10" and d == 1 and leading and not out):
            out.append(f"n-{d}")
        if unit:
            out.append(unit)
    return out


def _zh_number(n: int) -> list[str]:
    if n == 0:
        return ["n-0"]
    out: list[str] = []
    for size, word in ((100_000_000, "n-yi"), (10_000, "n-wan"), (1, None)):
        g = n // size % 10_000
        if g == 0:
            continue
        leading = not out
        if not leading and g < 1000:
            out.append("n-0")
        out += _zh_group(g, leading)
        if word:
            out.append(word)
    return out


_KEYS = {"*": "star", "#": "pound"}


class Say:
    def __init__(self, language: str):
        if language not in ("en", "zh"):
            raise SayError(f"no rules to say numbers in {language!r} (en, zh)")
        self.language = language

    def number(self, n: int) -> list[str]:
        n = _check(n)
        return _zh_number(n) if self.language == "zh" else _en_number(n)

    def digits(self, text: str) -> list[str]:
        out = []
        for c in text:
            if c.isdigit():
                out.append(f"n-{c}")
            elif c in _KEYS:
                out.append(_KEYS[c])
            else:
                raise SayError(f"cannot say {c!r} as a digit")
        return out

    def amount(self, value: str | float) -> list[str]:
        """Money in yuan: 12.5 -> 十二元五角 / twelve yuan fifty fen."""
        cents = int((Decimal(str(value)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        yuan, fen = divmod(_check(cents), 100)
        if self.language == "zh":
            jiao, fen = divmod(fen, 10)
            out = self.number(yuan) + ["cur-yuan"] if yuan or not (jiao or fen) else []
            if jiao:
                out += [f"n-{jiao}", "cur-jiao"]
            if fen:
                out += (["n-0"] if yuan and not jiao else []) + [f"n-{fen}", "cur-fen"]
            return out
        out = self.number(yuan) + ["cur-yuan"] if yuan or not fen else []
        return out + (self.number(fen) + ["cur-fen"] if fen else [])

    def date(self, month: int, day: int) -> list[str]:
        if not (1 <= month <= 12 and 1 <= day <= 31):
            raise SayError(f"cannot say month {month}, day {day}")
        if self.language == "zh":
            return self.number(month) + ["date-month"] + self.number(day) + ["date-day"]
        return [f"month-{month}", f"ord-{day}"]

    def position(self, n: int) -> list[str]:
        words = ["you-are-caller"] + self.number(n)
        return words + ["caller-suffix"] if self.language == "zh" else words

    def wait(self, seconds: float) -> list[str]:
        """About N minutes, rounded; under 45 s is 'under a minute'."""
        if seconds < 45:
            return ["wait-under-a-minute"]
        minutes = max(1, int(seconds / 60 + 0.5))
        unit = "minute" if minutes == 1 and self.language == "en" else "minutes"
        return ["wait-about"] + self.number(minutes) + [unit]

    def prompts(self) -> set[str]:
        """Every prompt name these rules may produce, to check a prompt set is complete."""
        names = {f"n-{d}" for d in range(10)} | set(_KEYS.values()) | {
            "cur-yuan", "cur-fen", "you-are-caller", "wait-about", "minutes", "wait-under-a-minute",
            "n-hundred", "n-thousand"}
        if self.language == "zh":
            return names | {"n-10", "n-wan", "n-yi", "cur-jiao", "date-month", "date-day", "caller-suffix"}
        return (names | {f"n-{k}" for k in range(10, 20)} | {f"n-{k}" for k in range(20, 100, 10)}
                | {"n-million", "minute"} | {f"ord-{d}" for d in range(1, 32)} | {f"month-{m}" for m in range(1, 13)})
