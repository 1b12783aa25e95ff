"""The flow editor's API on a live engine (README, "IVR flows"): the web checks a flow with the
engine, saves it, and the engine swaps it in (that the next caller then gets the new menu is shown
in a browser: tests/e2e/test_flow_editor_in_browser.py)."""
from __future__ import annotations

import hashlib

from conftest import Client
from e2e.flow_box import MENU_AFTER, MENU_BEFORE, STOCK, start
from firmware.core.control import ControlClient
from webui.app import create_app


def test_a_saved_menu_is_swapped_into_the_engine(live_box, tmp_path, password):
    run, state = start(live_box, tmp_path)
    app = create_app(state / "branchline.db", state / "control.sock")
    try:
        admin = Client(app)
        assert admin.setup("admin", password).status == 303 and admin.login("admin", password).status == 303
        engine = ControlClient(state / "control.sock")
        flow = admin.get("/api/v1/flows/main").json()
        assert flow["running"] is True and flow["report"]["valid"] is True
        assert flow["version"] == hashlib.sha256(STOCK.encode()).hexdigest()
        edited = STOCK.replace(MENU_BEFORE, MENU_AFTER)
        report = admin.api_post("/api/v1/flows/validate", {"text": edited}).json()
        assert ("main_menu", "3", "service") in {(e["from"], e["label"], e["to"]) for e in report["graph"]["edges"]}
        reply = admin.request("PUT", "/api/v1/flows/main", json_body={"text": edited, "version": flow["version"]},
                              headers={"X-CSRF-Token": admin.csrf("/")})
        assert reply.status == 200 and reply.json()["reloaded"] is True
        assert dict(run.engine.app.flow.nodes["main_menu"].choices)["3"] == "service"
        assert engine.call("status")["flow"] == {"name": "main", "start": "welcome", "nodes": 5}
        stale = admin.request("PUT", "/api/v1/flows/main", json_body={"text": STOCK, "version": flow["version"]},
                              headers={"X-CSRF-Token": admin.csrf("/")})
        assert stale.status == 409 and dict(run.engine.app.flow.nodes["main_menu"].choices)["3"] == "service"
        engine.close()
    finally:
        app.close()
