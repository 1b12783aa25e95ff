"""Webhooks for admins: the /webhooks pages and /api/v1/webhooks (endpoints, test deliveries, recent deliveries
and retries), every change audited. Other parts enqueue events with `enqueue` (webui/outbox.py) inside the
transaction of their change; webui/webhook_delivery.py sends them."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Callable

from bottle import Bottle, HTTPError, redirect, request, response


from .auth import requires
from .i18n import gettext as _
from .outbox import (EVENTS, OutboxError, check_endpoint, create_endpoint, delete_endpoint, enqueue, enqueue_test,
                     get_endpoint, list_endpoints, recent_deliveries, retry_delivery, update_endpoint)
from .replies import json_body, json_error
from .webhook_delivery import SIGNATURE_HEADER
from .write_store import WriteStore

WEBHOOK_ROLES = ("admin",)
ID_CHARS = frozenset("0123456789abcdef")


def _version(value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).isdigit():
        raise OutboxError(_("Say which version of the endpoint you edited (version, a whole number)."),
                          {"version": _("Required.")})
    return int(value)


def _form() -> dict:
    forms = request.forms.decode()
    return {"url": forms.get("url", ""), "events": forms.getall("events"), "description": forms.get("description", ""),
            "enabled": forms.get("enabled", ""), "secret": forms.get("secret", ""), "version": forms.get("version")}


def install(app: Bottle, render: Callable[..., str], db_path: str | Path, clock) -> None:
    """Add the webhook pages and /api/v1/webhooks routes to the web app."""
    store = WriteStore(db_path, clock, "webhook-store")
    app.install(store)

    def find(db, endpoint_id: str, api: bool) -> dict:
        found = get_endpoint(db, endpoint_id) if len(endpoint_id) == 32 and set(endpoint_id) <= ID_CHARS else None
        if found is None:
            message = _("There is no webhook endpoint with id %(id)s.") % {"id": endpoint_id[:40]}
            raise json_error(404, message) if api else HTTPError(404, message)
        return found

    def list_page(db, form: Mapping | None = None, problems: dict | None = None, error: str | None = None,
                  created: dict | None = None) -> str:
        return render("webhooks", title=_("Webhooks"), active="webhooks", endpoints=list_endpoints(db),
                      deliveries=recent_deliveries(db), events=EVENTS, form=form or {"events": list(EVENTS)},
                      problems=problems or {}, error=error, created=created, signature_header=SIGNATURE_HEADER)

    def endpoint_page(db, endpoint: dict, problems: dict | None = None, error: str | None = None,
                      secret: str | None = None, notice: str | None = None) -> str:
        return render("webhook", title=endpoint["url"], active="webhooks", endpoint=endpoint, events=EVENTS,
                      deliveries=recent_deliveries(db, endpoint["id"]), problems=problems or {}, error=error,
                      secret=secret, notice=notice, signature_header=SIGNATURE_HEADER)

    def audit_create(audit, created: dict) -> None:
        audit.record("webhook.create", created["id"], {"url": created["url"], "events": created["events"],
                                                       "enabled": created["enabled"]})

    # --- pages -----------------------------------------------------------------------------------
    @app.get("/webhooks")
    @requires(*WEBHOOK_ROLES)
    def webhooks_page(db):
        return list_page(db)

    @app.post("/webhooks")
    @requires(*WEBHOOK_ROLES)
    def webhooks_add(db, audit):
        data = _form()
        data["enabled"] = True
        try:
            created = store.write(create_endpoint, check_endpoint(data, creating=True))
        except OutboxError as exc:
            response.status = exc.status
            return list_page(db, {**data, "secret": ""}, exc.problems, str(exc))
        audit_create(audit, created)
        return list_page(db, created=created)

    @app.get("/webhooks/<endpoint_id>")
    @requires(*WEBHOOK_ROLES)
    def webhook_page(endpoint_id, db):
        return endpoint_page(db, find(db, endpoint_id, api=False))

    @app.post("/webhooks/<endpoint_id>")
    @requires(*WEBHOOK_ROLES)
    def webhook_save(endpoint_id, db, audit):
        endpoint = find(db, endpoint_id, api=False)
        data = _form()
        try:
            saved, changed = store.write(update_endpoint, endpoint_id, check_endpoint(data, creating=False),
                                         _version(data["version"]))
        except OutboxError as exc:
            response.status = exc.status
            return endpoint_page(db, {**endpoint, **{k: data[k] for k in ("url", "description")}}, exc.problems,
                                 str(exc))
        if changed:
            audit.record("webhook.update", endpoint_id, changed)
        return endpoint_page(db, saved, secret=data["secret"] or None, notice=_("Saved."))

    @app.post("/webhooks/<endpoint_id>/test")
    @requires(*WEBHOOK_ROLES)
    def webhook_test(endpoint_id, user, db, audit):
        find(db, endpoint_id, api=False)
        event_id = store.write(enqueue_test, endpoint_id, user["username"])
        audit.record("webhook.test", endpoint_id, {"event_id": event_id})
        redirect(f"/webhooks/{endpoint_id}")

    @app.post("/webhooks/<endpoint_id>/retry")
    @requires(*WEBHOOK_ROLES)
    def webhook_retry(endpoint_id, db, audit):
        find(db, endpoint_id, api=False)
        delivery = request.forms.get("delivery", "")
        if not delivery.isdigit() or not store.write(retry_delivery, endpoint_id, int(delivery)):
            raise HTTPError(404, _("There is no delivery %(id)s waiting for this endpoint.") % {"id": delivery[:20]})
        audit.record("webhook.retry", endpoint_id, {"delivery": int(delivery)})
        redirect(f"/webhooks/{endpoint_id}")

    @app.post("/webhooks/<endpoint_id>/delete")
    @requires(*WEBHOOK_ROLES)
    def webhook_delete(endpoint_id, db, audit):
        find(db, endpoint_id, api=False)
        gone = store.write(delete_endpoint, endpoint_id)
        audit.record("webhook.delete", endpoint_id, {"url": gone["url"]})
        redirect("/webhooks")

    # --- API -------------------------------------------------------------------------------------
    @app.get("/api/v1/webhooks")
    @requires(*WEBHOOK_ROLES)
    def api_webhooks(db):
        return {"endpoints": list_endpoints(db), "events": list(EVENTS)}

    @app.post("/api/v1/webhooks")
    @requires(*WEBHOOK_ROLES)
    def api_webhook_create(audit):
        try:
            created = store.write(create_endpoint, check_endpoint(json_body(), creating=True))
        except OutboxError as exc:
            raise json_error(exc.status, str(exc), exc.problems) from None
        audit_create(audit, created)
        response.status = 201
        return {"endpoint": created}

    @app.get("/api/v1/webhooks/<endpoint_id>")
    @requires(*WEBHOOK_ROLES)
    def api_webhook(endpoint_id, db):
        return {"endpoint": find(db, endpoint_id, api=True), "deliveries": recent_deliveries(db, endpoint_id)}

    @app.put("/api/v1/webhooks/<endpoint_id>")
    @requires(*WEBHOOK_ROLES)
    def api_webhook_update(endpoint_id, db, audit):
        find(db, endpoint_id, api=True)
        body = json_body()
        try:
            saved, changed = store.write(update_endpoint, endpoint_id, check_endpoint(body, creating=False),
                                         _version(body.get("version")))
        except OutboxError as exc:
            raise json_error(exc.status, str(exc), exc.problems) from None
        if changed:
            audit.record("webhook.update", endpoint_id, changed)
        return {"endpoint": saved}

    @app.delete("/api/v1/webhooks/<endpoint_id>")
    @requires(*WEBHOOK_ROLES)
    def api_webhook_delete(endpoint_id, db, audit):
        find(db, endpoint_id, api=True)
        gone = store.write(delete_endpoint, endpoint_id)
        audit.record("webhook.delete", endpoint_id, {"url": gone["url"]})
        return {"deleted": endpoint_id}

    @app.post("/api/v1/webhooks/<endpoint_id>/test")
    @requires(*WEBHOOK_ROLES)
    def api_webhook_test(endpoint_id, user, db, audit):
        find(db, endpoint_id, api=True)
        event_id = store.write(enqueue_test, endpoint_id, user["username"])
        audit.record("webhook.test", endpoint_id, {"event_id": event_id})
        response.status = 202
        return {"event_id": event_id}


__all__ = ["WEBHOOK_ROLES", "enqueue", "install"]
