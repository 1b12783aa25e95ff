"""Shared front end: the DetectorSet gives every detector's own events, tick by tick, and checks its input."""

import numpy as np
import pytest

from dsp import callerid, callerid_message, frontend, tonegen
from dsp.callerid import CallerIdReceiver
from dsp.dtmf import DtmfDetector
from dsp.energy import EnergyMeter, VoiceActivityDetector
from dsp.faxtone import FaxToneDetector
from dsp.levels import RATE
from dsp.tones import CallProgressDetector, ToneEvent
from firmware.config.tone_plans import load_plan

TICK = frontend.TICK
CN = load_plan("cn")


@pytest.fixture
def rng():
    return np.random.default_rng(160)


def line_signals(rng, speech, seconds=12.0):
    """One channel per kind of signal the box meets, each at a random offset."""
    n = int(seconds * RATE)
    burst = callerid.fsk_burst(callerid_message.encode_mdmf(number="5551234", name="LI LEI", when="01020304"))
    kinds = [
        tonegen.dtmf_string("0123456789*#ABCD", 0.05, 0.05, level_dbm0=-12.0),
        tonegen.cadence([450], -10.0, [(0.35, 0.35)], 6.0),  # busy, China
        tonegen.cadence([1100], -11.0, [(0.5, 3.0)], 8.0),  # CNG
        tonegen.tone([2100], -12.0, 3 * RATE),  # CED
        np.concatenate([np.zeros(4000), burst, np.zeros(4000), callerid.dtmf_callerid("5551234")]),
        speech,
        rng.normal(0.0, 2000.0, n),
        np.zeros(n),
    ]
    x = np.zeros((len(kinds), n))
    for i, s in enumerate(kinds):
        s = s[:n - 1000]
        lead = int(rng.integers(0, n - s.size))
        x[i, lead:lead + s.size] = s
    return tonegen.to_int16(x)


def test_detector_set_gives_each_detectors_own_events(rng, speech):
    x = line_signals(rng, speech)
    c = x.shape[0]
    detectors = frontend.DetectorSet(c, CN)
    alone = (DtmfDetector(c), CallProgressDetector(c, CN, repeat=True), CallerIdReceiver(c), FaxToneDetector(c),
             VoiceActivityDetector(c))
    meter = EnergyMeter(c)
    shared, own = [], []
    for i in range(0, x.shape[1] - TICK + 1, TICK):
        block = x[:, i:i + TICK]
        shared += detectors.process(block)
        for det in alone:
            own += det.process(block)
        np.testing.assert_allclose(detectors.levels, meter.process(block), atol=1e-3)
    assert shared == own
    kinds = {type(e).__name__ for e in shared}
    assert kinds == {"DtmfEvent", "ToneEvent", "CallerIdEvent", "FaxToneEvent", "VadEvent"}


def test_reset_forgets_a_channel_in_every_detector():
    # Busy tone on channel 0 (China: confirmed after four 0.35 s segments, 1.4 s) and a 60 ms key press
    # on channel 1; a reset at 0.82 s leaves too few segments and two 30 ms halves (ES 201 235-3:
    # under 40 ms need not, under 20 ms shall not be recognised).
    reset_at = 41 * TICK
    x = np.zeros((2, int(2.2 * RATE)), np.int16)
    busy = tonegen.to_int16(tonegen.cadence([450], -10.0, [(0.35, 0.35)], 1.8))
    x[0, :busy.size] = busy
    x[1, reset_at - 240:reset_at + 240] = tonegen.to_int16(tonegen.dtmf_digit("5", 0.06, -10.0))

    def events(reset):
        detectors = frontend.DetectorSet(2, CN)
        out = []
        for i in range(0, x.shape[1] - TICK + 1, TICK):
            if reset and i == reset_at:
                detectors.reset(0)
                detectors.reset(1)
            out += detectors.process(x[:, i:i + TICK])
        return sorted((e.channel, getattr(e, "tone", getattr(e, "digit", None))) for e in out
                      if type(e).__name__ in ("ToneEvent", "DtmfEvent"))

    assert events(reset=False) == [(0, "busy"), (1, "5")]
    assert events(reset=True) == []
    with pytest.raises(ValueError, match="channel in 0..1"):
        frontend.DetectorSet(2, CN).reset(2)


