"""E1 span alarms: the card's raw defects debounced into red, blue and yellow as DAHDI does (docs/e1-card.md §4)."""
# wct4xxp (DAHDI): LOS, LOF and AIS must last 2.5 s (AT&T TR 54016) before red or blue is raised, RAI
# 0.5 s before yellow; once red and blue are gone the span settles in RECOVER for
# DAHDI_ALARMSETTLE_TIME (5 s) before it carries calls again. Time is passed in, so tests run it on
# virtual time.

from __future__ import annotations

from dataclasses import dataclass

RED_DEFECTS = frozenset({"LOS", "LOF", "LMFA"})
BLUE_DEFECTS = frozenset({"AIS"})
YELLOW_DEFECTS = frozenset({"RAI"})
# docs/e1-card.md §4 (wct4xxp: alarm debounce 2500 ms, RAI 500 ms, DAHDI_ALARMSETTLE_TIME 5000 ms).
RED_BLUE_DEBOUNCE_S = 2.5
YELLOW_DEBOUNCE_S = 0.5
SETTLE_S = 5.0


@dataclass
class _Debounced:
    """One alarm: raised when its defects lasted `on_s`, cleared when they were gone for `off_s`."""
    on_s: float
    off_s: float
    active: bool = False
    since: float | None = None    # when the raw state last differed from `active`

    def update(self, raw: bool, now: float) -> None:
        if raw == self.active:
            self.since = None
            return
        if self.since is None:
            self.since = now
        if now - self.since >= (self.on_s if raw else self.off_s):
            self.active, self.since = raw, None


class SpanAlarms:
    """The debounced alarm state of one span, fed the raw defects and the time."""

    def __init__(self) -> None:
        # Red and blue clear as soon as their defect does: the RECOVER wait is the clearing debounce.
        self.red = _Debounced(RED_BLUE_DEBOUNCE_S, 0.0)
        self.blue = _Debounced(RED_BLUE_DEBOUNCE_S, 0.0)
        self.yellow = _Debounced(YELLOW_DEBOUNCE_S, YELLOW_DEBOUNCE_S)
        self.defects: frozenset[str] = frozenset()
        self._recover_until: float | None = None
        self._was_red_or_blue = False
        self._raw_was_red_or_blue = False

    def update(self, now: float, defects: frozenset[str] | None = None) -> None:
        """The time now and, when the card reported them, the raw defects."""
        if defects is not None:
            self.defects = defects
        self.red.update(bool(self.defects & RED_DEFECTS), now)
        self.blue.update(bool(self.defects & BLUE_DEFECTS), now)
        self.yellow.update(bool(self.defects & YELLOW_DEFECTS), now)
        red_or_blue = self.red.active or self.blue.active
        raw_red_or_blue = bool(self.defects & (RED_DEFECTS | BLUE_DEFECTS))
        if red_or_blue:
            self._recover_until = None
        elif self._was_red_or_blue:
            self._recover_until = now + SETTLE_S
        elif self._recover_until is not None and (raw_red_or_blue or self._raw_was_red_or_blue):
            # A defect during the settling time starts the wait again from its end.
            self._recover_until = now + SETTLE_S
        if self._recover_until is not None and now >= self._recover_until:
            self._recover_until = None
        self._was_red_or_blue = red_or_blue
        self._raw_was_red_or_blue = raw_red_or_blue

    @property
    def recovering(self) -> bool:
        return self._recover_until is not None

    @property
    def names(self) -> list[str]:
        """The alarms in force, DAHDI's names: red, blue, yellow, recover."""
        out = [name for name, a in (("red", self.red), ("blue", self.blue), ("yellow", self.yellow)) if a.active]
        return out + (["recover"] if self.recovering else [])

    @property
    def in_service(self) -> bool:
        """Calls may use the span: no alarm at all (chan_dahdi takes a channel out on any, yellow too)."""
        return not self.names
