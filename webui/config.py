"""The admin's configuration pages and API for the site settings (config/site.toml): the box and its
lines, queues, agents, schedules (business hours and holidays) and supervisors, each validated field by
field and applied to the running engine without a restart.

A save reads the file anew, refuses a change based on a version no longer on disk, has the engine check
the whole new file (`site.validate`: the web loads no numpy, so the engine's reader is the one judge),
writes it atomically keeping the previous generations (webui/site_file.py), then asks the engine to
swap it in (`site.reload`); if the engine refuses, the previous file is put back. The pages and the API
share every step; the API carries the version as an ETag and takes it back in If-Match.
"""
from __future__ import annotations

import functools
import json
import math
import re
from dataclasses import dataclass
from typing import Callable

from bottle import Bottle, HTTPError, HTTPResponse, redirect, request, response

from firmware.config.messaging import SECURITY
from firmware.config.site_keys import CALLER_ID_SCHEMES, LANGUAGES, RECORDING, STRATEGIES, plan_names

from .auth import requires
from .engine import CommandRefused, Engine, EngineUnavailable
from .i18n import engine_text
from .i18n import gettext as _
from .site_file import SiteFile, SiteFileError, StaleVersion

CONFIG_ROLES = ("admin",)
BOOL = ("true", "false")
# An item's id in a URL: queue names, agent and supervisor ids (firmware/core/commands.py MAX_ID).
ID_RE = re.compile(r"[A-Za-z0-9_.-]{1,64}")
# "sales=5, service=7" or "30:3, 60:1" as a form field: a few dozen entries at most.
MAX_ENTRIES = 50


def N_(message: str) -> str:
    """Marks a message for the catalogue (Babel extracts N_ by default); the templates translate it
    when a page shows it, in the reader's language."""
    return message


@dataclass(frozen=True)
class Field:
    key: str
    label: str
    kind: str = "text"            # text | int | float | choice | bool | levels | steps | list | mapping
    hint: str = ""
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Part:
    """One kind of item of site.toml: its array of tables, the key that names an item, its fields."""
    name: str                     # URL segment: queues
    table: str                    # [[queue]]
    id_key: str                   # name
    noun: str                     # audit actions: queue.update
    title: str
    fields: tuple[Field, ...]


