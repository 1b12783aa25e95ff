"""The pages' live event stream (docs/architecture.md §15): GET /api/v1/events as Server-Sent Events,
fed by the web process's one subscription to the engine; resumed from Last-Event-ID without a loss;
filtered per user; enriched screen pops; many streams on the front's few threads; a signed-out or
revoked session's stream ends."""
import json
import socket
import sqlite3
import time
import urllib.request
from urllib.parse import urlsplit

import pytest

from conftest import api_call

WAIT_S = 5.0


def until(predicate, what: str):
    """Wait (polling, at most WAIT_S) for something another thread does."""
    deadline = time.monotonic() + WAIT_S
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting for {what}")
        time.sleep(0.01)


def parse(text: str) -> list[dict]:
    """SSE messages (WHATWG HTML §9.2.6) as {"id", "event", "data"}; comments dropped."""
    out = []
    for block in text.split("\n\n"):
        fields: dict = {}
        for line in block.split("\n"):
            if not line or line.startswith(":"):
                continue
            name, _, value = line.partition(": ")
            fields[name] = value
        if "data" in fields:
            out.append({"id": fields.get("id"), "event": fields.get("event", "message"),
                        "data": json.loads(fields["data"])})
    return out


@pytest.fixture
def hub(app, admin, engine):
    """The app's hub, subscribed to the stand-in engine (the first stream starts it)."""
    hub = app.config["branchline.events"]
    assert admin.get("/api/v1/events").status == 200
    until(lambda: hub.engine_up, "the hub to subscribe")
    return hub


def publish(engine, hub, kind, **fields):
    """The engine publishes one event; returns once the hub has it."""
    seq = engine.events.seq + 1
    engine.events.publish(kind, fields)
    until(lambda: hub.seq >= seq, f"event {seq} to reach the hub")


def events_after(client, last_id) -> list[dict]:
    reply = client.get("/api/v1/events", headers={"Last-Event-ID": last_id})
    assert reply.status == 200 and reply.header("Content-Type").startswith("text/event-stream")
    return parse(reply.text)


def test_each_event_is_an_sse_message_with_id_type_and_json_data(admin, hub, engine):
    start = hub.last_id
    publish(engine, hub, "agent", agent="1001", name="Ana Costa", state="ready", reason=None)
    reply = admin.get("/api/v1/events", headers={"Last-Event-ID": start})
    assert reply.text.startswith("retry: ")
    got = parse(reply.text)
    assert [m["event"] for m in got] == ["agent", "engine"]
    agent = got[0]
    assert agent["id"] == hub.last_id and agent["data"]["state"] == "ready" and agent["data"]["seq"] == engine.events.seq
    # The engine's state closes the first answer, with no id (the page's last id stays that of the event).
    assert got[1]["id"] is None and got[1]["data"]["up"] is True


def test_a_page_resumes_from_its_last_id_with_nothing_lost_or_repeated(admin, hub, engine):
    mark = hub.last_id
    for n in range(5):
        publish(engine, hub, "queue", queue="sales", waiting=n)
    first = [m for m in events_after(admin, mark) if m["event"] == "queue"]
    assert [m["data"]["waiting"] for m in first] == [0, 1, 2, 3, 4]
    # The connection drops after the third; the engine goes on meanwhile.
    for n in range(5, 9):
        publish(engine, hub, "queue", queue="sales", waiting=n)
    resumed = [m for m in events_after(admin, first[2]["id"]) if m["event"] == "queue"]
    assert [m["data"]["waiting"] for m in resumed] == [3, 4, 5, 6, 7, 8]
    # The query parameter does what the header does, for clients that cannot set headers.
    by_query = parse(admin.get(f"/api/v1/events?last_event_id={first[2]['id']}").text)
    assert [m["data"]["waiting"] for m in by_query if m["event"] == "queue"] == [3, 4, 5, 6, 7, 8]


@pytest.mark.parametrize("last_id", ["feedbeef-3", "garbage", "x" * 100])
def test_an_id_the_hub_does_not_know_gets_a_reset(admin, hub, last_id):
    got = events_after(admin, last_id)
    assert [m["event"] for m in got] == ["reset", "engine"]


def test_an_id_older_than_the_ring_gets_a_reset(admin, hub):
    mark = hub.last_id
    for n in range(hub._ring.maxlen + 1):
        hub.publish("queue", {"queue": "sales", "waiting": n})
    assert [m["event"] for m in events_after(admin, mark)] == ["reset", "engine"]


