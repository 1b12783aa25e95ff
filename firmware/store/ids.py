"""Record ids: unique across the restarts of one box and across boxes, yet reproducible in seeded runs.

HQ keys every record by box and id, and a recording's file is named after its call's id, so an id
handed out twice loses a record (the database refuses the second row) or a recording (the file is
overwritten). Unseeded, the engine draws 122 random bits per id (uuid4): unique anywhere. Seeded (the
demo, scenarios, tests), ids come from a generator so that a run is reproducible; that generator is
seeded with the scenario seed, the box id and the boot number, a counter the store keeps and every
start increments. A fresh state directory always starts at boot 1, so a test's ids are the same from
run to run, while a restart on the same state (`make run` on `var/`) and another box with the same
seed draw from other sequences.
"""
from __future__ import annotations

import sqlite3

from firmware.store import StoreError, write_transaction

# settings key of the boot counter.
BOOT_KEY = "engine.boots"


class IdError(StoreError):
    """The boot counter cannot be read or advanced in the box's database."""


def next_boot(conn: sqlite3.Connection) -> int:
    """Count this start in the store and return its number (1 for a new database).

    Committed before the engine hands out its first id, so a crash at any later point cannot make
    the next start reuse this boot's sequence.
    """
    try:
        with write_transaction(conn):
            conn.execute("INSERT OR IGNORE INTO settings (key, value) VALUES (?, '0')", [BOOT_KEY])
            conn.execute("UPDATE settings SET value = CAST(value AS INTEGER) + 1 WHERE key = ?", [BOOT_KEY])
            boot = int(conn.execute("SELECT value FROM settings WHERE key = ?", [BOOT_KEY]).fetchone()[0])
    except sqlite3.Error as exc:
        raise IdError(f"boot counter ({BOOT_KEY} in settings): {exc}") from exc
    return boot


def id_seed(seed: int, box_id: str, boot: int) -> str:
    """What a seeded engine's id generator is seeded with (random.Random hashes a str with SHA-512,
    the same in every process)."""
    return f"{seed}/{box_id}/{boot}"
