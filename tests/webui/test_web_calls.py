"""The call list (filters, pagination, sorting) and a call's timeline, as pages and as JSON."""
import datetime as dt
import html
import json
import time

import pytest

from firmware.store import open_db


def ids(reply):
    return [c["id"] for c in reply.json()["calls"]]


def newest_first(calls):
    return [c["id"] for c in sorted(calls, key=lambda c: c["arrived_at"], reverse=True)]


def on_day(call, day):
    return dt.date.fromtimestamp(call["arrived_at"]) == day


def test_the_list_shows_the_newest_calls_first_fifty_a_page(admin, records):
    reply = admin.get("/api/v1/calls")
    assert reply.status == 200
    body = reply.json()
    assert (body["total"], body["page"], body["per_page"], body["pages"], body["order"]) == (120, 1, 50, 3, "desc")
    assert ids(reply) == newest_first(records)[:50]
    page = admin.get("/calls")
    assert "1–50 of 120 calls" in page.text
    assert page.text.count('href="/calls/call-') == 50


def test_pages_follow_on_and_run_out(admin, records):
    expected = newest_first(records)
    assert ids(admin.get("/api/v1/calls?page=2")) == expected[50:100]
    assert ids(admin.get("/api/v1/calls?page=3")) == expected[100:]
    past_the_end = admin.get("/api/v1/calls?page=4").json()
    assert past_the_end["calls"] == [] and past_the_end["total"] == 120
    small = admin.get("/api/v1/calls?per_page=10&page=12").json()
    assert small["pages"] == 12 and [c["id"] for c in small["calls"]] == expected[110:]


def test_sorting_by_arrival_oldest_first(admin, records):
    assert ids(admin.get("/api/v1/calls?order=asc&per_page=5")) == [c["id"] for c in records[:5]]
    page = admin.get("/calls?order=asc").text
    header = page[page.index('<a class="sort"'):][:200]
    assert 'href="/calls"' in header and "Sort newest first" in header
    assert 'href="/calls?order=asc&amp;page=2"' in page


FILTERS = [
    ("number=5550007", lambda c: "5550007" in c["number"]),
    ("number=001", lambda c: "001" in c["number"]),
    ("queue=sales", lambda c: c["queue"] == "sales"),
    ("disposition=abandoned", lambda c: c["disposition"] == "abandoned"),
    ("agent=1002", lambda c: c["agent_id"] == "1002"),
    ("from=2025-03-11&to=2025-03-11", lambda c: on_day(c, dt.date(2025, 3, 11))),
    ("from=2025-03-12", lambda c: c["arrived_at"] >= time.mktime(dt.date(2025, 3, 12).timetuple())),
    ("to=2025-03-10", lambda c: on_day(c, dt.date(2025, 3, 10))),
    ("from=2025-03-12&queue=service&disposition=answered",
     lambda c: on_day(c, dt.date(2025, 3, 12)) and c["queue"] == "service" and c["disposition"] == "answered"),
    ("number=%25", lambda c: False),   # LIKE wildcards are literal characters here
    ("number=_", lambda c: False),
]


@pytest.mark.parametrize("query, keep", FILTERS, ids=[q for q, _ in FILTERS])
def test_filters_select_the_matching_calls(admin, records, query, keep):
    expected = newest_first([c for c in records if keep(c)])
    body = admin.get(f"/api/v1/calls?per_page=200&{query}").json()
    assert body["total"] == len(expected)
    assert [c["id"] for c in body["calls"]] == expected
    page = admin.get(f"/calls?per_page=200&{query}")
    assert page.status == 200
    assert page.text.count('href="/calls/call-') == len(expected)


def test_the_day_filter_counts_whole_local_days(admin, records):
    assert admin.get("/api/v1/calls?from=2025-03-11&to=2025-03-11").json()["total"] == 48


def test_page_links_keep_the_filters(admin, records):
    page = admin.get("/calls?queue=sales&per_page=10").text
    assert 'href="/calls?queue=sales&amp;page=2&amp;per_page=10"' in page
    sales = sum(c["queue"] == "sales" for c in records)
    assert f"Page 1 of {-(-sales // 10)}" in page
    assert '<option value="sales" selected>' in page


def test_a_row_shows_everything_about_the_call(admin, records):
    page = admin.get("/calls?number=5550001").text
    row = page[page.index('href="/calls/call-0001"'):]
    row = row[:row.index("</tr>")]
    for text in ("Mar 10, 2025, 00:30:00", "0215550001", "welcome › main_menu › queue_sales",
                 ">1</td>", "sales", "0:01", "Ben Okafor", "2:31", "Answered"):
        assert text in row, text


