"""Scenario files: scripted agents and callers run the whole box on the simulated board or emulated modems; a report."""
from __future__ import annotations

import json
import logging
import random
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

from drivers.sim import CLEARS, PHONE_KINDS, DtmfStyle, Phone, SimCaller
from drivers.sim_signals import CALLER_ID_SCHEMES
from dsp.tones import TonePlan

from firmware.callcenter import kpi
from firmware.tools import scenario_board
from firmware.config.box import StatePaths, open_engine
from firmware.config.tone_plans import DEFAULT_PLAN, load_plan
from firmware.callcenter.calls import Call
from firmware.callcenter.center import CallCenter
from typed_toml import ConfigError, Section, read_file
from firmware.core.control import ControlError
from firmware.core.engine import Engine
from firmware.callcenter.settings import AgentConfig, QueueConfig, SiteConfig, SupervisorConfig, TrunkGroupConfig
from firmware.config.site import (DEFAULTS_DIR, check_skills, read_hangup_silence, read_phone, read_queue,
                                  read_site, read_skills, read_tone_plan, read_trunk_group)
from firmware.config.site_keys import MAX_HANGUP_TONE_CYCLES, MAX_OUTBOUND_LINES
from firmware.store import open_db, open_readonly

log = logging.getLogger(__name__)

# Fast runs start at this time (2026-01-01 00:00 UTC) plus one day per seed.
SCENARIO_EPOCH = 1_767_225_600.0
# report=False: a caller whose call ended this long ago leaves the simulated network (ScenarioRun._forget).
FORGET_S = 60.0
# The traffic `branchline run --demo` plays.
DEMO_SCENARIO = Path(__file__).resolve().parents[2] / "board" / "scenarios" / "demo.toml"


@dataclass
class AgentScript:
    id: str
    name: str
    skills: dict[str, int]
    login_at: float
    answer_after: float
    talk: float
    voice_hz: float | None = None
    phone: str | None = None      # a remote agent, dialled at this number on the simulated PSTN
    clear: str = "signal"         # a remote agent's hang-up as their exchange gives it (drivers/sim.py CLEARS)


@dataclass
class CallerScript:
    at: float
    number: str
    name: str
    keys: list[tuple[float, str]]
    patience: float
    talk: float
    voice_hz: float | None = None
    callback_answer: float | None = None   # reachable at their number afterwards, picking up after this
    speak: list[tuple[float, float]] = field(default_factory=list)   # (s after answer, s): a message
    fax: bool = False           # a fax machine calling, not a person
    garbled_id: bool = False    # the line garbles the caller ID burst
    clear: str = "signal"       # how their hang-up reaches the box (drivers/sim.py CLEARS)


@dataclass
class PhoneScript:
    """A supervisor's handset or a number out on the PSTN (an expert center)."""
    id: str
    answer_after: float
    talk: float
    voice_hz: float | None
    answers: bool
    name: str = ""
    clear: str = "signal"       # how its hang-up reaches the box (drivers/sim.py CLEARS)
    kind: str = "phone"         # what answers (drivers/sim.py PHONE_KINDS)


@dataclass
class Action:
    at: float
    command: str
    args: dict


@dataclass
class Traffic:
    per_hour: float
    keys: list[str]
    patience: tuple[float, float]
    talk: tuple[float, float]
    key_delay: float
    start: float
    end: float | None
    customers: float = 0.0                                      # share of callers who are known customers
    # (s after answer, digits, share, [(s after those, digits), ...]): keys some callers press later on.
    later_keys: list[tuple[float, str, float, list]] = field(default_factory=list)
    speak: list[tuple[float, float]] = field(default_factory=list)


@dataclass
class Scenario:
    path: Path
    seconds: float
    seed: int
    trunks: int
    drain: float
    language: str
    flow: Path | None
    noise_dbm0: float
    dtmf: DtmfStyle
    queues: list[QueueConfig]
    agents: list[AgentScript] = field(default_factory=list)
    callers: list[CallerScript] = field(default_factory=list)
    traffic: list[Traffic] = field(default_factory=list)
    customers: list[dict] = field(default_factory=list)
    supervisors: list[PhoneScript] = field(default_factory=list)
    externals: list[PhoneScript] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    lookups: list[dict] = field(default_factory=list)
    board: str | None = None     # a board profile of simulated lines or modem emulators; None: the sim
    callerid: str = "v23"        # how the simulated exchange sends caller ID (drivers/sim_signals.py)
    tones: TonePlan = field(default_factory=lambda: load_plan(DEFAULT_PLAN))   # the network's tones
    hangup_tone_cycles: int = 3     # the box's disconnect supervision ([box] keys of site.toml)
    hangup_silence_s: float = 0.0
    trunk_groups: list[TrunkGroupConfig] = field(default_factory=list)   # as [[trunk_group]] of site.toml
    # Outbound campaigns (firmware/callcenter/dialer.py): the campaigns' rows, their contacts' rows,
    # and when each starts; the box's `[outbound]` keys.
    campaigns: list[tuple[float, dict]] = field(default_factory=list)
    contacts: list[dict] = field(default_factory=list)
    outbound_reserved: int = 1
    outbound_max_lines: int = 2


