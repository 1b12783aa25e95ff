"""The simulated board: ring cadence, caller ID, real DTMF audio on the line, handsets, line tests, errors."""
import wave
from pathlib import Path

import numpy as np
import pytest

from drivers.channel import TICK_SAMPLES, Board, ChannelError, EventKind
from drivers.sim import DtmfStyle, SimCaller, SimDriver
from drivers.sim_signals import progress_tone
from dsp import callerid
from dsp.levels import dbm0_to_amplitude, rms_dbm0
from dsp.tones import CallProgressDetector
from firmware.config.tone_plans import load_plan

PROMPTS = Path(__file__).resolve().parents[2] / "board" / "prompts" / "en"


def ticks(board, n, tx=None):
    tx = np.zeros((len(board), TICK_SAMPLES), np.int16) if tx is None else tx
    frames, events = [], []
    for _ in range(n):
        rx, evs = board.exchange(tx)
        frames.append(rx.copy())
        events.extend(evs)
    return np.concatenate(frames, axis=1), events


def rings_at(events):
    return [round(i * TICK_SAMPLES / 8000, 2) for i, e in events if e.kind == EventKind.RING]


def timed_ticks(board, n):
    """Like ticks(), with each event paired with the tick it came in."""
    audio, events = [], []
    tx = np.zeros((len(board), TICK_SAMPLES), np.int16)
    for i in range(n):
        rx, evs = board.exchange(tx)
        audio.append(rx.copy())
        events.extend((i, e) for e in evs)
    return np.concatenate(audio, axis=1), events


def test_caller_id_reported_by_the_line_comes_before_the_rings_on_the_china_cadence():
    sim = SimDriver(trunks=2, stations=1, callerid="event")
    board = Board([sim])
    sim.place_call(SimCaller(number="13800138000", name="Zhao"))
    _, events = timed_ticks(board, 600)   # 12 s
    assert events[0][1].kind == EventKind.CALLER_ID and events[0][1].data["number"] == "13800138000"
    # 1 s on / 4 s off: rings begin at 0, 5 and 10 s.
    assert rings_at(events) == [0.0, 5.0, 10.0]


def test_bell202_caller_id_is_sent_between_the_first_and_second_ring():
    sim = SimDriver(trunks=1, stations=0, callerid="bell202")
    board = Board([sim])
    sim.place_call(SimCaller(number="13800138000", name="ZHAO"))
    audio, events = timed_ticks(board, 300)
    assert not any(e.kind == EventKind.CALLER_ID for _, e in events)
    assert rings_at(events) == [0.0, 5.0]
    (msg,) = callerid.decode(audio[0])
    assert (msg.standard, msg.valid, msg.number, msg.name) == ("bell202", True, "13800138000", "ZHAO")
    # docs/standards.md §4.2: at least 500 ms after the first ring (1 s long) ends, at least 200 ms
    # before the next.
    loud = np.flatnonzero(np.abs(audio[0]) > 1000) / 8000
    assert loud[0] >= 1.5 and loud[-1] <= 5.0 - 0.2
    assert sim.answer_rings == 2 and board.answer_rings == 2


@pytest.mark.parametrize("scheme", ["v23", "dtmf"])
def test_caller_id_sent_before_ringing_ends_before_the_first_ring(scheme):
    sim = SimDriver(trunks=1, stations=0, callerid=scheme)
    board = Board([sim])
    sim.place_call(SimCaller(number="13800138000", name="ZHAO"))
    audio, events = timed_ticks(board, 300)
    (first, *_) = rings_at(events)
    msgs = callerid.decode(audio[0, :int(first * 8000)])
    assert [(m.standard, m.valid, m.number) for m in msgs] == [(scheme, True, "13800138000")]
    loud = np.flatnonzero(np.abs(audio[0]) > 1000) / 8000
    assert first - loud[-1] >= 0.2 - 0.02     # docs/standards.md §4.2: >= 200 ms before the ring
    assert board.answer_rings == 1


