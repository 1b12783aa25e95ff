"""A small scripted day for the reports' tests (2025-03-10, local time): ten inbound calls and one outbound,
two agents' state changes, survey answers and three tickets, each figure of which the tests work out by
hand (docs/kpi.md)."""
from __future__ import annotations

import datetime as dt
import json
import time

from firmware.store import open_db

DAY = dt.date(2025, 3, 10)
QUEUE_PATH = ["welcome", "menu", "q_sales"]


def at(hh: int, mm: int, ss: float = 0.0, day: dt.date = DAY) -> float:
    """Epoch seconds of a local time on `day`."""
    return time.mktime(day.timetuple()) + hh * 3600 + mm * 60 + ss


def _call(cid: str, arrived: float, *, queued: float | None = None, wait: float | None = None,
          agent: str | None = None, talk: float | None = None, hold: float = 0.0, transfers: int = 0,
          disposition: str = "answered", path: list[str] = QUEUE_PATH, direction: str = "inbound", queue: str | None = "sales",
          number: str = "02161234567") -> dict:
    connected = queued + wait if agent and queued is not None and wait is not None else None
    ended = (connected + talk) if connected is not None and talk is not None else (
        queued + wait if queued is not None and wait is not None else arrived + 30)
    return {"id": cid, "direction": direction, "channel": "trunk-1", "number": number, "arrived_at": arrived,
            "answered_at": arrived + 1, "queue": queue if queued is not None or disposition == "overflow" else None,
            "queued_at": queued, "agent_id": agent, "connected_at": connected, "ended_at": ended,
            "path": json.dumps(path), "disposition": disposition, "hangup_by": "caller",
            "wait": wait, "talk": talk, "hold": hold, "transfers": transfers, "digits": "1"}


def calls() -> list[dict]:
    return [
        # 09:00 hour: answered in 5 s (A, 300 s connected of which 60 on hold), answered in 30 s (B, one
        # transfer), a short abandon (3 s), an abandon after 40 s.
        _call("c1", at(9, 0), queued=at(9, 0, 10), wait=5, agent="1001", talk=300, hold=60),
        _call("c2", at(9, 10), queued=at(9, 10, 10), wait=30, agent="1002", talk=200, transfers=1),
        _call("c3", at(9, 20), queued=at(9, 20, 10), wait=3, disposition="abandoned"),
        _call("c4", at(9, 30), queued=at(9, 30, 10), wait=40, disposition="abandoned"),
        # 10:00 hour: answered in 15 s (A, 100 s), timed out at 60 s and left a voicemail, asked for a
        # callback after 20 s; an IVR hang-up in the menu, a self-service call, a queue-full overflow.
        _call("c5", at(10, 5), queued=at(10, 5, 5), wait=15, agent="1001", talk=100),
        _call("c6", at(10, 15), queued=at(10, 15, 10), wait=60, disposition="voicemail"),
        _call("c9", at(10, 40), queued=at(10, 40, 10), wait=20, disposition="callback"),
        _call("c7", at(10, 20), disposition="ivr_hangup", path=["welcome", "menu"], queue=None),
        _call("c8", at(10, 25), disposition="completed", path=["welcome", "menu", "balance"], queue=None),
        _call("c10", at(10, 50), disposition="overflow"),
        # An agent's call out: in the details, in no inbound figure.
        _call("c11", at(11, 30), disposition="answered", direction="outbound", path=[], queue=None),
    ]


def events() -> list[dict]:
    return [
        {"id": "c6-e1", "call_id": "c6", "at": at(10, 16, 10), "kind": "queue:timeout",
         "data": json.dumps({"queue": "sales", "position": 1, "wait": 60})},
        {"id": "c10-e1", "call_id": "c10", "at": at(10, 50, 8), "kind": "queue:full",
         "data": json.dumps({"queue": "sales", "waiting": 8})},
    ]


