"""The admin's backup page and API: download, the audit of it, staging a restore and its refusals, roles and CSRF."""
import io
import json
import re
import sqlite3
import struct
import time
import zipfile
from pathlib import Path

import pytest

import firmware.store.backup
import webui.backup
from firmware.store.backup import DB_MEMBER, MANIFEST, BackupError, prepare
from firmware.store.restore import apply_staged, pending
from webui.app import create_app

from conftest import Client, multipart

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def state(db_path, records) -> Path:
    """The box's state directory, with its records and a site.toml naming it branch-007."""
    root = db_path.parent
    (root / "config").mkdir()
    site = (ROOT / "board" / "defaults" / "site.toml").read_text().replace('id = "branch-001"', 'id = "branch-007"')
    (root / "config" / "site.toml").write_text(site)
    return root


def archive_bytes(state: Path) -> bytes:
    with prepare(state, time.time()) as backup:
        return b"".join(backup.chunks())


def other_box_archive(state: Path, **changes) -> bytes:
    """An archive of this box's database whose manifest says another box (or `changes`)."""
    data = archive_bytes(state)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        manifest = json.loads(src.read(MANIFEST))
        manifest.update(changes or {"box_id": "branch-042"})
        dst.writestr(MANIFEST, json.dumps(manifest))
        for name in src.namelist()[1:]:
            dst.writestr(name, src.read(name))
    return out.getvalue()


def audit(db_path: Path, action: str) -> list[tuple]:
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute("SELECT username, address, target, detail FROM audit_log WHERE action = ?",
                            [action]).fetchall()
    finally:
        conn.close()


def upload(client, path: str, data: bytes, csrf: str, **fields):
    return client.request("POST", path, files={"archive": ("box.zip", data)}, form=fields,
                          headers={"X-CSRF-Token": csrf})


def test_admin_downloads_one_archive_of_the_box_and_the_download_is_audited(admin, state, db_path):
    reply = admin.get("/api/v1/backup")
    assert reply.status == 200 and reply.header("Content-Type") == "application/zip"
    assert reply.header("Content-Disposition").startswith('attachment; filename="branchline-branch-007-')
    with zipfile.ZipFile(io.BytesIO(reply.body)) as z:
        manifest = json.loads(z.read(MANIFEST))
        (state / "copy.db").write_bytes(z.read(DB_MEMBER))
        assert z.read("config/site.toml") == (state / "config" / "site.toml").read_bytes()
    calls = sqlite3.connect(state / "copy.db").execute("SELECT count(*) FROM calls").fetchone()[0]
    assert manifest["box_id"] == "branch-007" and calls == 120
    [(who, address, target, detail)] = audit(db_path, "backup.create")
    assert (who, address) == ("admin", "192.0.2.10") and target.startswith("branchline-branch-007-")
    assert json.loads(detail)["latest_seq"] == manifest["latest_seq"]
    assert not list(state.glob(".backup-*"))
    page = admin.get("/backup")
    assert page.status == 200 and target in page.text and "Recordings are not included" in page.text


def test_recordings_over_the_limit_are_refused_and_the_page_says_so(admin, state, monkeypatch):
    monkeypatch.setattr(firmware.store.backup, "MAX_RECORDINGS_BYTES", 10)
    monkeypatch.setattr(webui.backup, "MAX_RECORDINGS_BYTES", 10)
    (state / "recordings").mkdir()
    (state / "recordings" / "a.wav").write_bytes(bytes(100))
    conn = sqlite3.connect(state / "branchline.db")
    with conn:
        conn.execute("INSERT INTO recordings (id, call_id, path, size) VALUES ('rec-a', 'call-0001', 'a.wav', 100)")
    conn.close()
    reply = admin.get("/api/v1/backup?recordings=1")
    assert reply.status == 409 and "more than" in reply.json()["error"]
    assert 'name="recordings" value="1" disabled' in admin.get("/backup").text
    assert admin.get("/api/v1/backup").status == 200


def test_a_recording_that_changed_since_its_row_cuts_the_download_off(admin, state, db_path):
    (state / "recordings").mkdir()
    (state / "recordings" / "a.wav").write_bytes(b"RIFF" + bytes(100))
    conn = sqlite3.connect(db_path)
    with conn:
        conn.execute("INSERT INTO recordings (id, call_id, path, size, sha256) VALUES "
                     "('rec-a', 'call-0001', 'a.wav', 104, ?)", ["0" * 64])
    conn.close()
    # The server sees the body fail and drops the connection: no client gets a truncated archive as whole.
    with pytest.raises(BackupError, match="recordings/a.wav changed while the backup was written"):
        admin.get("/api/v1/backup?recordings=1")
    assert not list(state.glob(".backup-*"))


