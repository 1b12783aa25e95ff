"""The DSP benchmark runs end to end and prints its table with a verdict on every target line."""

import numpy as np
import pytest

from dsp import tonegen
from dsp.levels import RATE, rms_dbm0
from firmware.tools import bench_dsp, bench_peer


def test_run_prints_every_configuration_and_the_target_verdicts():
    lines = []
    result = bench_dsp.run(out=lines.append, seconds=0.05, channels=(1, 120))
    rows = [ln for ln in lines if ln.split() and ln.split()[0] in bench_dsp.LOADS]
    assert len(rows) == len(bench_dsp.LOADS) * 2 * 2
    verdicts = [ln for ln in rows if "PASS" in ln or "BELOW" in ln]
    # 1 channel: every load and set; 120 channels: DTMF on noise and speech, the full set on all three.
    assert len(verdicts) == 6 + 2 + 3
    r2 = [ln for ln in lines if ln.split() and ln.split()[0] in bench_dsp.R2_LOADS]
    assert [(ln.split()[0], int(ln.split()[1])) for ln in r2] == [
        (load, c) for load in bench_dsp.R2_LOADS for c in bench_dsp.R2_CHANNELS]
    assert all(float(ln.split()[2].replace(",", "")) > 0 for ln in r2)
    # Far-end supervision and answer screening: a row per case and line count, with its ratio to quiet lines.
    supervision = [ln.split() for ln in lines if ln.split() and ln.split()[0] in ("busy", "screened")]
    assert [(row[0], int(row[1])) for row in supervision] == (
        [("busy", n) for n in bench_dsp.SUPERVISED_LINES] + [("screened", n) for n in bench_dsp.SCREENED_LINES])
    assert supervision[0][3] == "1.00" and all(float(row[2]) > 0 for row in supervision)
    assert lines[-1].startswith("targets met:")
    assert result == all("PASS" in ln for ln in verdicts)


def test_the_spandsp_summary_judges_every_ratio_or_says_spandsp_is_missing():
    lines = []
    assert bench_dsp.peer_summary(lines.append, None) == (0, 0)
    assert "not installed" in lines[-1]
    lines = []
    met = bench_dsp.peer_summary(lines.append, {("dtmf", "dialling"): {1: 0.2, 30: 0.5, 120: 2.5},
                                                 ("r2", "signalling"): {120: 2.0}})
    # One channel is shown without a verdict; the E1 counts are judged.
    assert met == (2, 3)
    assert lines[2].split() == ["dtmf", "dialling", "0.20x", "0.50x", "BELOW", "2.50x", "ok"]
    assert lines[3].split() == ["r2", "signalling", "-", "-", "2.00x", "ok"]
    assert lines[-1].endswith("2 of 3")


def test_loads_are_at_their_stated_levels():
    rng = np.random.default_rng(0)
    _, speech = bench_dsp.speech_pool(rng, seconds=5.0)
    assert speech.size == 5 * RATE
    assert rms_dbm0(speech) < bench_dsp.SPEECH_DBM0 + 1.0  # pauses pull the long-term level under it
    signalling = bench_dsp.signalling_pool(rng, seconds=2.0)
    assert signalling.size == 2 * RATE and np.abs(signalling).max() > 0
    dialling = bench_dsp.dialling_pool(rng, seconds=2.0)
    assert dialling.size == 2 * RATE
    assert np.abs(dialling).max() > 0
    audio = bench_dsp.streams(speech, 3, 10, rng)
    assert audio.shape == (3, 10 * bench_dsp.TICK) and audio.dtype == np.int16


def test_the_peer_receivers_run_spandsp_on_the_box_s_ticks():
    # The ratio in the table is only worth its denominator: spandsp's receiver must really decode.
    lib = bench_peer.load()
    if lib is None:
        pytest.skip("libspandsp is not installed")
    audio = np.zeros((2, 25 * bench_peer.TICK), np.int16)
    audio[1, :2880] = tonegen.to_int16(tonegen.dtmf_string("159", 0.06, 0.06))
    receivers = bench_peer.Receivers(lib, "dtmf", 2)
    for i in range(0, audio.shape[1], bench_peer.TICK):
        receivers.process(audio[:, i:i + bench_peer.TICK])
    assert (receivers.digits(0), receivers.digits(1)) == ("", "159")
