"""Texts through the GSM modem (issue 16 item 5), against the modem emulator on a pseudo-terminal: each
text reaches the network once, whatever the faults (no SIM, PIN, no network, +CMS ERROR, garbage, an
unplug mid-send); delivery reports mark it delivered; replies are answers or callback requests."""
from __future__ import annotations

import random
import time

import pytest

from drivers.gsm_emulator import GsmEmulator
from drivers.sms_pdu import encode_submit
from drivers.modem_port import RECONNECT_MAX_S, RECONNECT_MIN_S
from firmware.callcenter.sms import MAX_ATTEMPTS, RETRY_S, STATUS_EVERY_S, SmsError, SmsService, TextRules
from firmware.store import connect, write_transaction

LONG_ZH = "您好，感谢您致电本中心。请为本次服务打分：1 很不满意，5 非常满意。回复数字即可。" * 3


class Clock:
    def __init__(self, t: float = 1_765_000_000.0):
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def emulator(tmp_path):
    emu = GsmEmulator(link_dir=tmp_path / "dev").start()
    yield emu
    emu.stop()


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def service(tmp_path, emulator, clock):
    rules = TextRules(callback_queue="service", callback_keywords=("回电", "call me"))
    svc = SmsService(emulator.link, tmp_path / "branchline.db", "CN", rules=lambda: rules, clock=clock,
                     rand=lambda: 0.5, listen_s=0.01)
    yield svc
    svc.stop()


def rows(db_path, direction="out") -> list[dict]:
    conn = connect(db_path)
    cur = conn.execute("SELECT * FROM sms_messages WHERE direction = ? ORDER BY created_at, rowid", [direction])
    names = [c[0] for c in cur.description]
    found = [dict(zip(names, r)) for r in cur]
    conn.close()
    return found


def run(service: SmsService, rounds: int = 6) -> None:
    for _ in range(rounds):
        service.step()


