"""Per-queue recording policy, and a caller whose agent's line fails mid-call is not stranded."""
from scenario_builder import action, agent, caller, queue, run_section, scenario


def policy(recording):
    return scenario(
        run_section(120, drain=30.0),
        queue("sales", recording=recording, wrapup=0.0), queue("service"),
        agent("A", skills={"sales": 5}, answer_after=1.0, talk=1000.0),
        agent("B", skills={"sales": 5}, login_at=5.0, answer_after=1.0, talk=30.0),
        caller(1.0, "13800000001", keys=[[1.0, "1"]], patience=1000.0, talk=100.0),
    )


def test_none_policy_records_nothing_and_on_demand_records_from_the_agents_request(run_inline):
    ran = run_inline(policy("none"))
    assert ran.call()["disposition"] == "answered" and ran.call()["recording"] is None
    ran = run_inline(policy("on_demand") + action(20.0, "record", agent="A") + action(50.0, "hangup", agent="A"))
    call = ran.call()
    # Recorded from 20 s to the hang-up at 50 s.
    assert abs(call["recording_s"] - 30.0) < 0.1


def test_agent_line_failure_puts_the_caller_back_first_in_line(run_inline, mocker):
    from firmware.tools.scenario import ScenarioRun
    real = ScenarioRun.__init__

    def with_fault(self, *a, **k):
        real(self, *a, **k)
        # Agent A's station (channel after the 30 trunks) fails 20 s into the run.
        self.engine.later(20.0, self.sim.alarm, 30)
    mocker.patch.object(ScenarioRun, "__init__", with_fault)
    ran = run_inline(policy("all"))
    call = ran.call()
    kinds = [k for k, _ in ran.events(call["call_id"])]
    assert "agent:lost" in kinds and kinds.count("queue:connect") == 2
    assert call["agent"] == "B" and call["disposition"] == "answered"
    states = list(ran.db["agent_states"].rows_where("agent_id = 'A' AND reason IS NOT 'shutdown'", order_by="rowid"))
    assert (states[-1]["state"], states[-1]["reason"]) == ("not_ready", "line alarm")
