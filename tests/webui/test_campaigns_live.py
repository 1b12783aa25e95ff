"""A campaign made in the browser's API runs on the simulated board (docs/architecture.md §22, §23): the web
writes the definition and the contact list, the engine's dialer calls the numbers, and the page shows each
contact's outcome as the dialer wrote it."""
from __future__ import annotations

import time

from conftest import Client, api_call
from scenario_builder import external, queue, run_section, scenario
from webui import auth
from webui.app import create_app

PERSON, BUSY = "13920000001", "13920000004"
SCENARIO = scenario(
    run_section(3600, trunks=4, reserved_incoming=1, outbound_lines=2),
    queue("sales"), queue("service"),
    external(PERSON, kind="person", answer_after=1.0, talk=6.0),
    external(BUSY, kind="busy"),
)
MESSAGE = {"name": "Service notice", "mode": "message", "purpose": "notification", "prompt": "goodbye",
           "confirm_key": "1", "hours": {"days": [1, 2, 3, 4, 5, 6, 7], "start": "00:00", "end": "23:59"},
           "skip_holidays": False, "max_attempts": 1, "max_lines": 2, "pace": 30}


def until(condition, what: str, timeout: float = 60.0):
    """The engine runs in real time: wait for `condition()` to hold, as a supervisor watching the page would."""
    deadline = time.monotonic() + timeout
    while not (found := condition()):
        assert time.monotonic() < deadline, f"no {what} within {timeout} s"
        time.sleep(0.1)
    return found


def test_a_message_campaign_made_in_the_web_calls_its_contacts_and_the_page_shows_the_outcomes(
        live_box, password, monkeypatch):
    monkeypatch.setattr(auth, "SCRYPT_N", 2 ** 10)
    _run, state = live_box(SCENARIO)
    app = create_app(state / "branchline.db", state / "control.sock")
    try:
        admin = Client(app)
        assert admin.setup("admin", password).status == 303
        assert admin.login("admin", password).status == 303
        made = api_call(admin, "POST", "/api/v1/campaigns", MESSAGE)
        assert made.status == 201, made.text
        campaign = made.json()["campaign"]["id"]
        added = admin.post(f"/api/v1/campaigns/{campaign}/contacts/import?commit=true",
                           raw=(f"电话,姓名\n{PERSON},Li Lei\n{BUSY},Wang Fang\n".encode(), "text/csv"),
                           headers={"X-CSRF-Token": admin.csrf("/")})
        assert added.status == 201, added.text
        assert api_call(admin, "POST", f"/api/v1/campaigns/{campaign}/start").status == 200

        def ended() -> dict | None:
            contacts = admin.get(f"/api/v1/campaigns/{campaign}/contacts").json()["contacts"]
            done = {c["name"]: (c["state"], c["outcome"]) for c in contacts}
            return done if all(state in ("done", "failed") for state, _o in done.values()) else None

        results = until(ended, "outcome for every contact")
        assert results == {"Li Lei": ("done", "answered_human"), "Wang Fang": ("failed", "busy")}
        page = admin.get(f"/campaigns/{campaign}")
        assert page.status == 200
        assert "answered by a person" in page.text and ">busy<" in page.text
        exported = admin.get(f"/campaigns/{campaign}/contacts.csv").body.decode("utf-8-sig")
        assert "answered_human" in exported and "busy" in exported
    finally:
        app.close()
