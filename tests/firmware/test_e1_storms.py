"""Fault storms on E1 spans (docs/architecture.md §26): the box on two simulated spans in fast time. Span 1
has its line alarms toggled while calls are up, or its PCM overruns and underruns again and again; span
2 carries one call to an agent all the while, and its audio is measured: only span 1 may suffer."""
import logging
import random
import sqlite3
import statistics
import wave

import numpy as np
import pytest

from drivers.channel import TICK_SAMPLES, Board
from drivers.e1_alarms import RED_BLUE_DEBOUNCE_S, SETTLE_S, YELLOW_DEBOUNCE_S
from drivers.e1_exchange import SimExchange
from drivers.e1_span import AlsaSpanAudio, E1SpanDriver
from drivers.sim import VOICE_DBM0, SimCaller, SimDriver
from dsp import g711
from dsp.levels import rms_dbm0
from firmware.config.box import StatePaths, load_site, open_engine
from firmware.config.r2_variants import load_variant

# Callers and agents speak as steady tones (drivers/sim.py), away from the R2 MF tones (540-1980 Hz
# in 120 Hz steps), the China plan's 450 Hz and every DTMF and fax tone.
CALLER_HZ = (500, 700)       # span 1's caller, span 2's
AGENT_HZ = 300
# A 20 ms frame of a whole-hertz tone through A-law is within this of the level it was sent at.
FRAME_TOLERANCE_DB = 0.5
SPAN_CHANNELS = 30


class XrunCard:
    """pyalsaaudio as far as drivers/alsa_pcm.py uses it, over a simulated exchange's timeslots: one 32-channel
    A-law PCM whose capture is what the exchange sends and whose playback is what it hears. `xruns(n, m)`:
    the next `n` reads overrun and the next `m` writes underrun (docs/standards.md §13.1: a read gives
    (-EPIPE, b""), its period lost; a write gives -EPIPE and writes nothing); the card's clock runs on."""

    PCM_CAPTURE, PCM_PLAYBACK, PCM_NORMAL, PCM_FORMAT_A_LAW = 0, 1, 0, 21

    class ALSAAudioError(Exception):
        pass

    def __init__(self, exchange):
        self.sim = exchange.audio
        self.tx = np.zeros((32, TICK_SAMPLES), np.int16)
        self.overruns_due = self.underruns_due = 0
        self.overrun_at: list[float] = []          # the exchange's time of each period lost

    def xruns(self, reads, writes):
        self.overruns_due, self.underruns_due = reads, writes

    def PCM(self, **kw):
        card = self

        class Pcm:
            def info(self):
                return {"rate": kw["rate"], "channels": kw["channels"], "format_name": "A_LAW",
                        "period_size": kw["periodsize"]}

            def read(self):
                rx = np.zeros((32, TICK_SAMPLES), np.int16)
                card.sim.exchange(card.tx, rx)
                if card.overruns_due:
                    card.overruns_due -= 1
                    card.overrun_at.append(card.sim.now())
                    return -32, b""
                return TICK_SAMPLES, g711.alaw_encode(np.ascontiguousarray(rx.T).ravel()).tobytes()

            def write(self, data):
                if kw["type"] == card.PCM_CAPTURE:
                    raise card.ALSAAudioError("write on a capture PCM")
                if card.underruns_due:
                    card.underruns_due -= 1
                    return -32
                card.tx = g711.alaw_decode(np.frombuffer(data, np.uint8)).reshape(-1, 32).T.copy()
                return TICK_SAMPLES

            def drop(self):
                pass

            def close(self):
                pass
        return Pcm()


