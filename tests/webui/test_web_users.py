"""Users and roles managed by admins (R17): create, edit, disable, reset password, the last admin kept,
the password policy, and live sessions following every change."""
from __future__ import annotations

import re
import secrets

import pytest

from tests.webui.conftest import Client, api_call
from webui.accounts import AccountStore
from webui.auth import PASSWORD_MIN
from webui.password_policy import common_passwords

# Passwords hashed at a lower scrypt cost while these tests run (conftest.py cheap_hashes).
pytestmark = pytest.mark.usefixtures("cheap_hashes")


def errors(page: str) -> dict[str, str]:
    """The message shown next to each form field, by field name."""
    return dict(re.findall(r'<span class="field-error" role="alert" id="error-([a-z_]+)">([^<]*)</span>', page))


def form(csrf: str, **fields) -> dict:
    return {"csrf_token": csrf, **fields}


def test_admin_creates_an_agent_who_must_choose_a_password_at_first_sign_in(admin, app, engine, password):
    temporary = secrets.token_urlsafe(12)
    page = admin.post("/users", form=form(admin.csrf("/users"), username="Ana.Costa", display_name="Ana Costa",
                                          roles="agent", agent_id="1001", locale="zh", password=temporary,
                                          confirm=temporary))
    assert page.status == 303 and page.location == "/users/ana.costa?created=1"
    listed = api_call(admin, "GET", "/api/v1/users/ana.costa").json()["user"]
    assert {k: listed[k] for k in ("username", "display_name", "roles", "agent_id", "locale", "disabled",
                                   "must_change_password")} == {
        "username": "ana.costa", "display_name": "Ana Costa", "roles": ["agent"], "agent_id": "1001",
        "locale": "zh", "disabled": False, "must_change_password": True}
    assert "password_hash" not in listed

    ana = Client(app, "192.0.2.50")
    assert ana.login("ana.costa", temporary).status == 303
    # Nothing but the password change works until she has chosen her own.
    for path in ("/", "/calls", "/users"):
        assert ana.get(path).location == "/account"
    refused = api_call(ana, "GET", "/api/v1/me/agent")
    # In her language (zh), naming the one route she may use.
    assert refused.status == 403 and "POST /api/v1/me/password" in refused.json()["error"]
    assert "密码" in refused.json()["error"]
    assert ana.get("/account").status == 200
    same = ana.post("/account/password", form=form(ana.csrf("/account"), current=temporary, password=temporary,
                                                   confirm=temporary))
    assert same.status == 400 and "password" in errors(same.text)
    done = ana.post("/account/password", form=form(ana.csrf("/account"), current=temporary, password=password,
                                                   confirm=password))
    assert done.status == 303 and done.location == "/"
    console = ana.get("/")
    assert console.status == 200 and '<html lang="zh">' in console.text and "1001" in console.text
    assert api_call(admin, "GET", "/api/v1/users/ana.costa").json()["user"]["must_change_password"] is False


@pytest.mark.parametrize("fields, field", [
    ({"username": "admin"}, "username"),                         # taken
    ({"username": "x"}, "username"),                             # too short
    ({"roles": []}, "roles"),
    ({"roles": ["agent"], "agent_id": ""}, "agent_id"),          # an agent must say which agent they are
    ({"agent_id": "9999"}, "agent_id"),                          # not an agent of this box
    ({"locale": "fr"}, "locale"),
    ({"display_name": "x" * 65}, "display_name"),
    ({"password": "short"}, "password"),
    ({"password": "Password123"}, "password"),                   # a common password, in any case
    ({"password": "chen.jing12345"}, "password"),                # the username plus too little
    ({"nickname": "CJ"}, "nickname"),                            # no such field
])
def test_each_bad_field_is_refused_with_its_reason_next_to_it(admin, fields, field):
    body = {"username": "chen.jing", "roles": ["agent"], "agent_id": "1003", "password": secrets.token_urlsafe(12),
            **fields}
    reply = api_call(admin, "POST", "/api/v1/users", body)
    assert reply.status == 400 and field in reply.json()["problems"], reply.text
    if field != "nickname":
        # The same rule on the page, with the message next to the field.
        fields = {**body, "roles": body["roles"][0] if body["roles"] else "", "confirm": body["password"]}
        page = admin.post("/users", form=form(admin.csrf("/users"), **fields))
        assert page.status == 400 and field in errors(page.text)
    assert api_call(admin, "GET", "/api/v1/users/chen.jing").status == 404


