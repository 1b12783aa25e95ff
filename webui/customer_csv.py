"""Customer cards to and from CSV: an export Excel opens as it is, an import checked row by row first."""
from __future__ import annotations

import io
import sqlite3
from collections.abc import Iterator

from .customer_cards import FIELDS, LABELS, MAX_NUMBERS, CardError, check_card, export_rows, number_owners
from .i18n import gettext as _

# An import is a branch's customer book: 20,000 cards (the figure `make bench` measures) of about
# 100 bytes each fit in 2 MB with room to spare; a bigger file is a mistake or another system's dump.
MAX_IMPORT_BYTES = 2 * 1024 * 1024
MAX_IMPORT_ROWS = 20_000
# Excel takes a CSV file without a byte-order mark for the ANSI code page: Chinese text turns to
# mojibake. With the mark it reads UTF-8.
BOM = "\ufeff"
# OWASP "CSV Injection": a cell starting with one of these is a formula to Excel; a leading
# apostrophe makes it text, and the import takes it off again. So a cell that starts with an apostrophe
# of its own gets one more, or the import would take off the one that belongs to it.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
TEXT_MARK = "'"
NUMBER_SEPARATOR = "; "


class CsvError(ValueError):
    """The file as a whole cannot be read (encoding, size, header); one message for the user."""


def safe_cell(value) -> str:
    text = "" if value is None else str(value)
    return TEXT_MARK + text if text.startswith((*FORMULA_START, TEXT_MARK)) else text


def read_rows(text: str) -> list[list[str]]:
    """The file's rows as lists of cells; CsvError if it has none or cannot be read as CSV.

    newline="": the csv module finds the line ends itself (RFC 4180's CRLF, LF, and the bare CR that
    Excel's "CSV (Macintosh)" writes), and one inside a quoted cell stays in the cell."""
    import csv  # on first use, not at the web process's start (docs/architecture.md "Memory")

    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        rows = list(reader)
    except csv.Error:
        # The csv module refuses a cell over csv.field_size_limit() (131,072 characters); no card
        # or contact has one.
        raise CsvError(_("Line %(line)d of the file cannot be read as CSV: a cell there is too long.")
                       % {"line": reader.line_num}) from None
    if not rows:
        raise CsvError(_("The file is empty."))
    return rows


def export_csv(db: sqlite3.Connection) -> Iterator[str]:
    """Every live card as CSV lines: BOM, translated headers, numbers as E.164 joined by `; `."""
    import csv

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_(LABELS[f]) for f in FIELDS])
    yield BOM + out.getvalue()
    for card in export_rows(db):
        out.seek(0)
        out.truncate()
        values = {**card, "numbers": NUMBER_SEPARATOR.join(n["number"] for n in card["numbers"]),
                  "blocked": "1" if card["blocked"] else "0"}
        writer.writerow([safe_cell(values[f]) for f in FIELDS])
        yield out.getvalue()


def decode(data: bytes) -> str:
    """A CSV file's text: UTF-8 (with or without BOM), else GB 18030, which Excel on a Chinese
    Windows writes (it is a superset of GBK and GB 2312)."""
    if len(data) > MAX_IMPORT_BYTES:
        raise CsvError(_("The file is larger than %(mb)d MB; split it.") % {"mb": MAX_IMPORT_BYTES // 2**20})
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise CsvError(_("The file is neither UTF-8 nor GB 18030 text; save it from Excel as “CSV UTF-8”."))


def _header_map(header: list[str]) -> dict[int, str]:
    """Column index -> field, by the field's key, its English label or its label in this language."""
    names = {}
    for field in FIELDS:
        for name in (field, LABELS[field], _(LABELS[field])):
            names[name.strip().casefold()] = field
    columns: dict[int, str] = {}
    unknown: list[str] = []
    for i, title in enumerate(header):
        found = names.get(title.strip().casefold())
        if found is None:
            if title.strip():
                unknown.append(title.strip())
        elif found in columns.values():
            raise CsvError(_("The column %(column)s appears twice.") % {"column": title.strip()})
        else:
            columns[i] = found
    if unknown:
        raise CsvError(_("Unknown columns: %(columns)s. The columns are: %(known)s.")
                           % {"columns": ", ".join(unknown[:5]),
                              "known": ", ".join(_(LABELS[f]) for f in FIELDS)})
    for needed in ("name", "numbers"):
        if needed not in columns.values():
            raise CsvError(_("The file needs a column %(column)s.") % {"column": _(LABELS[needed])})
    return columns


def _value(field: str, text: str):
    text = text[1:] if text.startswith(TEXT_MARK) else text
    if field == "numbers":
        return [n for n in text.replace(",", ";").split(";") if n.strip()][:MAX_NUMBERS + 1]
    if field == "blocked":
        low = text.strip().casefold()
        return {"": False, "0": False, "1": True, "true": True, "false": False, "yes": True, "no": False,
                _("yes").casefold(): True, _("no").casefold(): False}.get(low, text)
    if field == "vip":
        return text.strip() or "0"
    return text


def preview(db: sqlite3.Connection, text: str, region: str, agents: dict[str, str] | None) -> list[dict]:
    """Each data row of the file as {"line", "data", "card" (checked fields) or None, "problems"}:
    a number given twice in the file is a problem of its second row, one already on a card a
    problem of its row (the writer checks again in the transaction that writes)."""
    rows = read_rows(text)
    columns = _header_map(rows[0])
    body = [(i + 2, r) for i, r in enumerate(rows[1:]) if any(c.strip() for c in r)]
    if len(body) > MAX_IMPORT_ROWS:
        raise CsvError(_("The file has %(n)d rows; the box imports at most %(max)d at once.")
                           % {"n": len(body), "max": MAX_IMPORT_ROWS})
    seen: dict[str, int] = {}
    out = []
    for line, row in body:
        data = {field: _value(field, row[i]) for i, field in columns.items() if i < len(row)}
        card, problems = None, {}
        try:
            card = check_card(data, region, agents, creating=True, may_route=True)
        except CardError as exc:
            problems = exc.problems
        if card is not None:
            for number, owner in number_owners(db, card["numbers"]).items():
                problems = {"numbers": _("%(number)s is already on the card of %(owner)s.")
                            % {"number": number, "owner": owner}}
            for number in card["numbers"]:
                if number in seen:
                    problems = {"numbers": _("%(number)s is also on line %(line)d of the file.")
                                % {"number": number, "line": seen[number]}}
                seen.setdefault(number, line)
        out.append({"line": line, "data": {f: data.get(f) for f in FIELDS},
                    "card": None if problems else card, "problems": problems})
    return out
