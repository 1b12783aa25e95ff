"""Site settings (config/site.toml): the box's identity, queues and agents, read and checked at load."""
from __future__ import annotations

import datetime as dt
import re
import shutil
from collections.abc import Collection
from pathlib import Path
from typing import Callable, TypeVar

from dsp.tones import TonePlan, TonePlanError
from firmware.callcenter.flows import DAYS
from firmware.callcenter.schedules import Schedule
from firmware.callcenter.settings import AgentConfig, QueueConfig, SiteConfig, SupervisorConfig, TrunkGroupConfig
from firmware.config.site_keys import (ANNOUNCE, CALLER_ID_SCHEMES, DEFAULT_LEVEL, DIAL_CHARS, GROUP_OVERFLOW_KINDS,
                                       HANGUP, LANGUAGES, MAX_HANGUP_SILENCE_S, MAX_HANGUP_TONE_CYCLES, MAX_LEVEL,
                                       MAX_LIST, MAX_OUTBOUND_LINES, MAX_TRUNKS, MIN_HANGUP_SILENCE_S, OVERFLOW_KINDS,
                                       REASON_MAX, RECORDING, REPORTS, STOCK_NOT_READY_REASONS, STOCK_WRAPUP_CODES,
                                       STRATEGIES, WALLBOARD)
from firmware.config.messaging import read_mail, read_sms
from firmware.config.tone_plans import DEFAULT_PLAN, load_plan, plan_names
from firmware.core.commands import MAX_DIAL, WRAPUP_CODE_MAX
from firmware.store.phones import is_region

from typed_toml import N_, ConfigError, Section, read_file

BOARD_DIR = Path(__file__).resolve().parents[2] / "board"
DEFAULTS_DIR = BOARD_DIR / "defaults"
T = TypeVar("T")


def _read_escalation(sec: Section) -> list[tuple[float, int]]:
    steps = sec.get_any("escalate", [])
    if not isinstance(steps, list) or not all(
            isinstance(s, list) and len(s) == 2 and isinstance(s[0], (int, float)) and isinstance(s[1], int)
            and not isinstance(s[1], bool) and s[0] > 0 and 1 <= s[1] <= MAX_LEVEL for s in steps):
        raise sec.error("escalate", N_("expected [[seconds > 0, level 1-%(max)s], ...], got %(value)s"),
                        {"max": str(MAX_LEVEL), "value": repr(steps)})
    out = sorted((float(a), int(b)) for a, b in steps)
    if any(b2 > b1 for (_, b1), (_, b2) in zip(out, out[1:])):
        raise sec.error("escalate", N_("each step must widen the pool: levels must not rise with time"), {})
    return out


def read_queue(sec: Section) -> QueueConfig:
    q = QueueConfig(
        name=sec.get_str("name"),
        skill=sec.get_str("skill", ""),
        min_level=sec.get_int("min_level", 1, 1, MAX_LEVEL),
        strategy=sec.get_str("strategy", "longest_idle", choices=STRATEGIES),
        # ITU-T Q.118-style ring supervision: under 3 s is not a ring; 2 minutes is a lost agent.
        ring_timeout=sec.get_float("ring_timeout", 15.0, 3.0, 120.0),
        wrapup=sec.get_float("wrapup", 5.0, 0.0, 600.0),
        max_wait=sec.get_float("max_wait", 600.0, 10.0, 7200.0),
        max_waiting=sec.get_int("max_waiting", 0, 0, 1000),
        escalate=_read_escalation(sec),
        dedicated_wait=sec.get_float("dedicated_wait", 30.0, 0.0, 600.0),
        announce_every=sec.get_float("announce_every", 0.0, 0.0, 600.0),
        recording=sec.get_str("recording", "all", choices=RECORDING),
        on_full=_read_overflow(sec, "on_full"),
        on_timeout=_read_overflow(sec, "on_timeout"),
        overflow_prompts=sec.get_list("overflow_prompts", []),
        announce=tuple(sec.get_list("announce", list(ANNOUNCE))),
        announce_prompts=sec.get_list("announce_prompts", []),
        wrapup_codes=read_codes(sec, ()),
        survey=sec.get_str("survey", ""),
        survey_after=sec.get_bool("survey_after", False),
    )
    if q.survey_after and not q.survey:
        raise sec.error("survey_after", N_("needs survey: the name of the survey flow the caller stays on for"), {})
    if q.survey and not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", q.survey):
        raise sec.error("survey", N_("%(value)s is not a flow name (letters, digits, _ and -)"),
                        {"value": repr(q.survey)})
    if not set(q.announce) <= set(ANNOUNCE) or len(set(q.announce)) != len(q.announce):
        raise sec.error("announce", N_("a list of %(choices)s, each once, got %(value)s"),
                        {"choices": " and ".join(ANNOUNCE), "value": str(list(q.announce))})
    if 0 < q.announce_every < 15:
        raise sec.error("announce_every",
                        N_("announcements closer than 15 s apart leave no time for music; use 0 or >= 15"), {})
    sec.done()
    return q


