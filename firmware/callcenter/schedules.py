"""Business hours and holidays: whether a schedule is open at a given local time. A schedule is named
in site.toml (`[[schedule]]`) for the flows' `hours` nodes to share (`schedule = "office"`), or written
into one `hours` node itself (its days, open, close and holidays)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from firmware.callcenter.flows import DAYS, Flow, Problem

from typed_toml import N_


@dataclass(frozen=True)
class Schedule:
    name: str
    days: tuple[str, ...] = DAYS[:5]
    open: str = "09:00"                    # HH:MM, local time, inclusive
    close: str = "18:00"                   # HH:MM, exclusive; after `open`
    holidays: tuple[str, ...] = field(default=())   # YYYY-MM-DD, closed all day

    def is_open(self, when: dt.datetime) -> bool:
        return (DAYS[when.weekday()] in self.days and self.open <= when.strftime("%H:%M") < self.close
                and when.strftime("%Y-%m-%d") not in self.holidays)


def schedule_problems(flow: Flow, names: set[str]) -> list[Problem]:
    """A problem for each `hours` node naming a schedule the site does not have."""
    return [Problem.of(node.name, "schedule", N_("no schedule named %(schedule)s in the site settings "
                                                 "(schedules: %(schedules)s)"),
                       {"schedule": repr(node.opts["schedule"]), "schedules": ", ".join(sorted(names)) or "none"})
            for node in flow.nodes.values()
            if node.type == "hours" and node.opts.get("schedule") and node.opts["schedule"] not in names]
