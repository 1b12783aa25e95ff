"""The admin's HQ tokens page through the WSGI app: who sees it, and every token change in the audit log."""
import json

from firmware.store import open_db


def audit_entries(db_path) -> list[tuple]:
    db = open_db(db_path)
    try:
        return db.execute("SELECT action, target, username, address, detail FROM audit_log "
                          "WHERE action LIKE 'hq_token.%' ORDER BY seq").fetchall()
    finally:
        db.conn.close()


def test_admins_get_the_page_and_its_nav_entry(admin):
    page = admin.get("/hq-tokens")
    assert page.status == 200
    assert 'id="hq-tokens-page"' in page.text and 'src="/static/hq_tokens.js"' in page.text
    # The one-time warning is on the page before any token exists; the copy button goes with it.
    assert "shown this once" in page.text and 'id="copy-token"' in page.text
    assert 'href="/hq-tokens"' in admin.get("/").text


def test_other_roles_get_neither_the_page_nor_the_nav_entry(admin, add_user, make_client):
    for role in ("technician", "supervisor", "agent"):
        user = add_user(f"user-{role}", role)
        assert user.get("/hq-tokens").status == 403
        assert 'href="/hq-tokens"' not in user.get("/").text
    anonymous = make_client().get("/hq-tokens")
    assert anonymous.status in (302, 303) and anonymous.location.startswith("/login")


def test_creating_and_revoking_a_token_is_audited_without_the_token(admin, db_path):
    made = admin.api_post("/api/v1/hq/tokens", {"name": "HQ Shanghai"}).json()
    assert admin.api_post(f"/api/v1/hq/tokens/{made['id']}/revoke").status == 200
    created, revoked = audit_entries(db_path)
    assert created[:4] == ("hq_token.create", made["id"], "admin", "192.0.2.10")
    assert json.loads(created[4]) == {"name": "HQ Shanghai"}
    assert revoked[:3] == ("hq_token.revoke", made["id"], "admin")
    assert json.loads(revoked[4])["name"] == "HQ Shanghai"
    # What was shown once is nowhere else: not in the audit log HQ pulls.
    assert made["token"] not in json.dumps(audit_entries(db_path))


def test_refused_token_changes_leave_no_audit_entry(admin, db_path):
    assert admin.api_post("/api/v1/hq/tokens", {"name": ""}).status == 400
    assert admin.api_post("/api/v1/hq/tokens/hq-nope/revoke").status == 404
    assert audit_entries(db_path) == []