def _range(sec: Section, key: str, default: tuple[float, float], lo: float, hi: float) -> tuple[float, float]:
    """A number, or [min, max] drawn uniformly."""
    value = sec.get_any(key, list(default))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = [value, value]
    if (not isinstance(value, list) or len(value) != 2
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)):
        raise sec.error(key, f"expected a number or [min, max], got {value!r}")
    a, b = float(value[0]), float(value[1])
    if not lo <= a <= b <= hi:
        raise sec.error(key, f"expected {lo} <= min <= max <= {hi}, got {value!r}")
    return a, b


# Scenario `do = ...` -> control command (the same commands the web console and `branchline ctl` use).
ACTIONS = {
    "login": "agent.login", "logout": "agent.logout", "ready": "agent.ready", "not_ready": "agent.not_ready",
    "hangup": "agent.hangup", "hold": "agent.hold", "resume": "agent.resume", "transfer": "agent.transfer",
    "transfer_complete": "agent.transfer_complete", "transfer_cancel": "agent.transfer_cancel",
    "conference": "agent.conference", "dial": "agent.dial", "wrapup": "agent.wrapup",
    "pause_recording": "agent.pause_recording", "record": "agent.record",
    "monitor": "supervisor.monitor", "whisper": "supervisor.monitor", "barge": "supervisor.monitor",
    "stop": "supervisor.stop", "intercept": "supervisor.intercept", "force_hangup": "supervisor.hangup",
    "force_ready": "supervisor.force_ready", "force_not_ready": "supervisor.force_not_ready",
    "force_logout": "supervisor.force_logout",
}


def _voice(sec: Section) -> float | None:
    return sec.get_float("voice_hz", minval=100.0, maxval=3400.0) if sec.has("voice_hz") else None


def _phone(sec: Section, key: str) -> PhoneScript:
    phone = PhoneScript(id=sec.get_str(key), answer_after=sec.get_float("answer_after", 3.0, 0.0, 120.0),
                        talk=sec.get_float("talk", 3600.0, 0.1), voice_hz=_voice(sec),
                        answers=sec.get_bool("answers", True), name=sec.get_str("name", ""),
                        clear=sec.get_str("clear", "signal", choices=CLEARS),
                        kind=sec.get_str("kind", "phone", choices=PHONE_KINDS))
    sec.done()
    return phone


def _externals(sec: Section) -> list[PhoneScript]:
    """An `[[externals]]` table: one number, or `count` alike on consecutive numbers from it (a
    campaign's customers)."""
    count = sec.get_int("count", 1, 1, 100_000)
    phone = _phone(sec, "number")
    if count > 1 and not phone.id.isdigit():
        raise sec.error("count", f"consecutive numbers start from digits, not {phone.id!r}")
    return [phone] if count == 1 else [replace(phone, id=str(int(phone.id) + i).zfill(len(phone.id)))
                                       for i in range(count)]


def _numbers(sec: Section) -> list[str]:
    """A campaign's `numbers`: each a number, or "<first>+<count>" for consecutive ones."""
    out: list[str] = []
    for item in sec.get_list("numbers"):
        first, plus, count = str(item).partition("+")
        if not plus:
            out.append(first)
        elif first.isdigit() and count.isdigit():
            out += [str(int(first) + i).zfill(len(first)) for i in range(int(count))]
        else:
            raise sec.error("numbers", f"expected a number or <first>+<count>, got {item!r}")
    return out


def _press_ok(item) -> bool:
    return (isinstance(item, list) and len(item) == 2 and isinstance(item[0], (int, float))
            and not isinstance(item[0], bool) and item[0] >= 0 and isinstance(item[1], str) and item[1] != ""
            and all(c in "0123456789*#ABCD" for c in item[1]))


