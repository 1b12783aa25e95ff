"""Reports as files: CSV (UTF-8 with a byte order mark, one table) and Excel workbooks (XlsxWriter: one sheet
per table, typed cells, frozen header, autofilter, native bar, pie and line charts on the table's cells).
Both are written row by row, so a year of detail rows never sits in memory."""
from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
import tempfile
from collections.abc import Iterator, Sequence
from typing import BinaryIO

from ..customer_csv import BOM, FORMULA_START
from ..i18n import gettext as _
from .table import Table

CHUNK = 64 * 1024
# Excel's limits (Microsoft, "Excel specifications and limits"): 1,048,576 rows a sheet, 31 characters a
# sheet name, and these characters never in one.
MAX_ROWS = 1_048_576
SHEET_NAME_MAX = 31
SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")
# OWASP "CSV Injection" (FORMULA_START): a quote keeps such a cell text. A phone number (+86 ...) is left
# alone: it is no formula and must stay readable.
PHONE = re.compile(r"\+?[\d ()-]+")
XLSX_FORMATS = {"date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm", "duration": "[h]:mm:ss",
                "percent": "0.0%", "int": "0", "number": "0.00"}
CHART_COLOURS = ("#1f6f8b", "#e07a1f", "#c0392b", "#7a5195", "#2e8b57", "#8c8c8c")


class ExportError(ValueError):
    """A table cannot be written as asked."""


def _hms(seconds: float) -> str:
    whole = max(0, int(round(seconds)))
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def csv_cell(kind: str, value: object) -> str:
    """A cell as Excel reads it from a CSV: ISO dates, h:mm:ss durations, 81.2% percents."""
    if value is None:
        return ""
    if kind == "date" and isinstance(value, dt.date):
        return value.isoformat()
    if kind == "datetime" and isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if kind == "duration":
        return _hms(float(value))  # type: ignore[arg-type]
    if kind == "percent":
        return f"{float(value) * 100:.1f}%"  # type: ignore[arg-type]
    if kind == "number":
        return f"{float(value):.2f}"  # type: ignore[arg-type]
    text = str(value)
    if kind == "text" and text.startswith(FORMULA_START) and not PHONE.fullmatch(text):
        return "'" + text
    return text


def csv_chunks(table: Table) -> Iterator[bytes]:
    """The table as CSV bytes, the header in the request's language; rows are read as they are sent."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")  # RFC 4180 line ends
    buffer.write(BOM)
    writer.writerow([_(c.label) for c in table.columns])
    kinds = [c.kind for c in table.columns]
    for row in table.rows:
        writer.writerow([csv_cell(kind, value) for kind, value in zip(kinds, row)])
        if buffer.tell() >= CHUNK:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def _sheet_name(title: str, taken: set[str]) -> str:
    base = SHEET_NAME_BAD.sub(" ", title)[:SHEET_NAME_MAX].strip() or "Sheet"
    name, n = base, 2
    while name.lower() in taken:
        suffix = f" ({n})"
        name, n = base[:SHEET_NAME_MAX - len(suffix)] + suffix, n + 1
    taken.add(name.lower())
    return name


def _excel_value(kind: str, value: object) -> object:
    if kind == "duration":
        return float(value) / 86400  # type: ignore[arg-type]  # Excel keeps durations in days
    if kind == "date" and isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return dt.datetime.combine(value, dt.time())
    return value


def write_xlsx(path: str, title: str, tables: Sequence[Table]) -> None:
    """The workbook at `path`: a sheet per table, then one of every column's definition. Rows read from a
    cursor (the detail queries) are written in XlsxWriter's constant_memory mode, each row out as it goes
    (docs: "Working with Memory and Performance"); summary tables are small lists, written in the ordinary
    mode, which also caches the charts' values in the file (text categories as text, as Excel expects)."""
    import xlsxwriter  # only an export loads it

    streamed = not all(isinstance(t.rows, list) for t in tables)
    workbook = xlsxwriter.Workbook(path, {"constant_memory": streamed, "tmpdir": os.path.dirname(path)})
    try:
        header = workbook.add_format({"bold": True, "bg_color": "#e8eef2", "border": 1, "text_wrap": True,
                                      "valign": "top"})
        formats = {kind: workbook.add_format({"num_format": f}) for kind, f in XLSX_FORMATS.items()}
        taken: set[str] = set()
        for table in tables:
            _write_sheet(workbook, _sheet_name(_(table.title), taken), table, header, formats)
        sheet = workbook.add_worksheet(_sheet_name(_("Definitions"), taken))
        sheet.set_column(0, 1, 28)
        sheet.set_column(2, 2, 90)
        for col, label in enumerate((_("Table"), _("Column"), _("Definition"))):
            sheet.write_string(0, col, label, header)
        sheet.freeze_panes(1, 0)
        row = 1
        for table in tables:
            for column in table.columns:
                sheet.write_row(row, 0, (_(table.title), _(column.label), _(column.definition) if column.definition
                                         else ""))
                row += 1
        workbook.set_properties({"title": title, "comments": _("Definitions: docs/kpi.md")})
    finally:
        workbook.close()


