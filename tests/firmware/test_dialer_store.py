"""The dialer's side of the store and the site file (docs/architecture.md §22): `[outbound]` checked
like every site key, the contacts read off the loop in due order with the do-not-call list, and a
stop's leftovers put right at the next start (a contact being dialled counts as a failed attempt and
is retried; a running campaign stays running)."""
from __future__ import annotations

import json

import pytest

from firmware.callcenter.campaign_reader import ContactReader, preparers
from firmware.callcenter.recovery import recover_campaigns
from firmware.config.site import read_site
from firmware.core.control import ControlError
from firmware.store.writer import StoreWriter

from typed_toml import ConfigError

NOW = 1_780_000_000.0


@pytest.mark.parametrize("text, error", [
    ("reserved_incoming = -1", r"outbound.reserved_incoming"),
    ("max_lines = 2.5", r"outbound.max_lines"),
    ("max_line = 2", r"outbound.*max_line"),
])
def test_outbound_site_keys_are_checked(tmp_path, text, error):
    path = tmp_path / "site.toml"
    path.write_text(f"[outbound]\n{text}\n")
    with pytest.raises(ConfigError, match=error):
        read_site(path)


def test_outbound_site_keys_default_to_one_trunk_kept_and_two_lines(tmp_path):
    path = tmp_path / "site.toml"
    path.write_text("")
    site = read_site(path)
    assert (site.outbound_reserved, site.outbound_max_lines) == (1, 2)
    path.write_text("[outbound]\nreserved_incoming = 3\nmax_lines = 8\n")
    site = read_site(path)
    assert (site.outbound_reserved, site.outbound_max_lines) == (3, 8)


@pytest.fixture
def db(tmp_path):
    writer = StoreWriter(tmp_path / "b.db")
    conn = writer.db.conn
    conn.execute("INSERT INTO campaigns (id, name, mode, purpose, state, queue, max_attempts, retry, created_at,"
                 " updated_at) VALUES ('c1', 'Offer', 'progressive', 'sales', 'running', 'sales', 2, ?, ?, ?)",
                 [json.dumps({"failed": 60}), NOW, NOW])
    conn.execute("INSERT INTO campaigns (id, name, mode, purpose, state, created_at, updated_at)"
                 " VALUES ('c2', 'Old', 'message', 'notification', 'paused', ?, ?)", [NOW, NOW])
    rows = [("k1", "pending", 0, None), ("k2", "pending", 1, NOW + 600), ("k3", "dialing", 1, None),
            ("k4", "dialing", 2, None), ("k5", "preview", 0, None), ("k6", "pending", 0, NOW - 10)]
    for kid, state, attempts, next_at in rows:
        conn.execute("INSERT INTO campaign_contacts (id, campaign_id, number, state, attempts, next_at, updated_at)"
                     " VALUES (?, 'c1', ?, ?, ?, ?, ?)", [kid, f"+86138000000{kid[1]}", state, attempts, next_at, NOW])
    conn.execute("INSERT INTO dnc_numbers (id, added_at) VALUES ('+8613800000006', ?)", [NOW])
    yield tmp_path / "b.db", conn
    writer.db.conn.close()


def contact(conn, kid: str) -> dict:
    cur = conn.execute("SELECT state, attempts, outcome, next_at FROM campaign_contacts WHERE id = ?", [kid])
    return dict(zip(("state", "attempts", "outcome", "next_at"), cur.fetchone()))


def test_a_stop_leaves_running_campaigns_running_and_cut_attempts_failed_and_retried(db):
    path, conn = db
    running = recover_campaigns(conn, NOW + 5)
    assert [c["id"] for c in running] == ["c1"]
    assert contact(conn, "k3") == {"state": "pending", "attempts": 1, "outcome": "failed", "next_at": NOW + 65}
    assert contact(conn, "k4")["state"] == "failed"           # its second attempt of 2: no more
    assert contact(conn, "k5")["state"] == "pending" and contact(conn, "k5")["attempts"] == 0


def test_the_reader_hands_over_due_contacts_soonest_first_with_the_do_not_call_list(db):
    path, conn = db
    reader = ContactReader(path, clock=lambda: NOW)
    reader.want(frozenset({"c1"}))
    batch = reader.read()
    assert [c.id for c in batch.due["c1"]] == ["k1", "k6"]     # k2 not due yet; others not pending
    assert batch.dnc == frozenset({"+8613800000006"})
    assert batch.counts["c1"]["states"] == {"pending": 3, "dialing": 2, "preview": 1}


def test_the_commands_read_the_campaign_off_the_loop_and_refuse_an_unknown_one(db):
    path, _ = db
    prepare = preparers(path)
    start = prepare["campaign.start"]({"id": "c1"})
    assert start["row"]["mode"] == "progressive" and start["counts"]["states"]["pending"] == 3
    with pytest.raises(ControlError, match="no campaign 'nope'"):
        prepare["campaign.stop"]({"id": "nope"})
    assert prepare["campaign.status"]({})["states"] == {"c1": "running", "c2": "paused"}
