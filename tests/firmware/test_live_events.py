"""The engine's live events (docs/architecture.md §15): what a subscriber is told of a call's life,
in order, on the simulated board in fast time; and a subscriber that falls behind is cut off
without holding up the loop."""
import json
import socket
import threading
import time

import pytest

from firmware.core.control import ControlServer
from firmware.core.events import EventBus, Subscriber
from firmware.tools.scenario import ScenarioRun, load_scenario
from scenario_builder import action, agent, caller, flow, queue, run_section, scenario, supervisor

WRAPUP_S = 5.0


def box(tmp_path, *parts, flow_text=None):
    path = tmp_path / "s.toml"
    text = scenario(run_section(60), queue("sales", wrapup=WRAPUP_S), queue("service"), *parts)
    if flow_text is not None:
        (tmp_path / "flow.toml").write_text(flow_text)
        text = text.replace("[run]\n", '[run]\nflow = "flow.toml"\n', 1)
    path.write_text(text)
    return ScenarioRun(load_scenario(path), tmp_path / "state")


@pytest.fixture
def call_life(tmp_path):
    """One caller who keys 1 (sales), answered by agent A after 2 s, held 10 s into the call for 3 s,
    hung up by the caller after 20 s; every event a subscriber got from the start, and the run."""
    run = box(tmp_path, agent("A", skills={"sales": 5}, answer_after=2.0, talk=1000.0),
              caller(1.0, "13800000001", keys=[[1.0, "1"]], patience=1000.0, talk=20.0),
              action(14.0, "hold", agent="A"), action(17.0, "resume", agent="A"))
    sub = Subscriber(100_000)
    started = run.engine.command("events.subscribe", {"subscriber": sub})
    report = run.run()
    assert not [a for a in report["actions"] if "error" in a]
    return started, sub.take(0), run


def test_every_event_is_numbered_in_order_within_the_run(call_life):
    started, events, run = call_life
    assert started == {"run": run.engine.events.run, "seq": 0}
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert {e["run"] for e in events} == {started["run"]}
    assert all(e["at"] >= events[0]["at"] for e in events)


def test_a_calls_life_is_told_in_the_order_it_happens(call_life):
    _, events, _ = call_life
    told = [(e["type"], e.get("state")) for e in events if e["type"] in ("call", "agent", "offer")]
    # The agent's login comes first; then the caller's way through the box.
    expected = [("agent", "not_ready"), ("agent", "ready"),
                ("call", "ringing"), ("call", "ivr"), ("call", "queued"),
                ("agent", "ringing"), ("offer", None), ("call", "ringing"),
                ("agent", "talking"), ("call", "talking"),
                ("call", "held"), ("agent", "talking"), ("call", "talking"), ("agent", "talking"),
                ("agent", "wrapup"), ("call", "ended"), ("agent", "ready")]
    # Each step in this order (other events may come between them: the line's, the queue's).
    start = 0
    for step in expected:
        start = told.index(step, start) + 1


def test_the_offer_names_the_caller_their_way_through_the_ivr_and_comes_before_the_pickup(call_life):
    _, events, _ = call_life
    offer = next(e for e in events if e["type"] == "offer")
    assert offer["agent"] == "A" and offer["number"] == "13800000001" and offer["queue"] == "sales"
    assert offer["path"][-1] == "sales" and offer["digits"] == "1"
    assert offer["vip"] == 0 and offer["customer_id"] is None
    talking = next(e for e in events if e["type"] == "agent" and e["state"] == "talking")
    assert offer["seq"] < talking["seq"] and talking["at"] - offer["at"] == pytest.approx(2.0, abs=0.1)
    call = next(e for e in events if e["type"] == "call")
    assert offer["call"] == call["call"]


