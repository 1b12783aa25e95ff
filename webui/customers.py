"""Customer pages and /api/v1/customers: list and search, a card and its history, create, edit, merge, CSV."""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Callable
from urllib.parse import quote

from bottle import Bottle, HTTPError, HTTPResponse, redirect, request, response

from firmware.store.phones import PhoneNumberError

from .auth import requires, user_has
from .customer_cards import (FIELDS, LABELS, MAX_QUERY, MAX_VIP, PER_PAGE, ROUTING_FIELDS, CardError, CardWriter,
                             StaleCard, check_card, get_card, history, lookup, namesakes, search, site_region)
from .customer_csv import MAX_IMPORT_BYTES, CsvError, decode, export_csv, preview
from .i18n import gettext as _
from .records import DISPOSITIONS
from .replies import json_body, json_error
from .users import site_agents

# docs/requirements.md R17 and R4: agents, supervisors and admins look customers up and keep their
# cards (an agent records who called); supervisors and admins also decide routing (VIP level,
# dedicated agent, blocking), merge cards and move the whole book in and out (import, export).
READ_ROLES = ("admin", "supervisor", "agent")
BOOK_ROLES = ("admin", "supervisor")


def _page_number(raw: str | None) -> int:
    return int(raw) if raw and raw.isdigit() and 0 < len(raw) < 7 else 1


def _query() -> str:
    q = request.query.getunicode("q", default="") or ""
    return q.strip()[:MAX_QUERY]


def _form_data(forms) -> dict:
    """A submitted card form in the shape of the API's JSON body."""
    data = {f: forms.getunicode(f, default="") for f in ("name", "company", "address", "notes", "agent_id",
                                                            "warranty_until", "service_due")}
    data["numbers"] = forms.getunicode("numbers", default="")
    data["vip"] = forms.getunicode("vip", default="0")
    data["blocked"] = forms.get("blocked") == "1"
    return data


def _version(raw) -> object:
    return int(raw) if isinstance(raw, str) and raw.isdigit() and len(raw) < 10 else raw


