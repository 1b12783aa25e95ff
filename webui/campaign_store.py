"""Campaigns as the web writes them: a definition checked field by field, saved with optimistic
concurrency (`version`, like tickets), contacts added all at once or not at all, and the do-not-call list.

The engine's dialer owns a campaign's `state` and a contact's progress (docs/architecture.md §22);
the web only inserts contacts and edits a definition while it is draft or paused."""
from __future__ import annotations

import json
import re
import sqlite3
import uuid
from collections.abc import Mapping
from pathlib import Path

from firmware.store.phones import PhoneNumberError, normalize

from .customer_cards import DATE_FIELDS
from .i18n import N_
from .i18n import gettext as _
from .write_store import WriteStore

MODES = {"preview": N_("Preview (the agent sees the card, then dials)"),
         "progressive": N_("Progressive (dial for a free agent)"),
         "message": N_("Message (play a recorded message)")}
PURPOSES = {"sales": N_("Sales"), "notification": N_("Notification"), "reminder": N_("Reminder"),
            "greeting": N_("Greeting"), "survey": N_("Survey"), "satisfaction": N_("Satisfaction call")}
STATES = {"draft": N_("draft"), "running": N_("running"), "paused": N_("paused"), "stopped": N_("stopped"),
          "finished": N_("finished")}
CONTACT_STATES = {"pending": N_("pending"), "dialing": N_("dialling"), "preview": N_("with an agent"),
                  "done": N_("done"), "failed": N_("failed"), "dnc": N_("do not call"),
                  "cancelled": N_("cancelled")}
# firmware/callcenter/legs.py Outcome (the web may not import the call center): what an attempt became.
OUTCOMES = {"answered_human": N_("answered by a person"), "answered_machine": N_("answering machine"),
            "answered_unsure": N_("answered (unsure)"), "fax": N_("fax"), "busy": N_("busy"),
            "congestion": N_("congestion"), "unobtainable": N_("unobtainable"), "no_answer": N_("no answer"),
            "failed": N_("failed")}
# The definition may change only while nothing dials it.
EDITABLE_STATES = ("draft", "paused")
KEYS = "0123456789*#"
MAX_NAME = 100
MAX_PROMPT = 64
# A contact is tried at most 10 times: more is harassment (and China's MIIT rules on marketing calls
# ask that a refusing number is not called again).
MAX_ATTEMPTS = 10
# A retry waits from a minute (an exchange's busy clears) to a week.
RETRY_S = (60, 7 * 86400)
# The box carries 30 calls at once (firmware/config/loadtest.py's carry_lines).
MAX_LINES = 30
PACE = (0.1, 30.0)
MAX_HOLIDAYS = 60
DEFAULT_RETRY = {"busy": 600, "no_answer": 3600, "congestion": 300, "answered_machine": 7200}
DEFAULT_HOURS = {"days": [1, 2, 3, 4, 5], "start": "09:00", "end": "18:00"}
TIME_RE = re.compile(r"([01]\d|2[0-3]):[0-5]\d")
DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
MAX_DATA = 20      # extra columns of a contact kept in `data`
MAX_VALUE = 200
COLUMNS = ("id, name, mode, purpose, state, queue, prompt, confirm_key, agent_key, survey, hours, skip_holidays, "
           "max_attempts, retry, max_lines, pace, created_by, created_at, updated_at, started_at, ended_at, version")
JSON_FIELDS = ("survey", "hours", "retry")


class CampaignError(ValueError):
    """A refused change; `problems` names each bad field, `status` is the HTTP status it answers with."""

    def __init__(self, message: str, status: int = 400, problems: dict[str, str] | None = None,
                 campaign: dict | None = None):
        super().__init__(message)
        self.status, self.problems, self.campaign = status, problems or {}, campaign


