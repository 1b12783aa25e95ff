"""A scenario's board: the simulated board, or a profile's emulated modems, and the callers' side of its trunks."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

from drivers.channel import Board, ChannelKind, Driver
from drivers.e1_exchange import SimExchange
from drivers.e1_span import E1SpanDriver
from drivers.modem_emulator import ModemEmulator
from drivers.sim import DtmfStyle, SimCaller, SimDriver
from drivers.voice_modem import VoiceModemDriver
from dsp.tones import TonePlan

from firmware.config.boards import DRIVERS, load_profile
from firmware.config.loadtest import virtual_driver
from typed_toml import ConfigError, Section


@dataclass
class ScenarioBoard:
    board: Board
    sim: SimDriver           # the agents' and supervisors' handsets, and the PSTN's reachable numbers
    name: str
    answer_rings: int = 1


def build(profile_name: str | None, *, trunks: int, stations: int, seed: int, noise_dbm0: float,
          dtmf: DtmfStyle, clock: str, callerid: str = "v23", tones: TonePlan | None = None,
          virtual_lines: bool = False) -> ScenarioBoard:
    """The simulated board with `trunks` lines sending caller ID by `callerid` and call-progress tones
    of `tones` (no profile), or the named profile with its sim driver given `stations` handsets. A
    profile may hold simulated lines and modem emulators only. `virtual_lines`: reserve the load test's
    virtual lines, as a box's board does (the demo; a scenario leaves them out unless it tests them)."""
    virtual = virtual_driver() if virtual_lines else None
    if profile_name is None:
        lines = SimDriver(trunks=trunks, stations=stations, seed=seed, noise_dbm0=noise_dbm0, dtmf=dtmf,
                          callerid=callerid, tones=tones)
        return ScenarioBoard(Board([lines], virtual=virtual), lines, "sim")
    profile = load_profile(profile_name)
    drivers: list[Driver] = []
    sim: SimDriver | None = None
    for sec in profile.drivers:
        kind = sec.get_str("type", choices=DRIVERS)
        if kind == "sim":
            if sim is not None:
                raise sec.error("type", "a scenario board has one simulated driver, for the agents' handsets")
            data = {k: v for k, v in sec.data.items() if k != "type"}
            own = Section({**data, "stations": stations, "seed": seed, "noise_dbm0": noise_dbm0}, sec.file, sec.where)
            built = DRIVERS["sim"](own)
            assert isinstance(built, SimDriver), "the profile type sim builds a SimDriver"
            sim = built
            own.done()
            sim.dtmf = dtmf
            drivers.append(sim)
        elif kind == "voice_modem":
            for line in sec.get_tables("line"):
                if not line.get_str("port").startswith("emulator:"):
                    raise line.error("port", "a scenario drives simulated lines and modem emulators only, "
                                             f"not the modem at {line.get_str('port')!r}")
                if line.get_str("kind", "trunk") != "trunk":
                    raise line.error("kind", "a scenario's agents answer on simulated handsets: "
                                             "emulated station lines are not scripted")
            drivers.append(DRIVERS["voice_modem"](sec))
            sec.done()
        elif kind == "e1":
            if sec.get_str("control") != "sim":
                raise sec.error("control", "a scenario drives a simulated E1 span only (control = \"sim\"), "
                                           f"not the card at {sec.get_str('control')!r}")
            drivers.append(DRIVERS["e1"](sec))
            sec.done()
        else:
            raise sec.error("type", f"a scenario cannot drive {kind!r} hardware: use a profile of "
                                    "simulated lines and modem emulators (sim, sim-modems)")
    if sim is None:
        sim = SimDriver(trunks=0, stations=stations, seed=seed, noise_dbm0=noise_dbm0, dtmf=dtmf)
        drivers.append(sim)
    modems = [d for d in drivers if isinstance(d, (VoiceModemDriver, E1SpanDriver))]
    if modems and sim.n_trunks:
        raise ConfigError(f"{profile.path}: a scenario's trunks are either simulated or emulated modems, "
                          f"not both ({sim.n_trunks} simulated trunks beside the modems)")
    if any(isinstance(d, VoiceModemDriver) for d in drivers) and clock == "fast":
        raise ConfigError(f"{profile.path}: board {profile.name} runs emulated modems in real time, so its "
                          "scenario cannot run fast: run it without --fast")
    board = Board(drivers, virtual=virtual)
    return ScenarioBoard(board, sim, profile.name, max(profile.answer_rings, board.answer_rings))


class SimTrunks:
    """Callers on the simulated board's trunks (board channels 0..n-1)."""

    def __init__(self, sim: SimDriver):
        self.sim = sim

    def place_call(self, caller: SimCaller) -> bool:
        return self.sim.place_call(caller)

    def caller_on(self, channel: int) -> SimCaller | None:
        return self.sim.trunks[channel].caller if channel < self.sim.n_trunks else None

    def connected(self, channel: int) -> None:
        self.sim.connected(channel)

    def busy(self) -> bool:
        return any(t.caller is not None for t in self.sim.trunks)

    def arrival(self, caller: SimCaller) -> float:
        assert caller.arrived is not None, "asked only of a caller on a line"
        return caller.arrived

    def let_go(self) -> None:
        """Forget the callers whose call is over (the simulated board lists them for a report)."""
        self.sim.finished.clear()
        self.sim.blocked.clear()