def read_codes(sec: Section, default: tuple[str, ...]) -> tuple[str, ...]:
    """`wrapup_codes`: code words of letters, digits, - and _ (what the engine's agent.wrapup takes), each
    once, at most MAX_LIST."""
    codes = tuple(sec.get_list("wrapup_codes", list(default)))
    bad = [c for c in codes if not (0 < len(c) <= WRAPUP_CODE_MAX and c.replace("-", "").replace("_", "").isalnum()
                                    and c.isascii())]
    if bad:
        raise sec.error("wrapup_codes", N_("%(value)s is not a code: 1-%(max)s letters, digits, - or _"),
                        {"value": repr(bad[0]), "max": str(WRAPUP_CODE_MAX)})
    _a_short_list(sec, "wrapup_codes", codes)
    return codes


def read_reasons(sec: Section) -> tuple[str, ...]:
    """`not_ready_reasons`: what an agent or supervisor gives for not ready, each once, at most MAX_LIST."""
    reasons = tuple(r.strip() for r in sec.get_list("not_ready_reasons", list(STOCK_NOT_READY_REASONS)))
    bad = [r for r in reasons if not (0 < len(r) <= REASON_MAX and r.isprintable())]
    if bad:
        raise sec.error("not_ready_reasons", N_("%(value)s is not a reason: 1-%(max)s printable characters"),
                        {"value": repr(bad[0]), "max": str(REASON_MAX)})
    _a_short_list(sec, "not_ready_reasons", reasons)
    return reasons


def _a_short_list(sec: Section, key: str, values: tuple[str, ...]) -> None:
    if len(set(values)) != len(values):
        raise sec.error(key, N_("each once: %(value)s repeats"),
                        {"value": repr(next(v for v in values if values.count(v) > 1))})
    if len(values) > MAX_LIST:
        raise sec.error(key, N_("at most %(max)s, not %(n)s"), {"max": str(MAX_LIST), "n": str(len(values))})


def _read_overflow(sec: Section, key: str) -> str:
    target = sec.get_str(key, "")
    kind, _, name = target.partition(":")
    if target and target != HANGUP and (kind not in OVERFLOW_KINDS or not name):
        raise sec.error(key, N_("expected queue:<name>, node:<name> or %(hangup)s, got %(value)s"),
                        {"hangup": HANGUP, "value": repr(target)})
    return target


def read_trunk_group(sec: Section, trunks: Collection[str] | None = None) -> TrunkGroupConfig:
    """A `[[trunk_group]]`: its name, the calls it matches, and its guaranteed and capped trunks.
    `trunks`: the board's trunk channels, when the board is known."""
    limit = len(trunks) if trunks is not None else MAX_TRUNKS
    g = TrunkGroupConfig(
        name=sec.get_str("name"),
        lines=tuple(sec.get_list("lines", [])),
        numbers=tuple(sec.get_list("numbers", [])),
        queues=tuple(sec.get_list("queues", [])),
        guaranteed=sec.get_int("guaranteed", 0, 0, limit),
        cap=sec.get_int("cap", limit, 1, limit),
        overflow=sec.get_str("overflow", ""),
        overflow_prompts=sec.get_list("overflow_prompts", []),
    )
    if not (g.lines or g.numbers or g.queues):
        raise sec.error("name", N_("a trunk group matches calls by lines, numbers or queues: give at least one"), {})
    if g.guaranteed > g.cap:
        raise sec.error("guaranteed", N_("%(guaranteed)s trunks guaranteed is more than the cap of %(cap)s"),
                        {"guaranteed": str(g.guaranteed), "cap": str(g.cap)})
    kind, _, name = g.overflow.partition(":")
    if g.overflow and g.overflow != HANGUP and (kind not in GROUP_OVERFLOW_KINDS or not name):
        raise sec.error("overflow", N_("expected node:<name> or %(hangup)s, got %(value)s"),
                        {"hangup": HANGUP, "value": repr(g.overflow)})
    for number in g.numbers:
        if not 1 <= len(number) <= MAX_DIAL or not set(number) <= DIAL_CHARS:
            raise sec.error("numbers", N_("%(value)s is not a number the box can dial: 1-%(max)s of 0-9, * and #"),
                            {"value": repr(number), "max": str(MAX_DIAL)})
    if trunks is not None:
        for line in g.lines:
            if line not in trunks:
                raise sec.error("lines", N_("no trunk named %(line)s on this board (trunks: %(trunks)s)"),
                                {"line": repr(line), "trunks": ", ".join(sorted(trunks)) or "none"})
    sec.done()
    return g


