"""The span driver on the real control link: E1Card through pyserial to the card emulator on a
pseudo-terminal, in real time. Line signalling both ways, a span alarm, the card unplugged."""
import time

import numpy as np
import pytest

from drivers import e1_alarms, e1_card
from drivers.channel import EventKind
from drivers.e1_card import E1Card, SpanConfig
from drivers.e1_emulator import E1CardEmulator
from drivers.e1_span import E1SpanDriver
from firmware.config.r2_variants import load_variant


class SilentAudio:
    """A PCM that carries silence (the signalling is what is tested here)."""

    def open(self):
        pass

    def exchange(self, tx, rx):
        rx[:] = 0

    def status(self):
        return {"overruns": 0}

    def close(self):
        pass


@pytest.fixture
def span(tmp_path, monkeypatch):
    monkeypatch.setattr(e1_alarms, "RED_BLUE_DEBOUNCE_S", 0.3)
    monkeypatch.setattr(e1_alarms, "SETTLE_S", 0.5)
    monkeypatch.setattr(e1_card, "RECONNECT_MIN_S", 0.1)
    emu = E1CardEmulator(link_dir=tmp_path).start()
    v = load_variant("china")
    for ts in range(1, 32):
        if ts != 16:
            emu.far_cas(ts, v.abcd("idle"))
    driver = E1SpanDriver("span1", E1Card(emu.link, SpanConfig(failsafe_s=5)), SilentAudio(), v)
    driver.start()
    yield driver, emu, v
    driver.close()
    emu.stop()


def pump(driver, until, seconds=3.0):
    tx = np.zeros((30, 160), np.int16)
    rx = np.zeros((30, 160), np.int16)
    events = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        events += driver.exchange(tx, rx)
        if until(events):
            break
        time.sleep(0.005)
    return events


def alarms(events, ch=0):
    return [e.data["active"] for e in events if e.kind == EventKind.ALARM and e.channel == ch]


def test_line_signalling_through_the_card(span):
    driver, emu, v = span
    events = pump(driver, lambda ev: alarms(ev) == [True, False])
    assert alarms(events) == [True, False] and driver.status()["span"]["link"] == "up"
    pump(driver, lambda ev: emu.transmitting(1) == v.abcd("idle"))
    assert emu.transmitting(1) == "1011"                              # idle, China C D = 1 1
    emu.far_cas(3, v.abcd("seize"))
    pump(driver, lambda ev: emu.transmitting(3) == v.abcd("seize_ack"))
    assert emu.transmitting(3) == "1111" and driver.line_state(2).value == "in-seized"
    emu.far_cas(3, v.abcd("idle"))                                    # cleared during the address
    pump(driver, lambda ev: emu.transmitting(3) == v.abcd("idle"))
    assert driver.line_state(2).value == "idle" and driver.r2.counters["abandoned"] == 1
    driver.dial(5, "55501234")
    pump(driver, lambda ev: emu.transmitting(6) == v.abcd("seize"))
    assert emu.transmitting(6) == "0011"


def test_a_span_alarm_and_an_unplugged_card(span):
    driver, emu, v = span
    pump(driver, lambda ev: alarms(ev) == [True, False])
    emu.set_defects({"AIS"})
    events = pump(driver, lambda ev: alarms(ev) == [True])
    assert alarms(events) == [True] and driver.status()["span"]["alarms"] == ["blue"]
    emu.set_defects(set())
    events = pump(driver, lambda ev: alarms(ev) == [False])
    assert alarms(events) == [False]
    emu.unplug()
    events = pump(driver, lambda ev: alarms(ev) == [True])
    assert "control port" in [e.data for e in events if e.kind == EventKind.ALARM][0]["reason"]
    emu.replug()
    events = pump(driver, lambda ev: alarms(ev) == [False], 5.0)
    assert alarms(events) == [False]