def test_v23_caller_id_is_announced_by_the_dual_tone_alerting_signal():
    sim = SimDriver(trunks=1, stations=0, callerid="v23")
    board = Board([sim])
    sim.place_call(SimCaller(number="13800138000"))
    audio, _ = timed_ticks(board, 100)
    # docs/standards.md §4.2: >= 100 ms of silence, then 2130 + 2750 Hz for 88-110 ms.
    loud = np.flatnonzero(np.abs(audio[0]) > 1000)
    assert loud[0] >= 800
    alert = audio[0, loud[0] + 80:loud[0] + 720].astype(float)
    spectrum = np.abs(np.fft.rfft(alert * np.hanning(alert.size)))
    top = sorted(np.fft.rfftfreq(alert.size, 1 / 8000)[np.argsort(spectrum)[-2:]])
    assert abs(top[0] - 2130) < 15 and abs(top[1] - 2750) < 15


def test_a_garbled_burst_fails_its_checksum_and_gives_no_number():
    sim = SimDriver(trunks=1, stations=0, callerid="bell202")
    board = Board([sim])
    sim.place_call(SimCaller(number="13800138000", garbled_id=True))
    audio, _ = timed_ticks(board, 250)
    assert [(m.valid, m.number) for m in callerid.decode(audio[0])] == [(False, None)]


def test_a_caller_without_a_number_is_sent_as_private():
    sim = SimDriver(trunks=1, stations=0, callerid="bell202")
    board = Board([sim])
    sim.place_call(SimCaller(number=""))
    audio, _ = timed_ticks(board, 250)
    assert [(m.valid, m.number, m.absence) for m in callerid.decode(audio[0])] == [(True, None, "P")]


def test_unknown_caller_id_scheme_is_refused():
    with pytest.raises(ValueError, match="callerid 'fsk'.*bell202"):
        SimDriver(callerid="fsk")


def test_key_press_is_real_dtmf_at_the_configured_level():
    sim = SimDriver(trunks=1, stations=0, dtmf=DtmfStyle(level_dbm0=-20.0, on_s=0.1, off_s=0.1), callerid="event")
    board = Board([sim])
    sim.place_call(SimCaller(number="1", keys=[(0.0, "5")]))
    ticks(board, 1)
    board.answer(0)
    audio, _ = ticks(board, 10)
    x = audio[0, 160:160 + 640].astype(float)   # the tone's middle 80 ms
    spectrum = np.abs(np.fft.rfft(x * np.hanning(x.size)))
    freqs = np.fft.rfftfreq(x.size, 1 / 8000)
    top = sorted(freqs[np.argsort(spectrum)[-2:]])
    # ITU-T Q.23: digit 5 is 770 Hz + 1336 Hz.
    assert abs(top[0] - 770) < 15 and abs(top[1] - 1336) < 15
    # Two tones at -20 dBm0 each: -17 dBm0 together.
    assert abs(rms_dbm0(x) - (-17.0)) < 0.5


def test_line_noise_level():
    sim = SimDriver(trunks=3, stations=0, noise_dbm0=-40.0)
    audio, _ = ticks(Board([sim]), 100)
    for row in audio:
        assert abs(rms_dbm0(row.astype(float)) - (-40.0)) < 0.5


def test_handset_answers_after_its_delay_and_hangs_up_after_talk():
    sim = SimDriver(trunks=0, stations=1)
    board = Board([sim])
    hs = sim.handset(0)
    hs.answer_after, hs.talk = 2.0, 3.0
    board.dial(0)
    _, events = ticks(board, 300)
    kinds = [(e.kind, round(i)) for i, e in enumerate(events)]
    assert [k for k, _ in kinds] == [EventKind.ANSWER, EventKind.CLEAR]


def test_all_lines_busy_blocks_the_caller():
    sim = SimDriver(trunks=1, stations=0)
    assert sim.place_call(SimCaller(number="1"))
    blocked = SimCaller(number="2")
    assert not sim.place_call(blocked)
    assert blocked.ended_by == "busy" and sim.counters["blocked"] == 1