def test_secure_input_reaches_no_event_unmasked(tmp_path):
    """A card number typed in a secure collect before the queue: the offer's digits, the lines' digits
    heard and every other event carry it masked."""
    secure = flow("menu",
                  menu={"type": "menu", "prompts": ["main-menu"], "choices": {"5": "card"}, "on_fail": "bye"},
                  card={"type": "collect", "prompts": ["enter-number"], "var": "card", "min_digits": 6,
                        "max_digits": 6, "secure": True, "next": "sales", "on_fail": "bye"},
                  sales={"type": "queue", "queue": "sales"},
                  bye={"type": "hangup", "prompts": ["goodbye"]})
    run = box(tmp_path, agent("A", skills={"sales": 5}, answer_after=2.0, talk=1000.0),
              caller(1.0, "13800000001", keys=[[1.0, "5"], [3.0, "424242"]], patience=1000.0, talk=5.0),
              flow_text=secure)
    sub = Subscriber(100_000)
    run.engine.command("events.subscribe", {"subscriber": sub})
    run.run()
    events = sub.take(0)
    offer = next(e for e in events if e["type"] == "offer")
    assert offer["digits"] == "5******" and offer["path"] == ["menu", "card", "sales"]
    assert "424242" not in json.dumps(events)
    heard = [d["digit"] for e in events if e["type"] == "line" for d in e["digits"]]
    assert heard and set(heard) == {"5", "*"}


def test_a_supervisor_listening_in_is_told_with_the_mode_the_agent_and_the_call(tmp_path):
    run = box(tmp_path, agent("A", skills={"sales": 5}, answer_after=1.0, talk=1000.0),
              supervisor("S", answer_after=1.0),
              caller(1.0, "13800000001", keys=[[1.0, "1"]], patience=1000.0, talk=40.0),
              action(12.0, "monitor", supervisor="S", agent="A"), action(20.0, "whisper", supervisor="S", agent="A"),
              action(28.0, "stop", supervisor="S"))
    sub = Subscriber(100_000)
    run.engine.command("events.subscribe", {"subscriber": sub})
    report = run.run()
    assert not [a for a in report["actions"] if "error" in a]
    events = sub.take(0)
    call = next(e["call"] for e in events if e["type"] == "offer")
    told = [(e["mode"], e["agent"], e["call"]) for e in events if e["type"] == "supervisor"]
    # Rung first, then listening (monitor), then whispering, then free again.
    assert ("monitor", "A", call) in told and ("whisper", "A", call) in told
    assert told.index(("monitor", "A", call)) < told.index(("whisper", "A", call))
    assert told[-1] == (None, None, None)


def test_hold_is_told_on_the_call_and_on_the_agent(call_life):
    _, events, _ = call_life
    held = [e for e in events if e["type"] == "agent" and e["held"]]
    assert held and held[0]["call"] is not None
    call_held = next(e for e in events if e["type"] == "call" and e["state"] == "held")
    assert call_held["at"] - held[0]["at"] == pytest.approx(0.0, abs=0.03)


def test_wrapup_says_when_it_runs_out_and_the_agent_is_ready_then(call_life):
    _, events, _ = call_life
    wrapup = next(e for e in events if e["type"] == "agent" and e["state"] == "wrapup")
    assert wrapup["wrapup_until"] == pytest.approx(wrapup["since"] + WRAPUP_S)
    ready = next(e for e in events if e["type"] == "agent" and e["state"] == "ready" and e["seq"] > wrapup["seq"])
    assert ready["at"] == pytest.approx(wrapup["wrapup_until"], abs=0.03)
    ended = next(e for e in events if e["type"] == "call" and e["state"] == "ended")
    assert ended["disposition"] == "answered"


def test_queue_figures_follow_the_caller_once_per_tick(call_life):
    _, events, _ = call_life
    sales = [e for e in events if e["type"] == "queue" and e["queue"] == "sales"]
    waiting = next(e for e in sales if e["waiting"] == 1)
    assert waiting["offered"] == 1 and waiting["answered"] == 0 and waiting["target"] == 20
    answered = next(e for e in sales if e["answered"] == 1)
    # The caller waited while the agent's phone rang: 2 s until the pickup.
    assert answered["waiting"] == 0 and answered["asa"] == pytest.approx(2.0, abs=0.1)
    assert answered["service_level"] == 1.0
    # One event per queue per tick however often the queue changed in it.
    per_tick = [(e["at"], e["queue"]) for e in events if e["type"] == "queue"]
    assert len(per_tick) == len(set(per_tick))


