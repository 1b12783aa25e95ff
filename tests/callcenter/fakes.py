"""Fakes of the services the call center is lent (firmware/core/application.py): a clock moved by
hand, the real timer heap, records kept in dicts, lines and media that note what they were told.
No board, no engine, no threads, no SQLite: a domain test runs in milliseconds."""
from __future__ import annotations

import itertools
from collections import defaultdict

import numpy as np

from drivers.channel import ChannelInfo, ChannelKind
from firmware.callcenter.say import Say
from firmware.core.application import Services
from firmware.core.timers import Timers

EPOCH = 1_780_000_000.0
# The fake board has 4 trunks, then the stations: station1 is channel 4.
FIRST_STATION = 4
# A flow that puts every caller straight into the sales queue.
SALES_FLOW = """
[flow]
start = "sales"
[nodes.sales]
type = "queue"
queue = "sales"
"""


class FakeClock:
    mode = "fake"

    def __init__(self):
        self.seconds = 0.0

    def time(self) -> float:
        return EPOCH + self.seconds


class FakeRecords:
    """The store's record sink: rows by table and id, updates merged in."""

    def __init__(self):
        self.tables: dict[str, dict[str, dict]] = defaultdict(dict)

    def insert(self, table: str, row: dict) -> None:
        self.tables[table][row["id"]] = dict(row)

    def upsert(self, table: str, row: dict) -> None:
        self.tables[table].setdefault(row["id"], {}).update(row)

    def update(self, table: str, row_id: str, changes: dict) -> None:
        self.tables[table].setdefault(row_id, {"id": row_id}).update(changes)


class FakeLines:
    """Trunks then stations; records what the call center asked of each line."""
    answer_rings = 1

    def __init__(self, trunks: int = 4, stations: int = 4):
        self.channels = [ChannelInfo(i, f"trunk{i + 1}", ChannelKind.TRUNK, "fake", "") for i in range(trunks)]
        self.channels += [ChannelInfo(trunks + i, f"station{i + 1}", ChannelKind.STATION, "fake", "")
                          for i in range(stations)]
        self.ringing: set[int] = set()     # stations rung, trunks dialled, not hung up since
        self.dialled: list[tuple[int, str | None]] = []
        self.answered: list[int] = []

    def __len__(self) -> int:
        return len(self.channels)

    def by_kind(self, kind: ChannelKind) -> list[ChannelInfo]:
        return [c for c in self.channels if c.kind == kind]

    def dial(self, channel: int, number: str | None = None) -> None:
        self.ringing.add(channel)
        self.dialled.append((channel, number))

    def hangup(self, channel: int) -> None:
        self.ringing.discard(channel)

    def answer(self, channel: int) -> None:
        self.answered.append(channel)


class FakeMedia:
    """Prompts playing per channel; a test finishes one with `done(channel)`."""

    def __init__(self):
        self.players: dict[int, tuple[object, bool, object]] = {}
        self.played: list[tuple[int, object]] = []
        self.legs: set[tuple[int, int]] = set()

    def play(self, channel, samples, loop=False, on_done=None) -> None:
        self.players[channel] = (samples, loop, on_done)
        self.played.append((channel, samples))

    def stop(self, channel) -> bool:
        return self.players.pop(channel, None) is not None

    def playing(self, channel) -> bool:
        return channel in self.players

    def done(self, channel) -> None:
        _, _, on_done = self.players.pop(channel)
        if on_done is not None:
            on_done()

    def connect(self, dst, src, gain=1.0) -> None:
        self.legs.add((dst, src))

    def disconnect(self, channel) -> None:
        self.legs = {(d, s) for d, s in self.legs if channel not in (d, s)}


# The prompts a flow in these tests may name, beside those the spoken numbers use (Say.prompts()).
FLOW_PROMPTS = {"main-menu", "invalid", "no-input", "goodbye", "enter-number", "callback-confirm",
                "callback-thanks", "music-on-hold", "leave-message", "closed", "survey-rate", "survey-thanks"}