def test_a_trunk_in_alarm_takes_no_calls_until_it_is_back():
    sim = SimDriver(trunks=2, stations=0)
    board = Board([sim])
    sim.alarm(0)
    first = SimCaller(number="1")
    assert sim.place_call(first) and first.line == 1       # routed past the line that is down
    assert not sim.place_call(SimCaller(number="2"))         # the only working line is taken
    with pytest.raises(ChannelError, match="trunk1 is down"):
        board.dial(0, "123")                                  # and the box cannot dial on it
    sim.alarm(0, active=False)
    again = SimCaller(number="3")
    assert sim.place_call(again) and again.line == 0


def test_actions_that_do_not_fit_raise_channel_errors():
    sim = SimDriver(trunks=1, stations=1)
    board = Board([sim])
    with pytest.raises(ChannelError, match="trunk1 is not ringing"):
        board.answer(0)
    with pytest.raises(ChannelError, match="station1 cannot be answered"):
        board.answer(1)
    with pytest.raises(ChannelError, match="no channel 7"):
        board.hangup(7)
    board.dial(1)
    with pytest.raises(ChannelError, match="station1 is busy"):
        board.dial(1)


def test_same_seed_same_audio():
    a, _ = ticks(Board([SimDriver(trunks=2, stations=0, seed=5)]), 20)
    b, _ = ticks(Board([SimDriver(trunks=2, stations=0, seed=5)]), 20)
    assert np.array_equal(a, b)


def test_outbound_call_to_a_subscriber_answers_then_clears():
    from drivers.sim import Phone
    sim = SimDriver(trunks=1, stations=0)
    board = Board([sim])
    sim.subscriber("4008001234", Phone(answer_after=3.0, talk=5.0, voice_hz=700))
    board.dial(0, "4008001234")
    audio, events = ticks(board, 500)
    assert [(e.kind, e.channel) for e in events] == [(EventKind.ANSWER, 0), (EventKind.CLEAR, 0)]
    # The subscriber's voice is on the line while off hook (3 s to 8 s), silence-level noise after.
    talking = audio[0, int(4 * 8000):int(7 * 8000)].astype(float)
    spectrum = np.abs(np.fft.rfft(talking))
    assert abs(np.fft.rfftfreq(talking.size, 1 / 8000)[spectrum.argmax()] - 700) < 2
    assert rms_dbm0(audio[0, int(8.5 * 8000):].astype(float)) < -60


def cannot_complete(setup, tones):
    from drivers.sim import Phone
    sim = SimDriver(trunks=2, stations=0, tones=tones)
    board = Board([sim])
    if setup == "busy":
        sim.subscriber("555", Phone())
        sim.place_call(SimCaller(number="555"))     # the subscriber is on the phone with the box
    board.dial(1, "555")
    return sim, board


@pytest.mark.parametrize("setup, tone", [("unknown", "sit"), ("busy", "busy")])
def test_an_exchange_without_tones_reports_a_call_that_cannot_complete(setup, tone):
    sim, board = cannot_complete(setup, tones=None)
    _, events = ticks(board, 200)
    progress = [e for e in events if e.kind == EventKind.PROGRESS]
    assert progress and progress[0].channel == 1 and progress[0].data["tone"] == tone
    board.hangup(1)
    board.dial(1, "555")                            # the line is free again after hang-up


@pytest.mark.parametrize("plan", ["cn", "etsi", "na"])
@pytest.mark.parametrize("setup, tone", [("unknown", "sit"), ("busy", "busy")])
def test_a_call_that_cannot_complete_plays_the_plans_tone(plan, setup, tone):
    sim, board = cannot_complete(setup, tones=load_plan(plan))
    audio, events = ticks(board, 500)
    assert not [e for e in events if e.kind == EventKind.PROGRESS]
    heard = CallProgressDetector(len(board), load_plan(plan)).process(audio)
    assert [(e.channel, e.tone) for e in heard if e.channel == 1][:1] == [(1, tone)]


