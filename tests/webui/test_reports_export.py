"""Reports as files: the Excel workbook opened (typed cells, frozen header, autofilter, native pie and bar
charts whose series point at the table's cells) and the CSV (UTF-8 with BOM, Excel's cell forms)."""
import csv
import datetime as dt
import io
import re
import zipfile

import openpyxl
import pytest

import report_scenario as day
from conftest import api_call
from webui.reports import export
from webui.reports.table import Chart, Column, Table

RANGE = "from=2025-03-10&to=2025-03-10"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def filled(db_path, app):
    day.fill(db_path)


def workbook_bytes(client, name: str, query: str = RANGE) -> bytes:
    reply = client.get(f"/api/v1/reports/{name}?{query}&format=xlsx")
    assert reply.status == 200
    assert reply.header("Content-Type") == XLSX
    dates = re.search(r"from=([\d-]+)&to=([\d-]+)", query).groups()
    assert f'filename="branchline-{name}-{dates[0]}-{dates[1]}.xlsx"' in reply.header("Content-Disposition")
    return reply.body


def chart_parts(data: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n).decode() for n in z.namelist() if re.fullmatch(r"xl/charts/chart\d+\.xml", n)}


def test_workbook_has_a_sheet_per_table_with_typed_cells(admin, filled):
    book = openpyxl.load_workbook(io.BytesIO(workbook_bytes(admin, "calls", RANGE + "&group=hour")))
    assert book.sheetnames == ["Calls by period", "Outcomes of offered calls", "Traffic by hour of day",
                               "Definitions"]
    sheet = book["Calls by period"]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:N3"
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["Hour", "Offered", "Answered"]
    row = dict(zip(header, sheet[2]))
    assert row["Hour"].value == dt.datetime(2025, 3, 10, 9, 0) and row["Hour"].number_format == "yyyy-mm-dd hh:mm"
    assert row["Offered"].value == 4 and row["Offered"].data_type == "n"
    assert row["Service level"].value == pytest.approx(1 / 3) and row["Service level"].number_format == "0.0%"
    # A duration is a time value (days) shown as [h]:mm:ss, so Excel sums and averages it.
    assert row["ASA"].number_format == "[h]:mm:ss"
    assert row["ASA"].value == dt.timedelta(seconds=17.5)
    definitions = {(r[0].value, r[1].value): r[2].value for r in book["Definitions"].iter_rows(min_row=2)}
    assert definitions[("Calls by period", "Service level")] == (
        "Answered within the service-level target (the site's, 20 s unless set otherwise on the Reports "
        "configuration page) of entering the queue / (offered - short abandons).")


def test_workbook_charts_are_native_and_point_at_the_tables_cells(admin, filled):
    data = workbook_bytes(admin, "calls", RANGE + "&group=hour")
    charts = chart_parts(data)
    kinds = {name: ("pie" if "<c:pieChart>" in xml else "bar" if "<c:barChart>" in xml else
                    "line" if "<c:lineChart>" in xml else "?") for name, xml in charts.items()}
    assert sorted(kinds.values()) == ["bar", "bar", "line", "pie"]
    bar = next(xml for name, xml in charts.items() if kinds[name] == "bar" and "Offered" in xml)
    # Offered, answered and abandoned by hour: columns B, C, D of rows 2-3, the hours in column A.
    assert re.findall(r"<c:val><c:numRef><c:f>([^<]+)</c:f>", bar) == [
        "'Calls by period'!$B$2:$B$3", "'Calls by period'!$C$2:$C$3", "'Calls by period'!$D$2:$D$3"]
    assert set(re.findall(r"<c:cat><c:numRef><c:f>([^<]+)</c:f>", bar)) == {"'Calls by period'!$A$2:$A$3"}
    pie = next(xml for name, xml in charts.items() if kinds[name] == "pie")
    assert re.findall(r"<c:val><c:numRef><c:f>([^<]+)</c:f>", pie) == ["'Outcomes of offered calls'!$B$2:$B$7"]
    assert re.findall(r"<c:cat><c:strRef><c:f>([^<]+)</c:f>", pie) == ["'Outcomes of offered calls'!$A$2:$A$7"]
    book = openpyxl.load_workbook(io.BytesIO(data))
    outcomes = book["Outcomes of offered calls"]
    assert [(r[0].value, r[1].value) for r in outcomes.iter_rows(min_row=2)][:2] == [("Answered", 3),
                                                                                    ("Short abandons", 1)]
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        # Charts, not pictures: drawings hold chart references and the package holds no image.
        assert not [n for n in z.namelist() if n.startswith("xl/media/")]


