"""Customer cards (docs/requirements.md R4): checking, reading, searching, writing and merging cards."""
from __future__ import annotations

import datetime as dt
import sqlite3
import time
import tomllib
import uuid
from collections.abc import Mapping
from pathlib import Path

from firmware.store.phones import PhoneNumberError, display, is_region, normalize

from .i18n import N_, gettext as _
from .shared_writer import SharedWriter

# Field limits: a name or company as printed on a business card, an address as a Chinese postal
# address with building and room is well under 200, notes a few paragraphs of a call's summary.
LIMITS = {"name": 100, "company": 100, "address": 200, "notes": 2000, "agent_id": 32}
# m0002: 0 is ordinary; a higher level is served first. Nine levels are more than any tiering a
# branch runs, and one digit is what an operator types.
MAX_VIP = 9
# Numbers on one card: a person's mobile, office, home and fax, or a company's switchboard lines.
MAX_NUMBERS = 10
# The fields a card is read and written by, in the order forms, the API and the CSV file show them.
FIELDS = ("name", "numbers", "company", "address", "vip", "agent_id", "blocked", "notes", "warranty_until",
          "service_due")
LABELS = {"name": N_("Name"), "numbers": N_("Phone numbers"), "company": N_("Company"), "address": N_("Address"),
          "vip": N_("VIP level"), "agent_id": N_("Dedicated agent"), "blocked": N_("Blocked"), "notes": N_("Notes"),
          "warranty_until": N_("Warranty until"), "service_due": N_("Service due")}
# The dates an after-sales team calls customers ahead of (reminder rules, docs/architecture.md §23).
DATE_FIELDS = ("warranty_until", "service_due")
# docs/requirements.md R17: VIP level, dedicated agent and blocking change how the box routes a
# caller; agents record who called and why, supervisors and admins decide the routing.
ROUTING_FIELDS = ("vip", "agent_id", "blocked")
PER_PAGE = 50
MAX_QUERY = 64
# How much of a card's history its page shows at once, newest first.
HISTORY_LIMIT = 100
DEFAULT_REGION = "CN"


class CardError(ValueError):
    """A card's fields are refused; `problems` maps each bad field to its reason."""

    def __init__(self, problems: dict[str, str]):
        super().__init__(" ".join(problems.values()))
        self.problems = problems


class StaleCard(Exception):
    """A write named a version of the card that is no longer current; `card` is the current one."""

    def __init__(self, card: dict):
        super().__init__(_("customer %(id)s was changed by someone else (now version %(version)d)")
                         % {"id": card["id"], "version": card["version"]})
        self.card = card


def site_region(state_dir: Path) -> str:
    """The site's `[box] region` from `<state>/config/site.toml`, the file the engine reads (the
    engine refuses a bad one at start; here a missing or unreadable file means the default)."""
    try:
        with open(state_dir / "config" / "site.toml", "rb") as f:
            region = tomllib.load(f).get("box", {}).get("region", DEFAULT_REGION)
    except (OSError, tomllib.TOMLDecodeError):
        return DEFAULT_REGION
    return region if isinstance(region, str) and is_region(region) else DEFAULT_REGION


def _text(value, field: str, problems: dict[str, str], multiline: bool = False) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        problems[field] = _("Must be text.")
        return None
    value = value.strip()
    limit = LIMITS[field]
    plain = value.replace("\r\n", "\n").replace("\n", "") if multiline else value
    if len(value) > limit or not plain.isprintable():
        problems[field] = _("At most %(n)d printable characters.") % {"n": limit}
        return None
    return value or None


def check_numbers(value, region: str, problems: dict[str, str]) -> list[str]:
    """A list of typed numbers as distinct E.164 numbers; a problem for `numbers` if any is wrong."""
    if isinstance(value, str):
        value = [n for n in value.replace(";", "\n").replace(",", "\n").splitlines() if n.strip()]
    if not isinstance(value, list) or not all(isinstance(n, str) for n in value):
        problems["numbers"] = _("Give the numbers as a list of text.")
        return []
    if not value:
        problems["numbers"] = _("Give at least one phone number.")
        return []
    if len(value) > MAX_NUMBERS:
        problems["numbers"] = _("At most %(n)d numbers on one card.") % {"n": MAX_NUMBERS}
        return []
    out: list[str] = []
    for typed in value:
        try:
            number = normalize(typed, region)
        except PhoneNumberError:
            problems["numbers"] = (_("%(number)s is not a phone number: write it as dialled here (%(region)s) "
                                     "or with + and the country code.") % {"number": typed.strip()[:40],
                                                                          "region": region})
            return []
        if number not in out:
            out.append(number)
    return out


