"""Site settings (config/site.toml): the box's identity, queues and agents, read and checked at load."""
from __future__ import annotations

import shutil
from pathlib import Path

from dsp.tones import TonePlan, TonePlanError
from firmware.callcenter.settings import AgentConfig, QueueConfig, SiteConfig, SupervisorConfig
from firmware.config.tone_plans import DEFAULT_PLAN, load_plan, plan_names
from firmware.core.commands import MAX_DIAL
from firmware.store.phones import is_region

from typed_toml import ConfigError, Section, read_file

BOARD_DIR = Path(__file__).resolve().parents[2] / "board"
DEFAULTS_DIR = BOARD_DIR / "defaults"
# How a queue picks among the ready agents who have its skill (docs/standards.md §20.1).
STRATEGIES = ("longest_idle", "round_robin", "ring_all", "fewest_calls", "least_talk", "skill_first")
RECORDING = ("all", "none", "on_demand")
# Skill levels 1 (learning) to 10 (expert); an agent listed by queue name alone gets DEFAULT_LEVEL.
MAX_LEVEL = 10
DEFAULT_LEVEL = 5
DIAL_CHARS = frozenset("0123456789*#")


def _read_escalation(sec: Section) -> list[tuple[float, int]]:
    steps = sec.get_any("escalate", [])
    if not isinstance(steps, list) or not all(
            isinstance(s, list) and len(s) == 2 and isinstance(s[0], (int, float)) and isinstance(s[1], int)
            and not isinstance(s[1], bool) and s[0] > 0 and 1 <= s[1] <= MAX_LEVEL for s in steps):
        raise sec.error("escalate", f"expected [[seconds > 0, level 1-{MAX_LEVEL}], ...], got {steps!r}")
    out = sorted((float(a), int(b)) for a, b in steps)
    if any(b2 > b1 for (_, b1), (_, b2) in zip(out, out[1:])):
        raise sec.error("escalate", "each step must widen the pool: levels must not rise with time")
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
    )
    if 0 < q.announce_every < 15:
        raise sec.error("announce_every",
                        "announcements closer than 15 s apart leave no time for music; use 0 or >= 15")
    sec.done()
    return q


def read_skills(sec: Section) -> dict[str, int]:
    """`skills = { sales = 5 }`, or `queues = ["sales"]` for every listed skill at the default level."""
    if sec.has("skills") and sec.has("queues"):
        raise sec.error("skills", "give skills or queues, not both")
    if sec.has("queues"):
        return dict.fromkeys(sec.get_list("queues"), DEFAULT_LEVEL)
    table = sec.get_table("skills", {})
    skills = {name: table.get_int(name, minval=1, maxval=MAX_LEVEL) for name in list(table.data)}
    table.done()
    return skills


def check_skills(sec: Section, skills: dict[str, int], queues: list[QueueConfig]) -> None:
    known = {q.skill for q in queues}
    key = "queues" if sec.has("queues") else "skills"
    for skill in skills:
        if skill not in known:
            raise sec.error(key, f"no queue needs skill {skill!r} (skills: {', '.join(sorted(known))})")


def read_tone_plan(sec: Section) -> TonePlan:
    """`tones`: a plan under board/tones ('cn', 'etsi', 'na')."""
    name = sec.get_str("tones", DEFAULT_PLAN)
    plans = plan_names()
    if name not in plans:
        raise sec.error("tones", f"no tone plan {name!r} (plans: {', '.join(plans)})")
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
        raise sec.error(key, f"{number!r} is not a number the box can dial: 1-{MAX_DIAL} of 0-9, * and #")
    return number


def read_reach(sec: Section) -> tuple[str | None, str | None]:
    """(station, phone): an agent sits at a station of the box or is dialled at their own number."""
    if sec.has("station") and sec.has("phone"):
        raise sec.error("phone", "give station (a channel of the box) or phone (a number dialled on a free "
                                 "trunk), not both")
    if sec.has("phone"):
        return None, read_phone(sec)
    if not sec.has("station"):
        raise sec.error("station", "required: the agent's station (a channel name), or phone = \"...\" for "
                                   "an agent reached at their own number")
    return sec.get_str("station"), None


def read_site(path: str | Path) -> SiteConfig:
    top = read_file(path)
    box = top.get_table("box", {})
    site = SiteConfig(
        box_id=box.get_str("id", "branch-001"),
        language=box.get_str("language", "en"),
        flow=box.get_str("flow", "main"),
        answer_rings=box.get_int("answer_rings", 1, 1, 10),
        region=read_region(box),
        tones=read_tone_plan(box),
    )
    box.done()
    site.queues = [read_queue(s) for s in top.get_tables("queue")]
    names = [q.name for q in site.queues]
    if len(set(names)) != len(names):
        raise top.error("queue", f"queue names repeat: {names}")
    for sec in top.get_tables("agent"):
        station, phone = read_reach(sec)
        agent = AgentConfig(sec.get_str("id"), sec.get_str("name", ""), station, read_skills(sec), phone=phone,
                            origin=f"{sec.file}: {sec.where}.station")
        check_skills(sec, agent.skills, site.queues)
        sec.done()
        site.agents.append(agent)
    ids = [a.id for a in site.agents]
    if len(set(ids)) != len(ids):
        raise top.error("agent", f"agent ids repeat: {ids}")
    for sec in top.get_tables("supervisor"):
        site.supervisors.append(SupervisorConfig(sec.get_str("id"), sec.get_str("name", ""), sec.get_str("station")))
        sec.done()
    stations = [a.station for a in site.agents if a.station] + [s.station for s in site.supervisors]
    if len(set(stations)) != len(stations):
        raise top.error("agent", f"a station serves one person only: {stations}")
    phones = [a.phone for a in site.agents if a.phone]
    if len(set(phones)) != len(phones):
        raise top.error("agent", f"a phone number reaches one agent only: {phones}")
    top.done()
    return site


def ensure_config(config_dir: Path) -> None:
    """First start: seed the config directory with the stock site settings and flows."""
    if not (config_dir / "site.toml").exists():
        config_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy(DEFAULTS_DIR / "site.toml", config_dir / "site.toml")
    flows = config_dir / "flows"
    if not flows.exists():
        shutil.copytree(DEFAULTS_DIR / "flows", flows)


__all__ = ["ConfigError", "SiteConfig", "QueueConfig", "AgentConfig", "SupervisorConfig", "read_site", "read_queue",
           "read_skills", "check_skills", "read_phone", "read_region", "read_reach", "MAX_DIAL", "DIAL_CHARS",
           "ensure_config", "BOARD_DIR"]
