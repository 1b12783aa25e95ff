"""The audit log for admins: who changed what, when and from where; filtered by user, action and date, paged."""
from __future__ import annotations

import datetime as dt
import json
import re
import time

import pytest

from firmware.store import open_db
from tests.webui.conftest import api_call

# Passwords hashed at a lower scrypt cost while these tests run (conftest.py cheap_hashes).
pytestmark = pytest.mark.usefixtures("cheap_hashes")

DAY = dt.date(2025, 3, 10)


def at(day_offset: int, hour: int) -> float:
    return time.mktime((DAY + dt.timedelta(days=day_offset)).timetuple()) + hour * 3600


# (user, action, target, day, hour): three days of changes by two admins.
ENTRIES = [("admin", "user.create", "ana", 0, 9), ("admin", "user.update", "ana", 0, 10),
           ("lee", "queue.update", "sales", 0, 23), ("lee", "user.password_reset", "ana", 1, 0),
           ("admin", "flow.update", "main", 1, 12), ("lee", "user.update", "sam", 2, 8)]


@pytest.fixture
def logged(admin, db_path):
    """The ENTRIES in the audit log, after the admin's own setup entry."""
    db = open_db(db_path)
    db["audit_log"].insert_all([{"id": f"e{n}", "at": at(day, hour), "username": user, "address": "192.0.2.99",
                                 "action": action, "target": target, "detail": json.dumps({"n": n})}
                                for n, (user, action, target, day, hour) in enumerate(ENTRIES)])
    db.conn.close()
    return admin


def targets(reply) -> list[str]:
    """The ids of the entries shown; the first-run setup's own entry (made today) as "setup"."""
    return [e["id"] if e["id"] in {f"e{n}" for n in range(len(ENTRIES))} else "setup" for e in reply.json()["entries"]]


@pytest.mark.parametrize("query, expected", [
    ("user=lee", ["e5", "e3", "e2"]),
    ("action=user", ["setup", "e5", "e3", "e1", "e0"]),     # a family: every user.* action
    ("action=user.update", ["e5", "e1"]),
    ("action=user.up", []),                                 # not a prefix match inside a name
    ("from=2025-03-11&to=2025-03-11", ["e4", "e3"]),        # local calendar days, midnight included
    ("from=2025-03-10&to=2025-03-10&user=admin", ["e1", "e0"]),
])
def test_filters_select_the_matching_entries_newest_first(logged, query, expected):
    reply = api_call(logged, "GET", f"/api/v1/audit?{query}")
    assert reply.status == 200 and targets(reply) == expected


def test_entries_are_paged(logged):
    first = api_call(logged, "GET", "/api/v1/audit?per_page=4").json()
    second = api_call(logged, "GET", "/api/v1/audit?per_page=4&page=2").json()
    assert (first["total"], first["pages"], second["page"]) == (7, 2, 2)
    ids = [e["id"] for e in first["entries"] + second["entries"]]
    assert len(ids) == len(set(ids)) == 7


@pytest.mark.parametrize("query, field", [("from=10/03/2025", "from"), ("from=2025-03-12&to=2025-03-11", "to"),
                                          ("page=0", "page"), ("per_page=501", "per_page"), ("user=" + "x" * 65, "user")])
def test_bad_filters_are_refused_naming_the_filter(logged, query, field):
    api = api_call(logged, "GET", f"/api/v1/audit?{query}")
    assert api.status == 400 and field in api.json()["problems"]
    assert logged.get(f"/audit?{query}").status == 400


def test_the_page_shows_who_when_where_and_what(logged):
    page = logged.get("/audit?user=lee&action=queue").text
    rows = re.findall(r'<tr data-key="([^"]+)">(.*?)</tr>', page, re.S)
    assert [key for key, _ in rows] == ["e2"]
    row = rows[0][1]
    for shown in ("Mar 10, 2025, 23:00:00", "lee", "192.0.2.99", "queue.update", "sales"):
        assert shown in row
    assert "1 entry" in page


def test_the_pager_keeps_the_filters(logged):
    page = logged.get("/audit?user=admin&per_page=1").text
    assert 'href="/audit?user=admin&amp;page=2&amp;per_page=1" rel="next"' in page


def test_only_admins_see_the_audit_log(staff):
    sam = staff("sam", ["supervisor", "technician"])
    assert sam.get("/audit").status == 403
    assert api_call(sam, "GET", "/api/v1/audit").status == 403
    assert 'href="/audit"' not in sam.get("/calls").text