def trunk_group_problems(top: Section, groups: list[TrunkGroupConfig], queues: list[QueueConfig],
                         trunks: Collection[str] | None) -> list[ConfigError]:
    """What no single group shows: a name, line, number or queue in two groups, a queue the site
    lacks, and guarantees that add up to more trunks than the board has."""
    errors: list[ConfigError] = []
    _unique(top, "trunk_group", N_("trunk group names repeat: %(values)s"), [g.name for g in groups], errors)
    for key in ("lines", "numbers", "queues"):
        values = [v for g in groups for v in getattr(g, key)]
        if len(set(values)) != len(values):
            errors.append(top.error("trunk_group", N_("a call belongs to one trunk group only; %(key)s repeat: "
                                                      "%(values)s"), {"key": key, "values": str(values)}))
    names = {q.name for q in queues}
    for g in groups:
        missing = [q for q in g.queues if q not in names]
        if missing:
            errors.append(top.error("trunk_group", N_("trunk group %(group)s names queues the site lacks: "
                                                      "%(queues)s"), {"group": g.name, "queues": ", ".join(missing)}))
    if trunks is not None and sum(g.guaranteed for g in groups) > len(trunks):
        errors.append(top.error("trunk_group", N_("the groups are guaranteed %(sum)s trunks; the board has %(trunks)s"),
                                {"sum": str(sum(g.guaranteed for g in groups)), "trunks": str(len(trunks))}))
    return errors


def overflow_problems(secs: list[Section], queues: list[QueueConfig]) -> list[tuple[Section, str, str, dict]]:
    """(section, key, reason template, params) for each queue overflowing to a queue the site lacks,
    or to itself."""
    names = {q.name for q in queues}
    out = []
    for sec, q in zip(secs, queues):
        for key in ("on_full", "on_timeout"):
            kind, _, name = getattr(q, key).partition(":")
            if kind == "queue" and (name not in names or name == q.name):
                out.append((sec, key, N_("%(name)s is not another queue of this site (queues: %(queues)s)"),
                            {"name": repr(name), "queues": ", ".join(sorted(names))}))
    return out


def read_schedule(sec: Section) -> Schedule:
    """A named schedule: open days, opening and closing time (local, HH:MM), closed dates."""
    days = tuple(sec.get_list("days", list(DAYS[:5])))
    bad = [d for d in days if d not in DAYS]
    if bad:
        raise sec.error("days", N_("%(value)s is not a day (%(days)s)"),
                        {"value": repr(bad[0]), "days": ", ".join(DAYS)})
    times = {}
    for key, default in (("open", "09:00"), ("close", "18:00")):
        value = sec.get_str(key, default)
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
            raise sec.error(key, N_("expected HH:MM (00:00-23:59), got %(value)s"), {"value": repr(value)})
        times[key] = value
    if times["open"] >= times["close"]:
        raise sec.error("close", N_("closes at %(close)s, not after it opens at %(open)s"),
                        {"close": times["close"], "open": times["open"]})
    holidays = tuple(sec.get_list("holidays", []))
    for day in holidays:
        try:
            dt.date.fromisoformat(day)
        except ValueError:
            raise sec.error("holidays", N_("%(value)s is not a date YYYY-MM-DD"), {"value": repr(day)}) from None
        if len(day) != len("YYYY-MM-DD"):
            raise sec.error("holidays", N_("%(value)s is not a date YYYY-MM-DD"), {"value": repr(day)})
    schedule = Schedule(sec.get_str("name"), days, times["open"], times["close"], holidays)
    sec.done()
    return schedule


