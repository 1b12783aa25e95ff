"""Site settings changed while the box runs (README, "Site settings changed while the box runs"): the
file is read and checked whole off the loop; every bad field is named at once; an invalid file is
refused whole and the running settings stay; `branchline ctl reload-site` on a running engine."""
from __future__ import annotations

import datetime as dt

import pytest

from firmware import cli
from firmware.callcenter.settings import AgentConfig, QueueConfig
from firmware.config.site_reload import SiteReloader
from firmware.core.control import ControlClient, ControlError
from scenario_builder import agent, caller, run_section, scenario, table

from callcenter.fakes import FakeBox, make_center

FLOW = """
[flow]
start = "sales"
[nodes.sales]
type = "queue"
queue = "sales"
"""
GOOD = """
[box]
id = "branch-001"
tones = "cn"

[[queue]]
name = "sales"
ring_timeout = 20.0

[[queue]]
name = "service"

[[agent]]
id = "1001"
name = "Li Wei"
station = "station1"
skills = { sales = 6 }
"""


@pytest.fixture
def box(tmp_path):
    """A running call center over fake services, its site file and the reloader the control socket uses."""
    fake = FakeBox(trunks=2, stations=2)
    center = make_center(fake, tmp_path, FLOW, queues=[QueueConfig("sales")],
                         agents=[AgentConfig("1001", "Li Wei", "station1", {"sales": 6})])
    path = tmp_path / "site.toml"
    path.write_text(GOOD)
    reloader = SiteReloader(path, tmp_path / "flows", center, fake.lines)
    return center, path, reloader


def reload(center, reloader) -> dict:
    """site.reload as the control socket runs it: the preparer off the loop, then the loop's command."""
    return center.commands()["site.reload"](**reloader.prepare_reload({}))


def test_a_valid_file_is_swapped_in_whole(box):
    center, _, reloader = box
    result = reload(center, reloader)
    assert result["queues"] == ["sales", "service"] and result["restart"] == []
    assert center.acd.queue("sales").cfg.ring_timeout == 20.0
    assert "service" in {q["name"] for q in center.status()["queues"]}


def test_validate_names_every_bad_field_and_applies_nothing(box):
    center, _, reloader = box
    text = GOOD.replace("ring_timeout = 20.0", "ring_timeout = 1.0").replace('"station1"', '"station9"')
    answer = center.commands()["site.validate"](**reloader.prepare_validate({"text": text}))
    assert answer["valid"] is False
    fields = {e["field"]: e["error"] for e in answer["errors"]}
    assert set(fields) == {"queue[0].ring_timeout", "agent[0].station"}
    assert "below the minimum 3.0" in fields["queue[0].ring_timeout"]
    assert "no station named 'station9'" in fields["agent[0].station"]
    assert center.acd.queue("sales").cfg.ring_timeout == 15.0 and "service" not in center.acd.queues


def test_an_invalid_file_is_refused_whole_and_the_running_settings_stay(box):
    center, path, reloader = box
    path.write_text(GOOD.replace("ring_timeout = 20.0", 'ring_timeout = 20.0\nstrategy = "fastest"'))
    with pytest.raises(ControlError, match=r"running settings stay: queue\[0\].strategy: 'fastest' is not one of"):
        reload(center, reloader)
    assert center.acd.queue("sales").cfg.ring_timeout == 15.0 and "service" not in center.acd.queues
    path.write_text("[[queue]\nname = ")
    with pytest.raises(ControlError, match="not valid TOML"):
        reload(center, reloader)


def test_removing_a_queue_the_running_flow_sends_callers_to_is_refused(box):
    center, path, reloader = box
    path.write_text(GOOD.replace('name = "sales"\nring_timeout = 20.0', 'name = "desk"')
                    .replace("sales = 6", "desk = 6"))
    answer = reloader.prepare_validate({})
    assert answer["errors"][0]["field"] == "queue"
    assert "sends callers to queue 'sales', which the settings remove" in answer["errors"][0]["error"]
    with pytest.raises(ControlError, match="queue 'sales'"):
        reload(center, reloader)
    assert set(center.acd.queues) == {"sales"}


