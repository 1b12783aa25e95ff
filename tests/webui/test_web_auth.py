"""First-run setup, sign-in, sessions, CSRF, the login throttle and role checks, through the WSGI app."""
import base64
import json
import re

import pytest
from bottle import Bottle, RouteError

from firmware.store import open_db
from webui.accounts import AccountStore
from webui.auth import (SESSION_IDLE, SESSION_MAX_AGE, THROTTLE_PER_ADDRESS, THROTTLE_PER_USER, THROTTLE_WINDOW, Auth,
                        hash_password, verify_password)


def users(db_path):
    db = open_db(db_path)
    try:
        return [dict(zip(("username", "roles", "password_hash"), r))
                for r in db.execute("SELECT username, roles, password_hash FROM users")]
    finally:
        db.conn.close()


# --- first run ------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/", "/calls", "/calls/call-0001", "/login", "/logout"])
def test_before_setup_every_page_leads_to_setup(client, path):
    reply = client.get(path)
    assert reply.status == 303 and reply.location == "/setup"


def test_before_setup_the_api_says_so(client):
    reply = client.get("/api/v1/status")
    assert reply.status == 401
    assert "setup" in reply.json()["error"]


def test_setup_page_asks_for_username_and_password_twice(client):
    page = client.get("/setup").text
    assert 'name="username"' in page
    assert page.count('type="password"') == 2
    assert 'name="csrf_token"' in page


@pytest.mark.parametrize("password, confirm, message", [
    ("short1234", "short1234", "at least 10 characters long (this one has 9)"),
    ("", "", "at least 10 characters"),
])
def test_setup_rejects_a_short_password(client, db_path, password, confirm, message):
    reply = client.setup("admin", password, confirm)
    assert reply.status == 400
    assert message in reply.text
    assert users(db_path) == []
    assert client.get("/").location == "/setup"


def test_setup_rejects_mismatched_passwords(client, db_path, password):
    reply = client.setup("admin", password, password + "x")
    assert reply.status == 400
    assert "The two passwords do not match." in reply.text
    assert users(db_path) == []


def test_setup_rejects_a_bad_username_and_keeps_what_was_typed(client, db_path, password):
    reply = client.setup("a b", password)
    assert reply.status == 400
    assert "Username must be 3 to 32 characters" in reply.text
    assert 'value="a b"' in reply.text
    assert users(db_path) == []


def test_setup_creates_the_admin_with_an_scrypt_hash_then_closes(client, make_client, db_path, password):
    reply = client.setup("Admin", password)
    assert reply.status == 303 and reply.location == "/login?created=admin"
    [user] = users(db_path)
    assert user["username"] == "admin" and user["roles"] == "admin"
    assert user["password_hash"].startswith("scrypt$16384$8$1$")
    assert password not in user["password_hash"]
    assert "Administrator admin created" in client.get("/login?created=admin").text
    # A second visit to setup cannot create another administrator.
    assert client.get("/setup").location == "/login"
    intruder = make_client("192.0.2.66")
    token = intruder.csrf("/login")
    late = intruder.post("/setup", form={"csrf_token": token, "username": "intruder", "password": password,
                                         "confirm": password})
    assert late.location == "/login"
    assert len(users(db_path)) == 1


def test_session_secret_is_random_per_box_and_kept_in_settings(tmp_path, app, db_path):
    def secret(path):
        db = open_db(path)
        try:
            return db.execute("SELECT value FROM settings WHERE key = 'webui.session_secret'").fetchone()[0]
        finally:
            db.conn.close()
    first = secret(db_path)
    assert re.fullmatch(r"[0-9a-f]{64}", first)
    other = AccountStore(tmp_path / "other.db")
    other.session_secret()
    other.close()
    assert secret(tmp_path / "other.db") != first
    # A restart keeps the secret, so sessions survive it.
    again = AccountStore(db_path)
    assert again.session_secret() == bytes.fromhex(first)
    again.close()


# --- passwords ------------------------------------------------------------------------------------
def test_password_hashes_are_salted_and_verify(password):
    one, two = hash_password(password), hash_password(password)
    assert one != two
    assert verify_password(password, one) and verify_password(password, two)
    assert not verify_password(password + "!", one)
    assert not verify_password(password, "plain-text")
    assert not verify_password(password, "scrypt$16384$8$1$!!$!!")


# --- sign-in and sessions -------------------------------------------------------------------------
def test_login_sets_an_httponly_samesite_cookie_and_opens_the_dashboard(client, password):
    client.setup("admin", password)
    reply = client.login("admin", password, next_path="/calls?queue=sales")
    assert reply.status == 303 and reply.location == "/calls?queue=sales"
    cookie = reply.header("Set-Cookie")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    page = client.get("/")
    assert page.status == 200
    assert ">admin</span>" in page.text


