"""MFC-R2 receiver and generator against ITU-T Q.441 (the code), Q.454 (sending) and Q.455 (receiving)."""

import dataclasses

import numpy as np
import pytest

from dsp import g711, mfr2_kernel
from dsp.blocks import SUB as SUB_SAMPLES
from dsp.blocks import Analyser
from dsp.levels import RATE, dbm0_to_amplitude, rms_dbm0
from dsp.mfr2 import (BASES, FREQUENCIES_HZ, PAIRS, R2Event, R2Receiver, tone)
from dsp.tonegen import dtmf_string, to_int16
from dsp.tonegen import tone as sines

MS = RATE // 1000
DIRECTIONS = ("forward", "backward")
SIGNALS = range(1, 16)


@pytest.fixture
def rng():
    return np.random.default_rng(441)


def run(signals, direction="forward", block=160):
    """Feed each int16 signal to its own channel of one R2Receiver; returns per channel the
    [(signal, sample), ...] it reported."""
    n = max(len(s) for s in signals)
    x = np.zeros((len(signals), n), np.int16)
    for i, s in enumerate(signals):
        x[i, :len(s)] = s
    receiver = R2Receiver(len(signals), direction)
    events = []
    for i in range(0, n, block):
        events += receiver.process(x[:, i:i + block])
    out = [[] for _ in signals]
    for e in events:
        out[e.channel].append((e.signal, e.sample))
    return out


def signals_of(reports):
    return [[signal for signal, _ in r] for r in reports]


def burst(rng, signal, direction="forward", ms=150, **kw):
    """(samples, lead): a signal at a random alignment after 0-49 ms of silence, 100 ms of silence after."""
    lead = int(rng.integers(0, 50 * MS))
    x = np.concatenate([np.zeros(lead, np.int16), tone(signal, direction, ms * MS, **kw),
                        np.zeros(100 * MS, np.int16)])
    return x, lead


def once_each(rng, direction, **kw):
    """Every signal once, each on its own channel: did each give exactly (signal, end)?"""
    reports = run([burst(rng, s, direction, **kw)[0] for s in SIGNALS], direction)
    return signals_of(reports) == [[s, None] for s in SIGNALS]


def never(rng, direction, **kw):
    reports = run([burst(rng, s, direction, **kw)[0] for s in SIGNALS], direction)
    return signals_of(reports) == [[] for _ in SIGNALS]


# -------------------------------------------------------------------------------- code and sender

def test_code_is_q441_two_out_of_six():
    # Q.441: forward 1380-1980 Hz, backward 1140-540 Hz, 120 Hz apart; signal n = pair (fi, fj) by
    # the table (1 = f0+f1, 10 = f3+f4, 11 = f0+f5, 15 = f4+f5).
    assert FREQUENCIES_HZ["forward"] == (1380.0, 1500.0, 1620.0, 1740.0, 1860.0, 1980.0)
    assert FREQUENCIES_HZ["backward"] == (1140.0, 1020.0, 900.0, 780.0, 660.0, 540.0)
    assert PAIRS == ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3), (0, 4), (1, 4), (2, 4), (3, 4),
                     (0, 5), (1, 5), (2, 5), (3, 5), (4, 5))


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("signal", SIGNALS)
def test_tone_is_the_pair_at_q454_level(direction, signal):
    # Q.454: each frequency at -11.5 +- 1 dBm0, within 4 Hz: measured by the spectrum of one second.
    x = tone(signal, direction, RATE).astype(np.float64)
    spectrum = np.abs(np.fft.rfft(x)) / (RATE / 2)  # peak amplitude per 1 Hz bin
    peaks = sorted(np.argsort(spectrum)[-2:].tolist())
    i, j = PAIRS[signal - 1]
    assert peaks == sorted([FREQUENCIES_HZ[direction][i], FREQUENCIES_HZ[direction][j]])
    for f in peaks:
        assert abs(20 * np.log10(spectrum[f] / dbm0_to_amplitude(0.0)) - -11.5) < 0.1
    assert abs(rms_dbm0(x) - (-11.5 + 10 * np.log10(2))) < 0.1