def test_restore_through_the_api_stages_it_for_the_engine_and_can_be_cancelled(admin, state, db_path):
    csrf = admin.csrf("/backup")
    reply = upload(admin, "/api/v1/restore", archive_bytes(state), csrf)
    assert reply.status == 202, reply.text
    staged = reply.json()["staged"]
    assert staged["manifest"]["box_id"] == "branch-007" and staged["by"] == "admin"
    assert "systemctl restart branchline-engine" in reply.json()["restart"]
    assert admin.get("/api/v1/restore").json()["staged"]["archive"] == "box.zip"
    shown = admin.get("/backup").text
    # The engine reports three calls: the admin sees what a restart would end.
    assert "A restore is staged" in shown and "3 calls are in progress now: they end with the restart" in shown
    assert [r[2] for r in audit(db_path, "restore.stage")] == ["box.zip"]
    cancelled = admin.request("DELETE", "/api/v1/restore", headers={"X-CSRF-Token": csrf})
    assert cancelled.json() == {"cancelled": True} and pending(state) is None
    assert len(audit(db_path, "restore.cancel")) == 1


def test_restore_of_another_box_is_refused_with_the_reason_until_overridden(admin, state, tmp_path):
    csrf = admin.csrf("/backup")
    data = other_box_archive(state)
    reply = upload(admin, "/api/v1/restore", data, csrf)
    assert reply.status == 409
    body = reply.json()
    assert body["overridable"] is True and [p["code"] for p in body["problems"]] == ["other_box"]
    assert "The archive is of box branch-042; this box is branch-007" in body["error"]
    assert pending(state) is None
    assert upload(admin, "/api/v1/restore", data, csrf, override="1").status == 202
    assert pending(state)["overridden"][0]["code"] == "other_box"


def test_restore_page_shows_the_refusal_the_manifest_and_the_override(admin, state, tmp_path):
    csrf = admin.csrf("/backup")
    data = other_box_archive(state)
    page = upload(admin, "/backup/restore", data, csrf, csrf_token=csrf)
    assert page.status == 409
    assert "This archive was not staged" in page.text and "branch-042" in page.text
    assert 'name="override"' in page.text
    done = upload(admin, "/backup/restore", data, csrf, csrf_token=csrf, override="1")
    assert done.status == 303 and done.location == "/backup"
    shown = admin.get("/backup").text
    assert "A restore is staged" in shown and "sudo systemctl restart branchline-engine" in shown
    assert "HQ goes on pulling this box as before" in shown and "branch-042" in shown
    apply_staged(state, time.time())
    assert "Last restore: box.zip" in admin.get("/backup").text


def test_with_the_engine_stopped_the_page_says_the_restore_waits_for_its_start(db_path, state, sign_in_admin,
                                                                              tmp_path):
    app = create_app(db_path, tmp_path / "no-engine.sock")
    try:
        admin = sign_in_admin(app)
        assert upload(admin, "/api/v1/restore", archive_bytes(state), admin.csrf("/backup")).status == 202
        shown = admin.get("/backup").text
        assert "The engine does not answer: the restore is applied when it starts" in shown
    finally:
        app.close()


def test_a_restore_onto_another_database_warns_that_hq_must_pull_a_new_box(admin, state, tmp_path):
    csrf = admin.csrf("/backup")
    data = other_box_archive(state, box_instance="another-database")
    refused = upload(admin, "/api/v1/restore", data, csrf)
    assert refused.status == 409 and [p["code"] for p in refused.json()["problems"]] == ["other_database"]
    assert upload(admin, "/api/v1/restore", data, csrf, override="1").status == 202
    shown = admin.get("/backup").text
    assert "HQ must pull this box as a new box" in shown and "HQ goes on pulling" not in shown


@pytest.mark.parametrize("data, message", [
    (b"not a zip at all", "not a readable zip archive"),
    (None, "corrupted"),
])
def test_a_broken_archive_is_refused_with_400(admin, state, data, message):
    if data is None:
        good = bytearray(archive_bytes(state))
        with zipfile.ZipFile(io.BytesIO(bytes(good))) as z:
            info = z.getinfo("config/site.toml")
        # Flip a byte of that member's stored data (past its local header, APPNOTE.TXT 4.3.7): its CRC and
        # its SHA-256 no longer match.
        name_len, extra_len = struct.unpack_from("<HH", good, info.header_offset + 26)
        at = info.header_offset + 30 + name_len + extra_len + 5
        good[at] ^= 0xFF
        data = bytes(good)
    reply = upload(admin, "/api/v1/restore", data, admin.csrf("/backup"))
    assert reply.status == 400 and message in reply.json()["error"]
    assert pending(state) is None


