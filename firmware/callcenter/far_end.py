"""Disconnect supervision: telling from an answered line's audio that its far end has hung up.

Many exchanges and PBXs (most analog lines in China among them) give no line signal when the far end
hangs up on an answered call: no loop-current drop, no polarity reversal, only their busy or
congestion tone on the line, and after a while silence. The box hears those tones with its call-
progress detector, run with `repeat` (dsp/tones.py), and ends the call as the far end's hang-up once
the tone has held for `[box] hangup_tone_cycles` whole cadence periods: speech, music on hold and the
echo of the box's own prompts never hold a plan tone's frequency, purity and on/off times that long
(docs/standards.md §3.5). A line silent for `[box] hangup_silence_s` is the last resort.
Drivers whose hardware reports the hang-up (a modem's <DLE>b / loop-current drop, an E1 clear-back)
send a clear event instead, handled with every other clear.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from firmware.callcenter.calls import Call, CallState
from firmware.core.application import Services

if TYPE_CHECKING:
    from firmware.callcenter.center import CallCenter
    from firmware.core.timers import Timer

log = logging.getLogger(__name__)

# The tones an exchange plays to the party left on a call the other has cleared (ITU-T Q.35: busy
# tone, or congestion where the exchange treats the held circuit as unavailable).
HANGUP_TONES = frozenset(("busy", "congestion"))
# Answered calls on which the caller is expected to make a sound now and then: in the IVR and talking
# to an agent. A caller waiting in a queue or on hold listens to music and is silent for minutes; the
# queue's max_wait bounds that wait instead.
SILENCE_STATES = frozenset((CallState.IVR, CallState.CONNECTED))
# The states of a call whose line is answered (a ringing or dialling line carries progress tones the
# legs hear instead).
ANSWERED_STATES = frozenset((CallState.IVR, CallState.QUEUED, CallState.RINGING_AGENT, CallState.CONNECTED))


class FarEnd:
    """Watches every answered trunk for its far end's hang-up by tone or silence."""

    def __init__(self, svc: Services, center: "CallCenter"):
        self.svc, self.center = svc, center
        self._silent_since: dict[int, float] = {}   # trunk -> when its receive audio went quiet
        self._timers: dict[int, Timer] = {}         # trunk -> silence check

    def on_tone(self, channel: int, tone: str, cycles: int) -> bool:
        """A call-progress tone heard on `channel` (`cycles` whole periods in a row); True if it ended
        the call or leg on the line as hung up by the far end."""
        wanted = self.center.site.hangup_tone_cycles
        if tone not in HANGUP_TONES or not wanted or cycles < wanted:
            return False
        why = f"{tone} tone"
        leg = self.center.legs.active.get(channel)
        if leg is not None:
            return self._counted(channel, self.center.legs.far_end_gone(leg, why))
        call = self.center.calls.get(channel)
        if call is None or call.state not in ANSWERED_STATES:
            return False
        call.event("call:far_end_gone", why=why, cycles=cycles)
        log.info("call %s on %s: the far end hung up (%s, %d periods)", call.id, call.line_name, why, cycles)
        self.center.far_end_gone(call)
        return self._counted(channel, True)

    def _counted(self, channel: int, ended: bool) -> bool:
        """Count a call or leg ended on the far end's tone or silence on the line (the lines page)."""
        if ended:
            self.center.far_end_clears[channel] += 1
        return ended

    def on_voice(self, channel: int, active: bool) -> None:
        """The line's receive audio went from silence to sound (`active`) or back."""
        if active:
            self._silent_since.pop(channel, None)
            self._cancel(channel)
        else:
            self.quiet_from(channel, self.svc.clock.time())

    def quiet_from(self, channel: int, since: float) -> None:
        """`channel` has been silent since `since` (a new call: its detectors start in silence)."""
        limit = self.center.site.hangup_silence_s
        self._silent_since[channel] = since
        self._cancel(channel)
        if limit:
            self._timers[channel] = self.svc.later(max(0.0, since + limit - self.svc.clock.time()),
                                                   self._check, channel)

    def _cancel(self, channel: int) -> None:
        timer = self._timers.pop(channel, None)
        if timer is not None:
            timer.cancel()

    def _check(self, channel: int) -> None:
        self._timers.pop(channel, None)
        limit = self.center.site.hangup_silence_s
        since = self._silent_since.get(channel)
        call = self.center.calls.get(channel)
        if since is None or not limit or call is None or call.state == CallState.ENDED:
            self._silent_since.pop(channel, None)
            return
        now = self.svc.clock.time()
        on_hold = call.conversation is not None and call.conversation.caller_on_hold()
        if call.state not in SILENCE_STATES or on_hold:
            self._timers[channel] = self.svc.later(limit, self._check, channel)
            return
        # Silence counts from when the caller was last expected to speak: the answer, or the agent.
        start = max(since, call.connected_at or call.answered_at or since)
        if now - start < limit:
            self._timers[channel] = self.svc.later(start + limit - now, self._check, channel)
            return
        log.info("call %s on %s: the far end hung up (silent for %.0f s)", call.id, call.line_name, now - start)
        leg = self.center.legs.active.get(channel)
        if leg is not None:
            self._counted(channel, self.center.legs.far_end_gone(leg, "silence"))
        else:
            call.event("call:far_end_gone", why="silence", seconds=round(now - start, 1))
            self.center.far_end_gone(call)
            self._counted(channel, True)

    def call_ended(self, call: Call) -> None:
        if call.channel is not None:
            self._silent_since.pop(call.channel, None)
            self._cancel(call.channel)