# --- the definition ---------------------------------------------------------------------------------------
def _int(value, lo: int, hi: int, field: str, problems: dict) -> int | None:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        number = None
    if number is None or isinstance(value, bool) or not lo <= number <= hi:
        problems[field] = _("a whole number from %(lo)d to %(hi)d") % {"lo": lo, "hi": hi}
        return None
    return number


def _key(value, field: str, problems: dict) -> str:
    text = str(value or "").strip()
    if text and (len(text) != 1 or text not in KEYS):
        problems[field] = _("one key: 0-9, * or #")
    return text


def _hours(value, problems: dict) -> dict:
    hours = value if isinstance(value, Mapping) else {}
    days = hours.get("days", [])
    if isinstance(days, str):
        days = [d for d in re.split(r"[,\s]+", days) if d]
    try:
        days = sorted({int(d) for d in days})
    except (TypeError, ValueError):
        days = []
    if not days or any(d < 1 or d > 7 for d in days):
        problems["days"] = _("at least one day, Monday 1 to Sunday 7 (ISO 8601)")
    start, end = str(hours.get("start", "")), str(hours.get("end", ""))
    for field, text in (("start", start), ("end", end)):
        if not TIME_RE.fullmatch(text):
            problems[field] = _("a time as HH:MM")
    if "start" not in problems and "end" not in problems and start >= end:
        problems["end"] = _("after the start")
    return {"days": days, "start": start, "end": end}


def _holidays(value, problems: dict) -> list[str]:
    items = value if isinstance(value, list) else [d for d in re.split(r"[,\s]+", str(value or "")) if d]
    dates = []
    for item in items:
        if not isinstance(item, str) or not DATE_RE.fullmatch(item):
            problems["holidays"] = _("dates as YYYY-MM-DD, separated by commas")
            return []
        dates.append(item)
    if len(dates) > MAX_HOLIDAYS:
        problems["holidays"] = _("at most %(n)d dates") % {"n": MAX_HOLIDAYS}
    return sorted(set(dates))


def _retry(value, problems: dict) -> dict[str, int]:
    if not isinstance(value, Mapping):
        problems["retry"] = _("seconds to wait before another attempt, per outcome")
        return {}
    retry = {}
    for outcome, seconds in value.items():
        if outcome not in OUTCOMES:
            problems["retry"] = _("%(outcome)s is not an outcome") % {"outcome": str(outcome)[:40]}
            continue
        if seconds in ("", None):
            continue
        got = _int(seconds, *RETRY_S, f"retry.{outcome}", problems)
        if got is not None:
            retry[outcome] = got
    return retry


