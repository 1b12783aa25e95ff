"""The IVR flow editor's pages and API through the WSGI app (README, "IVR flows"): who may use them,
checking as the text is typed, saving atomically against the version it was made from, the running
flow swapped, the file put back when the engine refuses, and prompt recordings uploaded and played."""
from __future__ import annotations

import functools
import hashlib
import io
import json
import sqlite3
import wave

import numpy as np
import pytest
from scipy.io import wavfile

from firmware.config.site import DEFAULTS_DIR
from firmware.core.files import previous_of

STOCK = (DEFAULTS_DIR / "flows" / "main.toml").read_text()
# The stock menu with 3 for service too: what an admin typically changes.
EDITED = STOCK.replace('"2" = "service"', '"2" = "service", "3" = "service"')


@pytest.fixture
def flows_dir(engine):
    directory = engine.state / "config" / "flows"
    directory.mkdir(parents=True)
    (directory / "main.toml").write_text(STOCK)
    return directory


def version(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def put(client, name, body, token=None):
    token = client.csrf("/") if token is None else token
    return client.request("PUT", f"/api/v1/flows/{name}", json_body=body, headers={"X-CSRF-Token": token})


def audit_rows(db_path, action):
    conn = sqlite3.connect(db_path)
    try:
        return [dict(zip(("username", "target", "detail"), r)) for r in
                conn.execute("SELECT username, target, detail FROM audit_log WHERE action = ? ORDER BY at", [action])]
    finally:
        conn.close()


def multipart(fields: dict, files: dict) -> tuple[bytes, str]:
    boundary = "----branchline-test-boundary"
    out = io.BytesIO()
    for name, value in fields.items():
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, data) in files.items():
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                  f"Content-Type: audio/wav\r\n\r\n".encode() + data + b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def wav_bytes(rate: int, channels: int, dbm0: float = -19.0, seconds: float = 2.0) -> bytes:
    t = np.arange(int(rate * seconds)) / rate
    x = 22786 * 10 ** (dbm0 / 20) * np.sin(2 * np.pi * 800 * t) * ((t % 1.0) < 0.6)
    data = np.clip(np.round(x), -32768, 32767).astype(np.int16)   # a recorder clips what is too loud
    out = io.BytesIO()
    wavfile.write(out, rate, np.stack([data] * channels, axis=1) if channels > 1 else data)
    return out.getvalue()


# --- who may use it -----------------------------------------------------------------------------------
def test_admins_get_the_editor_and_a_nav_entry(admin, flows_dir):
    page = admin.get("/flows/main")
    assert page.status == 200
    assert 'id="flow-text"' in page.text and 'src="/static/flows.js"' in page.text
    assert 'src="/static/vendor/dagre-3.1.4/dagre.min.js"' in page.text
    listing = admin.get("/flows")
    assert listing.status == 200 and 'href="/flows/main"' in listing.text
    assert '<a href="/flows" class="active">Flows</a>' in listing.text
    assert admin.get("/flows?name=after-hours").location == "/flows/after-hours"


@pytest.mark.parametrize("role", ["supervisor", "agent", "technician"])
def test_other_roles_get_neither_the_editor_nor_its_api(admin, add_user, flows_dir, role):
    user = add_user(f"u-{role}", role)
    assert '<a href="/flows"' not in user.get("/").text
    assert user.get("/flows/main").status == 403
    assert user.get("/api/v1/flows/main").status == 403
    token = user.csrf("/")
    assert put(user, "main", {"text": EDITED, "version": version(STOCK)}, token).status == 403
    assert user.api_post("/api/v1/flows/validate", {"text": STOCK}).status == 403
    assert (flows_dir / "main.toml").read_text() == STOCK


def test_signed_out_visitors_are_sent_to_sign_in(admin, make_client):
    stranger = make_client()
    assert stranger.get("/flows/main").location == "/login?next=%2Fflows%2Fmain"
    assert stranger.get("/api/v1/flows").status == 401


# --- reading and checking -----------------------------------------------------------------------------
def test_the_flow_comes_with_its_version_and_graph(admin, flows_dir):
    body = admin.get("/api/v1/flows/main").json()
    assert body["text"] == STOCK and body["version"] == version(STOCK) and body["running"] is True
    assert body["report"]["valid"] is True
    edges = {(e["from"], e["label"], e["to"]) for e in body["report"]["graph"]["edges"]}
    assert {("main_menu", "1", "sales"), ("main_menu", "2", "service")} <= edges
    listing = admin.get("/api/v1/flows").json()
    assert listing["running"] == "main"
    assert [(f["name"], f["running"], f["version"]) for f in listing["flows"]] == [("main", True, version(STOCK))]


