"""Outbound campaigns in the browser and the API: the list with live progress, a campaign's definition
(edited while draft or paused), start/pause/stop through the engine, its contacts (CSV import with a
preview, paged and filtered results, CSV export) and the do-not-call list. Supervisors and admins."""
from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Callable

from bottle import Bottle, HTTPError, HTTPResponse, redirect, request, response

from firmware.store.phones import PhoneNumberError, normalize

from .auth import requires
from .campaign_audience import AudienceError, audience
from .campaign_csv import export_contacts, read_contacts
from .campaign_store import (CONTACT_STATES, DEFAULT_HOURS, DEFAULT_RETRY, EDITABLE_STATES, MODES, OUTCOMES, PER_PAGE,
                             PURPOSES, STATES, CampaignError, CampaignStore, check_contacts, check_definition, counts,
                             dnc_list, get_campaign, list_campaigns, list_contacts, list_rules)
from .care_calls import SatisfactionQueue
from .customer_cards import DATE_FIELDS, LABELS, site_region
from .customer_csv import MAX_IMPORT_BYTES, MAX_IMPORT_ROWS, CsvError, decode
from .engine import CommandRefused, Engine, EngineUnavailable
from .flows import _prompt_files, _running
from .i18n import gettext as _
from .replies import json_body, json_error
from .ticket_store import TicketStore

CAMPAIGN_ROLES = ("admin", "supervisor")
ACTIONS = ("start", "pause", "stop")
MAX_REASON = 200
AUDIENCE_FIELDS = ("vip_min", "last_before", "last_after", "open_ticket", "agent_id")
FORM_FIELDS = ("name", "mode", "purpose", "queue", "prompt", "confirm_key", "agent_key", "max_attempts", "max_lines",
               "pace")


def engine_choices(engine: Engine) -> tuple[set[str] | None, set[str] | None]:
    """The engine's queue names and prompt names, each None when the engine cannot be asked."""
    try:
        status = engine.status()
    except (EngineUnavailable, CommandRefused):
        return None, None
    queues = {q["name"] for q in status.get("queues") or []}
    running = _running(engine)
    return queues, set(_prompt_files(running.get("prompt_dirs") or {})) if running else None


def form_data(forms) -> dict:
    """The definition form read into the API's shape, so one check serves both."""
    data = {k: forms.getunicode(k, default="") for k in FORM_FIELDS}
    data["survey"] = {"prompt": forms.getunicode("survey_prompt", default=""),
                      "keys": forms.getunicode("survey_keys", default="")}
    data["hours"] = {"days": forms.getall("days"), "start": forms.getunicode("start", default=""),
                     "end": forms.getunicode("end", default=""),
                     "holidays": forms.getunicode("holidays", default="")}
    data["skip_holidays"] = forms.get("skip_holidays") == "1"
    data["retry"] = {o: forms.getunicode(f"retry_{o}", default="") for o in OUTCOMES}
    return data


def _refusal(exc: CampaignError) -> HTTPResponse:
    if exc.campaign is None:
        return json_error(exc.status, str(exc), exc.problems)
    # A stale version answers with the campaign as it is now, as a stale ticket does.
    return HTTPResponse(json.dumps({"error": str(exc), "campaign": exc.campaign}, ensure_ascii=False), exc.status,
                        {"Content-Type": "application/json", "Cache-Control": "no-store"})