def _later_keys(sec: Section) -> list[tuple[float, str, float, list]]:
    raw = sec.get_any("later_keys", [])
    if not isinstance(raw, list) or not all(
            isinstance(i, list) and len(i) in (3, 4) and _press_ok(i[:2]) and isinstance(i[2], (int, float))
            and 0 <= i[2] <= 1 and (len(i) == 3 or (isinstance(i[3], list) and all(_press_ok(j) for j in i[3])))
            for i in raw):
        raise sec.error("later_keys", "expected [[seconds after answer, digits, share 0-1, "
                                      f"optional [[seconds later, digits], ...]], ...], got {raw!r}")
    return [(float(i[0]), i[1], float(i[2]), [(float(a), d) for a, d in (i[3] if len(i) == 4 else [])])
            for i in raw]


def _speech(sec: Section) -> list[tuple[float, float]]:
    raw = sec.get_any("speak", [])
    if not isinstance(raw, list) or not all(
            isinstance(i, list) and len(i) == 2 and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                        for v in i) and i[0] >= 0 and 0 < i[1] <= 600 for i in raw):
        raise sec.error("speak", f"expected [[seconds after answer, seconds of talking], ...], got {raw!r}")
    return [(float(a), float(b)) for a, b in raw]


def _keys(sec: Section) -> list[tuple[float, str]]:
    raw = sec.get_any("keys", [])
    out = []
    if not isinstance(raw, list):
        raise sec.error("keys", "expected a list of [seconds after answer, digits]")
    for item in raw:
        if (not isinstance(item, list) or len(item) != 2 or isinstance(item[0], bool)
                or not isinstance(item[0], (int, float)) or not isinstance(item[1], str)):
            raise sec.error("keys", f"expected [seconds after answer, digits], got {item!r}")
        if item[0] < 0 or not item[1] or any(c not in "0123456789*#ABCD" for c in item[1]):
            raise sec.error("keys", f"bad key press {item!r}: time >= 0 and digits from 0-9 * # A-D")
        out.append((float(item[0]), item[1]))
    return out


# A scenario's campaign calls at any hour: the runs start at midnight (SCENARIO_EPOCH).
ALL_HOURS = json.dumps({"days": [1, 2, 3, 4, 5, 6, 7], "start": "00:00", "end": "23:59"})


def _campaign(sec: Section, n: int, queues: set[str]) -> tuple[float, dict, list[str]]:
    """A `[[campaigns]]` table: (when it starts, its campaigns row, the numbers it calls)."""
    queue = sec.get_str("queue", "")
    if queue and queue not in queues:
        raise sec.error("queue", f"no queue {queue!r} in this scenario")
    retry = sec.get_table("retry", {})
    retry_s = {k: retry.get_float(k, minval=0.0) for k in list(retry.data)}
    row = {"id": sec.get_str("id", f"campaign-{n}"), "name": sec.get_str("name", f"Campaign {n}"),
           "mode": sec.get_str("mode", choices=("preview", "progressive", "message")),
           "purpose": sec.get_str("purpose", "sales"), "state": "draft", "queue": queue,
           "prompt": sec.get_str("prompt", ""), "confirm_key": sec.get_str("confirm_key", "1"),
           "agent_key": sec.get_str("agent_key", ""), "hours": ALL_HOURS, "skip_holidays": 0,
           "max_attempts": sec.get_int("max_attempts", 3, 1, 20), "retry": json.dumps(retry_s) if retry_s else None,
           "max_lines": sec.get_int("max_lines", 2, 1, 480), "pace": sec.get_float("pace", 1.0, 0.01, 1000.0),
           "created_at": 0.0, "updated_at": 0.0}
    numbers = _numbers(sec)
    at = sec.get_float("start", 0.0, 0.0)
    sec.done()
    return at, row, numbers