@pytest.mark.parametrize("block, match", [
    (np.zeros((2, TICK), np.float32), "int16"),
    (np.zeros((2, 2, TICK), np.int16), "ndim"),
    (np.zeros((3, TICK), np.int16), "2 channels"),
    (np.zeros((2, TICK + 1), np.int16), f"one tick of {TICK} samples"),
    ([[0] * TICK] * 2, "numpy"),
])
def test_bad_ticks_are_rejected(block, match):
    with pytest.raises(ValueError, match=match):
        frontend.DetectorSet(2, CN).process(block)


def test_a_plan_object_is_required():
    with pytest.raises(ValueError, match="expected a TonePlan"):
        frontend.TickAnalyser(2, "cn")
    with pytest.raises(ValueError, match="channel count"):
        frontend.TickAnalyser(0, CN)


def test_process_tick_checks_the_analysis_it_is_given():
    analysis = frontend.TickAnalyser(2, CN).analyse(np.zeros((2, TICK), np.int16))
    with pytest.raises(ValueError, match="analysis of 3 channels, got 2"):
        DtmfDetector(3).process_tick(analysis)
    with pytest.raises(ValueError, match="expected a blocks.Analysis"):
        FaxToneDetector(2).process_tick(np.zeros((2, TICK), np.int16))
    # An analysis made for another tone plan lacks this detector's columns.
    with pytest.raises(ValueError, match="not made with the detector's columns"):
        CallProgressDetector(2, load_plan("na")).process_tick(analysis)


@pytest.mark.parametrize("make", [DtmfDetector, FaxToneDetector, VoiceActivityDetector, CallerIdReceiver,
                                  lambda c: CallProgressDetector(c, CN)])
def test_a_tick_must_start_on_the_detectors_grid(make):
    det = make(2)
    det.process(np.zeros((2, 37), np.int16))
    analysis = frontend.TickAnalyser(2, CN).analyse(np.zeros((2, TICK), np.int16))
    with pytest.raises(ValueError, match="samples of an earlier block are pending"):
        det.process_tick(analysis)


def test_retuned_to_another_plan_the_set_hears_its_busy_tone_and_keeps_every_other_detectors_state():
    na = load_plan("na")
    # Channel 0: a DTMF string straddling the retune; channel 1: North American busy (480 + 620 Hz).
    digits = tonegen.dtmf_string("159#", 0.05, 0.05, level_dbm0=-12.0)
    busy = tonegen.cadence([480, 620], -12.0, [(0.5, 0.5)], 6.0)
    n = busy.size
    x = np.zeros((2, n))
    x[0, :digits.size] = digits
    x[1] = busy
    x = tonegen.to_int16(x)
    retuned, kept = frontend.DetectorSet(2, CN), frontend.DetectorSet(2, CN)
    switch = (digits.size // 2) // TICK * TICK         # in the middle of the digits
    heard_retuned, heard_kept = [], []
    for i in range(0, n - TICK + 1, TICK):
        if i == switch:
            retuned.retune(na)
        heard_retuned += retuned.process(x[:, i:i + TICK])
        heard_kept += kept.process(x[:, i:i + TICK])
    dtmf = [e.digit for e in heard_retuned if e.channel == 0 and hasattr(e, "digit")]
    assert "".join(dtmf) == "159#"
    # Every detector but call progress (which starts afresh on the new plan) goes on as if nothing happened.
    assert ([e for e in heard_retuned if e.channel == 0 and not isinstance(e, ToneEvent)]
            == [e for e in heard_kept if e.channel == 0 and not isinstance(e, ToneEvent)])
    assert {getattr(e, "tone", None) for e in heard_retuned if e.channel == 1} >= {"busy"}
    assert "busy" not in {getattr(e, "tone", None) for e in heard_kept if e.channel == 1}   # not China's busy
    assert retuned.status()["plan"] == "na"
