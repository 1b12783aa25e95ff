"""The HQ sync API on the box: bearer tokens, the change feed, recording downloads, acks, the admin's token API."""
import base64
import hashlib
import json
import logging
import re
from pathlib import Path

import pytest

from firmware.store import open_db
from firmware.store.sync import MAX_LIMIT, create_token, revoke_token

from conftest import SAMPLE_CALLS


@pytest.fixture
def hq_token(db_path, app):
    """A fresh HQ token made at run time (the repository holds none); returns (token id, token)."""
    db = open_db(db_path)
    row, token = create_token(db.conn, "HQ test", 1.0)
    db.conn.close()
    return row["id"], token


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def lines(reply) -> tuple[list[dict], dict]:
    assert reply.header("Content-Type").startswith("application/x-ndjson")
    rows = [json.loads(line) for line in reply.text.splitlines()]
    return rows[:-1], rows[-1]


# --- tokens ----------------------------------------------------------------------------------------------
def test_admin_creates_lists_and_revokes_hq_tokens(admin, db_path):
    reply = admin.api_post("/api/v1/hq/tokens", {"name": "HQ reporting"})
    assert reply.status == 201, reply.text
    made = reply.json()
    assert made["token"].startswith("blhq_") and made["created_by"] == "admin" and "token_hash" not in made
    listed = admin.get("/api/v1/hq/tokens").json()["tokens"]
    assert [t["id"] for t in listed] == [made["id"]]
    assert made["token"] not in json.dumps(listed) and "token_hash" not in listed[0]
    stored = open_db(db_path).execute("SELECT token_hash FROM hq_tokens").fetchone()[0]
    assert stored == hashlib.sha256(made["token"].encode()).hexdigest()
    assert admin.get("/api/v1/sync/changes", headers=bearer(made["token"])).status == 200
    reply = admin.api_post(f"/api/v1/hq/tokens/{made['id']}/revoke")
    assert reply.status == 200 and reply.json()["revoked_at"] is not None
    assert admin.get("/api/v1/sync/changes", headers=bearer(made["token"])).status == 401
    assert admin.api_post("/api/v1/hq/tokens/hq-nope/revoke").status == 404
    assert admin.api_post("/api/v1/hq/tokens", {"name": ""}).status == 400


def test_only_admins_manage_tokens_and_forms_need_csrf(admin, add_user):
    assert admin.post("/api/v1/hq/tokens", json_body={"name": "HQ"}).status == 403      # no CSRF token
    for role in ("supervisor", "technician", "agent"):
        user = add_user(f"user-{role}", role)
        assert user.get("/api/v1/hq/tokens").status == 403
        assert user.api_post("/api/v1/hq/tokens", {"name": "HQ"}).status == 403


@pytest.mark.parametrize("header", [None, "Basic YWRtaW46eA==", "Bearer", "Bearer blhq_wrong", "bearer  "])
def test_sync_needs_a_valid_token(client, hq_token, header, caplog):
    caplog.set_level(logging.WARNING, logger="webui.sync")
    reply = client.get("/api/v1/sync/changes?since=0", headers={"Authorization": header} if header else None)
    assert reply.status == 401
    assert reply.header("WWW-Authenticate") == 'Bearer realm="branchline-sync"'
    assert "error" in reply.json()
    assert any("refused" in r.message and "192.0.2.10" in r.message for r in caplog.records)


def test_revoked_token_gets_401_and_is_logged(client, db_path, hq_token, caplog):
    token_id, token = hq_token
    db = open_db(db_path)
    revoke_token(db.conn, token_id, 2.0)
    caplog.set_level(logging.WARNING, logger="webui.sync")
    reply = client.get("/api/v1/sync/changes", headers=bearer(token))
    assert reply.status == 401 and token_id in reply.json()["error"] and "revoked" in reply.json()["error"]
    assert any(token_id in r.message for r in caplog.records)
    assert not any(token in r.message for r in caplog.records)
    assert client.post("/api/v1/sync/ack", json_body={"seq": 0}, headers=bearer(token)).status == 401