def _day(value, field: str, problems: dict[str, str]) -> str | None:
    """A date field as YYYY-MM-DD (ISO 8601), None when empty."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        if isinstance(value, str) and len(value.strip()) == 10:
            return dt.date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        pass
    problems[field] = _("A date as YYYY-MM-DD, or empty.")
    return None


def check_card(data: Mapping, region: str, agents: dict[str, str] | None, *, creating: bool,
               may_route: bool, current: dict | None = None) -> dict:
    """The fields of `data` (a JSON body, or a form turned into one) checked and normalised.

    Raises CardError naming each bad field. `agents` are the site's ({id: name}) or None when the
    engine does not answer (then any well-formed id is taken); `may_route` is whether the user may
    set ROUTING_FIELDS; `current` is the card being edited."""
    problems: dict[str, str] = {key: _("This field does not exist.")
                                for key in sorted(set(data) - set(FIELDS) - {"version"})}
    changes: dict = {}
    for field in ("name", "company", "address", "notes", "agent_id"):
        if field in data:
            changes[field] = _text(data[field], field, problems, multiline=field == "notes")
    if creating and not changes.get("name") and "name" not in problems:
        problems["name"] = _("Give the customer's name.")
    if "name" in changes and changes["name"] is None and "name" not in problems:
        problems["name"] = _("Give the customer's name.")
    if "numbers" in data or creating:
        changes["numbers"] = check_numbers(data.get("numbers", []), region, problems)
    if "vip" in data:
        vip = data["vip"]
        if isinstance(vip, str) and vip.strip().isdigit():
            vip = int(vip.strip())
        if isinstance(vip, bool) or not isinstance(vip, int) or not 0 <= vip <= MAX_VIP:
            problems["vip"] = _("A level from 0 (ordinary) to %(max)d.") % {"max": MAX_VIP}
        else:
            changes["vip"] = vip
    for field in DATE_FIELDS:
        if field in data:
            changes[field] = _day(data[field], field, problems)
    if "blocked" in data:
        if not isinstance(data["blocked"], bool):
            problems["blocked"] = _("Must be true or false.")
        else:
            changes["blocked"] = data["blocked"]
    agent = changes.get("agent_id")
    linked = current["agent_id"] if current else None
    if agent and agent != linked and agents is not None and agent not in agents:
        problems["agent_id"] = (_("There is no agent %(agent)s on this box; its agents are: %(agents)s.")
                                % {"agent": agent, "agents": ", ".join(sorted(agents)) or _("none")})
    if not may_route:
        for field in ROUTING_FIELDS:
            was = (current or {}).get(field, {"vip": 0, "agent_id": None, "blocked": False}[field])
            if field in changes and changes[field] != was:
                problems[field] = _("Only a supervisor or an administrator may change this.")
    if problems:
        raise CardError(problems)
    return changes


# --- reading ---------------------------------------------------------------------------------------
def _rows(db: sqlite3.Connection, sql: str, args: list | tuple = ()) -> list[dict]:
    cur = db.execute(sql, args)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def _numbers(db: sqlite3.Connection, ids: list[str]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {i: [] for i in ids}
    marks = ",".join("?" * len(ids))
    for r in _rows(db, f"SELECT customer_id, number, label FROM customer_numbers WHERE customer_id IN ({marks})"
                       " ORDER BY created_at, rowid", ids):
        out[r["customer_id"]].append({"number": r["number"], "display": display(r["number"]), "label": r["label"]})
    return out


def _card(row: dict, numbers: list[dict]) -> dict:
    card = {key: row[key] for key in ("id", "name", "company", "address", "vip", "agent_id", "notes", "version",
                                      "created_at", "updated_at", "merged_into", *DATE_FIELDS)}
    card["blocked"] = bool(row["blocked"])
    card["vip"] = row["vip"] or 0
    card["numbers"] = numbers
    return card


CARD_COLUMNS = ("id, name, company, address, vip, agent_id, blocked, notes, version, created_at, updated_at, "
                "merged_into, warranty_until, service_due")


def get_card(db: sqlite3.Connection, card_id: str) -> dict | None:
    """The card `card_id` as stored (a merged card names the card it went into in `merged_into`)."""
    rows = _rows(db, f"SELECT {CARD_COLUMNS} FROM customers WHERE id = ?", [card_id])
    if not rows:
        return None
    return _card(rows[0], _numbers(db, [card_id])[card_id])


def search(db: sqlite3.Connection, query: str, region: str, page: int = 1) -> tuple[list[dict], int]:
    """Live cards whose name or company holds `query`, or holding a number that is `query` in any
    form (or holds its digits), by name; one page of PER_PAGE and the total."""
    where, args = ["c.merged_into IS NULL"], []
    query = query.strip()
    if query:
        try:
            exact = normalize(query, region)
        except PhoneNumberError:
            exact = None
        digits = "".join(ch for ch in query if ch.isdigit())
        like = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        terms = ["c.name LIKE ? ESCAPE '\\'", "c.company LIKE ? ESCAPE '\\'"]
        args += [like, like]
        if exact:
            terms.append("c.id IN (SELECT customer_id FROM customer_numbers WHERE number = ?)")
            args.append(exact)
        # A part of a number (the last digits a caller reads out); three digits or fewer would
        # match most of the book.
        if len(digits) >= 4:
            terms.append("c.id IN (SELECT customer_id FROM customer_numbers WHERE number LIKE ?)")
            args.append(f"%{digits.lstrip('0')}%")
        where.append("(" + " OR ".join(terms) + ")")
    clause = " AND ".join(where)
    total = db.execute(f"SELECT count(*) FROM customers c WHERE {clause}", args).fetchone()[0]
    rows = _rows(db, f"SELECT {', '.join('c.' + c.strip() for c in CARD_COLUMNS.split(','))} FROM customers c "
                     f"WHERE {clause} ORDER BY c.name, c.id LIMIT ? OFFSET ?",
                 [*args, PER_PAGE, (max(page, 1) - 1) * PER_PAGE])
    numbers = _numbers(db, [r["id"] for r in rows]) if rows else {}
    return [_card(r, numbers[r["id"]]) for r in rows], total


def namesakes(db: sqlite3.Connection, card: dict, limit: int = 10) -> list[dict]:
    """Other live cards with the same name: the likely duplicates a supervisor merges."""
    if not card["name"]:
        return []
    rows = _rows(db, f"SELECT {CARD_COLUMNS} FROM customers WHERE name = ? AND id != ? AND merged_into IS NULL "
                     "ORDER BY created_at LIMIT ?", [card["name"], card["id"], limit])
    numbers = _numbers(db, [r["id"] for r in rows]) if rows else {}
    return [_card(r, numbers[r["id"]]) for r in rows]


def lookup(db: sqlite3.Connection, number: str, region: str) -> dict | None:
    """The live card holding `number` (any form), as a screen pop reads it; None if no card has it."""
    key = normalize(number, region)
    row = db.execute("SELECT customer_id FROM customer_numbers n JOIN customers c ON c.id = n.customer_id "
                     "WHERE n.number = ? AND c.merged_into IS NULL", [key]).fetchone()
    return get_card(db, row[0]) if row else None


def number_owners(db: sqlite3.Connection, numbers: list[str], card_id: str | None = None) -> dict[str, str]:
    """Which of `numbers` (E.164) are on a card other than `card_id`: {number: "name (id)"}."""
    out: dict[str, str] = {}
    for start in range(0, len(numbers), 500):  # SQLite's default limit of 999 bound parameters
        chunk = numbers[start:start + 500]
        marks = ",".join("?" * len(chunk))
        out.update(db.execute(
            f"SELECT n.number, coalesce(c.name, '') || ' (' || c.id || ')' FROM customer_numbers n "
            f"JOIN customers c ON c.id = n.customer_id WHERE n.number IN ({marks}) AND n.customer_id IS NOT ?",
            [*chunk, card_id]).fetchall())
    return out


def absorbed(db: sqlite3.Connection, card_id: str) -> list[str]:
    """`card_id` and every card merged into it: whose calls, tickets and surveys are its history."""
    return [card_id] + [r[0] for r in db.execute("SELECT id FROM customers WHERE merged_into = ?", [card_id])]


def _table_exists(db: sqlite3.Connection, name: str) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [name]).fetchone() is not None


def recent_calls(db: sqlite3.Connection, ids: list[str], limit: int) -> list[dict]:
    """The latest calls of the cards `ids` (a card and those merged into it), with their recording."""
    marks = ",".join("?" * len(ids))
    return _rows(db, f"""SELECT c.id, c.direction, c.number, c.arrived_at, c.queue, c.agent_id, c.disposition,
                                c.wrapup_code, c.talk, r.id AS recording_id, r.duration AS recording_duration
                         FROM calls c LEFT JOIN recordings r ON r.call_id = c.id
                         WHERE c.customer_id IN ({marks}) ORDER BY c.arrived_at DESC LIMIT ?""", [*ids, limit])


def history(db: sqlite3.Connection, card_id: str) -> dict[str, list[dict]]:
    """The card's calls (with their recording), tickets and survey answers, newest first. Calls keep
    the card id the engine matched them to; a merge moves them by `merged_into`, not by rewriting
    the engine's records."""
    ids = absorbed(db, card_id)
    marks = ",".join("?" * len(ids))
    calls = recent_calls(db, ids, HISTORY_LIMIT)
    # The tickets table comes with the tickets' own migration; these are the columns it promises.
    tickets = (_rows(db, f"""SELECT id, number, category, state, created_at, title FROM tickets
                             WHERE customer_id IN ({marks}) ORDER BY created_at DESC LIMIT ?""",
                     [*ids, HISTORY_LIMIT]) if _table_exists(db, "tickets") else [])
    surveys = _rows(db, f"""SELECT s.call_id, s.survey, s.question, s.answer, s.at FROM survey_answers s
                            JOIN calls c ON c.id = s.call_id WHERE c.customer_id IN ({marks})
                            ORDER BY s.at DESC LIMIT ?""", [*ids, HISTORY_LIMIT])
    return {"calls": calls, "tickets": tickets, "surveys": surveys}