def install(app: Bottle, render: Callable[..., str], db_path: str | Path, tickets: TicketStore,
            clock=time.time) -> CampaignStore:
    """Add /campaigns, /dnc and their API to the web app; the store is closed with the app. With
    tickets.toml's `satisfaction_call`, a resolved ticket's customer joins the satisfaction campaign."""
    db_path = Path(db_path)
    store = CampaignStore(db_path, clock)
    app.install(store)
    if tickets.config.satisfaction_call:
        tickets.on_resolved = SatisfactionQueue(db_path.parent)

    def region() -> str:
        return site_region(db_path.parent)

    def found(db, campaign_id: str) -> dict:
        campaign = get_campaign(db, campaign_id)
        if campaign is None:
            raise HTTPError(404, _("There is no campaign with id %(id)s.") % {"id": campaign_id})
        return campaign

    def labels() -> dict:
        return {"modes": {k: _(v) for k, v in MODES.items()}, "purposes": {k: _(v) for k, v in PURPOSES.items()},
                "states": {k: _(v) for k, v in STATES.items()},
                "contact_states": {k: _(v) for k, v in CONTACT_STATES.items()},
                "outcomes": {k: _(v) for k, v in OUTCOMES.items()}}

    def edit_page(db, engine, campaign: dict | None, form: dict, problems: dict, status: int = 200,
                  error: str | None = None):
        response.status = status
        queues, prompts = engine_choices(engine)
        page_args = dict(campaign=campaign, form=form, problems=problems, error=error, labels=labels(),
                         queues=sorted(queues or []), prompts=sorted(prompts or []), engine_down=queues is None)
        if campaign is None:
            return render("campaign_new", title=_("New campaign"), active="campaigns", **page_args)
        query = request.query.decode()
        state, outcome, text = query.get("state", ""), query.get("outcome", ""), query.get("q", "")[:40]
        page = max(1, int(query.get("page", "1")) if query.get("page", "1").isdigit() else 1)
        contacts, total = list_contacts(db, campaign["id"], state if state in CONTACT_STATES else "",
                                        outcome if outcome in OUTCOMES else "", text, page)
        return render("campaign", title=campaign["name"], active="campaigns", scripts=["events.js", "campaigns.js"],
                      contacts=contacts, total=total, page=page, pages=max(1, math.ceil(total / PER_PAGE)),
                      filters={"state": state, "outcome": outcome, "q": text},
                      counts=counts(db, campaign["id"]), editable=campaign["state"] in EDITABLE_STATES,
                      imported=query.get("imported"), rules=list_rules(db, campaign["id"]),
                      date_fields={f: _(LABELS[f]) for f in DATE_FIELDS}, **page_args)

    def as_form(campaign: dict) -> dict:
        hours: dict = campaign["hours"] or DEFAULT_HOURS
        survey = campaign["survey"] or {}
        return {**{k: "" if campaign.get(k) is None else str(campaign[k]) for k in FORM_FIELDS},
                "survey_prompt": survey.get("prompt", ""), "survey_keys": survey.get("keys", ""),
                "days": [str(d) for d in hours["days"]], "start": hours["start"], "end": hours["end"],
                "holidays": ", ".join(hours.get("holidays", [])), "skip_holidays": campaign["skip_holidays"],
                "retry": {k: str(v) for k, v in (campaign["retry"] or {}).items()}}

    def flat(data: dict) -> dict:
        """A submitted form as the page shows it again."""
        return {**{k: data[k] for k in FORM_FIELDS}, "survey_prompt": data["survey"]["prompt"],
                "survey_keys": data["survey"]["keys"], "days": data["hours"]["days"],
                "start": data["hours"]["start"], "end": data["hours"]["end"], "holidays": data["hours"]["holidays"],
                "skip_holidays": data["skip_holidays"], "retry": data["retry"]}

    def command(engine: Engine, action: str, campaign_id: str) -> dict:
        try:
            return engine.command(f"campaign.{action}", id=campaign_id)
        except EngineUnavailable as exc:
            raise CampaignError(str(exc), 503) from None
        except CommandRefused as exc:
            raise CampaignError(_("the engine did not %(action)s the campaign: %(reason)s")
                                % {"action": action, "reason": exc}, 409) from None

    def import_rows(db, campaign_id: str, text: str) -> list[dict]:
        return check_contacts(db, campaign_id, read_contacts(text), region())

    def chosen_customers(db, query: dict) -> list[dict]:
        rows = audience(db, query)
        if len(rows) > MAX_IMPORT_ROWS:
            raise AudienceError({"query": _("more than %(max)d customers: narrow the query") % {
                "max": MAX_IMPORT_ROWS}})
        return rows

    # --- pages -----------------------------------------------------------------------------------------
    @app.get("/campaigns")
    @requires(*CAMPAIGN_ROLES)
    def campaigns_page(db):
        return render("campaigns", title=_("Campaigns"), active="campaigns", campaigns=list_campaigns(db),
                      labels=labels(), scripts=["events.js", "campaigns.js"])

    @app.get("/campaigns/new")
    @requires(*CAMPAIGN_ROLES)
    def campaign_new(db, engine):
        form = {"mode": "message", "purpose": "notification", "confirm_key": "1", "days": ["1", "2", "3", "4", "5"],
                "start": DEFAULT_HOURS["start"], "end": DEFAULT_HOURS["end"], "skip_holidays": True,
                "max_attempts": "3", "max_lines": "2", "pace": "1",
                "retry": {k: str(v) for k, v in DEFAULT_RETRY.items()}}
        return edit_page(db, engine, None, form, {})

    @app.post("/campaigns/new")
    @requires(*CAMPAIGN_ROLES)
    def campaign_create(db, engine, user, audit):
        data = form_data(request.forms)
        queues, prompts = engine_choices(engine)
        try:
            campaign = store.create(user, check_definition(data, queues, prompts))
        except CampaignError as exc:
            return edit_page(db, engine, None, flat(data), exc.problems, exc.status, str(exc))
        audit.record("campaign.create", campaign["id"], {"name": campaign["name"], "mode": campaign["mode"]})
        redirect(f"/campaigns/{campaign['id']}")

    @app.get("/campaigns/<campaign_id>")
    @requires(*CAMPAIGN_ROLES)
    def campaign_page(campaign_id, db, engine):
        campaign = found(db, campaign_id)
        return edit_page(db, engine, campaign, as_form(campaign), {})

    @app.post("/campaigns/<campaign_id>")
    @requires(*CAMPAIGN_ROLES)
    def campaign_save(campaign_id, db, engine, audit):
        campaign = found(db, campaign_id)
        data = form_data(request.forms)
        queues, prompts = engine_choices(engine)
        try:
            before, after = store.update(campaign_id, check_definition(data, queues, prompts),
                                         request.forms.getunicode("version", default=""))
        except CampaignError as exc:
            return edit_page(db, engine, exc.campaign or campaign, flat(data), exc.problems, exc.status, str(exc))
        audit.record("campaign.update", campaign_id, changes(before, after))
        redirect(f"/campaigns/{campaign_id}")

    @app.post("/campaigns/<campaign_id>/<action:re:start|pause|stop>")
    @requires(*CAMPAIGN_ROLES)
    def campaign_action(campaign_id, action, db, engine, audit):
        campaign = found(db, campaign_id)
        try:
            command(engine, action, campaign_id)
        except CampaignError as exc:
            return edit_page(db, engine, campaign, as_form(campaign), {}, exc.status, str(exc))
        audit.record(f"campaign.{action}", campaign_id, {"name": campaign["name"]})
        redirect(f"/campaigns/{campaign_id}")

    def preview_or_add(campaign: dict, rows: list[dict], audit, title: str, text: str = "",
                       query: dict | None = None) -> str:
        """The checked contacts previewed row by row; with commit=1 and no problem, added whole and audited."""
        bad = [r for r in rows if r["problem"]]
        if request.forms.get("commit") == "1" and rows and not bad:
            try:
                added = store.add_contacts(campaign["id"], rows)
            except CampaignError as exc:
                response.status = exc.status
                return render("campaign_import", title=title, active="campaigns", campaign=campaign, rows=rows,
                              text=text, error=str(exc), query=query)
            audit.record("campaign.import", campaign["id"], {"contacts": added, **({"query": query} if query else {})})
            redirect(f"/campaigns/{campaign['id']}?imported={added}")
        response.status = 400 if bad else 200
        return render("campaign_import", title=title, active="campaigns", campaign=campaign, rows=rows, text=text,
                      error=None, query=query)

    @app.post("/campaigns/<campaign_id>/import")
    @requires(*CAMPAIGN_ROLES)
    def campaign_import(campaign_id, db, engine, audit):
        campaign = found(db, campaign_id)
        upload = request.files.get("file") or request.files.get("text")
        text = ""
        try:
            text = (decode(upload.file.read(MAX_IMPORT_BYTES + 1)) if upload is not None
                    else request.forms.getunicode("text", default=""))
            rows = import_rows(db, campaign_id, text)
        except CsvError as exc:
            response.status = 400
            return render("campaign_import", title=_("Import contacts"), active="campaigns", campaign=campaign,
                          rows=None, text="", error=str(exc), query=None)
        return preview_or_add(campaign, rows, audit, _("Import contacts"), text=text)

    @app.post("/campaigns/<campaign_id>/customers")
    @requires(*CAMPAIGN_ROLES)
    def campaign_customers(campaign_id, db, audit):
        """The customers a query picks, previewed as an import is; with commit=1 and no problems, added."""
        campaign = found(db, campaign_id)
        query = {k: request.forms.getunicode(k, default="") for k in AUDIENCE_FIELDS}
        try:
            rows = check_contacts(db, campaign_id, chosen_customers(db, query), region())
        except AudienceError as exc:
            response.status = 400
            return render("campaign_import", title=_("Add customers"), active="campaigns", campaign=campaign,
                          rows=None, text="", error="; ".join(exc.problems.values()), query=query)
        return preview_or_add(campaign, rows, audit, _("Add customers"), query=query)

    @app.post("/campaigns/<campaign_id>/rules")
    @requires(*CAMPAIGN_ROLES)
    def campaign_rule_add(campaign_id, db, engine, user, audit):
        campaign = found(db, campaign_id)
        try:
            rule = store.add_rule(campaign_id, request.forms.getunicode("field", default=""),
                                  request.forms.getunicode("days_before", default=""), user)
        except CampaignError as exc:
            return edit_page(db, engine, campaign, as_form(campaign), {}, exc.status,
                             "; ".join([str(exc), *exc.problems.values()]))
        audit.record("campaign.rule_add", campaign_id, {"field": rule["field"], "days_before": rule["days_before"]})
        redirect(f"/campaigns/{campaign_id}#rules")

    @app.post("/campaigns/<campaign_id>/rules/<rule_id>/delete")
    @requires(*CAMPAIGN_ROLES)
    def campaign_rule_remove(campaign_id, rule_id, db, audit):
        found(db, campaign_id)
        if store.remove_rule(campaign_id, rule_id):
            audit.record("campaign.rule_remove", campaign_id, {"rule": rule_id})
        redirect(f"/campaigns/{campaign_id}#rules")

    @app.get("/campaigns/<campaign_id>/contacts.csv")
    @requires(*CAMPAIGN_ROLES)
    def campaign_export(campaign_id, db, audit):
        campaign = found(db, campaign_id)
        audit.record("campaign.export", campaign_id, {"name": campaign["name"]})
        response.content_type = "text/csv; charset=utf-8"
        response.set_header("Content-Disposition", f'attachment; filename="campaign-{campaign_id[:8]}.csv"')
        return "".join(export_contacts(db, campaign_id))

    @app.get("/dnc")
    @requires(*CAMPAIGN_ROLES)
    def dnc_page(db):
        query = request.query.getunicode("q", default="")[:40]
        return render("dnc", title=_("Do-not-call list"), active="campaigns", numbers=dnc_list(db, query), q=query,
                      error=None, problem=None)

    @app.post("/dnc")
    @requires(*CAMPAIGN_ROLES)
    def dnc_add_form(db, user, audit):
        try:
            added = add_dnc(user, request.forms.getunicode("numbers", default=""),
                            request.forms.getunicode("reason", default=""), audit)
        except CampaignError as exc:
            response.status = exc.status
            return render("dnc", title=_("Do-not-call list"), active="campaigns", numbers=dnc_list(db), q="",
                          error=str(exc), problem=exc.problems)
        redirect(f"/dnc?added={added}")

    @app.post("/dnc/remove")
    @requires(*CAMPAIGN_ROLES)
    def dnc_remove_form(audit):
        number = request.forms.getunicode("number", default="")
        if store.remove_dnc(number):
            audit.record("dnc.remove", number, {})
        redirect("/dnc")

    def add_dnc(user: dict, text: str, reason: str, audit) -> int:
        """Every number of `text` (one a line or separated by commas) listed, or none if one does not parse."""
        numbers, problems = [], {}
        for raw in [n for n in text.replace(",", "\n").replace(";", "\n").splitlines() if n.strip()]:
            try:
                numbers.append(normalize(raw, region()))
            except PhoneNumberError:
                problems[raw.strip()[:40]] = _("not a phone number of %(region)s or in international form") % {
                    "region": region()}
        if len(reason) > MAX_REASON:
            problems["reason"] = _("at most %(n)d characters") % {"n": MAX_REASON}
        if problems or not numbers:
            raise CampaignError(_("nothing was added: a number does not parse") if problems
                                else _("type one number or more"), 400, problems)
        added = store.add_dnc(numbers, reason.strip(), user)
        audit.record("dnc.add", ", ".join(numbers[:20]), {"numbers": len(numbers), "reason": reason.strip()})
        return added

    # --- API --------------------------------------------------------------------------------------------
    @app.get("/api/v1/campaigns")
    @requires(*CAMPAIGN_ROLES)
    def api_campaigns(db):
        return {"campaigns": list_campaigns(db)}

    @app.post("/api/v1/campaigns")
    @requires(*CAMPAIGN_ROLES)
    def api_create(engine, user, audit):
        queues, prompts = engine_choices(engine)
        try:
            campaign = store.create(user, check_definition(json_body(), queues, prompts))
        except CampaignError as exc:
            raise _refusal(exc) from None
        audit.record("campaign.create", campaign["id"], {"name": campaign["name"], "mode": campaign["mode"]})
        response.status = 201
        return {"campaign": campaign}

    @app.get("/api/v1/campaigns/<campaign_id>")
    @requires(*CAMPAIGN_ROLES)
    def api_campaign(campaign_id, db):
        campaign = get_campaign(db, campaign_id)
        if campaign is None:
            raise json_error(404, _("no campaign with id %(id)s") % {"id": campaign_id})
        return {"campaign": campaign, "counts": counts(db, campaign_id)}

    @app.patch("/api/v1/campaigns/<campaign_id>")
    @requires(*CAMPAIGN_ROLES)
    def api_update(campaign_id, db, engine, audit):
        body = json_body()
        current = get_campaign(db, campaign_id)
        if current is None:
            raise json_error(404, _("no campaign with id %(id)s") % {"id": campaign_id})
        queues, prompts = engine_choices(engine)
        # A PATCH names only what changes; the rest is the campaign as stored.
        merged = {**current, **{k: v for k, v in body.items() if k != "version"}}
        try:
            before, after = store.update(campaign_id, check_definition(merged, queues, prompts), body.get("version"))
        except CampaignError as exc:
            raise _refusal(exc) from None
        audit.record("campaign.update", campaign_id, changes(before, after))
        return {"campaign": after}

    @app.post("/api/v1/campaigns/<campaign_id>/<action:re:start|pause|stop>")
    @requires(*CAMPAIGN_ROLES)
    def api_action(campaign_id, action, db, engine, audit):
        campaign = get_campaign(db, campaign_id)
        if campaign is None:
            raise json_error(404, _("no campaign with id %(id)s") % {"id": campaign_id})
        try:
            result = command(engine, action, campaign_id)
        except CampaignError as exc:
            raise _refusal(exc) from None
        audit.record(f"campaign.{action}", campaign_id, {"name": campaign["name"]})
        return {"campaign": campaign_id, "engine": result}

    @app.get("/api/v1/campaigns/<campaign_id>/contacts")
    @requires(*CAMPAIGN_ROLES)
    def api_contacts(campaign_id, db):
        if get_campaign(db, campaign_id) is None:
            raise json_error(404, _("no campaign with id %(id)s") % {"id": campaign_id})
        query = request.query.decode()
        state, outcome = query.get("state", ""), query.get("outcome", "")
        if state and state not in CONTACT_STATES or outcome and outcome not in OUTCOMES:
            raise json_error(400, _("state or outcome is not one the box knows"))
        page = query.get("page", "1")
        if not page.isdigit() or int(page) < 1:
            raise json_error(400, _("page: a whole number from 1"))
        contacts, total = list_contacts(db, campaign_id, state, outcome, query.get("q", "")[:40], int(page))
        return {"contacts": contacts, "total": total, "page": int(page), "per_page": PER_PAGE,
                "pages": max(1, math.ceil(total / PER_PAGE))}

    @app.post("/api/v1/campaigns/<campaign_id>/contacts")
    @requires(*CAMPAIGN_ROLES)
    def api_add_contacts(campaign_id, db, audit):
        """{"contacts": [{"number", "name"?, "data"?}], "commit": true} adds them all or none; without
        `commit` it answers the check alone (the import's preview)."""
        body = json_body()
        wanted = body.get("contacts")
        if get_campaign(db, campaign_id) is None:
            raise json_error(404, _("no campaign with id %(id)s") % {"id": campaign_id})
        if isinstance(body.get("query"), dict):
            try:
                wanted = chosen_customers(db, body["query"])
            except AudienceError as exc:
                raise json_error(400, str(exc), exc.problems) from None
        if not isinstance(wanted, list) or not all(isinstance(c, dict) for c in wanted):
            raise json_error(400, _("contacts: a list of objects with a number"))
        for c in wanted:
            if not isinstance(c.get("data", {}), dict):
                raise json_error(400, _("contacts: a contact's data is an object"))
        return contacts_reply(db, campaign_id, check_contacts(db, campaign_id, wanted, region()),
                              body.get("commit") is True, audit)

    @app.post("/api/v1/campaigns/<campaign_id>/contacts/import")
    @requires(*CAMPAIGN_ROLES)
    def api_import(campaign_id, db, audit):
        """A CSV file as the body (text/csv); `?commit=true` adds the rows if none has a problem."""
        if get_campaign(db, campaign_id) is None:
            raise json_error(404, _("no campaign with id %(id)s") % {"id": campaign_id})
        try:
            rows = import_rows(db, campaign_id, decode(request.body.read(MAX_IMPORT_BYTES + 1)))
        except CsvError as exc:
            raise json_error(400, str(exc)) from None
        return contacts_reply(db, campaign_id, rows, request.query.get("commit") == "true", audit)

    def contacts_reply(db, campaign_id: str, rows: list[dict], commit: bool, audit) -> dict:
        """As the customers' import answers: the check alone is a 200; a commit with a bad row a 400."""
        bad = [r for r in rows if r["problem"]]
        if not commit or bad:
            response.status = 400 if commit else 200
            return {"imported": 0, "rows": rows, "problems": len(bad)}
        try:
            added = store.add_contacts(campaign_id, rows)
        except CampaignError as exc:
            raise _refusal(exc) from None
        audit.record("campaign.import", campaign_id, {"contacts": added})
        response.status = 201
        return {"imported": added, "rows": rows, "problems": 0}

    @app.get("/api/v1/campaigns/<campaign_id>/rules")
    @requires(*CAMPAIGN_ROLES)
    def api_rules(campaign_id, db):
        if get_campaign(db, campaign_id) is None:
            raise json_error(404, _("no campaign with id %(id)s") % {"id": campaign_id})
        return {"rules": list_rules(db, campaign_id)}

    @app.post("/api/v1/campaigns/<campaign_id>/rules")
    @requires(*CAMPAIGN_ROLES)
    def api_rule_add(campaign_id, user, audit):
        body = json_body()
        try:
            rule = store.add_rule(campaign_id, body.get("field"), body.get("days_before"), user)
        except CampaignError as exc:
            raise _refusal(exc) from None
        audit.record("campaign.rule_add", campaign_id, {"field": rule["field"], "days_before": rule["days_before"]})
        response.status = 201
        return {"rule": rule}

    @app.delete("/api/v1/campaigns/<campaign_id>/rules/<rule_id>")
    @requires(*CAMPAIGN_ROLES)
    def api_rule_remove(campaign_id, rule_id, audit):
        if not store.remove_rule(campaign_id, rule_id):
            raise json_error(404, _("no such rule in this campaign"))
        audit.record("campaign.rule_remove", campaign_id, {"rule": rule_id})
        return {"removed": rule_id}

    @app.get("/api/v1/dnc")
    @requires(*CAMPAIGN_ROLES)
    def api_dnc(db):
        return {"numbers": dnc_list(db, request.query.getunicode("q", default="")[:40])}

    @app.post("/api/v1/dnc")
    @requires(*CAMPAIGN_ROLES)
    def api_dnc_add(user, audit):
        body = json_body()
        numbers, reason = body.get("numbers"), body.get("reason") or ""
        if not isinstance(numbers, list) or not all(isinstance(n, str) for n in numbers) or not isinstance(reason, str):
            raise json_error(400, _("numbers: a list of phone numbers; reason: a text"))
        try:
            added = add_dnc(user, "\n".join(numbers), reason, audit)
        except CampaignError as exc:
            raise _refusal(exc) from None
        response.status = 201
        return {"added": added}

    @app.delete("/api/v1/dnc/<number>")
    @requires(*CAMPAIGN_ROLES)
    def api_dnc_remove(number, audit):
        try:
            key = normalize(number, region())
        except PhoneNumberError:
            key = number
        if not store.remove_dnc(key):
            raise json_error(404, _("%(number)s is not on the do-not-call list") % {"number": number[:40]})
        audit.record("dnc.remove", key, {})
        return {"removed": key}

    return store


def changes(before: dict, after: dict) -> dict:
    """The audit's detail of an edit: each changed field's [old, new]."""
    return {k: [before[k], after[k]] for k in after if k not in ("updated_at", "version") and before.get(k) != after[k]}
