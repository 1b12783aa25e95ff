"""The technician's texts page and /api/v1/sms (issue 16 item 5): the modem's state as the engine reports
it, the recent texts with their states, a test text through the engine, and "send again" only for a text
that failed or whose fate is unknown."""
from __future__ import annotations

from firmware.store import connect, write_transaction
from tests.webui.conftest import api_call

UNKNOWN = "a" * 32


def add_texts(db_path) -> None:
    conn = connect(db_path)
    with write_transaction(conn):
        for n, (direction, state, text) in enumerate([("out", "delivered", "您的维修已预约在明天9点"),
                                                      ("out", "unknown", "Your parcel is on its way"),
                                                      ("in", "received", "回电")]):
            conn.execute("INSERT INTO sms_messages (id, direction, number, text, state, created_at, updated_at)"
                         " VALUES (?, ?, '+8613800138000', ?, ?, ?, ?)",
                         [UNKNOWN if state == "unknown" else f"{n:032x}", direction, text, state, 1e9 + n, 1e9 + n])
    conn.close()


def test_the_page_shows_the_modem_and_the_texts_with_their_states(admin, db_path):
    add_texts(db_path)
    page = admin.get("/sms")
    assert page.status == 200
    for seen in ("CHINA MOBILE", "-73", "registered (home)", "您的维修已预约在明天9点", "回电", "delivered",
                 "unknown: check before sending again", f'data-resend="{UNKNOWN}"'):
        assert seen in page.text, seen
    assert page.text.count("data-resend=") == 1          # only the text whose fate is unknown


def test_a_test_text_goes_to_the_engine_and_a_bad_number_gets_its_reason(admin, engine):
    sent = api_call(admin, "POST", "/api/v1/sms/messages", {"number": "138 0013 8000", "text": " 线路测试 "})
    assert sent.status == 201 and sent.json()["number"] == "+8613800138000"
    assert engine.commands[-1] == ("sms.send", {"number": "138 0013 8000", "text": "线路测试", "purpose": "test",
                                                "requested_by": "admin"})
    bad = api_call(admin, "POST", "/api/v1/sms/messages", {"number": "hello", "text": "x"})
    assert bad.status == 400 and "not a phone number" in bad.json()["error"]
    empty = api_call(admin, "POST", "/api/v1/sms/messages", {"number": "13800138000", "text": "  "})
    assert empty.status == 400 and set(empty.json()["problems"]) == {"text"}


def test_send_again_is_refused_but_for_a_failed_or_unknown_text(admin, engine):
    engine.sms_unknown.add(UNKNOWN)
    assert api_call(admin, "POST", f"/api/v1/sms/messages/{UNKNOWN}/resend").json() == {"id": UNKNOWN,
                                                                                         "state": "queued"}
    again = api_call(admin, "POST", f"/api/v1/sms/messages/{UNKNOWN}/resend")
    assert again.status == 409
    assert api_call(admin, "POST", "/api/v1/sms/messages/not-an-id/resend").status == 400


def test_without_a_modem_the_page_says_why(admin, engine):
    engine.refusals["sms.status"] = "this box has no GSM modem: name its port in the board profile ([gsm] port)"
    assert "no GSM modem" in admin.get("/sms").text
    reply = api_call(admin, "GET", "/api/v1/sms")
    assert reply.status == 503 and "no GSM modem" in reply.json()["error"]