# --- the change feed -----------------------------------------------------------------------------------
def test_changes_are_json_lines_in_sequence_with_a_trailer(client, records, hq_token):
    _, token = hq_token
    seen, since, pages = [], 0, 0
    while True:
        reply = client.get(f"/api/v1/sync/changes?since={since}&limit=50", headers=bearer(token))
        assert reply.status == 200
        changes, trailer = lines(reply)
        seen += changes
        pages += 1
        assert trailer["count"] == len(changes) and trailer["limit"] == 50 and len(trailer["box"]) == 32
        since = trailer["next"]
        if not trailer["more"]:
            break
    total = 2 + 3 + SAMPLE_CALLS + 9        # queues, agents, calls, call-0001's events
    assert len(seen) == total and pages == 3 and since == total
    assert [c["seq"] for c in seen] == list(range(1, total + 1))
    call = next(c for c in seen if c["table"] == "calls" and c["id"] == "call-0007")
    assert call["row"]["name"] == "Lin Wei" and call["row"]["seq"] == call["seq"]


def test_limit_is_capped(client, records, hq_token):
    _, token = hq_token
    _, trailer = lines(client.get("/api/v1/sync/changes?limit=100000", headers=bearer(token)))
    assert trailer["limit"] == MAX_LIMIT


@pytest.mark.parametrize("query, reason", [
    ("since=abc", "since must be a whole number"), ("since=-1", "since must be a whole number"),
    ("since=1.5", "since must be a whole number"), ("limit=0", "limit must be"), ("limit=x", "limit must be"),
    ("since=100000", "ahead of this box's latest change"),
])
def test_malformed_cursor_gets_400_with_the_reason(client, records, hq_token, query, reason):
    _, token = hq_token
    reply = client.get(f"/api/v1/sync/changes?{query}", headers=bearer(token))
    assert reply.status == 400 and reason in reply.json()["error"]


# --- recordings ----------------------------------------------------------------------------------------
@pytest.fixture
def recording(db_path, app):
    """A 20,000-byte recording under <state>/recordings/ with its record; returns its bytes."""
    data = bytes(range(256)) * 78 + b"tail" * 8
    path = db_path.parent / "recordings" / "2026" / "01" / "02" / "call-1.wav"
    path.parent.mkdir(parents=True)
    path.write_bytes(data)
    db = open_db(db_path)
    db["recordings"].insert({"id": "rec1", "call_id": "call-1", "path": "2026/01/02/call-1.wav", "size": len(data),
                             "sha256": hashlib.sha256(data).hexdigest(), "created_at": 1.0})
    db.conn.close()
    return data


def test_recording_download_carries_its_sha256(client, hq_token, recording):
    _, token = hq_token
    reply = client.get("/api/v1/sync/recordings/rec1", headers=bearer(token))
    assert reply.status == 200 and reply.body == recording
    digest = hashlib.sha256(recording).digest()
    assert reply.header("Repr-Digest") == f"sha-256=:{base64.b64encode(digest).decode()}:"
    assert reply.header("ETag") == f'"{digest.hex()}"'
    assert reply.header("Accept-Ranges") == "bytes" and reply.header("Content-Length") == str(len(recording))
    assert reply.header("Content-Type") == "audio/wav"


@pytest.mark.parametrize("header, status, first, last", [
    ("bytes=100-", 206, 100, 19999), ("bytes=5-9", 206, 5, 9), ("bytes=-10", 206, 19990, 19999),
    ("bytes=19990-50000", 206, 19990, 19999), ("bytes=0-0", 206, 0, 0),
    ("bytes=0-10, 20-30", 200, 0, 19999), ("bytes=9-5", 200, 0, 19999), ("items=0-5", 200, 0, 19999),
])
def test_recording_range_requests_resume(client, hq_token, recording, header, status, first, last):
    _, token = hq_token
    reply = client.get("/api/v1/sync/recordings/rec1", headers={**bearer(token), "Range": header})
    assert reply.status == status
    assert reply.body == recording[first:last + 1]
    if status == 206:
        assert reply.header("Content-Range") == f"bytes {first}-{last}/{len(recording)}"