class FakePrompts:
    """The prompts of the language and FLOW_PROMPTS; each is as many samples as its name has letters,
    and `names_of(samples)` tells which prompts were put together."""
    directory = "fake"
    own = None

    def __init__(self, language: str = "en"):
        self._names = Say(language).prompts() | FLOW_PROMPTS
        self.joined: dict[int, list[str]] = {}

    def names(self) -> list[str]:
        return sorted(self._names)

    def __contains__(self, name: str) -> bool:
        return name in self._names

    def get(self, name: str) -> np.ndarray:
        return np.zeros(len(name), np.int16)

    def concat(self, names: list[str]) -> np.ndarray:
        samples = np.zeros(sum(len(n) for n in names), np.int16)
        self.joined[id(samples)] = list(names)
        return samples

    def names_of(self, samples) -> list[str]:
        return self.joined.get(id(samples), [])


class FakeRecorder:
    """Recordings opened and closed, by id."""

    def __init__(self):
        self.open_ids: dict[str, str] = {}
        self.closed: list[str] = []

    def open(self, rec_id: str, relpath: str) -> None:
        self.open_ids[rec_id] = relpath

    def close(self, rec_id: str) -> None:
        self.open_ids.pop(rec_id, None)
        self.closed.append(rec_id)

    def frames(self, ids, audio) -> None:
        pass


class FakeBox:
    """The services, and a way to let time pass: `advance(seconds)` runs the timers due on the way."""

    def __init__(self, trunks: int = 4, stations: int = 4):
        self.clock = FakeClock()
        self.timers = Timers()
        self.records = FakeRecords()
        self.lines = FakeLines(trunks, stations)
        self.media = FakeMedia()
        self.prompts = FakePrompts()
        self.recorder = FakeRecorder()
        self.events: list[tuple[str, dict]] = []
        self.alarms: dict[int, str] = {}
        self.tone_plans: list = []          # the plans the call center retuned the lines to
        self.screened: list = []            # the trunks it asked to hear what answered on
        self._ids = itertools.count(1)
        self.services = Services(self.clock, self.later, self.new_id, self.emit, self.records, self.lines,
                                 self.media, self.recorder, self.prompts, self.alarms, lambda ch: False,
                                 lambda ch: None, lambda ch: False, self._observers_append,
                                 retune=self.tone_plans.append, screen=self.screened.append)
        self._observers: list = []

    def _observers_append(self, fn) -> None:
        self._observers.append(fn)

    def later(self, seconds, fn, *args):
        return self.timers.at(self.clock.seconds + seconds, fn, *args)

    def new_id(self) -> str:
        return f"id{next(self._ids):04d}"

    def emit(self, event: str, /, **data) -> None:
        self.events.append((event, data))
        for fn in self._observers:
            fn(event, data)

    def advance(self, seconds: float, step: float = 0.02) -> None:
        """Let `seconds` pass tick by tick, running each timer at its time."""
        end = self.clock.seconds + seconds
        while self.clock.seconds < end - 1e-9:
            self.clock.seconds = min(end, self.clock.seconds + step)
            self.timers.run_due(self.clock.seconds)

    def named(self, prefix: str) -> list[dict]:
        return [d for e, d in self.events if e.startswith(prefix)]


def make_center(box: FakeBox, tmp_path, flow: str, queues=(), agents=(), supervisors=(), trunk_groups=(),
                site_options=None, **center_options):
    """A CallCenter over the fake services, running `flow` (TOML text); survey flows the queues name
    are read beside it (tmp_path/<name>.toml); `site_options`: more SiteConfig fields, `center_options`:
    more CallCenter arguments."""
    import textwrap

    from firmware.callcenter.center import CallCenter
    from firmware.callcenter.flows import load_flow
    from firmware.callcenter.settings import SiteConfig
    from firmware.config.tone_plans import DEFAULT_PLAN, load_plan

    path = tmp_path / "flow.toml"
    path.write_text(textwrap.dedent(flow))
    site = SiteConfig(queues=list(queues), agents=list(agents), supervisors=list(supervisors),
                      trunk_groups=list(trunk_groups), tones=load_plan(DEFAULT_PLAN), **(site_options or {}))
    loaded = load_flow(path, set(box.prompts.names()), {q.name for q in queues})
    return CallCenter(box.services, site, loaded, **center_options)