def test_a_queues_survey_and_the_trunk_groups_apply_on_reload_and_a_missing_survey_is_refused(box, tmp_path):
    center, path, reloader = box
    groups = ('\n[[trunk_group]]\nname = "rental"\nlines = ["trunk1"]\ncap = 1\noverflow = "node:nowhere"\n')
    path.write_text(GOOD.replace("ring_timeout = 20.0", 'ring_timeout = 20.0\nsurvey = "csat"\nsurvey_after = true')
                    + groups)
    fields = {e["field"]: e["error"] for e in reloader.prepare_validate({})["errors"]}
    assert "cannot be read" in fields["queue[0].survey"]
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "csat.toml").write_text(
        '[flow]\nstart = "rate"\n[nodes.rate]\ntype = "survey"\nname = "csat"\nquestion = "q"\n'
        'prompts = ["survey-rate"]\nnext = "bye"\n[nodes.bye]\ntype = "hangup"\n')
    fields = {e["field"]: e["error"] for e in reloader.prepare_validate({})["errors"]}
    assert set(fields) == {"trunk_group[0].overflow"} and "has no node 'nowhere'" in fields["trunk_group[0].overflow"]
    with pytest.raises(ControlError, match="running settings stay"):
        reload(center, reloader)
    assert center.surveys == {} and center.trunk_groups.groups == {}
    path.write_text(path.read_text().replace('overflow = "node:nowhere"', 'overflow = "hangup"'))
    reload(center, reloader)
    assert set(center.surveys) == {"csat"} and center.trunk_groups.cfg("rental").cap == 1
    assert center.status()["surveys"] == [{"name": "csat", "queues": ["sales"]}]


def test_what_only_a_restart_changes_is_applied_at_the_next_start_and_said_so(box):
    center, path, reloader = box
    path.write_text(GOOD.replace('tones = "cn"', 'tones = "etsi"\nlanguage = "zh"'))
    assert reloader.prepare_validate({})["restart"] == ("box.language",)
    result = reload(center, reloader)
    assert result["restart"] == ["box.language"] and result["queues"] == ["sales", "service"]
    assert center.site.tones.name == "etsi"              # the tone plan is swapped in (no number dialled)


LIVE = scenario(
    run_section(3600),
    agent("1001", name="Li Wei", queues=["sales"], login_at=3000.0),
    caller(0.5, "13800138000", keys=[[1.0, "1"]], patience=3000.0),
)


def test_ctl_reload_site_on_a_running_engine_keeps_the_waiting_caller(live_box, capsys):
    import time

    run, state = live_box(LIVE)
    client = ControlClient(state / "control.sock")
    deadline = time.monotonic() + 10
    while not any(c["state"] == "queued" for c in client.call("status")["calls"]):
        assert time.monotonic() < deadline, "the caller never reached the queue"
        time.sleep(0.05)
    site = state / "config" / "site.toml"
    site.parent.mkdir(parents=True, exist_ok=True)
    site.write_text(table("[box]", {"tones": "etsi"}) + table("[[queue]]", {"name": "sales", "ring_timeout": 9.0})
                    + table("[[queue]]", {"name": "service"})
                    + table("[[agent]]", {"id": "1001", "name": "Li Wei", "station": "station1",
                                          "skills": {"sales": 5}})
                    + table("[[agent]]", {"id": "1002", "name": "Wang Fang", "phone": "13800138001",
                                          "skills": {"service": 5}}))
    assert cli.main(["ctl", "--state", str(state), "reload-site"]) == 0
    assert "site reloaded: queues sales, service; agents 1001, 1002" in capsys.readouterr().out
    status = client.call("status")
    assert [c["state"] for c in status["calls"]] == ["queued"]
    assert {a["id"] for a in status["agents"]} == {"1001", "1002"}
    assert run.center.acd.queue("sales").cfg.ring_timeout == 9.0
    # Nobody is dialling out: the lines are heard by the new network's tones from the next tick.
    deadline = time.monotonic() + 5
    while run.engine.listener.detectors.status()["plan"] != "etsi":
        assert time.monotonic() < deadline, "the engine never took the new tone plan"
        time.sleep(0.05)
    assert run.engine.tones.name == "etsi"
    site.write_text(site.read_text().replace("ring_timeout = 9.0", "ring_timeout = 0.5"))
    assert cli.main(["ctl", "--state", str(state), "reload-site"]) == 1
    assert "queue[0].ring_timeout: 0.5 is below the minimum 3.0" in capsys.readouterr().err
    assert run.center.acd.queue("sales").cfg.ring_timeout == 9.0


