"""CSV imports fuzzed (docs/architecture.md §27): a customer book or a campaign's contact list is a file
from anywhere (Excel on Windows or a Mac, another system's dump, a hostile upload). Any file is rows or
one clear refusal (400 with `error`), never a 500; what the box exports imports back as it was, quotes,
commas, line ends, Chinese and cells Excel would take for formulas included."""
from __future__ import annotations

import csv
import io

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from webui.campaign_csv import read_contacts
from webui.customer_csv import BOM, CsvError, decode, safe_cell

from conftest import api_call

FUZZ = settings(max_examples=80, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
CELL = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)
# Line ends of every kind, quotes, separators and formula starts, more often than plain text would have them.
CSV_TEXT = st.lists(st.one_of(CELL, st.sampled_from(["\r", "\n", "\r\n", '"', ",", "=1+1", "'", "电话", "number"])),
                    max_size=30).map("".join)
CR_FILE = "number,name\r13800138000,Li\r13900139000,Wang\r"
LONG_CELL = 'number\n"' + "1" * 200_000 + '"\n'


@FUZZ
@given(CSV_TEXT)
@example(CR_FILE)
@example(LONG_CELL)
def test_any_text_is_contacts_or_one_refusal(text):
    try:
        rows = read_contacts(text)
    except CsvError as exc:
        assert str(exc)
        return
    lines = [r["line"] for r in rows]
    assert lines == sorted(set(lines)) and all(line >= 2 for line in lines)
    for r in rows:
        assert isinstance(r["number"], str) and isinstance(r["name"], str) and isinstance(r["data"], dict)


def test_a_file_with_bare_cr_line_ends_reads_as_its_lines():
    # Excel's "CSV (Macintosh)" ends lines with CR alone.
    assert [(r["line"], r["number"], r["name"]) for r in read_contacts(CR_FILE)] == [
        (2, "13800138000", "Li"), (3, "13900139000", "Wang")]


NAME = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zs", "Zl", "Zp")), min_size=1,
               max_size=20).filter(lambda s: s == s.strip())


@FUZZ
@given(st.lists(st.tuples(st.text("0123456789+-= ", min_size=1, max_size=15).filter(str.strip), NAME),
                min_size=1, max_size=8))
# A name that starts with an apostrophe keeps it: the export marks it text with one more.
@example([("1", "'Tis a name")])
@example([("=1", "@home")])
def test_contacts_written_as_the_box_exports_them_read_back_as_they_were(contacts):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Number", "Name"])
    for number, name in contacts:
        writer.writerow([safe_cell(number), safe_cell(name)])
    text = decode((BOM + out.getvalue()).encode("utf-8"))
    assert [(r["number"], r["name"]) for r in read_contacts(text)] == contacts


def send(client, path: str, body: bytes):
    return client.post(path, raw=(body, "text/csv"), headers={"X-CSRF-Token": client.csrf("/")})


BYTES = st.one_of(st.binary(max_size=300), CSV_TEXT.map(lambda t: t.encode("utf-8")),
                  CSV_TEXT.map(lambda t: t.encode("gb18030")))


def test_any_customer_book_is_a_preview_or_a_400(admin):
    @FUZZ
    @given(BYTES)
    @example(CR_FILE.replace("number,name", "numbers,name").encode())
    @example(LONG_CELL.replace("number", "numbers").encode())
    def check(body):
        reply = send(admin, "/api/v1/customers/import?commit=false", body)
        assert reply.status in (200, 400), reply.text
        if reply.status == 400:
            assert reply.json()["error"]
        else:
            assert reply.json()["imported"] == 0
    check()


@pytest.fixture
def campaign_id(admin) -> str:
    reply = api_call(admin, "POST", "/api/v1/campaigns", {
        "name": "Fuzz", "mode": "message", "purpose": "reminder", "prompt": "welcome", "confirm_key": "1",
        "hours": {"days": [1, 2, 3, 4, 5], "start": "09:00", "end": "18:00"}, "max_attempts": 3,
        "retry": {"busy": 600, "no_answer": 3600}, "max_lines": 2, "pace": 2})
    assert reply.status == 201, reply.text
    return reply.json()["campaign"]["id"]


def test_any_contact_list_is_a_preview_or_a_400(admin, campaign_id):
    @FUZZ
    @given(BYTES)
    @example(CR_FILE.encode())
    @example(LONG_CELL.encode())
    def check(body):
        reply = send(admin, f"/api/v1/campaigns/{campaign_id}/contacts/import", body)
        assert reply.status in (200, 400), reply.text
        if reply.status == 400:
            assert reply.json()["error"]
        else:
            assert reply.json()["imported"] == 0
            assert all(row["line"] >= 2 for row in reply.json()["rows"])
    check()