@pytest.mark.parametrize("query, message", [
    ("from=2025-13-01", "From date must be a date like 2025-03-31, not '2025-13-01'."),
    ("to=yesterday", "To date must be a date like 2025-03-31"),
    ("from=2025-03-12&to=2025-03-10", "To date is before the From date."),
    ("disposition=lost", "Disposition must be one of: answered, abandoned"),
    ("order=sideways", "Order must be asc (oldest first) or desc (newest first)."),
    ("page=0", "Page must be a whole number from 1"),
    ("per_page=5000", "Per page must be a whole number from 1 to 200."),
    ("number=" + "9" * 65, "Number filter is longer than 64 characters."),
])
def test_bad_filters_are_explained(admin, records, query, message):
    page = admin.get(f"/calls?{query}")
    assert page.status == 400
    assert message in html.unescape(page.text)
    assert 'href="/calls/call-' not in page.text
    api = admin.get(f"/api/v1/calls?{query}")
    assert api.status == 400 and message in api.json()["error"]


def test_the_call_page_shows_the_timeline_from_arrival(admin, records):
    page = admin.get("/calls/call-0001")
    assert page.status == 200
    text = page.text
    steps = [("+0:01.0", "Answered by the box"), ("+0:01.2", "IVR node"), ("+0:06.5", "IVR node"),
             ("+0:09.8", "Digit pressed"), ("+0:14.0", "Entered queue"), ("+0:14.5", "Ringing agent"),
             ("+0:15.0", "Connected to agent"), ("+3:20.0", "Hung up")]
    positions = [text.index(f'{offset}</td>') for offset, _ in steps]
    assert positions == sorted(positions)
    for offset, label in steps:
        assert label in text[text.index(f"{offset}</td>"):][:400]
    assert '<span class="k">digit</span> 1' in text
    assert '<span class="k">node</span> main_menu' in text
    assert "Ben Okafor" in text and "welcome › main_menu › queue_sales" in text


def test_the_call_api_gives_the_row_and_its_events(admin, records):
    body = admin.get("/api/v1/calls/call-0001").json()
    assert body["call"]["id"] == "call-0001"
    assert body["call"]["path"] == ["welcome", "main_menu", "queue_sales"]
    assert body["call"]["agent_name"] == "Ben Okafor"
    kinds = [e["kind"] for e in body["events"]]
    assert kinds == ["call:answered", "ivr:node", "ivr:node", "ivr:digit", "ivr:node", "queue:enter",
                     "agent:ring", "queue:connect", "call:hangup"]
    assert body["events"][3]["data"] == {"digit": "1"}
    assert [round(e["offset"], 1) for e in body["events"]][:2] == [1.0, 1.2]


def test_a_call_without_events_says_so(admin, records):
    assert "No events were recorded for this call." in admin.get("/calls/call-0002").text


def test_an_unknown_call_is_404(admin, records):
    page = admin.get("/calls/call-9999")
    assert page.status == 404 and "There is no call with id call-9999." in page.text
    api = admin.get("/api/v1/calls/call-9999")
    assert api.status == 404 and api.json() == {"error": "no call with id call-9999"}


def test_caller_data_is_escaped(admin, db_path):
    db = open_db(db_path)
    db["calls"].insert({"id": "call-x", "number": "<b>021</b>", "name": "<script>alert(1)</script>",
                        "arrived_at": time.time(), "path": json.dumps(["<i>menu</i>"]), "disposition": "answered"})
    db.conn.close()
    for path in ("/calls", "/calls/call-x"):
        text = admin.get(path).text
        assert "<script>alert(1)</script>" not in text and "<b>021</b>" not in text
        assert "&lt;b&gt;021&lt;/b&gt;" in text


def test_every_disposition_the_engine_writes_can_be_filtered_on():
    from firmware.callcenter.calls import Disposition
    from webui.records import DISPOSITIONS
    assert set(DISPOSITIONS) == {d.value for d in Disposition}


def test_the_disposition_filter_accepts_a_fax(admin, records):
    reply = admin.get("/api/v1/calls?disposition=fax")
    assert reply.status == 200 and reply.json()["calls"] == []


def test_the_post_call_survey_answers_show_on_the_call_page_and_in_its_api(admin, records, db_path):
    db = open_db(db_path)
    db["survey_answers"].insert_all([
        {"id": "s1", "call_id": "call-0001", "survey": "csat", "question": "satisfaction", "answer": "4",
         "at": records[1]["arrived_at"] + 230.0},
        {"id": "s2", "call_id": "call-0003", "survey": "csat", "question": "satisfaction", "answer": "1",
         "at": records[3]["arrived_at"] + 100.0}])
    db.conn.close()
    page = admin.get("/calls/call-0001").text
    panel = page[page.index('id="survey-answers"'):page.index("</section>", page.index('id="survey-answers"'))]
    assert "<td>csat</td><td>satisfaction</td><td class=\"num\">4</td>" in panel
    assert ">1</td>" not in panel, "another call's answer is not this call's"
    body = admin.get("/api/v1/calls/call-0001").json()
    assert [(s["survey"], s["answer"]) for s in body["surveys"]] == [("csat", "4")]
    assert 'id="survey-answers"' not in admin.get("/calls/call-0002").text