def read_skills(sec: Section) -> dict[str, int]:
    """`skills = { sales = 5 }`, or `queues = ["sales"]` for every listed skill at the default level."""
    if sec.has("skills") and sec.has("queues"):
        raise sec.error("skills", N_("give skills or queues, not both"), {})
    if sec.has("queues"):
        return dict.fromkeys(sec.get_list("queues"), DEFAULT_LEVEL)
    table = sec.get_table("skills", {})
    skills = {name: table.get_int(name, minval=1, maxval=MAX_LEVEL) for name in list(table.data)}
    table.done()
    return skills


def check_skills(sec: Section, skills: dict[str, int], queues: list[QueueConfig],
                 unread: Collection[str] = ()) -> None:
    """`unread`: the skills of queues whose own settings are wrong (reported there, not again here)."""
    known = {q.skill for q in queues} | set(unread)
    key = "queues" if sec.has("queues") else "skills"
    for skill in skills:
        if skill not in known:
            raise sec.error(key, N_("no queue needs skill %(skill)s (skills: %(skills)s)"),
                            {"skill": repr(skill), "skills": ", ".join(sorted(known))})


def read_tone_plan(sec: Section) -> TonePlan:
    """`tones`: a plan under board/tones ('cn', 'etsi', 'na')."""
    name = sec.get_str("tones", DEFAULT_PLAN)
    plans = plan_names()
    if name not in plans:
        raise sec.error("tones", N_("no tone plan %(name)s (plans: %(plans)s)"),
                        {"name": repr(name), "plans": ", ".join(plans)})
    try:
        return load_plan(name)
    except TonePlanError as exc:
        raise sec.error("tones", str(exc)) from None


def read_region(sec: Section) -> str:
    """`region`: the country whose dialling plan a number without a country code follows."""
    region = sec.get_str("region", "CN")
    if not is_region(region):
        raise sec.error("region", f"{region!r} is not a region of the phone-number plans: an ISO 3166 "
                                  "alpha-2 code in capitals, such as CN, HK, SG or US")
    return region


def read_phone(sec: Section, key: str = "phone") -> str:
    """A number for the box to dial on a trunk."""
    number = sec.get_str(key)
    if not 1 <= len(number) <= MAX_DIAL or not set(number) <= DIAL_CHARS:
        raise sec.error(key, N_("%(value)s is not a number the box can dial: 1-%(max)s of 0-9, * and #"),
                        {"value": repr(number), "max": str(MAX_DIAL)})
    return number


def read_reach(sec: Section) -> tuple[str | None, str | None]:
    """(station, phone): an agent sits at a station of the box or is dialled at their own number."""
    if sec.has("station") and sec.has("phone"):
        raise sec.error("phone", N_("give station (a channel of the box) or phone (a number dialled on a free "
                                    "trunk), not both"), {})
    if sec.has("phone"):
        return None, read_phone(sec)
    if not sec.has("station"):
        raise sec.error("station", N_("required: the agent's station (a channel name), or phone = \"...\" for "
                                      "an agent reached at their own number"), {})
    return sec.get_str("station"), None


def read_hangup_silence(box: Section) -> float:
    """`[box] hangup_silence_s`: 0 (off), or seconds of silence that end an answered call."""
    seconds = box.get_float("hangup_silence_s", 0.0, 0.0, MAX_HANGUP_SILENCE_S)
    if 0.0 < seconds < MIN_HANGUP_SILENCE_S:
        raise box.error("hangup_silence_s", f"expected 0 (off) or {MIN_HANGUP_SILENCE_S:.0f}-"
                                            f"{MAX_HANGUP_SILENCE_S:.0f} s, got {seconds}")
    return seconds


def read_outbound(top: Section) -> tuple[int, int]:
    """`[outbound]`: `reserved_incoming` trunks always kept for incoming calls and `max_lines`, the
    calls all campaigns together may have at once (firmware/callcenter/dialer.py)."""
    sec = top.get_table("outbound", {})
    reserved = sec.get_int("reserved_incoming", 1, 0, MAX_OUTBOUND_LINES)
    lines = sec.get_int("max_lines", 2, 0, MAX_OUTBOUND_LINES)
    sec.done()
    return reserved, lines


