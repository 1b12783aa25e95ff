"""The ALSA line audio path: through the real pyalsaaudio 0.11 and alsa-lib on the null/file plugins
(docs/standards.md §13.2, no sound card), and with a fake PCM for what those plugins cannot do (xruns)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from drivers.alsa_pcm import PERIOD, PREFILL_PERIODS, AlsaDriver, AlsaError, AlsaLine, PcmPort
from drivers.channel import ChannelError, EventKind
from dsp import g711

ROOT = Path(__file__).resolve().parents[2]
CHANNELS = 4
SLOTS = [2, 0]                 # line1 on channel 2, line2 on channel 0: the profile's mapping
TICKS = 10
FORMATS = {"S16_LE": 2, "MU_LAW": 1, "A_LAW": 1}

CONFIG = """
pcm.t_null {{ type null }}
{pcms}
pcm.t_route {{
    type route
    slave {{ pcm "t_null" channels {channels} }}
    ttable.0.0 1
}}
"""
# docs/standards.md §13.2: capture also writes to `file`, so it goes to /dev/null; infiles longer than the reads.
PCM = """
pcm.cap_{fmt} {{ type file slave.pcm "t_null" file "/dev/null" infile "{dir}/cap_{fmt}.raw" format "raw" }}
pcm.play_{fmt} {{ type file slave.pcm "t_null" file "{dir}/play_{fmt}.raw" format "raw" }}
"""

CHILD = """
import json, sys
import numpy as np
from drivers.alsa_pcm import AlsaDriver, AlsaLine
out = {}
for fmt in sys.argv[1].split(","):
    drv = AlsaDriver(capture=f"cap_{fmt}", playback=f"play_{fmt}", channels=4, fmt=fmt,
                     lines=[AlsaLine("line1", 2), AlsaLine("line2", 0)])
    drv.start()
    tx = np.stack([np.arange(160, dtype=np.int16) * 50 + 7 * k for k in (1, 2)])
    rx = np.zeros((2, 160), np.int16)
    frames, events = [], []
    for t in range(10):
        events += drv.exchange((tx + 100 * t).astype(np.int16), rx)
        frames.append(rx.tolist())
    out[fmt] = {"rx": frames, "events": [e.kind.value for e in events], "status": drv.status()}
    drv.close()
route = AlsaDriver(capture="t_route", playback="t_route", channels=4, fmt="MU_LAW", lines=[AlsaLine("line1", 0)])
route.start()
out["route"] = [e.data for e in route.exchange(np.zeros((1, 160), np.int16), np.zeros((1, 160), np.int16))]
card = AlsaDriver(capture="branchline_capture", playback="branchline_playback", channels=1, fmt="A_LAW",
                  lines=[AlsaLine("ts1", 0)])