def load_scenario(path: str | Path) -> Scenario:
    path = Path(path)
    top = read_file(path)
    run = top.get_table("run")
    flow = run.get_str("flow", "")
    dtmf = run.get_table("dtmf", {})
    style = DtmfStyle(level_dbm0=dtmf.get_float("level_dbm0", -10.0, -50.0, 0.0),
                      twist_db=dtmf.get_float("twist_db", 0.0, -12.0, 12.0),
                      on_s=dtmf.get_float("on", 0.08, 0.02, 1.0), off_s=dtmf.get_float("off", 0.08, 0.02, 1.0))
    dtmf.done()
    queue_secs = top.get_tables("queues")
    board = run.get_str("board", "")
    for key in ("trunks", "callerid"):
        if board and run.has(key):
            raise run.error(key, f"board {board!r} describes the lines: leave {key} out")
    scn = Scenario(
        path=path, seconds=run.get_float("seconds", minval=1.0, maxval=7 * 86400.0),
        seed=run.get_int("seed", 0, 0), trunks=run.get_int("trunks", 30, 1, 480),
        drain=run.get_float("drain", 900.0, 0.0, 86400.0), language=run.get_str("language", "en"),
        flow=(path.parent / flow) if flow else None, noise_dbm0=run.get_float("noise_dbm0", -65.0, -100.0, -10.0),
        dtmf=style,
        queues=[read_queue(s) for s in queue_secs] if queue_secs else read_site(DEFAULTS_DIR / "site.toml").queues,
        board=board or None, callerid=run.get_str("callerid", "v23", choices=CALLER_ID_SCHEMES),
        tones=read_tone_plan(run),
        hangup_tone_cycles=run.get_int("hangup_tone_cycles", 3, 0, MAX_HANGUP_TONE_CYCLES),
        hangup_silence_s=read_hangup_silence(run),
        outbound_reserved=run.get_int("reserved_incoming", 1, 0, MAX_OUTBOUND_LINES),
        outbound_max_lines=run.get_int("outbound_lines", 2, 0, MAX_OUTBOUND_LINES))
    run.done()
    scn.trunk_groups = [read_trunk_group(sec) for sec in top.get_tables("trunk_groups")]
    for sec in top.get_tables("agents"):
        agent = AgentScript(id=sec.get_str("id"), name=sec.get_str("name", ""), skills=read_skills(sec),
                            login_at=sec.get_float("login_at", 0.0, 0.0),
                            answer_after=sec.get_float("answer_after", 2.0, 0.0, 60.0),
                            talk=sec.get_float("talk", 60.0, 0.1), voice_hz=_voice(sec),
                            phone=read_phone(sec) if sec.has("phone") else None)
        if sec.has("clear"):
            if agent.phone is None:
                raise sec.error("clear", "only a remote agent (phone = ...) hangs up through an exchange")
            agent.clear = sec.get_str("clear", choices=CLEARS)
        check_skills(sec, agent.skills, scn.queues)
        sec.done()
        scn.agents.append(agent)
    if len({a.id for a in scn.agents}) != len(scn.agents):
        raise top.error("agents", "agent ids repeat")
    for sec in top.get_tables("customers"):
        vip = sec.get_any("vip", 0)
        if isinstance(vip, bool):
            vip = int(vip)
        if not isinstance(vip, int) or not 0 <= vip <= 9:
            raise sec.error("vip", f"expected true/false or a level 0-9, got {vip!r}")
        agent_id = sec.get_str("agent", "") or None
        if agent_id is not None and agent_id not in {a.id for a in scn.agents}:
            raise sec.error("agent", f"no agent {agent_id!r} in this scenario")
        scn.customers.append({"id": f"cust-{len(scn.customers) + 1}", "number": sec.get_str("number"),
                              "name": sec.get_str("name", ""), "vip": vip, "agent_id": agent_id,
                              "blocked": int(sec.get_bool("blocked", False))})
        sec.done()
    if len({c["number"] for c in scn.customers}) != len(scn.customers):
        raise top.error("customers", "customer numbers repeat")
    for sec in top.get_tables("callers"):
        scn.callers.append(CallerScript(at=sec.get_float("at", minval=0.0), number=sec.get_str("number"),
                                        name=sec.get_str("name", ""), keys=_keys(sec),
                                        patience=sec.get_float("patience", 120.0, 0.0),
                                        talk=sec.get_float("talk", 60.0, 0.1), voice_hz=_voice(sec),
                                        callback_answer=sec.get_float("callback_answer", 4.0, 0.0, 120.0),
                                        speak=_speech(sec), fax=sec.get_bool("fax", False),
                                        garbled_id=sec.get_bool("garbled_id", False),
                                        clear=sec.get_str("clear", "signal", choices=CLEARS)))
        sec.done()
    for sec in top.get_tables("lookups"):
        data = sec.get_any("data")
        if not isinstance(data, dict):
            raise sec.error("data", "expected a table of the item's fields, e.g. { status = \"order-shipped\" }")
        scn.lookups.append({"id": f"lookup-{len(scn.lookups) + 1}", "table_name": sec.get_str("table"),
                            "key": sec.get_str("key"), "data": json.dumps(data)})
        sec.done()
    scn.supervisors = [_phone(sec, "id") for sec in top.get_tables("supervisors")]
    scn.externals = [phone for sec in top.get_tables("externals") for phone in _externals(sec)]
    pstn = [a.phone for a in scn.agents if a.phone] + [p.id for p in scn.externals]
    if len(set(pstn)) != len(pstn):
        raise top.error("agents", f"a number on the simulated network reaches one phone only: {pstn}")
    for sec in top.get_tables("actions"):
        at = sec.get_float("at", minval=0.0)
        do = sec.get_str("do", choices=ACTIONS)
        who = "supervisor" if ACTIONS[do].startswith("supervisor.") else "agent"
        args: dict[str, str | bool] = {who: sec.get_str(who)}
        if who == "supervisor" and do not in ("stop",):
            args["agent"] = sec.get_str("agent")
        for key in ("to", "reason", "code", "number", "mode", "call"):
            if sec.has(key):
                args[key] = sec.get_str(key)
        for key in ("blind", "paused"):
            if sec.has(key):
                args[key] = sec.get_bool(key)
        if do in ("monitor", "whisper", "barge"):
            args["mode"] = do
        sec.done()
        scn.actions.append(Action(at, ACTIONS[do], args))
    for sec in top.get_tables("campaigns"):
        at, row, numbers = _campaign(sec, len(scn.campaigns) + 1, {q.name for q in scn.queues})
        scn.campaigns.append((at, row))
        scn.contacts += [{"id": f"{row['id']}-{i + 1}", "campaign_id": row["id"], "number": n, "state": "pending",
                          "attempts": 0, "updated_at": 0.0} for i, n in enumerate(numbers)]
    for sec in top.get_tables("traffic"):
        keys = sec.get_list("keys", [])
        for k in keys:
            if not k or any(c not in "0123456789*#ABCD" for c in k):
                raise sec.error("keys", f"bad digits {k!r}: use 0-9 * # A-D")
        scn.traffic.append(Traffic(per_hour=sec.get_float("per_hour", minval=0.0, maxval=100000.0), keys=keys,
                                   patience=_range(sec, "patience", (20.0, 180.0), 0.0, 86400.0),
                                   talk=_range(sec, "talk", (30.0, 180.0), 0.1, 86400.0),
                                   key_delay=sec.get_float("key_delay", 6.0, 0.0, 600.0),
                                   start=sec.get_float("start", 0.0, 0.0),
                                   end=sec.get_float("end") if sec.has("end") else None,
                                   customers=sec.get_float("customers", 0.0, 0.0, 1.0),
                                   later_keys=_later_keys(sec), speak=_speech(sec)))
        sec.done()
    if any(t.customers for t in scn.traffic) and not scn.customers:
        raise top.error("traffic", "customers = ... needs a [[customers]] list to draw from")
    top.done()
    return scn