def test_ringback_while_the_far_phone_rings_then_its_voice():
    from drivers.sim import Phone
    sim = SimDriver(trunks=1, stations=0, tones=load_plan("cn"))
    board = Board([sim])
    sim.subscriber("4008001234", Phone(answer_after=12.0, talk=5.0, voice_hz=700))
    board.dial(0, "4008001234")
    audio, events = ticks(board, 700)
    heard = CallProgressDetector(1, load_plan("cn")).process(audio[:, :12 * 8000])
    assert [e.tone for e in heard] == ["ringback"]
    talking = audio[0, 13 * 8000:16 * 8000].astype(float)
    spectrum = np.abs(np.fft.rfft(talking))
    assert abs(np.fft.rfftfreq(talking.size, 1 / 8000)[spectrum.argmax()] - 700) < 2


def test_dialling_garbage_is_refused():
    sim = SimDriver(trunks=1, stations=0)
    with pytest.raises(ChannelError, match="cannot dial"):
        Board([sim]).dial(0, "12ab")


# --- line tests ---------------------------------------------------------------------------------------
PLANS = ("cn", "etsi", "na")


def prompt_speech():
    """A recorded prompt: real speech, loud, as a crossed line would carry."""
    with wave.open(str(PROMPTS / "main-menu.wav")) as w:
        return np.frombuffer(w.readframes(w.getnframes()), np.int16).astype(np.float32)


def loud_sounds(plan):
    """Loud sounds a line may carry off-hook that are not its dial tone: the plan's busy tone as the
    exchange plays it, white noise at -10 dBm0, speech."""
    busy = progress_tone(load_plan(plan), "busy", 0, TICK_SAMPLES)
    noise = np.random.default_rng(1).standard_normal(8000) * dbm0_to_amplitude(-10.0) * np.sqrt(0.5)
    return {"busy": busy.samples[:busy.period], "noise": noise, "speech": prompt_speech()}