def test_a_new_subscription_after_a_gap_resets_the_pages(admin, hub, engine):
    mark = hub.last_id
    engine.events.close()       # the hub's subscription ends ...
    engine.events.seq += 7      # ... the engine moves on meanwhile, and the hub subscribes again
    until(lambda: hub.seq == engine.events.seq and hub.engine_up, "the hub to subscribe again")
    told = [(m["event"], m["data"].get("up")) for m in events_after(admin, mark)]
    assert told == [("engine", False), ("reset", None), ("engine", True), ("engine", True)]


def test_new_site_settings_have_every_page_read_its_snapshot_again(staff, hub, engine):
    ana = staff("ana", ["agent"], agent_id="1001")
    mark = hub.last_id
    publish(engine, hub, "site", queues=["sales"], agents=["1001", "1005"])
    assert [m["event"] for m in events_after(ana, mark)] == ["reset", "engine"]


def test_an_agent_sees_their_own_agent_offers_and_calls_and_the_queues_only(app, hub, engine, staff, admin):
    ana = staff("ana", ["agent"], agent_id="1001")
    tech = staff("tom", ["technician"])
    mark = hub.last_id
    publish(engine, hub, "offer", agent="1002", call="c-2", number="0215550002", customer_id=None)
    publish(engine, hub, "offer", agent="1001", call="c-1", number="0215550001", customer_id=None)
    publish(engine, hub, "agent", agent="1002", state="ringing")
    publish(engine, hub, "call", call="c-3", state="ringing", agent=None, ringing=["1001", "1003"])
    publish(engine, hub, "queue", queue="sales", waiting=2)
    publish(engine, hub, "line", channel=3, state="ivr")
    publish(engine, hub, "supervisor", supervisor="S1", mode="whisper", agent="1002", call="c-2")

    def seen(client):
        return [(m["event"], m["data"].get("agent") or m["data"].get("call") or m["data"].get("queue")
                 or m["data"].get("channel")) for m in events_after(client, mark) if m["event"] not in ("engine",)]
    assert seen(ana) == [("offer", "1001"), ("call", "c-3"), ("queue", "sales")]
    assert seen(tech) == [("call", "c-3"), ("queue", "sales"), ("line", 3)]
    assert len(seen(admin)) == 7


def test_an_offer_pops_the_callers_card_last_calls_and_open_tickets(admin, hub, engine, db_path, staff):
    ana = staff("ana", ["agent"], agent_id="1001")
    made = admin.api_post("/api/v1/customers", {"name": "Lin Wei", "numbers": ["02161234567"], "vip": 2,
                                                "company": "Acme"})
    assert made.status == 201, made.text
    card = made.json()["customer"]
    conn = sqlite3.connect(db_path)
    for n in range(7):
        conn.execute("INSERT INTO calls (id, direction, number, arrived_at, customer_id, disposition, wrapup_code, "
                     "queue, agent_id) VALUES (?, 'inbound', '02161234567', ?, ?, 'answered', ?, 'sales', '1001')",
                     [f"old-{n}", 1_700_000_000 + n, card["id"], f"code-{n}"])
    conn.commit()
    conn.close()
    ticket = api_call(admin, "POST", "/api/v1/tickets", {"category": "complaint", "priority": "normal",
                                                           "title": "Parcel lost", "customer_id": card["id"],
                                                           "number": "02161234567"})
    assert ticket.status == 201, ticket.text
    mark = hub.last_id
    # The engine names the card when its directory has it; a card made seconds ago is found by number.
    publish(engine, hub, "offer", agent="1001", call="c-new", number="02161234567", customer_id=None, queue="sales")
    offer = next(m["data"] for m in events_after(ana, mark) if m["event"] == "offer")
    assert offer["card"]["name"] == "Lin Wei" and offer["card"]["vip"] == 2 and offer["card"]["company"] == "Acme"
    assert offer["card"]["numbers"] == [n["number"] for n in card["numbers"]]
    assert [c["id"] for c in offer["history"]] == ["old-6", "old-5", "old-4", "old-3", "old-2"]
    assert offer["history"][0]["wrapup_code"] == "code-6" and offer["history"][0]["disposition"] == "answered"
    assert [t["title"] for t in offer["tickets"]] == ["Parcel lost"]


def test_an_unknown_caller_pops_no_card(admin, hub, engine):
    mark = hub.last_id
    publish(engine, hub, "offer", agent="1001", call="c-x", number="0215559999", customer_id=None)
    offer = next(m["data"] for m in events_after(admin, mark) if m["event"] == "offer")
    assert offer["card"] is None and offer["history"] == [] and offer["tickets"] == []


