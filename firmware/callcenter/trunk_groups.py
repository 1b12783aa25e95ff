"""Trunks shared fairly between groups (seed 004 §7: several departments or companies renting one box):
which group a call belongs to, and whether a group may hold one more trunk now.

A group's `guaranteed` trunks are its own whenever it asks; while it does not use them they are lent
to the others, and taken back only as the borrowers' calls end, never by cutting a call. No group
ever holds more than its `cap`. The policy decides only; whoever seizes or admits a trunk asks it
first (docs/architecture.md §24).
"""
from __future__ import annotations

from typing import Callable, Mapping

from firmware.callcenter.settings import TrunkGroupConfig

IN, OUT = "in", "out"
# A group refused a trunk it is owed keeps its claim this long, so that the next trunk freed goes to
# it and not to a borrower: long enough for whoever asked to ask again (a waiting callback asks at
# each trunk freed, callbacks.py), short enough that a claim nobody renews does not hold trunks idle.
CLAIM_S = 60.0
# Calls of no group: they have no share of their own and borrow what the groups lend.
NO_GROUP = ""


class TrunkGroupError(Exception):
    """A trunk group that does not exist or does not fit."""


# (trunks held per group name (NO_GROUP for calls of none), trunks free now)
Usage = Callable[[], tuple[Mapping[str, int], int]]


class TrunkGroups:
    """The groups of the site, and who may take the next trunk."""

    def __init__(self, groups: list[TrunkGroupConfig], usage: Usage, now: Callable[[], float]):
        """`usage`: what the trunks carry now (the call center counts its calls and dialled legs);
        `now`: the clock."""
        self._usage, self._now = usage, now
        self.groups: dict[str, TrunkGroupConfig] = {}
        self._claims: dict[str, float] = {}          # group -> when its claim lapses
        self.refused: dict[str, int] = {}            # group -> seizures and calls refused since start
        self.reconfigure(groups)

    def reconfigure(self, groups: list[TrunkGroupConfig]) -> None:
        """New settings (site.reload): calls in progress keep their trunks whatever the new caps say;
        only the next seizure is judged by them."""
        self.groups = {g.name: g for g in groups}
        self._claims = {g: t for g, t in self._claims.items() if g in self.groups}

    def group_for(self, line: str | None = None, number: str | None = None, queue: str | None = None) -> str:
        """The group of a call on `line`, to the dialled `number`, or in `queue`; NO_GROUP if none.
        The line and the number decide first: they are known when the call rings."""
        for g in self.groups.values():
            if (line and line in g.lines) or (number and number in g.numbers):
                return g.name
        for g in self.groups.values():
            if queue and queue in g.queues:
                return g.name
        return NO_GROUP

    def order(self, group: str, trunks: list[tuple[int, str]]) -> list[int]:
        """The trunks (channel, name) to try for a seizure of `group`: its own lines first, then lines
        of no group, another group's lines last, so that a borrower leaves the lines a lender's
        callers ring in on (an analog line's number is its line) free the longest."""
        own = self.groups[group].lines if group in self.groups else ()
        others = {line for g in self.groups.values() if g.name != group for line in g.lines}
        return [ch for ch, name in sorted(trunks, key=lambda t: (0 if t[1] in own else 2 if t[1] in others else 1))]

    def cfg(self, group: str) -> TrunkGroupConfig:
        try:
            return self.groups[group]
        except KeyError:
            raise TrunkGroupError(f"no trunk group {group!r} (groups: {', '.join(self.groups) or 'none'})") from None

    def may_seize(self, group: str, direction: str) -> bool:
        """May `group` hold one more trunk now? `direction` IN: a call that came in on a trunk it
        already holds (only the cap refuses it: incoming never waits for outbound); OUT: a trunk to
        seize for dialling (callbacks, agents' calls out, campaigns), which also needs a free trunk
        that no group with a claim on its guaranteed share is owed."""
        held, free = self._usage()
        now = self._now()
        self._claims = {g: t for g, t in self._claims.items() if t > now}
        g = self.groups.get(group)
        mine = held.get(group, 0)
        if g is not None and mine >= g.cap:
            return self._refuse(group)
        if direction == IN:
            return True
        if free <= 0:
            if g is not None and mine < g.guaranteed:
                self._claims[group] = now + CLAIM_S
            return self._refuse(group)
        if g is not None and mine < g.guaranteed:
            self._claims.pop(group, None)
            return True
        # Borrowing: only what no claiming group is owed of its guaranteed share.
        owed = sum(max(0, self.groups[c].guaranteed - held.get(c, 0)) for c in self._claims if c != group)
        if free <= owed:
            return self._refuse(group)
        return True

    def _refuse(self, group: str) -> bool:
        self.refused[group] = self.refused.get(group, 0) + 1
        return False

    def status(self) -> list[dict]:
        """Per group: trunks in use, guaranteed, cap, borrowed (in use above its guaranteed share),
        whether it has a claim waiting and what was refused; then the calls of no group."""
        held, _ = self._usage()
        out = []
        for g in self.groups.values():
            mine = held.get(g.name, 0)
            out.append({"name": g.name, "in_use": mine, "guaranteed": g.guaranteed, "cap": g.cap,
                        "borrowed": max(0, mine - g.guaranteed), "claim": g.name in self._claims,
                        "refused": self.refused.get(g.name, 0)})
        if self.groups:
            mine = held.get(NO_GROUP, 0)
            out.append({"name": NO_GROUP, "in_use": mine, "guaranteed": 0, "cap": None, "borrowed": mine,
                        "claim": False, "refused": self.refused.get(NO_GROUP, 0)})
        return out
