"""Fault storms on voice modems (docs/architecture.md §26): the whole box on two emulated modems, the real
driver through pyserial on pseudo-terminals, in real time. Line 1 is unplugged and plugged in again
during calls, or its serial port carries garbage and half lines; line 2 carries one long call to an
agent all the while, and its audio both ways is measured: only line 1's calls may suffer."""
import logging
import random
import statistics
import time
import wave

import numpy as np
import pytest

from drivers import modem_chat
from drivers.channel import Board
from drivers.modem_emulator import CALLER_VOICE_DBM0, HEARD_S, ModemEmulator
from drivers.modem_line import LineState
from drivers.sim import VOICE_DBM0, SimCaller, SimDriver
from drivers.voice_modem import LineConfig, VoiceModemDriver
from dsp.levels import rms_dbm0
from firmware.config.box import StatePaths, load_site, open_engine
from firmware.config.site import DEFAULTS_DIR
from firmware.config.tone_plans import load_plan
from firmware.store import open_readonly

# Line 2's caller and agent each speak as a steady tone (drivers/sim.py, drivers/modem_emulator.py), away
# from the China plan's 450 Hz call-progress tones and from every DTMF and fax tone.
CALLER_HZ, AGENT_HZ = 600, 840
# A 1 s window of a tone after G.711 and the modem stream is within this of the level it was sent at:
# G.711 quantising is far below it; a lost or repeated 20 ms frame in the window shows as 0.1-0.2 dB
# (the jitter buffer's underrun on a loaded machine), a dropped stream as silence.
LEVEL_TOLERANCE_DB = 1.0
# One unplugged line takes this long at most to be back in service after it is plugged in again: the
# driver's bounded back-off starts at 1 s (drivers/modem_port.py) and the initialisation chat is a
# dozen commands.
RECOVERY_LIMIT_S = 8.0


def _tone_windows(audio, hz, start, end):
    """Level (dBm0) and strongest frequency of each whole second of `audio` (8 kHz) from `start` to `end` s."""
    found = []
    for k in range(int(start * 8000), int(end * 8000) - 8000 + 1, 8000):
        w = audio[k:k + 8000].astype(float)
        spectrum = np.abs(np.fft.rfft(w * np.hanning(w.size)))
        found.append((rms_dbm0(w), float(np.fft.rfftfreq(w.size, 1 / 8000)[np.argmax(spectrum)])))
    return found


