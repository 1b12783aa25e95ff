"""Texts through the GSM modem: the outbox in `sms_messages`, the modem's own thread that sends it and
reads what arrives, and what an incoming text means to the call center (a survey answer, a request to be
called back).

Sent once, none lost. A text is `queued` until the modem can send (no SIM, no network: it waits, it is not
dropped). Before its first part goes to the modem the row is marked `sending` and committed; when every
part has its +CMGS it is `sent`, and `delivered` when every part's status report says so (TS 23.040
§9.2.3.15). A +CMS ERROR before any part went means the network did not take it: it goes back to `queued`
with a backoff, `failed` after MAX_ATTEMPTS; a port lost before any part went is no refusal, and the
text waits for the modem, no attempt spent. But a modem unplugged, or silent, once a PDU was written
leaves it unknown whether the network has the text: the row becomes `unknown`, as does a row still
`sending` at start (the box stopped mid-send), and it is never sent again by itself. A technician sees it
on the page and may send it again. Resending blindly would text a customer twice for every flaky cable;
the cost of the other choice is one text a person decides about."""
from __future__ import annotations

import json
import logging
import queue
import random
import re
import sqlite3
import threading
import time
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import phonenumbers

from drivers.gsm_at import AtError, PortLost
from drivers.gsm_modem import GsmError, GsmModem
from drivers.modem_port import RECONNECT_MAX_S, RECONNECT_MIN_S
from drivers.sms_pdu import Deliver, PduError, StatusReport, encode_submit
from firmware.callcenter.callbacks import PendingCallback
from firmware.store import connect, write_transaction
from firmware.store.phones import PhoneNumberError, normalize

log = logging.getLogger(__name__)

# A text a person writes: 10 parts is what handsets join without complaint (and 670 Chinese characters).
MAX_TEXT = 670
MAX_ATTEMPTS = 3
RETRY_S = 60.0
# How often the technician's figures (signal, registration) are asked again while idle.
STATUS_EVERY_S = 30.0
# How long the thread listens for the modem's codes between rounds of its other work.
LISTEN_S = 0.2
# A reply "1".."5" answers the box's latest survey or notification to that number within this time.
REPLY_WINDOW_S = 3 * 86400.0
# Parts of an incoming text wait this long for the rest (TS 23.040 gives no limit; a day is generous).
PARTS_WAIT_S = 86400.0
# The purposes of texts whose reply is an answer.
ASKS = ("survey", "notification", "after_call", "ticket")
CALLS_CURSOR_KEY = "sms.calls_seq"
OUT_STATES = ("queued", "sending", "sent", "delivered", "failed", "unknown")


@dataclass(frozen=True)
class TextRules:
    """What incoming and after-call texts mean here (site.toml [sms], read by firmware/config/messaging.py):
    the queue a texted callback request waits in ("" none), the words that ask for one, the satisfaction
    text after each answered call ("" none)."""
    callback_queue: str = ""
    callback_keywords: tuple[str, ...] = ()
    after_call: str = ""


class SmsError(ValueError):
    """A text that cannot be queued (a number that does not parse, an empty or too long text), or one
    that cannot be sent again; the message says which."""


def _new_id() -> str:
    return uuid.uuid4().hex