def check_definition(data: Mapping, queues: set[str] | None, prompts: set[str] | None) -> dict:
    """The definition's columns from `data` (API JSON or the form read into the same shape), or
    CampaignError naming each bad field. `queues` and `prompts` are the engine's (None: the engine is
    not answering, and the dialer checks them again when the campaign starts)."""
    problems: dict[str, str] = {}
    name = str(data.get("name") or "").strip()
    if not name or len(name) > MAX_NAME or not name.isprintable():
        problems["name"] = _("1 to %(n)d printable characters") % {"n": MAX_NAME}
    mode = data.get("mode")
    if mode not in MODES:
        problems["mode"] = _("preview, progressive or message")
    purpose = data.get("purpose")
    if purpose not in PURPOSES:
        problems["purpose"] = _("one of: %(list)s") % {"list": ", ".join(PURPOSES)}
    queue = str(data.get("queue") or "").strip()
    prompt = str(data.get("prompt") or "").strip()
    confirm_key = _key(data.get("confirm_key"), "confirm_key", problems)
    agent_key = _key(data.get("agent_key"), "agent_key", problems)
    if confirm_key and confirm_key == agent_key:
        problems["agent_key"] = _("not the confirm key")
    # An agent takes the call in preview and progressive mode, and in message mode when a key reaches one.
    if (mode in ("preview", "progressive") or agent_key) and not queue:
        problems["queue"] = _("the queue whose agents take the calls")
    elif queue and queues is not None and queue not in queues:
        problems["queue"] = _("the engine has no queue %(name)s") % {"name": queue[:40]}
    if mode == "message" and not prompt:
        problems["prompt"] = _("the recorded message to play")
    elif prompt and (len(prompt) > MAX_PROMPT or (prompts is not None and prompt not in prompts)):
        problems["prompt"] = _("there is no prompt %(name)s") % {"name": prompt[:MAX_PROMPT]}
    survey = None
    survey_in = data.get("survey") or {}
    if isinstance(survey_in, Mapping) and (survey_in.get("prompt") or survey_in.get("keys")):
        question = str(survey_in.get("prompt") or "").strip()
        keys = str(survey_in.get("keys") or "").replace(" ", "")
        if not question or (prompts is not None and question not in prompts):
            problems["survey_prompt"] = _("there is no prompt %(name)s") % {"name": question[:MAX_PROMPT]}
        if not keys or any(k not in KEYS for k in keys) or len(set(keys)) != len(keys):
            problems["survey_keys"] = _("the keys taken as answers, each once, e.g. 12345")
        survey = {"prompt": question, "keys": keys}
    elif purpose in ("survey", "satisfaction"):
        problems["survey_prompt"] = _("a survey or satisfaction call asks a question")
    if survey is not None and mode != "message":
        problems["survey_prompt"] = _("only a message call asks a survey question")
    hours = _hours(data.get("hours") or {}, problems)
    hours["holidays"] = _holidays((data.get("hours") or {}).get("holidays", []) if isinstance(
        data.get("hours"), Mapping) else [], problems)
    definition = {
        "name": name, "mode": mode, "purpose": purpose, "queue": queue or None, "prompt": prompt or None,
        "confirm_key": confirm_key or None, "agent_key": agent_key or None, "survey": survey, "hours": hours,
        "skip_holidays": 1 if data.get("skip_holidays", True) not in (False, "0", 0, "") else 0,
        "max_attempts": _int(data.get("max_attempts", 3), 1, MAX_ATTEMPTS, "max_attempts", problems),
        "retry": _retry(data.get("retry", DEFAULT_RETRY), problems),
        "max_lines": _int(data.get("max_lines", 2), 1, MAX_LINES, "max_lines", problems),
        "pace": _pace(data.get("pace", 1.0), problems),
    }
    if problems:
        raise CampaignError(_("The campaign has mistakes; see each field."), 400, problems)
    return definition


def _pace(value, problems: dict) -> float | None:
    try:
        pace = float(str(value).strip())
    except (TypeError, ValueError):
        pace = float("nan")
    if isinstance(value, bool) or not PACE[0] <= pace <= PACE[1]:
        problems["pace"] = _("a number from %(lo)g to %(hi)g") % {"lo": PACE[0], "hi": PACE[1]}
        return None
    return pace


def _stored(definition: dict) -> dict:
    return {k: json.dumps(v, ensure_ascii=False) if k in JSON_FIELDS and v is not None else v
            for k, v in definition.items()}


def _row(cur: sqlite3.Cursor, row: tuple) -> dict:
    campaign = dict(zip([c[0] for c in cur.description], row))
    for field in JSON_FIELDS:
        campaign[field] = json.loads(campaign[field]) if campaign.get(field) else None
    campaign["skip_holidays"] = bool(campaign["skip_holidays"])
    return campaign


def get_campaign(db: sqlite3.Connection, campaign_id: str) -> dict | None:
    cur = db.execute(f"SELECT {COLUMNS} FROM campaigns WHERE id = ?", [campaign_id])
    row = cur.fetchone()
    return None if row is None else _row(cur, row)