def generate_callers(scn: Scenario) -> list[CallerScript]:
    """The scripted callers plus the Poisson arrivals of every [[traffic]] block, in arrival order."""
    rng = random.Random(scn.seed)
    callers = list(scn.callers)
    for t in scn.traffic:
        at, end = t.start, min(t.end if t.end is not None else scn.seconds, scn.seconds)
        rate = t.per_hour / 3600.0
        while rate > 0:
            at += rng.expovariate(rate)
            if at >= end:
                break
            keys = [(t.key_delay, rng.choice(t.keys))] if t.keys else []
            for delay, digits, share, then in t.later_keys:
                if rng.random() < share:
                    keys += [(delay, digits)] + [(delay + later, more) for later, more in then]
            known = t.customers and rng.random() < t.customers
            number = (rng.choice(scn.customers)["number"] if known
                      else f"1{rng.randrange(30, 90)}{rng.randrange(10**8):08d}")
            callers.append(CallerScript(at=at, number=number, name="", keys=keys,
                                        patience=rng.uniform(*t.patience), talk=rng.uniform(*t.talk),
                                        callback_answer=4.0, speak=list(t.speak)))
    callers.sort(key=lambda c: c.at)
    return callers


class ScenarioRun:
    """A scenario wired onto an engine: schedules callers and agents, follows calls, builds the report."""

    def __init__(self, scn: Scenario, state_dir: Path, clock: str = "fast", control: bool = False,
                 epoch: float | None = None, virtual_lines: bool = False, report: bool = True):
        """`virtual_lines`: the board reserves the load test's virtual lines (the demo; load-test tests).
        `report=False`: keep nothing of a caller once their call is over (no report at the end), so that
        a long run's memory is the box's alone (the soak, docs/architecture.md §29); a caller is then
        reachable at their number only while their call lasts, which suits flows offering no callback."""
        self.scn = scn
        self.keeps = report
        self._reachable: list[tuple[SimCaller, str]] = []    # report=False: callers on the network now
        self.paths = StatePaths(state_dir)
        # Stations for the agents who sit at the box, then for the supervisors; remote agents have none.
        self.station_of = {a.id: i for i, a in enumerate(a for a in scn.agents if a.phone is None)}
        n_agents = len(self.station_of)
        board = scenario_board.build(scn.board, trunks=scn.trunks, stations=n_agents + len(scn.supervisors),
                                     seed=scn.seed, noise_dbm0=scn.noise_dbm0, dtmf=scn.dtmf, clock=clock,
                                     callerid=scn.callerid, tones=scn.tones, virtual_lines=virtual_lines)
        self.sim = board.sim
        site = SiteConfig(language=scn.language, queues=scn.queues, tones=scn.tones,
                          agents=[self._agent_config(a) for a in scn.agents],
                          supervisors=[SupervisorConfig(s.id, s.name or s.id, f"station{n_agents + i + 1}")
                                       for i, s in enumerate(scn.supervisors)],
                          hangup_tone_cycles=scn.hangup_tone_cycles, hangup_silence_s=scn.hangup_silence_s,
                          trunk_groups=scn.trunk_groups, outbound_reserved=scn.outbound_reserved,
                          outbound_max_lines=scn.outbound_max_lines)
        site.answer_rings = max(site.answer_rings, board.answer_rings)
        if scn.customers or scn.lookups or scn.campaigns:
            self.paths.root.mkdir(parents=True, exist_ok=True)
            db = open_db(self.paths.db)
            for table, rows in (("customers", scn.customers), ("lookup_items", scn.lookups),
                                ("campaigns", [row for _, row in scn.campaigns]), ("campaign_contacts", scn.contacts)):
                if rows:
                    db.table(table).upsert_all(rows, pk="id")
            db.conn.close()
        flow = scn.flow or DEFAULTS_DIR / "flows" / "main.toml"
        self.engine: Engine = open_engine(self.paths, board.board, site, clock=clock, control=control,
                                          seed=scn.seed, flow_path=flow, epoch=epoch, board_name=board.name)
        if not isinstance(self.engine.app, CallCenter):
            raise ConfigError(f"{scn.path}: the box assembled for it runs no call center")
        self.center: CallCenter = self.engine.app
        self.lines = scenario_board.trunks_for(board, lambda: self.engine.clock.seconds, scn.dtmf)
        self.engine.observers.append(self._observe)
        self.callers = generate_callers(scn)
        self.sim_callers: list[SimCaller] = []
        self.call_of: dict[int, str] = {}      # id(SimCaller) -> call id
        self.dnis_of: dict[str, str] = {}      # call id -> the number the caller dialled, as the trunk signalled it
        for a in scn.agents:
            phone = self._agent_phone(a)
            phone.answer_after, phone.talk, phone.voice_hz, phone.clear = a.answer_after, a.talk, a.voice_hz, a.clear
            self.engine.later(a.login_at, self._login, a.id)
        for i, p in enumerate(scn.supervisors):
            hs = self.sim.handset(n_agents + i)
            hs.answer_after, hs.talk, hs.voice_hz, hs.answers = p.answer_after, p.talk, p.voice_hz, p.answers
        for p in scn.externals:
            self.sim.subscriber(p.id, Phone(p.answer_after, p.talk, p.voice_hz, p.answers, p.clear, p.kind))
        for c in self.callers:
            self.engine.later(c.at, self._arrive, c)
        if not self.keeps:
            self.engine.later(FORGET_S, self._forget)
        self.action_results: list[dict] = []
        for action in scn.actions:
            self.engine.later(action.at, self._act, action)
        # A campaign starts as the web starts it (campaign.start, its row read off the loop).
        for at, row in scn.campaigns:
            self.engine.later(at, self._act, Action(at, "campaign.start", {"id": row["id"], "row": row}))

    def _agent_config(self, agent: AgentScript) -> AgentConfig:
        station = f"station{self.station_of[agent.id] + 1}" if agent.phone is None else None
        return AgentConfig(agent.id, agent.name, station, agent.skills, phone=agent.phone)

    def _agent_phone(self, agent: AgentScript) -> Phone:
        """The agent's handset at their station, or their own phone out on the simulated network."""
        if agent.phone is None:
            return self.sim.handset(self.station_of[agent.id])
        return self.sim.subscriber(agent.phone, Phone())

    def _login(self, agent_id: str) -> None:
        self.engine.command("agent.login", {"agent": agent_id})
        self.engine.command("agent.ready", {"agent": agent_id})

    def _act(self, action: Action) -> None:
        result = {"at": action.at, "command": action.command, "args": action.args}
        try:
            result["result"] = self.engine.command(action.command, dict(action.args))
        except ControlError as exc:
            result["error"] = str(exc)
        self.action_results.append(result)

    def _arrive(self, script: CallerScript) -> None:
        caller = SimCaller(number=script.number, name=script.name, keys=list(script.keys),
                           patience=script.patience, talk=script.talk, voice_hz=script.voice_hz,
                           speak=list(script.speak), fax=script.fax, garbled_id=script.garbled_id, tag=script,
                           clear=script.clear)
        if self.keeps:
            self.sim_callers.append(caller)
        if script.callback_answer is not None and script.number not in self.sim.directory:
            # The caller stays reachable at their number, for a callback or an agent's call.
            self.sim.subscriber(script.number, Phone(script.callback_answer, script.talk, script.voice_hz))
            if not self.keeps:
                self._reachable.append((caller, script.number))
        self.lines.place_call(caller)

    def _forget(self) -> None:
        """report=False, every FORGET_S: callers whose call is over leave the simulated network and the
        lines' lists of finished calls."""
        now = self.engine.clock.seconds
        still = []
        for caller, number in self._reachable:
            if caller.ended is not None and now - caller.ended >= FORGET_S:
                self.sim.directory.pop(number, None)
            else:
                still.append((caller, number))
        self._reachable = still
        self.lines.let_go()
        self.engine.later(FORGET_S, self._forget)

    def _observe(self, name: str, data: dict) -> None:
        if name == "call:arrived" and self.keeps:
            call: Call = data["call"]
            caller = self.lines.caller_on(call.channel) if call.channel is not None else None
            if caller is not None:
                self.call_of[id(caller)] = call.id
        elif name == "call:callerid" and data.get("dnis") and self.keeps:
            self.dnis_of[data["call"].id] = data["dnis"]
        elif name == "call:bridged":
            self.lines.connected(data["channel"])
        elif name == "campaign:preview":
            # A scripted agent reads the contact's card as long as they take to answer, then dials it.
            agent = next(a for a in self.scn.agents if a.id == data["agent"])
            self.engine.later(agent.answer_after, self._act, Action(
                self.engine.clock.seconds + agent.answer_after, "agent.preview_dial",
                {"agent": agent.id, "contact": data["contact"]}))

    def busy(self) -> bool:
        return bool(self.center.calls) or self.lines.busy()

    def run(self) -> dict:
        engine = self.engine
        end = self.scn.seconds
        engine.run(until=lambda: engine.clock.seconds >= end)
        # The day is over for the campaigns too: their calls in progress finish in the drain.
        for _, row in self.scn.campaigns:
            if row["id"] in self.center.dialer.running:
                self._act(Action(end, "campaign.stop", {"id": row["id"]}))
        engine.run(until=lambda: not self.busy() or engine.clock.seconds >= end + self.scn.drain)
        ticks = engine.stats.status()
        engine.close()
        return self.report(ticks)

    def report(self, ticks: dict) -> dict:
        db = open_readonly(self.paths.db)
        rows = {r["id"]: r for r in db["calls"].rows}
        recs = {r["call_id"]: r for r in db["recordings"].rows}
        voicemails = {r["call_id"]: r for r in db["voicemails"].rows}
        callbacks = {r["call_id"]: r for r in db["callbacks"].rows}
        skills = {a.id: a.skills for a in self.scn.agents}
        skill_of = {q.name: q.skill for q in self.scn.queues}
        epoch = self.engine.started_at
        rel = lambda t: None if t is None else round(t - epoch, 3)  # noqa: E731
        calls = []
        for caller in self.sim_callers:
            call_id = self.call_of.get(id(caller))
            row = rows.get(call_id, {})
            rec = recs.get(call_id)
            agent_id, queue = row.get("agent_id"), row.get("queue")
            skill = skill_of.get(queue) if queue is not None else None
            skill_level = skills.get(agent_id, {}).get(skill) if agent_id is not None and skill is not None else None
            calls.append({
                "call_id": call_id, "number": caller.number, "arrival": round(self.lines.arrival(caller), 3),
                # The calling and the called number as the box recorded them from the trunk's signalling.
                "ani": row.get("number"), "dnis": self.dnis_of.get(call_id) if call_id else None,
                "answer": rel(row.get("answered_at")), "ivr_path": json.loads(row["path"]) if row.get("path") else [],
                "digits_pressed": caller.pressed, "digits_detected": row.get("digits") or "",
                "queue": row.get("queue"), "wait": row.get("wait"), "agent": row.get("agent_id"),
                "talk": row.get("talk"), "end": rel(row.get("ended_at")),
                "disposition": row.get("disposition") or ("busy" if caller.ended_by == "busy" else None),
                "hangup_by": row.get("hangup_by"),
                "recording": rec["path"] if rec else None, "recording_s": rec["duration"] if rec else None,
                "priority": row.get("priority") or 0,
                "skill_level": skill_level,
                "hold": row.get("hold"), "transfers": row.get("transfers"), "wrapup_code": row.get("wrapup_code"),
                "voicemail": voicemails[call_id]["path"] if call_id in voicemails else None,
                "callback": callbacks[call_id]["state"] if call_id in callbacks else None,
                # What the simulated caller lived through, to check the box's record against.
                "caller": {"answered": caller.answered is not None, "connected": caller.connected is not None,
                           "ended_by": caller.ended_by},
                # When the caller left, by the simulated network's clock (the sim board: as `end`), to
                # see how long the box took to notice.
                "hung_up": None if caller.ended is None else round(caller.ended, 3)})
        answered = [c for c in calls if c["disposition"] == "answered"]
        per_agent = {}
        for a in self.scn.agents:
            mine = [c for c in answered if c["agent"] == a.id]
            per_agent[a.id] = {"calls": len(mine), "talk_s": round(sum(c["talk"] or 0 for c in mine), 1)}
        dispositions: dict[str, int] = {}
        for c in calls:
            dispositions[str(c["disposition"])] = dispositions.get(str(c["disposition"]), 0) + 1
        queues = kpi.queue_stats(db)
        offered = sum(q["offered"] for q in queues.values())
        answered_entries = sum(q["answered"] for q in queues.values())
        in_sl = sum(q["answered_in_sl"] for q in queues.values())
        counted = offered - sum(q["short_abandoned"] for q in queues.values())
        return {
            "scenario": str(self.scn.path), "seconds": self.scn.seconds, "seed": self.scn.seed,
            "calls": calls, "agents": per_agent, "queues": queues, "ivr_nodes": kpi.ivr_node_stats(db),
            "totals": {"calls": len(calls), "queued": sum(1 for c in calls if c["queue"]), "answered": len(answered),
                       "dispositions": dispositions,
                       # firmware/callcenter/kpi.py: answered within 20 s of entering a queue / entries offered
                       # less short abandons (docs/kpi.md).
                       "service_level": round(in_sl / counted, 4) if counted else None,
                       "asa_s": round(sum(q["asa_s"] * q["answered"] for q in queues.values() if q["answered"])
                                      / answered_entries, 2) if answered_entries else None,
                       "digits_pressed": sum(len(c["digits_pressed"]) for c in calls),
                       "digits_detected": sum(len(c["digits_detected"]) for c in calls)},
            "actions": self.action_results,
            "campaigns": {c["id"]: {**c, "contacts": list(db["campaign_contacts"].rows_where(
                "campaign_id = ?", [c["id"]], order_by="id"))} for c in db["campaigns"].rows},
            "ticks": ticks, "database": str(self.paths.db), "recordings": str(self.paths.recordings),
            "queue_log": str(self.paths.queue_log),
        }


def run_scenario(path: str | Path, state_dir: str | Path | None = None, fast: bool = True,
                 control: bool = False) -> dict:
    scn = load_scenario(path)
    if state_dir is None:
        state_dir = tempfile.mkdtemp(prefix="branchline-scenario-")
    # A fixed epoch in fast mode makes a run's records identical from run to run.
    epoch = SCENARIO_EPOCH + scn.seed * 86400.0 if fast else None
    return ScenarioRun(scn, Path(state_dir), clock="fast" if fast else "paced", control=control,
                       epoch=epoch).run()


__all__ = ["ConfigError", "Scenario", "load_scenario", "run_scenario", "ScenarioRun", "generate_callers"]
