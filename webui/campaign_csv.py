"""A campaign's contact list from CSV (number, name, any other column kept in the contact's data) and its
contacts with their results back to CSV: the customers' import and export rules (webui/customer_csv.py)."""
from __future__ import annotations

import io
import sqlite3
from collections.abc import Iterator

from .campaign_store import MAX_DATA, all_contacts
from .customer_csv import BOM, MAX_IMPORT_ROWS, TEXT_MARK, CsvError, read_rows, safe_cell
from .i18n import gettext as _

# The headers taken as the number's and the name's column, as Excel users title them.
NUMBER_TITLES = {"number", "phone", "mobile", "tel", "电话", "号码", "手机", "手机号", "电话号码"}
NAME_TITLES = {"name", "姓名", "名字", "客户", "客户名称"}
EXPORT_FIELDS = ("number", "name", "state", "attempts", "outcome", "result", "agent_id", "call_id", "updated_at")


def read_contacts(text: str) -> list[dict]:
    """The file's data rows as {"line", "number", "name", "data"}; CsvError if the file as a whole is
    unusable (no number column, too many rows or columns)."""
    rows = read_rows(text)
    header = [h.strip() for h in rows[0]]
    folded = [h.casefold() for h in header]
    number = next((i for i, h in enumerate(folded) if h in NUMBER_TITLES or h == _("Number").casefold()), None)
    if number is None:
        raise CsvError(_("The file needs a column number (or 电话, 号码, 手机)."))
    name = next((i for i, h in enumerate(folded) if h in NAME_TITLES or h == _("Name").casefold()), None)
    extra = [i for i, h in enumerate(header) if i not in (number, name) and h]
    if len(extra) > MAX_DATA:
        raise CsvError(_("The file has %(n)d other columns; a contact keeps at most %(max)d.")
                       % {"n": len(extra), "max": MAX_DATA})
    body = [(i + 2, r) for i, r in enumerate(rows[1:]) if any(c.strip() for c in r)]
    if len(body) > MAX_IMPORT_ROWS:
        raise CsvError(_("The file has %(n)d rows; the box imports at most %(max)d at once.")
                       % {"n": len(body), "max": MAX_IMPORT_ROWS})

    def cell(row: list[str], i: int | None) -> str:
        text = row[i] if i is not None and i < len(row) else ""
        return text[1:] if text.startswith(TEXT_MARK) else text   # an exported cell made text for Excel
    return [{"line": line, "number": cell(row, number), "name": cell(row, name).strip(),
             "data": {header[i]: cell(row, i) for i in extra if cell(row, i)}} for line, row in body]


def export_contacts(db: sqlite3.Connection, campaign_id: str) -> Iterator[str]:
    """The campaign's contacts and results as CSV lines Excel opens as they are (BOM, formulas made text)."""
    import csv  # on first use, not at the web process's start (docs/architecture.md "Memory")

    out = io.StringIO()
    writer = csv.writer(out)
    titles = {"number": _("Number"), "name": _("Name"), "state": _("State"), "attempts": _("Attempts"),
              "outcome": _("Outcome"), "result": _("Result"), "agent_id": _("Agent"), "call_id": _("Call"),
              "updated_at": _("Updated")}
    writer.writerow([titles[f] for f in EXPORT_FIELDS] + [_("Data")])
    yield BOM + out.getvalue()
    cur = all_contacts(db, campaign_id)
    names = [c[0] for c in cur.description]
    for row in cur:
        contact = dict(zip(names, row))
        out.seek(0)
        out.truncate()
        writer.writerow([safe_cell(contact[f]) for f in EXPORT_FIELDS] + [safe_cell(contact["data"])])
        yield out.getvalue()
