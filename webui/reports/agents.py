"""The agents report: calls handled, talk, hold, wrap-up, AHT, not-ready time by reason, occupancy, transfers,
first-contact resolution and satisfaction, per agent (docs/kpi.md)."""
from __future__ import annotations

import collections
import sqlite3

from ..i18n import N_, gettext as _
from . import buckets
from .params import ReportParams
from .table import Chart, Column, Table

AGENT_COLUMNS = (
    Column("agent", N_("Agent"), "text", N_("The agent's name and id.")),
    Column("calls", N_("Calls"), "int", N_("Queue calls the agent answered, by the time they arrived.")),
    Column("talk", N_("Talk"), "duration", N_("Time talking with callers, hold excluded.")),
    Column("hold", N_("Hold"), "duration", N_("Time callers spent on hold.")),
    Column("wrapup", N_("Wrap-up"), "duration", N_("Time in wrap-up (after-call work) in the range.")),
    Column("aht", N_("AHT"), "duration", N_("Average handle time: (talk + hold + wrap-up) / calls.")),
    Column("not_ready", N_("Not ready"), "duration",
           N_("Time signed in but not ready, every reason; by reason in the next table.")),
    Column("logged_in", N_("Signed in"), "duration", N_("Time in any state but signed out.")),
    Column("occupancy", N_("Occupancy"), "percent",
           N_("Time ringing, talking and in wrap-up / time ready, ringing, talking and in wrap-up.")),
    Column("transfers", N_("Transfers"), "int", N_("Transfers the agent made of their calls.")),
    Column("fcr", N_("FCR"), "percent",
           N_("First-contact resolution: the agent's tickets resolved during their call / their tickets "
              "judged either way.")),
    Column("survey", N_("Survey score"), "number",
           N_("Mean of the callers' answers to the after-call survey (keys 1-5) on the agent's calls.")),
    Column("satisfaction", N_("Ticket satisfaction"), "number",
           N_("Mean satisfaction (1-5) the customers gave at the ticket callbacks of the agent's tickets.")),
    Column("quality", N_("Quality score"), "number",
           N_("Mean of the supervisors' quality evaluations (0-100) of the agent's calls in the range; a call's "
              "score is 100 × Σ(weight × points ÷ maximum) ÷ Σ weight over the quality form's criteria.")),
    Column("evaluations", N_("Evaluations"), "int", N_("Quality evaluations of the agent's calls in the range.")),
)
REASON_COLUMNS = (
    Column("agent", N_("Agent"), "text", N_("The agent's name and id.")),
    Column("reason", N_("Reason"), "text", N_("The reason the agent gave for not being ready.")),
    Column("time", N_("Time"), "duration", N_("Time not ready for this reason in the range.")),
    Column("share", N_("Share of signed-in time"), "percent", N_("Time for this reason / the agent's signed-in time.")),
)
PERIOD_COLUMNS = (
    Column("calls", N_("Calls"), "int", N_("Queue calls answered by the agents shown.")),
    Column("aht", N_("AHT"), "duration",
           N_("(Talk + hold) / calls, wrap-up left out: it is not tied to a period's calls.")),
)
BUSY_STATES = ("ringing", "talking", "wrapup")
WORKING_STATES = ("ready", *BUSY_STATES)


def _agents(db: sqlite3.Connection, p: ReportParams) -> dict[str, str]:
    """The agents the filters name, id -> "Name (id)": a queue or skill keeps the agents serving it."""
    clauses, args = [], []
    if p.agent:
        clauses.append("a.id = ?")
        args.append(p.agent)
    if p.queue:
        clauses.append("EXISTS (SELECT 1 FROM json_each(CASE WHEN json_valid(a.queues) THEN a.queues ELSE '[]' END)"
                       " WHERE value = ?)")
        args.append(p.queue)
    if p.skill:
        clauses.append("EXISTS (SELECT 1 FROM json_each(CASE WHEN json_valid(a.skills) THEN a.skills ELSE '{}' END)"
                       " WHERE key = ?)")
        args.append(p.skill)
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    found = {r[0]: (f"{r[1]} ({r[0]})" if r[1] else r[0])
             for r in db.execute(f"SELECT a.id, a.name FROM agents a{where} ORDER BY a.name, a.id", args)}
    if p.agent and p.agent not in found and not (p.queue or p.skill):
        found[p.agent] = p.agent   # an agent removed from the settings keeps their history
    return found


StateTimes = dict[str, dict[tuple[str, str], float]]


def state_times(db: sqlite3.Connection, p: ReportParams, agent_ids: list[str]) -> StateTimes:
    """Seconds each agent spent in each (state, reason) on the range's days: the closed states from
    agent_state_days (a trigger on agent_states keeps it, firmware/store/migrations.py m0014), and the
    state each agent is in now from its start, or the range's, to now, or the range's end."""
    end = min(p.end, max(p.now, p.start)) if p.now else p.end
    times: StateTimes = {a: collections.defaultdict(float) for a in agent_ids}
    if not agent_ids:
        return times
    marks = ",".join("?" * len(agent_ids))
    for agent, state, reason, seconds in db.execute(f"""
            SELECT agent_id, state, reason, total(seconds) FROM agent_state_days
            WHERE day >= ? AND day <= ? AND agent_id IN ({marks}) GROUP BY agent_id, state, reason""",
                                                    [p.date_from.isoformat(), p.date_to.isoformat(), *agent_ids]):
        times[agent][(state, reason)] += seconds
    for agent, state, reason, since in db.execute(
            f"SELECT agent_id, state, reason, at FROM agent_state_open WHERE agent_id IN ({marks})", agent_ids):
        if end > max(since, p.start):
            times[agent][(state, reason)] += end - max(since, p.start)
    return times


