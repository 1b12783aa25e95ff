"""Named business hours and holidays (site.toml `[[schedule]]`; README, "Business hours") used by a
flow's `hours` node (`schedule = "office"`), over fake services: open and closed by the schedule, a
holiday added by a reload closes the next call's way in and leaves a waiting caller where they are;
an `hours` node with its own days and times works as before."""
from __future__ import annotations

import dataclasses
import datetime as dt

from drivers.channel import ChannelEvent, EventKind
from firmware.callcenter.calls import CallState
from firmware.callcenter.flows import DAYS
from firmware.callcenter.schedules import Schedule
from firmware.callcenter.settings import QueueConfig

from callcenter.fakes import EPOCH, FakeBox, make_center

TODAY = dt.datetime.fromtimestamp(EPOCH)          # the fake clock's start, in local time as the box reads it
FLOW = """
[flow]
start = "hours"
[nodes.hours]
type = "hours"
{hours}
next = "sales"
closed = "closed"
[nodes.sales]
type = "queue"
queue = "sales"
[nodes.closed]
type = "hangup"
prompts = ["closed"]
"""
ALL_DAY = Schedule("office", days=(DAYS[TODAY.weekday()],), open="00:00", close="23:59")


def desk(tmp_path, hours: str, schedules: dict[str, Schedule]):
    box = FakeBox(trunks=4, stations=1)
    center = make_center(box, tmp_path, FLOW.format(hours=hours), queues=[QueueConfig("sales")])
    center.site.schedules = schedules
    trunks = iter(range(4))

    def ring():
        trunk = next(trunks)
        center.on_channel_event(ChannelEvent(trunk, EventKind.RING))
        return center.calls[trunk]
    return center, ring


def test_an_hours_node_follows_the_named_schedule_and_a_holiday_reloaded_closes_the_next_call(tmp_path):
    center, ring = desk(tmp_path, 'schedule = "office"', {"office": ALL_DAY})
    waiting = ring()
    assert waiting.state == CallState.QUEUED
    holiday = dataclasses.replace(ALL_DAY, holidays=(TODAY.strftime("%Y-%m-%d"),))
    site = dataclasses.replace(center.site, schedules={"office": holiday})
    center.commands()["site.reload"](site=site, flow=None, restart=())
    later = ring()
    assert later.node == "closed" and waiting.state == CallState.QUEUED


def test_a_day_the_schedule_does_not_open_is_closed(tmp_path):
    other_days = tuple(d for d in DAYS if d != DAYS[TODAY.weekday()])
    _, ring = desk(tmp_path, 'schedule = "office"', {"office": dataclasses.replace(ALL_DAY, days=other_days)})
    assert ring().node == "closed"


def test_an_hours_node_with_its_own_days_and_times_works_as_before(tmp_path):
    today = DAYS[TODAY.weekday()]
    center, ring = desk(tmp_path, f'days = ["{today}"]\nopen = "00:00"\nclose = "23:59"', {})
    assert ring().state == CallState.QUEUED
    center.site.schedules = {"office": dataclasses.replace(ALL_DAY, days=())}   # not named: no effect
    assert ring().state == CallState.QUEUED