def install(app: Bottle, render: Callable[..., str], state_dir: Path) -> None:
    """Add the customer pages and /api/v1/customers to the web app; routes that write are handed the
    app's CardWriter as `cards`."""

    def region() -> str:
        return site_region(state_dir)

    def form_for(card: dict) -> dict:
        return {**card, "numbers": "\n".join(n["display"] for n in card["numbers"])}

    def card_page(db, card: dict, user: dict, engine, form: dict | None = None, problems: dict | None = None,
                  merge_problems: dict | None = None, notice: str | None = None, status: int = 200):
        response.status = status
        return render("customer", title=card["name"] or card["id"], active="customers", card=card,
                      dispositions=DISPOSITIONS,
                      form=form or form_for(card), problems=problems or {}, merge_problems=merge_problems or {},
                      history=history(db, card["id"]), agents=site_agents(engine), notice=notice,
                      may_route=user_has(user, *BOOK_ROLES), may_merge=user_has(user, *BOOK_ROLES),
                      duplicates=namesakes(db, card) if user_has(user, *BOOK_ROLES) else [],
                      labels=LABELS, max_vip=MAX_VIP)

    def live_card(db, card_id: str) -> dict:
        card = get_card(db, card_id)
        if card is None:
            raise HTTPError(404, _("There is no customer with id %(id)s.") % {"id": card_id})
        return card

    # --- pages ------------------------------------------------------------------------------------
    @app.get("/customers")
    @requires(*READ_ROLES)
    def customers_page(db, user):
        q, page = _query(), _page_number(request.query.get("page"))
        found, total = search(db, q, region(), page)
        return render("customers", title=_("Customers"), active="customers", q=q, cards=found, total=total,
                      page=page, pages=max(1, math.ceil(total / PER_PAGE)), per_page=PER_PAGE,
                      imported=_page_number(request.query.get("imported")) if request.query.get("imported") else 0,
                      may_book=user_has(user, *BOOK_ROLES))

    @app.get("/customers/new")
    @requires(*READ_ROLES)
    def customer_new(user, engine):
        return render("customer_new", title=_("New customer"), active="customers", form={"vip": 0},
                      problems={}, agents=site_agents(engine), may_route=user_has(user, *BOOK_ROLES),
                      labels=LABELS, max_vip=MAX_VIP)

    @app.post("/customers/new")
    @requires(*READ_ROLES)
    def customer_create(user, engine, audit, cards: CardWriter):
        data = _form_data(request.forms)
        agents = site_agents(engine)
        may_route = user_has(user, *BOOK_ROLES)
        if not may_route:
            for field in ROUTING_FIELDS:
                data.pop(field, None)
        try:
            fields = check_card(data, region(), agents, creating=True, may_route=may_route)
            card_id = cards.create(fields)
        except CardError as exc:
            response.status = 400
            return render("customer_new", title=_("New customer"), active="customers", form=data,
                          problems=exc.problems, agents=agents, may_route=may_route, labels=LABELS,
                          max_vip=MAX_VIP)
        audit.record("customer.create", card_id, fields)
        redirect(f"/customers/{quote(card_id)}?created=1")

    @app.get("/customers/import")
    @requires(*BOOK_ROLES)
    def customer_import_form():
        return render("customer_import", title=_("Import customers"), active="customers", rows=None, text="",
                      error=None, labels=LABELS, fields=FIELDS)

    @app.post("/customers/import")
    @requires(*BOOK_ROLES)
    def customer_import(db, engine, audit, cards: CardWriter):
        # The preview's form sends the file's text back as a multipart field: one over bottle's
        # 100 kB in-memory limit arrives spooled to a file, among the uploads.
        upload = request.files.get("file") or request.files.get("text")
        try:
            text = (decode(upload.file.read(MAX_IMPORT_BYTES + 1)) if upload is not None
                    else request.forms.getunicode("text", default=""))
            rows = preview(db, text, region(), site_agents(engine))
        except CsvError as exc:
            response.status = 400
            return render("customer_import", title=_("Import customers"), active="customers", rows=None,
                          text="", error=str(exc), labels=LABELS, fields=FIELDS)
        bad = [r for r in rows if r["problems"]]
        if request.forms.get("commit") == "1" and not bad and rows:
            try:
                ids = cards.import_all([r["card"] for r in rows])
            except CardError as exc:
                response.status = 409
                return render("customer_import", title=_("Import customers"), active="customers", rows=rows,
                              text=text, error=str(exc), labels=LABELS, fields=FIELDS)
            audit.record("customer.import", "", {"cards": len(ids)})
            redirect(f"/customers?imported={len(ids)}")
        response.status = 400 if bad else 200
        return render("customer_import", title=_("Import customers"), active="customers", rows=rows, text=text,
                      error=None, labels=LABELS, fields=FIELDS)

    @app.get("/customers/<card_id>")
    @requires(*READ_ROLES)
    def customer_page(card_id, db, user, engine):
        card = live_card(db, card_id)
        if card["merged_into"]:
            redirect(f"/customers/{quote(card['merged_into'])}?from={quote(card_id)}")
        notices = {"created": _("Customer created."), "saved": _("Changes saved."),
                   "merged": _("The other card was merged into this one.")}
        notice = next((text for key, text in notices.items() if request.query.get(key)), None)
        if request.query.get("from"):
            notice = _("Card %(id)s was merged into this one.") % {"id": request.query.getunicode("from")}
        return card_page(db, card, user, engine, notice=notice)

    @app.post("/customers/<card_id>")
    @requires(*READ_ROLES)
    def customer_save(card_id, db, user, engine, audit, cards: CardWriter):
        card = live_card(db, card_id)
        data = _form_data(request.forms)
        may_route = user_has(user, *BOOK_ROLES)
        if not may_route:
            for field in ROUTING_FIELDS:
                data.pop(field, None)
        try:
            changes = check_card(data, region(), site_agents(engine), creating=False, may_route=may_route,
                                 current=card)
            diff = cards.update(card_id, _version(request.forms.get("version")), changes)
        except CardError as exc:
            return card_page(db, card, user, engine, form={**card, **data}, problems=exc.problems, status=400)
        except StaleCard as exc:
            return card_page(db, exc.card, user, engine, form={**exc.card, **data}, status=409,
                             problems={"version": _("Someone else changed this card while you edited it. "
                                                    "Their version is shown; your changes are in the form: "
                                                    "save again to keep them.")})
        except KeyError:
            raise HTTPError(404, _("There is no customer with id %(id)s.") % {"id": card_id}) from None
        if diff:
            audit.record("customer.update", card_id, diff)
        redirect(f"/customers/{quote(card_id)}?saved=1")

    @app.post("/customers/<card_id>/merge")
    @requires(*BOOK_ROLES)
    def customer_merge(card_id, db, user, engine, audit, cards: CardWriter):
        card = live_card(db, card_id)
        other = (request.forms.getunicode("other", default="") or "").strip()
        try:
            moved = cards.merge(card_id, other, _version(request.forms.get("version")))
        except CardError as exc:
            return card_page(db, card, user, engine, merge_problems=exc.problems, status=400)
        except StaleCard as exc:
            return card_page(db, exc.card, user, engine, status=409, merge_problems={
                "other": _("Someone else changed this card meanwhile; check it and merge again.")})
        except KeyError:
            raise HTTPError(404, _("There is no customer with id %(id)s.") % {"id": card_id}) from None
        audit.record("customer.merge", card_id, {"merged": other, **moved})
        redirect(f"/customers/{quote(card_id)}?merged=1")

    # --- API --------------------------------------------------------------------------------------
    @app.get("/api/v1/customers/lookup")
    @requires(*READ_ROLES)
    def api_lookup(db):
        number = request.query.getunicode("number", default="") or ""
        try:
            card = lookup(db, number, region())
        except PhoneNumberError:
            raise json_error(400, _("%(number)s is not a phone number") % {"number": number[:40]}) from None
        return {"customer": card}

    @app.get("/api/v1/customers/export.csv")
    @requires(*BOOK_ROLES)
    def api_export(db, audit):
        # R17: who took the customer book off the box is on record.
        audit.record("customer.export", "", {})
        response.content_type = "text/csv; charset=utf-8"
        response.set_header("Content-Disposition", 'attachment; filename="customers.csv"')
        # Whole before the reply starts: the request's database connection closes when this returns.
        return "".join(export_csv(db))

    @app.post("/api/v1/customers/import")
    @requires(*BOOK_ROLES)
    def api_import(db, engine, audit, cards: CardWriter):
        # The file itself as the body (text/csv): bottle spools a large body to a temporary file,
        # where a JSON or form body over its 100 kB in-memory limit would be refused.
        if request.content_type.split(";")[0].strip() != "text/csv":
            raise json_error(415, _("send the CSV file as the body, with Content-Type: text/csv"))
        commit = request.query.get("commit", "false")
        if commit not in ("true", "false"):
            raise json_error(400, _("commit must be true or false"))
        try:
            rows = preview(db, decode(request.body.read(MAX_IMPORT_BYTES + 1)), region(), site_agents(engine))
        except CsvError as exc:
            raise json_error(400, str(exc)) from None
        report = [{"line": r["line"], "problems": r["problems"]} for r in rows]
        bad = sum(1 for r in rows if r["problems"])
        if commit == "false" or bad:
            if commit == "true":
                response.status = 400
            return {"rows": report, "valid": len(rows) - bad, "invalid": bad, "imported": 0}
        try:
            ids = cards.import_all([r["card"] for r in rows])
        except CardError as exc:
            raise json_error(409, str(exc), exc.problems) from None
        audit.record("customer.import", "", {"cards": len(ids)})
        return {"rows": report, "valid": len(rows), "invalid": 0, "imported": len(ids)}

    @app.get("/api/v1/customers")
    @requires(*READ_ROLES)
    def api_customers(db):
        q, page = _query(), _page_number(request.query.get("page"))
        found, total = search(db, q, region(), page)
        return {"customers": found, "total": total, "page": page, "per_page": PER_PAGE,
                "pages": max(1, math.ceil(total / PER_PAGE))}

    @app.post("/api/v1/customers")
    @requires(*READ_ROLES)
    def api_customer_create(db, user, engine, audit, cards: CardWriter):
        data = json_body()
        try:
            fields = check_card(data, region(), site_agents(engine), creating=True,
                                may_route=user_has(user, *BOOK_ROLES))
            card_id = cards.create(fields)
        except CardError as exc:
            raise json_error(400, str(exc), exc.problems) from None
        audit.record("customer.create", card_id, fields)
        response.status = 201
        response.set_header("Location", f"/api/v1/customers/{quote(card_id)}")
        return {"customer": get_card(db, card_id)}

    @app.get("/api/v1/customers/<id>")
    @requires(*READ_ROLES)
    def api_customer(id, db):  # the path parameter's name in webui/openapi.yaml
        card = get_card(db, id)
        if card is None:
            raise json_error(404, _("no customer with id %(id)s") % {"id": id})
        return {"customer": card}

    @app.patch("/api/v1/customers/<id>")
    @requires(*READ_ROLES)
    def api_customer_update(id, db, user, engine, audit, cards: CardWriter):
        card = get_card(db, id)
        if card is None or card["merged_into"]:
            raise json_error(404, _("no customer with id %(id)s") % {"id": id})
        data = json_body()
        try:
            changes = check_card({k: v for k, v in data.items() if k != "version"}, region(), site_agents(engine),
                                 creating=False, may_route=user_has(user, *BOOK_ROLES), current=card)
            diff = cards.update(id, data.get("version"), changes)
        except CardError as exc:
            raise json_error(400, str(exc), exc.problems) from None
        except StaleCard as exc:
            raise HTTPResponse(_json({"error": str(exc), "customer": exc.card}), 409,
                               {"Content-Type": "application/json"}) from None
        except KeyError:
            raise json_error(404, _("no customer with id %(id)s") % {"id": id}) from None
        if diff:
            audit.record("customer.update", id, diff)
        return {"customer": get_card(db, id)}

    @app.post("/api/v1/customers/<id>/merge")
    @requires(*BOOK_ROLES)
    def api_customer_merge(id, db, audit, cards: CardWriter):
        data = json_body()
        other = data.get("other")
        if not isinstance(other, str):
            raise json_error(400, _("give the id of the card to merge into this one as \"other\""),
                             {"other": _("Give a card id.")})
        try:
            moved = cards.merge(id, other, data.get("version"))
        except CardError as exc:
            raise json_error(400, str(exc), exc.problems) from None
        except StaleCard as exc:
            raise HTTPResponse(_json({"error": str(exc), "customer": exc.card}), 409,
                               {"Content-Type": "application/json"}) from None
        except KeyError:
            raise json_error(404, _("no customer with id %(id)s") % {"id": id}) from None
        audit.record("customer.merge", id, {"merged": other, **moved})
        return {"customer": get_card(db, id), "merged": other, **moved}


def _json(body: dict) -> str:
    return json.dumps(body, ensure_ascii=False)
