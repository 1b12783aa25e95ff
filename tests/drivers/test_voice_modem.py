"""The voice modem driver through real pyserial on pseudo-terminals: recorded transcripts, the emulator's
vendor families, faults (garbage, missing OK, a wedged modem, unplug), line tests and dialling."""
import logging
import wave
from pathlib import Path

import numpy as np
import pytest
import serial

from drivers import modem_chat, modem_emulator, modem_line, serial_ports
from drivers.channel import ChannelError, ChannelKind, EventKind
from drivers.modem_emulator import CalledParty, ModemEmulator
from drivers.sim import SimCaller
from drivers.sim_signals import progress_tone
from drivers.jitter_buffer import JitterBuffer
from drivers.modem_line import LineState
from drivers.voice_modem import LineConfig, VoiceModemDriver
from dsp.levels import dbm0_to_amplitude
from firmware.config.tone_plans import load_plan
from modem_harness import TranscriptModem, load_transcript, pump

PROMPTS = Path(__file__).resolve().parents[2] / "board" / "prompts" / "en"


def kinds(events, channel=None):
    return [e.kind for e in events if channel is None or e.channel == channel]


def alarms(events, channel=0):
    return [e.data for e in events if e.kind == EventKind.ALARM and e.channel == channel]


@pytest.fixture(autouse=True)
def fast_chat(monkeypatch):
    # mgetty's 100 ms between commands is for real modems; the emulator answers at once.
    monkeypatch.setattr(modem_chat, "COMMAND_DELAY_S", 0.01)


@pytest.fixture
def emulators(tmp_path):
    made, drivers = [], []

    def make(model="cx93010", n=1, kind=ChannelKind.TRUNK, **kw):
        emus = [ModemEmulator(model, serial_number=f"T{len(made) + i}", link_dir=tmp_path, ring_period_s=1.0,
                              **kw).start() for i in range(n)]
        made.extend(emus)
        drv = VoiceModemDriver([LineConfig(f"line{i + 1}", e.link, kind, "8001") for i, e in enumerate(emus)])
        drivers.append(drv)
        drv.start()
        pump(drv, lambda ev: all(ln.state == LineState.IDLE for ln in drv.lines), 6.0)
        assert all(ln.state == LineState.IDLE for ln in drv.lines)
        return drv, emus
    yield make
    for drv in drivers:
        drv.close()
    for emu in made:
        emu.stop()


@pytest.fixture
def quick(monkeypatch):
    """Short timers, so fault tests take a second, not a minute."""
    monkeypatch.setattr(modem_line, "KEEPALIVE_S", 0.2)
    monkeypatch.setattr(modem_chat, "COMMAND_TIMEOUT_S", 0.5)
    monkeypatch.setattr(modem_line, "DTR_DROP_S", 0.1)


# --- recorded transcripts (panoramisk style) -----------------------------------------------------
def _replay(name):
    modem = TranscriptModem(load_transcript(name))
    drv = VoiceModemDriver([LineConfig("line1", modem.path)])
    try:
        drv.start()
        events, _ = pump(drv, lambda ev: kinds(ev).count(EventKind.RING) >= (2 if "usr" in name else 1), 8.0)
        return modem, drv, events, drv.status()["lines"][0]
    finally:
        drv.close()
        modem.close()


def test_usr5637_start_and_caller_id_transcript():
    modem, drv, events, status = _replay("usr5637_start.txt")
    assert modem.mismatch is None and modem.finished, (modem.mismatch, modem.received)
    # §11.4: caller ID after the first RING is reported once it settles or at the next RING.
    assert kinds(events) == [EventKind.RING, EventKind.CALLER_ID, EventKind.RING]
    cid = events[1].data
    assert (cid["number"], cid["name"], cid["when"]) == ("13800138000", "ZHAO LEI", "03211405")
    assert (status["model"], status["family"], status["codec"], status["alarm"]) == \
        ("usr5637", "usrobotics", "ulaw", None)


def test_best_effort_init_and_unexpected_lines(caplog):
    caplog.set_level(logging.WARNING, "drivers")
    modem, drv, events, status = _replay("generic_best_effort.txt")
    assert modem.mismatch is None and modem.finished, (modem.mismatch, modem.received)
    assert status["model"] == "v253" and status["codec"] == "u8" and status["alarm"] is None
    # Caller ID just before the first RING (pre-ring, §15) goes with that ring; NMBR=P is private.
    assert kinds(events) == [EventKind.CALLER_ID, EventKind.RING]
    assert events[0].data["absence"] == "P" and events[0].data["number"] is None
    # Bad input: an unexpected line is logged with the port and ignored.
    assert status["counters"]["ignored_lines"] == 1
    assert any("+FCERROR" in r.message and drv.lines[0].name in r.message for r in caplog.records)
    assert any("AT+VCID=1 answered ERROR" in r.message for r in caplog.records)


