"""MFC-R2 signalling of the E1 span (drivers/r2.py) against the simulated exchange: China No.1 and ITU,
incoming and outgoing, every B-signal, every timer, glare, a far end that clears during the address,
a blocked circuit; on simulated time (20 ms ticks, no sleeps)."""
import pytest

from drivers.channel import ChannelError
from drivers.r2_variant import R2VariantError, variant_from_dict
from drivers.sim import SimCaller
from firmware.config.r2_variants import load_variant
from e1_harness import ANSWER, CALLER_ID, CLEAR, PROGRESS, RING, Rig, Subscriber, kinds, of

ANI = "13800138000"


# --- the variants' data -------------------------------------------------------------------------
@pytest.mark.parametrize("name, idle, seize, ack, answer, clear_back, blocked", [
    # docs/standards.md §6.3 (openr2 standard_cas_signals; China C D = 1 1, ITU 0 1).
    ("china", "1011", "0011", "1111", "0111", "1111", "1111"),
    ("itu", "1001", "0001", "1101", "0101", "1101", "1101"),
])
def test_line_signals_are_openr2s_with_the_variants_c_d(name, idle, seize, ack, answer, clear_back, blocked):
    v = load_variant(name)
    got = [v.abcd(s) for s in ("idle", "seize", "seize_ack", "answer", "clear_back", "blocked")]
    assert got == [idle, seize, ack, answer, clear_back, blocked]


def test_china_meanings_are_openr2s_r2config_china():
    v = load_variant("china")
    assert (v.backward_a["next_dnis"], v.backward_a["next_ani"], v.backward_a["category"],
            v.backward_a["change_to_b"], v.backward_a["address_complete_charge"]) == (1, 1, 6, 3, 0)
    assert (v.backward_b["free_charge"], v.backward_b["busy"], v.backward_b["sit"]) == (1, 2, 0)
    assert v.forward["end_of_dnis"] == 0 and v.forward["end_of_ani"] == 15
    assert v.timers_s == {"seize": 2.0, "mf_back_cycle": 2.0, "mf_fwd_safety": 30.0, "answer": 60.0,
                          "answer_delay": 0.15, "release_guard": 3.0}


@pytest.mark.parametrize("edit, word", [
    (lambda r2: r2.update(cd="00"), "cd"),
    (lambda r2: r2["line"].update(idle="1"), "idle"),
    (lambda r2: r2["line"].update(seize="00") or r2.update(cd="00"), "cd"),
    (lambda r2: r2["backward_b"].update(busy=16), "busy"),
    (lambda r2: r2["backward_a"].pop("congestion"), "missing"),
    (lambda r2: r2["forward"].update(extra=1), "unknown"),
    (lambda r2: r2["timers_ms"].update(seize=0), "seize"),
])
def test_a_bad_variant_file_is_refused_naming_the_key(edit, word):
    import tomllib
    from firmware.config.r2_variants import VARIANT_DIR
    data = tomllib.loads((VARIANT_DIR / "china.toml").read_text())
    edit(data["r2"])
    with pytest.raises(R2VariantError, match=word):
        variant_from_dict("x", data, "x.toml")


# --- incoming -------------------------------------------------------------------------------------
def test_incoming_china_order_dnis_then_ka_and_ani_then_kd_and_b1():
    rig = Rig("china", dnis_digits=4)
    rig.exchange.place_call(SimCaller(ANI, talk=5.0, patience=30.0), "1234", channel=0)
    events = rig.run(until=of(RING, 0), limit=10.0)
    assert kinds(events, 0) == [CALLER_ID, RING]
    cid = events[0].data
    assert (cid["number"], cid["dnis"], cid["category"]) == (ANI, "1234", 1)
    # The compelled sequence (China No.1): digits each acknowledged by A1, A6 for KA and the calling
    # number, each ANI digit A1, I-15, A3, KD, B1 (KB1: subscriber free).
    digits = [10 if d == "0" else int(d) for d in ANI]
    assert rig.exchange.r2.chans[0].sent == [1, 2, 3, 4, 1, *digits, 15, 1]
    assert rig.driver.r2.chans[0].sent == [1, 1, 1, 6, 1, *[1] * len(ANI), 3, 1]
    assert rig.exchange.card.tx[1] == "1111"           # seize-acknowledge (China C D = 1 1)
    rig.driver.answer(0)
    rig.run(0.5)
    assert rig.exchange.card.tx[1] == "0111" and rig.far_state(0) == "out-answered"
    # The caller hangs up after talking: clear-forward, the box's CLEAR, both back to idle.
    rig.exchange.connected(0)
    events = rig.run(until=of(CLEAR, 0), limit=10.0)
    assert kinds(events, 0) == [CLEAR] and events[0].data["reason"] == "far end cleared"
    rig.run(0.2)
    assert rig.state(0) == "idle" and rig.far_state(0) == "idle" and rig.exchange.card.tx[1] == "1011"


