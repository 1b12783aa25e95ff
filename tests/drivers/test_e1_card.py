"""The E1 card's control link through real pyserial on a pseudo-terminal (drivers/e1_emulator.py):
set-up, CAS both ways with debounce, defects, the host keep-alive, and faults (garbage, silence,
unplug, a card that restarts, lost events)."""
import logging
import time

import pytest

from drivers import e1_card
from drivers.e1_card import CardEventKind, E1Card, E1CardError, LinkState, SpanConfig
from drivers.e1_emulator import E1CardEmulator


def pump(card, until=lambda events: False, seconds=3.0):
    events = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        events += card.poll()
        if until(events):
            break
        time.sleep(0.005)
    return events


def links(events):
    return [e.value for e in events if e.kind == CardEventKind.LINK]


@pytest.fixture
def rig(tmp_path):
    made = []

    def make(config=None, **kw):
        emu = E1CardEmulator(link_dir=tmp_path, **kw).start()
        card = E1Card(emu.link, config or SpanConfig(failsafe_s=2))
        made.append((emu, card))
        card.start()
        pump(card, lambda ev: card.state == LinkState.UP)
        assert card.state == LinkState.UP, card.reason
        return emu, card
    yield make
    for emu, card in made:
        card.close()
        emu.stop()


def test_set_up_configures_the_card_and_reads_its_state(rig):
    emu, card = rig(SpanConfig(crc4=True, clock="internal", debounce_ms=30, failsafe_s=5))
    cmds = [c.split(" ", 1)[1] for c in emu.commands()]
    assert cmds[:6] == ["HELLO", "CONFIG framing=cas crc4=on code=hdb3 clock=internal", "DEBOUNCE 30",
                        "FAILSAFE 1101 5", "CASALL " + "D" * 30, "STATE"]
    assert emu.config["crc4"] == "on" and emu.debounce_ms == 30
    assert card.card["model"] == "E1-USB-EMU" and card.status()["link"] == "up"


def test_transmitted_cas_reaches_the_line(rig):
    emu, card = rig()
    card.set_cas(1, "1001")
    card.set_cas(31, "0011")
    pump(card, lambda ev: emu.transmitting(31) == "0011")
    assert emu.transmitting(1) == "1001" and emu.transmitting(31) == "0011" and emu.transmitting(2) == "1101"
    with pytest.raises(E1CardError, match="0000"):
        card.set_cas(3, "0000")


def test_received_cas_is_reported_once_debounced(rig):
    emu, card = rig()
    emu.far_cas(17, "1011")
    events = pump(card, lambda ev: any(e.kind == CardEventKind.CAS for e in ev))
    assert [(e.ts, e.value) for e in events if e.kind == CardEventKind.CAS] == [(17, "1011")]
    assert card.rx[17] == "1011"


def test_a_cas_glitch_shorter_than_the_debounce_is_not_reported(rig):
    emu, card = rig(SpanConfig(debounce_ms=60, failsafe_s=2))
    emu.far_glitch(5, "0011", 0.01)
    events = pump(card, seconds=0.3)
    assert [e for e in events if e.kind == CardEventKind.CAS] == [] and card.rx[5] == "1101"
    # The same value held longer than the debounce is reported, and its end too.
    emu.far_glitch(5, "0011", 0.3)
    events = pump(card, lambda ev: len([e for e in ev if e.kind == CardEventKind.CAS]) == 2, 2.0)
    assert [(e.ts, e.value) for e in events if e.kind == CardEventKind.CAS] == [(5, "0011"), (5, "1101")]


def test_defects_are_reported_raw(rig):
    emu, card = rig()
    emu.set_defects({"LOS", "LOF"})
    events = pump(card, lambda ev: any(e.kind == CardEventKind.DEFECTS for e in ev))
    assert [e.defects for e in events if e.kind == CardEventKind.DEFECTS] == [{"LOS", "LOF"}]
    assert emu.sending_rai()          # the card sends yellow by itself while in red (DAHDI cards do)


def test_line_counters_reach_the_host(rig):
    emu, card = rig()
    emu.line_errors(bpv=3, slips=1)
    pump(card, lambda ev: card.line_counters["bpv"] == 3, 3.0)
    assert card.line_counters == {"bpv": 3, "crc": 0, "ebit": 0, "fas": 0, "slips": 1}


def test_garbage_is_counted_and_dropped(rig):
    emu, card = rig()
    emu.inject_garbage()
    emu.far_cas(2, "1001")
    events = pump(card, lambda ev: card.rx[2] == "1001")
    assert card.counters["garbage"] >= 1 and card.state == LinkState.UP and links(events) == []


def test_a_silent_card_takes_the_span_down_and_it_comes_back(rig, monkeypatch):
    monkeypatch.setattr(e1_card, "ANSWER_TIMEOUT_S", 0.5)
    monkeypatch.setattr(e1_card, "RECONNECT_MIN_S", 0.1)
    emu, card = rig()
    emu.mute(True)
    events = pump(card, lambda ev: "down" in links(ev), 3.0)
    assert links(events) == ["down"] and "no answer" in card.reason and card.name in card.reason
    emu.mute(False)
    events = pump(card, lambda ev: "up" in links(ev), 5.0)
    assert links(events)[-1] == "up" and card.counters["reconnects"] >= 1


