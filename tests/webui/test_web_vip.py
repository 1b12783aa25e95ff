"""Customers' VIP levels from the browser (README, "VIP customers"): the admin gives a number a level,
changes and removes it, each change in the audit log; the engine's customer follower sees it
without a reload; bad numbers and levels are named beside their field."""
from __future__ import annotations

import json
import sqlite3

from firmware.callcenter.customers import CustomerDirectory
from firmware.store import open_db


def audit(db_path) -> list[tuple]:
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute("SELECT username, action, target, detail FROM audit_log WHERE action = 'customer.vip' "
                            "ORDER BY at").fetchall()
    finally:
        conn.close()


def test_a_level_given_in_the_browser_reaches_the_engines_customer_directory(admin, db_path):
    directory = CustomerDirectory(db_path)
    directory.load()
    assert directory.lookup("13800138000") is None
    token = admin.csrf("/config/vip")
    reply = admin.post("/config/vip", form={"csrf_token": token, "number": "13800138000", "vip": "3",
                                            "name": "Zhao Lei"})
    assert reply.status == 303
    directory.load()                                  # what the follower thread does every few seconds
    customer = directory.lookup("13800138000")
    assert (customer.vip, customer.name) == (3, "Zhao Lei")
    page = admin.get("/config/vip")
    assert "13800138000" in page.text and "Zhao Lei" in page.text
    admin.post("/config/vip", form={"csrf_token": token, "number": "13800138000", "vip": "5", "name": ""})
    directory.load()
    assert (directory.lookup("13800138000").vip, directory.lookup("13800138000").name) == (5, "Zhao Lei")
    admin.post("/config/vip/13800138000/delete", form={"csrf_token": token})
    directory.load()
    assert directory.lookup("13800138000").vip == 0          # still a customer, no longer a VIP
    assert "13800138000" not in admin.get("/config/vip").text
    assert [(u, t, json.loads(d)) for u, _, t, d in audit(db_path)] == [
        ("admin", "13800138000", {"vip": [0, 3]}), ("admin", "13800138000", {"vip": [3, 5]}),
        ("admin", "13800138000", {"vip": [5, 0]})]


def test_an_existing_customer_keeps_their_record(admin, db_path):
    db = open_db(db_path)
    # A card as the customer pages make it: its number in E.164 beside it (webui/customer_cards.py).
    db["customers"].insert({"id": "c1", "number": "+86215550123", "name": "Lin Wei", "vip": 0, "agent_id": "1002",
                            "blocked": 0, "version": 1})
    db["customer_numbers"].insert({"id": "n1", "customer_id": "c1", "number": "+86215550123", "created_at": 1.0})
    db.conn.close()
    token = admin.csrf("/")
    reply = admin.request("PUT", "/api/v1/config/vip/0215550123", json_body={"vip": 2},
                          headers={"X-CSRF-Token": token})
    assert reply.status == 200 and reply.json()["was"] == 0
    directory = CustomerDirectory(db_path)
    directory.load()
    c = directory.lookup("0215550123")
    assert (c.id, c.name, c.vip, c.agent_id) == ("c1", "Lin Wei", 2, "1002")
    assert admin.get("/api/v1/config/vip").json()["items"] == [
        {"id": "c1", "number": "+86215550123", "name": "Lin Wei", "vip": 2}]
    gone = admin.request("DELETE", "/api/v1/config/vip/0215550123", headers={"X-CSRF-Token": token})
    assert gone.status == 200
    again = admin.request("DELETE", "/api/v1/config/vip/0215550123", headers={"X-CSRF-Token": token})
    assert again.status == 404 and "has no VIP level" in again.json()["error"]


def test_bad_numbers_and_levels_are_named_beside_their_field(admin, db_path):
    token = admin.csrf("/config/vip")
    reply = admin.post("/config/vip", form={"csrf_token": token, "number": "call me", "vip": "3", "name": ""})
    assert reply.status == 422 and "a phone number is 1-20 digits" in reply.text
    reply = admin.post("/config/vip", form={"csrf_token": token, "number": "13800138000", "vip": "10", "name": ""})
    assert reply.status == 422 and "from 1 to 9" in reply.text and 'value="13800138000"' in reply.text
    bad = admin.request("PUT", "/api/v1/config/vip/13800138000", json_body={"vip": True},
                        headers={"X-CSRF-Token": token})
    assert bad.status == 422 and "vip" in bad.json()["fields"]
    assert audit(db_path) == []


def test_only_admins_set_vip_levels(add_user):
    for role in ("supervisor", "agent", "technician"):
        other = add_user(f"u-{role}", role, remote_addr=f"192.0.2.{40 + len(role)}")
        assert other.get("/config/vip").status == 403
        assert other.get("/api/v1/config/vip").status == 403
