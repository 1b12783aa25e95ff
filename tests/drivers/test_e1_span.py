"""The E1 span driver: span alarms become channel alarms (debounced as DAHDI does) and end calls, new
calls are refused, the span comes back by itself; the control link lost and back; the ALSA PCM's
timeslot mapping, A-law and xruns."""
import numpy as np
import pytest

from drivers import alsa_pcm
from drivers.channel import ChannelError
from drivers.e1_span import AlsaSpanAudio, E1SpanDriver, E1SpanError, SpanLine
from drivers.sim import SimCaller
from dsp import g711
from e1_harness import ALARM, ANSWER, RING, Rig, Subscriber, of
from firmware.config.r2_variants import load_variant

ANI = "13800138000"


def alarms(events, channel=None):
    return [e.data for e in events if e.kind == ALARM and (channel is None or e.channel == channel)]


def connected_call(rig, ch=0):
    rig.exchange.place_call(SimCaller(ANI, patience=600.0, talk=600.0), "1234", channel=ch)
    rig.run(until=of(RING, ch), limit=10.0)
    rig.driver.answer(ch)
    rig.run(0.5)
    assert rig.state(ch) == "in-answered"


def test_the_span_starts_in_alarm_and_comes_into_service():
    rig = Rig()
    assert [a["active"] for a in alarms(rig.events, 0)] == [True, False]
    assert len(alarms(rig.events)) == 60
    assert rig.driver.span_status()["state"] == "up"


@pytest.mark.parametrize("defect, alarm, debounce", [("LOS", "red", 2.5), ("LOF", "red", 2.5), ("AIS", "blue", 2.5),
                                                     ("RAI", "yellow", 0.5)])
def test_a_span_alarm_mid_call_alarms_every_channel_after_its_debounce(defect, alarm, debounce):
    rig = Rig()
    connected_call(rig, 0)
    rig.exchange.set_defects({defect})
    start = rig.now()
    events = rig.run(until=lambda ev: alarms(ev, 0), limit=5.0)
    assert rig.now() - start == pytest.approx(debounce, abs=0.05)
    assert len(alarms(events)) == 30 and all(a["active"] for a in alarms(events))
    assert alarm in alarms(events, 0)[0]["reason"] and defect in alarms(events, 0)[0]["reason"]
    assert rig.state(0) == "idle"                    # the call's circuit is reset; the engine ends the call
    with pytest.raises(ChannelError, match="alarm"):
        rig.driver.dial(1, "55501234")
    status = rig.driver.status()
    assert status["span"]["alarms"] == [alarm] and status["lines"][0]["alarm"] == status["span"]["alarm"]


def test_the_span_comes_back_by_itself_after_the_settle_time_and_carries_calls():
    rig = Rig()
    rig.exchange.directory["55501234"] = Subscriber()
    rig.exchange.set_defects({"LOS"})
    rig.run(until=lambda ev: alarms(ev, 0), limit=5.0)
    rig.exchange.set_defects(set())
    start = rig.now()
    events = rig.run(until=lambda ev: alarms(ev, 0), limit=10.0)
    assert rig.now() - start == pytest.approx(5.0, abs=0.05)         # DAHDI_ALARMSETTLE_TIME
    assert [a["active"] for a in alarms(events, 0)] == [False]
    rig.driver.dial(2, "55501234")
    assert of(ANSWER, 2)(rig.run(until=of(ANSWER, 2), limit=15.0))


def test_a_short_defect_leaves_calls_up():
    rig = Rig()
    connected_call(rig, 0)
    rig.exchange.card.set_defects(frozenset({"LOS"}))       # the card only: the line blips
    rig.run(1.0)
    rig.exchange.card.set_defects(frozenset())
    events = rig.run(5.0)
    assert alarms(events) == [] and rig.state(0) == "in-answered"


def test_losing_the_control_port_alarms_the_span_and_it_comes_back():
    rig = Rig()
    connected_call(rig, 0)
    rig.exchange.card.unplug()
    events = rig.run(0.1)
    assert len(alarms(events)) == 30 and "unplugged" in alarms(events, 0)[0]["reason"]
    rig.exchange.card.replug()
    events = rig.run(0.1)
    assert [a["active"] for a in alarms(events, 0)] == [False]