class ModemBox:
    """The box on two emulated full-duplex modems and four simulated handsets; agent 1001 at station 1."""

    def __init__(self, tmp_path):
        # The lines' network is China's, as the site's tones: a caller who hangs up leaves its busy tone.
        plan = load_plan("cn")
        self.emus = [ModemEmulator("cx93010", serial_number=f"STORM{i}", link_dir=tmp_path / "by-id",
                                   ring_period_s=1.0, seed=i, tones=plan).start() for i in (1, 2)]
        self.modem = VoiceModemDriver([LineConfig(f"line{i + 1}", emu.link) for i, emu in enumerate(self.emus)])
        sim = SimDriver(trunks=0, stations=4)
        phone = sim.handset(0)
        phone.answer_after, phone.talk, phone.voice_hz = 0.3, 3600.0, AGENT_HZ
        self.paths = StatePaths(tmp_path / "state")
        site = load_site(self.paths)
        site.answer_rings = 2          # as board/profiles/sim-modems.toml: caller ID comes after the first ring
        self.engine = open_engine(self.paths, Board([self.modem, sim]), site, clock="paced", control=False,
                                  seed=18, flow_path=DEFAULTS_DIR / "flows" / "main.toml")
        self.alarms: list[tuple[int, bool, str]] = []
        self.engine.observers.append(self._observe)

    def _observe(self, name, data):
        if name == "call:bridged" and data["channel"] < len(self.emus):
            self.emus[data["channel"]].connected()
        elif name == "line:alarm":
            self.alarms.append((data["channel"], data["active"], data.get("reason", "")))

    def run(self, until, seconds, what):
        t0 = time.monotonic()
        self.engine.run(until=lambda: until() or time.monotonic() - t0 > seconds)
        assert until(), (f"not within {seconds} s: {what}; line 1 {self.modem.lines[0].status()}, "
                         f"its call {self.call_on(0) and self.engine.app.line_status(0)}")
        return time.monotonic() - t0

    def carry_on(self, seconds):
        """The box runs for `seconds`."""
        end = time.monotonic() + seconds
        self.engine.run(until=lambda: time.monotonic() >= end)

    def call_on(self, channel):
        return next((c for c in self.engine.app.calls.values() if c.channel == channel), None)

    def in_service(self, channel):
        return channel not in self.engine.alarms and self.modem.lines[channel].state == LineState.IDLE

    def start_long_call(self):
        """Line 2's caller, through the IVR (key 1, sales) to agent 1001, talking until hung up."""
        self.run(lambda: self.in_service(0) and self.in_service(1), 10, "both lines in service")
        self.engine.app.acd.cmd_login("1001")
        self.engine.app.acd.cmd_ready("1001")
        self.long = SimCaller("13800000002", keys=[(1.0, "1")], patience=60.0, talk=3600.0, voice_hz=CALLER_HZ)
        assert self.emus[1].place_call(self.long)
        self.run(lambda: self.long.connected is not None, 20, "line 2's caller reached the agent")

    def end_long_call(self):
        self.emus[1].hang_up()
        self.run(lambda: not self.engine.app.calls and self.in_service(0) and self.in_service(1), 20,
                 "every call ended and both lines idle")

    def close(self):
        """Stop the box (its records all written) and the modems; once."""
        if self.emus:
            self.engine.close()
            for emu in self.emus:
                emu.stop()
            self.stopped, self.emus = self.emus, []

    def check_the_long_call(self, storm_s):
        """Line 2's call as its caller and agent had it: whole, in its record, its recording and its audio."""
        self.close()
        assert not [a for a in self.alarms if a[0] == 1], self.alarms
        counters = self.modem.lines[1].status()["counters"]
        assert counters["resets"] == counters["reconnects"] == counters["ignored_lines"] == 0, counters
        db = open_readonly(self.paths.db)
        [row] = list(db["calls"].rows_where("channel = 'line2'"))
        assert (row["disposition"], row["hangup_by"], row["agent_id"]) == ("answered", "caller", "1001")
        assert row["ended_at"] and row["talk"] >= storm_s
        [rec] = list(db["recordings"].rows_where("call_id = ?", [row["id"]]))
        with wave.open(str(self.paths.recordings / rec["path"])) as w:
            stereo = np.frombuffer(w.readframes(w.getnframes()), "<i2").reshape(-1, 2)
        assert abs(stereo.shape[0] / 8000 - rec["duration"]) < 0.1
        # The talk is the recording's last `talk` seconds: every second of it carries the caller (left)
        # and the agent (right) at the level they spoke, at their frequency.
        talk_start = stereo.shape[0] / 8000 - row["talk"]
        for channel, hz, level in ((0, CALLER_HZ, CALLER_VOICE_DBM0), (1, AGENT_HZ, VOICE_DBM0)):
            windows = _tone_windows(stereo[:, channel], hz, talk_start + 1.0, stereo.shape[0] / 8000 - 0.5)
            assert len(windows) >= storm_s - 3
            bad = [(k, round(lv, 2), f) for k, (lv, f) in enumerate(windows)
                   if abs(lv - level) > LEVEL_TOLERANCE_DB or abs(f - hz) > 2]
            print(f"line 2 channel {channel}: {len(windows)} s, {len(bad)} off level, level "
                  f"{min(lv for lv, _ in windows):.2f} to {max(lv for lv, _ in windows):.2f} dBm0; {counters}")
            # Only audio the driver counted as lost may be missing: a test machine shared with other work
            # holds a thread back now and then, and the jitter buffer then drops a burst too long for it
            # (an overrun) or runs dry (an underrun), counting each. The speaker is never gone: every
            # second still carries their tone, at least a quarter of it.
            assert all(abs(f - hz) <= 2 and lv >= level - 6.0 for _, lv, f in bad), bad
            assert len(bad) <= counters["overruns"] + counters["underruns"], (
                f"recording channel {channel}: seconds off level the driver did not count: {bad[:5]} {counters}")
        # What line 2's modem played to the caller: the agent, at the agent's level, to the end.
        heard = self.stopped[1].heard()
        heard_s = heard.size / 8000
        assert heard_s >= min(HEARD_S, row["talk"]) - 1.0
        windows = _tone_windows(heard, AGENT_HZ, max(0.0, heard_s - row["talk"] + 1.0), heard_s - 1.0)
        assert windows and all(abs(lv - VOICE_DBM0) <= LEVEL_TOLERANCE_DB and abs(f - AGENT_HZ) <= 2
                               for lv, f in windows), windows
        return db


@pytest.fixture
def box(tmp_path, monkeypatch):
    monkeypatch.setattr(modem_chat, "COMMAND_DELAY_S", 0.01)
    built = ModemBox(tmp_path)
    yield built
    built.close()