PARTS = {p.name: p for p in (
    Part("queues", "queue", "name", "queue", N_("Queues"), (
        Field("name", N_("Name"), hint=N_("How the flow and the reports name the queue.")),
        Field("skill", N_("Skill"), hint=N_("The skill an agent needs; empty: the queue's name.")),
        Field("min_level", N_("Minimum skill level"), "int", N_("1-10; agents below it are never offered a call.")),
        Field("strategy", N_("Strategy"), "choice", N_("Who of the ready agents is rung."), STRATEGIES),
        Field("ring_timeout", N_("Ring timeout (s)"), "float",
              N_("3-120 s an agent's phone rings before the next agent.")),
        Field("wrapup", N_("Wrap-up (s)"), "float", N_("0-600 s after a call before the agent is offered another.")),
        Field("max_wait", N_("Maximum wait (s)"), "float",
              N_("10-7200 s in the queue before the flow's timeout target.")),
        Field("max_waiting", N_("Callers waiting at most"), "int", N_("0: no limit; then the flow's overflow target.")),
        Field("escalate", N_("Escalation"), "steps",
              N_("After s waiting, the level that may take the caller: 30:3, 90:1")),
        Field("dedicated_wait", N_("VIP's own agent waited for (s)"), "float", N_("0-600 s.")),
        Field("announce_every", N_("Announce position every (s)"), "float", N_("0: never; otherwise at least 15 s.")),
        Field("recording", N_("Recording"), "choice", N_("all, none, or when the agent asks."), RECORDING),
        Field("on_full", N_("When the queue is full"),
              hint=N_("queue:<name>, node:<flow node> or hangup; empty: hang up. The flow's queue node, if it "
                      "says, goes first.")),
        Field("on_timeout", N_("After the maximum wait"), hint=N_("queue:<name>, node:<flow node> or hangup.")),
        Field("overflow_prompts", N_("Said before hanging up"), "list", N_("Prompt names, comma-separated.")),
        Field("announce", N_("Announcements say"), "list", N_("position, wait (either or both, in order).")),
        Field("announce_prompts", N_("Said before each announcement"), "list", N_("Prompt names, comma-separated.")),
        Field("wrapup_codes", N_("Wrap-up codes of its calls"), "list",
              N_("Code words (letters, digits, - or _), comma-separated; empty: the box's.")),
        Field("survey", N_("Post-call survey"),
              hint=N_("A survey flow, config/flows/<name>.toml (csat); its agents may transfer a caller to it.")),
        Field("survey_after", N_("Survey when the agent hangs up"), "bool",
              N_("true: the caller stays on for the survey when the agent hangs up first."), BOOL),
    )),
    Part("trunk-groups", "trunk_group", "name", "trunk_group", N_("Trunk groups"), (
        Field("name", N_("Name"), hint=N_("A department or company sharing the box's trunks.")),
        Field("lines", N_("Lines"), "list",
              N_("Trunks whose callers are the group's (an analog line's number is its line): trunk1, trunk2")),
        Field("numbers", N_("Dialled numbers"), "list", N_("Numbers an E1 trunk signals as dialled (DNIS).")),
        Field("queues", N_("Queues"), "list", N_("Queues whose callers, callbacks and agents' calls are the group's.")),
        Field("guaranteed", N_("Guaranteed trunks"), "int",
              N_("Always the group's when it needs them; lent to others while idle and taken back as their calls "
                 "end, never by cutting a call.")),
        Field("cap", N_("Most trunks"), "int", N_("Never more at once; empty: every trunk.")),
        Field("overflow", N_("Over the cap"),
              hint=N_("node:<flow node> (voicemail) or hangup after the message; empty: hang up at once (the "
                      "caller hears the busy tone).")),
        Field("overflow_prompts", N_("Said before hanging up"), "list", N_("Prompt names, comma-separated.")),
    )),
    Part("agents", "agent", "id", "agent", N_("Agents"), (
        Field("id", N_("Agent id"), hint=N_("The id the agent signs in to the phone with.")),
        Field("name", N_("Name")),
        Field("station", N_("Station"), hint=N_("A station line of the box (station1 ...); or give a phone number.")),
        Field("phone", N_("Phone number"), hint=N_("A remote agent's own number, dialled on a free trunk.")),
        Field("skills", N_("Skills and levels"), "levels", N_("queue skill=level (1-10): sales=6, service=4")),
    )),
    Part("schedules", "schedule", "name", "schedule", N_("Hours and holidays"), (
        Field("name", N_("Name"), hint=N_("What a flow's hours node names (schedule = \"office\").")),
        Field("days", N_("Open days"), "list", N_("mon, tue, wed, thu, fri, sat, sun; default mon-fri.")),
        Field("open", N_("Opens at"), hint=N_("HH:MM, local time; default 09:00.")),
        Field("close", N_("Closes at"), hint=N_("HH:MM; default 18:00.")),
        Field("holidays", N_("Holidays"), "list", N_("Closed dates, YYYY-MM-DD, comma-separated.")),
    )),
    Part("supervisors", "supervisor", "id", "supervisor", N_("Supervisors"), (
        Field("id", N_("Supervisor id")),
        Field("name", N_("Name")),
        Field("station", N_("Station"), hint=N_("The station line the supervisor listens in from.")),
    )),
)}