class SpanBox:
    """The box on two simulated E1 spans (China R2) and four handsets; agents 1001-1004 ready."""

    def __init__(self, tmp_path, alsa_on_span1=False):
        variant = load_variant("china")
        self.exchanges, spans = [], []
        for name in ("span1", "span2"):
            exchange = SimExchange(variant, number_digits=8)
            audio = exchange.audio
            if alsa_on_span1 and name == "span1":
                self.card = XrunCard(exchange)
                audio = AlsaSpanAudio("e1_capture", "e1_playback", module=self.card, clock=exchange.audio.now)
            spans.append(E1SpanDriver(name, exchange.card, audio, variant, dnis_digits=4, ani="01088886666",
                                      clock=exchange.audio.now))
            self.exchanges.append(exchange)
        self.spans = spans
        sim = SimDriver(trunks=0, stations=4)
        for i in range(4):
            phone = sim.handset(i)
            phone.answer_after, phone.talk, phone.voice_hz = 0.5, 36000.0, AGENT_HZ
        self.paths = StatePaths(tmp_path / "state")
        self.engine = open_engine(self.paths, Board([*spans, sim]), load_site(self.paths), clock="fast",
                                  control=False, seed=18)
        self.alarms: list[tuple[int, bool]] = []
        self.engine.observers.append(self._observe)
        self.run(lambda: all(s.span_status()["state"] == "up" for s in spans), 10, "both spans up")
        self.alarms.clear()                   # the spans' own start
        for agent in ("1001", "1002", "1003", "1004"):
            self.engine.app.acd.cmd_login(agent)
            self.engine.app.acd.cmd_ready(agent)

    def _observe(self, name, data):
        if name == "call:bridged" and data["channel"] < 2 * SPAN_CHANNELS:
            self.exchanges[data["channel"] // SPAN_CHANNELS].connected(data["channel"] % SPAN_CHANNELS)
        elif name == "line:alarm":
            self.alarms.append((data["channel"], data["active"]))

    @property
    def now(self):
        return self.engine.clock.seconds

    def run(self, cond, seconds, what):
        start = self.now
        self.engine.run(until=lambda: cond() or self.now - start >= seconds)
        assert cond(), f"not within {seconds} s: {what}"
        return self.now - start

    def carry_on(self, seconds):
        end = self.now + seconds
        self.engine.run(until=lambda: self.now >= end)

    def calls_on(self, span):
        return [c for c in self.engine.app.calls.values()
                if span * SPAN_CHANNELS <= c.channel < (span + 1) * SPAN_CHANNELS]

    def talk_to_an_agent(self, span, number):
        """A caller on `span` presses 1 (sales) and is put through to an agent, speaking all the while."""
        caller = SimCaller(number, keys=[(1.0, "1")], patience=60.0, talk=36000.0, voice_hz=CALLER_HZ[span])
        self.exchanges[span].place_call(caller, "8001")
        self.run(lambda: caller.connected is not None, 20, f"span {span + 1}'s caller reached an agent")
        return caller

    def hang_up(self, span, caller):
        channel = next(ch for ch, c in self.exchanges[span].calls.items() if c.caller is caller)
        self.exchanges[span].hang_up(channel)

    def close(self):
        self.engine.close()

    def recording(self, number):
        """The call from `number`: its row and its recording, (samples, 2) int16."""
        db = sqlite3.connect(self.paths.db)
        db.row_factory = sqlite3.Row
        [row] = db.execute("select * from calls where number = ?", [number]).fetchall()
        [rec] = db.execute("select * from recordings where call_id = ?", [row["id"]]).fetchall()
        with wave.open(str(self.paths.recordings / rec["path"])) as w:
            stereo = np.frombuffer(w.readframes(w.getnframes()), "<i2").reshape(-1, 2)
        assert abs(stereo.shape[0] / 8000 - rec["duration"]) < 0.05
        return dict(row), stereo


def talk_frames(row, stereo, channel):
    """Level (dBm0) of each 20 ms frame of one side of the talk, from its second second to its last."""
    start = int(round((stereo.shape[0] / 8000 - row["talk"] + 1.0) * 50))
    frames = stereo[start * TICK_SAMPLES:(stereo.shape[0] // TICK_SAMPLES - 10) * TICK_SAMPLES, channel]
    frames = frames.reshape(-1, TICK_SAMPLES).astype(float)
    return np.array([rms_dbm0(f) if f.any() else -np.inf for f in frames])


def assert_untouched(box, number, span, seconds):
    """The call from `number` was whole: answered, ended by its caller, and each 20 ms of it both ways at
    the speaker's level."""
    row, stereo = box.recording(number)
    assert (row["disposition"], row["hangup_by"]) == ("answered", "caller") and row["talk"] >= seconds, row
    for channel in (0, 1):
        levels = talk_frames(row, stereo, channel)
        assert levels.size >= 50 * (seconds - 2)
        off = np.flatnonzero(np.abs(levels - VOICE_DBM0) > FRAME_TOLERANCE_DB)
        assert off.size == 0, f"{number} channel {channel}: {off.size} frames off level, first {off[:5] / 50} s"


@pytest.fixture
def span_box(tmp_path):
    boxes = []

    def make(**kw):
        boxes.append(SpanBox(tmp_path, **kw))
        return boxes[-1]
    yield make
    for box in boxes:
        box.close()


# Each storm: the defects, how long they last, and whether the span must take its calls down
# (docs/e1-card.md §4: LOS, LOF and AIS after 2.5 s, red or blue; RAI after 0.5 s, yellow; shorter is a glitch).
STORMS = [({"LOS"}, RED_BLUE_DEBOUNCE_S + 0.5, True), ({"AIS"}, RED_BLUE_DEBOUNCE_S + 0.5, True),
          ({"RAI"}, YELLOW_DEBOUNCE_S + 0.3, True), ({"LOF"}, RED_BLUE_DEBOUNCE_S + 0.5, True),
          ({"RAI"}, YELLOW_DEBOUNCE_S / 2, False), ({"LOS", "RAI"}, RED_BLUE_DEBOUNCE_S + 2.0, True)]


@pytest.mark.parametrize("storms", [pytest.param(len(STORMS), id="short"),
                                    pytest.param(100, id="storm", marks=pytest.mark.slow)])
def test_alarms_toggling_on_a_span_end_its_calls_with_records_and_leave_the_other_span_alone(span_box, storms):
    rng = random.Random(18)
    box = span_box()
    steady = box.talk_to_an_agent(1, "13700000000")
    t_storm = box.now
    expected, back_s = {}, []
    for i in range(storms):
        defects, lasting, ends_calls = STORMS[i] if i < len(STORMS) else rng.choice(STORMS)
        mine = [f"139{i:04d}{k:04d}" for k in range(3)]
        for number in mine:
            box.exchanges[0].place_call(SimCaller(number, keys=[(1.0, "1")], patience=600.0, talk=600.0,
                                                  voice_hz=CALLER_HZ[0]), "8001")
        box.run(lambda: len(box.calls_on(0)) == 3 and all(c.answered_at for c in box.calls_on(0)), 10,
                f"storm {i}: three calls up on span 1")
        box.carry_on(rng.uniform(0.0, 3.0))            # in the IVR, in the queue, talking to an agent
        expected.update(dict.fromkeys(mine, "box" if ends_calls else "caller"))
        box.exchanges[0].set_defects(defects)
        box.carry_on(lasting)
        box.exchanges[0].set_defects(set())
        if ends_calls:
            assert not box.calls_on(0), f"storm {i}: {defects} for {lasting} s left calls up"
            back_s.append(box.run(lambda: box.spans[0].span_status()["state"] == "up", SETTLE_S + 1.0,
                                  f"storm {i}: span 1 back"))
        else:
            # A glitch shorter than the alarm's debounce is no alarm: the calls stay up.
            assert len(box.calls_on(0)) == 3, f"storm {i}: a {lasting} s {defects} glitch ended calls"
            for call in box.calls_on(0):
                box.exchanges[0].hang_up(call.channel)
            box.run(lambda: not box.calls_on(0), 5, f"storm {i}: the callers hung up")
    storm_s = box.now - t_storm
    box.hang_up(1, steady)
    box.run(lambda: not box.engine.app.calls, 5, "the last call ended")
    box.close()
    print(f"\nE1 alarm storm: {storms} storms ({len(back_s)} alarms, the rest glitches) on span 1 in "
          f"{storm_s:.0f} simulated s; span 1 back {statistics.median(back_s):.1f} s after the line cleared "
          f"(median, {SETTLE_S:.0f} s settle), {max(back_s):.1f} s at most; span 2's call untouched")
    assert not [a for a in box.alarms if a[0] >= SPAN_CHANNELS], "span 2 or a handset was alarmed"
    db = sqlite3.connect(box.paths.db)
    rows = {n: (d, h, e) for n, d, h, e in db.execute("select number, disposition, hangup_by, ended_at from calls"
                                                       " where channel like 'span1-%'")}
    assert sorted(rows) == sorted(expected)
    # A call the alarm took down failed, ended by the box; every record ended, with its disposition.
    assert all(e is not None and d and h == expected[n] for n, (d, h, e) in rows.items()), rows
    assert all(d == "failed" for n, (d, h, e) in rows.items() if expected[n] == "box"), rows
    assert_untouched(box, "13700000000", 1, storm_s)


@pytest.mark.parametrize("storms", [pytest.param(6, id="short"),
                                    pytest.param(300, id="storm", marks=pytest.mark.slow)])
def test_pcm_xrun_storms_on_a_span_are_counted_and_logged_and_its_calls_go_on(span_box, storms, caplog):
    caplog.set_level(logging.WARNING, logger="drivers.alsa_pcm")
    rng = random.Random(18)
    box = span_box(alsa_on_span1=True)
    hit = box.talk_to_an_agent(0, "13900000001")
    steady = box.talk_to_an_agent(1, "13700000000")
    t_storm = box.now
    underruns = 0
    for _ in range(storms):
        reads, writes = rng.randrange(1, 30), rng.randrange(1, 30)
        box.card.xruns(reads, writes)
        underruns += writes
        box.carry_on(rng.uniform(1.0, 3.0))
    storm_s = box.now - t_storm
    box.hang_up(0, hit)
    box.hang_up(1, steady)
    box.run(lambda: not box.engine.app.calls, 5, "both callers hung up")
    audio = box.spans[0].span_status()["audio"]
    box.close()
    lost = len(box.card.overrun_at)
    said = [r.getMessage() for r in caplog.records if r.name == "drivers.alsa_pcm"]
    print(f"\nPCM xrun storm: {storms} storms on span 1 in {storm_s:.0f} simulated s: {audio['overruns']} overruns "
          f"and {audio['underruns']} underruns counted, {len(said)} log lines; no alarm, both calls whole")
    # Every xrun counted; the first of each logged with the device, then not one line per xrun.
    assert (audio["overruns"], audio["underruns"]) == (lost, underruns) and lost > storms
    assert any(m.startswith("alsa e1_capture: capture overrun") for m in said), said
    assert any(m.startswith("alsa e1_playback: playback underrun") for m in said), said
    assert len(said) <= 2 * (1 + storm_s // 60), said
    # An xrun is no alarm: no line left service, no call ended.
    assert not box.alarms
    row, stereo = box.recording("13900000001")
    assert (row["disposition"], row["hangup_by"]) == ("answered", "caller") and row["talk"] >= storm_s
    # Span 1's caller as recorded: exactly one 20 ms frame of silence for each period the card lost,
    # every other frame the caller at their level; the agent's side whole.
    caller = talk_frames(row, stereo, 0)
    assert np.isinf(caller).sum() == lost
    assert np.all(np.abs(caller[np.isfinite(caller)] - VOICE_DBM0) <= FRAME_TOLERANCE_DB)
    assert np.all(np.abs(talk_frames(row, stereo, 1) - VOICE_DBM0) <= FRAME_TOLERANCE_DB)
    assert_untouched(box, "13700000000", 1, storm_s)
