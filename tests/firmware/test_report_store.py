"""The agents' time per state and local day (m0014_report_indexes): kept by a trigger as each state change is
written, and made the same way for the changes written before the migration."""
import datetime as dt
import sqlite3
import time

from sqlite_utils import Database, Migrations

from firmware.store import connect, migrations


def at(day: int, hh: int, mm: int = 0) -> float:
    return time.mktime(dt.datetime(2025, 3, day, hh, mm).timetuple())


# Ana: ready overnight from 9 March 20:00, on lunch 10 March 12:00-13:00, then ready until now. Ben's clock
# was set back: his second change is stamped before his first, which closes the first with no time.
CHANGES = [("a1", "1001", "ready", None, at(9, 20)), ("b1", "1002", "ready", None, at(10, 8)),
           ("a2", "1001", "not_ready", "Lunch", at(10, 12)), ("b2", "1002", "not_ready", "Break", at(10, 7)),
           ("a3", "1001", "ready", None, at(10, 13)), ("b3", "1002", "logged_out", None, at(10, 9))]


def write(conn: sqlite3.Connection) -> None:
    for change in CHANGES:
        conn.execute("INSERT INTO agent_states (id, agent_id, state, reason, at) VALUES (?, ?, ?, ?, ?)", change)


def days(conn: sqlite3.Connection) -> dict:
    return {(d, a, s, r): v for d, a, s, r, v in conn.execute("SELECT * FROM agent_state_days")}


def test_each_change_closes_the_last_one_split_by_local_day(tmp_path):
    conn = connect(tmp_path / "b.db")
    write(conn)
    assert days(conn) == {
        ("2025-03-09", "1001", "ready", ""): 4 * 3600.0,
        ("2025-03-10", "1001", "ready", ""): 12 * 3600.0,
        ("2025-03-10", "1001", "not_ready", "Lunch"): 3600.0,
        ("2025-03-10", "1002", "not_ready", "Break"): 2 * 3600.0,
    }
    assert conn.execute("SELECT agent_id, state, reason, at FROM agent_state_open ORDER BY agent_id").fetchall() == [
        ("1001", "ready", "", at(10, 13)), ("1002", "logged_out", "", at(10, 9))]


def test_changes_written_before_the_migration_are_counted_alike(tmp_path):
    conn = sqlite3.connect(tmp_path / "old.db", isolation_level=None)
    earlier = Migrations(migrations.MIGRATION_SET)
    for m in migrations.MIGRATIONS[:migrations.MIGRATIONS.index(migrations.m0014_report_indexes)]:
        earlier()(m)
    earlier.apply(Database(conn, recursive_triggers=False))
    write(conn)
    migrations.apply(conn)
    fresh = connect(tmp_path / "new.db")
    write(fresh)
    assert days(conn) == days(fresh)
    assert (conn.execute("SELECT * FROM agent_state_open ORDER BY agent_id").fetchall()
            == fresh.execute("SELECT * FROM agent_state_open ORDER BY agent_id").fetchall())
    # And the trigger carries on from where the backfill left each agent.
    for c in (conn, fresh):
        c.execute("INSERT INTO agent_states (id, agent_id, state, reason, at) VALUES ('a4', '1001', 'logged_out',"
                  " NULL, ?)", [at(10, 18)])
    assert days(conn) == days(fresh)
    assert days(conn)[("2025-03-10", "1001", "ready", "")] == 12 * 3600.0 + 5 * 3600.0
