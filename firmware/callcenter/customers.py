"""Tables the loop reads by key (customers, lookup data), held in memory and kept current by a thread."""
from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from typing import cast
from pathlib import Path

from firmware.store import open_readonly
from firmware.store.phones import caller_key

log = logging.getLogger(__name__)

# The web process edits these tables; the engine sees a change within this many seconds.
REFRESH_S = 5.0


class TableFollower:
    """An in-memory copy of one table, for dict reads on the loop thread: the loop never touches
    the disk. Loaded at start, then followed by change sequence (and tombstones) in a thread."""

    table = ""

    def __init__(self, db_path: str | Path):
        self.db_path = Path(db_path)
        self._rows: dict[str, object] = {}
        self._seq = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def make(self, row: dict) -> object:
        return row

    def publish(self, rows: dict[str, object]) -> None:
        """Build the read-side index from every row (one reference swap: readers see old or new)."""

    def load(self) -> bool:
        """Take in the rows changed since the last load; whether there were any."""
        db = open_readonly(self.db_path)
        try:
            # One read transaction, one WAL snapshot: a delete committing between the two queries
            # cannot slip past both.
            db.conn.execute("BEGIN")
            rows = list(db.query(f"SELECT * FROM {self.table} WHERE seq > ?", [self._seq]))
            gone = list(db.query("SELECT row_id AS id, seq FROM tombstones WHERE table_name = ? AND seq > ?",
                                 [self.table, self._seq]))
            db.conn.execute("ROLLBACK")
        finally:
            db.conn.close()
        if not rows and not gone:
            return False
        by_id = dict(self._rows)
        for r in sorted(rows + [dict(g, gone=True) for g in gone], key=lambda r: r["seq"]):
            if r.get("gone"):
                by_id.pop(r["id"], None)
            else:
                by_id[r["id"]] = self.make(r)
            self._seq = max(self._seq, r["seq"])
        self._rows = by_id
        self.publish(by_id)
        return True

    def start(self) -> None:
        self.load()
        self._thread = threading.Thread(target=self._follow, name=f"follow-{self.table}", daemon=True)
        self._thread.start()

    def _follow(self) -> None:
        while not self._stop.wait(REFRESH_S):
            try:
                self.load()
            except Exception as exc:  # a bad read must not end the refresh thread
                log.warning("%s: refresh from %s failed: %s", self.table, self.db_path, exc)

    def close(self) -> None:
        self._stop.set()

    def __len__(self) -> int:
        return len(self._rows)

    def values(self) -> list[object]:
        """Every row as make() built it."""
        return list(self._rows.values())


@dataclass(frozen=True)
class Customer:
    id: str
    number: str
    name: str
    vip: int
    agent_id: str | None
    blocked: bool
    merged_into: str | None = None
    key: str = ""           # the number as caller ID is matched (caller_key)


class CustomerNumbers(TableFollower):
    """A card's numbers, as (customer id, the number's caller_key)."""

    table = "customer_numbers"

    def __init__(self, db_path: str | Path, region: str):
        super().__init__(db_path)
        self.region = region

    def make(self, r: dict) -> tuple[str, str]:
        # Keyed once per row as it changes: publishing then only builds a dict, and parsing tens of
        # thousands of numbers on every edit would hold the GIL away from the tick loop.
        return r["customer_id"], caller_key(r["number"], self.region)


class CustomerDirectory(TableFollower):
    """Customer cards by phone number: screen pop, VIP routing, blocked numbers. The caller ID and
    every number of a card meet as E.164 of the site's region, so `02161234567` from the line finds
    the card holding `+86 21 6123 4567`."""

    table = "customers"

    def __init__(self, db_path: str | Path, region: str = "CN"):
        super().__init__(db_path)
        self.region = region
        self.numbers = CustomerNumbers(db_path, region)
        self._by_number: dict[str, Customer] = {}

    def make(self, r: dict) -> Customer:
        return Customer(r["id"], r["number"], r["name"] or "", r["vip"] or 0, r["agent_id"], bool(r["blocked"]),
                        r.get("merged_into"), caller_key(r["number"], self.region) if r["number"] else "")

    def load(self) -> bool:
        # Numbers first: a card and its numbers written together are both seen by this pass or the
        # next, and a number whose card is not in yet simply waits for it.
        numbers_changed = self.numbers.load()
        cards_changed = super().load()
        if numbers_changed and not cards_changed:
            self.publish(self._rows)
        return numbers_changed or cards_changed

    def publish(self, rows) -> None:
        # A merged card is a redirect kept for history: its numbers belong to the card it went into.
        live = {c.id: c for c in rows.values() if isinstance(c, Customer) and not c.merged_into}
        index = {c.key: c for c in live.values() if c.key}
        for pair in self.numbers.values():
            owner, key = cast(tuple[str, str], pair)
            if owner in live:
                index[key] = live[owner]
        self._by_number = index

    def lookup(self, number: str | None) -> Customer | None:
        return self._by_number.get(caller_key(number, self.region)) if number else None


class LookupTables(TableFollower):
    """Self-service information (order status, prices, product info) by table and key, for the
    IVR's lookup node; each item's data is a JSON object of fields to read back."""

    table = "lookup_items"

    def __init__(self, db_path: str | Path):
        super().__init__(db_path)
        self._index: dict[tuple[str, str], dict] = {}

    def make(self, r: dict) -> tuple[str, str, dict]:
        try:
            data = json.loads(r["data"] or "{}")
        except ValueError:
            log.warning("lookup item %s: data is not JSON; ignored", r["id"])
            data = None
        return r["table_name"], r["key"], data

    def publish(self, rows) -> None:
        self._index = {(t, k): d for t, k, d in rows.values() if isinstance(d, dict)}

    def get(self, table: str, key: str) -> dict | None:
        return self._index.get((table, key))