def export_rows(db: sqlite3.Connection):
    """Every live card, by name, in batches: an export of the whole book never holds it all."""
    last = ("", "")
    while True:
        rows = _rows(db, f"SELECT {CARD_COLUMNS} FROM customers WHERE merged_into IS NULL "
                         "AND (coalesce(name, ''), id) > (?, ?) ORDER BY coalesce(name, ''), id LIMIT 500", last)
        if not rows:
            return
        numbers = _numbers(db, [r["id"] for r in rows])
        yield from (_card(r, numbers[r["id"]]) for r in rows)
        last = (rows[-1]["name"] or "", rows[-1]["id"])


# --- writing ---------------------------------------------------------------------------------------
class CardWriter:
    """Writes cards and their numbers, each change in one transaction, with the version check."""

    def __init__(self, db_path: str | Path, clock=time.time):
        self.writer = SharedWriter(db_path)  # webui/shared_writer.py: why one
        self.conn = self.writer.conn
        self.clock = clock

    def close(self) -> None:
        self.writer.close()

    def _taken(self, numbers: list[str], card_id: str | None) -> None:
        owners = number_owners(self.conn, numbers, card_id)
        if owners:
            number, owner = next(iter(owners.items()))
            raise CardError({"numbers": _("%(number)s is already on the card of %(owner)s: merge the two cards "
                                          "instead.") % {"number": display(number), "owner": owner}})

    def _insert(self, fields: dict, now: float) -> str:
        card_id = uuid.uuid4().hex
        numbers = fields["numbers"]
        self.conn.execute(
            "INSERT INTO customers (id, number, name, company, address, vip, agent_id, blocked, notes, warranty_until, "
            "service_due, version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
            [card_id, numbers[0], fields.get("name"), fields.get("company"), fields.get("address"),
             fields.get("vip", 0), fields.get("agent_id"), int(fields.get("blocked", False)), fields.get("notes"),
             fields.get("warranty_until"), fields.get("service_due"), now, now])
        self._set_numbers(card_id, numbers, now)
        return card_id

    def _set_numbers(self, card_id: str, numbers: list[str], now: float) -> None:
        have = [r[0] for r in self.conn.execute("SELECT number FROM customer_numbers WHERE customer_id = ? "
                                                "ORDER BY created_at, rowid", [card_id])]
        for gone in set(have) - set(numbers):
            self.conn.execute("DELETE FROM customer_numbers WHERE customer_id = ? AND number = ?", [card_id, gone])
        for i, number in enumerate(numbers):
            if number not in have:
                # Later numbers a hair later: the card lists them in the order they were given.
                self.conn.execute("INSERT INTO customer_numbers (id, customer_id, number, created_at) "
                                  "VALUES (?, ?, ?, ?)", [uuid.uuid4().hex, card_id, number, now + i * 1e-6])

    def create(self, fields: dict) -> str:
        """A new card of checked `fields` (check_card); its id."""
        with self.writer.transaction():
            self._taken(fields["numbers"], None)
            return self._insert(fields, self.clock())

    def update(self, card_id: str, version: object, changes: dict) -> dict:
        """Apply checked `changes` to the card if it is still at `version`; the fields that changed
        ({field: [before, after]}). StaleCard if it is not; KeyError if there is no such live card."""
        with self.writer.transaction():
            current = get_card(self.conn, card_id)
            if current is None or current["merged_into"]:
                raise KeyError(card_id)
            if isinstance(version, bool) or not isinstance(version, int):
                raise CardError({"version": _("Give the version of the card you edited (a whole number).")})
            if version != current["version"]:
                raise StaleCard(current)
            before = {**current, "numbers": [n["number"] for n in current["numbers"]]}
            diff = {k: [before[k], v] for k, v in changes.items() if before[k] != v}
            if not diff:
                return {}
            now = self.clock()
            if "numbers" in diff:
                self._taken(changes["numbers"], card_id)
                self._set_numbers(card_id, changes["numbers"], now)
            columns = {k: (int(v) if k == "blocked" else v) for k, v in changes.items() if k != "numbers"}
            if "numbers" in changes:
                columns["number"] = changes["numbers"][0]
            sets = "".join(f"{k} = ?, " for k in columns)
            self.conn.execute(f"UPDATE customers SET {sets}version = version + 1, updated_at = ? WHERE id = ?",
                              [*columns.values(), now, card_id])
            return diff

    def merge(self, survivor_id: str, other_id: str, version: object) -> dict:
        """Fold card `other_id` into `survivor_id` (at `version`): the other's numbers and history move
        to the survivor, which keeps its own fields and takes the other's where its own are empty (the
        higher VIP level; blocked if either was); the other stays as a redirect. What was taken."""
        if survivor_id == other_id:
            raise CardError({"other": _("Choose another card to merge into this one.")})
        with self.writer.transaction():
            survivor, other = get_card(self.conn, survivor_id), get_card(self.conn, other_id)
            if survivor is None or survivor["merged_into"]:
                raise KeyError(survivor_id)
            if other is None or other["merged_into"]:
                raise CardError({"other": _("There is no card %(id)s to merge (or it was merged already).")
                                 % {"id": other_id}})
            if isinstance(version, bool) or not isinstance(version, int):
                raise CardError({"version": _("Give the version of the card you edited (a whole number).")})
            if version != survivor["version"]:
                raise StaleCard(survivor)
            now = self.clock()
            taken = {k: other[k] for k in ("name", "company", "address", "agent_id") if not survivor[k] and other[k]}
            if other["vip"] > survivor["vip"]:
                taken["vip"] = other["vip"]
            if other["blocked"] and not survivor["blocked"]:
                taken["blocked"] = 1
            if other["notes"]:
                taken["notes"] = "\n\n".join(n for n in (survivor["notes"], other["notes"]) if n)
            moved = [n["number"] for n in other["numbers"]]
            self.conn.execute("UPDATE customer_numbers SET customer_id = ? WHERE customer_id = ?",
                              [survivor_id, other_id])
            # Cards merged into the other earlier now point at the survivor: one hop to the live card.
            self.conn.execute("UPDATE customers SET merged_into = ?, updated_at = ? WHERE merged_into = ?",
                              [survivor_id, now, other_id])
            self.conn.execute("UPDATE customers SET merged_into = ?, version = version + 1, updated_at = ? "
                              "WHERE id = ?", [survivor_id, now, other_id])
            sets = "".join(f"{k} = ?, " for k in taken)
            self.conn.execute(f"UPDATE customers SET {sets}version = version + 1, updated_at = ? WHERE id = ?",
                              [*taken.values(), now, survivor_id])
            return {"numbers": moved, "fields": sorted(taken)}

    def import_all(self, cards: list[dict]) -> list[str]:
        """Create every one of `cards` (checked, distinct numbers) in one transaction: all or none."""
        with self.writer.transaction():
            self._taken([n for c in cards for n in c["numbers"]], None)
            now = self.clock()
            return [self._insert(card, now) for card in cards]