def test_incoming_itu_order_and_b6():
    rig = Rig("itu", dnis_digits=3)
    rig.exchange.place_call(SimCaller("5551234", patience=30.0), "401", channel=4)
    events = rig.run(until=of(RING, 4), limit=10.0)
    assert events[0].data["number"] == "5551234" and events[0].data["dnis"] == "401"
    # ITU: A1 per digit, A5 for the category and each calling digit, A3 after I-15, then B6.
    assert rig.driver.r2.chans[4].sent == [1, 1, 5, 5, *[5] * 7, 3, 6]
    assert rig.exchange.r2.chans[4].sent == [4, 10, 1, 1, 5, 5, 5, 1, 2, 3, 4, 15, 1]
    assert rig.exchange.card.tx[5] == "1101"


def test_box_hangs_up_first_clear_back_then_idle():
    rig = Rig()
    rig.exchange.place_call(SimCaller(ANI, patience=30.0), "1234", channel=2)
    rig.run(until=of(RING, 2), limit=10.0)
    rig.driver.answer(2)
    rig.run(0.5)
    rig.driver.hangup(2)
    rig.run(0.04)
    assert rig.exchange.card.tx[3] == "1111" and rig.state(2) == "in-clearing"   # clear-back
    rig.run(0.5)
    assert rig.state(2) == "idle" and rig.far_state(2) == "idle"
    assert rig.exchange.results[-1]["answered"] is True


def test_answer_waits_the_answer_delay_after_the_b_signal():
    rig = Rig()
    rig.exchange.place_call(SimCaller(ANI, patience=30.0), "1234", channel=0)
    rig.run(until=of(RING, 0), limit=10.0)
    ended = rig.driver.r2.chans[0].tone_end_at
    rig.driver.answer(0)
    assert rig.state(0) == "in-offered"                      # openr2 r2_answer_delay: 150 ms
    answered = []
    while rig.state(0) != "in-answered":
        answered.append(rig.now())     # the tick about to run
        rig.run(0.02)
    # Not before 150 ms, and at the first tick after (ticks are 20 ms).
    assert 0.15 <= answered[-1] - ended < 0.15 + 0.02 + 1e-9


def test_far_end_clearing_during_the_address_offers_nothing_and_frees_the_circuit():
    rig = Rig()
    rig.exchange.place_call(SimCaller(ANI, patience=30.0), "1234", channel=6, clear_after_digits=2)
    events = rig.run(3.0)
    assert kinds(events, 6) == []                          # no call reached the engine
    assert rig.state(6) == "idle" and rig.driver.r2.counters["abandoned"] == 1
    assert rig.exchange.results[-1]["outcome"] == "hung up while dialling"
    # The circuit takes the next call.
    rig.exchange.place_call(SimCaller(ANI, patience=30.0), "1234", channel=6)
    assert of(RING, 6)(rig.run(until=of(RING, 6), limit=10.0))


def test_a_slow_register_within_the_cycle_timer_still_completes():
    rig = Rig()
    rig.exchange.slow_mf(0.5)
    rig.exchange.place_call(SimCaller(ANI, patience=60.0), "1234", channel=0)
    start = rig.now()
    events = rig.run(until=of(RING, 0), limit=30.0)
    assert of(RING, 0)(events) and rig.now() - start > 18 * 0.5


# --- outgoing -------------------------------------------------------------------------------------
def test_outgoing_china_full_sequence_and_answer():
    rig = Rig("china", number_digits=8, ani="88886666")
    rig.exchange.directory["55501234"] = Subscriber(answer_after=2.0, talk=4.0)
    rig.driver.dial(3, "55501234")
    assert rig.exchange.card.tx[4] == "0011"                # seize
    events = rig.run(until=of(ANSWER, 3), limit=15.0)
    assert kinds(events, 3) == [ANSWER]
    # Box (forward): 8 digits, KA on A6, the calling number digit by digit on A1, I-15, KD on A3.
    assert rig.driver.r2.chans[3].sent == [5, 5, 5, 10, 1, 2, 3, 4, 1, 8, 8, 8, 8, 6, 6, 6, 6, 15, 1]
    assert rig.exchange.r2.chans[3].sent == [1] * 7 + [6] + [1] * 9 + [3, 1]
    assert rig.exchange.results[-1] == {"direction": "out", "dnis": "55501234", "ani": "88886666",
                                        "outcome": "offered"}
    # The subscriber hangs up: clear-back, the box's CLEAR and its clear-forward.
    events = rig.run(until=of(CLEAR, 3), limit=10.0)
    assert events[-1].data["reason"] == "far end cleared"
    rig.run(0.3)
    assert rig.state(3) == "idle" and rig.far_state(3) == "idle"


