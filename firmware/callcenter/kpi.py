"""Call-center figures from the records: per-queue service level and speed of answer, IVR node use.

Service level (docs/kpi.md; R15's target, site.toml [reports] service_level_s, default 20 s) = entries
answered within the target of entering the queue / (entries into the queue - short abandons): abandoned
and timed-out callers count against it, but a caller who rang off within the short-abandon threshold
([reports] short_abandon_s, default 5 s) neither helps nor hurts (variant (c), as the reports and the
live figures count it). ASA = mean wait of answered entries.
"""
from __future__ import annotations

import json

from firmware.callcenter.settings import SERVICE_LEVEL_S, SHORT_ABANDON_S


def queue_stats(db, since: float | None = None, until: float | None = None, service_level_s: float = SERVICE_LEVEL_S,
                short_abandon_s: float = SHORT_ABANDON_S) -> dict[str, dict]:
    where, params = _window(since, until)
    stats: dict[str, dict] = {}
    for row in db.query(f"SELECT kind, data FROM call_events WHERE kind LIKE 'queue:%' {where}", params):
        data = json.loads(row["data"] or "{}")
        q = data.get("queue")
        if not q:
            continue
        s = stats.setdefault(q, {"offered": 0, "answered": 0, "abandoned": 0, "short_abandoned": 0, "timeouts": 0,
                                 "exit_keys": 0, "full": 0, "answered_in_sl": 0, "wait_total": 0.0})
        kind = row["kind"]
        if kind == "queue:enter":
            s["offered"] += 1
        elif kind == "queue:connect":
            s["answered"] += 1
            s["wait_total"] += data["wait"]
            s["answered_in_sl"] += data["wait"] <= service_level_s
        elif kind == "queue:abandon":
            s["abandoned"] += 1
            s["short_abandoned"] += data.get("wait", float("inf")) <= short_abandon_s
        elif kind == "queue:timeout":
            s["timeouts"] += 1
        elif kind == "queue:exitkey":
            s["exit_keys"] += 1
        elif kind == "queue:full":
            s["full"] += 1
    for s in stats.values():
        counted = s["offered"] - s["short_abandoned"]
        s["service_level"] = round(s["answered_in_sl"] / counted, 4) if counted else None
        s["asa_s"] = round(s.pop("wait_total") / s["answered"], 2) if s["answered"] else None
        s["abandon_rate"] = round(s["abandoned"] / s["offered"], 4) if s["offered"] else None
    return stats


def ivr_node_stats(db, since: float | None = None, until: float | None = None) -> dict[str, dict]:
    """Per node: times entered, callers who hung up there (abandoned), and the rest (completed)."""
    where, params = _window(since, until)
    stats: dict[str, dict] = {}
    for row in db.query(f"SELECT data FROM call_events WHERE kind = 'ivr:node' {where}", params):
        node = json.loads(row["data"])["node"]
        stats.setdefault(node, {"entered": 0, "abandoned": 0})["entered"] += 1
    cwhere = where.replace("at", "arrived_at")
    for row in db.query(f"SELECT path FROM calls WHERE disposition = 'ivr_hangup' {cwhere}", params):
        path = json.loads(row["path"] or "[]")
        if path:
            stats.setdefault(path[-1], {"entered": 0, "abandoned": 0})["abandoned"] += 1
    for s in stats.values():
        s["completed"] = s["entered"] - s["abandoned"]
    return stats


def _window(since, until) -> tuple[str, list]:
    clauses, params = [], []
    if since is not None:
        clauses.append("at >= ?")
        params.append(since)
    if until is not None:
        clauses.append("at < ?")
        params.append(until)
    return ("AND " + " AND ".join(clauses)) if clauses else "", params