def test_one_agent_id_is_one_users(admin, staff):
    staff("ben", ["agent"], agent_id="1002")
    body = {"username": "chen.jing", "roles": ["supervisor"], "agent_id": "1002", "password": secrets.token_urlsafe(12)}
    reply = api_call(admin, "POST", "/api/v1/users", body)
    assert reply.status == 400 and reply.json()["problems"] == {"agent_id": "Agent 1002 is already linked to user ben."}
    assert api_call(admin, "POST", "/api/v1/users", {**body, "agent_id": "1003"}).status == 201
    moved = api_call(admin, "PATCH", "/api/v1/users/chen.jing", {"agent_id": "1002"})
    assert moved.status == 400 and "ben" in moved.json()["problems"]["agent_id"]


def test_an_agent_since_removed_from_the_site_does_not_block_other_changes(admin, staff, db_path):
    staff("ana", ["agent"], agent_id="1001")
    store = AccountStore(db_path)
    try:
        store.update("ana", {"agent_id": "2001"})   # the site's agent 2001 was since removed
    finally:
        store.close()
    # The form sends every field, the unchanged agent id too.
    saved = admin.post("/users/ana", form=form(admin.csrf("/users/ana"), roles="agent", agent_id="2001", disabled="1"))
    assert saved.status == 303, errors(saved.text)
    assert api_call(admin, "GET", "/api/v1/users/ana").json()["user"]["disabled"] is True
    relink = api_call(admin, "PATCH", "/api/v1/users/ana", {"agent_id": "2002"})
    assert relink.status == 400 and "no agent 2002" in relink.json()["problems"]["agent_id"]


def test_an_admin_changes_their_own_password_on_the_account_page_not_by_a_reset(admin, password):
    temporary = secrets.token_urlsafe(12)
    reply = api_call(admin, "PATCH", "/api/v1/users/admin", {"password": temporary})
    assert reply.status == 400 and "account page" in reply.json()["problems"]["password"]
    page = admin.post("/users/admin/password", form=form(admin.csrf("/users/admin"), password=temporary,
                                                         confirm=temporary))
    assert page.status == 400 and "account page" in errors(page.text)["password"]
    assert admin.get("/users").status == 200


def test_a_passphrase_that_happens_to_contain_the_username_is_accepted(admin):
    reply = api_call(admin, "POST", "/api/v1/users", {"username": "ana", "roles": ["technician"],
                                                      "password": "banana harbour lantern"})
    assert reply.status == 201, reply.text


def test_while_the_engine_is_down_an_agent_id_is_taken_unchecked(app_without_engine, sign_in_admin):
    admin = sign_in_admin(app_without_engine)
    reply = api_call(admin, "POST", "/api/v1/users", {"username": "dara", "roles": ["agent"], "agent_id": "1004",
                                                      "password": secrets.token_urlsafe(12)})
    assert reply.status == 201 and reply.json()["user"]["agent_id"] == "1004"


def test_the_policy_is_stated_on_every_form_that_sets_a_password(client, password):
    pages = {"/setup": client.get("/setup").text}
    assert client.setup("admin", password).status == 303 and client.login("admin", password).status == 303
    pages.update((path, client.get(path).text) for path in ("/users", "/users/admin", "/account"))
    for path, page in pages.items():
        assert f"At least {PASSWORD_MIN} and at most" in page, path
        assert "most common passwords" in page, path