def test_an_upload_without_an_archive_or_too_large_is_refused(admin, state, monkeypatch):
    csrf = admin.csrf("/backup")
    reply = admin.request("POST", "/api/v1/restore", files={}, form={"override": "1"}, headers={"X-CSRF-Token": csrf})
    assert reply.status == 400 and "choose the archive" in reply.json()["error"]
    # A connection dropped mid-upload: the body ends before the multipart terminator.
    body, content_type = multipart({}, {"archive": ("box.zip", archive_bytes(state))})
    cut = admin.request("POST", "/api/v1/restore", raw=(body[:-200], content_type), headers={"X-CSRF-Token": csrf})
    assert cut.status == 400 and "incomplete or malformed" in cut.json()["error"]
    monkeypatch.setattr(webui.backup, "MAX_UPLOAD_BYTES", 100)
    reply = upload(admin, "/api/v1/restore", archive_bytes(state), csrf)
    assert reply.status == 413 and "restore it with `branchline restore`" in reply.json()["error"]


@pytest.mark.parametrize("role", ["supervisor", "agent", "technician"])
def test_only_admins_back_up_or_restore(add_user, state, role):
    other = add_user(f"{role}1", role)
    csrf = other.csrf("/")
    assert other.get("/backup").status == 403
    assert other.get("/api/v1/backup").status == 403
    assert other.get("/api/v1/restore").status == 403
    assert upload(other, "/api/v1/restore", archive_bytes(state), csrf).status == 403
    assert other.request("DELETE", "/api/v1/restore", headers={"X-CSRF-Token": csrf}).status == 403
    assert pending(state) is None


def test_anonymous_and_unforged_requests_are_refused(admin, client, make_client, state):
    stranger = make_client()
    assert stranger.get("/api/v1/backup").status == 401
    assert stranger.get("/backup").status == 303
    # Signed in, but no CSRF token: a page of another site cannot make the admin's browser restore.
    reply = admin.request("POST", "/api/v1/restore", files={"archive": ("box.zip", archive_bytes(state))})
    assert reply.status == 403 and pending(state) is None


def openapi_roles() -> dict[tuple[str, str], str]:
    """(METHOD, bottle rule) -> the x-roles line of each operation in webui/openapi.yaml."""
    text = (ROOT / "webui" / "openapi.yaml").read_text()
    roles = {}
    for block in re.split(r"^(?=  /)", text, flags=re.M)[1:]:
        path = re.sub(r"\{(\w+)\}", r"<\1>", block.split(":", 1)[0].strip())
        for method, body in re.findall(r"^    (get|post|put|patch|delete):\n((?:      .*\n|\s*\n)*)", block, re.M):
            found = re.search(r"^      x-roles: (.*)$", body, re.M)
            roles[(method.upper(), path)] = found.group(1) if found else ""
    return roles


def test_every_backup_route_is_in_the_openapi_file_for_admins_only(app):
    ours = [(r.method, r.rule) for r in app.routes if r.rule.startswith(("/backup", "/api/v1/backup", "/api/v1/restore"))]
    assert len(ours) == 7
    documented = openapi_roles()
    assert {route: documented.get(route) for route in ours} == dict.fromkeys(ours, "[admin]")


@pytest.mark.browser
def test_in_chromium_the_admin_downloads_a_backup_and_stages_it_as_a_restore(browser, live_server, app, state,
                                                                            password, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    assert Client(app).setup("admin", password).status == 303
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    browser.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    wait = WebDriverWait(browser, 20)
    browser.get(live_server + "/backup")
    wait.until(EC.url_contains("/login"))
    browser.find_element(By.NAME, "username").send_keys("admin")
    browser.find_element(By.NAME, "password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait.until(EC.presence_of_element_located((By.ID, "download-backup"))).click()
    wait.until(lambda _: list(downloads.glob("branchline-branch-007-*.zip")))
    archive = next(downloads.glob("branchline-branch-007-*.zip"))
    assert json.loads(zipfile.ZipFile(archive).read(MANIFEST))["box_id"] == "branch-007"
    browser.refresh()
    assert archive.name in browser.find_element(By.ID, "recent-backups").text

    browser.find_element(By.CSS_SELECTOR, "#restore-form input[name=archive]").send_keys(str(archive))
    browser.find_element(By.ID, "stage-restore").click()
    staged = wait.until(EC.presence_of_element_located((By.ID, "restore-staged")))
    assert archive.name in staged.text and "systemctl restart branchline-engine" in staged.text
    assert pending(state)["archive"] == archive.name
    browser.save_screenshot(str(tmp_path / "backup-page.png"))
    # Nothing the page does is refused by its Content-Security-Policy or fails.
    assert browser.get_log("browser") == []
