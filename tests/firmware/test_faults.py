"""A fault in one call's handling ends that call as failed and never stops the box."""
from firmware.callcenter.ivr import IvrSession
from scenario_builder import agent, caller, run_section, scenario


def two_callers(first_keys):
    return scenario(
        run_section(60),
        agent("1", queues=["sales", "service"], answer_after=1.0, talk=10.0),
        caller(1.0, "5550001", keys=first_keys, patience=50.0, talk=5.0),
        caller(20.0, "5550002", keys=[[1.0, "2"]], patience=50.0, talk=5.0),
    )


def test_handler_fault_fails_only_that_call(run_inline, mocker):
    real = IvrSession.on_digit

    def flaky(self, digit):
        if self.call.number == "5550001":
            raise RuntimeError("simulated bug")
        return real(self, digit)

    mocker.patch.object(IvrSession, "on_digit", flaky)
    ran = run_inline(two_callers([[1.0, "1"]]))
    first, second = ran.call(0), ran.call(1)
    assert first["disposition"] == "failed" and first["hangup_by"] == "box"
    assert first["caller"]["ended_by"] == "box"
    assert second["disposition"] == "answered" and second["queue"] == "service"


def test_timer_fault_fails_the_call_it_belongs_to(run_inline, mocker):
    def broken(self):
        raise RuntimeError("timer bug")

    mocker.patch.object(IvrSession, "_read_timeout", broken)
    ran = run_inline(two_callers([]))
    first, second = ran.call(0), ran.call(1)
    assert first["disposition"] == "failed"
    assert second["disposition"] == "answered"