def test_the_shipped_common_passwords_start_at_the_minimum_length():
    # Shorter ones are refused by length; a lower minimum needs the list regenerated with them.
    assert len(common_passwords()) > 1000
    assert min(map(len, common_passwords())) == PASSWORD_MIN


# --- the last active admin ------------------------------------------------------------------------------
def test_the_last_active_admin_cannot_be_demoted_or_disabled_and_the_form_says_why(admin, staff):
    page = admin.get("/users/admin").text
    assert 'id="last-admin-roles"' in page and 'id="last-admin-disabled"' in page
    demote = api_call(admin, "PATCH", "/api/v1/users/admin", {"roles": ["supervisor"]})
    assert demote.status == 400 and "only active administrator" in demote.json()["problems"]["roles"]
    disable = admin.post("/users/admin", form=form(admin.csrf("/users/admin"), roles="admin", disabled="1"))
    assert disable.status == 400 and "only active administrator" in errors(disable.text)["disabled"]
    assert api_call(admin, "GET", "/api/v1/users/admin").json()["user"]["roles"] == ["admin"]

    # A disabled admin does not count: the rule holds for the last ACTIVE one.
    staff("second", ["admin"])
    assert api_call(admin, "PATCH", "/api/v1/users/second", {"disabled": True}).status == 200
    assert api_call(admin, "PATCH", "/api/v1/users/admin", {"roles": ["supervisor"]}).status == 400

    assert api_call(admin, "PATCH", "/api/v1/users/second", {"disabled": False}).status == 200
    assert "last-admin-roles" not in admin.get("/users/admin").text
    assert api_call(admin, "PATCH", "/api/v1/users/admin", {"roles": ["supervisor", "agent"],
                                                           "agent_id": "1003"}).status == 200


# --- live sessions follow each change -------------------------------------------------------------------
def test_a_role_change_takes_effect_on_the_users_next_request(admin, staff):
    sam = staff("sam", ["technician"])
    assert sam.get("/calls").status == 403
    assert api_call(admin, "PATCH", "/api/v1/users/sam", {"roles": ["supervisor"]}).status == 200
    assert sam.get("/calls").status == 200
    assert api_call(admin, "PATCH", "/api/v1/users/sam", {"roles": ["technician"]}).status == 200
    assert sam.get("/calls").status == 403
    assert sam.get("/api/v1/calls").status == 403


def test_disabling_a_user_ends_their_sessions_and_refuses_their_sign_in(admin, staff, password):
    sam = staff("sam", ["supervisor"])
    assert api_call(admin, "PATCH", "/api/v1/users/sam", {"disabled": True}).status == 200
    assert sam.get("/calls").location.startswith("/login")
    assert api_call(sam, "GET", "/api/v1/status", token="").status == 401
    assert sam.login("sam", password).status == 400
    assert api_call(admin, "PATCH", "/api/v1/users/sam", {"disabled": False}).status == 200
    assert sam.login("sam", password).status == 303


def test_a_password_reset_ends_the_users_sessions_and_makes_them_choose_a_new_one(admin, staff, app, password):
    sam = staff("sam", ["supervisor"])
    temporary = secrets.token_urlsafe(12)
    reset = admin.post("/users/sam/password", form=form(admin.csrf("/users/sam"), password=temporary,
                                                        confirm=temporary))
    assert reset.status == 303 and reset.location == "/users/sam?reset=1"
    assert sam.get("/calls").location.startswith("/login")
    assert sam.login("sam", password).status == 400
    assert sam.login("sam", temporary).status == 303
    assert sam.get("/calls").location == "/account"