def read_site(path: str | Path) -> SiteConfig:
    """The site settings; ConfigError naming the file, the key and the reason of the first bad key."""
    site, errors = check_site(read_file(path))
    if errors:
        raise errors[0]
    return site


def check_site(top: Section, stations: Collection[str] | None = None,
               trunks: Collection[str] | None = None) -> tuple[SiteConfig, list[ConfigError]]:
    """Every bad key of the site file, not only the first: each queue, agent and supervisor is read
    on its own, so an editor shows each error next to its field. The settings are usable only when
    the list is empty. `stations`, `trunks`: the board's station and trunk channels, when the board
    is known."""
    errors: list[ConfigError] = []

    def each(sections: list[Section], read: Callable[[Section], T]) -> list[T]:
        out = []
        for sec in sections:
            try:
                out.append(read(sec))
            except ConfigError as exc:
                errors.append(exc)
        return out

    try:
        box = top.get_table("box", {})
        site = SiteConfig(
            box_id=box.get_str("id", "branch-001"),
            language=box.get_str("language", "en", choices=LANGUAGES),
            flow=box.get_str("flow", "main"),
            answer_rings=box.get_int("answer_rings", 1, 1, 10),
            callerid=box.get_str("callerid", "", choices=("", *CALLER_ID_SCHEMES)),
            region=read_region(box),
            tones=read_tone_plan(box),
            hangup_tone_cycles=box.get_int("hangup_tone_cycles", 3, 0, MAX_HANGUP_TONE_CYCLES),
            hangup_silence_s=read_hangup_silence(box),
            wrapup_codes=read_codes(box, tuple(STOCK_WRAPUP_CODES)),
            not_ready_reasons=read_reasons(box),
        )
        box.done()
    except ConfigError as exc:
        errors.append(exc)
        site = SiteConfig(tones=load_plan(DEFAULT_PLAN))
    queue_secs = _tables(top, "queue", errors)
    site.queues = each(queue_secs, read_queue)
    read_names = {q.name for q in site.queues}
    unread = {str(sec.data.get("skill") or sec.data.get("name")) for sec in queue_secs
              if sec.data.get("name") not in read_names}
    _unique(top, "queue", N_("queue names repeat: %(values)s"), [q.name for q in site.queues], errors)
    if len(site.queues) == len(queue_secs):
        errors += [sec.error(key, reason, params)
                   for sec, key, reason, params in overflow_problems(queue_secs, site.queues)]

    def agent(sec: Section) -> AgentConfig:
        station, phone = read_reach(sec)
        if station is not None and stations is not None and station not in stations:
            raise sec.error("station", N_("no station named %(station)s on this board (stations: %(stations)s)"),
                            {"station": repr(station), "stations": ", ".join(sorted(stations)) or "none"})
        cfg = AgentConfig(sec.get_str("id"), sec.get_str("name", ""), station, read_skills(sec), phone=phone,
                          origin=f"{sec.file}: {sec.where}.station")
        check_skills(sec, cfg.skills, site.queues, unread)
        sec.done()
        return cfg

    def supervisor(sec: Section) -> SupervisorConfig:
        cfg = SupervisorConfig(sec.get_str("id"), sec.get_str("name", ""), sec.get_str("station"))
        if stations is not None and cfg.station not in stations:
            raise sec.error("station", N_("no station named %(station)s on this board (stations: %(stations)s)"),
                            {"station": repr(cfg.station), "stations": ", ".join(sorted(stations)) or "none"})
        sec.done()
        return cfg

    site.agents = each(_tables(top, "agent", errors), agent)
    _unique(top, "agent", N_("agent ids repeat: %(values)s"), [a.id for a in site.agents], errors)
    schedules = each(_tables(top, "schedule", errors), read_schedule)
    _unique(top, "schedule", N_("schedule names repeat: %(values)s"), [s.name for s in schedules], errors)
    site.schedules = {s.name: s for s in schedules}
    site.supervisors = each(_tables(top, "supervisor", errors), supervisor)
    site.trunk_groups = each(_tables(top, "trunk_group", errors), lambda sec: read_trunk_group(sec, trunks))
    errors += trunk_group_problems(top, site.trunk_groups, site.queues, trunks)
    _unique(top, "supervisor", N_("supervisor ids repeat: %(values)s"), [s.id for s in site.supervisors], errors)
    stations_used = [a.station for a in site.agents if a.station] + [s.station for s in site.supervisors]
    if len(set(stations_used)) != len(stations_used):
        errors.append(top.error("agent", N_("a station serves one person only: %(stations)s"),
                                {"stations": str(stations_used)}))
    try:
        site.outbound_reserved, site.outbound_max_lines = read_outbound(top)
    except ConfigError as exc:
        errors.append(exc)
    try:
        check_wallboard(top)
    except ConfigError as exc:
        errors.append(exc)
    try:
        site.service_level_s, site.short_abandon_s = read_reports(top)
    except ConfigError as exc:
        errors.append(exc)
    phones = [a.phone for a in site.agents if a.phone]
    if len(set(phones)) != len(phones):
        errors.append(top.error("agent", N_("a phone number reaches one agent only: %(phones)s"),
                                {"phones": str(phones)}))
    # Mail is the web process's and texts the SMS service's (firmware/config/messaging.py): checked here
    # too, so a bad key shows where every other site key's error does.
    for read in (read_mail, read_sms):
        try:
            read(top)
        except ConfigError as exc:
            errors.append(exc)
    try:
        top.done()
    except ConfigError as exc:
        errors.append(exc)
    return site, errors