card.start()
out["card"] = [e.data for e in card.exchange(np.zeros((1, 160), np.int16), np.zeros((1, 160), np.int16))]
print(json.dumps(out))
"""


def _encode(fmt, x):
    if fmt == "MU_LAW":
        return g711.ulaw_encode(x).tobytes()
    if fmt == "A_LAW":
        return g711.alaw_encode(x).tobytes()
    return x.astype("<i2").tobytes()


def _decode(fmt, data):
    if fmt == "MU_LAW":
        return g711.ulaw_decode(np.frombuffer(data, np.uint8))
    if fmt == "A_LAW":
        return g711.alaw_decode(np.frombuffer(data, np.uint8))
    return np.frombuffer(data, "<i2")


@pytest.fixture(scope="module")
def alsa_run(tmp_path_factory):
    """One child process: alsa-lib reads its configuration once per process (docs/standards.md §13.2)."""
    d = tmp_path_factory.mktemp("alsa")
    rng = np.random.default_rng(3)
    captured = {}
    for fmt in FORMATS:
        # Twice the frames the test reads, so no read runs past the end into stale data (§13.2).
        x = rng.integers(-20000, 20000, size=(2 * TICKS * PERIOD, CHANNELS)).astype(np.int16)
        raw = _encode(fmt, x.ravel())
        (d / f"cap_{fmt}.raw").write_bytes(raw)
        captured[fmt] = _decode(fmt, raw).reshape(-1, CHANNELS)
    pcms = "".join(PCM.format(fmt=fmt, dir=d) for fmt in FORMATS)
    (d / "test.conf").write_text(CONFIG.format(pcms=pcms, channels=CHANNELS))
    env = {**os.environ, "PYTHONPATH": str(ROOT),
           "ALSA_CONFIG_PATH": f"/usr/share/alsa/alsa.conf:{d / 'test.conf'}:{ROOT / 'board/alsa/asound.conf'}"}
    proc = subprocess.run([sys.executable, "-c", CHILD, ",".join(FORMATS)], env=env, capture_output=True,
                          text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout), d, captured


@pytest.mark.parametrize("fmt", FORMATS)
def test_capture_maps_pcm_channels_to_lines(alsa_run, fmt):
    out, _, captured = alsa_run
    rx = np.array(out[fmt]["rx"])                 # (ticks, lines, 160)
    for t in range(TICKS):
        period = captured[fmt][t * PERIOD:(t + 1) * PERIOD]
        assert np.array_equal(rx[t, 0], period[:, SLOTS[0]]) and np.array_equal(rx[t, 1], period[:, SLOTS[1]])
    assert out[fmt]["events"] == [] and out[fmt]["status"]["lines"][0]["state"] == "running"


@pytest.mark.parametrize("fmt", FORMATS)
def test_playback_is_interleaved_byte_exact(alsa_run, fmt):
    _, d, _ = alsa_run
    written = (d / f"play_{fmt}.raw").read_bytes()
    expect = [np.zeros((PREFILL_PERIODS * PERIOD, CHANNELS), np.int16)]
    for t in range(TICKS):
        frame = np.zeros((CHANNELS, PERIOD), np.int16)
        for i, k in enumerate((1, 2)):
            frame[SLOTS[i]] = np.arange(PERIOD, dtype=np.int16) * 50 + 7 * k + 100 * t
        expect.append(frame.T)
    assert written == _encode(fmt, np.concatenate(expect).ravel())
    assert len(written) == (PREFILL_PERIODS + TICKS) * PERIOD * CHANNELS * FORMATS[fmt]


def test_a_format_the_plugin_swaps_is_refused_with_the_device_named(alsa_run):
    # docs/standards.md §13.2: route cannot carry companded formats; asked MU_LAW it opens S8 without an error.
    out, _, _ = alsa_run
    [alarm] = out["route"]
    assert alarm["active"] and "alsa t_route" in alarm["reason"]
    assert "format_name MU_LAW asked, got S8" in alarm["reason"]


def test_board_asound_conf_names_resolve_and_a_missing_card_is_an_alarm(alsa_run):
    # board/alsa/asound.conf defines the names: opening one reaches for the card (ENODEV, "No such
    # device"), where an undefined name fails as unknown (ENOENT). No card here: the line is in alarm.
    out, _, _ = alsa_run
    [alarm] = out["card"]
    assert alarm["active"] and "alsa branchline_capture: cannot open for capture: No such device" in alarm["reason"]


# --- a fake PCM for what the null/file plugins never do (docs/standards.md §13.2: no xruns, no unplug) -------
class FakeAlsa:
    PCM_CAPTURE, PCM_PLAYBACK, PCM_NORMAL = 1, 0, 0
    PCM_FORMAT_S16_LE, PCM_FORMAT_MU_LAW, PCM_FORMAT_A_LAW = 2, 20, 21

    class ALSAAudioError(Exception):
        pass

    def __init__(self):
        self.reads: list = []          # scripted read results; (160 frames of silence) when empty
        self.write_results: list = []
        self.opened = 0
        self.fail_open = False
        self.info_override: dict = {}
        self.written: list[bytes] = []

    def PCM(self, **kw):
        if self.fail_open:
            raise self.ALSAAudioError(f"No such device [{kw['device']}]")
        self.opened += 1
        fake = self
        names = {2: "S16_LE", 20: "MU_LAW", 21: "A_LAW"}

        class Pcm:
            def info(self):
                return {"rate": kw["rate"], "channels": kw["channels"], "format_name": names[kw["format"]],
                        "period_size": kw["periodsize"], **fake.info_override}

            def read(self):
                if fake.reads:
                    item = fake.reads.pop(0)
                    if isinstance(item, Exception):
                        raise item
                    return item
                return PERIOD, b"\0\0" * PERIOD * kw["channels"]

            def write(self, data):
                fake.written.append(data)
                return fake.write_results.pop(0) if fake.write_results else len(data) // (2 * kw["channels"])

            def drop(self):
                pass

            def close(self):
                pass
        return Pcm()


def _driver(fake, clock):
    return AlsaDriver("cap", "play", 2, "S16_LE", [AlsaLine("line1", 1)], module=fake, clock=lambda: clock[0])


def test_overrun_reads_as_silence_and_is_counted():
    fake, clock = FakeAlsa(), [0.0]
    drv = _driver(fake, clock)
    drv.start()
    fake.reads = [(-32, b"")]          # docs/standards.md §13.1: overrun -> (-EPIPE, b'')
    rx = np.ones((1, PERIOD), np.int16)
    assert drv.exchange(np.zeros((1, PERIOD), np.int16), rx) == []
    assert not rx.any() and drv.status()["lines"][0]["counters"]["overruns"] == 1


def test_an_xrun_storm_is_counted_each_time_and_logged_without_flooding_the_log(caplog):
    fake, clock = FakeAlsa(), [0.0]
    drv = _driver(fake, clock)
    drv.start()
    tx, rx = np.zeros((1, PERIOD), np.int16), np.zeros((1, PERIOD), np.int16)
    caplog.set_level("WARNING", logger="drivers.alsa_pcm")
    for tick in range(3000):                       # a minute of ticks, every one an overrun and an underrun
        clock[0] = tick * 0.02
        fake.reads = [(-32, b"")]
        fake.write_results = [-32, PERIOD]
        drv.exchange(tx, rx)
    clock[0] = 60.0
    fake.reads = [(-32, b"")]
    drv.exchange(tx, rx)
    counters = drv.status()["lines"][0]["counters"]
    assert counters["overruns"] == 3001 and counters["underruns"] == 3000
    said = [r.getMessage() for r in caplog.records]
    # The first of each at once, naming the device and what was lost; then one line a minute with the count.
    assert said[:2] == ["alsa cap: capture overrun: a period of the lines' audio lost (1 since the last report, 1 in all)",
                        "alsa play: playback underrun: the period written again (1 since the last report, 1 in all)"]
    assert said[2:] == [("alsa cap: capture overrun: a period of the lines' audio lost (3000 since the last report, "
                         "3001 in all)")]


def test_underrun_is_counted_and_the_period_written_again():
    fake, clock = FakeAlsa(), [0.0]
    drv = _driver(fake, clock)
    drv.start()
    fake.write_results = [-32]         # docs/standards.md §13.1: underrun -> -32 and the data was not written
    tx = np.full((1, PERIOD), 9, np.int16)
    drv.exchange(tx, np.zeros((1, PERIOD), np.int16))
    assert drv.status()["lines"][0]["counters"]["underruns"] == 1
    assert fake.written[-1] == fake.written[-2]       # the same period, resent


def test_a_failing_card_alarms_its_lines_and_is_reopened_later():
    fake, clock = FakeAlsa(), [0.0]
    drv = _driver(fake, clock)
    drv.start()
    fake.reads = [fake.ALSAAudioError("No such device")]
    events = drv.exchange(np.zeros((1, PERIOD), np.int16), np.zeros((1, PERIOD), np.int16))
    assert [e.kind for e in events] == [EventKind.ALARM] and "alsa cap: failed" in events[0].data["reason"]
    clock[0] = 0.5
    assert drv.exchange(np.zeros((1, PERIOD), np.int16), np.zeros((1, PERIOD), np.int16)) == []
    assert fake.opened == 2            # not yet: the reopen waits for its backoff, without sleeping
    clock[0] = 1.0
    events = drv.exchange(np.zeros((1, PERIOD), np.int16), np.zeros((1, PERIOD), np.int16))
    assert events[0].data == {"active": False, "reason": ""} and fake.opened == 4


def test_a_missing_card_starts_in_alarm_and_a_wrong_rate_is_refused():
    fake = FakeAlsa()
    fake.fail_open = True
    drv = _driver(fake, [0.0])
    drv.start()
    events = drv.exchange(np.zeros((1, PERIOD), np.int16), np.zeros((1, PERIOD), np.int16))
    assert "alsa cap: cannot open for capture: No such device" in events[0].data["reason"]
    fake = FakeAlsa()
    fake.info_override = {"rate": 44100}
    port = PcmPort("capture", "cap", 2, "S16_LE", module=fake)
    with pytest.raises(AlsaError, match="alsa cap: capture refused the set-up: rate 8000 asked, got 44100"):
        port.open()


def test_audio_only_lines_refuse_signalling_and_bad_mappings():
    drv = _driver(FakeAlsa(), [0.0])
    with pytest.raises(ChannelError, match="audio only"):
        drv.answer(0)
    with pytest.raises(ChannelError, match="audio only"):
        drv.dial(0, "1")
    with pytest.raises(AlsaError, match="distinct"):
        AlsaDriver("cap", "play", 2, "S16_LE", [AlsaLine("a", 1), AlsaLine("b", 1)], module=FakeAlsa())
    with pytest.raises(AlsaError, match="format"):
        PcmPort("capture", "cap", 2, "S8", module=FakeAlsa())