def test_login_with_a_wrong_password_is_refused(client, password):
    client.setup("admin", password)
    reply = client.login("admin", password + "x")
    assert reply.status == 400
    assert "Wrong username or password." in reply.text
    assert client.get("/").location == "/login?next=%2F"


def test_login_with_an_unknown_user_gives_the_same_answer(client, password):
    client.setup("admin", password)
    reply = client.login("nobody", password)
    assert reply.status == 400 and "Wrong username or password." in reply.text


def test_login_needs_both_fields(client, password):
    client.setup("admin", password)
    token = client.csrf("/login")
    reply = client.post("/login", form={"csrf_token": token, "username": "admin", "password": ""})
    assert reply.status == 400 and "Enter your username and password." in reply.text


def test_login_never_redirects_off_the_box(client, password):
    client.setup("admin", password)
    assert client.login("admin", password, next_path="//evil.example/x").location == "/"


def test_pages_redirect_to_login_and_api_answers_401_without_a_session(admin, make_client):
    anonymous = make_client()
    reply = anonymous.get("/calls?page=2")
    assert reply.status == 303 and reply.location == "/login?next=%2Fcalls%3Fpage%3D2"
    api = anonymous.get("/api/v1/calls")
    assert api.status == 401 and api.json() == {"error": "sign in required"}


def test_a_tampered_session_cookie_is_ignored(admin):
    body, sig = admin.cookies["branchline_session"].split(".")
    admin.cookies["branchline_session"] = body[:-2] + "AA." + sig
    assert admin.get("/").location == "/login?next=%2F"


def test_a_session_ends_after_a_shift(admin, clock):
    # In use all shift (a page every 20 minutes keeps it from going idle), then over at its end.
    for _ in range(int((SESSION_MAX_AGE - 60) // 1200)):
        clock.advance(1200)
        assert admin.get("/").status == 200
    clock.advance(SESSION_MAX_AGE - clock.now + admin_signed_in_at(admin) + 60)
    assert admin.get("/").location == "/login?next=%2F"


def admin_signed_in_at(client) -> float:
    body = client.cookies["branchline_session"].split(".")[0]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))["iat"]


def test_a_session_left_idle_for_30_minutes_ends(admin, clock):
    # NIST SP 800-63B §4.2.3: re-authentication after 30 minutes of inactivity.
    clock.advance(SESSION_IDLE - 5)
    assert admin.get("/").status == 200
    clock.advance(SESSION_IDLE + 5)
    assert admin.get("/").location == "/login?next=%2F"
    assert admin.get("/api/v1/status").status == 401


def test_a_copy_of_the_cookie_is_refused_once_its_session_signed_out(admin, make_client):
    copy = make_client("192.0.2.66")
    copy.cookies = dict(admin.cookies)
    assert copy.get("/").status == 200
    admin.post("/logout", form={"csrf_token": admin.csrf("/")})
    assert copy.get("/").location == "/login?next=%2F"
    assert copy.get("/api/v1/status").status == 401


def test_a_session_cookie_planted_before_sign_in_is_not_promoted(client, make_client, password):
    # Session fixation (OWASP): an attacker's anonymous cookie, given to the victim's browser, is not
    # signed in by the victim's sign-in.
    client.setup("admin", password)
    attacker = make_client("192.0.2.66")
    attacker.get("/login")
    client.cookies = dict(attacker.cookies)
    assert client.login("admin", password).status == 303
    assert client.cookies["branchline_session"] != attacker.cookies["branchline_session"]
    assert client.get("/").status == 200
    assert attacker.get("/").location == "/login?next=%2F"


def test_changing_the_password_ends_existing_sessions(admin, db_path, password):
    db = open_db(db_path)
    db.execute("UPDATE users SET password_hash = ? WHERE username = 'admin'", [hash_password(password + "2")])
    db.conn.close()
    assert admin.get("/").location == "/login?next=%2F"


def test_logout_ends_the_session(admin):
    assert "Sign out" in admin.get("/logout").text
    reply = admin.post("/logout", form={"csrf_token": admin.csrf("/")})
    assert reply.status == 303 and reply.location == "/login?signed_out=1"
    assert admin.get("/").location == "/login?next=%2F"
    assert "You have signed out." in admin.get("/login?signed_out=1").text


def test_a_new_session_id_is_issued_at_login(client, password):
    client.setup("admin", password)
    client.get("/login")
    before = client.cookies["branchline_session"]
    client.login("admin", password)
    assert client.cookies["branchline_session"] != before