def test_an_unknown_flow_is_404_and_a_bad_name_400(admin, flows_dir):
    assert admin.get("/api/v1/flows/holiday").status == 404
    assert admin.get("/api/v1/flows/..%2Fsite").status in (400, 404)
    reply = admin.get("/api/v1/flows/Main")
    assert reply.status == 400 and "a flow's name is" in reply.json()["error"]


def test_validate_answers_every_problem_per_node_with_the_graph(admin, engine, flows_dir):
    text = STOCK.replace('queue = "service"', 'queue = "billing"').replace("retries = 3", "retries = 30")
    reply = admin.api_post("/api/v1/flows/validate", {"text": text, "name": "main"})
    assert reply.status == 200
    report = reply.json()
    assert report["valid"] is False
    assert {(p["node"], p["field"]) for p in report["problems"]} == {("service", "queue"), ("main_menu", "retries")}
    lines = text.splitlines()
    for p in report["problems"]:
        assert lines[p["line"] - 1].startswith(p["field"])
    assert {n["name"]: n["problems"] for n in report["graph"]["nodes"]}["service"] == 1
    assert (flows_dir / "main.toml").read_text() == STOCK     # checking saves nothing


@pytest.mark.parametrize("body, status, message", [
    ({"name": "main"}, 400, 'send a JSON object with the flow as "text"'),
    ({"text": "#" * 10_001}, 413, "the flow is 10001 characters long; the box takes at most 10000"),
    ({"text": "#" + "\U0001F600" * 6000}, 413, "the flow is 6001 characters long"),
    ({"text": STOCK, "name": "../site"}, 400, "a flow's name is"),
])
def test_validate_refuses_what_is_not_a_flow(admin, flows_dir, body, status, message):
    reply = admin.api_post("/api/v1/flows/validate", body)
    assert reply.status == status and reply.json()["error"].startswith(message)


def test_without_the_engine_the_text_is_shown_but_not_checked(admin, engine, flows_dir):
    engine.stop()
    body = admin.get("/api/v1/flows/main").json()
    assert body["text"] == STOCK and body["report"] is None and "not reachable" in body["engine_error"]
    reply = admin.api_post("/api/v1/flows/validate", {"text": STOCK})
    assert reply.status == 503 and "the engine is not reachable" in reply.json()["error"]
    reply = put(admin, "main", {"text": EDITED, "version": version(STOCK)})
    assert reply.status == 503 and (flows_dir / "main.toml").read_text() == STOCK


def test_the_editor_gets_each_node_types_keys_from_the_engine(admin, flows_dir):
    schema = admin.get("/api/v1/flow-schema").json()
    assert schema["menu"]["timeout"] == {"kind": "float", "doc": "s to wait for the first key after the prompt",
                                         "required": False, "default": 5.0, "min": 1.0, "max": 30.0, "choices": []}
    assert schema["menu"]["choices"]["required"] is True


# --- saving -------------------------------------------------------------------------------------------------
def test_saving_the_running_flow_writes_it_keeps_the_previous_and_swaps_it_in(admin, engine, flows_dir, db_path):
    reply = put(admin, "main", {"text": EDITED, "version": version(STOCK)})
    assert reply.status == 200, reply.text
    body = reply.json()
    assert body == {**body, "name": "main", "version": version(EDITED), "running": True, "reloaded": True}
    assert (flows_dir / "main.toml").read_text() == EDITED
    assert previous_of(flows_dir / "main.toml").read_text() == STOCK
    assert sorted(p.name for p in flows_dir.iterdir()) == ["main.toml", "main.toml.prev"]
    # The engine re-read the file after it was written.
    assert ("flow.reload", {"text": EDITED}) in engine.commands
    [row] = audit_rows(db_path, "flow.update")
    detail = json.loads(row["detail"])
    assert row["username"] == "admin" and row["target"] == "main"
    assert detail["version"] == version(EDITED) and detail["previous"] == version(STOCK) and detail["running"]
    assert '+choices = { "1" = "sales", "2" = "service", "3" = "service" }' in detail["diff"]


def test_the_previous_version_can_be_read_back_to_save_again(admin, flows_dir):
    assert admin.get("/api/v1/flows/main/previous").status == 404
    assert put(admin, "main", {"text": EDITED, "version": version(STOCK)}).status == 200
    previous = admin.get("/api/v1/flows/main/previous").json()
    assert previous["text"] == STOCK
    # Putting it back is a save like any other, from the current version.
    assert put(admin, "main", {"text": previous["text"], "version": version(EDITED)}).status == 200
    assert (flows_dir / "main.toml").read_text() == STOCK