def test_overflow_targets_must_name_another_queue_a_node_of_the_flow_and_prompts_the_box_has(box):
    center, _, reloader = box
    text = GOOD.replace("ring_timeout = 20.0", 'ring_timeout = 20.0\non_full = "queue:sales"\n'
                        'on_timeout = "node:voicemail"\noverflow_prompts = ["no-such-prompt"]')
    errors = {e["field"]: e["error"] for e in reloader.prepare_validate({"text": text})["errors"]}
    assert "'sales' is not another queue" in errors["queue[0].on_full"]
    text = text.replace('on_full = "queue:sales"', 'on_full = "queue:service"')
    errors = {e["field"]: e["error"] for e in reloader.prepare_validate({"text": text})["errors"]}
    assert errors == {"queue[0].on_timeout": "flow flow has no node 'voicemail'",
                      "queue[0].overflow_prompts": "no prompt named 'no-such-prompt'"}
    text = text.replace("node:voicemail", "node:sales").replace("no-such-prompt", "goodbye")
    assert reloader.prepare_validate({"text": text})["errors"] == []
    bad = GOOD.replace("ring_timeout = 20.0", 'on_full = "voicemail"')
    errors = {e["field"]: e["error"] for e in reloader.prepare_validate({"text": bad})["errors"]}
    assert errors == {"queue[0].on_full": "expected queue:<name>, node:<name> or hangup, got 'voicemail'"}


SCHEDULE = """
[[schedule]]
name = "office"
days = ["mon", "tue", "wed", "thu", "fri"]
open = "08:30"
close = "17:30"
holidays = ["2026-10-01"]
"""


def test_schedules_are_read_and_each_bad_key_named(box):
    center, path, reloader = box
    path.write_text(GOOD + SCHEDULE)
    reload(center, reloader)
    assert center.site.schedules["office"].is_open(dt.datetime(2026, 9, 30, 9, 0))
    assert not center.site.schedules["office"].is_open(dt.datetime(2026, 10, 1, 9, 0))
    bad = (SCHEDULE.replace('"fri"]', '"fri", "fry"]') + SCHEDULE.replace('"office"', '"late"')
           .replace('"08:30"', '"18:00"') + SCHEDULE.replace('"office"', '"x"').replace("2026-10-01", "2026-13-01"))
    errors = {e["field"]: e["error"] for e in reloader.prepare_validate({"text": GOOD + bad})["errors"]}
    assert errors == {"schedule[0].days": "'fry' is not a day (mon, tue, wed, thu, fri, sat, sun)",
                      "schedule[1].close": "closes at 17:30, not after it opens at 18:00",
                      "schedule[2].holidays": "'2026-13-01' is not a date YYYY-MM-DD"}


def test_a_flow_naming_a_schedule_the_settings_lack_is_refused(box, tmp_path):
    center, path, reloader = box
    flow = tmp_path / "hours.toml"
    flow.write_text('[flow]\nstart = "h"\n[nodes.h]\ntype = "hours"\nschedule = "office"\nnext = "q"\n'
                    'closed = "q"\n[nodes.q]\ntype = "queue"\nqueue = "sales"\n')
    from firmware.callcenter.flows import load_flow
    center.flow = load_flow(flow, set(center.prompts.names()), {"sales"})
    path.write_text(GOOD)
    errors = reloader.prepare_validate({})["errors"]
    assert [(e["field"], e["error"]) for e in errors] == [
        ("schedule", "flow main: node 'h': schedule: no schedule named 'office' in the site settings (schedules: none)")]
    # The reason for the web to translate: a template and its params, the flow's problem nested in them.
    assert errors[0]["template"] == "flow %(flow)s: %(problem)s"
    problem = errors[0]["params"]["problem"]
    assert problem["template"] == "node %(node)s: %(field)s: %(reason)s"
    assert problem["params"]["reason"]["template"] == ("no schedule named %(schedule)s in the site settings "
                                                       "(schedules: %(schedules)s)")
    with pytest.raises(ControlError, match="no schedule named 'office'"):
        center.load_flow({})
    path.write_text(GOOD + SCHEDULE)
    assert reloader.prepare_validate({})["errors"] == []


def test_a_site_text_sent_to_be_checked_is_bounded_and_plain_text():
    from firmware.core.commands import MAX_SITE_TEXT, CommandError, check

    check("site.validate", {"text": GOOD.replace("Li Wei", "李伟")})          # lines, tabs and Chinese are text
    check("site.validate", {})                                               # the file on disk
    with pytest.raises(CommandError, match="site.validate: text must be a text of at most 20000"):
        check("site.validate", {"text": "#" * (MAX_SITE_TEXT + 1)})
    with pytest.raises(CommandError, match="text must be"):
        check("site.validate", {"text": "id = \"\x00\""})
    with pytest.raises(CommandError, match="site.reload: bad arguments: unknown argument"):
        check("site.reload", {"text": GOOD})