# --- on the box's own server: streams held open by the front's loop -----------------------------------
class SseReader:
    """A raw HTTP/1.1 client of /api/v1/events on the live server: reads messages as they come."""

    def __init__(self, base: str, cookies: dict, last_id: str | None = None):
        url = urlsplit(base)
        self.sock = socket.create_connection((url.hostname, url.port), timeout=WAIT_S)
        head = (f"GET /api/v1/events HTTP/1.1\r\nHost: box\r\nAccept: text/event-stream\r\n"
                f"Cookie: {'; '.join(f'{k}={v}' for k, v in cookies.items())}\r\n")
        if last_id:
            head += f"Last-Event-ID: {last_id}\r\n"
        self.sock.sendall((head + "\r\n").encode())
        self.buffer = b""
        self.status = int(self._until(b"\r\n\r\n").split(b" ", 2)[1])
        self.ended = False

    def _until(self, mark: bytes) -> bytes:
        while mark not in self.buffer:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError("the server closed the stream")
            self.buffer += data
        part, _, self.buffer = self.buffer.partition(mark)
        return part

    def messages(self, count: int, kind: str | None = None) -> list[dict]:
        """The next `count` messages (of type `kind`), de-chunked (RFC 9112 §7.1)."""
        got: list[dict] = []
        while len(got) < count:
            size = int(self._until(b"\r\n"), 16)
            if size == 0:
                self.ended = True
                return got
            while len(self.buffer) < size + 2:
                data = self.sock.recv(65536)
                if not data:
                    raise EOFError("the server closed the stream mid-chunk")
                self.buffer += data
            chunk, self.buffer = self.buffer[:size], self.buffer[size + 2:]
            got += [m for m in parse(chunk.decode()) if kind is None or m["event"] == kind]
        return got

    def close(self) -> None:
        self.sock.close()


def test_events_arrive_pushed_and_a_dropped_stream_resumes_without_a_loss(live_server, admin, hub, engine):
    reader = SseReader(live_server, admin.cookies)
    assert reader.status == 200
    until(lambda: hub.streams >= 1, "the stream to be held")
    for n in range(3):
        engine.events.publish("queue", {"queue": "sales", "waiting": n})
    first = reader.messages(3, "queue")
    assert [m["data"]["waiting"] for m in first] == [0, 1, 2]
    reader.close()
    until(lambda: hub.streams == 0, "the dropped stream to be let go")
    for n in range(3, 6):
        engine.events.publish("queue", {"queue": "sales", "waiting": n})
    until(lambda: hub.seq == engine.events.seq, "the events to reach the hub")
    again = SseReader(live_server, admin.cookies, last_id=first[-1]["id"])
    engine.events.publish("queue", {"queue": "sales", "waiting": 6})
    resumed = again.messages(4, "queue")
    assert [m["data"]["waiting"] for m in resumed] == [3, 4, 5, 6]
    again.close()


def test_fifty_five_streams_leave_the_servers_threads_free(live_server, admin, hub, engine):
    readers = [SseReader(live_server, admin.cookies) for _ in range(55)]
    until(lambda: hub.streams == 55, "every stream to be held")
    request = urllib.request.Request(live_server + "/api/v1/status",
                                     headers={"Cookie": "; ".join(f"{k}={v}" for k, v in admin.cookies.items())})
    with urllib.request.urlopen(request, timeout=WAIT_S) as reply:
        assert reply.status == 200
    engine.events.publish("agent", {"agent": "1001", "state": "ready"})
    assert all(r.messages(1, "agent")[0]["data"]["agent"] == "1001" for r in readers)
    for r in readers:
        r.close()


def test_signing_out_ends_the_sessions_open_stream_and_it_opens_no_more(live_server, admin, hub):
    reader = SseReader(live_server, dict(admin.cookies))
    until(lambda: hub.streams == 1, "the stream to be held")
    cookies = dict(admin.cookies)
    assert admin.post("/logout", form={"csrf_token": admin.csrf("/logout")}).status == 303
    reader.messages(1000)
    assert reader.ended
    assert SseReader(live_server, cookies).status == 401


def test_a_revoked_session_loses_its_stream_within_seconds(live_server, app, admin, hub, staff, clock):
    ana = staff("ana", ["agent"], agent_id="1001")
    reader = SseReader(live_server, ana.cookies)
    until(lambda: hub.streams == 1, "the stream to be held")
    disabled = api_call(admin, "PATCH", "/api/v1/users/ana", {"disabled": True})
    assert disabled.status == 200, disabled.text
    clock.advance(6)
    hub.sweep()
    reader.messages(1000)
    assert reader.ended
