"""The queue journal in Asterisk's queue_log grammar, so existing queue reporting tools can read it.

Each line is `epoch|callid|queue|agent|EVENT|data...` (docs/standards.md §20.2); one file per
local day under `<state>/queue_log/`.
"""
from __future__ import annotations

import time

from firmware.core.clock import TickClock
from firmware.core.journal import Journal


def _fmt(value) -> str:
    if isinstance(value, float):
        return str(int(round(value)))
    return "" if value is None else str(value).replace("|", "/")


def day_of(epoch: float) -> str:
    """The local day whose journal file a line at `epoch` goes to."""
    return time.strftime("%Y-%m-%d", time.localtime(epoch))


def format_line(epoch: float, callid: str, queue: str, agent: str, event: str, *data) -> tuple[str, str]:
    """(local day, line): the journal file a line goes to and the line."""
    day = day_of(epoch)
    fields = [str(int(epoch)), callid, queue or "NONE", agent or "NONE", event, *map(_fmt, data)]
    return day, "|".join(fields)


def parse_line(line: str) -> tuple[int, str, str, str, str, list[str]] | None:
    """(epoch, callid, queue, agent, event, data) of a journal line; None for a line cut short."""
    # The journal is not synced line by line: a power cut may keep a later block and lose an earlier
    # one, which reads back as zeros (NUL) in front of the next whole line. No line holds a NUL.
    fields = line.rstrip("\n").lstrip("\x00").split("|")
    if len(fields) < 5 or not fields[0].isdigit():
        return None
    return int(fields[0]), fields[1], fields[2], fields[3], fields[4], fields[5:]


class QueueLog:
    """An engine observer turning call and agent events into queue_log lines."""

    def __init__(self, clock: TickClock, journal: Journal):
        self.clock, self.journal = clock, journal

    def _line(self, callid: str, queue: str, agent: str, event: str, *data) -> None:
        self.journal.write(*format_line(self.clock.time(), callid, queue, agent, event, *data))

    def __call__(self, name: str, data: dict) -> None:
        handler = getattr(self, "_on_" + name.replace(":", "_"), None)
        if handler is not None:
            handler(data)

    # --- caller events ------------------------------------------------------------------------
    def _on_queue_enter(self, d):
        c = d["call"]
        self._line(c.id, d["queue"], "", "ENTERQUEUE", "", c.number or "", d["position"])

    def _on_queue_connect(self, d):
        c = d["call"]
        self._line(c.id, d["queue"], d["agent"], "CONNECT", d["wait"], c.id, d["ring_s"])

    def _on_queue_abandon(self, d):
        c = d["call"]
        if c.ringing:
            for agent in c.ringing:
                self._line(c.id, d["queue"], agent.id, "RINGCANCELED")
        self._line(c.id, d["queue"], "", "ABANDON", d["position"], c.queue_position, d["wait"])

    def _on_queue_timeout(self, d):
        c = d["call"]
        self._line(c.id, d["queue"], "", "EXITWITHTIMEOUT", d["position"], c.queue_position, d["wait"])

    def _on_queue_exitkey(self, d):
        c = d["call"]
        self._line(c.id, d["queue"], "", "EXITWITHKEY", d["digit"], d["position"], c.queue_position, d["wait"])

    def _on_agent_noanswer(self, d):
        c = d["call"]
        self._line(c.id, c.queue, d["agent"], "RINGNOANSWER", d["ring_ms"])

    def _on_call_transfer(self, d):
        c = d["call"]
        self._line(c.id, c.queue, d["agent"], "BLINDTRANSFER" if d["blind"] else "ATTENDEDTRANSFER",
                   d["to"], "", round(c.wait_seconds(self.clock.time()) or 0), d["talk"], c.queue_position)

    def _on_call_hangup(self, d):
        c = d["call"]
        if c.direction != "inbound" or c.connected_at is None or c.queue is None or c.agent is None:
            return
        event = "COMPLETEAGENT" if d["by"] in ("agent", "supervisor") else "COMPLETECALLER"
        self._line(c.id, c.queue, c.agent.id, event, c.connected_at - c.queued_at,
                   self.clock.time() - c.connected_at, c.queue_position)

    # --- agent events -------------------------------------------------------------------------
    def _agent_lines(self, agent, event: str, *data) -> None:
        for q in agent.status()["queues"]:
            self._line("NONE", q, agent.id, event, *data)

    def _on_agent_not_ready(self, d):
        agent = d["agent"]
        if d["previous"] == "logged_out":
            self._agent_lines(agent, "ADDMEMBER")
        self._agent_lines(agent, "PAUSE", d["reason"] or "")

    def _on_agent_ready(self, d):
        if d["previous"] == "not_ready":
            self._agent_lines(d["agent"], "UNPAUSE", "")

    def _on_agent_logged_out(self, d):
        self._agent_lines(d["agent"], "REMOVEMEMBER")
