"""The IVR report: per node entered / completed / abandoned, the paths callers take, and self-service
completion (docs/kpi.md)."""
from __future__ import annotations

import json
import sqlite3

from ..i18n import N_
from . import buckets
from .params import ReportParams
from .table import Chart, Column, Table

# The paths table lists the most travelled; the rest are summed in its last row.
TOP_PATHS = 20
NODE_COLUMNS = (
    Column("node", N_("Node"), "text", N_("A node of the IVR flow.")),
    Column("entered", N_("Entered"), "int", N_("Times callers reached the node.")),
    Column("completed", N_("Completed"), "int", N_("Times callers went on from the node (or the flow ended there).")),
    Column("abandoned", N_("Abandoned"), "int", N_("Callers who hung up in the node, before reaching a queue.")),
    Column("abandon_rate", N_("Abandon rate"), "percent", N_("Abandoned / entered.")),
)
PATH_COLUMNS = (
    Column("path", N_("Path"), "text", N_("The nodes a call went through, in order.")),
    Column("calls", N_("Calls"), "int", N_("Calls that took this path.")),
    Column("share", N_("Share"), "percent", N_("Calls on this path / calls that entered the IVR.")),
    Column("answered", N_("Answered"), "int", N_("Of them, answered by an agent.")),
    Column("ivr_hangup", N_("Hung up in IVR"), "int", N_("Of them, hung up before reaching a queue.")),
    Column("self_service", N_("Completed in IVR"), "int", N_("Of them, ended by the flow itself (self-service).")),
)
SELF_COLUMNS = (
    Column("ivr_calls", N_("IVR calls"), "int", N_("Inbound calls that entered the IVR.")),
    Column("self_service", N_("Completed in IVR"), "int",
           N_("Calls the flow ended itself (goodbye after self-service), with no agent and no hang-up.")),
    Column("to_queue", N_("To a queue"), "int", N_("IVR calls that went on to a queue.")),
    Column("ivr_hangup", N_("Hung up in IVR"), "int", N_("IVR calls whose caller hung up in the IVR.")),
    Column("self_service_rate", N_("Self-service completion"), "percent",
           N_("Completed in IVR / IVR calls. Hang-ups are not counted as served (the containment caveat).")),
)


def _nodes(raw: str | None) -> list[str]:
    try:
        nodes = json.loads(raw or "[]")
    except ValueError:
        return []
    return [str(n) for n in nodes] if isinstance(nodes, list) else []


def report(db: sqlite3.Connection, p: ReportParams) -> list[Table]:
    where, args = buckets.call_filter(p)
    entered: dict[str, int] = {}
    abandoned: dict[str, int] = {}
    paths: list[tuple[str, int, int, int, int]] = []
    ivr_calls = 0
    # One row per distinct path: a month of calls takes few (a flow has few ways through it).
    for raw, n, answered, hangups, completed in db.execute(f"""
            SELECT c.path, count(*), sum(c.connected_at IS NOT NULL), sum(c.disposition = 'ivr_hangup'),
                   sum(c.disposition = 'completed')
            FROM calls c WHERE {where} AND c.path IS NOT NULL AND c.path NOT IN ('', '[]')
            GROUP BY c.path""", args):
        nodes = _nodes(raw)
        if not nodes:
            continue
        ivr_calls += n
        for node in nodes:
            entered[node] = entered.get(node, 0) + n
        if hangups:
            abandoned[nodes[-1]] = abandoned.get(nodes[-1], 0) + hangups
        paths.append((" › ".join(nodes), n, answered, hangups, completed))
    node_rows = [(node, count, count - abandoned.get(node, 0), abandoned.get(node, 0),
                  abandoned.get(node, 0) / count) for node, count in sorted(entered.items(), key=lambda kv: -kv[1])]
    paths.sort(key=lambda row: -row[1])
    top, rest = paths[:TOP_PATHS], paths[TOP_PATHS:]
    path_rows = [(path, n, n / ivr_calls, a, h, c) for path, n, a, h, c in top]
    if rest:
        n = sum(r[1] for r in rest)
        path_rows.append((f"({len(rest)} …)", n, n / ivr_calls, sum(r[2] for r in rest), sum(r[3] for r in rest),
                          sum(r[4] for r in rest)))
    bucket = buckets.sql(p.group, "c.arrived_at")
    period_rows = [(buckets.value(p.group, b), n, done, queued, hangups, done / n if n else None)
                   for b, n, done, queued, hangups in db.execute(f"""
        SELECT {bucket} AS b, count(*), sum(c.disposition = 'completed'), count(c.queued_at),
               sum(c.disposition = 'ivr_hangup')
        FROM calls c WHERE {where} AND c.path IS NOT NULL AND c.path NOT IN ('', '[]')
        GROUP BY b ORDER BY b""", args)]
    return [
        Table("nodes", N_("IVR nodes"), NODE_COLUMNS, node_rows,
              charts=(Chart("bar", N_("Callers by node"), "node", ("entered", "abandoned")),)),
        Table("paths", N_("Paths callers take"), PATH_COLUMNS, path_rows,
              charts=(Chart("pie", N_("Paths callers take"), "path", ("calls",)),)),
        Table("self_service", N_("Self-service by period"), (buckets.column(p.group), *SELF_COLUMNS), period_rows,
              charts=(Chart("line", N_("Self-service completion"), "period", ("self_service_rate",)),)),
    ]