# --- vendor families on the emulator ------------------------------------------------------------
def test_conexant_needs_the_long_vsm_form_and_its_silence_setting(emulators):
    drv, [emu] = emulators("cx93010")
    cmds = emu.commands()
    # §11.6: AT+VSM=1,8000,0,0 on the Zoom 3095; AT+VSD=0,50 on Conexant (callattendant).
    assert "AT+VSM=1,8000,0,0" in cmds and "AT+VSD=0,50" in cmds
    assert cmds.index("AT+FCLASS=8") < cmds.index("AT+VSM=?") < cmds.index("AT+VSM=1,8000,0,0")
    assert drv.status()["lines"][0]["codec"] == "u8"


def test_garbage_on_the_line_is_logged_and_ignored(emulators, caplog):
    caplog.set_level(logging.WARNING, "drivers")
    drv, [emu] = emulators("usr5637")
    emu.inject_garbage()
    events, _ = pump(drv, lambda ev: drv.lines[0].counters["ignored_lines"] > 0, 2.0)
    assert drv.lines[0].counters["ignored_lines"] == 1 and drv.lines[0].state == LineState.IDLE
    assert alarms(events) == []
    assert any("unexpected line" in r.message and drv.lines[0].name in r.message for r in caplog.records)


def test_a_missing_ok_is_retried_without_a_reset(emulators, quick):
    drv, [emu] = emulators("usr5637")
    emu.drop_ok(1)
    events, _ = pump(drv, seconds=1.5)
    assert emu.counters["dropped_ok"] == 1
    assert drv.lines[0].counters["resets"] == 0 and alarms(events) == []
    assert drv.lines[0].state == LineState.IDLE


def test_a_modem_that_stops_answering_is_reset(emulators, quick):
    drv, [emu] = emulators("cx93010")
    emu.mute(True)
    events, _ = pump(drv, lambda ev: alarms(ev), 3.0)
    [alarm] = alarms(events)
    name = drv.lines[0].name
    assert alarm["active"] and alarm["reason"] == f"modem {name}: no OK after AT in 0.5 s"
    assert drv.lines[0].counters["resets"] == 1
    emu.mute(False)
    events, _ = pump(drv, lambda ev: any(not a["active"] for a in alarms(ev)), 4.0)
    assert alarms(events)[-1] == {"active": False, "reason": ""}
    assert drv.lines[0].state == LineState.IDLE


def test_unplug_takes_only_that_line_out_and_the_same_modem_comes_back(emulators):
    drv, emus = emulators("usr5637", n=2)
    emus[0].place_call(SimCaller("5550001", talk=30.0, patience=30.0))
    pump(drv, lambda ev: EventKind.RING in kinds(ev, 0), 3.0)
    drv.answer(0)
    pump(drv, lambda ev: drv.lines[0].state == LineState.CONNECTED, 3.0)
    emus[0].unplug()
    events, _ = pump(drv, lambda ev: alarms(ev), 2.0)
    [alarm] = alarms(events)
    assert alarm["active"] and "lost" in alarm["reason"] and drv.lines[0].name in alarm["reason"]
    assert drv.lines[0].state == LineState.OFFLINE
    assert drv.lines[1].state == LineState.IDLE and alarms(events, 1) == []
    emus[0].replug()          # the by-id style link now points at a new pty, as udev re-points by-id
    events, _ = pump(drv, lambda ev: alarms(ev) and not alarms(ev)[-1]["active"], 8.0)
    assert alarms(events)[-1]["active"] is False
    assert drv.lines[0].state == LineState.IDLE and drv.lines[0].counters["reconnects"] == 1


def test_a_missing_device_starts_its_line_in_alarm(tmp_path):
    drv = VoiceModemDriver([LineConfig("line1", str(tmp_path / "ttyACM9"))])
    drv.start()
    events, _ = pump(drv, seconds=0.05)
    drv.close()
    assert alarms(events) == [{"active": True, "reason": "modem ttyACM9: not found"}]
    assert drv.status()["lines"][0]["state"] == "offline"


