"""Customers by phone number for the loop thread: an in-memory map a background thread keeps current."""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from .store import open_readonly

log = logging.getLogger(__name__)

# The web process edits customers; the engine sees a change within this many seconds.
REFRESH_S = 5.0


@dataclass(frozen=True)
class Customer:
    id: str
    number: str
    name: str
    vip: int
    agent_id: str | None
    blocked: bool


class CustomerDirectory:
    """`lookup(number)` is a dict read: the loop never touches the disk for a screen pop or VIP routing."""

    def __init__(self, db_path: str | Path):
        self.db_path = Path(db_path)
        self._by_number: dict[str, Customer] = {}
        self._seq = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def load(self) -> None:
        """Read every customer changed since the last load and publish a new map."""
        db = open_readonly(self.db_path)
        try:
            rows = list(db.query("SELECT * FROM customers WHERE seq > ?", [self._seq]))
            gone = list(db.query("SELECT row_id AS id, seq FROM tombstones WHERE table_name = 'customers' "
                                 "AND seq > ?", [self._seq]))
        finally:
            db.conn.close()
        if not rows and not gone:
            return
        by_id = {c.id: c for c in self._by_number.values()}
        for r in sorted(rows + gone, key=lambda r: r["seq"]):
            if "number" in r:
                by_id[r["id"]] = Customer(r["id"], r["number"], r["name"] or "", r["vip"] or 0,
                                          r["agent_id"], bool(r["blocked"]))
            else:
                by_id.pop(r["id"], None)
            self._seq = max(self._seq, r["seq"])
        # One reference swap: the loop sees the old map or the new one, never half of each.
        self._by_number = {c.number: c for c in by_id.values()}

    def start(self) -> None:
        self.load()
        self._thread = threading.Thread(target=self._follow, name="customers", daemon=True)
        self._thread.start()

    def _follow(self) -> None:
        while not self._stop.wait(REFRESH_S):
            try:
                self.load()
            except Exception as exc:  # a bad read must not end the refresh thread
                log.warning("customers: refresh from %s failed: %s", self.db_path, exc)

    def lookup(self, number: str | None) -> Customer | None:
        return self._by_number.get(number) if number else None

    def close(self) -> None:
        self._stop.set()

    def __len__(self) -> int:
        return len(self._by_number)
