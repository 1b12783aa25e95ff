"""The dialer's reads of the store, off the loop: a campaign's definition when it is started, and,
in a thread of their own, batches of each running campaign's due contacts with the do-not-call list
and the counts by state and outcome, handed to the loop as one object (the loop never touches the
disk; docs/architecture.md §22)."""
from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from firmware.core.control import ControlError
from firmware.store import open_readonly

log = logging.getLogger(__name__)

# Contacts handed over per campaign and pass: more than any campaign's max_lines dials in one read.
BATCH = 50
# How often the contacts are read again: a retry is due to the second at best, and a number added to
# the do-not-call list is seen this soon (it is checked again right before dialling, on this list).
READ_S = 2.0
# Woken at each attempt's end, the reader still reads at most this often: a busy campaign's calls
# ending together cost one read, not one each.
MIN_READ_S = 0.2
# Ids a statement binds at once: SQLite before 3.32 allows 999 (sqlite.org/limits.html #9).
CONFIRM_CHUNK = 500


class CampaignReadError(Exception):
    """A campaign asked for is not in the store, or the store could not be read."""


@dataclass(frozen=True)
class Contact:
    id: str
    campaign_id: str
    number: str
    name: str
    data: dict
    attempts: int
    updated_at: float

    @classmethod
    def of(cls, row: dict) -> "Contact":
        try:
            data = json.loads(row.get("data") or "{}")
        except ValueError:
            data = {}
        return cls(row["id"], row["campaign_id"], row["number"], row.get("name") or "",
                   data if isinstance(data, dict) else {}, row.get("attempts") or 0, row["updated_at"])


@dataclass(frozen=True)
class Batch:
    """One read: due contacts by campaign (soonest first), the do-not-call numbers, the counts."""
    due: dict[str, list[Contact]] = field(default_factory=dict)
    dnc: frozenset[str] = frozenset()
    counts: dict[str, dict] = field(default_factory=dict)
    # The contacts the loop asked to confirm (`confirm`): their updated_at in this read, None if gone.
    confirmed: dict[str, float | None] = field(default_factory=dict)


def read_campaign(db_path: str | Path, campaign_id: str) -> dict:
    """The campaign's row (campaign.start, off the loop); CampaignReadError if there is none."""
    db = open_readonly(db_path)
    try:
        rows = list(db.query("SELECT * FROM campaigns WHERE id = ?", [campaign_id]))
    finally:
        db.conn.close()
    if not rows:
        raise CampaignReadError(f"no campaign {campaign_id!r}")
    return rows[0]


def read_counts(db_path: str | Path, campaign_ids: list[str]) -> dict[str, dict]:
    db = open_readonly(db_path)
    try:
        return _counts(db, campaign_ids, time.time())
    finally:
        db.conn.close()


def _counts(db, campaign_ids: list[str], now: float) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for cid in campaign_ids:
        states = {r["state"]: r["n"] for r in db.query(
            "SELECT state, count(*) AS n FROM campaign_contacts WHERE campaign_id = ? GROUP BY state", [cid])}
        outcomes = {r["outcome"]: r["n"] for r in db.query(
            "SELECT outcome, count(*) AS n FROM campaign_contacts WHERE campaign_id = ? AND outcome IS NOT NULL"
            " GROUP BY outcome", [cid])}
        nxt = next(iter(db.query(
            "SELECT min(coalesce(next_at, 0)) AS at FROM campaign_contacts WHERE campaign_id = ?"
            " AND state = 'pending'", [cid])))["at"]
        out[cid] = {"states": states, "outcomes": outcomes,
                    "next_due": None if nxt is None else max(float(nxt), now)}
    return out


class ContactReader:
    """Reads the due contacts of the campaigns the loop runs (`want`), every READ_S or when woken;
    the loop takes the latest read with `take()`, which never waits."""

    def __init__(self, db_path: str | Path, clock=time.time):
        self.db_path, self.clock = Path(db_path), clock
        self._wanted: frozenset[str] = frozenset()
        self._confirm: frozenset[str] = frozenset()
        self._latest: Batch | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def want(self, campaign_ids: frozenset[str]) -> None:
        """The campaigns running now (one reference swap, read by the thread); read again soon."""
        self._wanted = campaign_ids
        self._wake.set()

    def confirm(self, contact_ids: frozenset[str]) -> None:
        """Contacts the loop wrote: the next read says where each row stands (one reference swap)."""
        self._confirm = contact_ids

    def take(self) -> Batch | None:
        batch, self._latest = self._latest, None
        return batch

    def read(self) -> Batch:
        wanted, confirm, now = sorted(self._wanted), sorted(self._confirm), self.clock()
        db = open_readonly(self.db_path)
        try:
            db.conn.execute("BEGIN")    # one snapshot: the contacts, the list and the counts agree
            due = {cid: [Contact.of(r) for r in db.query(
                "SELECT * FROM campaign_contacts WHERE campaign_id = ? AND state = 'pending'"
                " AND coalesce(next_at, 0) <= ? ORDER BY coalesce(next_at, 0), seq LIMIT ?",
                [cid, now, BATCH])] for cid in wanted}
            dnc = frozenset(r["id"] for r in db.query("SELECT id FROM dnc_numbers"))
            counts = _counts(db, wanted, now)
            confirmed: dict[str, float | None] = dict.fromkeys(confirm)
            for at in range(0, len(confirm), CONFIRM_CHUNK):
                chunk = confirm[at:at + CONFIRM_CHUNK]
                confirmed.update((r["id"], r["updated_at"]) for r in db.query(
                    f"SELECT id, updated_at FROM campaign_contacts WHERE id IN ({','.join('?' * len(chunk))})", chunk))
            db.conn.execute("ROLLBACK")
        finally:
            db.conn.close()
        return Batch(due, dnc, counts, confirmed)

    def start(self) -> "ContactReader":
        self._thread = threading.Thread(target=self._follow, name="campaign-contacts", daemon=True)
        self._thread.start()
        return self

    def _follow(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(READ_S)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self._latest = self.read()
            except Exception as exc:  # a bad read must not end the thread; the next pass tries again
                log.warning("campaign contacts: read from %s failed: %s", self.db_path, exc)
            self._stop.wait(MIN_READ_S)

    def close(self) -> None:
        self._stop.set()
        self._wake.set()


def preparers(db_path: str | Path) -> dict[str, Callable[[dict], dict]]:
    """The campaign commands' reads, off the loop (the control socket's thread): the campaign's row for
    start, pause and stop; the contacts' counts and the stored states for status."""
    def row_of(args: dict) -> dict:
        try:
            return {"id": args["id"], "row": read_campaign(db_path, args["id"])}
        except CampaignReadError as exc:
            raise ControlError(str(exc)) from None

    def start(args: dict) -> dict:
        read = row_of(args)
        return {**read, "counts": read_counts(db_path, [args["id"]]).get(args["id"], {})}

    def status(args: dict) -> dict:
        db = open_readonly(db_path)
        try:
            states = {r["id"]: r["state"] for r in db.query(
                "SELECT id, state FROM campaigns WHERE id = ? OR (? IS NULL AND state IN ('running', 'paused'))",
                [args.get("id"), args.get("id")])}
            counts = _counts(db, sorted(states), time.time())
        finally:
            db.conn.close()
        return {"id": args.get("id"), "counts": counts, "states": states}
    return {"campaign.start": start, "campaign.pause": row_of, "campaign.stop": row_of, "campaign.status": status}
