"""Erlang C (webui/erlang.py) against published tables and worked examples."""
from __future__ import annotations

import math
from fractions import Fraction

import pytest

from webui import erlang


def test_call_centre_helper_worked_example():
    # Call Centre Helper, "Erlang C Formula - Made Simple With an Easy Worked Example": 100 calls in
    # 30 minutes, AHT 180 s, 80% answered in 20 s, shrinkage 30%. Traffic 10 erlangs; starting from
    # N = A + 1 = 11 agents the probability a call waits is 68.21%; the service level is first met
    # by 14 agents (88.8% in 20 s, ASA about 8 s, occupancy 71%), 20 people once 30% shrinkage is
    # allowed for.
    assert erlang.traffic(200, 180) == pytest.approx(10.0)
    assert erlang.erlang_c(11, 10.0) == pytest.approx(0.6821, abs=5e-5)
    got = erlang.agents_needed(200, 180, 0.80, 20, shrinkage=0.30)
    assert got.agents == 14
    assert got.service_level == pytest.approx(0.888, abs=5e-4)
    assert got.asa == pytest.approx(7.8, abs=0.05)
    assert got.occupancy == pytest.approx(0.714, abs=5e-4)
    assert got.scheduled == 20
    # One fewer agent misses the target: 13 answer 79.6% in 20 s.
    assert erlang.with_agents(13, 200, 180, 0.80, 20).service_level < 0.80


# Avaya Communication Manager BCMS Operations (07-300061, issue 5.0, May 2005), "Average service time
# engineering tables": the busy-hour calls N agents carry with 90% of calls answered before the delay
# shown, reproduced in its worked examples (pp. 111-112): (service time s, agents, delay s, calls/h).
BCMS_TABLE = [(60, 5, 30, 186), (60, 5, 40, 197), (60, 5, 45, 202),
              (60, 6, 30, 238), (60, 6, 40, 251), (60, 6, 45, 257),
              (90, 8, 30, 217), (90, 8, 40, 226), (90, 8, 45, 231)]


@pytest.mark.parametrize("aht, agents, delay, calls", BCMS_TABLE)
def test_avaya_bcms_engineering_table(aht, agents, delay, calls):
    # The table rounds to whole calls an hour: at its figure the agents answer 90% within the delay
    # to within the rounding, and a fifth more calls would need another agent.
    assert erlang.with_agents(agents, calls, aht, 0.9, delay).service_level == pytest.approx(0.90, abs=0.002)
    assert erlang.agents_needed(calls * 0.98, aht, 0.9, delay).agents == agents
    assert erlang.agents_needed(calls * 1.2, aht, 0.9, delay).agents > agents


def _erlang_c_by_the_sum(n: int, a: Fraction) -> Fraction:
    # The textbook form, exact in rational numbers: (A^N/N! · N/(N−A)) / (Σ_{k<N} A^k/k! + A^N/N! · N/(N−A)).
    top = a ** n / math.factorial(n) * n / (n - a)
    return top / (sum(a ** k / math.factorial(k) for k in range(n)) + top)


@pytest.mark.parametrize("n, a", [(1, "1/2"), (2, "3/2"), (7, "5"), (30, "27"), (200, "190")])
def test_the_recursion_is_the_formula(n, a):
    exact = _erlang_c_by_the_sum(n, Fraction(a))
    assert erlang.erlang_c(n, float(Fraction(a))) == pytest.approx(float(exact), rel=1e-9)


def test_hundreds_of_agents_stay_finite():
    # 170! overflows a float: the sum form fails here, the recursion does not.
    got = erlang.agents_needed(6000, 300, 0.8, 20)
    assert got.traffic == pytest.approx(500.0)
    assert 500 < got.agents < 530
    assert 0.8 <= got.service_level < 1 and math.isfinite(got.asa)


def test_no_calls_need_no_agents():
    got = erlang.agents_needed(0, 180, 0.8, 20, shrinkage=0.3)
    assert (got.agents, got.scheduled, got.asa, got.service_level) == (0, 0, 0.0, 1.0)


@pytest.mark.parametrize("args, says", [
    ((100, 0, 0.8, 20), "AHT"),
    ((100, 180, 1.0, 20), "below 100%"),
    ((100, 180, 0.0, 20), "above 0%"),
    ((-1, 180, 0.8, 20), "negative"),
    ((100, 180, 0.8, -5), "negative"),
    ((100, 180, 0.8, 20, 0.95), "shrinkage"),
    ((100_000, 3600, 0.8, 20), "erlangs"),
    ((float("nan"), 180, 0.8, 20), "number"),
])
def test_inputs_the_model_cannot_take(args, says):
    with pytest.raises(erlang.ErlangError, match=says):
        erlang.agents_needed(*args)


def test_too_few_agents_are_refused():
    with pytest.raises(erlang.ErlangError, match="keep up"):
        erlang.with_agents(10, 200, 180, 0.8, 20)