def test_changing_ones_own_password_ends_ones_other_sessions_but_not_this_one(staff, app, password):
    sam = staff("sam", ["supervisor"])
    other = Client(app, "192.0.2.60")
    assert other.login("sam", password).status == 303
    new = "harbour lantern " + secrets.token_urlsafe(6)
    wrong = sam.post("/account/password", form=form(sam.csrf("/account"), current="not it", password=new,
                                                    confirm=new))
    assert wrong.status == 400 and "current" in errors(wrong.text)
    changed = sam.post("/account/password", form=form(sam.csrf("/account"), current=password, password=new,
                                                      confirm=new))
    assert changed.status == 303 and changed.location == "/account?changed=password"
    assert sam.get("/calls").status == 200
    assert other.get("/calls").location.startswith("/login")


def test_each_user_chooses_their_language(staff):
    sam = staff("sam", ["supervisor"])
    assert '<html lang="en">' in sam.get("/calls").text
    saved = sam.post("/account/language", form=form(sam.csrf("/account"), locale="zh"))
    assert saved.status == 303
    assert '<html lang="zh">' in sam.get("/calls").text
    refused = sam.post("/account/language", form=form(sam.csrf("/account"), locale="xx"))
    assert refused.status == 400 and "locale" in errors(refused.text)


def test_only_admins_manage_users(staff):
    sam = staff("sam", ["supervisor", "technician"])
    assert sam.get("/users").status == 403
    assert api_call(sam, "GET", "/api/v1/users").status == 403
    assert api_call(sam, "PATCH", "/api/v1/users/sam", {"roles": ["admin"]}).status == 403
    assert api_call(sam, "POST", "/api/v1/users", {"username": "eve", "roles": ["admin"],
                                                   "password": secrets.token_urlsafe(12)}).status == 403
    assert 'href="/users"' not in sam.get("/calls").text


def test_the_users_list_shows_each_users_roles_link_and_state(admin, staff):
    staff("ana", ["agent"], agent_id="1001")
    staff("sam", ["supervisor", "technician"])
    api_call(admin, "PATCH", "/api/v1/users/sam", {"disabled": True})
    page = admin.get("/users").text
    rows = dict(re.findall(r'<tr data-key="([^"]+)">(.*?)</tr>', page, re.S))
    assert set(rows) == {"admin", "ana", "sam"}
    assert "1001" in rows["ana"] and "agent" in rows["ana"] and "active" in rows["ana"]
    assert "supervisor, technician" in rows["sam"] and "disabled" in rows["sam"]
    assert [u["username"] for u in api_call(admin, "GET", "/api/v1/users").json()["users"]] == ["admin", "ana", "sam"]
    assert admin.get("/users/nobody").status == 404
    for method in ("GET", "PATCH"):
        missing = api_call(admin, method, "/api/v1/users/nobody", {"display_name": "X"} if method == "PATCH" else None)
        assert missing.status == 404 and missing.json() == {"error": "no user named nobody"}


def test_every_user_change_is_audited_without_any_password(admin, staff, db_path, password):
    staff("sam", ["supervisor"])
    api_call(admin, "PATCH", "/api/v1/users/sam", {"roles": ["supervisor", "technician"], "display_name": "Sam"})
    temporary = secrets.token_urlsafe(12)
    api_call(admin, "PATCH", "/api/v1/users/sam", {"password": temporary})
    entries = api_call(admin, "GET", "/api/v1/audit?user=admin&action=user").json()["entries"]
    assert [(e["action"], e["target"]) for e in reversed(entries)] == [
        ("user.create", "sam"), ("user.update", "sam"), ("user.password_reset", "sam")]
    update = entries[1]
    assert update["action"] == "user.update"
    assert update["detail"] == {"roles": [["supervisor"], ["supervisor", "technician"]], "display_name": [None, "Sam"]}
    assert update["address"] == "192.0.2.10"
    dump = b"".join(p.read_bytes() for p in db_path.parent.glob(db_path.name + "*"))
    for secret in (password.encode(), temporary.encode()):
        assert secret not in dump
    sam_changes = api_call(admin, "GET", "/api/v1/audit?user=sam").json()["entries"]
    assert [e["action"] for e in sam_changes] == ["user.password_change"]