def list_campaigns(db: sqlite3.Connection) -> list[dict]:
    """Every campaign, newest first, each with its contacts counted by state."""
    cur = db.execute(f"SELECT {COLUMNS} FROM campaigns ORDER BY created_at DESC")
    campaigns = [_row(cur, row) for row in cur.fetchall()]
    counts: dict[str, dict[str, int]] = {}
    for campaign_id, state, n in db.execute(
            "SELECT campaign_id, state, COUNT(*) FROM campaign_contacts GROUP BY campaign_id, state"):
        counts.setdefault(campaign_id, {})[state] = n
    for c in campaigns:
        c["counts"] = counts.get(c["id"], {})
    return campaigns


def counts(db: sqlite3.Connection, campaign_id: str) -> dict[str, dict[str, int]]:
    """A campaign's contacts counted by state, by last outcome and by result."""
    out: dict[str, dict[str, int]] = {"states": {}, "outcomes": {}, "results": {}}
    for column, key in (("state", "states"), ("outcome", "outcomes"), ("result", "results")):
        for value, n in db.execute(f"SELECT {column}, COUNT(*) FROM campaign_contacts WHERE campaign_id = ?"
                                   f" AND {column} IS NOT NULL GROUP BY {column}", [campaign_id]):
            out[key][value] = n
    return out


CONTACT_COLUMNS = ("id, number, customer_id, name, data, state, attempts, next_at, outcome, result, call_id, agent_id,"
                   " updated_at")
PER_PAGE = 50


def list_contacts(db: sqlite3.Connection, campaign_id: str, state: str = "", outcome: str = "", query: str = "",
                  page: int = 1, per_page: int = PER_PAGE) -> tuple[list[dict], int]:
    """A page of a campaign's contacts in the order they were added, filtered by state, outcome and a
    piece of the number or name."""
    where, args = ["campaign_id = ?"], [campaign_id]
    if state:
        where.append("state = ?")
        args.append(state)
    if outcome:
        where.append("outcome = ?")
        args.append(outcome)
    if query:
        where.append("(instr(number, ?) > 0 OR instr(name, ?) > 0)")
        args += [query, query]
    sql = " AND ".join(where)
    total = db.execute(f"SELECT COUNT(*) FROM campaign_contacts WHERE {sql}", args).fetchone()[0]
    cur = db.execute(f"SELECT {CONTACT_COLUMNS} FROM campaign_contacts WHERE {sql} ORDER BY rowid"
                     " LIMIT ? OFFSET ?", [*args, per_page, (page - 1) * per_page])
    names = [c[0] for c in cur.description]
    rows = [dict(zip(names, r)) for r in cur.fetchall()]
    for r in rows:
        r["data"] = json.loads(r["data"]) if r["data"] else {}
    return rows, total


def all_contacts(db: sqlite3.Connection, campaign_id: str) -> sqlite3.Cursor:
    return db.execute(f"SELECT {CONTACT_COLUMNS} FROM campaign_contacts WHERE campaign_id = ? ORDER BY rowid",
                      [campaign_id])


# --- contacts ---------------------------------------------------------------------------------------------
def check_contacts(db: sqlite3.Connection, campaign_id: str, rows: list[dict], region: str) -> list[dict]:
    """Each wanted contact ({"number", "name", "customer_id"?, "data"?}) checked: {"line", "number",
    "name", "data", "customer_id", "problem", "dnc"}. A number that does not parse, one given twice or
    already in the campaign is a problem; a number on the do-not-call list is marked (it is added as
    `dnc`, never dialled)."""
    known = {n for (n,) in db.execute("SELECT number FROM campaign_contacts WHERE campaign_id = ?"
                                      " AND state != 'cancelled'", [campaign_id])}
    blocked = {n for (n,) in db.execute("SELECT id FROM dnc_numbers")}
    seen: dict[str, int] = {}
    out = []
    for i, row in enumerate(rows):
        line = row.get("line", i + 1)
        raw = str(row.get("number") or "")
        problem, number = "", raw.strip()
        try:
            number = normalize(raw, region)
        except PhoneNumberError:
            problem = _("%(number)s is not a phone number of %(region)s or in international form") % {
                "number": raw[:40], "region": region}
        name = str(row.get("name") or "").strip()[:MAX_NAME]
        data = {str(k)[:MAX_NAME]: str(v)[:MAX_VALUE] for k, v in list((row.get("data") or {}).items())[:MAX_DATA]}
        if not problem and number in seen:
            problem = _("%(number)s is also on line %(line)d") % {"number": number, "line": seen[number]}
        elif not problem and number in known:
            problem = _("%(number)s is already in this campaign") % {"number": number}
        seen.setdefault(number, line)
        out.append({"line": line, "number": number, "name": name, "data": data,
                    "customer_id": row.get("customer_id") or None, "problem": problem, "dnc": number in blocked})
    return out