def test_an_empty_range_makes_a_workbook_with_headers_and_no_charts(admin, filled):
    data = workbook_bytes(admin, "calls", "from=2024-01-01&to=2024-01-01")
    assert chart_parts(data) == {}
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book["Calls by period"].max_row == 1


def test_workbook_speaks_the_users_language(admin, filled, staff):
    wang = staff("wang", ["supervisor"], locale="zh")
    reply = wang.get(f"/api/v1/reports/calls?{RANGE}&format=xlsx")
    book = openpyxl.load_workbook(io.BytesIO(reply.body))
    assert "Calls by period" not in book.sheetnames
    first = book[book.sheetnames[0]]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in first["B1"].value)   # a Chinese header


def test_csv_has_a_bom_and_excels_cell_forms(admin, filled):
    reply = admin.get(f"/api/v1/reports/call_details?{RANGE}&format=csv")
    assert reply.status == 200 and reply.header("Content-Type").startswith("text/csv")
    assert reply.body.startswith(b"\xef\xbb\xbf")
    text = reply.body.decode("utf-8-sig")
    assert text.count("\r\n") == 12   # RFC 4180 line ends: the header and every call
    rows = list(csv.reader(io.StringIO(text)))
    first = dict(zip(rows[0], rows[1]))
    assert first["Call id"] == "c1" and first["Arrived"] == "2025-03-10 09:00:00"
    assert first["Talk"] == "0:04:00" and first["Wait"] == "0:00:05"
    # Every call, past the JSON's page size: the export is not paged.
    assert len(rows) == 12
    tickets = admin.get(f"/api/v1/reports/ticket_details?{RANGE}&format=csv").body.decode("utf-8-sig")
    assert "客户投诉退款延误" in tickets


def test_csv_keeps_a_formula_as_text_but_a_phone_number_as_it_is():
    assert export.csv_cell("text", "=HYPERLINK(\"http://x\")") == "'=HYPERLINK(\"http://x\")"
    assert export.csv_cell("text", "@SUM(A1)") == "'@SUM(A1)"
    assert export.csv_cell("text", "+86 21 6123 4567") == "+86 21 6123 4567"
    assert export.csv_cell("percent", 0.8125) == "81.2%"
    assert export.csv_cell("duration", 3725) == "1:02:05"


def test_a_large_export_is_written_as_it_is_read():
    taken = []

    def rows():
        for i in range(50_000):
            taken.append(i)
            yield (f"call-{i}", i)

    table = Table("big", "Big", (Column("id", "Id", "text"), Column("n", "N", "int")), rows())
    chunks = export.csv_chunks(table)
    first = next(chunks)
    assert first.startswith(b"\xef\xbb\xbf") and len(taken) < 50_000
    assert sum(len(c) for c in chunks) > 0 and len(taken) == 50_000


def test_constant_memory_workbook_from_an_iterator(tmp_path):
    table = Table("big", "Big", (Column("day", "Day", "date"), Column("n", "N", "int")),
                  ((dt.date(2025, 1, 1) + dt.timedelta(days=i % 365), i) for i in range(20_000)),
                  charts=(Chart("bar", "N", "day", ("n",)),))
    path = tmp_path / "big.xlsx"
    export.write_xlsx(str(path), "Big", [table])
    sheet = openpyxl.load_workbook(path, read_only=True)["Big"]
    assert sheet.max_row == 20_001


def test_exports_need_the_same_rights_as_the_report(admin, filled, staff):
    amy = staff("amy", ["agent"], agent_id="1001")
    assert amy.get(f"/api/v1/reports/calls?{RANGE}&format=xlsx").status == 403
    own = amy.get(f"/api/v1/reports/agents?{RANGE}&format=csv&agent=1001")
    assert own.status == 200 and "Ben Okafor" not in own.body.decode("utf-8-sig")
    assert api_call(amy, "PUT", "/api/v1/reports/keywords", {"keywords": ["x"]}).status == 403
