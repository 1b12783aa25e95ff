"""The flow editor's API on a live engine (README, "IVR flows"): the web checks a flow with the
engine, saves it, and the engine swaps it in; the next caller gets the new menu."""
from __future__ import annotations

import hashlib
import time

from conftest import Client
from e2e.flow_box import MENU_AFTER, MENU_BEFORE, STOCK, reached_service_by_3, start
from firmware.core.control import ControlClient
from webui.app import create_app


def wait_for(fn, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := fn():
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def test_a_saved_menu_is_swapped_into_the_engine_and_the_next_caller_gets_it(live_box, tmp_path, password):
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
        # A caller has pressed 3 and was refused it: nobody reached service that way.
        wait_for(lambda: any("3" in (c["digits"] or "") for c in engine.call("status")["calls"]))
        assert reached_service_by_3(engine.call("status")) == []
        reply = admin.request("PUT", "/api/v1/flows/main", json_body={"text": edited, "version": flow["version"]},
                              headers={"X-CSRF-Token": admin.csrf("/")})
        assert reply.status == 200 and reply.json()["reloaded"] is True
        assert dict(run.engine.app.flow.nodes["main_menu"].choices)["3"] == "service"
        wait_for(lambda: reached_service_by_3(engine.call("status")))
        engine.close()
    finally:
        app.close()