def check_wallboard(top: Section) -> None:
    """The `[wallboard]` colour thresholds. The engine does not use them (the web reads them from the
    file), but checks them so that one reader judges the whole file before it is saved."""
    sec = top.get_table("wallboard", {})
    levels = {key: sec.get_int(key, default, lo, hi) for key, (default, lo, hi) in WALLBOARD.items()}
    if levels["longest_wait_alarm"] <= levels["longest_wait_warn"]:
        raise sec.error("longest_wait_alarm", N_("must be more than longest_wait_warn (%(warn)s)"),
                        {"warn": str(levels["longest_wait_warn"])})
    if levels["service_level_alarm"] >= levels["service_level_warn"]:
        raise sec.error("service_level_alarm", N_("must be less than service_level_warn (%(warn)s)"),
                        {"warn": str(levels["service_level_warn"])})
    sec.done()


def read_reports(top: Section) -> tuple[int, int]:
    """The `[reports]` service-level target and short-abandon threshold, in seconds."""
    sec = top.get_table("reports", {})
    values = {key: sec.get_int(key, default, lo, hi) for key, (default, lo, hi) in REPORTS.items()}
    if values["short_abandon_s"] >= values["service_level_s"]:
        # A caller who rang off within the target would be left out of a figure they could have met.
        raise sec.error("short_abandon_s", N_("must be less than service_level_s (%(target)s)"),
                        {"target": str(values["service_level_s"])})
    sec.done()
    return values["service_level_s"], values["short_abandon_s"]


def _tables(top: Section, key: str, errors: list[ConfigError]) -> list[Section]:
    try:
        return top.get_tables(key)
    except ConfigError as exc:
        errors.append(exc)
        return []


def _unique(top: Section, key: str, what: str, values: list[str], errors: list[ConfigError]) -> None:
    """`what`: a template marked with N_, e.g. N_("queue names repeat: %(values)s")."""
    if len(set(values)) != len(values):
        errors.append(top.error(key, what, {"values": str(values)}))


def ensure_config(config_dir: Path) -> None:
    """First start: seed the config directory with the stock site settings, ticket settings, quality
    form and flows."""
    for name in ("site.toml", "tickets.toml", "quality.toml"):
        if not (config_dir / name).exists():
            config_dir.mkdir(parents=True, exist_ok=True)
            shutil.copy(DEFAULTS_DIR / name, config_dir / name)
    flows = config_dir / "flows"
    if not flows.exists():
        shutil.copytree(DEFAULTS_DIR / "flows", flows)


__all__ = ["ConfigError", "SiteConfig", "QueueConfig", "AgentConfig", "SupervisorConfig", "read_site", "read_queue",
           "read_skills", "check_skills", "check_site", "read_phone", "read_region", "read_reach", "MAX_DIAL",
           "DIAL_CHARS", "ensure_config", "BOARD_DIR"]
