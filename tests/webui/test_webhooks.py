"""Webhooks (docs/requirements.md R20): a receiver that is down and then up gets every event once (by its id), in
order per ticket, across a restart of the sender; signatures; backoff; and the admin's endpoints API and pages."""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from firmware.store import connect, connect_readonly, open_db, write_transaction
from tests.webui.conftest import api_call
from webui.outbox import EVENTS, OutboxError, enqueue
from webui.webhook_delivery import (BACKOFF_BASE_S, BACKOFF_CAP_S, GIVE_UP_AFTER_S, SIGNATURE_HEADER, Deliverer,
                                    DeliveryThread, backoff, http_post, sign)

SECRET = "s" * 32


class Receiver:
    """A webhook receiver on a local port: checks each signature, keeps what it accepted, drops a repeat by
    the event's id (its own view), and can be made to fail (`down`) or fail some events (`refuse`)."""

    def __init__(self):
        self.down = False
        self.refuse: set[str] = set()
        self.seen: list[dict] = []        # every event accepted, repeats included
        self.view: dict[str, dict] = {}   # by event id: what the receiver's application sees
        self.bad_signatures = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                parts = dict(p.split("=", 1) for p in self.headers[SIGNATURE_HEADER].split(","))
                stamp, mac = parts["t"], parts["v1"]
                expected = hmac.new(SECRET.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
                event = json.loads(body)
                with receiver.lock:
                    if not hmac.compare_digest(mac, expected):
                        receiver.bad_signatures += 1
                        status = 401
                    elif receiver.down or event["id"] in receiver.refuse:
                        status = 503
                    else:
                        receiver.seen.append(event)
                        receiver.view.setdefault(event["id"], event)
                        status = 204
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook?src=box"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def order(self, key: str) -> list[str]:
        """The event ids of `key` in the order the receiver first accepted them."""
        first: list[str] = []
        for event in self.seen:
            if event["data"].get("key") == key and event["id"] not in first:
                first.append(event["id"])
        return first

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


class Clock:
    def __init__(self, t: float = 1_700_000_000.0):
        self.t = t

    def __call__(self) -> float:
        return self.t


def add_endpoint(db_path, url: str, events=tuple(EVENTS), endpoint_id: str = "e" * 32) -> None:
    conn = connect(db_path)
    with write_transaction(conn):
        conn.execute("INSERT INTO webhook_endpoints (id, url, secret, events, created_at, updated_at)"
                     " VALUES (?, ?, ?, ?, 0, 0)", [endpoint_id, url, SECRET, json.dumps(list(events))])
    conn.close()


def ticket_events(db_path, clock, plan: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Enqueues (event, ticket) in the order given, each in its own transaction as a ticket change would;
    returns each key's event ids in that order."""
    conn = connect(db_path)
    ids: dict[str, list[str]] = {}
    for n, (event, ticket) in enumerate(plan):
        key = f"ticket:{ticket}"
        with write_transaction(conn):
            event_id = enqueue(conn, event, key, {"key": key, "n": n}, clock())
        ids.setdefault(key, []).append(event_id)
    conn.close()
    return ids


def drain(deliverer: Deliverer, clock: Clock, rounds: int = 60) -> None:
    """Passes of the sender, the clock moved past each backoff, until nothing is waiting."""
    for _ in range(rounds):
        deliverer.run_once()
        if not deliverer.conn.execute("SELECT 1 FROM webhook_deliveries WHERE state = 'pending'").fetchone():
            return
        clock.t += BACKOFF_CAP_S
    raise AssertionError("deliveries still waiting")


PLAN = [("ticket.created", "A"), ("ticket.created", "B"), ("ticket.changed", "A"), ("ticket.changed", "B"),
        ("ticket.changed", "A"), ("ticket.changed", "A"), ("ticket.changed", "B")]


def test_receiver_down_then_up_gets_every_event_once_in_order_per_ticket_across_a_restart(db_path, receiver):
    clock = Clock()
    add_endpoint(db_path, receiver.url)
    open_db(db_path).conn.close()
    ids = ticket_events(db_path, clock, PLAN)

    receiver.down = True
    sender = Deliverer(db_path, clock, rand=lambda: 0.0)
    assert sender.run_once() == 2            # only the head of each ticket is tried
    clock.t += BACKOFF_BASE_S
    assert sender.run_once() == 2
    assert receiver.view == {}

    # The sender stops while the receiver is down; a new one (a restart) takes up where it was.
    sender.close()
    receiver.down = False
    clock.t += BACKOFF_CAP_S
    restarted = Deliverer(db_path, clock, rand=lambda: 0.0)

    # ... and is cut off once after a receiver accepted an event but before it was marked sent.
    crash = {"left": 1}

    def post_then_crash(url, body, headers):
        reply = http_post(url, body, headers)
        if crash["left"]:
            crash["left"] -= 1
            raise SystemExit("power cut")
        return reply

    restarted.post = post_then_crash
    with pytest.raises(SystemExit):
        restarted.run_once()
    restarted.close()
    drain(Deliverer(db_path, clock, rand=lambda: 0.0), clock)

    assert set(receiver.view) == {i for key in ids.values() for i in key}
    assert len(receiver.seen) == len(PLAN) + 1    # at least once: the one accepted before the cut came twice
    for key, expected in ids.items():
        assert receiver.order(key) == expected
    assert receiver.bad_signatures == 0


def test_a_failing_event_holds_back_its_ticket_only(db_path, receiver):
    clock = Clock()
    add_endpoint(db_path, receiver.url)
    ids = ticket_events(db_path, clock, PLAN)
    receiver.refuse = {ids["ticket:A"][0]}
    sender = Deliverer(db_path, clock, rand=lambda: 0.0)
    for _ in range(5):
        sender.run_once()
        clock.t += BACKOFF_BASE_S * 4
    assert receiver.order("ticket:B") == ids["ticket:B"]
    assert receiver.order("ticket:A") == []
    receiver.refuse = set()
    drain(sender, clock)
    assert receiver.order("ticket:A") == ids["ticket:A"]


def test_an_event_failing_for_three_days_is_abandoned_and_its_ticket_goes_on(db_path, receiver):
    clock = Clock()
    add_endpoint(db_path, receiver.url)
    ids = ticket_events(db_path, clock, [("ticket.created", "A"), ("ticket.changed", "A")])
    receiver.refuse = {ids["ticket:A"][0]}
    sender = Deliverer(db_path, clock, rand=lambda: 0.0)
    sender.run_once()
    clock.t += GIVE_UP_AFTER_S
    sender.run_once()
    states = [r[0] for r in sender.conn.execute("SELECT state FROM webhook_deliveries ORDER BY id")]
    assert states == ["abandoned", "pending"]
    sender.run_once()
    assert receiver.order("ticket:A") == [ids["ticket:A"][1]]


def test_an_unreachable_receiver_is_retried_with_growing_delays(db_path):
    clock = Clock()
    add_endpoint(db_path, "http://127.0.0.1:9/nothing-listens")   # discard port: refused
    ticket_events(db_path, clock, [("ticket.created", "A")])
    sender = Deliverer(db_path, clock, rand=lambda: 0.0)
    waits = []
    for _ in range(4):
        assert sender.run_once() == 1
        next_at, error = sender.conn.execute("SELECT next_at, last_error FROM webhook_deliveries").fetchone()
        assert error
        waits.append(next_at - clock.t)
        assert sender.run_once() == 0          # not due before its time
        clock.t = next_at
    assert waits == [BACKOFF_BASE_S / 2, BACKOFF_BASE_S, BACKOFF_BASE_S * 2, BACKOFF_BASE_S * 4]


def test_an_endpoint_that_does_not_answer_is_tried_once_a_pass_and_holds_up_no_other(db_path, receiver):
    clock = Clock()
    add_endpoint(db_path, "http://127.0.0.1:9/nothing-listens", endpoint_id="d" * 32)
    add_endpoint(db_path, receiver.url)
    ticket_events(db_path, clock, [("ticket.created", t) for t in "ABCDE"])
    sender = Deliverer(db_path, clock, rand=lambda: 0.0)
    assert sender.run_once() == 1 + 5
    assert len(receiver.view) == 5
    attempts = [r[0] for r in sender.conn.execute(
        "SELECT attempts FROM webhook_deliveries WHERE endpoint_id = ? ORDER BY id", ["d" * 32])]
    assert attempts == [1, 0, 0, 0, 0]


def test_backoff_has_jitter_and_a_ceiling():
    assert backoff(1, lambda: 1.0) == BACKOFF_BASE_S
    assert backoff(30, lambda: 0.0) == BACKOFF_CAP_S / 2
    assert backoff(30, lambda: 1.0) == BACKOFF_CAP_S
    assert backoff(3, lambda: 0.5) == pytest.approx(0.75 * 4 * BACKOFF_BASE_S)


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body():
    body = b'{"id":"x"}'
    mac = hmac.new(b"key", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert sign("key", 1_700_000_000, body) == f"t=1700000000,v1={mac}"


def test_enqueue_belongs_in_the_change_transaction_and_checks_its_event(db_path):
    conn = connect(db_path)
    with pytest.raises(OutboxError):
        enqueue(conn, "ticket.created", "ticket:A", {}, 0.0)
    with pytest.raises(OutboxError), write_transaction(conn):
        enqueue(conn, "ticket.deleted", "ticket:A", {}, 0.0)
    # A change rolled back takes its event with it.
    with pytest.raises(RuntimeError), write_transaction(conn):
        enqueue(conn, "ticket.created", "ticket:A", {}, 0.0)
        raise RuntimeError("the ticket's write failed")
    assert conn.execute("SELECT count(*) FROM webhook_events").fetchone()[0] == 0


def test_call_ended_follows_the_calls_once_each_and_from_now_on(db_path, receiver):
    clock = Clock()
    add_endpoint(db_path, receiver.url, events=["call.ended"])
    db = open_db(db_path)
    db["calls"].insert({"id": "old", "number": "021", "arrived_at": 1.0, "ended_at": 2.0})
    sender = Deliverer(db_path, clock, rand=lambda: 0.0)
    assert sender.follow_calls() == 0          # the first pass starts at the latest call
    db["calls"].insert({"id": "c1", "number": "02161234567", "arrived_at": 10.0})
    assert sender.follow_calls() == 0          # still ringing
    db["calls"].update("c1", {"ended_at": 70.0, "disposition": "answered"})
    db["calls"].insert({"id": "c2", "number": "13800138000", "arrived_at": 20.0, "ended_at": 40.0})
    assert sender.follow_calls() == 2
    db["calls"].update("c1", {"wrapup_code": "sale"})   # changed after its end: no second event
    assert sender.follow_calls() == 0
    drain(sender, clock)
    assert sorted(e["data"]["id"] for e in receiver.view.values()) == ["c1", "c2"]
    assert {e["event"] for e in receiver.view.values()} == {"call.ended"}
    db.conn.close()


# --- the admin's API and pages ---------------------------------------------------------------------
def test_an_admin_adds_an_endpoint_and_sees_its_secret_once(admin, db_path):
    reply = api_call(admin, "POST", "/api/v1/webhooks", {"url": "https://crm.example.com/hook",
                                                         "events": ["ticket.created", "call.ended"]})
    assert reply.status == 201, reply.text
    endpoint = reply.json()["endpoint"]
    assert len(endpoint["secret"]) == 64
    listed = admin.get("/api/v1/webhooks").json()["endpoints"]
    assert [e["id"] for e in listed] == [endpoint["id"]] and "secret" not in listed[0]
    assert "secret" not in admin.get(f"/api/v1/webhooks/{endpoint['id']}").json()["endpoint"]
    conn = connect_readonly(db_path)
    entry = conn.execute("SELECT action, target, detail FROM audit_log WHERE action = 'webhook.create'").fetchone()
    assert entry[1] == endpoint["id"] and endpoint["secret"] not in entry[2]


def test_an_endpoint_gets_only_the_events_it_chose(admin, db_path):
    chosen = api_call(admin, "POST", "/api/v1/webhooks", {"url": "https://a.example/h", "events": ["call.ended"]})
    everything = api_call(admin, "POST", "/api/v1/webhooks", {"url": "https://b.example/h", "events": list(EVENTS)})
    ticket_events(db_path, Clock(), [("ticket.created", "A")])
    conn = connect_readonly(db_path)
    got = [r[0] for r in conn.execute("SELECT endpoint_id FROM webhook_deliveries")]
    assert got == [everything.json()["endpoint"]["id"]]
    assert chosen.status == 201


@pytest.mark.parametrize("body, field", [
    ({"url": "ftp://x.example/h", "events": ["call.ended"]}, "url"),
    ({"url": "https://user:pw@x.example/h", "events": ["call.ended"]}, "url"),
    ({"url": "https:///nohost", "events": ["call.ended"]}, "url"),
    ({"url": "https://x.example/" + "a" * 2000, "events": ["call.ended"]}, "url"),
    ({"url": "https://x.example/h", "events": []}, "events"),
    ({"url": "https://x.example/h", "events": ["ticket.deleted"]}, "events"),
    ({"url": "https://x.example/h", "events": ["call.ended"], "secret": "short"}, "secret"),
    ({"url": "https://x.example/h", "events": ["call.ended"], "enabled": "maybe"}, "enabled"),
    ({"url": 7, "events": ["call.ended"]}, "url"),
])
def test_bad_endpoint_fields_are_refused_with_the_field_named(admin, body, field):
    reply = api_call(admin, "POST", "/api/v1/webhooks", body)
    assert reply.status == 400
    assert field in reply.json()["problems"]
    assert admin.get("/api/v1/webhooks").json()["endpoints"] == []


def test_a_stale_endpoint_edit_is_409_and_changes_nothing(admin):
    endpoint = api_call(admin, "POST", "/api/v1/webhooks",
                        {"url": "https://a.example/h", "events": ["call.ended"]}).json()["endpoint"]
    path = f"/api/v1/webhooks/{endpoint['id']}"
    ok = api_call(admin, "PUT", path, {"url": "https://b.example/h", "events": ["call.ended"], "version": 1})
    assert ok.status == 200 and ok.json()["endpoint"]["version"] == 2
    stale = api_call(admin, "PUT", path, {"url": "https://c.example/h", "events": ["call.ended"], "version": 1})
    assert stale.status == 409
    assert admin.get(path).json()["endpoint"]["url"] == "https://b.example/h"


def test_a_test_event_goes_to_that_endpoint_only_and_shows_in_its_deliveries(admin, db_path):
    one = api_call(admin, "POST", "/api/v1/webhooks", {"url": "https://a.example/h", "events": ["call.ended"]})
    api_call(admin, "POST", "/api/v1/webhooks", {"url": "https://b.example/h", "events": ["call.ended"]})
    endpoint_id = one.json()["endpoint"]["id"]
    sent = api_call(admin, "POST", f"/api/v1/webhooks/{endpoint_id}/test")
    assert sent.status == 202
    deliveries = admin.get(f"/api/v1/webhooks/{endpoint_id}").json()["deliveries"]
    assert [(d["event"], d["event_id"], d["state"]) for d in deliveries] == [
        ("webhook.test", sent.json()["event_id"], "pending")]
    page = admin.get(f"/webhooks/{endpoint_id}")
    assert page.status == 200 and "webhook.test" in page.text


def test_the_page_adds_an_endpoint_and_shows_the_secret_once(admin):
    token = admin.csrf("/webhooks")
    reply = admin.post("/webhooks", form={"csrf_token": token, "url": "https://crm.example.com/h",
                                          "events": "ticket.created", "description": "CRM"})
    assert reply.status == 200
    secret = reply.text.split('id="secret">')[1].split("<")[0]
    assert len(secret) == 64
    assert secret not in admin.get("/webhooks").text
    bad = admin.post("/webhooks", form={"csrf_token": token, "url": "javascript:alert(1)", "events": "call.ended"})
    assert bad.status == 400 and 'id="error-url"' in bad.text


@pytest.mark.parametrize("role", ["supervisor", "agent", "technician"])
def test_only_admins_configure_webhooks(staff, role):
    user = staff(f"u-{role}", [role], agent_id="1001" if role == "agent" else None)
    assert user.get("/webhooks").status == 403
    assert api_call(user, "POST", "/api/v1/webhooks", {"url": "https://a.example/h", "events": ["call.ended"]}
                    ).status == 403
    assert user.get("/api/v1/webhooks").status == 403


def test_an_admin_retries_an_abandoned_delivery_from_the_page(admin, db_path, receiver, clock):
    endpoint = api_call(admin, "POST", "/api/v1/webhooks", {"url": receiver.url, "events": ["ticket.created"],
                                                            "secret": SECRET}).json()["endpoint"]
    ids = ticket_events(db_path, clock, [("ticket.created", "A")])
    receiver.down = True
    later = Clock(clock())      # the sender's own: 3 days on would end the admin's session
    sender = Deliverer(db_path, later, rand=lambda: 0.0)
    sender.run_once()
    later.t += GIVE_UP_AFTER_S
    sender.run_once()
    delivery = admin.get(f"/api/v1/webhooks/{endpoint['id']}").json()["deliveries"][0]
    assert delivery["state"] == "abandoned" and delivery["attempts"] == 2
    assert "Retry now" in admin.get(f"/webhooks/{endpoint['id']}").text
    token = admin.csrf(f"/webhooks/{endpoint['id']}")
    reply = admin.post(f"/webhooks/{endpoint['id']}/retry", form={"csrf_token": token, "delivery": str(delivery["id"])})
    assert reply.status == 303
    receiver.down = False
    sender.run_once()
    assert list(receiver.view) == ids["ticket:A"]
    again = admin.post(f"/webhooks/{endpoint['id']}/retry", form={"csrf_token": token, "delivery": str(delivery["id"])})
    assert again.status == 404      # delivered: nothing to retry


def test_the_web_process_thread_delivers_what_was_waiting_at_its_start(db_path, receiver):
    add_endpoint(db_path, receiver.url)
    ids = ticket_events(db_path, Clock(), [("ticket.created", "A"), ("ticket.changed", "A")])
    got = threading.Event()
    original = http_post

    def post(url, body, headers):
        reply = original(url, body, headers)
        if len(receiver.view) == 2:
            got.set()
        return reply

    thread = DeliveryThread(Deliverer(db_path, post=post)).start()
    try:
        assert got.wait(10)      # its first pass runs at once: no poll interval to wait out
    finally:
        thread.stop()
    assert receiver.order("ticket:A") == ids["ticket:A"]