def test_auto_with_no_known_modem_plugged_in(monkeypatch):
    monkeypatch.setattr(serial_ports, "known_modems", lambda table=None: [])
    drv = VoiceModemDriver([LineConfig("line1", "auto")])
    drv.start()
    events, _ = pump(drv, seconds=0.05)
    drv.close()
    assert "no known voice modem found" in alarms(events)[0]["reason"]


def test_a_port_held_by_another_program_is_busy(tmp_path):
    emu = ModemEmulator("usr5637", link_dir=tmp_path).start()
    holder = serial.Serial(emu.link, exclusive=True)     # docs/standards.md §12.1: flock LOCK_EX|LOCK_NB
    drv = VoiceModemDriver([LineConfig("line1", emu.link)])
    try:
        drv.start()
        events, _ = pump(drv, seconds=0.05)
    finally:
        drv.close()
        holder.close()
        emu.stop()
    assert "busy" in alarms(events)[0]["reason"]


# --- line test and dialling ------------------------------------------------------------------------
def loud_sounds(plan):
    """Loud sounds a line may carry off-hook that are not its dial tone: the plan's busy tone, white
    noise at -10 dBm0, speech (a recorded prompt, as on a crossed line)."""
    busy = progress_tone(load_plan(plan), "busy", 0, 160)
    noise = np.random.default_rng(1).standard_normal(8000) * dbm0_to_amplitude(-10.0) * np.sqrt(0.5)
    with wave.open(str(PROMPTS / "main-menu.wav")) as w:
        speech = np.frombuffer(w.readframes(w.getnframes()), np.int16).astype(np.float32)
    return {"busy": busy.samples[:busy.period], "noise": noise, "speech": speech}


@pytest.mark.parametrize("plan", ["cn", "etsi", "na"])
def test_line_test_hears_the_plans_dial_tone_and_no_other_sound(emulators, plan):
    drv, emus = emulators("cx93010", n=5, tones=load_plan(plan))
    emus[1].dead_line = True
    sounds = ["dial", "dead"] + list(loud_sounds(plan))
    for emu, sound in zip(emus[2:], sounds[2:]):
        emu.off_hook_audio = loud_sounds(plan)[sound]
    tests = [drv.test_line(i, 2.0, load_plan(plan)) for i in range(5)]
    events, _ = pump(drv, lambda ev: all(t.done for t in tests)
                     and all(ln.state == LineState.IDLE for ln in drv.lines), 10.0)
    verdicts = {sound: t.result["dial_tone"] for sound, t in zip(sounds, tests)}
    assert verdicts == {"dial": True, "dead": False, "busy": False, "noise": False, "speech": False}
    # The emulated exchange's dial tone: the plan's frequencies at -10 dBm0 each.
    dial = next(t for t in load_plan(plan).tones if t.name == "dial")
    assert tests[0].result["level_dbm0"] == pytest.approx(-10.0 + 10 * np.log10(len(dial.segments[0][0])), abs=0.5)
    assert f"line1: {plan} dial tone heard" in tests[0].result["detail"]
    for t in tests[2:]:
        assert t.result["level_dbm0"] > -30.0 and f"no {plan} dial tone in a 2.0 s line test" in t.result["detail"]
    # A line without dial tone is out of service: an alarm each, none on the good line.
    assert alarms(events, 0) == []
    assert all(f"no {plan} dial tone" in alarms(events, i)[0]["reason"] for i in range(1, 5))


def test_a_dial_tone_of_another_network_is_no_dial_tone(emulators):
    drv, [emu] = emulators("usr5637", tones=load_plan("na"))
    drv.test_line(0, 2.0, load_plan("cn"))
    events, _ = pump(drv, lambda ev: alarms(ev) and drv.lines[0].state == LineState.IDLE, 6.0)
    test = drv.status()["lines"][0]["test"]
    assert test["dial_tone"] is False and test["plan"] == "cn"
    # The modem's own detector said dial tone: kept for the technician, not the verdict.
    assert test["modem_dialtone"] is True
    assert "no cn dial tone" in alarms(events)[0]["reason"] and alarms(events)[0]["active"]


def test_a_line_test_too_short_for_the_plan_is_refused(emulators):
    drv, _ = emulators("cx93010")
    # China's dial tone is told from ringback after 1.2 s (board/tones/cn.toml), plus the stream's start.
    with pytest.raises(ChannelError, match="line test of 1.0 s: the cn plan's dial tone is told from its other "
                                           "tones in 1.48 s"):
        drv.test_line(0, 1.0, load_plan("cn"))
    assert drv.lines[0].state == LineState.IDLE