# The [box] table: the box itself and its lines' network (one table, not a list of items).
BOX = Part("box", "box", "", "box", N_("Box and lines"), (
    Field("id", N_("Box id"), hint=N_("This box's name at HQ; changes at the next start.")),
    Field("language", N_("Prompt language"), "choice",
          N_("The callers' prompts; changes at the next start."), LANGUAGES),
    Field("flow", N_("IVR flow"), hint=N_("config/flows/<name>.toml; default main. Swapped in at once.")),
    Field("answer_rings", N_("Rings before answering"), "int", N_("1-10; at least what the caller-ID scheme needs.")),
    Field("callerid", N_("Caller ID of the lines"), "choice",
          N_("How the exchange sends it: bell202 (China, North America: after the first ring, so the box answers "
             "on the second), v23 or dtmf (before the first ring), none."), CALLER_ID_SCHEMES),
    Field("tones", N_("Tone plan of the lines"), "choice",
          N_("The network's busy, ringback and dial tones (board/tones); used once no number is being dialled."),
          tuple(plan_names())),
    Field("hangup_tone_cycles", N_("Hang-up by busy tone (periods)"), "int",
          N_("0-10. Lines whose exchange signals a caller's hang-up only with its busy or congestion tone: the "
             "call ends after this many whole periods of it (0: never). 3 is usual; more if speech is cut off.")),
    Field("hangup_silence_s", N_("Hang-up by silence (s)"), "float",
          N_("0: never; otherwise 30-3600 s of silence from the caller ends a call in the IVR or with an agent "
             "(not while waiting in a queue or on hold). A last resort for lines that give no other sign.")),
    Field("wrapup_codes", N_("Wrap-up codes"), "list",
          N_("The codes an agent gives a call, comma-separated code words (letters, digits, - or _), at most 30; "
             "empty: the stock list (resolved, information, sale, complaint, follow-up, callback, wrong-number). "
             "The engine refuses any other; a queue may name its own.")),
    Field("not_ready_reasons", N_("Not-ready reasons"), "list",
          N_("What an agent or supervisor picks for not ready, comma-separated, up to 40 characters each, at most "
             "30; empty: the stock list (Break, Lunch, Meeting, Training, Coaching, Back-office work).")),
))
# The [wallboard] table: the colour thresholds of the supervisors' wallboard (webui/wallboard.py).
WALLBOARD_PART = Part("wallboard", "wallboard", "", "wallboard", N_("Wallboard"), (
    Field("longest_wait_warn", N_("Longest wait: amber from (s)"), "int", N_("Seconds, 1-3600; empty: 30.")),
    Field("longest_wait_alarm", N_("Longest wait: red from (s)"), "int",
          N_("Seconds, 1-3600, more than amber; empty: 60.")),
    Field("service_level_warn", N_("Service level: amber below (%)"), "int",
          N_("Percent answered within 20 s, 0-100; empty: 80.")),
    Field("service_level_alarm", N_("Service level: red below (%)"), "int",
          N_("Percent, 0-100, less than amber; empty: 60.")),
))
# The [reports] table: one definition of the service level for the engine's live figures, the wallboard,
# the reports and staffing (docs/kpi.md; firmware/config/site.py read_reports).
REPORTS_PART = Part("reports", "reports", "", "reports", N_("Reports"), (
    Field("service_level_s", N_("Service level: answered within (s)"), "int",
          N_("Seconds, 1-600; empty: 20. The target the dashboard, the wallboard, the reports and staffing "
             "count the service level against.")),
    Field("short_abandon_s", N_("Short abandon: rang off within (s)"), "int",
          N_("Seconds, 0-60, less than the target; empty: 5. A caller who rang off this soon after entering a "
             "queue counts neither for nor against the service level; 0 counts every abandon.")),
))
# The [outbound] table: what the campaigns' dialer may take of the trunks (firmware/callcenter/dialer.py,
# firmware/config/site.py read_outbound).
OUTBOUND = Part("outbound", "outbound", "", "outbound", N_("Outbound"), (
    Field("reserved_incoming", N_("Trunks kept for incoming calls"), "int",
          N_("A campaign dials only while more trunks than this are idle, so a caller always finds a line; "
             "empty: 1.")),
    Field("max_lines", N_("Campaign calls at once"), "int",
          N_("Calls all campaigns together may have at the same time (each campaign also has its own cap); "
             "empty: 2.")),
))
# Mail the box sends (webui/mail_delivery.py) and what it does with texts (firmware/callcenter/sms.py): one
# table each, read by firmware/config/messaging.py. The SMTP password is never here: a file's path.
MAIL = Part("mail", "mail", "", "mail", N_("E-mail"), (
    Field("host", N_("SMTP server"), hint=N_("Host name or address; empty: mail is kept, not sent.")),
    Field("port", N_("Port"), "int", N_("587 with STARTTLS (the default), 465 with TLS, 25 without.")),
    Field("security", N_("Security"), "choice",
          N_("starttls: the server must offer STARTTLS or nothing is sent; tls: TLS from the start; none: a relay on "
             "the branch's own network only."), SECURITY),
    Field("user", N_("User name"), hint=N_("Empty: the server takes mail without signing in.")),
    Field("password_file", N_("Password file"),
          hint=N_("Absolute path of a file on the box holding the password, readable by the service alone.")),
    Field("from", N_("From address"), hint=N_("The address the box's mail is sent from.")),
    Field("ca_file", N_("CA certificate file"), hint=N_("For a server with an in-house certificate; empty: the "
                                                        "system's CAs.")),
    Field("overdue_to", N_("Overdue-ticket alerts to"), "list",
          N_("Addresses, comma-separated, told once when a ticket passes its due time and at each change of state.")),
    Field("voicemail", N_("Voicemail to"), "mapping",
          N_("box=address for each voicemail box whose messages are mailed with the recording: sales=a@example.com")),
))
SMS = Part("sms", "sms", "", "sms", N_("Texts"), (
    Field("after_call", N_("Satisfaction text after each call"),
          hint=N_("Sent to a caller on a mobile number after an answered call; empty: none. A reply 1-5 is stored "
                  "as the answer.")),
    Field("callback_keywords", N_("Callback keywords"), "list",
          N_("A text with one of these asks to be called back: 回电, call me.")),
    Field("callback_queue", N_("Callback queue"), hint=N_("Where a texted callback request waits; empty: the first "
                                                          "queue.")),
))
# The configuration pages, in the order of their tabs.
NAV = {BOX.name: BOX, **PARTS, WALLBOARD_PART.name: WALLBOARD_PART, REPORTS_PART.name: REPORTS_PART,
       OUTBOUND.name: OUTBOUND, MAIL.name: MAIL, SMS.name: SMS}