# --- CSRF -------------------------------------------------------------------------------------------
def test_login_form_without_csrf_token_is_rejected(client, password):
    client.setup("admin", password)
    client.get("/login")
    reply = client.post("/login", form={"username": "admin", "password": password})
    assert reply.status == 403
    assert "Reload the page" in reply.text
    assert client.get("/").location == "/login?next=%2F"


def test_setup_form_without_a_session_is_rejected(client, db_path, password):
    reply = client.post("/setup", form={"csrf_token": "x", "username": "admin", "password": password,
                                        "confirm": password})
    assert reply.status == 403
    assert users(db_path) == []


def test_logout_with_a_forged_token_is_rejected(admin):
    reply = admin.post("/logout", form={"csrf_token": "forged"})
    assert reply.status == 403
    assert admin.get("/").status == 200


def test_token_from_another_session_is_rejected(admin, password, make_client):
    other = make_client("192.0.2.99")
    other.login("admin", password)
    reply = admin.api_post("/api/v1/agents/1001/ready", token=other.csrf("/"))
    assert reply.status == 403 and "CSRF" in reply.json()["error"]


def test_api_post_without_csrf_header_is_rejected(admin, engine):
    reply = admin.post("/api/v1/agents/1001/ready", json_body={})
    assert reply.status == 403 and "CSRF" in reply.json()["error"]
    assert engine.commands == []


# --- login throttle ------------------------------------------------------------------------------------
def test_login_is_throttled_per_username_then_released(client, clock, password, make_client):
    client.setup("admin", password)
    for _ in range(THROTTLE_PER_USER):
        assert client.login("admin", "wrong-password").status == 400
    locked = client.login("admin", password)
    assert locked.status == 429
    assert "Too many failed sign-ins. Try again in 15 minutes." in locked.text
    # From another address too: the username itself is locked.
    assert make_client("192.0.2.77").login("admin", password).status == 429
    clock.advance(THROTTLE_WINDOW + 1)
    assert client.login("admin", password).status == 303


def test_login_is_throttled_per_address(client, password, make_client):
    client.setup("admin", password)
    for n in range(THROTTLE_PER_ADDRESS):
        assert client.login(f"guess{n}", "wrong-password").status == 400
    assert client.login("admin", password).status == 429
    assert make_client("192.0.2.55").login("admin", password).status == 303


def test_a_forwarded_for_header_does_not_dodge_the_address_throttle(client, password):
    client.setup("admin", password)
    for n in range(THROTTLE_PER_ADDRESS):
        token = client.csrf("/login")
        client.post("/login", form={"csrf_token": token, "username": f"guess{n}", "password": "x"},
                    headers={"X-Forwarded-For": f"198.51.100.{n}"})
    assert client.login("admin", password).status == 429


# --- roles ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ["agent", "technician"])
def test_agents_and_technicians_see_the_dashboard_but_not_records_or_controls(add_user, engine, role):
    user = add_user(f"{role}1", role)
    assert user.get("/").status == 200
    assert user.get("/api/v1/status").status == 200
    page = user.get("/calls")
    assert page.status == 403 and f"Your roles ({role})" in page.text
    assert user.get("/calls/call-0001").status == 403
    api = user.get("/api/v1/calls")
    assert api.status == 403 and api.json()["error"] == f"your roles ({role}) may not do this"
    # An agent acts only as their own linked agent: this one has none, a technician none at all.
    assert user.api_post("/api/v1/agents/1001/ready").status == (409 if role == "agent" else 403)
    assert engine.commands == []
    assert 'href="/calls"' not in user.get("/").text


@pytest.mark.parametrize("role", ["supervisor", "admin"])
def test_supervisors_and_admins_see_records_and_controls(add_user, engine, role):
    user = add_user(f"{role}1", role)
    assert user.get("/calls").status == 200
    assert user.get("/api/v1/calls").status == 200
    assert user.api_post("/api/v1/agents/1001/ready").status == 200
    assert engine.commands == [("agent.ready", {"agent": "1001"})]


def test_a_route_that_names_no_roles_is_refused_at_start(db_path):
    accounts = AccountStore(db_path)
    app = Bottle()
    app.install(Auth(accounts))

    @app.get("/forgotten")
    def forgotten():
        return "open to all by accident"

    with pytest.raises(RouteError, match="does not say who may use it"):
        app.routes[0].prepare()
    app.close()


def test_first_run_setup_is_in_the_audit_log_with_who_and_where(client, db_path, password):
    assert client.setup("admin", password).status == 303
    db = open_db(db_path)
    try:
        [entry] = db.execute("SELECT action, target, address, detail, seq FROM audit_log").fetchall()
    finally:
        db.conn.close()
    # The admin is created by nobody yet signed in, from the address that submitted the form.
    assert entry[:3] == ("user.create", "admin", "192.0.2.10")
    assert '"roles": ["admin"]' in entry[3] and entry[4] > 0