def agent_states() -> list[dict]:
    a = [(at(8, 0), "ready", None), (at(9, 0, 15), "talking", None), (at(9, 5, 15), "wrapup", None),
         (at(9, 6, 15), "ready", None), (at(9, 30), "not_ready", "Lunch"), (at(10, 0), "ready", None),
         (at(10, 5, 20), "talking", None), (at(10, 7), "wrapup", None), (at(10, 7, 30), "ready", None),
         (at(12, 0), "logged_out", None)]
    # B went into a meeting the evening before: the day starts with that state.
    b = [(at(20, 0, day=DAY - dt.timedelta(days=1)), "not_ready", "Meeting"), (at(9, 0), "ready", None),
         (at(9, 10, 40), "talking", None), (at(9, 14), "wrapup", None), (at(9, 14, 20), "ready", None),
         (at(11, 0), "logged_out", None)]
    return [{"id": f"{agent}-{n:02d}", "agent_id": agent, "state": state, "reason": reason, "at": when}
            for agent, changes in (("1001", a), ("1002", b)) for n, (when, state, reason) in enumerate(changes)]


def surveys() -> list[dict]:
    return [{"id": "s1", "call_id": "c1", "survey": "after_call", "question": "q", "answer": "4", "at": at(9, 6)},
            {"id": "s2", "call_id": "c5", "survey": "after_call", "question": "q", "answer": "2", "at": at(10, 8)},
            {"id": "s3", "call_id": "c2", "survey": "after_call", "question": "q", "answer": "5", "at": at(9, 15)},
            # A ticket callback's answer counts as the ticket's satisfaction, not as a call survey.
            {"id": "s4", "call_id": "c1", "survey": "ticket:t1", "question": "q", "answer": "1", "at": at(12, 0)}]


def tickets() -> list[dict]:
    base = {"priority": "normal", "version": 1, "created_by": "amy", "number": "02161234567",
            "number_key": "02161234567"}
    return [
        {**base, "id": "t1", "call_id": "c1", "category": "complaint", "department": "complaints", "state": "closed",
         "title": "Refund not received", "description": "客户投诉退款延误", "agent_id": "1001",
         "created_at": at(9, 5), "updated_at": at(12, 0), "due_at": at(17, 0), "resolved_at": at(9, 6),
         "closed_at": at(12, 0), "first_contact_resolution": 1, "satisfaction": 5},
        {**base, "id": "t2", "call_id": "c5", "category": "complaint", "department": "complaints",
         "state": "resolved", "title": "Rude agent", "description": "", "agent_id": "1001",
         "created_at": at(10, 0), "updated_at": at(12, 0), "due_at": at(18, 0), "resolved_at": at(12, 0),
         "first_contact_resolution": 0, "satisfaction": 3, "repeat_of": "t1"},
        {**base, "id": "t3", "call_id": "c2", "category": "consultation", "department": "service",
         "state": "dispatched", "title": "Address change", "description": "客户要求更改地址", "agent_id": "1002",
         "created_at": at(11, 0), "updated_at": at(11, 1), "due_at": at(13, 0)},
    ]


def ticket_events() -> list[dict]:
    return [{"id": "t1-e1", "ticket_id": "t1", "at": at(9, 5, 30), "kind": "transition", "to_state": "dispatched"},
            {"id": "t3-e1", "ticket_id": "t3", "at": at(11, 1), "kind": "transition", "to_state": "dispatched"}]


def fill(db_path) -> None:
    """Write the day into the database at `db_path` (migrated on opening)."""
    db = open_db(db_path)
    try:
        db["queues"].insert_all([{"id": "sales", "strategy": "longest_idle", "skill": "sales", "updated_at": 0.0},
                                 {"id": "service", "strategy": "round_robin", "skill": "care", "updated_at": 0.0}])
        db["agents"].insert_all([{"id": "1001", "name": "Ana Costa", "station": "s1", "queues": '["sales"]',
                                  "skills": '{"sales": 3}', "updated_at": 0.0},
                                 {"id": "1002", "name": "Ben Okafor", "station": "s2", "queues": '["sales", "service"]',
                                  "skills": '{"sales": 2, "care": 1}', "updated_at": 0.0}])
        db["calls"].insert_all(calls())
        db["call_events"].insert_all(events())
        db["agent_states"].insert_all(agent_states())
        db["survey_answers"].insert_all(surveys())
        db["tickets"].insert_all(tickets())
        db["ticket_events"].insert_all(ticket_events())
    finally:
        db.conn.close()
