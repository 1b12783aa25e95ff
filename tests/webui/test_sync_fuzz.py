"""The sync API's untrusted input fuzzed (docs/architecture.md §27): a cursor, a page size or a Range
header from a client is any text. Each is its value or the module's own refusal, never another
exception; a cursor the box handed out reads back as itself; a page never holds a change at or below
the cursor asked from; a byte range served lies inside the file (RFC 9110 §14)."""
from __future__ import annotations

import json

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from firmware.store import open_db
from firmware.store.sync import MAX_LIMIT, CursorError, FileRefused, create_token, parse_cursor, parse_limit
from webui.sync import _byte_range

FUZZ = settings(max_examples=300, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture])
NUMBERISH = st.one_of(st.text(max_size=30), st.integers(-10, 10 ** 30).map(str),
                      st.sampled_from(["", " 1", "1 ", "+1", "0x10", "1e3", "٣", "1" * 5000]))


@FUZZ
@given(NUMBERISH)
def test_any_cursor_is_a_sequence_or_refused_by_name(text):
    try:
        since = parse_cursor(text)
    except CursorError as exc:
        assert "since" in str(exc) and len(str(exc)) < 200, "the refusal quotes a bounded piece of the cursor"
    else:
        assert 0 <= since < 2 ** 63, "a cursor SQLite can compare with a change sequence"


@FUZZ
@given(st.integers(0, 10 ** 18 - 1))
def test_a_cursor_the_box_hands_out_reads_back_as_itself(seq):
    assert parse_cursor(str(seq)) == seq


@FUZZ
@given(NUMBERISH)
def test_any_limit_is_a_page_size_within_the_contract_or_refused(text):
    try:
        limit = parse_limit(text)
    except CursorError as exc:
        assert "limit" in str(exc)
    else:
        assert 1 <= limit <= MAX_LIMIT


HEADERS = st.one_of(st.text(max_size=30),
                    st.builds("bytes={}-{}".format, st.one_of(st.just(""), st.integers(0, 300).map(str)),
                              st.one_of(st.just(""), st.integers(0, 300).map(str))))


@FUZZ
@given(HEADERS, st.integers(0, 200))
# RFC 9110 §14.1.1: a suffix range of length 0, or of an empty file, is unsatisfiable (416), not an
# empty 206 whose Content-Range runs backwards.
@example("bytes=-0", 100)
@example("bytes=-5", 0)
def test_any_range_header_is_the_file_a_span_inside_it_or_unsatisfiable(header, size):
    try:
        span = _byte_range(header, size)
    except FileRefused as exc:
        assert str(exc)
        return
    if span is not None:
        first, last = span
        assert 0 <= first <= last < size


def test_changes_from_any_cursor_come_after_it(client, db_path, records):
    db = open_db(db_path)
    _, token = create_token(db.conn, "fuzz", 1.0)
    db.conn.close()

    @FUZZ
    @given(st.one_of(st.integers(0, 60).map(str), NUMBERISH), st.one_of(st.integers(1, 7).map(str), NUMBERISH))
    def check(since, limit):
        reply = client.get(f"/api/v1/sync/changes?since={since}&limit={limit}",
                           headers={"Authorization": f"Bearer {token}"})
        assert reply.status in (200, 400), reply.text
        if reply.status == 400:
            assert reply.json()["error"]
            return
        *changes, trailer = [json.loads(line) for line in reply.text.splitlines()]
        cursor = parse_cursor(since)
        assert all(cursor < c["seq"] <= trailer["next"] for c in changes)
        assert trailer["count"] == len(changes) <= parse_limit(limit) and trailer["next"] >= cursor
        assert [c["seq"] for c in changes] == sorted(c["seq"] for c in changes)
    check()