def test_a_long_chinese_text_reaches_the_network_once_and_is_marked_delivered(service, emulator, tmp_path):
    queued = service.queue_text("138 0013 8000", LONG_ZH, purpose="survey")
    # TS 23.040: 67 UCS-2 characters a part once a text needs more than one.
    assert queued["number"] == "+8613800138000" and queued["parts"] == -(-len(LONG_ZH) // 67) > 1
    run(service)
    assert emulator.texts() == [("+8613800138000", LONG_ZH)]
    assert len(emulator.sent) == queued["parts"] and all(p.report for p in emulator.sent)
    (row,) = rows(tmp_path / "branchline.db")
    assert row["state"] == "delivered" and row["delivered_at"] is not None
    assert service.status()["modem"]["signal_dbm"] == -73 and service.status()["modem"]["sim"] == "ready"


@pytest.mark.parametrize("fault", ["absent", "pin", "no network"])
def test_a_text_waits_while_the_modem_cannot_send_and_goes_once_it_can(service, emulator, tmp_path, clock, fault):
    if fault == "no network":
        emulator.registered = False
    else:
        emulator.sim = fault
    service.queue_text("13800138000", "Your repair is booked for 9:00 tomorrow.")
    run(service)
    assert emulator.sent == [] and rows(tmp_path / "branchline.db")[0]["state"] == "queued"
    modem = service.status()["modem"]
    assert not modem["can_send"]
    assert modem["sim"] == {"absent": "absent", "pin": "SIM PIN", "no network": "ready"}[fault]
    emulator.sim, emulator.registered = "ready", True      # the technician fixed it
    clock.t += STATUS_EVERY_S                             # the service looks again
    run(service)
    assert [t for _, t in emulator.texts()] == ["Your repair is booked for 9:00 tomorrow."]


def test_a_network_refusal_is_retried_with_backoff_then_failed_never_doubled(service, emulator, tmp_path, clock):
    emulator.fail_sends = 10
    service.queue_text("13800138000", "hello")
    for attempt in range(1, MAX_ATTEMPTS + 1):
        run(service, 3)
        row = rows(tmp_path / "branchline.db")[0]
        assert row["attempts"] == attempt and "+CMS ERROR: 38" in row["error"]
        clock.t += RETRY_S * attempt + 1
    assert row["state"] == "failed" and emulator.sent == []
    emulator.fail_sends = 0
    run(service, 3)
    assert emulator.sent == []


def test_a_refusal_after_a_text_s_first_part_leaves_it_unknown_not_resent(service, emulator, tmp_path, clock):
    emulator.fail_after = 1
    service.queue_text("13800138000", LONG_ZH)
    for _ in range(MAX_ATTEMPTS + 1):
        run(service, 3)
        clock.t += RETRY_S * MAX_ATTEMPTS
    assert len(emulator.sent) == 1                       # the recipient has part 1; a resend would repeat it
    row = rows(tmp_path / "branchline.db")[0]
    assert row["state"] == "unknown" and "after 1 of" in row["error"]


def test_an_unplug_mid_send_leaves_the_text_unknown_and_it_is_not_resent_until_asked(service, emulator, tmp_path, clock):
    emulator.unplug_on_send = True
    message = service.queue_text("13800138000", "Your parcel is on its way.")
    run(service, 3)
    assert len(emulator.sent) == 1                       # the network got it; the box never heard +CMGS
    assert rows(tmp_path / "branchline.db")[0]["state"] == "unknown"
    emulator.replug()
    clock.t += RECONNECT_MIN_S                            # the bounded back-off's first wait
    run(service, 6)
    assert service.status()["modem"]["connected"] and len(emulator.sent) == 1
    service.send_again(message["id"])
    run(service, 3)
    assert len(emulator.sent) == 2
    with pytest.raises(SmsError):
        service.send_again(message["id"])                # sent now: nothing to send again


def test_a_text_left_sending_by_a_stop_is_unknown_at_the_next_start(tmp_path, emulator, clock):
    first = SmsService(emulator.link, tmp_path / "branchline.db", "CN", clock=clock, listen_s=0.01)
    message = first.queue_text("13800138000", "x")
    conn = connect(tmp_path / "branchline.db")
    with write_transaction(conn):
        conn.execute("UPDATE sms_messages SET state = 'sending' WHERE id = ?", [message["id"]])
    conn.close()
    first.stop()
    again = SmsService(emulator.link, tmp_path / "branchline.db", "CN", clock=clock, listen_s=0.01)
    run(again, 3)
    assert rows(tmp_path / "branchline.db")[0]["state"] == "unknown" and emulator.sent == []
    again.stop()


def test_garbage_from_the_modem_does_not_stop_a_send(service, emulator, tmp_path):
    run(service, 2)
    emulator.garbage = ["%$#@!", "+XYZ: 1,2", "OK?"]
    service.queue_text("13800138000", "hello")
    run(service, 3)
    assert emulator.texts() == [("+8613800138000", "hello")]


def test_a_modem_gone_before_the_prompt_is_no_refusal_and_the_text_waits_for_it(service, emulator, tmp_path, clock):
    # The cable comes out as AT+CMGS goes, three times: no part reached the network, which refused
    # nothing; the text waits for the modem (as for a missing SIM): no attempt spent, no back-off.
    run(service, 2)
    # What the box says to a modem that comes back, before it sends (the same each time).
    emulator.unplug()
    run(service, 2)
    emulator.replug()
    clock.t += RECONNECT_MAX_S
    seen = len(emulator.commands)
    run(service, 2)
    assert service.status()["modem"]["connected"]
    reconnect = sum(len(c) + 1 for c in emulator.commands[seen:])
    emulator.cut_after(len("AT+CMGS="))
    service.queue_text("13800138000", "Your engineer arrives at 10:00.")
    for attempt in range(MAX_ATTEMPTS):
        run(service, 2)
        row = rows(tmp_path / "branchline.db")[0]
        assert (row["state"], row["attempts"]) == ("queued", 0) and "port lost" in row["error"]
        assert row["next_at"] <= clock.t and emulator.sent == []
        if attempt < MAX_ATTEMPTS - 1:
            emulator.cut_after(reconnect + len("AT+CMGS="))
        emulator.replug()
        clock.t += RECONNECT_MAX_S
    run(service, 3)
    assert emulator.texts() == [("+8613800138000", "Your engineer arrives at 10:00.")]
    assert rows(tmp_path / "branchline.db")[0]["state"] == "delivered"


@pytest.mark.parametrize("storms", [pytest.param(15, id="short"),
                                    pytest.param(200, id="storm", marks=pytest.mark.slow)])
def test_a_modem_that_vanishes_at_any_byte_of_a_send_loses_no_text_and_sends_none_twice(
        service, emulator, tmp_path, clock, storms):
    # The modem is pulled out after a random number of the bytes the box writes (a command, the PDU,
    # its Ctrl-Z) while texts of one and of several parts are sent; then it comes back.
    rng = random.Random(18)
    recover_s = []
    for i in range(storms):
        text = f"#{i} " + rng.choice(["Your parcel is on its way.", LONG_ZH])
        service.queue_text(f"138{i:08d}", text)
        parts = encode_submit(f"+86138{i:08d}", text)
        emulator.cut_after(rng.randrange(0, sum(len(f"AT+CMGS={p.length}\r") + len(p.pdu) + 1 for p in parts) + 1))
        for _ in range(20):
            service.step()
            if emulator.unplugs > i:
                break
        assert emulator.unplugs == i + 1
        emulator.replug()
        clock.t += RECONNECT_MAX_S
        t0 = time.monotonic()
        for _ in range(20):
            service.step()
            if service.status()["modem"]["connected"]:
                break
        assert service.status()["modem"]["connected"], f"storm {i}: the modem was not reopened"
        recover_s.append(time.monotonic() - t0)
    for _ in range(MAX_ATTEMPTS + 2):
        clock.t += RETRY_S * MAX_ATTEMPTS
        run(service, 6)
    found = rows(tmp_path / "branchline.db")
    states = {s: sum(r["state"] == s for r in found) for s in ("delivered", "sent", "unknown", "queued", "failed",
                                                               "sending")}
    print(f"\ngsm vanishing mid-send: {storms} storms, {len(found)} texts {states}; reopened after each,"
          f" in {1000 * max(recover_s):.0f} ms at most (median {1000 * sorted(recover_s)[len(recover_s) // 2]:.0f} ms)")
    assert len(found) == storms and states["sending"] == states["queued"] == states["failed"] == 0
    for row in found:
        seqs = [p.concat[2] if p.concat else 1 for p in emulator.sent if p.number == row["number"]]
        assert len(seqs) == len(set(seqs)), f"{row['number']}: a part reached the network twice: {seqs}"
        if row["state"] in ("sent", "delivered"):
            assert sorted(seqs) == list(range(1, row["parts"] + 1)), (row["state"], seqs)
        else:
            # Cut once some of a PDU was written: the network may or may not have it, the row says so
            # with the reason, and it is never resent by itself.
            assert row["state"] == "unknown" and "port lost" in row["error"], row


@pytest.mark.parametrize(("number", "text"), [("12", "hi"), ("not a number", "hi"), ("13800138000", ""),
                                               ("13800138000", "x" * 671)])
def test_a_bad_number_or_text_is_refused_and_nothing_is_stored(service, tmp_path, number, text):
    with pytest.raises(SmsError):
        service.queue_text(number, text)
    assert rows(tmp_path / "branchline.db") == []


def test_a_reply_digit_is_stored_as_the_survey_answer(service, emulator, tmp_path):
    service.queue_text("13800138000", "How did we do? Reply 1-5.", purpose="after_call", call_id="call-1")
    run(service, 3)
    emulator.deliver("+8613800138000", " ４ ")             # full-width, as Chinese handsets often send
    run(service, 3)
    conn = connect(tmp_path / "branchline.db")
    answers = conn.execute("SELECT call_id, survey, answer FROM survey_answers").fetchall()
    conn.close()
    assert answers == [("call-1", "sms:after_call", "4")]
    (incoming,) = rows(tmp_path / "branchline.db", "in")
    assert incoming["purpose"] == "answer" and incoming["call_id"] == "call-1"


def test_a_reply_to_a_tickets_text_is_stored_as_the_tickets_score(service, emulator, tmp_path):
    conn = connect(tmp_path / "branchline.db")
    with write_transaction(conn):
        conn.execute("INSERT INTO tickets (id, call_id, category, priority, state, created_at, updated_at) VALUES"
                     " ('t-1', 'call-9', 'repair', 'normal', 'resolved', 1, 1)")
    conn.close()
    service.queue_text("13800138000", "您的维修已完成，请回复1-5评价。", purpose="ticket", ticket_id="t-1")
    run(service, 3)
    emulator.deliver("+8613800138000", "5")
    run(service, 3)
    conn = connect(tmp_path / "branchline.db")
    assert conn.execute("SELECT call_id, survey, question, answer FROM survey_answers").fetchall() == [
        ("call-9", "ticket:t-1", "score", "5")]
    conn.close()


def test_a_text_asking_to_be_called_back_becomes_a_callback_request(service, emulator, tmp_path):
    run(service, 2)
    emulator.deliver("+8613900139000", "请回电，谢谢")
    run(service, 3)
    (request,) = service.take_callbacks()
    assert (request.number, request.queue, request.state) == ("+8613900139000", "service", "pending")
    conn = connect(tmp_path / "branchline.db")
    assert conn.execute("SELECT number, queue, state FROM callbacks").fetchall() == [
        ("+8613900139000", "service", "pending")]
    conn.close()


def test_a_long_incoming_text_is_stored_whole_once(service, emulator, tmp_path):
    run(service, 2)
    emulator.deliver("+8613900139000", LONG_ZH, reference=42)
    run(service, 4)
    (incoming,) = rows(tmp_path / "branchline.db", "in")
    assert incoming["text"] == LONG_ZH and incoming["state"] == "received" and incoming["parts"] > 1
    assert emulator._stored == {}                          # read and deleted: the SIM never fills


def test_the_engine_sends_by_its_control_command_and_takes_up_a_texted_callback(tmp_path, emulator):
    """The box assembled (firmware/config/box.py): `sms.send` and `sms.status` on the control socket, and a
    text asking to be called back waits in a queue of the running call center."""
    import threading
    import time

    from firmware.config.boards import build_board, load_profile
    from firmware.config.box import StatePaths, load_site, open_engine
    from firmware.core.control import ControlClient, ControlError

    paths = StatePaths(tmp_path / "state")
    engine = open_engine(paths, build_board(load_profile("sim")), load_site(paths), clock="paced", control=True,
                         gsm_port=emulator.link)
    thread = threading.Thread(target=engine.run, name="engine", daemon=True)
    thread.start()
    try:
        ctl = ControlClient(paths.control)
        sent = ctl.call("sms.send", number="13800138000", text="测试短信 test", requested_by="tech")
        assert sent["number"] == "+8613800138000" and sent["state"] == "queued"
        with pytest.raises(ControlError, match="not a phone number"):
            ctl.call("sms.send", number="abc", text="x")
        emulator.deliver("+8613900139000", "call me back please")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            status = ctl.call("status")
            if emulator.texts() and status["callbacks"] and ctl.call("sms.status")["outbox"]["delivered"]:
                break
            time.sleep(0.05)
        assert emulator.texts() == [("+8613800138000", "测试短信 test")]
        assert [(c["number"], c["queue"]) for c in status["callbacks"]] == [("+8613900139000", "sales")]
        assert ctl.call("sms.status")["modem"]["registration"] == "home"
    finally:
        engine.stop()
        thread.join(5)
        engine.close()


def test_the_technicians_commands_talk_to_the_port(emulator, capsys):
    from firmware import cli

    assert cli.main(["sms", "status", "--port", emulator.link]) == 0
    out = capsys.readouterr().out
    assert "sim: ready" in out and "registration: home" in out and "signal_dbm: -73" in out
    assert cli.main(["sms", "send", "--port", emulator.link, "--wait", "5", "13800138000", "线路测试"]) == 0
    out = capsys.readouterr().out
    assert "sent to +8613800138000: 1 part(s)" in out and "delivered (TP-ST 0x00)" in out
    assert emulator.texts() == [("+8613800138000", "线路测试")]
    emulator.sim = "absent"
    assert cli.main(["sms", "send", "--port", emulator.link, "13800138000", "x"]) == 2
    assert "cannot send (SIM absent" in capsys.readouterr().err
    assert cli.main(["sms", "status", "--port", emulator.link + ".missing"]) == 2


def test_a_satisfaction_text_follows_each_answered_call_from_a_mobile_once(tmp_path, emulator, clock):
    rules = TextRules(after_call="感谢来电，请回复1-5为本次服务打分。")
    svc = SmsService(emulator.link, tmp_path / "branchline.db", "CN", rules=lambda: rules, clock=clock, listen_s=0.01)
    try:
        run(svc, 2)                                            # follows calls from here on
        conn = connect(tmp_path / "branchline.db")
        with write_transaction(conn):
            for call_id, number, connected in (("c-mobile", "13800138000", 5.0), ("c-landline", "02161234567", 5.0),
                                               ("c-abandoned", "13900139000", None)):
                conn.execute("INSERT INTO calls (id, direction, number, arrived_at, connected_at, ended_at) VALUES"
                             " (?, 'inbound', ?, 1.0, ?, 60.0)", [call_id, number, connected])
        with write_transaction(conn):                          # a later change of the call's row
            conn.execute("UPDATE calls SET wrapup_code = 'sale' WHERE id = 'c-mobile'")
        conn.close()
        run(svc, 6)
        assert emulator.texts() == [("+8613800138000", rules.after_call)]
        assert [(r["call_id"], r["purpose"]) for r in rows(tmp_path / "branchline.db")] == [("c-mobile", "after_call")]
    finally:
        svc.stop()
