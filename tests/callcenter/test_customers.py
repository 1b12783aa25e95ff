"""The engine's customer directory: caller ID matched to cards by any of their numbers, in any form."""
from __future__ import annotations

import pytest

from firmware.callcenter.customers import CustomerDirectory
from firmware.store import open_db


@pytest.fixture
def db(tmp_path):
    database = open_db(tmp_path / "b.db")
    yield database
    database.conn.close()


def card(db, cid, numbers, **fields):
    db["customers"].insert({"id": cid, "number": numbers[0], "name": cid, **fields})
    for i, n in enumerate(numbers):
        db["customer_numbers"].insert({"id": f"{cid}-{i}", "customer_id": cid, "number": n})


def test_the_caller_id_finds_the_card_by_any_of_its_numbers_as_dialled_locally(db, tmp_path):
    card(db, "c1", ["+862161234567", "+8613800138000"], vip=2, agent_id="1002", blocked=0)
    directory = CustomerDirectory(tmp_path / "b.db", "CN")
    directory.load()
    for caller_id in ("02161234567", "021-6123 4567", "+86 21 61234567", "13800138000"):
        found = directory.lookup(caller_id)
        assert found is not None and (found.id, found.vip, found.agent_id) == ("c1", 2, "1002"), caller_id
    assert directory.lookup("02161234568") is None and directory.lookup(None) is None


def test_a_number_added_later_and_a_merge_are_followed(db, tmp_path):
    card(db, "c1", ["+862161234567"])
    card(db, "c2", ["+8613800138000"], blocked=1)
    directory = CustomerDirectory(tmp_path / "b.db", "CN")
    directory.load()
    assert directory.lookup("13800138000").blocked
    # The web merges c2 into c1: c2's numbers move to c1, c2 stays as a redirect.
    db.execute("UPDATE customer_numbers SET customer_id = 'c1' WHERE customer_id = 'c2'")
    db.execute("UPDATE customers SET merged_into = 'c1' WHERE id = 'c2'")
    db.conn.commit()
    directory.load()
    found = directory.lookup("13800138000")
    assert found is not None and found.id == "c1" and not found.blocked
    db["customer_numbers"].insert({"id": "c1-new", "customer_id": "c1", "number": "+16502530000"})
    db.conn.commit()
    directory.load()
    assert directory.lookup("+1 650 253 0000").id == "c1"
    db["customer_numbers"].delete("c1-new")
    db.conn.commit()
    directory.load()
    assert directory.lookup("+16502530000") is None


def test_the_region_decides_what_a_number_without_country_code_means(db, tmp_path):
    card(db, "hk", ["+85221234567"])
    hk = CustomerDirectory(tmp_path / "b.db", "HK")
    hk.load()
    cn = CustomerDirectory(tmp_path / "b.db", "CN")
    cn.load()
    assert hk.lookup("21234567").id == "hk" and cn.lookup("21234567") is None
