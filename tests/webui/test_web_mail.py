"""The admin's mail page (issue 16 item 6): a test message is queued for the outbox, a bad address is
refused with its reason, and only a failed or unknown message can be sent again, audited."""
from __future__ import annotations

import json
import sqlite3

from firmware.store import connect, write_transaction
from webui.mail import queue_mail


def test_a_test_message_is_queued_and_shown_with_its_state(admin, db_path):
    token = admin.csrf("/mail")
    reply = admin.post("/mail/test", form={"to": "ops@example.com", "csrf_token": token})
    assert reply.status == 303 and reply.location == "/mail?done=queued"
    page = admin.get("/mail?done=queued")
    assert "ops@example.com" in page.text and "Test message from Branchline" in page.text
    assert "waiting to be sent" in page.text
    bad = admin.post("/mail/test", form={"to": "ops at example", "csrf_token": token})
    assert bad.status == 200 and "expected an e-mail address" in bad.text
    assert [m["recipients"] for m in admin.get("/api/v1/mail").json()["messages"]] == [["ops@example.com"]]


def test_only_a_failed_or_unknown_message_is_sent_again_and_the_admin_is_audited(admin, db_path):
    conn = connect(db_path)
    queue_mail(conn, "a@example.com", "one", "x", now=1.0)
    queue_mail(conn, "b@example.com", "two", "x", now=2.0)
    with write_transaction(conn):
        conn.execute("UPDATE mail_outbox SET state = 'unknown' WHERE subject = 'two'")
    ids = dict(conn.execute("SELECT subject, id FROM mail_outbox"))
    conn.close()
    token = admin.csrf("/mail")
    assert admin.post(f"/mail/{ids['one']}/send-again", form={"csrf_token": token}).status == 404
    assert admin.post(f"/mail/{ids['two']}/send-again", form={"csrf_token": token}).status == 303
    db = sqlite3.connect(db_path)
    assert db.execute("SELECT state FROM mail_outbox WHERE id = ?", [ids["two"]]).fetchone() == ("pending",)
    assert db.execute("SELECT username, target, detail FROM audit_log WHERE action = 'mail.send_again'").fetchall() \
        == [("admin", str(ids["two"]), json.dumps({}))]
    db.close()
