"""The control commands' argument table: every refusal names the command, the argument and the rule."""
import re

import pytest
import scenario_builder as sb

from firmware.core.commands import COMMANDS, CommandError, check
from firmware.tools.scenario import ScenarioRun, load_scenario

SCENARIO = sb.scenario(sb.run_section(60), sb.agent("1001", name="Li Wei", queues=["sales"]), sb.supervisor("S"))


@pytest.mark.parametrize("cmd, args, message", [
    # What a careless script sends: a lone surrogate (JSON "\ud800"), a number, an object.
    ("agent.not_ready", {"agent": "1001", "reason": "\ud800"},
     r"agent.not_ready: reason must be a string of 1-64 printable characters, got '\\ud800'"),
    ("agent.not_ready", {"agent": "1001", "reason": 100000000000000000000000},
     r"agent.not_ready: reason must be a string of 1-64 printable characters, got 100000000000000000000000"),
    ("agent.not_ready", {"agent": "1001", "reason": {"a": 1}}, r"reason must be .*, got an object$"),
    ("agent.not_ready", {"agent": "1001", "reason": ""}, r"reason must be a string of 1-64"),
    ("agent.not_ready", {"agent": "1001", "reason": "x" * 65}, r"reason must be a string of 1-64 .*, got 'xxx"),
    # A newline would split the queue_log line the reason is written to.
    ("agent.not_ready", {"agent": "1001", "reason": "lunch\n1|NONE|sales|1001|UNPAUSE"}, r"printable"),
    ("agent.login", {"agent": 1001}, r"agent.login: agent must be a string of 1-64 printable characters, got 1001"),
    ("agent.login", {"agent": ["1001"]}, r"agent must be .*, got a list$"),
    ("agent.login", {"agent": None}, r"agent must be .*, got None"),
    ("agent.login", {}, r"agent.login: bad arguments: agent is required \(arguments: agent\)"),
    ("agent.ready", {"who": "1001"}, r"agent.ready: bad arguments: unknown argument 'who' \(arguments: agent\)"),
    ("status", {"verbose": True}, r"status: bad arguments: unknown argument 'verbose' \(no arguments\)"),
    ("agent.transfer", {"agent": "1001", "to": "queue:sales", "blind": "yes"},
     r"agent.transfer: blind must be true or false, got 'yes'"),
    ("agent.pause_recording", {"agent": "1001", "paused": 1}, r"paused must be true or false, got 1"),
    ("agent.dial", {"agent": "1001", "number": "1" * 21}, r"agent.dial: number must be a string of 1-20"),
    ("agent.wrapup", {"agent": "1001", "code": "c" * 41}, r"code must be a string of 1-40"),
    ("supervisor.monitor", {"supervisor": "S", "agent": "1001", "mode": 7}, r"mode must be a string"),
    ("line.test", {"channel": True}, r"line.test: channel must be an integer from 0 to 1023, got True"),
    ("line.test", {"channel": 10 ** 30}, r"channel must be an integer from 0 to 1023"),
    ("line.test", {"channel": 1.0}, r"channel must be an integer"),
    ("line.test", {"channel": 1, "seconds": float("nan")}, r"line.test: seconds must be a number from 0.5 to 60, got nan"),
    ("line.test", {"channel": 1, "seconds": 1e308}, r"seconds must be a number from 0.5 to 60"),
    ("line.test_result", {"job": "f" * 10000}, r"job must be a string of 1-64 .*\.\.\.$"),
    ("agent.dance", {}, r"unknown command 'agent.dance' \(commands: agent.conference, agent.dial,"),
    ("\udcff" * 1000, {}, r"^unknown command '\\udcff\\udcff.*\.\.\. \(commands"),
])
def test_bad_arguments_are_refused_naming_command_argument_and_rule(cmd, args, message):
    with pytest.raises(CommandError, match=message) as refused:
        check(cmd, args)
    # The refusal goes back over the socket as JSON and into a log line: short and encodable.
    assert len(str(refused.value)) < 1000
    str(refused.value).encode("utf-8")


@pytest.mark.parametrize("cmd, args", [
    ("status", {}),
    ("agent.not_ready", {"agent": "1001"}),
    ("agent.not_ready", {"agent": "1001", "reason": "午饭"}),
    ("agent.transfer", {"agent": "1001", "to": "agent:1002", "blind": False}),
    ("agent.dial", {"agent": "1001", "number": "0215559876"}),
    ("agent.hold", {"agent": "1001", "call": "3f2b9c"}),
    ("supervisor.monitor", {"supervisor": "S", "agent": "1001", "mode": "whisper"}),
    ("line.test", {"channel": 0}),
    ("line.test", {"channel": 3, "seconds": 2}),
    ("line.test", {"channel": 3, "seconds": 0.5}),
])
def test_good_arguments_pass(cmd, args):
    check(cmd, args)


def test_the_table_names_exactly_the_commands_the_engine_runs(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(SCENARIO)
    # With the load test's virtual lines, as every box has them (its loadtest.* commands come with them).
    run = ScenarioRun(load_scenario(path), tmp_path / "state", virtual_lines=True)
    try:
        with pytest.raises(Exception, match=r"unknown command") as refused:
            run.engine.command("no.such", {})
    finally:
        run.engine.close()
    engine_names = re.search(r"\(commands: (.*)\)$", str(refused.value)).group(1).split(", ")
    assert engine_names == sorted(COMMANDS)