def report(db: sqlite3.Connection, p: ReportParams) -> list[Table]:
    agents = _agents(db, p)
    ids = list(agents)
    where, args = buckets.call_filter(p)
    calls = {r[0]: r[1:] for r in db.execute(f"""
        SELECT c.agent_id, count(*), sum(coalesce(c.talk, 0) - coalesce(c.hold, 0)), sum(coalesce(c.hold, 0)),
               sum(coalesce(c.transfers, 0))
        FROM calls c WHERE {where} AND c.connected_at IS NOT NULL AND c.queued_at IS NOT NULL
        GROUP BY c.agent_id""", args)}
    tickets = {r[0]: r[1:] for r in db.execute("""
        SELECT agent_id, sum(first_contact_resolution = 1), count(first_contact_resolution), avg(satisfaction)
        FROM tickets WHERE created_at >= ? AND created_at < ? GROUP BY agent_id""", [p.start, p.end])}
    surveys = {r[0]: r[1] for r in db.execute(f"""
        SELECT c.agent_id, avg(CAST(s.answer AS REAL)) FROM survey_answers s JOIN calls c ON c.id = s.call_id
        WHERE {where} AND s.survey NOT LIKE 'ticket:%' AND s.answer GLOB '[1-5]' GROUP BY c.agent_id""", args)}
    # docs/architecture.md §19: a call counts in the range it arrived in, whenever it was scored.
    quality = {r[0]: r[1:] for r in db.execute(f"""
        SELECT c.agent_id, avg(e.score), count(*) FROM evaluations e JOIN calls c ON c.id = e.call_id
        WHERE {where} GROUP BY c.agent_id""", args)}
    times = state_times(db, p, ids)
    rows: list[tuple] = []
    reason_rows: list[tuple] = []
    reasons: dict[str, float] = collections.defaultdict(float)
    for agent in ids:
        n, talk, hold, transfers = calls.get(agent, (0, 0.0, 0.0, 0))
        t = times[agent]
        by_state: dict[str, float] = collections.defaultdict(float)
        for (state, _reason), seconds in t.items():
            by_state[state] += seconds
        wrapup = by_state["wrapup"]
        logged_in = sum(v for k, v in by_state.items() if k != "logged_out")
        working = sum(by_state[s] for s in WORKING_STATES)
        busy = sum(by_state[s] for s in BUSY_STATES)
        fcr_yes, fcr_judged, satisfaction = tickets.get(agent, (0, 0, None))
        if not (n or logged_in or fcr_judged):
            continue
        rows.append((agents[agent], n, talk, hold, wrapup, (talk + hold + wrapup) / n if n else None,
                     by_state["not_ready"], logged_in, busy / working if working else None, transfers,
                     fcr_yes / fcr_judged if fcr_judged else None, surveys.get(agent), satisfaction,
                     *quality.get(agent, (None, 0))))
        for (state, reason), seconds in sorted(t.items()):
            if state == "not_ready" and seconds > 0:
                label = _(reason) if reason else _("No reason given")
                reason_rows.append((agents[agent], label, seconds, seconds / logged_in if logged_in else None))
                reasons[label] += seconds
    per_agent = Table("agents", N_("Agents"), AGENT_COLUMNS, rows,
                      charts=(Chart("bar", N_("Calls by agent"), "agent", ("calls",)),
                              Chart("bar", N_("Average handle time by agent"), "agent", ("aht",))))
    by_reason = Table("not_ready", N_("Not-ready time by reason"), REASON_COLUMNS, reason_rows)
    team = Table("reasons", N_("Not-ready time of all agents shown"),
                 (Column("reason", N_("Reason"), "text", N_("The reason the agent gave for not being ready.")),
                  Column("time", N_("Time"), "duration", N_("Time not ready for this reason, all agents shown."))),
                 sorted(reasons.items(), key=lambda item: -item[1]),
                 charts=(Chart("pie", N_("Not-ready time by reason"), "reason", ("time",)),))
    return [per_agent, by_reason, team, _periods(db, p, ids, where, args)]


def _periods(db: sqlite3.Connection, p: ReportParams, ids: list[str], where: str, args: list) -> Table:
    bucket = buckets.sql(p.group, "c.arrived_at")
    marks = ",".join("?" * len(ids)) or "NULL"
    rows = [(buckets.value(p.group, b), n, (handle / n) if n else None) for b, n, handle in db.execute(f"""
        SELECT {bucket} AS b, count(*), sum(coalesce(c.talk, 0)) FROM calls c
        WHERE {where} AND c.connected_at IS NOT NULL AND c.queued_at IS NOT NULL AND c.agent_id IN ({marks})
        GROUP BY b ORDER BY b""", [*args, *ids])]
    return Table("periods", N_("Agents' calls by period"), (buckets.column(p.group), *PERIOD_COLUMNS), rows,
                 charts=(Chart("line", N_("Calls answered"), "period", ("calls",)),))
