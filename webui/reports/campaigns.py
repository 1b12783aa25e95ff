"""Outbound campaigns over a date range (docs/kpi.md "Campaigns"): per campaign, its contacts, the attempts
dialled in the range, who was reached, confirmed the message, answered the survey and talked to an agent,
and the attempts' outcomes."""
from __future__ import annotations

import json
import sqlite3

from ..campaign_store import OUTCOMES
from ..i18n import N_, gettext as _
from .params import ReportParams
from .table import Chart, Column, Table

# firmware/callcenter/legs.py Outcome: a person (or an answer the screening could not tell) was reached.
REACHED = ("answered_human", "answered_unsure")

CAMPAIGN_COLUMNS = (
    Column("campaign", N_("Campaign"), "text", N_("The campaign's name.")),
    Column("mode", N_("Mode"), "text", N_("preview, progressive or message.")),
    Column("contacts", N_("Contacts"), "int",
           N_("Contacts in the campaign (cancelled ones left out), whenever added.")),
    Column("attempts", N_("Attempts"), "int", N_("Calls the dialer placed for the campaign in the range.")),
    Column("reached", N_("Reached"), "int",
           N_("Contacts whose last attempt in the range was answered by a person (or could not be told apart).")),
    Column("reached_share", N_("Reached share"), "percent", N_("Reached / contacts with an attempt in the range.")),
    Column("confirmed", N_("Confirmed"), "int", N_("Contacts who pressed the message's confirm key.")),
    Column("survey_answers", N_("Survey answers"), "int", N_("Contacts whose key was one of the survey's answers.")),
    Column("survey_mean", N_("Mean answer"), "number", N_("The mean of the survey answers that are digits (1-5).")),
    Column("agent_connects", N_("Agent connects"), "int", N_("Attempts in the range an agent talked on.")),
)
OUTCOME_COLUMNS = (
    Column("outcome", N_("Outcome"), "text", N_("What the last attempt of a contact became (call progress).")),
    Column("contacts", N_("Contacts"), "int", N_("Contacts whose last attempt, in the range, ended so.")),
)


def report(db: sqlite3.Connection, p: ReportParams) -> list[Table]:
    start, end = p.start, p.end
    rows = []
    outcomes: dict[str, int] = {}
    for cid, name, mode, confirm_key, survey in db.execute(
            "SELECT id, name, mode, confirm_key, survey FROM campaigns ORDER BY created_at"):
        keys = (json.loads(survey) or {}).get("keys", "") if survey else ""
        contacts = db.execute("SELECT COUNT(*) FROM campaign_contacts WHERE campaign_id = ? AND state != 'cancelled'",
                              [cid]).fetchone()[0]
        attempts, connects = db.execute(
            "SELECT COUNT(*), COUNT(connected_at) FROM calls WHERE campaign_id = ? AND arrived_at >= ?"
            " AND arrived_at < ?", [cid, start, end]).fetchone()
        tried = reached = confirmed = answered = 0
        scores: list[int] = []
        for outcome, result in db.execute(
                "SELECT outcome, result FROM campaign_contacts WHERE campaign_id = ? AND attempts > 0"
                " AND updated_at >= ? AND updated_at < ?", [cid, start, end]):
            tried += 1
            reached += outcome in REACHED
            if outcome:
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
            if result and confirm_key and result == confirm_key:
                confirmed += 1
            if result and keys and result in keys:
                answered += 1
                if result.isdigit():
                    scores.append(int(result))
        if not (contacts or attempts):
            continue
        rows.append((name, mode, contacts, attempts, reached, reached / tried if tried else None, confirmed, answered,
                     sum(scores) / len(scores) if scores else None, connects))
    return [
        Table("campaigns", N_("Campaigns"), CAMPAIGN_COLUMNS, rows,
              charts=(Chart("bar", N_("Attempts and contacts reached by campaign"), "campaign",
                            ("attempts", "reached", "confirmed")),),
              note=N_("A contact counts once, by the last attempt it had in the range.")),
        Table("campaign_outcomes", N_("Campaign calls by outcome"), OUTCOME_COLUMNS,
              [(_(OUTCOMES.get(o, o)), n) for o, n in sorted(outcomes.items(), key=lambda kv: -kv[1])],
              charts=(Chart("pie", N_("Campaign calls by outcome"), "outcome", ("contacts",)),)),
    ]
