"""Recordings in the web UI (issue 15 item 5): the search and each of its filters, who hears which
recording, the audio in byte ranges, every play and download in the audit log, the waveform's peaks,
and quality evaluations against the configurable form."""
import datetime as dt
import json
import sqlite3

import numpy as np
import pytest

from firmware.core import peaks
from firmware.core.recorder import wav_header
from webui.quality_form import DEFAULTS, QualityFormFile, parse, weighted_score

from conftest import SAMPLE_CALLS, api_call, sample_call

TICKET_ID = "abcdef0123456789abcdef0123456789"
ANSWERED = [sample_call(i) for i in range(SAMPLE_CALLS) if sample_call(i)["disposition"] == "answered"]


def rec_id(call: dict) -> str:
    return "rec-" + call["id"]


def tone_wav(seconds: float = 0.5) -> bytes:
    """Stereo as the recorder writes it: a 1 kHz tone on the left (the caller), silence on the right."""
    t = np.arange(int(seconds * 8000)) / 8000
    left = (12000 * np.sin(2 * np.pi * 1000 * t)).astype(np.int16)
    raw = np.ascontiguousarray(np.stack([left, np.zeros_like(left)]).T).astype("<i2").tobytes()
    return wav_header(len(raw)) + raw


@pytest.fixture
def recorded(records, db_path):
    """A recording for every answered sample call (files for the first two), a customer card on
    call-0004, a ticket from call-0006; returns the recordings directory."""
    directory = db_path.with_name("recordings")
    conn = sqlite3.connect(db_path)
    with conn:
        for call in ANSWERED:
            conn.execute("INSERT INTO recordings (id, call_id, path, duration, size, sha256, created_at)"
                         " VALUES (?, ?, ?, ?, ?, '', ?)", [rec_id(call), call["id"], f"2025/03/10/{call['id']}.wav",
                                                             call["talk"], 0, call["ended_at"]])
        conn.execute("INSERT INTO customers (id, number, name, company, updated_at) VALUES"
                     " ('cust-1', '+862155500004', 'Zhang Hua', 'Acme Trading', 0)")
        conn.execute("UPDATE calls SET customer_id = 'cust-1' WHERE id = 'call-0004'")
        conn.execute("INSERT INTO tickets (id, call_id, category, priority, state, created_at, updated_at, title)"
                     " VALUES (?, 'call-0006', 'complaint', 'normal', 'new', 0, 0, 'Late delivery')", [TICKET_ID])
    conn.close()
    for call in ANSWERED[:2]:
        path = directory / "2025/03/10" / f"{call['id']}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(tone_wav())
        with sqlite3.connect(db_path) as conn:
            conn.execute("UPDATE recordings SET size = ?, duration = 0.5 WHERE id = ?", [path.stat().st_size,
                                                                                          rec_id(call)])
    return directory


def found(client, query: str = "") -> set[str]:
    reply = client.get("/api/v1/recordings?per_page=200" + ("&" + query if query else ""))
    assert reply.status == 200, reply.text
    body = reply.json()
    assert body["total"] == len(body["recordings"])
    return {r["call_id"] for r in body["recordings"]}


def ids(calls) -> set[str]:
    return {c["id"] for c in calls}


