"""Site settings (config/site.toml): the box's identity, queues and agents, read and checked at load."""
from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from .config import ConfigError, Section, read_file

BOARD_DIR = Path(__file__).resolve().parent.parent / "board"
DEFAULTS_DIR = BOARD_DIR / "defaults"
STRATEGIES = ("longest_idle",)


@dataclass
class QueueConfig:
    name: str
    strategy: str = "longest_idle"
    ring_timeout: float = 15.0
    wrapup: float = 5.0
    max_wait: float = 600.0


@dataclass
class AgentConfig:
    id: str
    name: str
    station: str
    queues: list[str] = field(default_factory=list)


@dataclass
class SiteConfig:
    box_id: str = "branch-001"
    language: str = "en"
    flow: str = "main"
    answer_rings: int = 1
    queues: list[QueueConfig] = field(default_factory=list)
    agents: list[AgentConfig] = field(default_factory=list)


def read_queue(sec: Section) -> QueueConfig:
    q = QueueConfig(
        name=sec.get_str("name"),
        strategy=sec.get_str("strategy", "longest_idle", choices=STRATEGIES),
        ring_timeout=sec.get_float("ring_timeout", 15.0, 3.0, 120.0),
        wrapup=sec.get_float("wrapup", 5.0, 0.0, 600.0),
        max_wait=sec.get_float("max_wait", 600.0, 10.0, 7200.0),
    )
    sec.done()
    return q


def read_site(path: str | Path) -> SiteConfig:
    top = read_file(path)
    box = top.get_table("box", {})
    site = SiteConfig(
        box_id=box.get_str("id", "branch-001"),
        language=box.get_str("language", "en"),
        flow=box.get_str("flow", "main"),
        answer_rings=box.get_int("answer_rings", 1, 1, 10),
    )
    box.done()
    site.queues = [read_queue(s) for s in top.get_tables("queue")]
    names = [q.name for q in site.queues]
    if len(set(names)) != len(names):
        raise top.error("queue", f"queue names repeat: {names}")
    for sec in top.get_tables("agent"):
        agent = AgentConfig(sec.get_str("id"), sec.get_str("name", ""), sec.get_str("station"),
                            sec.get_list("queues", []))
        for q in agent.queues:
            if q not in names:
                raise sec.error("queues", f"no queue named {q!r} (queues: {', '.join(names)})")
        sec.done()
        site.agents.append(agent)
    ids = [a.id for a in site.agents]
    if len(set(ids)) != len(ids):
        raise top.error("agent", f"agent ids repeat: {ids}")
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


__all__ = ["ConfigError", "SiteConfig", "QueueConfig", "AgentConfig", "read_site", "read_queue",
           "ensure_config", "BOARD_DIR"]