def _version(value) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


class CampaignStore(WriteStore):
    """The web's writes to campaigns, contacts and the do-not-call list, each in one transaction."""

    def __init__(self, db_path: str | Path, clock):
        super().__init__(db_path, clock, "campaign-store")

    def create(self, user: dict, definition: dict) -> dict:
        campaign_id = uuid.uuid4().hex

        def insert(conn, now):
            conn.execute("INSERT INTO campaigns (id, name, mode, purpose, state, queue, prompt, confirm_key,"
                         " agent_key, survey, hours, skip_holidays, max_attempts, retry, max_lines, pace, created_by,"
                         " created_at, updated_at, version) VALUES (:id, :name, :mode, :purpose, 'draft', :queue,"
                         " :prompt, :confirm_key, :agent_key, :survey, :hours, :skip_holidays, :max_attempts, :retry,"
                         " :max_lines, :pace, :by, :now, :now, 1)",
                         {**_stored(definition), "id": campaign_id, "by": user["username"], "now": now})
            return get_campaign(conn, campaign_id)
        return self.write(insert)

    def update(self, campaign_id: str, definition: dict, version) -> tuple[dict, dict]:
        """(the campaign before, after); refused unless draft or paused and `version` is the stored one."""
        def change(conn, now):
            before = get_campaign(conn, campaign_id)
            if before is None:
                raise CampaignError(_("no campaign with id %(id)s") % {"id": campaign_id}, 404)
            if before["state"] not in EDITABLE_STATES:
                raise CampaignError(_("a %(state)s campaign cannot be changed; pause it first")
                                    % {"state": _(STATES[before["state"]])}, 409, campaign=before)
            if _version(version) != before["version"]:
                raise CampaignError(_("someone changed this campaign meanwhile; here it is as it is now"), 409,
                                    campaign=before)
            sets = ", ".join(f"{k} = :{k}" for k in definition)
            conn.execute(f"UPDATE campaigns SET {sets}, updated_at = :now, version = version + 1 WHERE id = :id",
                         {**_stored(definition), "now": now, "id": campaign_id})
            return before, get_campaign(conn, campaign_id)
        return self.write(change)

    def add_contacts(self, campaign_id: str, checked: list[dict]) -> int:
        """Insert every checked contact, or none: a problem anywhere refuses the lot (checked again here,
        in the transaction that writes, against contacts added meanwhile)."""
        def insert(conn, now):
            if get_campaign(conn, campaign_id) is None:
                raise CampaignError(_("no campaign with id %(id)s") % {"id": campaign_id}, 404)
            region_free = [{"line": r["line"], "number": r["number"], "name": r["name"], "data": r["data"],
                            "customer_id": r["customer_id"]} for r in checked]
            again = check_contacts(conn, campaign_id, region_free, "ZZ")
            bad = [r for r in checked if r["problem"]] + [r for r in again if r["problem"]]
            if bad or not checked:
                raise CampaignError(_("nothing was added: %(n)d rows have problems") % {"n": len(bad)}
                                    if bad else _("there are no contacts to add"), 409 if bad else 400)
            conn.executemany(
                "INSERT INTO campaign_contacts (id, campaign_id, number, customer_id, name, data, state, attempts,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)",
                [(uuid.uuid4().hex, campaign_id, r["number"], r["customer_id"], r["name"] or None,
                  json.dumps(r["data"], ensure_ascii=False) if r["data"] else None,
                  "dnc" if r["dnc"] else "pending", now) for r in again])
            return len(again)
        return self.write(insert)

    # --- reminder rules ------------------------------------------------------------------------------
    def add_rule(self, campaign_id: str, field: object, days_before: object, user: dict) -> dict:
        """The rule "`days_before` days before the customer's `field`": each day the customers whose date is that
        near become contacts of the campaign, once per date (webui/care_calls.py Reminders)."""
        problems: dict[str, str] = {}
        if field not in DATE_FIELDS:
            problems["field"] = _("one of: %(list)s") % {"list": ", ".join(DATE_FIELDS)}
        days = _int(days_before, 0, MAX_DAYS_BEFORE, "days_before", problems)
        if problems:
            raise CampaignError(_("The rule has mistakes; see each field."), 400, problems)
        rule_id = uuid.uuid4().hex

        def insert(conn, now):
            campaign = get_campaign(conn, campaign_id)
            if campaign is None:
                raise CampaignError(_("no campaign with id %(id)s") % {"id": campaign_id}, 404)
            if campaign["mode"] != "message":
                raise CampaignError(_("a reminder rule feeds a message campaign"), 409)
            conn.execute("INSERT INTO campaign_rules (id, campaign_id, field, days_before, enabled, created_by,"
                         " created_at, updated_at) VALUES (?, ?, ?, ?, 1, ?, ?, ?)",
                         [rule_id, campaign_id, field, days, user["username"], now, now])
            return next(r for r in list_rules(conn, campaign_id) if r["id"] == rule_id)
        return self.write(insert)

    def remove_rule(self, campaign_id: str, rule_id: str) -> bool:
        def remove(conn, now):
            return conn.execute("DELETE FROM campaign_rules WHERE id = ? AND campaign_id = ?",
                                [rule_id, campaign_id]).rowcount > 0
        return self.write(remove)

    # --- the do-not-call list -------------------------------------------------------------------------
    def add_dnc(self, numbers: list[str], reason: str, user: dict) -> int:
        """List the (already normalized) numbers; their pending contacts in every campaign become `dnc`
        at once, so no campaign dials a number after its owner asked not to be called."""
        def add(conn, now):
            added = 0
            for number in numbers:
                added += conn.execute("INSERT OR IGNORE INTO dnc_numbers (id, reason, added_by, added_at)"
                                      " VALUES (?, ?, ?, ?)", [number, reason or None, user["username"], now]).rowcount
                conn.execute("UPDATE campaign_contacts SET state = 'dnc', updated_at = ? WHERE number = ?"
                             " AND state = 'pending'", [now, number])
            return added
        return self.write(add)

    def remove_dnc(self, number: str) -> bool:
        def remove(conn, now):
            return conn.execute("DELETE FROM dnc_numbers WHERE id = ?", [number]).rowcount > 0
        return self.write(remove)


# Reminder rules look ahead at most a year: a warranty is called about weeks before it ends, not years.
MAX_DAYS_BEFORE = 365


def list_rules(db: sqlite3.Connection, campaign_id: str) -> list[dict]:
    cur = db.execute("SELECT id, campaign_id, field, days_before, enabled, created_by, created_at FROM campaign_rules"
                     " WHERE campaign_id = ? ORDER BY created_at", [campaign_id])
    names = [c[0] for c in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def dnc_list(db: sqlite3.Connection, query: str = "", limit: int = 500) -> list[dict]:
    cur = db.execute("SELECT id AS number, reason, added_by, added_at FROM dnc_numbers"
                     " WHERE instr(id, ?) > 0 ORDER BY added_at DESC LIMIT ?", [query, limit])
    names = [c[0] for c in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]