def test_line_test_result_has_the_drivers_common_shape(emulators):
    drv, [good, dead, lost] = emulators("cx93010", n=3, tones=load_plan("cn"))
    dead.dead_line = True
    tests = [drv.test_line(i, 2.0, load_plan("cn")) for i in range(3)]
    pump(drv, lambda ev: drv.lines[2].state == LineState.TESTING, 3.0)
    lost.unplug()
    pump(drv, lambda ev: all(t.done for t in tests), 6.0)
    assert [set(t.result) for t in tests] == [{"dial_tone", "level_dbm0", "detail"}] * 3
    assert tests[0].result["dial_tone"] is True
    assert tests[1].result["dial_tone"] is False and "line line2: no cn dial tone" in tests[1].result["detail"]
    # Unplugged mid-test: the test could not be carried out, and says why.
    assert tests[2].result["dial_tone"] is None and "line test of line3 not completed" in tests[2].result["detail"]


def test_station_leg_dials_the_agent_and_reports_the_answer(emulators):
    drv, [emu] = emulators("cx93010", kind=ChannelKind.STATION)
    emu.called = CalledParty(answer_after=1.2)
    drv.dial(0, "")
    events, _ = pump(drv, lambda ev: EventKind.ANSWER in kinds(ev), 6.0)
    assert emu.dialed == ["8001"]
    # The modem's ringback report (<DLE>r) is call progress; voice detected (<DLE>v) is the answer.
    assert kinds(events)[:2] == [EventKind.PROGRESS, EventKind.ANSWER]
    assert events[0].data["tone"] == "ringback" and drv.lines[0].state == LineState.CONNECTED
    drv.hangup(0)
    pump(drv, lambda ev: drv.lines[0].state == LineState.IDLE, 3.0)
    assert drv.lines[0].state == LineState.IDLE and not emu.status()["offhook"]


def test_dialling_a_busy_number(emulators):
    drv, [emu] = emulators("usr5637", kind=ChannelKind.STATION)
    emu.called = CalledParty(busy=True)
    drv.dial(0, "5551234")
    events, _ = pump(drv, lambda ev: EventKind.CLEAR in kinds(ev), 5.0)
    assert [e.data.get("tone") for e in events if e.kind == EventKind.PROGRESS] == ["busy"]
    pump(drv, lambda ev: drv.lines[0].state == LineState.IDLE, 3.0)
    assert drv.lines[0].state == LineState.IDLE


def test_dialling_on_a_dead_line(emulators):
    # The modem answers ATD with NO DIALTONE (§11.5 result codes): progress, a line alarm, the clear.
    drv, [emu] = emulators("cx93010")
    emu.dead_line = True
    drv.dial(0, "5551234")
    events, _ = pump(drv, lambda ev: EventKind.CLEAR in kinds(ev), 5.0)
    assert kinds(events) == [EventKind.PROGRESS, EventKind.ALARM, EventKind.CLEAR]
    assert events[0].data["tone"] == "no_dialtone" and "dead" in events[1].data["reason"]


# --- glare: an incoming call takes the line as the modem goes off hook to dial ----------------------
@pytest.mark.parametrize("model, caller_id_first", [("usr5637", False), ("cx93010", True)])
def test_glare_ends_the_dialled_leg_and_hands_the_line_to_the_caller(emulators, monkeypatch, model,
                                                                     caller_id_first):
    monkeypatch.setattr(modem_emulator, "DIAL_TONE_WAIT_S", 0.3)
    drv, [emu] = emulators(model)
    caller = SimCaller("13800138000", "ZHAO LEI", patience=30.0)
    emu.arrive_on_dial(caller, caller_id_first=caller_id_first)
    drv.dial(0, "5551234")
    events, _ = pump(drv, lambda ev: EventKind.RING in kinds(ev), 5.0)
    # The dialled leg ends for glare, not for a dead line: no alarm, and the caller rings with the
    # line already off hook on them, caller ID first where the network sent it.
    assert not alarms(events)
    ends = [e for e in events if e.kind in (EventKind.CLEAR, EventKind.CALLER_ID, EventKind.RING)]
    assert [e.kind for e in ends] == ([EventKind.CLEAR] + [EventKind.CALLER_ID] * caller_id_first
                                      + [EventKind.RING])
    assert ends[0].data["glare"] and ends[0].data["reason"].startswith("glare")
    assert ends[-1].data["off_hook"] is True
    if caller_id_first:
        assert (ends[1].data["number"], ends[1].data["name"]) == ("13800138000", "ZHAO LEI")
    # The box answers: it takes the line back before the exchange clears it, and the caller is there.
    drv.answer(0)
    events, _ = pump(drv, lambda ev: drv.lines[0].state == LineState.CONNECTED, 5.0)
    assert drv.lines[0].state == LineState.CONNECTED and not alarms(events)
    assert caller.answered is not None and caller.ended is None and emu.caller is caller
    assert emu.status()["offhook"] and drv.status()["lines"][0]["alarm"] is None
    drv.hangup(0)
    pump(drv, lambda ev: caller.ended is not None and drv.lines[0].state == LineState.IDLE, 3.0)
    assert caller.ended_by == "box" and drv.lines[0].state == LineState.IDLE