# Where in a call the modem is pulled out: while it rings (before the box answers, the second ring), once
# answered (the answer's commands, the welcome prompt), or while it comes back (its initialisation).
MOMENTS = ("answered", "ringing", "coming back")


@pytest.mark.parametrize("storms", [pytest.param(len(MOMENTS), id="short"),
                                    pytest.param(100, id="storm", marks=pytest.mark.slow)])
def test_a_modem_unplugged_during_calls_fails_only_its_call_and_comes_back_each_time(box, storms):
    rng = random.Random(18)
    box.start_long_call()
    t_storm = time.monotonic()
    ended_s, recovered_s, moments = [], [], []
    for i in range(storms):
        moment = MOMENTS[i % len(MOMENTS)]
        moments.append(moment)
        box.run(lambda: box.in_service(0), RECOVERY_LIMIT_S, f"storm {i}: line 1 idle")
        assert box.emus[0].place_call(SimCaller(f"139{i:08d}", patience=30.0))
        if moment == "ringing":
            box.run(lambda: box.call_on(0) is not None, 5, f"storm {i}: line 1 rings")
            box.carry_on(rng.uniform(0.0, 0.8))
            assert not box.call_on(0).answered_at
        else:
            box.run(lambda: (c := box.call_on(0)) is not None and c.answered_at, 10, f"storm {i}: line 1 answered")
            box.carry_on(rng.uniform(0.0, 1.0))
        box.emus[0].unplug()
        ended_s.append(box.run(lambda: box.call_on(0) is None and 0 in box.engine.alarms, 5,
                               f"storm {i}: line 1's call ended and the line in alarm"))
        assert box.engine.alarms[0].startswith("modem ") and box.long.ended is None
        box.emus[0].replug()
        t0 = time.monotonic()
        if moment == "coming back":
            box.run(lambda: box.modem.lines[0].state == LineState.INIT, RECOVERY_LIMIT_S, f"storm {i}: reopened")
            box.carry_on(rng.uniform(0.0, 0.2))
            box.emus[0].unplug()
            box.carry_on(0.1)
            box.emus[0].replug()
        box.run(lambda: box.in_service(0), 2 * RECOVERY_LIMIT_S, f"storm {i}: line 1 back")
        recovered_s.append(time.monotonic() - t0)
    storm_s = time.monotonic() - t_storm
    box.end_long_call()
    ticks = box.engine.stats.status()
    print(f"\nmodem unplug storm: {storms} unplugs during calls ({', '.join(f'{moments.count(m)} {m}' for m in MOMENTS)}) in "
          f"{storm_s:.0f} s; each call ended within {1000 * max(ended_s):.0f} ms; line back in service "
          f"{statistics.median(recovered_s):.2f} s after replug (median), {max(recovered_s):.2f} s at most; "
          f"ticks p99 {ticks['p99_ms']} ms, max {ticks['max_ms']} ms, {ticks['overruns']} overruns")
    db = box.check_the_long_call(storm_s)
    rows = list(db["calls"].rows_where("channel = 'line1'", order_by="arrived_at"))
    assert len(rows) == storms
    for row, moment in zip(rows, moments):
        kinds = [e["kind"] for e in db["call_events"].rows_where("call_id = ?", [row["id"]])]
        assert row["ended_at"] and row["hangup_by"] == "box" and "call:hangup" in kinds, (moment, row, kinds)
        if moment == "ringing":
            assert not row["answered_at"] and row["disposition"], row
        else:
            assert row["disposition"] == "failed" and "call:answered" in kinds, (moment, row, kinds)
    # In alarm once a storm (again only when its reason changes: pulled out again while it comes back)
    # and back in service once a storm.
    raised = sum(1 for ch, active, _ in box.alarms if ch == 0 and active)
    assert storms <= raised <= storms + moments.count("coming back")
    assert sum(1 for ch, active, _ in box.alarms if ch == 0 and not active) == storms


def _faults(rng):
    """One burst of what a bad cable, a flaky USB hub or a confused modem puts on the serial line."""
    kind = rng.choice(["noise", "half line", "cut escape", "long line", "nul flood", "bad code"])
    if kind == "noise":
        return kind, bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200)))
    if kind == "half line":
        return kind, rng.choice([b"\r\nOK", b"\r\nCONN", b"\r\nNO CARR", b"\r\nRI", b"\r\nERR", b"OK\r"])
    if kind == "cut escape":
        return kind, b"\x10"                # <DLE> and then whatever the modem sends next
    if kind == "long line":
        return kind, b"A" * rng.randrange(257, 5000) + b"\r\n"
    if kind == "nul flood":
        return kind, b"\x00" * rng.randrange(100, 20000)
    return kind, rng.choice([b"\r\n+VCID: 1\r\n", b"\r\nNMBR = \r\n", b"\r\n\x10X\x10.\r\n", b"\r\nERROR\r\n"])