def test_a_save_from_a_stale_version_is_refused_and_changes_nothing(admin, engine, flows_dir, db_path):
    on_disk = STOCK.replace("retries = 3", "retries = 2")      # edited by someone else meanwhile
    (flows_dir / "main.toml").write_text(on_disk)
    reply = put(admin, "main", {"text": EDITED, "version": version(STOCK)})
    assert reply.status == 409
    assert reply.json()["version"] == version(on_disk) and "changed on the box" in reply.json()["error"]
    assert (flows_dir / "main.toml").read_text() == on_disk and not previous_of(flows_dir / "main.toml").exists()
    assert not [c for c, _ in engine.commands if c == "flow.reload"] and audit_rows(db_path, "flow.update") == []


def test_an_invalid_flow_is_not_saved_and_its_problems_come_back(admin, engine, flows_dir):
    bad = STOCK.replace('"2" = "service"', '"2" = "servce"')
    reply = put(admin, "main", {"text": bad, "version": version(STOCK)})
    assert reply.status == 422
    assert [(p["node"], p["field"]) for p in reply.json()["report"]["problems"]] == [
        ("main_menu", "choices"), ("service", "")]
    assert (flows_dir / "main.toml").read_text() == STOCK


def test_when_the_engine_refuses_the_saved_flow_the_file_is_put_back(admin, engine, flows_dir, db_path):
    older = STOCK.replace("retries = 3", "retries = 2")
    previous_of(flows_dir / "main.toml").write_text(older)
    engine.refusals["flow.reload"] = "flow not reloaded, the running flow stays: disk changed under it"
    reply = put(admin, "main", {"text": EDITED, "version": version(STOCK)})
    assert reply.status == 409 and "the file was put back" in reply.json()["error"]
    assert (flows_dir / "main.toml").read_text() == STOCK
    assert previous_of(flows_dir / "main.toml").read_text() == older
    assert audit_rows(db_path, "flow.update") == []


def test_a_new_flow_is_created_from_no_version_and_not_swapped_in(admin, engine, flows_dir, db_path):
    holiday = '[flow]\nstart = "goodbye"\n\n[nodes.goodbye]\ntype = "hangup"\nprompts = ["closed", "goodbye"]\n'
    reply = put(admin, "holiday", {"text": holiday, "version": None})
    assert reply.status == 200 and reply.json()["running"] is False and reply.json()["reloaded"] is False
    assert (flows_dir / "holiday.toml").read_text() == holiday
    assert not [c for c, _ in engine.commands if c == "flow.reload"]
    assert [r["target"] for r in audit_rows(db_path, "flow.create")] == ["holiday"]
    # Creating it again from no version is a stale save.
    assert put(admin, "holiday", {"text": holiday, "version": None}).status == 409


def test_a_save_without_the_csrf_token_is_refused(admin, flows_dir):
    reply = admin.request("PUT", "/api/v1/flows/main", json_body={"text": EDITED, "version": version(STOCK)})
    assert reply.status == 403 and "CSRF" in reply.json()["error"]
    assert (flows_dir / "main.toml").read_text() == STOCK


# --- prompts ----------------------------------------------------------------------------------------------
def upload(client, name, data, filename="promo.wav"):
    raw = multipart({"name": name}, {"file": (filename, data)})
    return client.request("POST", "/api/v1/prompts", raw=raw, headers={"X-CSRF-Token": client.csrf("/")})


def test_an_uploaded_recording_becomes_a_prompt_the_flow_may_play(admin, engine, flows_dir, db_path):
    text = STOCK.replace('prompts = ["welcome"]', 'prompts = ["welcome", "promo"]')
    before = admin.api_post("/api/v1/flows/validate", {"text": text}).json()
    assert [p["message"] for p in before["problems"]] == ["no prompt named 'promo'"]
    reply = upload(admin, "promo", wav_bytes(44100, 2))
    assert reply.status == 201, reply.text
    report = reply.json()
    assert report["name"] == "promo" and report["source"] == "44100 Hz 16-bit 2 channels"
    assert abs(report["active_dbm0"] + 19.0) < 0.3 and report["reloaded"] is True
    with wave.open(str(engine.state / "prompts" / "en" / "promo.wav")) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth(), w.getnframes()) == (8000, 1, 2, 16000)
    assert ("prompts.reload", {}) in engine.commands
    assert admin.api_post("/api/v1/flows/validate", {"text": text}).json()["valid"] is True
    [row] = audit_rows(db_path, "prompt.upload")
    assert row["target"] == "promo" and json.loads(row["detail"])["filename"] == "promo.wav"
    listed = {p["name"]: p for p in admin.get("/api/v1/prompts").json()["prompts"]}
    assert listed["promo"] == {"name": "promo", "own": True, "seconds": 2.0}
    assert listed["welcome"]["own"] is False


