"""The call center's settings: queues, agents, supervisors and the site, as read and checked from
site.toml by firmware/config/site.py (the config layer builds them; the call center only uses them)."""
from __future__ import annotations

from dataclasses import dataclass, field

from dsp.tones import TonePlan


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

    def __post_init__(self) -> None:
        self.skill = self.skill or self.name


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


@dataclass
class SiteConfig:
    box_id: str = "branch-001"
    language: str = "en"
    flow: str = "main"
    answer_rings: int = 1
    # Where a number without a country code is dialled (ISO 3166 alpha-2): customer cards and
    # caller ID meet as E.164 (firmware/store/phones.py).
    region: str = "CN"
    # The network's call-progress tones: given by whoever builds the settings (config's read_site),
    # as the call center sits below the config layer and reads no files.
    tones: TonePlan = field(kw_only=True)
    queues: list[QueueConfig] = field(default_factory=list)
    agents: list[AgentConfig] = field(default_factory=list)
    supervisors: list[SupervisorConfig] = field(default_factory=list)
