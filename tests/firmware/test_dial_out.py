"""Numbers the box dials for an agent's outbound call and for callbacks: the trunk is seized as the
number is dialled, so an incoming call is never swallowed, and a call ended before its customer
answered is a customer not reached."""
import logging

from drivers.sim import SimDriver
from scenario_builder import CALLBACK_FLOW

QUEUES = """
[[queues]]
name = "sales"
wrapup = 0.0
[[queues]]
name = "service"
wrapup = 0.0
"""
CUSTOMER = "4008200000"


def agent(agent_id, answer_after=1.0, talk=1000.0, login_at=0.0):
    return (f'[[agents]]\nid = "{agent_id}"\nskills = {{ sales = 5 }}\nanswer_after = {answer_after}\n'
            f"talk = {talk}\nlogin_at = {login_at}\n")


def customer(answer_after=2.0, talk=1000.0):
    return f'[[externals]]\nnumber = "{CUSTOMER}"\nanswer_after = {answer_after}\ntalk = {talk}\n'


def action(at, do, **args):
    return f'[[actions]]\nat = {at}\ndo = "{do}"\n' + "".join(f'{k} = "{v}"\n' for k, v in args.items())


def outbound(ran, direction="outbound"):
    return list(ran.db["calls"].rows_where("direction = ?", [direction], order_by="arrived_at"))


# --- the dial race --------------------------------------------------------------------------------

def test_agents_dialling_out_never_swallow_an_incoming_call(run_inline, caplog):
    # Four trunks, two agents dialling out every 3 s between taking queue calls, callers arriving
    # faster than the lines can carry: every caller who reached a line has a record of their own.
    dials = "".join(action(float(t), "dial", agent="A" if t % 6 == 0 else "B", number=CUSTOMER)
                    for t in range(0, 300, 3))
    scenario = ("[run]\nseconds = 300\ntrunks = 4\nseed = 3\n" + QUEUES
                + agent("A", answer_after=3.0, talk=8.0) + agent("B", answer_after=3.0, talk=8.0)
                + customer(answer_after=2.0, talk=5.0)
                + '[[traffic]]\nper_hour = 1400\nkeys = ["1"]\npatience = [20.0, 60.0]\ntalk = [5.0, 20.0]\n'
                + dials)
    with caplog.at_level(logging.ERROR):
        ran = run_inline(scenario)
    reached = [c for c in ran.report["calls"] if c["caller"]["ended_by"] != "busy"]
    assert len(reached) > 40
    without = [c for c in reached if c["call_id"] is None or c["disposition"] is None]
    assert not without, f"{len(without)} of {len(reached)} callers have no record"
    out = outbound(ran)
    assert out, "no outbound call was made"
    assert all(r["disposition"] and r["ended_at"] for r in ran.db["calls"].rows)
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


def test_glare_the_ringing_caller_keeps_the_line_and_the_customer_is_dialled_on_the_next(run_inline, caplog):
    # A dials at 5 s; their phone is picked up at 6 s, the moment the number is dialled. A caller
    # has just seized trunk1 from the exchange's side: the box has not heard them yet (their caller
    # ID burst comes before the first ring).
    scenario = ("[run]\nseconds = 40\ntrunks = 2\n" + QUEUES + agent("A", answer_after=1.0, login_at=0.0)
                + customer(answer_after=2.0, talk=10.0) + action(5.0, "dial", agent="A", number=CUSTOMER)
                + '[[callers]]\nat = 5.96\nnumber = "13800000001"\npatience = 20.0\n')
    with caplog.at_level(logging.INFO, logger="firmware.callcenter.legs"):
        ran = run_inline(scenario)
    assert any("trying another line" in r.getMessage() for r in caplog.records)   # it was glare
    caller = ran.call()
    row = ran.db["calls"].get(caller["call_id"])
    assert (row["channel"], row["number"]) == ("trunk1", "13800000001")
    assert row["disposition"] in ("abandoned", "ivr_hangup")
    (out,) = outbound(ran)
    assert (out["channel"], out["number"], out["agent_id"]) == ("trunk2", CUSTOMER, "A")
    assert (out["disposition"], out["hangup_by"]) == ("answered", "caller")


def test_a_fault_while_dialling_still_closes_the_call_and_frees_the_agent(run_inline, monkeypatch):
    real = SimDriver.dial

    def broken(self, channel, number):
        if number == CUSTOMER:
            raise RuntimeError("driver bug")
        return real(self, channel, number)
    monkeypatch.setattr(SimDriver, "dial", broken)
    ran = run_inline("[run]\nseconds = 30\ntrunks = 2\n" + QUEUES + agent("A", answer_after=1.0) + customer()
                     + action(5.0, "dial", agent="A", number=CUSTOMER))
    (out,) = outbound(ran)
    assert out["disposition"] == "failed" and out["hangup_by"] == "box"
    assert out["ended_at"] - out["arrived_at"] < 2.0          # at the fault, not when the box stopped
    states = [r["state"] for r in ran.db["agent_states"].rows_where("agent_id = 'A' AND reason IS NOT 'shutdown'", order_by="rowid")]
    assert states[-1] == "ready" and "talking" in states


# --- the agent hangs up while the number rings ----------------------------------------------------

def test_agent_hanging_up_while_the_number_rings_ends_the_call_not_reached(run_inline):
    ran = run_inline("[run]\nseconds = 40\ntrunks = 2\n" + QUEUES + agent("A", answer_after=1.0)
                     + customer(answer_after=20.0) + action(5.0, "dial", agent="A", number=CUSTOMER)
                     + action(10.0, "hangup", agent="A"))
    (out,) = outbound(ran)
    assert (out["disposition"], out["hangup_by"], out["connected_at"]) == ("unanswered", "agent", None)
    kinds = [k for k, _ in ran.events(out["id"])]
    assert "call:dial" in kinds and kinds[-1] == "call:hangup"




def test_callback_the_agent_hangs_up_on_while_dialling_is_retried_from_the_back_of_the_line(run_inline):
    # The caller asks for a callback; A logs in at 60 s, is rung, answers, the caller's phone rings
    # (it answers after 30 s) and A hangs up at 75 s. The caller was not reached: the request is tried
    # again 5 minutes later (README, callbacks) and then answered.
    asks = ('[[callers]]\nat = 1.0\nnumber = "13900000001"\nkeys = [[1.0, "1"], [8.0, "2"], [12.0, "1"]]\n'
            "patience = 200.0\ntalk = 15.0\ncallback_answer = 30.0\n")
    ran = run_inline("[run]\nseconds = 460\ntrunks = 2\n" + QUEUES + agent("A", answer_after=2.0, login_at=60.0)
                     + asks + action(75.0, "hangup", agent="A"), flow=CALLBACK_FLOW)
    assert ran.call()["disposition"] == "callback"
    (request,) = ran.db["callbacks"].rows
    assert (request["state"], request["attempts"], request["result"]) == ("done", 2, "answered")
    first, second = outbound(ran, "callback")
    assert (first["disposition"], first["hangup_by"], first["connected_at"]) == ("unanswered", "agent", None)
    assert (second["disposition"], second["agent_id"]) == ("answered", "A")
    assert second["arrived_at"] - first["ended_at"] >= 300.0