def test_outgoing_itu_sends_i15_when_asked_past_the_number():
    rig = Rig("itu", number_digits=6, ani="777")
    rig.exchange.directory["123456"] = Subscriber()
    rig.driver.dial(0, "1234")                             # shorter than the exchange's numbers
    events = rig.run(until=lambda ev: of(PROGRESS, 0)(ev) or of(ANSWER, 0)(ev), limit=15.0)
    # I-15 (end of pulsing) answers the fifth A1; the exchange takes it as the end of the address.
    assert rig.driver.r2.chans[0].sent[:5] == [1, 2, 3, 4, 15] or rig.driver.r2.last_sent[0][:5] == [1, 2, 3, 4, 15]
    assert of(PROGRESS, 0)(events)                          # 1234 is not in its directory: B-5


# Each B-signal a variant defines, with the progress tone the box reports for it (None: answered).
B_MEANINGS = [("busy", "busy"), ("congestion", "congestion"), ("unallocated", "sit"), ("out_of_order", "sit"),
              ("sit", "sit"), ("free_no_charge", None), ("free_charge", None)]


@pytest.mark.parametrize("variant, meaning, tone", [
    (variant, meaning, tone) for variant in ("china", "itu") for meaning, tone in B_MEANINGS
    if load_variant(variant).backward_b[meaning]])
def test_every_b_signal(variant, meaning, tone):
    rig = Rig(variant, number_digits=4)
    v = rig.variant
    rig.exchange.directory["4321"] = Subscriber(meaning=meaning)
    rig.driver.dial(1, "4321")
    events = rig.run(until=lambda ev: of(PROGRESS, 1)(ev) or of(ANSWER, 1)(ev), limit=15.0)
    sent = rig.exchange.r2.chans[1].sent or rig.exchange.r2.last_sent[1]
    assert sent[-1] == v.backward_b[meaning]
    if tone is None:
        assert kinds(events, 1) == [ANSWER]
    else:
        assert kinds(events, 1) == [PROGRESS] and events[-1].data["tone"] == tone
        rig.driver.hangup(1)
        rig.run(0.5)
        assert rig.state(1) == "idle" and rig.far_state(1) == "idle"


def test_an_unknown_number_is_unallocated():
    rig = Rig()
    rig.driver.dial(0, "99990000")
    events = rig.run(until=of(PROGRESS, 0), limit=15.0)
    assert events[-1].data["tone"] == "sit" and "unallocated" in events[-1].data["reason"]


# --- timers ---------------------------------------------------------------------------------------
def test_seize_acknowledge_timer():
    rig = Rig()
    rig.exchange.no_seize_ack.add(7)
    rig.driver.dial(7, "55501234")
    start = rig.now()
    events = rig.run(until=of(PROGRESS, 7), limit=5.0)
    assert rig.now() - start == pytest.approx(2.0, abs=0.05)         # openr2 r2_seize 2000 ms
    assert events[-1].data["reason"] == "no seize-acknowledge in 2 s" and rig.state(7) == "idle"


def test_mf_back_cycle_timer_on_a_register_slower_than_2_s():
    rig = Rig()
    rig.exchange.directory["55501234"] = Subscriber()
    rig.exchange.slow_mf(2.5, [0])
    rig.driver.dial(0, "55501234")
    events = rig.run(until=of(PROGRESS, 0), limit=10.0)
    assert "register signalling stalled for 2 s" in events[-1].data["reason"]
    assert rig.driver.r2.counters["timeouts"] == 1


def test_mf_back_cycle_timer_incoming_abandons_without_a_call():
    rig = Rig()
    rig.exchange.slow_mf(2.5, [0])
    rig.exchange.place_call(SimCaller(ANI, patience=60.0), "1234", channel=0)
    events = rig.run(6.0)
    assert kinds(events, 0) == [] and rig.driver.r2.counters["abandoned"] == 1
    assert rig.driver.r2.counters["timeouts"] == 1