def test_range_past_the_end_and_stale_if_range(client, hq_token, recording):
    _, token = hq_token
    reply = client.get("/api/v1/sync/recordings/rec1", headers={**bearer(token), "Range": "bytes=20000-"})
    assert reply.status == 416 and reply.header("Content-Range") == "bytes */20000"
    # If-Range names another version: the whole file comes back, not a piece of the wrong one.
    reply = client.get("/api/v1/sync/recordings/rec1",
                       headers={**bearer(token), "Range": "bytes=100-", "If-Range": '"0000"'})
    assert reply.status == 200 and reply.body == recording
    etag = f'"{hashlib.sha256(recording).hexdigest()}"'
    reply = client.get("/api/v1/sync/recordings/rec1",
                       headers={**bearer(token), "Range": "bytes=100-", "If-Range": etag})
    assert reply.status == 206 and reply.body == recording[100:]


def test_downloads_never_read_outside_the_recordings_directory(client, db_path, hq_token, recording, tmp_path):
    _, token = hq_token
    (tmp_path / "secret.txt").write_text("top secret")
    (db_path.parent / "recordings" / "link.wav").symlink_to(tmp_path / "secret.txt")
    db = open_db(db_path)
    db["recordings"].insert_all([{"id": "up", "path": "../branchline.db"}, {"id": "abs", "path": "/etc/passwd"},
                                 {"id": "link", "path": "link.wav"}])
    db["voicemails"].insert({"id": "vm", "path": "2026/../../secret.txt"})
    for url in ("recordings/up", "recordings/abs", "recordings/link", "voicemails/vm"):
        reply = client.get(f"/api/v1/sync/{url}", headers=bearer(token))
        assert reply.status == 404 and "outside the recordings directory" in reply.json()["error"], url
        assert b"secret" not in reply.body and b"SQLite" not in reply.body
    for url in ("recordings/..%2Fbranchline.db", "recordings/nope", "calls/call-1", "recordings/%2Fetc%2Fpasswd"):
        reply = client.get(f"/api/v1/sync/{url}", headers=bearer(token))
        assert reply.status == 404 and b"SQLite" not in reply.body, url


# --- acknowledgement and status --------------------------------------------------------------------------
def test_ack_is_stored_per_token_and_shown_in_status(client, records, hq_token, add_user):
    token_id, token = hq_token
    latest = lines(client.get("/api/v1/sync/changes?limit=1", headers=bearer(token)))[1]["latest"]
    # A bearer request needs no CSRF token: no browser sends Authorization on its own.
    reply = client.post("/api/v1/sync/ack", json_body={"seq": latest - 10}, headers=bearer(token))
    assert reply.status == 200 and reply.json() == {"token": token_id, "acked": latest - 10, "latest": latest}
    for body, reason in [({"seq": latest + 1}, "ahead"), ({"seq": -1}, "at least 0"), ({"seq": "5"}, "whole number"),
                         ({}, "send a JSON object"), ([1], "send a JSON object")]:
        reply = client.post("/api/v1/sync/ack", json_body=body, headers=bearer(token))
        assert reply.status == 400 and reason in reply.json()["error"], body
    reply = client.post("/api/v1/sync/ack", headers={**bearer(token), "Content-Type": "application/json"})
    assert reply.status == 400
    tech = add_user("tech1", "technician")
    status = tech.get("/api/v1/hq/status").json()
    assert status["acked_seq"] == latest - 10 and status["latest_seq"] == latest
    assert status["not_taken"] == 10 and status["hq_tokens"][0]["acked_from"] == "192.0.2.10"
    assert status["oldest_not_taken"]["table"] == "calls"
    assert add_user("agent1", "agent", "192.0.2.21").get("/api/v1/hq/status").status == 403


def test_status_needs_sign_in(admin, make_client):
    assert make_client().get("/api/v1/hq/status").status == 401
    assert admin.get("/api/v1/hq/status").json()["acked_seq"] is None


def test_openapi_documents_every_sync_and_hq_route(app):
    text = (Path(__file__).resolve().parents[2] / "webui" / "openapi.yaml").read_text()
    documented = {p for p in re.findall(r"^  (/api/v1/\S+):$", text, re.M) if p.startswith(("/api/v1/sync/", "/api/v1/hq/"))}
    served = {re.sub(r"<[^>]+>", "{id}", r.rule) for r in app.routes
              if r.rule.startswith(("/api/v1/sync/", "/api/v1/hq/"))}
    assert served == documented
