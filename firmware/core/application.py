"""The narrow interface between the tick loop and the application it drives (the call center).

The loop owns the board, the clock, the timers, the detectors, the media plan, the recorder and the
store; it tells the application what happened on the lines (`Application`) and lends it only the
services it uses (`Services`). Nothing in the application reaches into the loop, and nothing in the
loop knows what a call or an agent is: the application can be run against fakes of these services.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Protocol

if TYPE_CHECKING:
    import numpy as np

    from drivers.channel import ChannelEvent, LineView
    from dsp.callerid import CallerIdMessage
    from dsp.tones import TonePlan
    from firmware.core.clock import TickClock
    from firmware.core.events import EventBus
    from firmware.core.media import MediaPlan
    from firmware.core.prompts import PromptSet
    from firmware.core.recorder import Finished, Recorder
    from firmware.core.timers import Timer


class ServicesError(Exception):
    """The application asked for a service the box that built its Services does not lend."""


class RecordSink(Protocol):
    """Where records go: the store's one writer thread (firmware/store/writer.py) behind a hand-off that
    never blocks the loop. Core sees only this, so the store stays a layer above it."""

    def insert(self, table: str, row: dict) -> None: ...

    def upsert(self, table: str, row: dict) -> None: ...

    def update(self, table: str, pk: str, changes: dict) -> None: ...

    def pump(self) -> None:
        """Move what the loop handed off this tick towards the writer (once a tick, never waits)."""

    def status(self) -> dict: ...

    def close(self) -> None: ...


class Application(Protocol):
    """What the loop drives, in tick order: channel events, then detector events, then timers and
    commands, then the tick's audio (after mixing), then the recordings finished."""

    def on_channel_event(self, ev: "ChannelEvent") -> None:
        """A driver's event on a line (ring, answer, clear, caller ID, alarm ...)."""

    def on_digit(self, channel: int, digit: str) -> None:
        """A DTMF digit heard on a trunk."""

    def on_caller_id(self, channel: int, message: "CallerIdMessage") -> None:
        """A caller ID burst decoded on a trunk (valid or not)."""

    def on_progress(self, channel: int, tone: str, cycles: int) -> None:
        """A call-progress tone (busy, congestion, SIT ...) heard on a trunk; a cadenced tone again after
        each further whole period, `cycles` counting them (dsp.tones.ToneEvent)."""

    def on_voice(self, channel: int, active: bool) -> None:
        """A trunk's receive audio went from silence to sound (`active`) or back (dsp.energy's VAD)."""

    def on_fax(self, channel: int, tone: str) -> None:
        """A fax tone heard on a trunk: 'cng', 'ced', or 'v21' (flags, on a line screen() armed)."""

    def on_amd(self, channel: int, result: str, cause: str) -> None:
        """What answered a number dialled on the trunk, on a line screen() armed (dsp.amd.AmdEvent):
        'human', 'machine', 'unsure', then after 'machine' 'beep' or 'no_beep'."""

    def on_audio(self, rx: "np.ndarray", tx: "np.ndarray", levels: "np.ndarray") -> None:
        """The tick's audio as heard (rx) and as sent (tx), and each channel's level."""

    def on_recording(self, finished: "Finished") -> None:
        """A recording the recorder has closed and written."""

    def line_freed(self) -> None:
        """A line is free again without a call having ended (a line test done, an alarm cleared)."""

    def line_in_use(self, channel: int) -> str | None:
        """Why the line cannot be taken for a line test now, or None."""

    def line_status(self, channel: int) -> dict:
        """The application's part of a line's status (state, call, counters)."""

    def fault(self, exc: Exception, channel: int | None, subject: "Timer | None" = None) -> None:
        """A handler or a timer (`subject`) failed: end what it belonged to, never the loop."""

    def commands(self) -> dict[str, Callable[..., dict]]:
        """The control commands the application answers, by name."""

    def preparers(self) -> dict[str, Callable[[dict], dict]]:
        """Work a command needs done off the loop thread first (reading a file), by command name."""

    def status(self) -> dict:
        """The application's part of the box status."""

    def close(self) -> None:
        """The box stops: end what is open."""


class Services:
    """What the application may use of the box: time, ids, events, records, lines, media, recorder."""

    def __init__(self, clock: "TickClock", later: Callable[..., "Timer"], new_id: Callable[[], str],
                 emit: Callable[..., None], records: RecordSink, lines: "LineView", media: "MediaPlan",
                 recorder: "Recorder", prompts: "PromptSet", alarms: dict[int, str], testing: Callable[[int], bool],
                 hear_anew: Callable[[int], None], caller_id_arriving: Callable[[int], bool],
                 observe: Callable[[Callable[[str, dict], None]], None],
                 retune: Callable[["TonePlan"], None] | None = None, events: "EventBus | None" = None,
                 screen: Callable[[int], None] | None = None):
        self.clock = clock
        self.later = later          # later(seconds, fn, *args) -> Timer, on the loop's clock
        self.new_id = new_id        # a record id unique across restarts and boxes
        self.emit = emit            # emit("area:action", **data) to the observers
        self.observe = observe      # observe(fn): fn(event, data) hears every event emitted
        self.records = records      # insert / update / upsert, written by the store's one writer
        self.lines = lines          # answer, hangup, dial, channel info
        self.media = media          # play, stop, connect and disconnect legs
        self.recorder = recorder
        self.prompts = prompts
        self.hear_anew = hear_anew  # a new call on the line: the detectors forget what came before it
        self.caller_id_arriving = caller_id_arriving   # a caller ID burst is arriving, not decoded yet
        self.events = events        # live events for the control socket's subscribers; None: not published
        self._alarms = alarms
        self._testing = testing
        self._retune = retune
        self._screen = screen

    def retune(self, plan: "TonePlan") -> None:
        """Hear the lines by another network's tone plan from the next tick (call progress, line tests)."""
        if self._retune is None:
            raise ServicesError(f"the box cannot change its tone plan to {plan.name} while it runs")
        self._retune(plan)

    def screen(self, channel: int) -> None:
        """The number dialled on the trunk answered: listen for what answered it (on_amd, on_fax 'v21')."""
        if self._screen is None:
            raise ServicesError("this box cannot tell what answered a number it dialled")
        self._screen(channel)

    def alarm(self, channel: int) -> str | None:
        """Why the line is in alarm, or None while it is in service."""
        return self._alarms.get(channel)

    def testing(self, channel: int) -> bool:
        """A technician's line test has the line."""
        return self._testing(channel)