def test_mf_safety_timer_ends_register_signalling_that_lasts_30_s():
    rig = Rig()
    rig.exchange.slow_mf(1.8)                            # every step inside the 2 s cycle, 18 steps
    rig.exchange.place_call(SimCaller(ANI, patience=120.0), "1234", channel=0)
    start = rig.now()
    events = rig.run(until=lambda ev: rig.driver.r2.counters["timeouts"] > 0, limit=40.0)
    assert rig.now() - start == pytest.approx(30.0, abs=0.1)      # openr2 mf_fwd_safety 30 s
    assert kinds(events, 0) == [] and rig.driver.r2.counters["abandoned"] == 1


def test_answer_timer():
    rig = Rig()
    rig.exchange.directory["55501234"] = Subscriber(answers=False)
    rig.driver.dial(0, "55501234")
    rig.run(until=lambda ev: rig.state(0) == "out-accepted", limit=10.0)
    start = rig.now()
    events = rig.run(until=of(PROGRESS, 0), limit=70.0)
    assert rig.now() - start == pytest.approx(60.0, abs=0.05)     # openr2 r2_answer 60 s
    assert events[-1].data["reason"] == "no answer in 60 s"


def test_release_guard_timer_when_the_far_end_never_returns_to_idle():
    rig = Rig()
    rig.exchange.place_call(SimCaller(ANI, patience=30.0), "1234", channel=0)
    rig.run(until=of(RING, 0), limit=10.0)
    rig.driver.answer(0)
    rig.run(0.5)
    rig.exchange.card.on_transmit = None                   # the exchange stops hearing the box
    rig.driver.hangup(0)
    start = rig.now()
    rig.run(until=lambda ev: rig.state(0) == "idle", limit=5.0)
    assert rig.now() - start == pytest.approx(3.0, abs=0.05) and rig.driver.r2.counters["forced_idle"] == 1


# --- glare and blocking ---------------------------------------------------------------------------
def test_glare_the_box_gives_way_and_takes_the_exchanges_call():
    rig = Rig()
    rig.exchange.directory["55501234"] = Subscriber()
    rig.exchange.glare[5] = (SimCaller(ANI, patience=30.0), "1234")
    rig.driver.dial(5, "55501234")
    events = rig.run(until=of(RING, 5), limit=10.0)
    assert kinds(events, 5) == [CLEAR, CALLER_ID, RING]
    assert events[0].data["glare"] is True and events[1].data["number"] == ANI
    assert rig.driver.r2.counters["glare"] == 1


def test_a_circuit_the_far_end_blocks_refuses_calls_and_comes_back():
    rig = Rig()
    rig.exchange.card.far_cas(9, rig.variant.abcd("blocked"))     # timeslot 9 = channel 8
    rig.run(0.1)
    assert rig.state(8) == "blocked"
    with pytest.raises(ChannelError, match="blocked"):
        rig.driver.dial(8, "55501234")
    assert rig.driver.status()["lines"][8]["alarm"] == "blocked by the far end"
    rig.exchange.card.far_cas(9, rig.variant.abcd("idle"))
    rig.run(0.1)
    assert rig.state(8) == "idle"


def test_dialling_a_busy_circuit_is_refused():
    rig = Rig()
    rig.exchange.place_call(SimCaller(ANI, patience=30.0), "1234", channel=0)
    rig.run(0.2)
    with pytest.raises(ChannelError, match="in-seized"):
        rig.driver.dial(0, "55501234")


@pytest.mark.parametrize("signal, back", [(2, 1), (7, 2), (8, 3)])
def test_itu_a2_a7_a8_send_an_earlier_digit_again(signal, back):
    rig = Rig("itu", number_digits=8, ani="777")
    rig.exchange.directory["12345678"] = Subscriber()
    far = rig.exchange.r2
    answer_to = far._answer_to
    asked = []

    def once(ch, s):
        # After the fourth digit, the exchange asks for the one `back` before it (Q.441)
        # and forgets the digits from there.
        if ch == 0 and len(far.chans[0].dnis) == 3 and not asked:
            asked.append(s)
            far.chans[0].dnis = far.chans[0].dnis[:4 - back - 1]
            return signal
        return answer_to(ch, s)
    far._answer_to = once
    rig.driver.dial(0, "12345678")
    events = rig.run(until=of(ANSWER, 0), limit=15.0)
    assert kinds(events, 0) == [ANSWER]
    sent = rig.driver.r2.chans[0].sent
    assert sent[:4 + back + 1] == [1, 2, 3, 4] + list(range(4 - back, 5))
    assert rig.exchange.results[-1]["dnis"] == "12345678"


def test_china_has_no_earlier_digit_requests_unconfirmed_ones_are_left_out():
    v = load_variant("china")
    assert [v.backward_a[f"dnis_minus_{k}"] for k in (1, 2, 3)] == [0, 0, 0]