def test_line_events_show_the_trunk_as_the_lines_page_does(call_life):
    _, events, run = call_life
    trunk = [e for e in events if e["type"] == "line" and e["name"] == "trunk1"]
    assert [e["state"] for e in trunk][:3] == ["ringing", "ivr", "queued"] or "ivr" in [e["state"] for e in trunk]
    assert trunk[-1]["state"] == "idle" and trunk[-1]["call_id"] is None
    assert set(trunk[0]) >= {"channel", "name", "kind", "state", "call_id", "number", "since", "counters", "test"}


def test_new_site_settings_are_told_so_that_pages_read_their_snapshot_again(tmp_path):
    run = box(tmp_path, agent("A", skills={"sales": 5}, answer_after=2.0, talk=1000.0))
    sub = Subscriber(100)
    run.engine.command("events.subscribe", {"subscriber": sub})
    run.center.apply_site(run.center.site)
    told = sub.take(0)
    run.engine.close()
    assert told[-1]["type"] == "site" and told[-1]["agents"] == ["A"] and told[-1]["queues"] == ["sales", "service"]


def test_nothing_is_built_while_nobody_subscribes(tmp_path):
    run = box(tmp_path, agent("A", skills={"sales": 5}, answer_after=2.0, talk=1000.0),
              caller(1.0, "13800000001", keys=[[1.0, "1"]], patience=1000.0, talk=5.0))
    run.run()
    assert run.engine.events.seq == 0


def test_status_names_the_last_event_it_includes(tmp_path):
    run = box(tmp_path, agent("A", skills={"sales": 5}, answer_after=2.0, talk=1000.0))
    sub = Subscriber(100)
    run.engine.command("events.subscribe", {"subscriber": sub})
    run.engine.command("agent.login", {"agent": "A"})
    status = run.engine.command("status", {})
    told = sub.take(0)
    run.engine.close()
    assert status["events"] == {"run": run.engine.events.run, "seq": told[-1]["seq"]}


# --- the control socket's side ---------------------------------------------------------------------
@pytest.fixture
def control(tmp_path):
    """A control server whose loop stand-in answers events.subscribe on a bus of 50 events a subscriber."""
    server = ControlServer(tmp_path / "control.sock")
    bus = server.events = EventBus(time.time, limit=50)
    stop = threading.Event()

    def loop():
        while not stop.is_set():
            try:
                cmd, args, fut = server.requests.get(timeout=0.05)
            except Exception:
                continue
            fut.set_running_or_notify_cancel()
            fut.set_result(bus.subscribe(args["subscriber"]))
    thread = threading.Thread(target=loop, daemon=True)
    server.start()
    thread.start()
    yield server, bus
    stop.set()
    server.close()
    thread.join(2)


def subscribe(path):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(10)
    sock.connect(str(path))
    sock.sendall(b'{"id": 1, "cmd": "events.subscribe"}\n')
    lines = sock.makefile("rb")
    return sock, lines, json.loads(lines.readline())


def test_a_subscription_answers_then_streams_events_as_json_lines(control):
    server, bus = control
    sock, lines, answer = subscribe(server.path)
    assert answer == {"id": 1, "ok": True, "result": {"run": bus.run, "seq": 0}}
    bus.publish("agent", {"agent": "1001", "state": "ready"})
    event = json.loads(lines.readline())
    assert event["seq"] == 1 and event["type"] == "agent" and event["agent"] == "1001" and event["run"] == bus.run
    sock.close()


def test_a_subscriber_that_stops_reading_is_cut_off_and_never_holds_up_the_loop(control):
    server, bus = control
    sock, lines, _ = subscribe(server.path)
    payload = {"text": "x" * 400}
    # Far more than the socket buffers and the subscriber's queue hold together, published while
    # nobody reads: a publish that waited for the reader would never return.
    for _ in range(20_000):
        bus.publish("line", dict(payload))
    assert not bus.subscribed
    got = [json.loads(raw) for raw in lines]
    assert got[-1]["type"] == "overflow"
    seqs = [e["seq"] for e in got[:-1]]
    assert seqs == list(range(1, len(seqs) + 1)) and len(seqs) < 20_000
    sock.close()
