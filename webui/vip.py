"""Customers' VIP levels, by phone number: the admin's page and API. Written to the customers table (not
to site.toml: customers are records HQ pulls, and many); the engine's customer follower
(firmware/callcenter/customers.py) picks a change up within its refresh interval, no reload needed."""
from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Callable

from bottle import Bottle, redirect, request, response

from firmware.store.phones import PhoneNumberError, normalize

from .auth import requires
from .config import NAV, json_reply
from .customer_cards import CardWriter, StaleCard, lookup, site_region
from .i18n import gettext as _
from .replies import json_error

VIP_ROLES = ("admin",)
# Levels a flow's caller node compares with (firmware/callcenter/flows.py: vip_level 1-9); 0 is ordinary.
MAX_VIP = 9
# A number as caller ID delivers it: digits, at most 20 (firmware/core/commands.py MAX_DIAL), perhaps a +.
NUMBER_RE = re.compile(r"\+?[0-9]{1,20}")
MAX_NAME = 80


class VipError(Exception):
    """A number or level that is not one; `field` names the form field."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def check(number: str, level: object, name: str) -> tuple[str, int, str]:
    number = number.strip()
    if not NUMBER_RE.fullmatch(number):
        raise VipError("number", _("a phone number is 1-20 digits, as caller ID gives it"))
    text = str(level).strip() if isinstance(level, (str, int)) and not isinstance(level, bool) else ""
    vip = int(text) if re.fullmatch(r"\d{1,2}", text) else -1
    if not 1 <= vip <= MAX_VIP:
        raise VipError("vip", _("a level is a whole number from 1 to %(max)d") % {"max": MAX_VIP})
    name = name.strip()
    if len(name) > MAX_NAME or not name.isprintable():
        raise VipError("name", _("a name is at most %(n)d printable characters") % {"n": MAX_NAME})
    return number, vip, name


class VipLevels:
    """The customer cards as the VIP page sees them (webui/customer_cards.py: one card per customer,
    its numbers in E.164). Installed on the app as a plugin that changes no route (as webui/sync.py's
    SyncStore), so that app.close() closes its connection."""

    name = "vip-levels"
    api = 2

    def __init__(self, db_path: str | Path, clock=time.time):
        self.cards = CardWriter(db_path, clock)
        self.state_dir = Path(db_path).parent

    def apply(self, callback, route):
        return callback

    def list(self) -> list[dict]:
        with self.cards.writer.lock:
            rows = self.cards.conn.execute(
                "SELECT c.id, (SELECT n.number FROM customer_numbers n WHERE n.customer_id = c.id"
                " ORDER BY n.created_at, n.rowid LIMIT 1), c.name, c.vip FROM customers c"
                " WHERE c.vip > 0 AND c.merged_into IS NULL ORDER BY c.vip DESC, c.name").fetchall()
        return [{"id": i, "number": n or "", "name": name or "", "vip": vip} for i, n, name, vip in rows]

    def _card(self, number: str) -> dict | None:
        try:
            with self.cards.writer.lock:
                return lookup(self.cards.conn, number, site_region(self.state_dir))
        except PhoneNumberError as exc:
            raise VipError("number", str(exc)) from None

    def set(self, number: str, vip: int, name: str) -> int:
        """Give `number`'s card a level (a card is made if no card has the number); the level it had."""
        for _attempt in range(2):  # a card edited between the lookup and the write: read it again
            card = self._card(number)
            if card is None:
                self.cards.create({"numbers": [normalize(number, site_region(self.state_dir))],
                                   "name": name or None, "vip": vip})
                return 0
            try:
                self.cards.update(card["id"], card["version"], {"vip": vip, **({"name": name} if name else {})})
            except StaleCard:
                continue
            return card["vip"] or 0
        raise VipError("number", _("the customer's card changed while saving: try again"))

    def clear(self, number: str) -> int | None:
        """Make `number`'s customer an ordinary one again (the card stays: it is the customer's, not the
        level's). The level it had, or None if it had none."""
        for _attempt in range(2):
            card = self._card(number)
            if card is None or not card["vip"]:
                return None
            try:
                self.cards.update(card["id"], card["version"], {"vip": 0})
            except StaleCard:
                continue
            return card["vip"]
        raise VipError("number", _("the customer's card changed while saving: try again"))

    def close(self) -> None:
        self.cards.close()


def install(app: Bottle, render: Callable[..., str], levels: VipLevels) -> None:
    """The /config/vip page and /api/v1/config/vip."""
    app.install(levels)

    def page(problems=None, values=None, notice=None, status=200):
        response.status = status
        return render("config_vip", title=_("VIP customers"), active="config", items=levels.list(),
                      problems=problems or {}, values=values or {}, notice=notice, max_vip=MAX_VIP, parts=NAV)

    @app.get("/config/vip")
    @requires(*VIP_ROLES)
    def vip_page():
        saved = request.query.getunicode("saved")
        return page(notice=_("Saved: %(number)s") % {"number": saved} if saved else None)

    @app.post("/config/vip")
    @requires(*VIP_ROLES)
    def vip_save(audit):
        values = {k: request.forms.getunicode(k, default="") for k in ("number", "vip", "name")}
        try:
            number, vip, name = check(values["number"], values["vip"], values["name"])
            before = levels.set(number, vip, name)
        except VipError as exc:
            return page({exc.field: str(exc)}, values, status=422)
        audit.record("customer.vip", number, {"vip": [before, vip]})
        redirect(f"/config/vip?saved={number}")

    @app.post("/config/vip/<number>/delete")
    @requires(*VIP_ROLES)
    def vip_remove(number, audit):
        try:
            before = levels.clear(number)
        except VipError:
            before = None  # not a number any card could hold: nothing to remove
        if before is not None:
            audit.record("customer.vip", number, {"vip": [before, 0]})
        redirect("/config/vip")

    @app.get("/api/v1/config/vip")
    @requires(*VIP_ROLES)
    def api_vip_list():
        return {"items": levels.list()}

    @app.put("/api/v1/config/vip/<number>")
    @requires(*VIP_ROLES)
    def api_vip_set(number, audit):
        body = request.json
        if not isinstance(body, dict):
            raise json_error(400, _("the body must be a JSON object: {\"vip\": level, \"name\": \"...\"}"))
        try:
            number, vip, name = check(number, body.get("vip"), str(body.get("name") or ""))
            before = levels.set(number, vip, name)
        except VipError as exc:
            raise json_reply(422, {"error": str(exc), "fields": {exc.field: str(exc)}}) from None
        audit.record("customer.vip", number, {"vip": [before, vip]})
        return {"number": number, "vip": vip, "name": name, "was": before}

    @app.delete("/api/v1/config/vip/<number>")
    @requires(*VIP_ROLES)
    def api_vip_clear(number, audit):
        try:
            before = levels.clear(number)
        except VipError:
            before = None
        if before is None:
            raise json_error(404, _("%(number)s has no VIP level") % {"number": number[:24]})
        audit.record("customer.vip", number, {"vip": [before, 0]})
        return {"number": number, "vip": 0, "was": before}