class ModemTrunks:
    """Callers on emulated voice modems: each line's emulator plays its PSTN side, in real time."""

    def __init__(self, board: Board, now: Callable[[], float], dtmf: DtmfStyle):
        self.lines: dict[int, ModemEmulator] = {}     # board channel -> its modem's emulator
        for info in board.by_kind(ChannelKind.TRUNK):
            driver, local = board.locate(info.index)
            assert isinstance(driver, VoiceModemDriver), "a scenario's modem trunks are emulated"
            emulator = driver.emulators[local]
            assert isinstance(emulator, ModemEmulator), "a scenario's modem trunks are emulated"
            emulator.dtmf = dtmf
            self.lines[info.index] = emulator
        self._now = now
        # The emulators stamp callers on the monotonic clock; the report wants scenario seconds.
        self._arrived: dict[int, float] = {}

    def place_call(self, caller: SimCaller) -> bool:
        """The caller dials the hotline: the first idle line rings (False: every line is busy)."""
        now = self._now()
        self._arrived[id(caller)] = now
        if any(emulator.place_call(caller) for emulator in self.lines.values()):
            return True
        caller.ended, caller.ended_by = now, "busy"
        return False

    def caller_on(self, channel: int) -> SimCaller | None:
        emulator = self.lines.get(channel)
        return emulator.caller if emulator is not None else None

    def connected(self, channel: int) -> None:
        emulator = self.lines.get(channel)
        if emulator is not None:
            emulator.connected()

    def busy(self) -> bool:
        return any(emulator.caller is not None for emulator in self.lines.values())

    def arrival(self, caller: SimCaller) -> float:
        return self._arrived[id(caller)]

    def let_go(self) -> None:
        """Forget the callers whose call is over (each emulator lists them for a report)."""
        for emulator in self.lines.values():
            emulator.finished.clear()
        self._arrived = _still_on(self._arrived, (e.caller for e in self.lines.values()))


class E1Trunks:
    """Callers on simulated E1 spans: each span's exchange seizes a timeslot and signals by MFC-R2."""

    def __init__(self, board: Board, now: Callable[[], float], dtmf: DtmfStyle):
        self.spans: list[tuple[int, E1SpanDriver, SimExchange]] = []    # (first board channel, driver, exchange)
        for info in board.by_kind(ChannelKind.TRUNK):
            driver, local = board.locate(info.index)
            if isinstance(driver, E1SpanDriver) and local == 0:
                assert isinstance(driver.simulator, SimExchange), "a scenario's E1 spans are simulated"
                driver.simulator.dtmf = dtmf
                self.spans.append((info.index, driver, driver.simulator))
        self._now = now
        self._arrived: dict[int, float] = {}

    def place_call(self, caller: SimCaller) -> bool:
        """The caller dials the hotline: the first span with a free timeslot takes the call."""
        self._arrived[id(caller)] = self._now()
        for first, driver, exchange in self.spans:
            if exchange.idle_channels() or (first, driver, exchange) == self.spans[-1]:
                if exchange.place_call(caller, driver.hotline):
                    caller.line = first + (caller.line or 0)
                    return True
        return False

    def _span(self, channel: int) -> tuple[int, SimExchange] | None:
        for first, driver, exchange in self.spans:
            if first <= channel < first + len(driver.lines):
                return channel - first, exchange
        return None

    def caller_on(self, channel: int) -> SimCaller | None:
        found = self._span(channel)
        return found[1].caller_on(found[0]) if found else None

    def connected(self, channel: int) -> None:
        found = self._span(channel)
        if found:
            found[1].connected(found[0])

    def busy(self) -> bool:
        return any(exchange.busy() for _, _, exchange in self.spans)

    def arrival(self, caller: SimCaller) -> float:
        return self._arrived[id(caller)]

    def let_go(self) -> None:
        """Forget the callers whose call is over (each exchange lists them, and every call's outcome)."""
        for _, _, exchange in self.spans:
            exchange.finished.clear()
            exchange.results.clear()
        self._arrived = _still_on(self._arrived, (call.caller for _, _, exchange in self.spans
                                                  for call in exchange.calls.values()))


def _still_on(arrived: dict[int, float], on_lines: Iterable[SimCaller | None]) -> dict[int, float]:
    """The arrival times of the callers still on a line, by id()."""
    on = {id(caller) for caller in on_lines if caller is not None}
    return {key: at for key, at in arrived.items() if key in on}


def trunks_for(board: ScenarioBoard, now: Callable[[], float],
               dtmf: DtmfStyle) -> SimTrunks | ModemTrunks | E1Trunks:
    """The callers' side of a started board (the emulators exist once the modem driver has started)."""
    if any(isinstance(d, E1SpanDriver) for d in board.board.drivers):
        return E1Trunks(board.board, now, dtmf)
    if any(isinstance(d, VoiceModemDriver) for d in board.board.drivers):
        return ModemTrunks(board.board, now, dtmf)
    return SimTrunks(board.sim)