def _write_sheet(workbook, name: str, table: Table, header, formats) -> None:
    sheet = workbook.add_worksheet(name)
    columns = table.columns
    for col, column in enumerate(columns):
        sheet.write_string(0, col, _(column.label), header)
        width = 12 if column.kind in ("int", "percent", "number", "duration") else 18 if column.kind != "text" else 24
        sheet.set_column(col, col, width, formats.get(column.kind))
    n = 0
    for row in table.rows:
        if n + 1 >= MAX_ROWS:
            raise ExportError(f"table {table.name}: more than {MAX_ROWS - 1} rows do not fit a sheet")
        n += 1
        for col, (column, value) in enumerate(zip(columns, row)):
            if value is None:
                continue
            if column.kind == "text":
                sheet.write_string(n, col, str(value))
            elif column.kind in ("date", "datetime"):
                sheet.write_datetime(n, col, _excel_value(column.kind, value), formats[column.kind])
            else:
                sheet.write_number(n, col, _excel_value(column.kind, value), formats[column.kind])
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, max(n, 1), len(columns) - 1)
    if n == 0:
        return
    for i, chart_spec in enumerate(table.charts):
        chart = workbook.add_chart({"type": "column" if chart_spec.kind == "bar" else chart_spec.kind})
        category = table.index(chart_spec.category)
        for j, key in enumerate(chart_spec.values):
            col = table.index(key)
            series: dict[str, object] = {"name": [name, 0, col], "categories": [name, 1, category, n, category],
                      "values": [name, 1, col, n, col]}
            if chart_spec.kind != "pie":
                colour = {"color": CHART_COLOURS[j % len(CHART_COLOURS)]}
                series["fill" if chart_spec.kind == "bar" else "line"] = colour
            chart.add_series(series)
        chart.set_title({"name": _(chart_spec.title)})
        if chart_spec.kind == "line" and columns[table.index(chart_spec.values[0])].kind == "percent":
            chart.set_y_axis({"num_format": "0%", "min": 0, "max": 1})
        chart.set_size({"width": 560, "height": 300})
        sheet.insert_chart(1 + i * 16, len(columns) + 1, chart)


def xlsx_file(title: str, tables: Sequence[Table]) -> BinaryIO:
    """The workbook written to a temporary file (in the request, while its connection and language hold),
    returned open and already unlinked: nothing is left on the card however the download ends."""
    tmp = tempfile.mkdtemp(prefix="branchline-report-")
    path = os.path.join(tmp, "report.xlsx")
    try:
        write_xlsx(path, title, tables)
        return open(path, "rb")
    finally:
        for leftover in os.listdir(tmp):
            os.unlink(os.path.join(tmp, leftover))
        os.rmdir(tmp)


def file_chunks(fh: BinaryIO) -> Iterator[bytes]:
    try:
        yield from iter(lambda: fh.read(CHUNK), b"")
    finally:
        fh.close()