def test_a_glare_call_the_box_lets_go_is_put_on_hook(emulators, monkeypatch):
    monkeypatch.setattr(modem_emulator, "DIAL_TONE_WAIT_S", 0.3)
    drv, [emu] = emulators("cx93010")
    caller = SimCaller("13800138000", patience=30.0)
    emu.arrive_on_dial(caller)
    drv.dial(0, "5551234")
    pump(drv, lambda ev: EventKind.RING in kinds(ev), 5.0)
    drv.hangup(0)
    pump(drv, lambda ev: caller.ended is not None and drv.lines[0].state == LineState.IDLE, 3.0)
    assert caller.ended_by == "box" and drv.lines[0].state == LineState.IDLE and not emu.status()["offhook"]


def test_dialling_a_line_an_incoming_call_is_arriving_on_is_refused(emulators, monkeypatch):
    monkeypatch.setattr(modem_emulator, "BEFORE_RING_GAP_S", 5.0)     # time to try before it rings
    drv, [emu, emu2] = emulators("cx93010", n=2)
    # Caller ID before the first ring (ETSI): the call is on its way, going off hook would answer it.
    emu.place_call(SimCaller("13800138000", patience=30.0), caller_id_first=True)
    pump(drv, lambda ev: ("modem", "NMBR=13800138000") in emu.transcript, 3.0)
    pump(drv, seconds=0.3)
    assert drv.lines[0].state == LineState.IDLE
    with pytest.raises(ChannelError, match="glare"):
        drv.dial(0, "5551234")
    # A ringing call the box let go still rings: the same.
    emu2.place_call(SimCaller("13900139000", patience=30.0))
    pump(drv, lambda ev: drv.lines[1].state == LineState.RINGING, 3.0)
    drv.hangup(1)
    with pytest.raises(ChannelError, match="glare"):
        drv.dial(1, "5551234")
    assert emu.dialed == [] and emu2.dialed == []


def test_actions_that_do_not_fit_raise_channel_errors(emulators):
    drv, _ = emulators("cx93010")
    with pytest.raises(ChannelError, match="not ringing"):
        drv.answer(0)
    with pytest.raises(ChannelError, match="not a dial string"):
        drv.dial(0, "12;ATZ")
    with pytest.raises(ChannelError, match="line test"):
        drv.test_line(0, 0.1, load_plan("cn"))
    with pytest.raises(ChannelError, match="no line 3"):
        drv.hangup(3)
    no_number = VoiceModemDriver([LineConfig("station1", "auto", ChannelKind.STATION)])
    with pytest.raises(ChannelError, match="no number to dial"):
        no_number.dial(0, "")


def test_a_caller_who_gives_up_while_ringing_clears_the_line(emulators, monkeypatch):
    monkeypatch.setattr(modem_line, "RING_GONE_S", 1.2)
    drv, [emu] = emulators("cx93010")
    emu.place_call(SimCaller("5550002", patience=1.2))
    events, _ = pump(drv, lambda ev: EventKind.CLEAR in kinds(ev), 5.0)
    assert kinds(events)[0] == EventKind.RING and kinds(events)[-1] == EventKind.CLEAR
    assert drv.lines[0].state == LineState.IDLE


# --- jitter buffer ---------------------------------------------------------------------------------
def test_jitter_buffer_starts_after_three_ticks_and_counts_xruns():
    jb = JitterBuffer(start=480, limit=1920)
    out = np.ones(160, np.int16)
    jb.push(np.full(320, 5, np.int16))
    jb.pop(out)
    assert not out.any()                          # still filling
    jb.push(np.full(160, 5, np.int16))
    for _ in range(3):
        jb.pop(out)
        assert (out == 5).all()
    jb.pop(out)
    assert jb.underruns == 1 and not out.any()
    jb.push(np.full(2000, 7, np.int16))
    assert jb.overruns == 1 and jb.level == 480   # dropped back to the start level, newest kept