def peaks(audio, count):
    """The `count` strongest frequencies of `audio` (1 Hz bins over a whole number of seconds)."""
    spectrum = np.abs(np.fft.rfft(audio[:audio.size // 8000 * 8000].astype(float)))
    bins = np.fft.rfftfreq(audio.size // 8000 * 8000, 1 / 8000)
    return sorted(bins[np.argsort(spectrum)[-count:]].tolist())


@pytest.mark.parametrize("plan", PLANS)
def test_line_test_hears_the_plans_dial_tone_on_the_line_for_its_listening_time(plan):
    sim = SimDriver(trunks=2, stations=1, tones=load_plan(plan))
    board = Board([sim])
    test = board.test_line(1, 2.0, load_plan(plan))
    audio, _ = ticks(board, 99)
    assert not test.done
    # The line carries the plan's dial tone as audio (docs/standards.md §3): its frequencies, at the
    # exchange's -10 dBm0 per tone.
    dial = next(t for t in load_plan(plan).tones if t.name == "dial")
    freqs = sorted(dial.segments[0][0])
    assert peaks(audio[1], len(freqs)) == freqs
    assert rms_dbm0(audio[1].astype(float)) == pytest.approx(-10.0 + 10 * np.log10(len(freqs)), abs=0.3)
    # Off-hook for the test: a caller finds the line busy and rings the other trunk.
    caller = SimCaller(number="13800138000")
    sim.place_call(caller)
    assert caller.line == 0
    ticks(board, 2)
    assert test.result["dial_tone"] is True
    assert test.result["level_dbm0"] == pytest.approx(-10.0 + 10 * np.log10(len(freqs)), abs=0.3)
    assert test.result["detail"].startswith(f"sim: trunk2: {plan} dial tone heard in 2.0 s")
    board.dial(1, "4008001234")                     # the line is free again


@pytest.mark.parametrize("plan", PLANS)
@pytest.mark.parametrize("sound", ["busy", "noise", "speech"])
def test_a_loud_line_without_dial_tone_fails_its_test(plan, sound):
    sim = SimDriver(trunks=1, stations=0, tones=load_plan(plan))
    board = Board([sim])
    sim.off_hook_audio[0] = loud_sounds(plan)[sound]
    test = board.test_line(0, 3.0, load_plan(plan))
    ticks(board, 151)
    assert test.result["dial_tone"] is False and f"no {plan} dial tone in 3.0 s" in test.result["detail"]
    assert test.result["level_dbm0"] > -30.0


def test_another_networks_dial_tone_is_not_this_sites():
    sim = SimDriver(trunks=1, stations=0, tones=load_plan("na"))
    board = Board([sim])
    test = board.test_line(0, 3.0, load_plan("cn"))
    ticks(board, 151)
    assert test.result["dial_tone"] is False and "no cn dial tone" in test.result["detail"]


def test_line_test_on_a_trunk_in_alarm_hears_no_dial_tone():
    sim = SimDriver(trunks=1, stations=0, tones=load_plan("cn"))
    board = Board([sim])
    sim.alarm(0, reason="cable cut")
    test = board.test_line(0, 1.5, load_plan("cn"))
    ticks(board, 80)
    assert test.result["dial_tone"] is False and "cable cut" in test.result["detail"]
    # Only the line's noise floor (-65 dBm0 here) was there to hear.
    assert test.result["level_dbm0"] == pytest.approx(-65.0, abs=1.0)
    sim.alarm(0, active=False)
    test = board.test_line(0, 1.5, load_plan("cn"))
    ticks(board, 80)
    assert test.result["dial_tone"] is True


def test_a_line_going_down_during_its_test_reports_no_dial_tone():
    sim = SimDriver(trunks=1, stations=0)
    board = Board([sim])
    test = board.test_line(0, 5.0, load_plan("cn"))
    ticks(board, 10)
    sim.alarm(0, reason="loss of line")
    assert test.result["dial_tone"] is False and "went down" in test.result["detail"]


@pytest.mark.parametrize("channel, seconds, message", [
    (1, 2.0, "station1 is a handset"),
    (0, 0.1, "line test of 0.1 s"),
    (0, 61.0, "line test of 61.0 s"),
    # China's dial tone is told from its 1 s ringback bursts after 1.2 s (board/tones/cn.toml min_s).
    (0, 1.0, "line test of 1.0 s: the cn plan's dial tone is told from its other tones in 1.24 s"),
])
def test_line_tests_that_cannot_be_run_are_refused(channel, seconds, message):
    board = Board([SimDriver(trunks=1, stations=1)])
    with pytest.raises(ChannelError, match=message):
        board.test_line(channel, seconds, load_plan("cn"))


def test_a_busy_trunk_cannot_be_tested():
    sim = SimDriver(trunks=1, stations=0)
    board = Board([sim])
    sim.place_call(SimCaller(number="13800138000"))
    with pytest.raises(ChannelError, match=r"trunk1 is in use \(ringing\)"):
        board.test_line(0, 2.0, load_plan("cn"))
    board.hangup(0)
    test = board.test_line(0, 2.0, load_plan("cn"))
    with pytest.raises(ChannelError, match=r"trunk1 is in use \(testing\)"):
        board.test_line(0, 2.0, load_plan("cn"))
    board.hangup(0)
    assert test.result["dial_tone"] is None and "hung up" in test.result["detail"]


def test_a_driver_without_a_line_test_says_so():
    from drivers.channel import Driver

    class Plain(SimDriver):
        name = "plain"
        test_line = Driver.test_line

    with pytest.raises(ChannelError, match="plain: trunk1 has no line test on this driver"):
        Board([Plain(trunks=1, stations=0)]).test_line(0, 2.0, load_plan("cn"))


def test_line_status_maps_each_drivers_lines_onto_the_board_channels():
    class Reporting(SimDriver):
        def status(self):
            return {"driver": self.name, "lines": [{"device": f"dev{i}"} for i in range(self.n_trunks)]}

    board = Board([SimDriver(trunks=1, stations=1), Reporting(trunks=2, stations=0)])
    assert board.line_status() == [{}, {}, {"device": "dev0"}, {"device": "dev1"}]
    assert board.locate(3)[1] == 1 and isinstance(board.locate(3)[0], Reporting)