def test_unplug_takes_the_span_down_and_the_same_card_comes_back(rig, monkeypatch):
    monkeypatch.setattr(e1_card, "RECONNECT_MIN_S", 0.1)
    emu, card = rig()
    card.set_cas(4, "1001")
    pump(card, lambda ev: emu.transmitting(4) == "1001")
    emu.unplug()
    events = pump(card, lambda ev: "down" in links(ev), 3.0)
    assert links(events) == ["down"] and card.state == LinkState.OFFLINE
    emu.far_cas(9, "1011")
    emu.replug()
    events = pump(card, lambda ev: "up" in links(ev), 5.0)
    assert links(events) == ["up"]
    # Resynchronised: what the host transmits is set again, what the line carries is read again.
    assert emu.transmitting(4) == "1001" and card.rx[9] == "1011"


def test_a_card_that_restarts_is_configured_again(rig):
    emu, card = rig(SpanConfig(debounce_ms=40, failsafe_s=2))
    card.set_cas(6, "1001")
    pump(card, lambda ev: emu.transmitting(6) == "1001")
    emu.reboot()
    events = pump(card, lambda ev: links(ev)[-1:] == ["up"])
    assert links(events) == ["down", "up"] and card.counters["reboots"] == 1
    assert emu.transmitting(6) == "1001" and emu.debounce_ms == 40


def test_lost_events_are_noticed_by_their_numbers_and_the_state_read(rig):
    emu, card = rig()
    emu.mute(True)                 # the card's next event is lost on the way
    emu.far_cas(3, "1001")
    time.sleep(0.1)
    emu.mute(False)
    emu.far_cas(8, "1001")
    pump(card, lambda ev: card.rx[3] == "1001" and card.rx[8] == "1001")
    assert card.rx[3] == "1001" and card.counters["resyncs"] == 1


def test_the_card_blocks_the_span_by_itself_when_the_host_goes_silent(tmp_path):
    emu = E1CardEmulator(link_dir=tmp_path).start()
    card = E1Card(emu.link, SpanConfig(failsafe_s=1))
    try:
        card.start()
        pump(card, lambda ev: card.state == LinkState.UP)
        card.set_cas(1, "1001")
        pump(card, lambda ev: emu.transmitting(1) == "1001")
        # The host dies: nothing more from it. After the fail-safe time every timeslot is blocked, with RAI.
        deadline = time.monotonic() + 3.0
        while not emu.status()["failsafe"] and time.monotonic() < deadline:
            time.sleep(0.02)
        assert emu.transmitting(1) == "1101" and emu.sending_rai()
        # The host comes back: the card leaves fail-safe and the host's CAS are sent again. The card may
        # put the host's CAS back on the line before its "fail-safe off" reaches the host: wait for both.
        def failsafe(events):
            return [e.value for e in events if e.kind == CardEventKind.FAILSAFE]
        events = pump(card, lambda ev: emu.transmitting(1) == "1001" and failsafe(ev)[-1:] == ["off"])
        assert failsafe(events) == ["on", "off"]
        assert emu.transmitting(1) == "1001" and not emu.sending_rai()
    finally:
        card.close()
        emu.stop()


def test_a_missing_card_keeps_the_span_down_and_names_the_device(tmp_path, caplog):
    caplog.set_level(logging.WARNING, "drivers")
    card = E1Card(str(tmp_path / "ttyACM7"))
    card.start()
    events = card.poll()
    assert card.state == LinkState.OFFLINE and "ttyACM7: not found" in card.reason
    assert links(events) == ["down"]


@pytest.mark.parametrize("kw, word", [(dict(framing="t1"), "framing"), (dict(debounce_ms=1), "debounce_ms"),
                                      (dict(failsafe_s=0), "failsafe_s"), (dict(failsafe_abcd="0000"), "0000")])
def test_span_config_is_checked(kw, word):
    with pytest.raises(E1CardError, match=word):
        SpanConfig(**kw)


def test_emulator_refuses_what_the_protocol_forbids(rig):
    emu, card = rig()
    card._command("CAS", "16", "1001")
    card._command("CAS", "1", "0000")
    card._command("NOPE")
    pump(card, lambda ev: card.counters["errors"] == 3, 2.0)
    answers = [t for who, t in emu.transcript if who == "card" and " ERR " in t]
    assert [a.split(" ")[2].split("*")[0] for a in answers] == ["not-voice-timeslot", "forbidden-0000", "unknown-verb"]


def test_loopbacks_and_a_forced_remote_alarm_reach_the_card(rig):
    emu, card = rig()
    card.loopback("local")
    card.set_rai("on")
    pump(card, lambda ev: emu.loop == "local" and emu.rai == "on")
    assert emu.loop == "local" and emu.sending_rai()
    with pytest.raises(E1CardError, match="loopback"):
        card.loopback("sideways")
    with pytest.raises(E1CardError, match="RAI"):
        card.set_rai("maybe")
