"""Erlang C: the agents a queue needs for a service-level target, and the expected ASA, probability of
waiting and occupancy for a given number of agents.

The model (A. K. Erlang, 1917; M/M/N with an unlimited queue): calls arrive at random (Poisson) at rate
λ, each keeps an agent for an exponentially distributed handle time of mean AHT, so the offered traffic
is A = λ·AHT erlangs; with N > A agents

    P(wait)   = C(N, A) = N·B(N, A) / (N − A·(1 − B(N, A)))        (B: Erlang B, the loss formula)
    SL(t)     = 1 − C(N, A)·exp(−(N − A)·t / AHT)                   answered within t seconds
    ASA       = C(N, A)·AHT / (N − A)
    occupancy = A / N

(V. B. Iversen, "Teletraffic Engineering and Network Planning", DTU and the ITU-D handbook: Erlang's
delay system M/M/n, the relation between Erlang B and C, and the waiting-time distribution under
first come, first served). B is computed by its recursion B(0) = 1, B(k) = A·B(k−1) / (k + A·B(k−1))
(same source, Erlang's B-formula, its numerical evaluation), which never forms A^N or N!,
so a few hundred agents are as exact as two; the textbook sum of A^k/k! overflows a float near
N = 170. The model ignores callers who give up, so it errs on the side of more agents.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

# Beyond this the box's staffing page is not the tool: a branch box has tens of lines, and the search
# below costs O(N). 1,000 erlangs is still exact (the recursion), and answers in milliseconds.
MAX_ERLANGS = 1000.0
# Shrinkage (breaks, training, absence) above 90% would schedule ten people for each one answering.
MAX_SHRINKAGE = 0.9


class ErlangError(ValueError):
    """Inputs the model cannot answer for: no traffic time, a target it can never reach."""


@dataclass(frozen=True)
class Staffing:
    """What N agents give at A erlangs: the Erlang C figures, and the people to schedule for them."""

    agents: int            # answering at once (the "raw" agents of the model)
    scheduled: int         # agents / (1 − shrinkage), rounded up: people on the rota for the interval
    traffic: float         # A, erlangs
    p_wait: float          # probability a call waits at all
    service_level: float   # fraction answered within the target time
    asa: float             # average speed of answer, seconds, over all calls (those not waiting count 0)
    occupancy: float       # A / N: the share of the agents' time spent handling calls

    def as_dict(self) -> dict:
        return {"agents": self.agents, "scheduled": self.scheduled, "traffic_erlangs": round(self.traffic, 4),
                "p_wait": round(self.p_wait, 4), "service_level": round(self.service_level, 4),
                "asa_s": round(self.asa, 1), "occupancy": round(self.occupancy, 4)}


def traffic(calls_per_hour: float, aht_s: float) -> float:
    """Offered traffic in erlangs: calls an hour times their handle time in hours."""
    return calls_per_hour * aht_s / 3600.0


def erlang_b(agents: int, erlangs: float) -> float:
    """Erlang B: the probability that all `agents` are busy (a loss system) at `erlangs` offered."""
    if agents < 0 or erlangs < 0:
        raise ErlangError("agents and traffic must not be negative")
    b = 1.0
    for k in range(1, agents + 1):
        b = erlangs * b / (k + erlangs * b)
    return b


def _c_from_b(agents: int, erlangs: float, b: float) -> float:
    return agents * b / (agents - erlangs * (1.0 - b))


def erlang_c(agents: int, erlangs: float) -> float:
    """Erlang C: the probability that a call has to wait; 1 when the agents cannot keep up (N <= A)."""
    if agents <= erlangs:
        return 1.0
    return _c_from_b(agents, erlangs, erlang_b(agents, erlangs))


def _figures(agents: int, erlangs: float, p_wait: float, aht_s: float, answer_s: float,
             shrinkage: float) -> Staffing:
    if erlangs == 0:
        return Staffing(agents, scheduled(agents, shrinkage), 0.0, 0.0, 1.0, 0.0, 0.0)
    spare = agents - erlangs
    return Staffing(agents=agents, scheduled=scheduled(agents, shrinkage), traffic=erlangs, p_wait=p_wait,
                    service_level=1.0 - p_wait * math.exp(-spare * answer_s / aht_s),
                    asa=p_wait * aht_s / spare, occupancy=erlangs / agents)


def scheduled(agents: int, shrinkage: float) -> int:
    """People to schedule so that `agents` are answering when `shrinkage` of paid time goes elsewhere."""
    # A hair under the product: 14 / 0.7 is 20.000000000000004 in binary floating point, and is 20 people.
    return math.ceil(agents / (1.0 - shrinkage) - 1e-9)


def check(calls_per_hour: float, aht_s: float, service_level: float, answer_s: float,
          shrinkage: float = 0.0) -> float:
    """The offered erlangs for these inputs, or ErlangError naming the first one the model cannot take."""
    for name, value in (("calls per hour", calls_per_hour), ("AHT", aht_s), ("service level", service_level),
                        ("answer time", answer_s), ("shrinkage", shrinkage)):
        if not math.isfinite(value):
            raise ErlangError(f"{name} must be a number")
    if calls_per_hour < 0:
        raise ErlangError("calls per hour must not be negative")
    if aht_s <= 0:
        raise ErlangError("AHT must be more than 0 s: a call takes some time to handle")
    # Erlang C never reaches 100%: some caller always arrives when every agent is busy.
    if not 0 < service_level < 1:
        raise ErlangError("the service-level target must be above 0% and below 100%")
    if answer_s < 0:
        raise ErlangError("the answer time must not be negative")
    if not 0 <= shrinkage <= MAX_SHRINKAGE:
        raise ErlangError(f"shrinkage must be from 0% to {MAX_SHRINKAGE:.0%}")
    erlangs = traffic(calls_per_hour, aht_s)
    if erlangs > MAX_ERLANGS:
        raise ErlangError(f"{erlangs:.0f} erlangs is more traffic than this calculator takes "
                          f"(at most {MAX_ERLANGS:.0f})")
    return erlangs


def with_agents(agents: int, calls_per_hour: float, aht_s: float, service_level: float, answer_s: float,
                shrinkage: float = 0.0) -> Staffing:
    """The figures `agents` would give (the table around the answer); they must outnumber the erlangs,
    or the queue grows without end and no figure means anything."""
    erlangs = check(calls_per_hour, aht_s, service_level, answer_s, shrinkage)
    if erlangs > 0 and agents <= erlangs:
        raise ErlangError(f"{agents} agents cannot keep up with {erlangs:.2f} erlangs: the queue never empties")
    return _figures(agents, erlangs, erlang_c(agents, erlangs), aht_s, answer_s, shrinkage)


def agents_needed(calls_per_hour: float, aht_s: float, service_level: float, answer_s: float,
                  shrinkage: float = 0.0) -> Staffing:
    """The fewest agents answering `service_level` of calls within `answer_s`, and what they give."""
    erlangs = check(calls_per_hour, aht_s, service_level, answer_s, shrinkage)
    if erlangs == 0:
        return _figures(0, 0.0, 0.0, aht_s, answer_s, shrinkage)
    # B(N) follows from B(N−1), so the search costs one step per agent, not one recursion each.
    n = math.floor(erlangs) + 1
    b = erlang_b(n, erlangs)
    while True:
        found = _figures(n, erlangs, _c_from_b(n, erlangs, b), aht_s, answer_s, shrinkage)
        if found.service_level >= service_level:
            return found
        n += 1
        b = erlangs * b / (n + erlangs * b)