class SmsService:
    """One modem on `port`; the store at `db_path`. Public methods are safe from any thread."""

    def __init__(self, port: str, db_path: str | Path, region: str, *,
                 rules: Callable[[], TextRules] = TextRules, clock: Callable[[], float] = time.time,
                 modem: GsmModem | None = None,
                 rand: Callable[[], float] = random.random, listen_s: float = LISTEN_S):
        self.port, self.region, self.listen_s = port, region, listen_s
        # Asked again each round, so a change of the settings applies without a restart.
        self.rules = rules
        self.clock, self.rand = clock, rand
        self.modem = modem or GsmModem(port)
        self._db = connect(db_path)
        self._db_lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._callbacks: queue.SimpleQueue[PendingCallback] = queue.SimpleQueue()
        self._reconnect_s = RECONNECT_MIN_S
        self._next_connect = 0.0
        self._next_status = 0.0
        self._status_lock = threading.Lock()
        self._status = self.modem.status.as_dict()
        with self._db_lock, write_transaction(self._db):
            self._db.execute("UPDATE sms_messages SET state = 'unknown', updated_at = ?, error = ? WHERE"
                             " direction = 'out' AND state = 'sending'",
                             [self.clock(), "the box stopped while it was being sent: check before sending again"])

    # --- any thread -------------------------------------------------------------------------------
    def queue_text(self, number: str, text: str, purpose: str = "test", requested_by: str = "",
                   call_id: str | None = None, ticket_id: str | None = None) -> dict:
        """Put a text in the outbox; its row (id, number as E.164, state). SmsError for a bad number or text."""
        text = text.strip()
        if not text or len(text) > MAX_TEXT:
            raise SmsError(f"a text of 1 to {MAX_TEXT} characters, got {len(text)}")
        try:
            e164 = normalize(number, self.region)
        except PhoneNumberError as exc:
            raise SmsError(str(exc)) from None
        try:
            parts = encode_submit(e164, text)
        except PduError as exc:
            raise SmsError(str(exc)) from None
        now = self.clock()
        row = {"id": _new_id(), "direction": "out", "number": e164, "text": text, "state": "queued",
               "purpose": purpose, "call_id": call_id, "ticket_id": ticket_id, "ref": int(self.rand() * 256) % 256,
               "parts": len(parts), "created_at": now, "updated_at": now, "attempts": 0,
               "requested_by": requested_by, "next_at": now}
        with self._db_lock, write_transaction(self._db):
            self._insert(row)
        self._wake.set()
        return {k: row[k] for k in ("id", "number", "state", "parts")}

    def _insert(self, row: dict) -> None:
        self._db.execute(f"INSERT INTO sms_messages ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                         list(row.values()))

    def send_again(self, message_id: str) -> dict:
        """A text that failed, or whose fate is unknown, queued again (a person's decision)."""
        with self._db_lock, write_transaction(self._db):
            cur = self._db.execute("UPDATE sms_messages SET state = 'queued', attempts = 0, error = NULL,"
                                   " parts_json = NULL, next_at = NULL, updated_at = ? WHERE id = ? AND"
                                   " direction = 'out' AND state IN ('failed', 'unknown')", [self.clock(), message_id])
        if cur.rowcount != 1:
            raise SmsError(f"text {message_id[:40]}: no failed or unknown outgoing text with that id")
        self._wake.set()
        return {"id": message_id, "state": "queued"}

    def status(self) -> dict:
        """The modem's figures and the outbox's counts, as of the thread's last look."""
        with self._status_lock:
            modem = dict(self._status)
        with self._db_lock:
            counts = dict(self._db.execute("SELECT state, count(*) FROM sms_messages WHERE direction = 'out'"
                                           " GROUP BY state").fetchall())
        return {"port": self.port, "modem": modem, "outbox": {s: counts.get(s, 0) for s in OUT_STATES}}

    def take_callbacks(self) -> list[PendingCallback]:
        """Callback requests texts made since the last call (the loop takes them up)."""
        found = []
        while True:
            try:
                found.append(self._callbacks.get_nowait())
            except queue.Empty:
                return found

    # --- the modem's thread -----------------------------------------------------------------------
    def start(self) -> SmsService:
        self._thread = threading.Thread(target=self._run, name=f"sms-{Path(self.port).name}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(5.0)
        self.modem.close()
        self._db.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                pause = self.step()
            except sqlite3.Error as exc:
                log.warning("sms %s: %s; trying again", self.port, exc)
                pause = 1.0
            if pause:
                # A new text (queue_text) or a stop wakes the thread early.
                self._wake.wait(pause)
                self._wake.clear()

    def step(self) -> float:
        """One round: connect if need be, send what is due, follow calls, listen for codes; the seconds to
        wait before the next round (0: go on at once; listening for codes is itself the wait)."""
        now = self.clock()
        if not self.modem.open:
            if now < self._next_connect:
                return min(1.0, self._next_connect - now)
            try:
                self.modem.connect()
                self._reconnect_s = RECONNECT_MIN_S
                self._take(*self.modem.read_stored())
            except GsmError as exc:
                # Bounded reconnect (docs/standards.md §12.2): 1 s doubling to 30 s.
                self._next_connect = now + self._reconnect_s
                self._reconnect_s = min(RECONNECT_MAX_S, self._reconnect_s * 2)
                log.info("sms %s: %s; next try in %.0f s", self.port, exc, self._reconnect_s)
            self._publish()
            return 0.0
        try:
            if now >= self._next_status:
                self.modem.refresh()
                self._next_status = now + STATUS_EVERY_S
                self._publish()
            self._follow_calls()
            self._send_due()
            self._take(*self.modem.incoming(0.0 if self._wake.is_set() else self.listen_s))
            self._wake.clear()
        except GsmError as exc:
            log.warning("sms %s: %s", self.port, exc)
            self._next_connect = self.clock() + self._reconnect_s
        self._publish()
        return 0.0

    def _publish(self) -> None:
        with self._status_lock:
            self._status = self.modem.status.as_dict()

    def _send_due(self) -> None:
        if not self.modem.status.can_send:
            return
        with self._db_lock:
            due = self._db.execute("SELECT id, number, text, ref, attempts FROM sms_messages WHERE direction = 'out'"
                                   " AND state = 'queued' AND coalesce(next_at, 0) <= ? ORDER BY created_at LIMIT 5",
                                   [self.clock()]).fetchall()
        for message_id, number, text, ref, attempts in due:
            self._set(message_id, "sending", attempts=attempts + 1)
            try:
                refs = self.modem.send(number, text, ref or 0)
            except AtError as exc:
                if exc.unknown:
                    self._set(message_id, "unknown", error=str(exc)[:300])
                    raise GsmError(str(exc)) from None
                if isinstance(exc, PortLost):
                    # The modem went before any part did: the network refused nothing, so the text waits
                    # for the modem as it waits for a SIM, no attempt spent and no back-off.
                    self._set(message_id, "queued", error=str(exc)[:300], attempts=attempts)
                    raise GsmError(str(exc)) from None
                # Refused before any part went: the network does not have it.
                final = attempts + 1 >= MAX_ATTEMPTS
                self._set(message_id, "failed" if final else "queued", error=str(exc)[:300],
                          next_at=self.clock() + RETRY_S * (attempts + 1))
                continue
            except (GsmError, PduError) as exc:
                self._set(message_id, "queued", error=str(exc)[:300], attempts=attempts)
                raise GsmError(str(exc)) from None
            self._set(message_id, "sent", sent_at=self.clock(), error=None,
                      parts_json=json.dumps([{"mr": mr, "status": None} for mr in refs]))

    def _set(self, message_id: str, state: str, **changes: object) -> None:
        changes = {"state": state, "updated_at": self.clock(), **changes}
        with self._db_lock, write_transaction(self._db):
            self._db.execute(f"UPDATE sms_messages SET {', '.join(f'{k} = ?' for k in changes)} WHERE id = ?",
                             [*changes.values(), message_id])

    # --- what arrives --------------------------------------------------------------------------------
    def _take(self, texts: list[Deliver], reports: list[StatusReport]) -> None:
        for report in reports:
            self._report(report)
        for part in texts:
            self._part(part)

    def _report(self, report: StatusReport) -> None:
        """Mark the part the report names (by TP-MR and recipient, the latest such sent text)."""
        since = self.clock() - REPLY_WINDOW_S
        with self._db_lock, write_transaction(self._db):
            rows = self._db.execute("SELECT id, number, parts_json FROM sms_messages WHERE direction = 'out' AND"
                                    " state = 'sent' AND sent_at >= ? ORDER BY sent_at DESC", [since]).fetchall()
            for message_id, number, parts_json in rows:
                parts = json.loads(parts_json or "[]")
                hit = next((p for p in parts if p["mr"] == report.reference and p["status"] is None), None)
                if hit is None or not _same_number(number, report.recipient, self.region):
                    continue
                if not report.final:
                    return
                hit["status"] = report.status
                changes: dict[str, object] = {"parts_json": json.dumps(parts), "updated_at": self.clock()}
                if not report.delivered:
                    changes.update(state="failed", error=f"status report: TP-ST {report.status:#04x}")
                elif all(p["status"] is not None and p["status"] < 0x20 for p in parts):
                    changes.update(state="delivered", delivered_at=self.clock())
                self._db.execute(f"UPDATE sms_messages SET {', '.join(f'{k} = ?' for k in changes)} WHERE id = ?",
                                 [*changes.values(), message_id])
                return
        log.info("sms %s: a status report for TP-MR %d matches no text sent", self.port, report.reference)

    def _part(self, part: Deliver) -> None:
        """Store an incoming part; once a text is whole, act on it."""
        number = _key(part.sender, self.region)
        now = self.clock()
        with self._db_lock, write_transaction(self._db):
            if part.concat is None:
                row_id, text = _new_id(), part.text
                self._insert({"id": row_id, "direction": "in", "number": number, "text": text, "state": "received",
                              "parts": 1, "created_at": now, "updated_at": now})
            else:
                ref, count, seq = part.concat
                found = self._db.execute("SELECT id, parts_json FROM sms_messages WHERE direction = 'in' AND"
                                         " state = 'partial' AND number = ? AND ref = ? AND parts = ? AND"
                                         " created_at >= ?", [number, ref, count, now - PARTS_WAIT_S]).fetchone()
                row_id = found[0] if found else _new_id()
                got = json.loads(found[1]) if found else {}
                got[str(seq)] = part.text
                text = "".join(got[k] for k in sorted(got, key=int))
                whole = len(got) == count
                if found is None:
                    self._insert({"id": row_id, "direction": "in", "number": number, "text": text,
                                  "state": "received" if whole else "partial", "ref": ref, "parts": count,
                                  "parts_json": json.dumps(got), "created_at": now, "updated_at": now})
                else:
                    self._db.execute("UPDATE sms_messages SET text = ?, parts_json = ?, state = ?, updated_at = ?"
                                     " WHERE id = ?", [text, json.dumps(got), "received" if whole else "partial",
                                                       now, row_id])
                if not whole:
                    return
            purpose = self._meaning(row_id, number, text, now)
            if purpose:
                self._db.execute("UPDATE sms_messages SET purpose = ? WHERE id = ?", [purpose, row_id])

    def _meaning(self, row_id: str, number: str, text: str, now: float) -> str:
        """Inside the write transaction: store what an incoming text asks; its purpose ("" for none)."""
        plain = unicodedata.normalize("NFKC", text).strip().lower()
        if re.fullmatch(r"[1-5]", plain):
            asked = self._db.execute(
                f"SELECT id, call_id, ticket_id, purpose, text FROM sms_messages WHERE direction = 'out' AND number = ?"
                f" AND purpose IN ({', '.join('?' * len(ASKS))}) AND created_at >= ? ORDER BY created_at DESC LIMIT 1",
                [number, *ASKS, now - REPLY_WINDOW_S]).fetchone()
            if asked is not None:
                _out_id, call_id, ticket_id, purpose, question = asked
                survey = f"sms:{purpose}"
                if ticket_id:
                    # As the ticket's satisfaction callback stores its score (webui/ticket_store.py).
                    found = self._db.execute("SELECT call_id FROM tickets WHERE id = ?", [ticket_id]).fetchone()
                    call_id, survey, question = (found[0] if found else call_id), f"ticket:{ticket_id}", "score"
                self._db.execute("INSERT INTO survey_answers (id, call_id, survey, question, answer, at) VALUES"
                                 " (?, ?, ?, ?, ?, ?)", [_new_id(), call_id, survey, question[:200], plain, now])
                self._db.execute("UPDATE sms_messages SET call_id = ?, ticket_id = ? WHERE id = ?",
                                 [call_id, ticket_id, row_id])
                return "answer"
        rules = self.rules()
        if rules.callback_queue and any(k in plain for k in rules.callback_keywords):
            request = PendingCallback(_new_id(), "", number, rules.callback_queue, "pending", 0, now, now, 0, None)
            self._db.execute("INSERT INTO callbacks (id, number, queue, requested_at, attempts, state, updated_at)"
                             " VALUES (?, ?, ?, ?, 0, 'pending', ?)",
                             [request.id, number, rules.callback_queue, now, now])
            self._callbacks.put(request)
            return "callback"
        return ""

    def _follow_calls(self) -> None:
        """A satisfaction text to the caller of each answered inbound call that ended since the last
        round, when configured ([sms] after_call) and the caller's number is a mobile one."""
        with self._db_lock:
            # A read first: the write lock is taken only when a call changed, not at every round.
            cursor = self._db.execute("SELECT value FROM settings WHERE key = ?", [CALLS_CURSOR_KEY]).fetchone()
            latest = self._db.execute("SELECT coalesce(max(seq), 0) FROM calls").fetchone()[0]
        if cursor is not None and int(cursor[0]) >= latest:
            return
        with self._db_lock, write_transaction(self._db):
            row = self._db.execute("SELECT value FROM settings WHERE key = ?", [CALLS_CURSOR_KEY]).fetchone()
            if row is None:
                latest = self._db.execute("SELECT coalesce(max(seq), 0) FROM calls").fetchone()[0]
                self._db.execute("INSERT INTO settings (key, value) VALUES (?, ?)", [CALLS_CURSOR_KEY, str(latest)])
                return
            calls = self._db.execute("SELECT id, seq, number, direction, connected_at, ended_at FROM calls"
                                     " WHERE seq > ? ORDER BY seq LIMIT 200", [int(row[0])]).fetchall()
            if not calls:
                return
            self._db.execute("UPDATE settings SET value = ? WHERE key = ?", [str(calls[-1][1]), CALLS_CURSOR_KEY])
        after_call = self.rules().after_call
        if not after_call:
            return
        for call_id, _seq, number, direction, connected_at, ended_at in calls:
            if direction != "inbound" or not connected_at or not ended_at or not _is_mobile(number, self.region):
                continue
            with self._db_lock:
                sent = self._db.execute("SELECT 1 FROM sms_messages WHERE call_id = ? AND purpose = 'after_call'",
                                        [call_id]).fetchone()
            if sent is None:
                try:
                    self.queue_text(number, after_call, purpose="after_call", call_id=call_id)
                except SmsError as exc:
                    log.info("sms: no satisfaction text for call %s: %s", call_id, exc)


def _key(number: str, region: str) -> str:
    try:
        return normalize(number, region)
    except PhoneNumberError:
        return number


def _same_number(a: str, b: str, region: str) -> bool:
    return _key(a, region) == _key(b, region)


def _is_mobile(number: str | None, region: str) -> bool:
    if not number:
        return False
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.number_type(parsed) in (phonenumbers.PhoneNumberType.MOBILE,
                                                phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)


__all__ = ["MAX_TEXT", "OUT_STATES", "SmsError", "SmsService", "TextRules"]