def test_a_16_khz_mono_recording_is_taken_too(admin, engine, flows_dir):
    reply = upload(admin, "welcome", wav_bytes(16000, 1, seconds=1.0))
    assert reply.status == 201 and reply.json()["source"] == "16000 Hz 16-bit mono"
    # A recording named like a stock prompt replaces it on this box; the stock file is untouched.
    assert {p["name"]: p["own"] for p in admin.get("/api/v1/prompts").json()["prompts"]}["welcome"] is True


# Each way a recording is refused is shown on the converter itself (tests/firmware/test_prompt_import.py);
# here, that a refusal reaches the admin and leaves nothing behind.
@pytest.mark.parametrize("name, data, status, message", [
    ("hot", wav_bytes(16000, 1, dbm0=10.0), 422, "the recording was not taken: clipped"),
    ("Bad Name", wav_bytes(8000, 1), 400, "a prompt's name is"),
])
def test_recordings_that_cannot_be_prompts_are_refused(admin, engine, flows_dir, name, data, status, message):
    reply = upload(admin, name, data)
    assert reply.status == status and reply.json()["error"].startswith(message)
    assert not (engine.state / "prompts" / "en" / f"{name}.wav").exists()
    assert ("prompts.reload", {}) not in engine.commands


def test_an_upload_over_the_limit_is_refused_before_it_is_read(admin, flows_dir):
    body, ctype = multipart({"name": "big"}, {"file": ("big.wav", b"x" * (16 * 1024 * 1024))})
    reply = admin.request("POST", "/api/v1/prompts", raw=(body, ctype), headers={"X-CSRF-Token": admin.csrf("/")})
    assert reply.status == 413 and reply.json()["error"].startswith("the recording is 16.0 MB; the box takes at most 16 MB")


def test_a_prompt_is_played_from_the_box(admin, flows_dir):
    reply = admin.get("/api/v1/prompts/welcome")
    assert reply.status == 200 and reply.header("Content-Type") == "audio/wav"
    assert reply.body[:4] == b"RIFF"
    assert admin.get("/api/v1/prompts/nothing-here").status == 404
    assert admin.get("/api/v1/prompts/..%2Fsite").status in (400, 404)


# --- the OpenAPI file describes what the routes answer --------------------------------------------------
@functools.cache
def openapi() -> dict:
    import yaml

    from webui.app import HERE
    return yaml.safe_load((HERE / "openapi.yaml").read_text())


def reply_schema(method: str, path: str, status: int):
    import jsonschema_rs

    doc = openapi()
    reply = doc["paths"][path][method.lower()]["responses"][str(status)]
    if "$ref" in reply:
        reply = doc["components"]["responses"][reply["$ref"].rsplit("/", 1)[1]]
    schema = reply["content"]["application/json"]["schema"]
    return jsonschema_rs.validator_for({**schema, "components": doc["components"]})


def test_the_replies_match_the_openapi_file(admin, engine, flows_dir):
    checks = [
        ("GET", "/api/v1/flows", 200, admin.get("/api/v1/flows")),
        ("GET", "/api/v1/flows/{name}", 200, admin.get("/api/v1/flows/main")),
        ("POST", "/api/v1/flows/validate", 200, admin.api_post("/api/v1/flows/validate", {"text": STOCK + "x"})),
        ("PUT", "/api/v1/flows/{name}", 422, put(admin, "main", {"text": STOCK + "x", "version": version(STOCK)})),
        ("PUT", "/api/v1/flows/{name}", 200, put(admin, "main", {"text": EDITED, "version": version(STOCK)})),
        ("PUT", "/api/v1/flows/{name}", 409, put(admin, "main", {"text": EDITED, "version": version(STOCK)})),
        ("GET", "/api/v1/prompts", 200, admin.get("/api/v1/prompts")),
        ("GET", "/api/v1/flow-schema", 200, admin.get("/api/v1/flow-schema")),
        ("GET", "/api/v1/flows/{name}/previous", 200, admin.get("/api/v1/flows/main/previous")),
        ("GET", "/api/v1/prompts/{name}", 404, admin.get("/api/v1/prompts/none")),
    ]
    for method, path, status, reply in checks:
        assert reply.status == status, (method, path, reply.text)
        errors = [e.message for e in reply_schema(method, path, status).iter_errors(reply.json())]
        assert errors == [], (method, path, errors)
