"""The call center's settings: queues, agents, supervisors and the site, as read and checked from
site.toml by firmware/config/site.py (the config layer builds them; the call center only uses them)."""
from __future__ import annotations

from dataclasses import dataclass, field

from dsp.tones import TonePlan

from firmware.callcenter.schedules import Schedule

# The site's `[reports]` defaults (firmware/config/site_keys.py REPORTS, which bounds them; docs/kpi.md).
# Service level: answered within this many seconds of entering the queue (docs/requirements.md R15).
SERVICE_LEVEL_S = 20
# The stock wrap-up codes and not-ready reasons, for settings built without a site file (the load test,
# the scenarios); firmware/config/site_keys.py has them with their labels, and the site file replaces
# them (tests/firmware/test_site_lists.py keeps the two equal).
STOCK_WRAPUP_CODES = ("resolved", "information", "sale", "complaint", "follow-up", "callback", "wrong-number")
STOCK_NOT_READY_REASONS = ("Break", "Lunch", "Meeting", "Training", "Coaching", "Back-office work")
# Short abandon: a caller who hangs up within this many seconds of entering the queue dialled wrongly or
# changed their mind, and counts neither for nor against the service level (callcentrehelper.com, formula 5).
SHORT_ABANDON_S = 5


@dataclass
class QueueConfig:
    name: str
    skill: str = ""                  # the skill an agent needs; default: the queue's name
    min_level: int = 1
    strategy: str = "longest_idle"
    ring_timeout: float = 15.0
    wrapup: float = 5.0
    max_wait: float = 600.0
    max_waiting: int = 0             # callers allowed to wait at once; 0: no limit
    escalate: list[tuple[float, int]] = field(default_factory=list)   # (after s waiting, min level)
    dedicated_wait: float = 30.0     # s a VIP's dedicated agent is waited for before anyone else
    announce_every: float = 0.0      # s between position / wait announcements; 0: none
    recording: str = "all"
    # Where a caller goes when the queue is full (max_waiting) or they waited max_wait, unless the flow's
    # queue node says: "queue:<name>" (another queue, once), "node:<name>" (a node of the running flow,
    # such as voicemail), or "hangup" (after overflow_prompts); "" hangs up at once.
    on_full: str = ""
    on_timeout: str = ""
    overflow_prompts: list[str] = field(default_factory=list)
    announce: tuple[str, ...] = ("position", "wait")   # what the announcements say, in this order
    announce_prompts: list[str] = field(default_factory=list)   # said before them ("thanks for waiting")
    wrapup_codes: tuple[str, ...] = ()   # the queue's own wrap-up codes; empty: the box's ([box] wrapup_codes)
    # The queue's post-call survey: a flow file beside the main flow, offered to its agents as a
    # transfer target ("survey:<name>"); with survey_after, the caller stays on for it when the agent
    # hangs up first.
    survey: str = ""
    survey_after: bool = False

    def __post_init__(self) -> None:
        self.skill = self.skill or self.name


@dataclass
class TrunkGroupConfig:
    """A group sharing the box's trunks (seed 004 §7: several departments or companies renting one
    box): its calls are those on its `lines` (an analog line's own number is its line), to its
    dialled `numbers` (the DNIS an E1 trunk signals) or in its `queues`. Up to `guaranteed` trunks are
    its own whenever it needs them; it never holds more than `cap`. A call over the cap gets `overflow`
    (as a queue's on_full: "node:<name>", "hangup" after overflow_prompts, "" hang up at once)."""
    name: str
    lines: tuple[str, ...] = ()
    numbers: tuple[str, ...] = ()
    queues: tuple[str, ...] = ()
    guaranteed: int = 0
    cap: int = 0
    overflow: str = ""
    overflow_prompts: list[str] = field(default_factory=list)


@dataclass
class AgentConfig:
    id: str
    name: str
    station: str | None              # the agent's own station channel; None for a remote agent
    skills: dict[str, int] = field(default_factory=dict)
    phone: str | None = None         # a remote agent's number, dialled on a free trunk to reach them
    origin: str = ""                 # "<file>: agent[i].station", for errors found once the board is known


@dataclass
class SupervisorConfig:
    id: str
    name: str
    station: str


# Rings to let pass before answering, by how the exchange sends caller ID (docs/standards.md, caller
# ID): Bell 202 FSK comes between the first and second ring (Telcordia GR-30), so the box answers on
# the second; V.23 after DT-AS (ETSI EN 300 659-1) and DTMF bursts come before the first ring.
RINGS_FOR_CALLER_ID = {"bell202": 2}


@dataclass
class SiteConfig:
    box_id: str = "branch-001"
    language: str = "en"
    flow: str = "main"
    answer_rings: int = 1
    callerid: str = ""               # how the exchange sends caller ID ("": not said; answer_rings decides)
    # Where a number without a country code is dialled (ISO 3166 alpha-2): customer cards and
    # caller ID meet as E.164 (firmware/store/phones.py).
    region: str = "CN"
    # Disconnect supervision (firmware/callcenter/far_end.py): whole periods of the plan's busy or
    # congestion tone on an answered call before its far end is taken as gone (0: never), and seconds
    # of silence that end it as the last resort (0: never).
    hangup_tone_cycles: int = 3
    hangup_silence_s: float = 0.0
    # `[reports]`: one definition of the service level for the engine's live figures, the wallboard, the
    # reports and staffing.
    service_level_s: int = SERVICE_LEVEL_S
    short_abandon_s: int = SHORT_ABANDON_S
    # `[box] wrapup_codes`: the codes an agent may give a call (a queue may name its own); the reasons
    # for not ready the pages offer.
    wrapup_codes: tuple[str, ...] = STOCK_WRAPUP_CODES
    not_ready_reasons: tuple[str, ...] = STOCK_NOT_READY_REASONS

    def codes_of(self, queue: str | None) -> tuple[str, ...]:
        """The wrap-up codes of a call of `queue` (None: a call that met no queue): the queue's own, or the box's."""
        own = next((q.wrapup_codes for q in self.queues if q.name == queue), ())
        return own or self.wrapup_codes
    # Outbound campaigns (firmware/callcenter/dialer.py, `[outbound]`): trunks always left idle for
    # incoming calls (the dialer seizes one only while more than this many are idle), and the calls all
    # campaigns together may have at once.
    outbound_reserved: int = 1
    outbound_max_lines: int = 2
    # The network's call-progress tones: given by whoever builds the settings (config's read_site),
    # as the call center sits below the config layer and reads no files.
    tones: TonePlan = field(kw_only=True)
    queues: list[QueueConfig] = field(default_factory=list)
    agents: list[AgentConfig] = field(default_factory=list)
    supervisors: list[SupervisorConfig] = field(default_factory=list)
    schedules: dict[str, Schedule] = field(default_factory=dict)   # by name, for the flows' hours nodes
    trunk_groups: list[TrunkGroupConfig] = field(default_factory=list)

    @property
    def rings(self) -> int:
        """Rings before answering: as set, and at least what the caller-ID scheme needs to be heard."""
        return max(self.answer_rings, RINGS_FOR_CALLER_ID.get(self.callerid, 1))