def test_tone_level_twist_offset_and_continuation():
    x = tone(7, "forward", RATE, level_dbm0=-20.0, twist_db=-6.0, offset_hz=(4.0, -4.0)).astype(np.float64)
    spectrum = np.abs(np.fft.rfft(x)) / (RATE / 2)
    assert spectrum[1384] / spectrum[1856] == pytest.approx(10 ** (6 / 20), rel=0.02)
    assert 20 * np.log10(spectrum[1384] / dbm0_to_amplitude(0.0)) == pytest.approx(-20.0, abs=0.1)
    whole = tone(12, "backward", 480)
    parts = np.concatenate([tone(12, "backward", 160, start=s) for s in (0, 160, 320)])
    np.testing.assert_array_equal(parts, whole)


@pytest.mark.parametrize("args, match", [
    ((0, "forward", 160), "expected a signal in 1..15"),
    ((16, "forward", 160), "expected a signal in 1..15"),
    ((True, "forward", 160), "expected a signal in 1..15"),
    ((3, "sideways", 160), "expected direction 'forward' or 'backward'"),
    ((3, "forward", -1), "expected a sample count >= 0"),
])
def test_tone_rejects_bad_arguments(args, match):
    with pytest.raises(ValueError, match=match):
        tone(*args)


# ---------------------------------------------------------------------------------------- receiver API

def test_event_is_a_frozen_dataclass():
    e = R2Event(2, 5, 800)
    assert (e.channel, e.signal, e.sample) == (2, 5, 800)
    with pytest.raises(dataclasses.FrozenInstanceError):
        e.signal = 6