@pytest.mark.parametrize("walk_rows", [0, 10 ** 9], ids=["matches-sorted", "index-walked"])
def test_each_filter_finds_exactly_the_recordings_it_describes(admin, recorded, db_path, monkeypatch, walk_rows):
    # Both ways a page is read (webui/recording_queries.py search) give the same recordings in the same order.
    monkeypatch.setattr("webui.recording_queries.WALK_ROWS", walk_rows)
    assert found(admin) == ids(ANSWERED)
    # Dates are the local days the recordings were made (ended with their calls).
    assert found(admin, "from=2025-03-11&to=2025-03-11") == ids(
        c for c in ANSWERED if dt.date.fromtimestamp(c["ended_at"]) == dt.date(2025, 3, 11))
    assert found(admin, "from=2025-03-12") == ids(c for c in ANSWERED if dt.date.fromtimestamp(c["ended_at"])
                                                  >= dt.date(2025, 3, 12))
    assert found(admin, "number=5550012") == ids(c for c in ANSWERED if "5550012" in c["number"])
    assert found(admin, "agent=1002") == ids(c for c in ANSWERED if c["agent_id"] == "1002")
    assert found(admin, "queue=sales") == ids(c for c in ANSWERED if c["queue"] == "sales")
    assert found(admin, "customer=zhang") == found(admin, "customer=acme") == found(admin, "customer=cust-1") \
        == {"call-0004"}
    assert found(admin, "ticket=" + TICKET_ID[:6]) == found(admin, "ticket=" + TICKET_ID.upper()) == {"call-0006"}
    assert found(admin, "disposition=answered") == ids(ANSWERED)
    assert found(admin, "disposition=abandoned") == set()
    assert found(admin, "min_duration=200&max_duration=230") == ids(c for c in ANSWERED if 200 <= c["talk"] <= 230)
    with sqlite3.connect(db_path) as conn:
        conn.execute("INSERT INTO evaluations (id, recording_id, call_id, agent_id, evaluator, score, scores, created_at)"
                     " VALUES ('ev-1', ?, 'call-0010', '1002', 'sue', 75, '[]', 0)", [rec_id(sample_call(10))])
    assert found(admin, "evaluated=1") == {"call-0010"}
    assert found(admin, "evaluated=0") == ids(ANSWERED) - {"call-0010"}
    # Filters combine; the newest call comes first and pages hold what was asked.
    assert found(admin, "queue=sales&agent=1002") == ids(c for c in ANSWERED if c["queue"] == "sales"
                                                         and c["agent_id"] == "1002")
    page = admin.get("/api/v1/recordings?per_page=5&page=2").json()
    newest = sorted(ANSWERED, key=lambda c: -c["ended_at"])
    assert [r["call_id"] for r in page["recordings"]] == [c["id"] for c in newest[5:10]]
    assert page["pages"] == -(-len(ANSWERED) // 5)


def test_a_range_with_no_recording_is_an_empty_page_and_bad_filters_are_named(admin, recorded):
    assert found(admin, "from=2030-01-01") == set()
    for query, field in (("min_duration=-1", "Shortest"), ("max_duration=abc", "Longest"), ("ticket=ab", "ticket"),
                         ("from=2025-03-12&to=2025-03-10", "To date"), ("evaluated=yes", "Evaluated"),
                         ("min_duration=30&max_duration=10", "longest")):
        reply = admin.get("/api/v1/recordings?" + query)
        assert reply.status == 400 and field.lower() in reply.json()["error"].lower(), (query, reply.text)
    page = admin.get("/recordings?min_duration=-1")
    assert page.status == 400 and "Fix the filters" in page.text


def test_the_search_page_lists_and_links_each_recording_to_its_player(admin, recorded):
    page = admin.get("/recordings?number=0215550004")
    assert page.status == 200
    assert 'href="/recordings/rec-call-0004"' in page.text and "Zhang Hua" in page.text
    assert 'href="/recordings/rec-call-0001"' not in page.text


def test_an_agent_finds_hears_and_downloads_only_the_calls_they_took(staff, recorded):
    amy = staff("amy", ["agent"], agent_id="1001")
    own = ids(c for c in ANSWERED if c["agent_id"] == "1001")
    assert found(amy) == own
    # Asking for another agent's calls gives nothing rather than them.
    assert found(amy, "agent=1002") == set()
    other = next(c for c in ANSWERED if c["agent_id"] != "1001")
    mine = next(c for c in ANSWERED[:2] if c["agent_id"] == "1001")
    for path in ("", "/peaks", "/audio", "/download", "/evaluations"):
        assert amy.get(f"/api/v1/recordings/{rec_id(other)}{path}").status == 404, path
    assert amy.get(f"/recordings/{rec_id(other)}").status == 404
    assert amy.get(f"/api/v1/recordings/{rec_id(mine)}/audio").status == 200
    assert amy.get(f"/recordings/{rec_id(mine)}").status == 200
    # Agents hear their calls' scores but do not score.
    reply = api_call(amy, "POST", f"/api/v1/recordings/{rec_id(mine)}/evaluations", {"scores": {}})
    assert reply.status == 403


def test_a_technician_hears_no_recording(staff, recorded):
    tech = staff("tom", ["technician"])
    assert tech.get("/api/v1/recordings").status == 403
    assert tech.get(f"/api/v1/recordings/{rec_id(ANSWERED[0])}/audio").status == 403


def audit_rows(db_path, action: str) -> list[tuple]:
    with sqlite3.connect(db_path) as conn:
        return conn.execute("SELECT username, target, detail FROM audit_log WHERE action = ? ORDER BY at, rowid",
                            [action]).fetchall()


def test_the_audio_is_served_in_byte_ranges_and_each_play_is_audited_once(admin, recorded, db_path, clock,
                                                                           password):
    rid = rec_id(ANSWERED[0])
    whole = (recorded / "2025/03/10" / f"{ANSWERED[0]['id']}.wav").read_bytes()
    reply = admin.get(f"/api/v1/recordings/{rid}/audio", headers={"Range": "bytes=0-"})
    assert reply.status == 206 and reply.body == whole
    assert reply.header("Content-Disposition").startswith("inline")
    # The player's seeks fetch later ranges: the same play, not another in the log.
    reply = admin.get(f"/api/v1/recordings/{rid}/audio", headers={"Range": "bytes=1000-1999"})
    assert reply.status == 206 and reply.body == whole[1000:2000]
    assert reply.header("Content-Range") == f"bytes 1000-1999/{len(whole)}"
    assert reply.header("Accept-Ranges") == "bytes"
    refused = admin.get(f"/api/v1/recordings/{rid}/audio", headers={"Range": f"bytes={len(whole)}-"})
    assert refused.status == 416
    plays = audit_rows(db_path, "recording.play")
    assert [(u, t) for u, t, _ in plays] == [("admin", rid)]
    assert json.loads(plays[0][2])["call_id"] == ANSWERED[0]["id"]
    # Played from the start again: a second play. A client skipping the start after a long pause: a third.
    admin.get(f"/api/v1/recordings/{rid}/audio")
    clock.advance(3600)
    admin.login("admin", password)      # an hour away: the session ended idle (webui/auth.py SESSION_IDLE)
    admin.get(f"/api/v1/recordings/{rid}/audio", headers={"Range": "bytes=44-"})
    assert len(audit_rows(db_path, "recording.play")) == 3


def test_every_download_is_audited_and_named_after_the_call(staff, recorded, db_path):
    sue = staff("sue", ["supervisor"])
    rid = rec_id(ANSWERED[1])
    for _ in range(2):
        reply = sue.get(f"/api/v1/recordings/{rid}/download")
        assert reply.status == 200 and reply.body[:4] == b"RIFF"
        assert reply.header("Content-Disposition") == f'attachment; filename="{ANSWERED[1]["id"]}.wav"'
    assert [(u, t) for u, t, _ in audit_rows(db_path, "recording.download")] == [("sue", rid), ("sue", rid)]
    assert sue.get(f"/api/v1/recordings/{rec_id(ANSWERED[5])}/download").status == 404   # no file on the box


def test_peaks_of_a_recording_without_any_are_computed_once_and_kept(admin, recorded):
    call = ANSWERED[0]
    wav = recorded / "2025/03/10" / f"{call['id']}.wav"
    assert peaks.read(wav) is None
    reply = admin.get(f"/api/v1/recordings/{rec_id(call)}/peaks")
    assert reply.status == 200
    body = reply.json()
    left, right = body["channels"]
    assert body["seconds_per_peak"] == 0.01 and len(left["max"]) == 50 and body["frames"] == 4000
    # The caller's tone peaks at 12000 / 256; what the caller heard was silence.
    assert min(left["max"]) >= 45 and max(left["min"]) <= -45
    assert set(right["min"]) == set(right["max"]) == {0}
    assert peaks.read(wav) == peaks.compute(wav)
    assert admin.get(f"/api/v1/recordings/{rec_id(call)}/peaks").json() == body


def test_the_player_shows_the_call_its_events_on_the_recordings_timeline_and_links(admin, recorded, db_path):
    call = sample_call(1)
    with sqlite3.connect(db_path) as conn:
        conn.execute("INSERT INTO call_events (id, call_id, at, kind, data) VALUES ('h', ?, ?, 'call:hold', '{}')",
                     [call["id"], call["ended_at"] - 0.25])
    page = admin.get(f"/recordings/{rec_id(call)}")
    assert page.status == 200
    assert 'src="/api/v1/recordings/rec-call-0001/audio"' in page.text and 'preload="none"' in page.text
    detail = admin.get(f"/api/v1/recordings/{rec_id(call)}").json()
    # The recording (0.5 s) ends with the call at +200 s: the hang-up is at its end, the IVR before it.
    positions = {e["kind"]: e["position"] for e in detail["events"]}
    assert positions["call:hangup"] == pytest.approx(0.5)
    assert positions["ivr:digit"] == pytest.approx(9.8 - 199.5)
    assert 'data-seek="0.5"' in page.text and 'data-kind="ivr:digit"' in page.text
    assert positions["call:hold"] == pytest.approx(0.25) and "On hold" in page.text
    # Opening the page plays nothing: the audio is fetched when the user presses play.
    assert admin.get(f"/calls/{call['id']}").text.count(f'href="/recordings/{rec_id(call)}"') == 1


def test_the_ticket_page_links_its_calls_recording_to_the_player(admin, recorded):
    page = admin.get(f"/tickets/{TICKET_ID}")
    assert page.status == 200 and f'href="/recordings/{rec_id(sample_call(6))}"' in page.text


# --- quality evaluations -----------------------------------------------------------------------------
def test_the_score_is_the_weighted_share_of_the_points():
    form = parse({"quality": {"pass_score": 80}, "criterion": [
        {"id": "a", "name": {"en": "A"}, "weight": 30, "max_points": 5},
        {"id": "b", "name": {"en": "B"}, "weight": 10, "max_points": 10}]})
    # 100 * (30 * 4/5 + 10 * 5/10) / 40 = 100 * (24 + 5) / 40 = 72.5
    score, given = form.score({"a": 4, "b": 5})
    assert score == 72.5 and [g["points"] for g in given] == [4, 5]
    assert form.score({"a": 5, "b": 10})[0] == 100.0 and form.score({"a": 0, "b": 0})[0] == 0.0
    assert weighted_score([]) == 0.0


def test_the_stock_form_is_valid_and_its_weights_make_a_hundred():
    form = QualityFormFile(DEFAULTS.parent / "none").load()
    assert sum(c.weight for c in form.criteria) == 100 and all(c.names.get("zh") for c in form.criteria)


@pytest.mark.parametrize("change, field", [
    (lambda d: d["criterion"][0].update(weight=0), "criterion[0].weight"),
    (lambda d: d["criterion"][1].update(max_points=2.5), "criterion[1].max_points"),
    (lambda d: d["criterion"][1].update(id="greeting"), "criterion[1].id"),
    (lambda d: d["criterion"][0].update(id="Bad Id"), "criterion[0].id"),
    (lambda d: d["criterion"][0].update(name={"zh": "只有中文"}), "criterion[0].name.en"),
    (lambda d: d["criterion"][0].update(colour="red"), "criterion[0]"),
    (lambda d: d["quality"].update(pass_score=101), "quality.pass_score"),
    (lambda d: d.update(criterion=[]), "criterion"),
])
def test_a_bad_form_is_refused_naming_the_field(change, field):
    import tomllib
    data = tomllib.loads(DEFAULTS.read_text())
    change(data)
    with pytest.raises(ValueError) as refused:
        parse(data)
    assert field in refused.value.problems


def scores_for(form: dict, points=lambda c: c["max_points"]) -> dict:
    return {c["id"]: points(c) for c in form["criteria"]}


def test_a_supervisor_scores_a_call_and_the_score_shows_on_the_player(staff, recorded, db_path):
    sue = staff("sue", ["supervisor"])
    rid = rec_id(ANSWERED[0])
    form = sue.get("/api/v1/quality/form").json()
    url = f"/api/v1/recordings/{rid}/evaluations"
    missing = api_call(sue, "POST", url, {"scores": {form["criteria"][0]["id"]: 1}})
    assert missing.status == 400 and len(missing.json()["problems"]) == len(form["criteria"]) - 1
    over = scores_for(form)
    over[form["criteria"][0]["id"]] += 1
    assert api_call(sue, "POST", url, {"scores": over}).status == 400
    assert api_call(sue, "POST", url, {"scores": {**scores_for(form), "extra": 1}}).status == 400
    assert api_call(sue, "POST", url, {"scores": scores_for(form), "comment": "x" * 2001}).status == 400
    # Half of every criterion's points (rounded down) scored by hand against the stock form.
    points = scores_for(form, lambda c: c["max_points"] // 2)
    expected = round(100 * sum(c["weight"] * (c["max_points"] // 2) / c["max_points"] for c in form["criteria"])
                     / sum(c["weight"] for c in form["criteria"]), 1)
    reply = api_call(sue, "POST", url, {"scores": points, "comment": "Verify the caller first."})
    assert reply.status == 201, reply.text
    evaluation = reply.json()
    assert evaluation["score"] == expected and evaluation["agent_id"] == ANSWERED[0]["agent_id"]
    assert sue.get(url).json()["evaluations"][0]["id"] == evaluation["id"]
    page = sue.get(f"/recordings/{rid}").text
    assert "Verify the caller first." in page and 'id="evaluate"' in page
    # Half the points is below the stock form's pass score of 80: the page says the call needs coaching.
    assert expected < 80 and "needs coaching" in page
    assert found(sue, "evaluated=1") == {ANSWERED[0]["id"]}
    assert [(u, t) for u, t, _ in audit_rows(db_path, "recording.evaluate")] == [("sue", rid)]
    # Nothing was stored for the refused attempts.
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT count(*) FROM evaluations").fetchone()[0] == 1


def test_the_admin_edits_the_form_every_field_checked_and_the_change_audited(admin, db_path, tmp_path):
    page = admin.get("/quality")
    assert page.status == 200
    form = admin.get("/api/v1/quality/form").json()
    fields = {"csrf_token": admin.csrf("/quality"), "version": form["version"], "pass_score": "85",
              "rows": str(len(form["criteria"]) + 1)}
    for i, c in enumerate(form["criteria"]):
        fields.update({f"id_{i}": c["id"], f"name_en_{i}": c["name"]["en"], f"name_zh_{i}": c["name"].get("zh", ""),
                       f"weight_{i}": str(c["weight"]), f"max_points_{i}": str(c["max_points"])})
    fields["remove_0"] = "1"
    n = len(form["criteria"])
    fields.update({f"id_{n}": "upsell", f"name_en_{n}": "Offers the right product", f"weight_{n}": "heavy",
                   f"max_points_{n}": "5"})
    refused = admin.post("/quality", form=fields)
    assert refused.status == 400 and f"row{n}.weight" in refused.text
    assert (tmp_path / "config" / "quality.toml").exists() is False
    fields[f"weight_{n}"] = "7.5"
    assert admin.post("/quality", form=fields).status == 303
    saved = admin.get("/api/v1/quality/form").json()
    assert [c["id"] for c in saved["criteria"]] == [c["id"] for c in form["criteria"][1:]] + ["upsell"]
    assert saved["pass_score"] == 85 and saved["criteria"][-1]["weight"] == 7.5
    (_, target, detail), = audit_rows(db_path, "quality.form")
    detail = json.loads(detail)
    assert detail["added"] == ["upsell"] and detail["removed"] == [form["criteria"][0]["id"]]
    # A save from the version before is refused: someone else changed it since.
    stale = api_call(admin, "PUT", "/api/v1/quality/form", {**saved, "version": form["version"]})
    assert stale.status == 409
    again = api_call(admin, "PUT", "/api/v1/quality/form", {**saved, "pass_score": 70})
    assert again.status == 200 and again.json()["pass_score"] == 70


def test_the_agent_report_shows_each_agents_mean_quality_score(admin, db_path, staff):
    import report_scenario as day
    day.fill(db_path)
    with sqlite3.connect(db_path) as conn:
        conn.execute("INSERT INTO calls (id, direction, arrived_at, agent_id, queue, queued_at, connected_at)"
                     " VALUES ('next-day', 'inbound', ?, '1001', 'sales', ?, ?)",
                     [day.at(9, 0) + 86400] * 3)
        # Ana's c1 scored twice and c5 once; Ben's c2 once; Ana's call of the next day lies outside the range.
        for n, (call, agent, score) in enumerate((("c1", "1001", 80), ("c1", "1001", 90), ("c5", "1001", 61),
                                                  ("c2", "1002", 70), ("next-day", "1001", 10))):
            conn.execute("INSERT INTO evaluations (id, recording_id, call_id, agent_id, evaluator, score, scores,"
                         " created_at) VALUES (?, ?, ?, ?, 'sue', ?, '[]', ?)",
                         [f"ev{n}", f"rec-{call}", call, agent, score, day.at(18, 0)])
    reply = admin.get("/api/v1/reports/agents?from=2025-03-10&to=2025-03-10")
    assert reply.status == 200, reply.text
    found_table = next(t for t in reply.json()["tables"] if t["name"] == "agents")
    keys = [c["key"] for c in found_table["columns"]]
    rows = {r[0]: dict(zip(keys, r)) for r in found_table["rows"]}
    ana, ben = rows["Ana Costa (1001)"], rows["Ben Okafor (1002)"]
    assert ana["quality"] == pytest.approx((80 + 90 + 61) / 3) and ana["evaluations"] == 3
    assert (ben["quality"], ben["evaluations"]) == (70, 1)
    # The definition is on the page, as every figure's.
    assert any(c["key"] == "quality" and "Σ" in c["definition"] for c in found_table["columns"])
    # An agent sees their own score in their own report.
    amy = staff("amy", ["agent"], agent_id="1001")
    mine = next(t for t in amy.get("/api/v1/reports/agents?from=2025-03-10&to=2025-03-10").json()["tables"]
                if t["name"] == "agents")
    assert [dict(zip(keys, r))["quality"] for r in mine["rows"]] == [pytest.approx((80 + 90 + 61) / 3)]
