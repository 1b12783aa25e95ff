"""The box on the simulated E1 span (board sim-e1): a span alarm mid-call ends the calls with their
records, the lines refuse new calls, the span comes back by itself; the technician's status shows the
span's state, alarms and counters; the box calls out through R2."""
import sqlite3

from drivers.e1_exchange import Subscriber
from drivers.sim import SimCaller
from firmware.config.boards import build_board, load_profile
from firmware.config.box import StatePaths, load_site, open_engine


def box(tmp_path):
    board = build_board(load_profile("sim-e1"))
    paths = StatePaths(tmp_path / "state")
    engine = open_engine(paths, board, load_site(paths), clock="fast", control=False, seed=3)
    span = board.drivers[0]
    return engine, span, span.simulator, paths


def run_until(engine, cond, limit):
    end = engine.clock.seconds + limit
    engine.run(until=lambda: cond() or engine.clock.seconds >= end)
    assert cond()


def test_a_span_alarm_mid_call_ends_the_calls_with_their_records_and_the_span_comes_back(tmp_path):
    engine, span, exchange, paths = box(tmp_path)
    try:
        run_until(engine, lambda: span.r2.chans[0].rx == "10", 1.0)     # the far end's idle has come
        for i in range(3):
            exchange.place_call(SimCaller(f"1390000000{i}", patience=600.0, talk=600.0), "8001")
        run_until(engine, lambda: len(engine.app.calls) == 3 and all(
            span.r2.chans[c].state.value == "in-answered" for c in range(3)), 15.0)
        exchange.set_defects({"LOS"})
        run_until(engine, lambda: not engine.app.calls, 5.0)
        lines = engine.status()["lines"]
        assert all(ln["state"] == "alarm" and "red" in ln["alarm"] for ln in lines[:30]), lines[0]
        assert lines[0]["span"]["alarms"] == ["red"] and lines[0]["span"]["defects"] == ["LOS"]
        assert lines[30]["span"] is None                     # a handset has no span
        # New calls are refused while the span is down: the exchange finds no circuit.
        assert exchange.place_call(SimCaller("13900000009"), "8001") is False
        exchange.set_defects(set())
        run_until(engine, lambda: span.span_status()["state"] == "up", 5.1)   # DAHDI's 5 s settle time
        assert engine.status()["lines"][0]["state"] == "idle"
        exchange.place_call(SimCaller("13900000010", patience=600.0, talk=600.0), "8001")
        run_until(engine, lambda: len(engine.app.calls) == 1, 10.0)
    finally:
        engine.close()
    db = sqlite3.connect(paths.db)
    rows = db.execute("select number, disposition, ended_at from calls order by arrived_at").fetchall()
    assert [(n, d) for n, d, _ in rows[:3]] == [(f"1390000000{i}", "failed") for i in range(3)]
    assert all(ended is not None for _, _, ended in rows[:3])


def test_the_box_dials_out_through_r2(tmp_path):
    engine, span, exchange, paths = box(tmp_path)
    try:
        run_until(engine, lambda: span.r2.chans[0].rx == "10", 1.0)     # the far end's idle has come
        exchange.directory["55501234"] = Subscriber(answer_after=1.0, talk=2.0)
        span.dial(0, "55501234")
        run_until(engine, lambda: span.r2.chans[0].state.value == "out-answered", 10.0)
        assert exchange.results[-1] == {"direction": "out", "dnis": "55501234", "ani": "01088886666",
                                        "outcome": "offered"}
        run_until(engine, lambda: span.r2.chans[0].state.value == "idle", 10.0)
    finally:
        engine.close()