@pytest.mark.parametrize("make, match", [
    (lambda: R2Receiver(2, "sideways"), "expected direction 'forward' or 'backward'"),
    (lambda: R2Receiver(0), "expected a channel count"),
    (lambda: R2Receiver(2).process(np.zeros((2, 160), np.float32)), "expected dtype int16"),
    (lambda: R2Receiver(2).process(np.zeros((3, 160), np.int16)), "expected 2 channels"),
    (lambda: R2Receiver(2).reset(2), "expected a channel in 0..1"),
])
def test_bad_arguments_raise_value_error(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_blocks_of_any_length_even_empty_are_accepted():
    r = R2Receiver(2, direction="backward")
    assert r.process(np.zeros((2, 0), np.int16)) == []
    x = np.stack([tone(1, "backward", 4000), tone(15, "backward", 4000)])
    events = []
    for i in range(0, 4000, 333):
        events += r.process(x[:, i:i + 333])
    assert [(e.channel, e.signal) for e in events] == [(0, 1), (1, 15)]
    assert r.status() == {"channels": 2, "direction": "backward", "receiving": 2}


# ------------------------------------------------------------------------------------- every signal

@pytest.mark.parametrize("direction", DIRECTIONS)
def test_every_signal_is_recognised_once_through_a_law(rng, direction):
    # Q.441: all 15 combinations; sent at Q.454's level over an E1 timeslot (A-law both ways).
    x = [burst(rng, s, direction)[0] for s in SIGNALS]
    x = [g711.alaw_decode(g711.alaw_encode(s)) for s in x]
    assert signals_of(run(x, direction)) == [[s, None] for s in SIGNALS]


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_the_other_directions_signals_are_not_heard(rng, direction):
    # A receiver hears its own group only (its own sender's tones reach it as echo).
    other = DIRECTIONS[1 - DIRECTIONS.index(direction)]
    assert signals_of(run([burst(rng, s, other)[0] for s in SIGNALS], direction)) == [[]] * 15


# --------------------------------------------------------------------------------- Q.455 limits

@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("offset", [(10.0, 0.0), (-10.0, 0.0), (0.0, 10.0), (0.0, -10.0), (10.0, -10.0),
                                    (-10.0, -10.0)])
def test_accepts_frequency_error_of_10_hz(rng, direction, offset):
    # Q.455: operate with each frequency within +-10 Hz of nominal.
    assert once_each(rng, direction, offset_hz=offset)


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("offset", [(20.0, 0.0), (-20.0, 0.0), (0.0, 20.0), (0.0, -20.0)])
def test_rejects_frequency_error_of_20_hz(rng, direction, offset):
    # The receiver's reject point (docs/standards.md §6.2): 20 Hz, the limit at 15.
    assert never(rng, direction, offset_hz=offset)


def test_never_reports_a_pair_with_a_tone_20_to_60_hz_off(rng):
    # Up to half the spacing (60 Hz, Nortel XMFC's reject point) nothing is recognised, either tone
    # off either way, in either direction.
    for direction in DIRECTIONS:
        for off in (20.0, 25.0, 30.0, 40.0, 50.0, 60.0):
            for offset in ((off, 0.0), (-off, 0.0), (0.0, off), (0.0, -off)):
                assert never(rng, direction, offset_hz=offset), (direction, offset)


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("level", [0.0, -5.0, -11.5, -20.0, -35.0])
def test_accepts_levels_from_minus_5_to_minus_35_dbm0(rng, direction, level):
    # Q.455: operate from -5 to -35 dBm0 per frequency (and above, up to full scale).
    assert once_each(rng, direction, level_dbm0=level)


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("level", [-38.5, -42.0, -50.0])
def test_rejects_levels_of_minus_38_5_dbm0_and_below(rng, direction, level):
    # Nortel XMFC receiver table: rejects -38.5 dBm0 (the Blue Book figure).
    assert never(rng, direction, level_dbm0=level)


def _adjacent(signal):
    i, j = PAIRS[signal - 1]
    return j - i == 1


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_accepts_5_db_between_adjacent_and_7_db_between_other_frequencies(rng, direction, sign):
    # Q.455: operate with the pair's levels up to 5 dB apart (adjacent frequencies) or 7 dB (others);
    # the weaker tone at the bottom of the level range.
    signals = []
    for s in SIGNALS:
        twist = sign * (5.0 if _adjacent(s) else 7.0)
        weaker_first = twist > 0
        level = -35.0 if weaker_first else -35.0 - twist
        signals.append(burst(rng, s, direction, level_dbm0=level, twist_db=twist)[0])
    assert signals_of(run(signals, direction)) == [[s, None] for s in SIGNALS]


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("twist", [12.0, -12.0, 20.0, -20.0])
def test_rejects_levels_12_and_20_db_apart(rng, direction, twist):
    # Q.455: a pair 20 dB apart is not recognised; Nortel XMFC rejects 12 dB (limit at 10).
    assert never(rng, direction, level_dbm0=-10.0 if twist < 0 else -10.0 - twist, twist_db=twist)


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("ms", [1, 3, 5, 7, 10, 15])
def test_never_operates_on_signals_under_7_ms_nor_up_to_15_ms(rng, direction, ms):
    # Q.455: no operation on a signal of -5 dBm0 per frequency lasting under 7 ms; here no window of
    # 25 ms is filled by a tone under 15 ms. Many alignments against the 5 ms grid.
    for _ in range(3):
        assert never(rng, direction, ms=ms, level_dbm0=-5.0)


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("ms", [40, 60, 100, 150, 2000])
def test_operates_once_on_signals_of_40_ms_and_longer(rng, direction, ms):
    # Q.442 pulses last 100-200 ms and compelled signals longer; each is one signal, one end.
    assert once_each(rng, direction, ms=ms)


def test_operate_plus_release_time_is_at_most_80_ms():
    # Q.455: the sum of the operate and the release time of a signal at most 80 ms; every
    # alignment of the tone against the 5 ms grid, both directions.
    worst = 0
    for direction in DIRECTIONS:
        for lead in range(0, 40, 3):
            x = np.concatenate([np.zeros(lead, np.int16), tone(9, direction, 150 * MS),
                                np.zeros(100 * MS, np.int16)])
            [(on, operate), (off, release)] = run([x], direction)[0]
            assert (on, off) == (9, None)
            worst = max(worst, (operate - lead) + (release - lead - 150 * MS))
    assert worst <= 80 * MS


@pytest.mark.parametrize("gap_ms", [1, 3, 5, 7])
def test_interruptions_up_to_7_ms_do_not_release(rng, gap_ms):
    # Q.455: the receiver does not release for interruptions of up to 7 ms.
    for direction in DIRECTIONS:
        signals = []
        for s in SIGNALS:
            t = tone(s, direction, 300 * MS)
            cut = int(rng.integers(100 * MS, 200 * MS))
            t[cut:cut + gap_ms * MS] = 0
            signals.append(np.concatenate([np.zeros(int(rng.integers(0, 400)), np.int16), t,
                                           np.zeros(100 * MS, np.int16)]))
        assert signals_of(run(signals, direction)) == [[s, None] for s in SIGNALS]


def test_an_interruption_of_20_ms_ends_the_signal():
    # Q.455: interruptions longer than 7 ms (typically 20 ms) are the logic's to handle: the
    # receiver reports the end and the signal again.
    t = np.concatenate([tone(4, "forward", 300 * MS), np.zeros(100 * MS, np.int16)])
    t[150 * MS:170 * MS] = 0
    assert signals_of(run([t])) == [[4, None, 4, None]]


@pytest.mark.parametrize("gap_ms", [0, 5, 10, 20, 40])
def test_two_signals_in_succession(rng, gap_ms):
    # A compelled cycle's next signal may follow at once: each is reported, the first ending where
    # (or before) the second is recognised.
    for direction in DIRECTIONS:
        a, b = rng.choice(np.arange(1, 16), 2, replace=False).tolist()
        x = np.concatenate([np.zeros(int(rng.integers(0, 400)), np.int16), tone(a, direction, 100 * MS),
                            np.zeros(gap_ms * MS, np.int16), tone(b, direction, 100 * MS),
                            np.zeros(100 * MS, np.int16)])
        [reports] = run([x], direction)
        assert [s for s, _ in reports] == [a, None, b, None]
        assert reports[1][1] <= reports[2][1]


# ------------------------------------------------------------------------------------ non-operate

@pytest.mark.parametrize("direction", DIRECTIONS)
def test_single_tones_and_three_tones_never_operate(direction):
    # Two and only two frequencies: each frequency alone (at the top of the range), and three at once
    # in every combination of the six.
    f = FREQUENCIES_HZ[direction]
    singles = [to_int16(sines(hz, -5.0, RATE)) for hz in f]
    triples = [to_int16(sines([f[i], f[j], f[k]], -10.0, RATE))
               for i in range(6) for j in range(i + 1, 6) for k in range(j + 1, 6)]
    assert signals_of(run(singles + triples, direction)) == [[]] * (len(singles) + len(triples))


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_a_third_frequency_near_the_pairs_level_blocks_it(direction):
    # Two and only two frequencies (THIRD_TONE_DB): a pair at -10 dBm0 with a third frequency of the
    # group 8 dB under it is not a signal (the pair still holds over 85 % of the energy, so only the
    # third-tone test refuses it); 15 dB under, it is.
    f = FREQUENCIES_HZ[direction]
    signals = []
    for under in (8.0, 15.0):
        for s in SIGNALS:
            i, j = PAIRS[s - 1]
            k = next(n for n in range(6) if n not in (i, j))
            x = sines([f[i], f[j], f[k]], [-10.0, -10.0, -10.0 - under], 300 * MS)
            signals.append(to_int16(np.concatenate([x, np.zeros(100 * MS)])))
    assert signals_of(run(signals, direction)) == [[]] * 15 + [[s, None] for s in SIGNALS]


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_dtmf_and_noise_never_operate(rng, direction):
    noise = [to_int16(rng.normal(0.0, dbm0_to_amplitude(level) / np.sqrt(2), 10 * RATE))
             for level in (-40.0, -20.0, -5.0)]
    dtmf = [to_int16(dtmf_string("0123456789*#ABCD", 0.1, 0.1, level_dbm0=-5.0))]
    assert signals_of(run(noise + dtmf, direction)) == [[]] * 4


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_recognised_at_18_db_signal_to_noise(rng, direction):
    # Nortel XMFC: no degradation with white noise 18 dB under the signal.
    signals = []
    for s in SIGNALS:
        x, _ = burst(rng, s, direction, level_dbm0=-20.0)
        noise_dbm0 = -20.0 + 10 * np.log10(2.0) - 18.0
        signals.append(to_int16(x + rng.normal(0.0, dbm0_to_amplitude(noise_dbm0) / np.sqrt(2), x.size)))
    assert signals_of(run(signals, direction)) == [[s, None] for s in SIGNALS]


def test_talk_off_on_speech_and_music(talkoff_speech, talkoff_music):
    # The DTMF talk-off corpus (speech in English and Mandarin at three levels, music): no signal in
    # either direction.
    signals = []
    for clip in talkoff_speech:
        active = clip[np.abs(clip) > 0.05 * np.abs(clip).max()]
        for level in (-25.0, -12.0, 0.0):
            signals.append(to_int16(clip * 10 ** ((level - rms_dbm0(active)) / 20)))
    signals += [to_int16(m) for m in talkoff_music]
    for direction in DIRECTIONS:
        assert signals_of(run(signals, direction)) == [[]] * len(signals), direction


# ------------------------------------------------------------------------------------ many channels

def test_all_channels_at_once_with_different_signals_and_any_block_size(rng):
    # 30 channels (an E1's voice timeslots), each its own sequence of signals at its own times; the
    # same reports whatever the block size, and the same as one channel alone.
    channels, n = 30, 3 * RATE
    x = np.zeros((channels, n), np.int16)
    expected = []
    for ch in range(channels):
        at, want = int(rng.integers(0, 400)), []
        for _ in range(4):
            s = int(rng.integers(1, 16))
            ms = int(rng.integers(60, 300))
            x[ch, at:at + ms * MS] = tone(s, "forward", ms * MS, level_dbm0=float(rng.uniform(-30, -5)))
            want += [s, None]
            at += ms * MS + int(rng.integers(60, 200)) * MS
        expected.append(want)
    reference = run(list(x))
    assert signals_of(reference) == expected
    for block in (1, 37, 160, 1000, n):
        assert run(list(x), block=block) == reference
    assert run([x[7]]) == [reference[7]]


def test_process_tick_on_the_shared_analysis_gives_what_process_gives(rng):
    x = np.stack([np.concatenate([burst(rng, s, "backward")[0], np.zeros(RATE, np.int16)])[:RATE]
                  for s in SIGNALS])
    by_block, by_tick = R2Receiver(15, "backward"), R2Receiver(15, "backward")
    analyser = Analyser(BASES["backward"])
    a, b = [], []
    for i in range(0, RATE, 160):
        a += by_block.process(x[:, i:i + 160])
        b += by_tick.process_tick(analyser.analyse(x[:, i:i + 160]))
    assert a == b and len(a) == 30


def test_reset_forgets_a_channels_signal():
    r = R2Receiver(2)
    x = np.stack([tone(3, "forward", 800), tone(5, "forward", 800)])
    events = r.process(x)
    assert [(e.channel, e.signal) for e in events] == [(0, 3), (1, 5)]
    r.reset(0)
    assert r.signals.tolist() == [0, 5]
    events = r.process(np.zeros((2, 800), np.int16))
    assert [(e.channel, e.signal) for e in events] == [(1, None)]


@pytest.mark.filterwarnings("error")
def test_hostile_audio_never_raises_or_warns(rng):
    n = 2 * RATE
    hostile = np.stack([
        rng.integers(-32768, 32768, n), np.full(n, 32767), np.full(n, -32768),
        rng.choice([-32768, 32767], n), to_int16(np.resize(tone(5, "forward", 800, level_dbm0=12.0), n)),
        np.zeros(n)]).astype(np.int16)
    r = R2Receiver(hostile.shape[0])
    pos = 0
    for size in rng.integers(1, 700, 60):
        for e in r.process(hostile[:, pos:pos + size]):
            assert e.signal is None or 1 <= e.signal <= 15
        pos += int(size)


def test_ends_come_before_signals_at_the_same_window():
    # Events in stream order; at one window every channel's end comes before any channel's new signal
    # (a signal on channel 0 operating where channel 1's ends). The second tone's start is swept over
    # the grid until the two fall on one sample.
    first = np.concatenate([tone(4, "forward", 100 * MS), np.zeros(300 * MS, np.int16)])
    coincide = 0
    for start in range(40 * MS, 140 * MS, SUB_SAMPLES):
        second = np.concatenate([np.zeros(start, np.int16), tone(9, "forward", 100 * MS),
                                 np.zeros(300 * MS - start, np.int16)])
        events = R2Receiver(2).process(np.stack([second, first]))
        assert events == sorted(events, key=lambda e: (e.sample, e.signal is not None, e.channel))
        end = next(e for e in events if e.channel == 1 and e.signal is None)
        begin = next(e for e in events if e.channel == 0 and e.signal == 9)
        if end.sample == begin.sample:
            coincide += 1
            assert events.index(end) < events.index(begin)
    assert coincide


# ------------------------------------------------------------------------------------ native kernel

def test_kernel_events_are_the_r2events_the_constructor_makes():
    # The kernel sets each event's fields past the frozen dataclass's __init__: the same fields, no
    # others, equal and hashing as constructed ones, and still frozen.
    x = np.concatenate([tone(4, "forward", 100 * MS), np.zeros(200 * MS, np.int16)])
    events = R2Receiver(2).process(np.stack([x, x]))
    assert [(e.channel, e.signal) for e in events] == [(0, 4), (1, 4), (0, None), (1, None)]
    for e in events:
        made = R2Event(e.channel, e.signal, e.sample)
        assert type(e) is R2Event and vars(e) == vars(made) and e == made and hash(e) == hash(made)
    with pytest.raises(dataclasses.FrozenInstanceError):
        events[0].signal = 5  # type: ignore[misc]


def _kernel_args(channels=2, subs=4):
    receiver = R2Receiver(channels)
    return [receiver._history, receiver._timing, np.zeros((channels, subs, 12), np.float32),
            np.zeros((channels, subs * SUB_SAMPLES), np.float32), receiver._constants, 0, R2Event]


@pytest.mark.parametrize("position, value, match", [
    (0, np.zeros((4, 13, 3), np.float32), "history: expected 104 items, got 156"),
    (0, np.zeros((4, 13, 2), np.float64), "history: expected items of 4 bytes, got 8"),
    (1, np.zeros(2, np.int32), "timing: expected items of 16 bytes, got 4"),
    (2, np.zeros((2, 4, 24), np.float32)[:, :, ::2], "correlations: expected a C-contiguous array"),
    (2, np.zeros((2, 3, 12), np.float32), "correlations: expected 96 items, got 72"),
    (3, np.zeros((3, 3 * SUB_SAMPLES), np.float32), "expected samples of 2 channels"),
    (3, np.zeros((2, 3 * SUB_SAMPLES + 1), np.float32), "whole sub-blocks of 40"),
    (4, b"\0" * 8, "expected constants"),
    (5, -1, "a first sub-block >= 0"),
])
def test_kernel_rejects_arrays_that_do_not_match(position, value, match):
    args = _kernel_args()
    args[position] = value
    with pytest.raises(ValueError, match=match):
        mfr2_kernel.receive(*args)


def test_kernel_writes_state_only_to_writable_arrays():
    args = _kernel_args()
    args[1].flags.writeable = False
    with pytest.raises(ValueError, match="timing: expected a C-contiguous, writable array"):
        mfr2_kernel.receive(*args)


@pytest.mark.parametrize("change, match", [
    ({"sub_samples": 80}, "sub_samples 40, .* got 5, 3, 80"),
    ({"window_subs": 6}, "expected window_subs 5, lag_subs 3"),
    ({"lag_subs": 2}, "expected window_subs 5, lag_subs 3"),
    ({"hits_to_operate": 0}, "hits_to_operate >= 1"),
    ({"cos_tol": 0.0}, r"expected cos_tol in \(0, 1\)"),
    ({"turn": np.zeros((10, 6), np.complex128)}, "turn: expected items of 8 bytes, got 16"),
    ({"signal_of_pair": np.zeros((6, 6), np.uint8)}, "signal_of_pair: expected items of format b, got B"),
])
def test_kernel_constants_refuse_figures_it_was_not_built_for(change, match):
    figures = dict(sub_samples=40, window_subs=5, lag_subs=3, hits_to_operate=3, misses_to_release=7,
                   weights=np.array([1.0, 2.0, 3.0, 2.0, 1.0]), turn=np.zeros((10, 6), np.complex64),
                   signal_of_pair=np.zeros((6, 6), np.int8), cos_tol=0.5, level_power=1.0, twist=10.0,
                   third=0.1, share=1.0, fill=0.05, gate_level=1.0, gate_share=1.0)
    assert isinstance(mfr2_kernel.constants(**figures), bytes)
    with pytest.raises(ValueError, match=match):
        mfr2_kernel.constants(**{**figures, **change})
