"""E1 span alarms debounced as DAHDI's wct4xxp does (docs/e1-card.md §4), on virtual time."""
import pytest

from drivers.e1_alarms import RED_BLUE_DEBOUNCE_S, SETTLE_S, YELLOW_DEBOUNCE_S, SpanAlarms


def run(alarms, t0, t1, step=0.1):
    t = t0
    while t <= t1 + 1e-9:
        alarms.update(t)
        t = round(t + step, 6)


@pytest.mark.parametrize("defect, alarm", [("LOS", "red"), ("LOF", "red"), ("AIS", "blue")])
def test_red_and_blue_need_2_5_s(defect, alarm):
    a = SpanAlarms()
    a.update(0.0, frozenset({defect}))
    run(a, 0.0, 2.4)
    assert a.names == [] and a.in_service
    run(a, 2.4, RED_BLUE_DEBOUNCE_S)
    assert a.names == [alarm] and not a.in_service


def test_a_defect_shorter_than_the_debounce_raises_nothing():
    a = SpanAlarms()
    a.update(0.0, frozenset({"LOS"}))
    run(a, 0.0, 2.0)
    a.update(2.0, frozenset())
    run(a, 2.0, 10.0)
    assert a.names == [] and a.in_service


def test_yellow_needs_0_5_s_and_clears_after_0_5_s():
    a = SpanAlarms()
    a.update(0.0, frozenset({"RAI"}))
    run(a, 0.0, 0.4)
    assert a.names == []
    run(a, 0.4, YELLOW_DEBOUNCE_S)
    assert a.names == ["yellow"]
    a.update(1.0, frozenset())
    run(a, 1.0, 1.4)
    assert a.names == ["yellow"]
    run(a, 1.4, 1.5)
    assert a.names == [] and a.in_service


def test_recover_for_5_s_after_red_before_service():
    a = SpanAlarms()
    a.update(0.0, frozenset({"LOS"}))
    run(a, 0.0, 3.0)
    a.update(3.0, frozenset())
    assert a.names == ["recover"] and not a.in_service
    run(a, 3.0, 3.0 + SETTLE_S - 0.1)
    assert a.names == ["recover"]
    run(a, 3.0 + SETTLE_S - 0.1, 3.0 + SETTLE_S)
    assert a.in_service


def test_a_defect_while_recovering_starts_the_wait_again():
    a = SpanAlarms()
    a.update(0.0, frozenset({"LOF"}))
    run(a, 0.0, 3.0)
    a.update(3.0, frozenset())
    run(a, 3.0, 6.0)
    a.update(6.0, frozenset({"LOF"}))          # a blip, shorter than the raise debounce
    a.update(6.5, frozenset())
    run(a, 6.5, 11.0)
    assert a.names == ["recover"]              # 5 s from 6.5, not from 3.0
    run(a, 11.0, 11.6)
    assert a.in_service