@pytest.mark.parametrize("storms", [pytest.param(3, id="short"),
                                    pytest.param(60, id="storm", marks=pytest.mark.slow)])
def test_garbage_and_half_lines_on_a_modem_port_never_stop_the_box_or_touch_the_other_line(box, storms, caplog):
    caplog.set_level(logging.WARNING)
    rng = random.Random(7)
    box.start_long_call()
    t_storm = time.monotonic()
    bursts: dict[str, int] = {}
    recovered_s = []
    for i in range(storms):
        box.run(lambda: box.in_service(0), 60, f"storm {i}: line 1 in service")
        caller = SimCaller(f"139{i:08d}", patience=4.0)
        assert box.emus[0].place_call(caller)
        # Bursts from the moment it rings until it has ended: over RING and caller ID, the answer's
        # commands, the audio stream and the hang-up.
        t0 = time.monotonic()
        while caller.ended is None and time.monotonic() - t0 < 25:
            kind, data = _faults(rng)
            bursts[kind] = bursts.get(kind, 0) + 1
            box.emus[0].inject(data)
            box.carry_on(rng.uniform(0.05, 0.4))
        t1 = time.monotonic()
        recovered_s.append(box.run(lambda: box.call_on(0) is None and box.in_service(0), 60,
                                   f"storm {i}: line 1 back in service after the garbage"))
        recovered_s[-1] += t1 - t0
    storm_s = time.monotonic() - t_storm
    box.end_long_call()
    ticks = box.engine.stats.status()
    line1 = box.modem.lines[0].status()["counters"]
    print(f"\nmodem garbage storm: {storms} calls, {sum(bursts.values())} bursts {bursts} in {storm_s:.0f} s; "
          f"line 1 resets {line1['resets']}, reopened {line1['reconnects']}, lines ignored "
          f"{line1['ignored_lines']}; back in service {max(recovered_s):.1f} s at most after the call's "
          f"first burst; ticks p99 {ticks['p99_ms']} ms, max {ticks['max_ms']} ms, {ticks['overruns']} overruns; "
          "the other line's call untouched")
    db = box.check_the_long_call(storm_s)
    rows = list(db["calls"].rows_where("channel = 'line1'"))
    assert rows and all(r["ended_at"] and r["disposition"] for r in rows), rows
    # Every time the line was taken out of service, the log says which modem and why.
    for ch, active, reason in box.alarms:
        assert ch == 0 and (not active or reason.startswith("modem ")), (ch, active, reason)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR and "line1" not in r.getMessage()
                and not r.getMessage().startswith("modem ")], "an error not about line 1"


def test_a_hang_up_report_lost_in_garbage_still_ends_the_call_by_the_busy_tone_after_it(tmp_path, monkeypatch):
    # Garbage before a <DLE>b turns it into data: the modem's report of the caller's hang-up is lost. Here
    # the modem reports it with a code the box does not know; the exchange's busy tone must end the call.
    monkeypatch.setattr(modem_chat, "COMMAND_DELAY_S", 0.01)
    emu = ModemEmulator("cx93010", serial_number="LOST1", link_dir=tmp_path / "by-id", ring_period_s=1.0,
                        tones=load_plan("cn"), answers={"remote_hangup": "?"}).start()
    modem = VoiceModemDriver([LineConfig("line1", emu.link)])
    paths = StatePaths(tmp_path / "state")
    engine = open_engine(paths, Board([modem, SimDriver(trunks=0, stations=4)]), load_site(paths),
                         clock="paced", control=False, seed=1)
    caller = SimCaller("13900000001", patience=3.0)
    try:
        t0 = time.monotonic()
        engine.run(until=lambda: modem.lines[0].state == LineState.IDLE or time.monotonic() - t0 > 10)
        assert emu.place_call(caller)
        engine.run(until=lambda: caller.ended is not None or time.monotonic() - t0 > 30)
        engine.run(until=lambda: not engine.app.calls or time.monotonic() - caller.ended > 10)
        ended_after = time.monotonic() - caller.ended
    finally:
        engine.close()
        emu.stop()
    [row] = list(open_readonly(paths.db)["calls"].rows)
    assert row["answered_at"] and row["hangup_by"] == "caller" and row["ended_at"], row
    # docs/architecture.md §20: three periods of China's busy tone (0.35 s on, 0.35 s off), and a margin.
    assert ended_after < 3.5, ended_after
