"""Board profiles (board/profiles/<name>.toml): which drivers, how many channels, what paces the clock."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from drivers.alsa_pcm import FORMATS, AlsaDriver, AlsaError, AlsaLine
from drivers.channel import Board, ChannelKind, Driver
from drivers.e1_card import E1Card, E1CardError, SpanConfig
from drivers.e1_exchange import SimExchange
from drivers.e1_span import AlsaSpanAudio, E1SpanDriver, E1SpanError, SpanLine
from drivers.e1_proto import VOICE_TIMESLOTS
from drivers.r2_variant import R2VariantError
from drivers.sim import DtmfStyle, SimDriver
from drivers.sim_signals import CALLER_ID_SCHEMES
from drivers.voice_modem import LineConfig, VoiceModemDriver, VoiceModemError

from typed_toml import ConfigError, Section, read_file
from firmware.config.loadtest import virtual_driver
from firmware.config.site import BOARD_DIR, read_tone_plan
from firmware.config.r2_variants import load_variant, variant_names

PROFILES_DIR = BOARD_DIR / "profiles"


@dataclass
class Profile:
    name: str
    path: Path
    description: str
    clock: str
    drivers: list[Section]
    answer_rings: int = 1    # lines whose caller ID comes after the first ring (modems) need 2
    gsm_port: str = ""       # the GSM modem for texts ([gsm] port): a serial device, or "emulator"


def _build_sim(sec: Section) -> SimDriver:
    driver = SimDriver(trunks=sec.get_int("trunks", 8, 0, 480), stations=sec.get_int("stations", 4, 0, 480),
                       seed=sec.get_int("seed", 0, 0), noise_dbm0=sec.get_float("noise_dbm0", -65.0, -100.0, -10.0),
                       dtmf=DtmfStyle(level_dbm0=sec.get_float("dtmf_level_dbm0", -10.0, -50.0, 0.0),
                                      twist_db=sec.get_float("dtmf_twist_db", 0.0, -12.0, 12.0)),
                       callerid=sec.get_str("callerid", "v23", choices=CALLER_ID_SCHEMES), tones=read_tone_plan(sec))
    return driver


def _kind(sec: Section) -> ChannelKind:
    return ChannelKind(sec.get_str("kind", "trunk", choices=("trunk", "station")))


def _build_voice_modem(sec: Section) -> VoiceModemDriver:
    lines = []
    for line in sec.get_tables("line"):
        lines.append(LineConfig(name=line.get_str("name"), port=line.get_str("port"), kind=_kind(line),
                                number=line.get_str("number", "")))
        line.done()
    # `tones` is the emulated lines' network: a profile of real modems has none to set.
    tones = read_tone_plan(sec) if any(c.port.startswith("emulator:") for c in lines) else None
    try:
        return VoiceModemDriver(lines, emulated_tones=tones)
    except VoiceModemError as exc:
        raise sec.error("line", str(exc)) from None


def _build_alsa(sec: Section) -> AlsaDriver:
    channels = sec.get_int("channels", 1, 1, 64)
    lines = []
    for line in sec.get_tables("line"):
        lines.append(AlsaLine(line.get_str("name"), line.get_int("slot", minval=0, maxval=channels - 1), _kind(line)))
        line.done()
    try:
        return AlsaDriver(capture=sec.get_str("capture"), playback=sec.get_str("playback"), channels=channels,
                          fmt=sec.get_str("format", "S16_LE", choices=FORMATS), lines=lines)
    except AlsaError as exc:
        raise sec.error("line", str(exc)) from None


def _timeslots(sec: Section) -> list[int]:
    """`timeslots`: a list like "1-15,17-31" (the default: every voice timeslot of a CAS span)."""
    text = sec.get_str("timeslots", "1-15,17-31")
    refused = sec.error("timeslots", f"{text!r}: voice timeslots are 1-15 and 17-31, each once")
    out: list[int] = []
    try:
        for part in text.split(","):
            lo, _, hi = part.strip().partition("-")
            first, last = int(lo), int(hi or lo)
            # Bounds before the range is expanded: "1-100000000000" is refused, not built in memory;
            # "15-1" is refused, not read as no timeslot (which the span takes as all of them).
            if not min(VOICE_TIMESLOTS) <= first <= last <= max(VOICE_TIMESLOTS):
                raise refused
            out += range(first, last + 1)
    except ValueError:
        raise sec.error("timeslots", f"{text!r} is not a list of timeslots like \"1-15,17-31\"") from None
    if any(ts not in VOICE_TIMESLOTS for ts in out) or len(set(out)) != len(out):
        raise refused
    return out


def _build_e1(sec: Section) -> E1SpanDriver:
    """An E1 span (docs/e1-card.md): `control` is the card's serial port, or "sim" for the simulated
    exchange (its card and audio in-process, in step with the box's ticks)."""
    span = sec.get_str("span", "span1")
    name = sec.get_str("variant", "china")
    if name not in variant_names():
        raise sec.error("variant", f"no R2 variant {name!r} (board/r2: {', '.join(variant_names())})")
    try:
        variant = load_variant(name)
    except R2VariantError as exc:
        raise sec.error("variant", str(exc)) from None
    lines = [SpanLine(f"{span}-ts{ts:02d}", ts) for ts in _timeslots(sec)]
    dnis_digits = sec.get_int("dnis_digits", 4, 1, 20)
    ani = sec.get_str("ani", "")
    if not ani.isdigit() and ani:
        raise sec.error("ani", f"{ani!r} is not digits")
    control = sec.get_str("control")
    try:
        if control == "sim":
            exchange = SimExchange(variant, number_digits=sec.get_int("number_digits", 8, 1, 20),
                                   seed=sec.get_int("seed", 0, 0))
            driver = E1SpanDriver(span, exchange.card, exchange.audio, variant, lines, dnis_digits, ani,
                                  clock=exchange.audio.now)
            driver.simulator = exchange
            driver.hotline = sec.get_str("hotline", "1" * dnis_digits)
            return driver
        config = SpanConfig(crc4=sec.get_bool("crc4", False), code=sec.get_str("code", "hdb3"),
                            clock=sec.get_str("clock", "line"), debounce_ms=sec.get_int("debounce_ms", 20),
                            failsafe_s=sec.get_int("failsafe_s", 3))
        audio = AlsaSpanAudio(sec.get_str("capture"), sec.get_str("playback"),
                              sec.get_str("format", "A_LAW", choices=("A_LAW", "S16_LE")))
        return E1SpanDriver(span, E1Card(control, config), audio, variant, lines, dnis_digits, ani)
    except (E1CardError, E1SpanError) as exc:
        raise sec.error("span", str(exc)) from None


DRIVERS: dict[str, Callable[[Section], Driver]] = {"sim": _build_sim, "voice_modem": _build_voice_modem,
                                                   "alsa": _build_alsa, "e1": _build_e1}


def list_profiles() -> list[str]:
    return sorted(p.stem for p in PROFILES_DIR.glob("*.toml"))


def load_profile(name: str | Path) -> Profile:
    """A profile by name (board/profiles/<name>.toml) or by path."""
    path = Path(name)
    if path.suffix != ".toml":
        path = PROFILES_DIR / f"{name}.toml"
    if not path.exists():
        raise ConfigError(f"no board profile {str(name)!r}; profiles: {', '.join(list_profiles())}")
    top = read_file(path)
    board = top.get_table("board")
    profile = Profile(path.stem, path, board.get_str("description", ""),
                      board.get_str("clock", "paced", choices=("paced", "fast", "hardware")),
                      top.get_tables("driver"), board.get_int("answer_rings", 1, 1, 10))
    board.done()
    gsm = top.get_table("gsm", {})
    profile.gsm_port = gsm.get_str("port", "")
    gsm.done()
    top.done()
    if not profile.drivers:
        raise top.error("driver", "a profile needs at least one [[driver]]")
    return profile


def build_board(profile: Profile, overrides: dict | None = None) -> Board:
    """Instantiate the profile's drivers; `overrides` replaces keys of every driver table (tests, scenarios)."""
    drivers = []
    for sec in profile.drivers:
        if overrides:
            sec = Section({**sec.data, **overrides}, sec.file, sec.where)
        kind = sec.get_str("type", choices=DRIVERS)
        drivers.append(DRIVERS[kind](sec))
        sec.done()
    # Every box reserves the load test's virtual lines (firmware/config/loadtest.py).
    return Board(drivers, virtual=virtual_driver())
