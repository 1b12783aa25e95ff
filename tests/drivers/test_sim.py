"""The simulated board: ring cadence, caller ID, real DTMF audio on the line, handsets, errors."""
import numpy as np
import pytest

from drivers.channel import TICK_SAMPLES, Board, ChannelError, EventKind
from drivers.sim import DtmfStyle, SimCaller, SimDriver
from dsp.levels import rms_dbm0


def ticks(board, n, tx=None):
    tx = np.zeros((len(board), TICK_SAMPLES), np.int16) if tx is None else tx
    frames, events = [], []
    for _ in range(n):
        rx, evs = board.exchange(tx)
        frames.append(rx.copy())
        events.extend(evs)
    return np.concatenate(frames, axis=1), events


def test_caller_id_then_rings_on_the_china_cadence():
    sim = SimDriver(trunks=2, stations=1)
    board = Board([sim])
    sim.place_call(SimCaller(number="13800138000", name="Zhao"))
    _, events = ticks(board, 600)   # 12 s
    assert events[0].kind == EventKind.CALLER_ID and events[0].data["number"] == "13800138000"
    rings = [e for e in events if e.kind == EventKind.RING]
    # 1 s on / 4 s off: rings begin at 0, 5 and 10 s.
    assert len(rings) == 3 and all(e.channel == 0 for e in rings)


def test_key_press_is_real_dtmf_at_the_configured_level():
    sim = SimDriver(trunks=1, stations=0, dtmf=DtmfStyle(level_dbm0=-20.0, on_s=0.1, off_s=0.1))
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


@pytest.mark.parametrize("setup, tone", [("unknown", "sit"), ("busy", "busy")])
def test_outbound_call_that_cannot_complete_reports_progress(setup, tone):
    from drivers.sim import Phone
    sim = SimDriver(trunks=2, stations=0)
    board = Board([sim])
    if setup == "busy":
        sim.subscriber("555", Phone())
        sim.place_call(SimCaller(number="555"))     # the subscriber is on the phone with the box
    board.dial(1, "555")
    _, events = ticks(board, 200)
    progress = [e for e in events if e.kind == EventKind.PROGRESS]
    assert progress and progress[0].channel == 1 and progress[0].data["tone"] == tone
    board.hangup(1)
    board.dial(1, "555")                            # the line is free again after hang-up


def test_dialling_garbage_is_refused():
    sim = SimDriver(trunks=1, stations=0)
    with pytest.raises(ChannelError, match="cannot dial"):
        Board([sim]).dial(0, "12ab")


# --- line tests ---------------------------------------------------------------------------------------
def test_line_test_on_an_idle_trunk_hears_dial_tone_after_its_listening_time():
    sim = SimDriver(trunks=2, stations=1)
    board = Board([sim])
    test = board.test_line(1, 1.0)
    ticks(board, 49)
    assert not test.done
    # Off-hook for the test: a caller finds the line busy and rings the other trunk.
    caller = SimCaller(number="13800138000")
    sim.place_call(caller)
    assert caller.line == 0
    ticks(board, 2)
    assert test.result == {"dial_tone": True, "level_dbm0": -10.0,
                           "detail": "sim: trunk2: dial tone (450 Hz, -10.0 dBm0) for 1.0 s"}
    board.dial(1, "4008001234")                     # the line is free again


def test_line_test_on_a_trunk_in_alarm_hears_no_dial_tone():
    sim = SimDriver(trunks=1, stations=0)
    board = Board([sim])
    sim.alarm(0, reason="cable cut")
    test = board.test_line(0, 0.5)
    ticks(board, 30)
    assert test.result["dial_tone"] is False and "cable cut" in test.result["detail"]
    sim.alarm(0, active=False)
    test = board.test_line(0, 0.5)
    ticks(board, 30)
    assert test.result["dial_tone"] is True


def test_a_line_going_down_during_its_test_reports_no_dial_tone():
    sim = SimDriver(trunks=1, stations=0)
    board = Board([sim])
    test = board.test_line(0, 5.0)
    ticks(board, 10)
    sim.alarm(0, reason="loss of line")
    assert test.result["dial_tone"] is False and "went down" in test.result["detail"]


@pytest.mark.parametrize("channel, seconds, message", [
    (1, 1.0, "station1 is a handset"),
    (0, 0.1, "line test of 0.1 s"),
    (0, 61.0, "line test of 61.0 s"),
])
def test_line_tests_that_cannot_be_run_are_refused(channel, seconds, message):
    board = Board([SimDriver(trunks=1, stations=1)])
    with pytest.raises(ChannelError, match=message):
        board.test_line(channel, seconds)


def test_a_busy_trunk_cannot_be_tested():
    sim = SimDriver(trunks=1, stations=0)
    board = Board([sim])
    sim.place_call(SimCaller(number="13800138000"))
    with pytest.raises(ChannelError, match=r"trunk1 is in use \(ringing\)"):
        board.test_line(0, 1.0)
    board.hangup(0)
    test = board.test_line(0, 1.0)
    with pytest.raises(ChannelError, match=r"trunk1 is in use \(testing\)"):
        board.test_line(0, 1.0)
    board.hangup(0)
    assert test.result["dial_tone"] is None and "hung up" in test.result["detail"]


def test_a_driver_without_a_line_test_says_so():
    from drivers.channel import Driver

    class Plain(SimDriver):
        name = "plain"
        test_line = Driver.test_line

    with pytest.raises(ChannelError, match="plain: trunk1 has no line test on this driver"):
        Board([Plain(trunks=1, stations=0)]).test_line(0, 1.0)


def test_line_status_maps_each_drivers_lines_onto_the_board_channels():
    class Reporting(SimDriver):
        def status(self):
            return {"driver": self.name, "lines": [{"device": f"dev{i}"} for i in range(self.n_trunks)]}

    board = Board([SimDriver(trunks=1, stations=1), Reporting(trunks=2, stations=0)])
    assert board.line_status() == [{}, {}, {"device": "dev0"}, {"device": "dev1"}]
    assert board.locate(3)[1] == 1 and isinstance(board.locate(3)[0], Reporting)