class FormError(Exception):
    """A form field that is not even of its kind; `fields` maps each to its message."""

    def __init__(self, fields: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields


class SaveError(Exception):
    """A save refused: `status` for the API, the message, and per-field messages when the engine named them."""

    def __init__(self, status: int, message: str, fields: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.fields = status, fields or {}


def from_form(part: Part, form: dict[str, str]) -> dict:
    """The item's TOML table from form fields; an empty field is left out (the key's default)."""
    item: dict = {}
    problems: dict[str, str] = {}
    for f in part.fields:
        raw = form.get(f.key, "").strip()
        if not raw:
            continue
        try:
            item[f.key] = _parse(f, raw)
        except ValueError as exc:
            problems[f.key] = str(exc)
    if problems:
        raise FormError(problems)
    return item


def _parse(f: Field, raw: str):
    if f.kind == "bool":
        if raw not in BOOL:
            raise ValueError(_("expected true or false, got %(value)s") % {"value": raw[:20]})
        return raw == "true"
    if f.kind == "int":
        if not re.fullmatch(r"-?\d{1,9}", raw):
            raise ValueError(_("expected a whole number, got %(value)s") % {"value": raw[:20]})
        return int(raw)
    if f.kind == "float":
        try:
            value = float(raw)
        except ValueError:
            raise ValueError(_("expected a number, got %(value)s") % {"value": raw[:20]}) from None
        if not math.isfinite(value):
            raise ValueError(_("expected a number, got %(value)s") % {"value": raw[:20]})
        return value
    if f.kind == "levels":
        out = {}
        for entry in _entries(raw):
            name, sep, level = entry.partition("=")
            if not sep or not name.strip() or not re.fullmatch(r"\d{1,2}", level.strip()):
                raise ValueError(_("write each as skill=level, e.g. sales=5; got %(value)s") % {"value": entry[:30]})
            out[name.strip()] = int(level)
        return out
    if f.kind == "list":
        return _entries(raw)
    if f.kind == "mapping":
        pairs = {}
        for entry in _entries(raw):
            key, sep, text = entry.partition("=")
            if not sep or not key.strip() or not text.strip():
                raise ValueError(_("write each as name=value; got %(value)s") % {"value": entry[:30]})
            pairs[key.strip()] = text.strip()
        return pairs
    if f.kind == "steps":
        steps = []
        for entry in _entries(raw):
            after, sep, level = entry.partition(":")
            try:
                steps.append([float(after), int(level)])
            except ValueError:
                raise ValueError(_("write each as seconds:level, e.g. 30:3; got %(value)s")
                                 % {"value": entry[:30]}) from None
            if not sep:
                raise ValueError(_("write each as seconds:level, e.g. 30:3; got %(value)s") % {"value": entry[:30]})
        return steps
    return raw


def _entries(raw: str) -> list[str]:
    entries = [e.strip() for e in raw.split(",") if e.strip()]
    if len(entries) > MAX_ENTRIES:
        raise ValueError(_("at most %(n)d entries") % {"n": MAX_ENTRIES})
    return entries


def to_form(part: Part, item: dict) -> dict[str, str]:
    """An item's fields as the form shows them."""
    out = {}
    for f in part.fields:
        value = item.get(f.key)
        if f.key == "skills" and value is None and "queues" in item:
            value = dict.fromkeys(item["queues"], 5)
        if value is None:
            out[f.key] = ""
        elif f.kind in ("levels", "mapping"):
            out[f.key] = ", ".join(f"{k}={v}" for k, v in value.items())
        elif f.kind == "steps":
            out[f.key] = ", ".join(f"{a:g}:{b}" for a, b in value)
        elif f.kind == "list":
            out[f.key] = ", ".join(map(str, value))
        elif isinstance(value, bool):
            out[f.key] = "true" if value else "false"
        elif isinstance(value, float):
            out[f.key] = f"{value:g}"
        else:
            out[f.key] = str(value)
    return out


def from_json(part: Part, body) -> dict:
    """An item from an API body: an object of the part's keys; null leaves a key out (its default)."""
    if not isinstance(body, dict):
        raise SaveError(400, _("the body must be a JSON object of the item's settings"))
    known = {f.key for f in part.fields} | ({"queues"} if part.table == "agent" else set())
    unknown = sorted(set(body) - known)
    if unknown:
        raise SaveError(422, _("unknown setting %(key)s") % {"key": unknown[0][:40]},
                        {unknown[0][:40]: _("unknown setting (known: %(keys)s)") % {"keys": ", ".join(sorted(known))}})
    return {k: v for k, v in body.items() if v is not None}


class SiteEditor:
    """The read-check-write-reload cycle shared by the pages and the API."""

    def __init__(self, site: SiteFile, engine: Engine):
        self.site, self.engine = site, engine

    def items(self, part: Part) -> tuple[list[dict], str]:
        data, version = self.site.read()
        items = data.get(part.table, [])
        return (items if isinstance(items, list) else []), version

    def find(self, part: Part, item_id: str) -> tuple[dict | None, str]:
        items, version = self.items(part)
        return next((i for i in items if isinstance(i, dict) and str(i.get(part.id_key)) == item_id), None), version

    def save(self, part: Part, item_id: str | None, item: dict | None, based_on: str) -> tuple[dict, dict]:
        """Create (item_id None), replace or remove (item None) one item; (changed fields, engine's answer).
        SaveError, with the file left as it was, if the engine finds fault or refuses."""
        def change(data: dict) -> tuple[dict, str | None]:
            items = data.setdefault(part.table, [])
            index = next((n for n, i in enumerate(items) if str(i.get(part.id_key)) == item_id), None)
            if item_id is not None and index is None:
                raise SaveError(404, _("there is no %(what)s %(id)s") % {"what": part.noun, "id": item_id})
            if item is not None and item_id is None and any(str(i.get(part.id_key)) == str(item.get(part.id_key))
                                                            for i in items):
                raise SaveError(409, _("there is already a %(what)s %(id)s") % {"what": part.noun,
                                                                                "id": item.get(part.id_key)},
                                {part.id_key: _("already taken")})
            old = items[index] if index is not None else {}
            at = None
            if item is None:
                del items[index]
            elif index is None:
                items.append(item)
                at = len(items) - 1
            else:
                items[index] = item
                at = index
            if not items:
                del data[part.table]
            return old, (f"{part.table}[{at}]." if at is not None else None)
        return self._commit(change, item or {}, based_on)

    def save_table(self, part: Part, item: dict, based_on: str) -> tuple[dict, dict]:
        """Replace a single table of the file ([box]); as `save`."""
        def change(data: dict) -> tuple[dict, str | None]:
            old = data.get(part.table, {})
            data[part.table] = item
            return old, f"{part.table}."
        return self._commit(change, item, based_on)

    def _commit(self, change: Callable[[dict], tuple[dict, str | None]], new: dict,
                based_on: str) -> tuple[dict, dict]:
        with self.site.locked():
            data, version = self.site.read()
            if version != based_on:
                raise StaleVersion(_("the settings were changed since this page was loaded (by another admin or on "
                                     "the box); here they are as they are now, make your change again"))
            old, prefix = change(data)
            text = self.site.dumps(data)
            self._validate(text, prefix)
            previous = self.site.replace(text, version)
            try:
                answer = self.engine.reload_site()
            except (CommandRefused, EngineUnavailable) as exc:
                self.site.put_back(previous)
                status = 503 if isinstance(exc, EngineUnavailable) else 409
                raise SaveError(status, _("the engine did not take the new settings, the running ones stay: "
                                          "%(reason)s") % {"reason": str(exc)}) from None
        changed = {k: [old.get(k), new.get(k)] for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)}
        return changed, answer

    def _validate(self, text: str, prefix: str | None) -> None:
        """SaveError naming each bad field of the item whose keys start `prefix` ("queue[2].") and any
        other the file now has wrong."""
        try:
            answer = self.engine.validate_site(text)
        except EngineUnavailable as exc:
            raise SaveError(503, _("the engine is not running, so the settings cannot be checked; nothing was "
                                   "changed (%(reason)s)") % {"reason": str(exc)}) from None
        except CommandRefused as exc:
            raise SaveError(422, str(exc)) from None
        if answer["valid"]:
            return
        mine: dict[str, str] = {}
        others: list[str] = []
        for e in answer["errors"]:
            reason = engine_text(e["error"], e.get("template"), e.get("params"))
            if prefix is not None and e["field"].startswith(prefix):
                mine.setdefault(e["field"][len(prefix):].split(".")[0], reason)
            else:
                others.append(f"{e['field']}: {reason}" if e["field"] else reason)
        message = "; ".join(others) if others else _("some settings are not valid; see the fields")
        raise SaveError(422, message, mine)


def readable(fn):
    """Route decorator: a site.toml that is missing or not TOML answers 503 with the reason (the app's
    error page, or JSON under /api/) instead of a traceback."""
    @functools.wraps(fn)
    def run(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except SiteFileError as exc:
            raise HTTPError(503, str(exc)) from None
    return run


def json_reply(status: int, body: dict) -> HTTPResponse:
    return HTTPResponse(json.dumps(body, ensure_ascii=False), status,
                        {"Content-Type": "application/json", "Cache-Control": "no-store"})


def install(app: Bottle, render: Callable[..., str], site: SiteFile) -> None:
    """Add the configuration pages and their /api/v1/config routes to the web app."""
    for part in PARTS.values():
        _install_part(app, render, site, part)
    for table in (BOX, WALLBOARD_PART, REPORTS_PART, OUTBOUND, MAIL, SMS):
        _install_table(app, render, site, table)

    @app.get("/config")
    @requires(*CONFIG_ROLES)
    def config_home():
        redirect("/config/box")


def _install_part(app: Bottle, render: Callable[..., str], site: SiteFile, part: Part) -> None:
    def editor(engine: Engine) -> SiteEditor:
        return SiteEditor(site, engine)

    def checked_id(item_id: str) -> str:
        if not ID_RE.fullmatch(item_id):
            raise HTTPResponse(status=404)
        return item_id

    # --- pages --------------------------------------------------------------------------------------
    def list_page(engine, notice=None, error=None):
        try:
            items, version = editor(engine).items(part)
        except SiteFileError as exc:
            items, version, error = [], "", str(exc)
            response.status = 503
        return render("config_list", title=_(part.title), active="config", part=part, parts=NAV,
                      items=items, version=version, notice=notice, error=error, to_form=to_form)

    def form_page(item_id, values, version, problems, error=None, status=200):
        response.status = status
        return render("config_item", title=_(part.title), active="config", part=part, parts=NAV,
                      item_id=item_id, values=values, version=version, problems=problems, error=error)

    @app.get(f"/config/{part.name}")
    @requires(*CONFIG_ROLES)
    @readable
    def page_list(engine):
        saved = request.query.getunicode("saved")
        return list_page(engine, notice=_("Saved and applied: %(id)s") % {"id": saved} if saved else None)

    @app.get(f"/config/{part.name}/new")
    @requires(*CONFIG_ROLES)
    @readable
    def page_new(engine):
        _items, version = editor(engine).items(part)
        return form_page(None, {f.key: "" for f in part.fields}, version, {})

    @app.get(f"/config/{part.name}/<id>")
    @requires(*CONFIG_ROLES)
    @readable
    def page_item(id, engine):
        item, version = editor(engine).find(part, checked_id(id))
        if item is None:
            raise HTTPResponse(status=404)
        return form_page(id, to_form(part, item), version, {})

    def page_save(item_id, engine, audit, delete=False):
        form = {f.key: request.forms.getunicode(f.key, default="") for f in part.fields}
        based_on = request.forms.getunicode("version", default="")
        try:
            item = None if delete else from_form(part, form)
            changed, answer = editor(engine).save(part, item_id, item, based_on)
        except FormError as exc:
            return form_page(item_id, form, based_on, exc.fields, status=422)
        except StaleVersion as exc:
            if delete:
                response.status = 409
                return list_page(engine, error=str(exc))
            current, version = editor(engine).find(part, item_id) if item_id else (None, editor(engine).items(part)[1])
            values = to_form(part, current) if current is not None else form
            return form_page(item_id, values, version, {}, error=str(exc), status=409)
        except SaveError as exc:
            if delete:
                response.status = exc.status
                return list_page(engine, error=str(exc))
            return form_page(item_id, form, based_on, exc.fields, error=str(exc), status=exc.status)
        name = item_id if item is None or item_id else str(item.get(part.id_key))
        action = "delete" if delete else "create" if item_id is None else "update"
        audit.record(f"{part.noun}.{action}", name, changed)
        redirect(f"/config/{part.name}?saved={name}")

    @app.post(f"/config/{part.name}")
    @requires(*CONFIG_ROLES)
    @readable
    def page_create(engine, audit):
        return page_save(None, engine, audit)

    @app.post(f"/config/{part.name}/<id>")
    @requires(*CONFIG_ROLES)
    @readable
    def page_update(id, engine, audit):
        return page_save(checked_id(id), engine, audit)

    @app.post(f"/config/{part.name}/<id>/delete")
    @requires(*CONFIG_ROLES)
    @readable
    def page_delete(id, engine, audit):
        return page_save(checked_id(id), engine, audit, delete=True)

    # --- API ----------------------------------------------------------------------------------------
    def api_id(item_id: str) -> str:
        if not ID_RE.fullmatch(item_id):
            raise json_reply(404, {"error": _("there is no %(what)s %(id)s")
                                    % {"what": part.noun, "id": item_id[:64]}})
        return item_id

    def if_match() -> str:
        tag = (request.headers.get("If-Match") or "").strip().strip('"')
        if not tag:
            raise json_reply(428, {"error": _("send the version you edited in If-Match (the ETag of the GET)")})
        return tag

    def api_save(engine, item_id, item, audit, action):
        try:
            changed, answer = editor(engine).save(part, item_id, item, if_match())
        except StaleVersion as exc:
            raise json_reply(412, {"error": str(exc)}) from None
        except SaveError as exc:
            raise json_reply(exc.status, {"error": str(exc), "fields": exc.fields}) from None
        name = item_id or str((item or {}).get(part.id_key))
        audit.record(f"{part.noun}.{action}", name, changed)
        _items, version = editor(engine).items(part)
        response.set_header("ETag", f'"{version}"')
        return {"version": version, "changed": changed, "restart": answer.get("restart", [])}

    def api_body():
        try:
            return from_json(part, request.json)
        except SaveError as exc:
            raise json_reply(exc.status, {"error": str(exc), "fields": exc.fields}) from None

    @app.get(f"/api/v1/config/{part.name}")
    @requires(*CONFIG_ROLES)
    @readable
    def api_list(engine):
        items, version = editor(engine).items(part)
        response.set_header("ETag", f'"{version}"')
        return {"version": version, "items": items}

    @app.get(f"/api/v1/config/{part.name}/<id>")
    @requires(*CONFIG_ROLES)
    @readable
    def api_item(id, engine):
        item, version = editor(engine).find(part, api_id(id))
        if item is None:
            raise json_reply(404, {"error": _("there is no %(what)s %(id)s") % {"what": part.noun, "id": id}})
        response.set_header("ETag", f'"{version}"')
        return {"version": version, "item": item}

    @app.post(f"/api/v1/config/{part.name}")
    @requires(*CONFIG_ROLES)
    @readable
    def api_create(engine, audit):
        result = api_save(engine, None, api_body(), audit, "create")
        response.status = 201
        return result

    @app.put(f"/api/v1/config/{part.name}/<id>")
    @requires(*CONFIG_ROLES)
    @readable
    def api_replace(id, engine, audit):
        return api_save(engine, api_id(id), api_body(), audit, "update")

    @app.delete(f"/api/v1/config/{part.name}/<id>")
    @requires(*CONFIG_ROLES)
    @readable
    def api_delete(id, engine, audit):
        return api_save(engine, api_id(id), None, audit, "delete")


def _install_table(app: Bottle, render: Callable[..., str], site: SiteFile, part: Part) -> None:
    """The page and /api/v1/config/<name> of one table ([box], [wallboard], [reports], [mail], [sms]), edited
    whole."""

    def current() -> tuple[dict, str]:
        data, version = site.read()
        table = data.get(part.table, {})
        return (table if isinstance(table, dict) else {}), version

    def form_page(values, version, problems, error=None, notice=None, status=200):
        response.status = status
        return render("config_item", title=_(part.title), active="config", part=part, parts=NAV, item_id="",
                      values=values, version=version, problems=problems, error=error, notice=notice)

    @app.get(f"/config/{part.name}")
    @requires(*CONFIG_ROLES)
    @readable
    def table_page(engine):
        table, version = current()
        restart = request.query.getunicode("restart")
        notice = (_("Saved and applied; %(keys)s change at the next start.") % {"keys": restart} if restart
                  else _("Saved and applied.") if request.query.get("saved") else None)
        return form_page(to_form(part, table), version, {}, notice=notice)

    @app.post(f"/config/{part.name}")
    @requires(*CONFIG_ROLES)
    @readable
    def table_save(engine, audit):
        form = {f.key: request.forms.getunicode(f.key, default="") for f in part.fields}
        based_on = request.forms.getunicode("version", default="")
        try:
            changed, answer = SiteEditor(site, engine).save_table(part, from_form(part, form), based_on)
        except FormError as exc:
            return form_page(form, based_on, exc.fields, status=422)
        except StaleVersion as exc:
            table, version = current()
            return form_page(to_form(part, table), version, {}, error=str(exc), status=409)
        except SaveError as exc:
            return form_page(form, based_on, exc.fields, error=str(exc), status=exc.status)
        audit.record(f"{part.noun}.update", part.table, changed)
        restart = ", ".join(answer.get("restart", []))
        redirect(f"/config/{part.name}?saved=1" + (f"&restart={restart}" if restart else ""))

    @app.get(f"/api/v1/config/{part.name}")
    @requires(*CONFIG_ROLES)
    @readable
    def api_table(engine):
        table, version = current()
        response.set_header("ETag", f'"{version}"')
        return {"version": version, "item": table}

    @app.put(f"/api/v1/config/{part.name}")
    @requires(*CONFIG_ROLES)
    @readable
    def api_table_put(engine, audit):
        try:
            item = from_json(part, request.json)
            tag = (request.headers.get("If-Match") or "").strip().strip('"')
            if not tag:
                raise json_reply(428, {"error": _("send the version you edited in If-Match (the ETag of the GET)")})
            changed, answer = SiteEditor(site, engine).save_table(part, item, tag)
        except StaleVersion as exc:
            raise json_reply(412, {"error": str(exc)}) from None
        except SaveError as exc:
            raise json_reply(exc.status, {"error": str(exc), "fields": exc.fields}) from None
        audit.record(f"{part.noun}.update", part.table, changed)
        _table, version = current()
        response.set_header("ETag", f'"{version}"')
        return {"version": version, "changed": changed, "restart": answer.get("restart", [])}