def test_timeslots_must_be_voice_timeslots():
    v = load_variant("china")
    rig = Rig()
    with pytest.raises(E1SpanError, match="16"):
        E1SpanDriver("s", rig.exchange.card, rig.exchange.audio, v, lines=[SpanLine("a", 16)])
    with pytest.raises(E1SpanError):
        E1SpanDriver("s", rig.exchange.card, rig.exchange.audio, v, lines=[SpanLine("a", 1), SpanLine("b", 1)])


# --- the ALSA PCM of the span ---------------------------------------------------------------------
class FakePcm:
    """A 32-channel A-law PCM: reads a given period, records writes, or fails as asked."""

    def __init__(self, kind, channels, fmt, script):
        self.kind, self.channels, self.fmt, self.script = kind, channels, fmt, script
        self.written = []

    def info(self):
        return {"rate": 8000, "channels": self.channels, "format_name": self.fmt, "period_size": 160}

    def read(self):
        step = self.script.pop(0) if self.script else "ok"
        if step == "overrun":
            return -32, b""
        frames = np.zeros((160, 32), np.int16)
        frames[:, 5] = 1000                            # timeslot 5 carries a level
        return 160, g711.alaw_encode(frames.ravel()).tobytes()

    def write(self, data):
        self.written.append(data)
        return len(data) // self.channels

    def drop(self):
        pass

    def close(self):
        pass


class FakeAlsa:
    PCM_CAPTURE, PCM_PLAYBACK, PCM_NORMAL = 0, 1, 0
    PCM_FORMAT_A_LAW, PCM_FORMAT_S16_LE, PCM_FORMAT_MU_LAW = "A_LAW", "S16_LE", "MU_LAW"

    class ALSAAudioError(Exception):
        pass

    def __init__(self, script):
        self.script, self.pcms = script, []

    def PCM(self, type, mode, device, rate, channels, format, periodsize, periods):
        pcm = FakePcm(type, channels, format, self.script if type == 0 else [])
        self.pcms.append(pcm)
        return pcm


def test_alsa_span_audio_maps_timeslots_decodes_a_law_and_counts_overruns():
    aa = FakeAlsa(["ok", "overrun", "ok"])
    audio = AlsaSpanAudio("hw:E1", "hw:E1", module=aa)
    audio.open()
    tx = np.zeros((32, 160), np.int16)
    tx[17] = 2000
    rx = np.zeros((32, 160), np.int16)
    audio.exchange(tx, rx)
    # G.711 A-law has no zero: silence decodes to the smallest step, 8.
    assert np.all(rx[5] == g711.alaw_decode(g711.alaw_encode(np.int16(1000)))) and np.all(np.abs(rx[4]) == 8)
    audio.exchange(tx, rx)
    assert not rx.any() and audio.status()["overruns"] == 1           # an overrun reads as silence
    played = np.frombuffer(aa.pcms[1].written[-1], np.uint8).reshape(160, 32)
    assert np.all(g711.alaw_decode(played[:, 17]) == g711.alaw_decode(g711.alaw_encode(np.int16(2000))))
    assert alsa_pcm.PERIOD == 160


def test_a_pcm_that_fails_alarms_the_span_and_is_reopened(monkeypatch):
    rig = Rig()
    aa = FakeAlsa([])
    now = [0.0]
    audio = AlsaSpanAudio("hw:E1", "hw:E1", module=aa)
    driver = E1SpanDriver("span9", rig.exchange.card, audio, rig.variant, clock=lambda: now[0])
    driver.start()
    tx = np.zeros((30, 160), np.int16)
    rx = np.zeros((30, 160), np.int16)
    assert [e.data["active"] for e in driver.exchange(tx, rx) if e.kind == ALARM and e.channel == 0] == [True, False]

    def unplugged():
        raise FakeAlsa.ALSAAudioError("No such device")
    monkeypatch.setattr(aa.pcms[0], "read", unplugged)
    driver.exchange(tx, rx)                       # the read fails: the span is down from the next tick
    now[0] += 0.02
    events = driver.exchange(tx, rx)
    assert [e.data for e in events if e.channel == 0] == [{"active": True, "reason": "alsa hw:E1: failed: No such device"}]
    now[0] += 1.0                                 # the first reopen, after the 1 s back-off
    events = driver.exchange(tx, rx) + driver.exchange(tx, rx)
    assert [e.data["active"] for e in events if e.channel == 0] == [False]
    assert driver.counters["audio_reopens"] == 1 and driver.status()["lines"][0]["counters"]["resets"] == 1
