"""The table of known voice modems (board/modems.toml): recognised by USB id or ATI answer, with their quirks."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .v253 import DCE_EVENTS, Codec

TABLE = Path(__file__).resolve().parent.parent / "board" / "modems.toml"
GENERIC = "v253"


class ModemTableError(Exception):
    """The modem table is unreadable or has a bad entry; the message names the file, entry and key."""


@dataclass(frozen=True)
class Answers:
    """What a modem says, replayed by the emulator."""
    ati0: str
    ati3: str
    fclass: str
    vsm: tuple[str, ...]
    vls: str
    vtr: bool
    rx_end_etx: bool
    vsm_short: bool
    cid_spaces: bool
    remote_hangup: str
    dtmf_shielding: bool


@dataclass(frozen=True)
class ModemModel:
    id: str
    family: str
    name: str
    usb: tuple[str, ...]
    ati0: tuple[str, ...]
    ati3: tuple[str, ...]
    fallback_cml: int
    fallback_codec: Codec
    vsm_long: bool
    vit_units_s: float
    stop_rx: str
    duplex: bool | None
    init: tuple[str, ...]
    ignore_dle: frozenset[str]
    dle_aliases: dict = field(hash=False)
    bugs: tuple[str, ...] = ()
    answers: Answers | None = None

    def event_name(self, code: str, default: str) -> str:
        """The meaning of a shielded code on this modem."""
        return self.dle_aliases.get(code, default)


class _Entry:
    """Typed reading of one table entry with an unknown-key check."""

    def __init__(self, path: Path, where: str, data: dict):
        self.path, self.where, self.data = path, where, data
        self.read: set[str] = set()

    def error(self, key: str, reason: str) -> ModemTableError:
        return ModemTableError(f"{self.path}: {self.where}.{key}: {reason}")

    def get(self, key: str, kind, default=None, required: bool = False):
        self.read.add(key)
        if key not in self.data:
            if required:
                raise self.error(key, "required key is missing")
            return default
        value = self.data[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.error(key, f"expected {kind.__name__}, got {value!r}")
        return value

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.get(key, list, [])
        if not all(isinstance(v, str) for v in value):
            raise self.error(key, f"expected a list of strings, got {value!r}")
        return tuple(value)

    def done(self) -> None:
        unknown = sorted(set(self.data) - self.read)
        if unknown:
            raise self.error(unknown[0], "unknown key")


def _answers(path: Path, where: str, data: dict) -> Answers:
    e = _Entry(path, where, data)
    a = Answers(ati0=e.get("ati0", str, required=True), ati3=e.get("ati3", str, ""),
                fclass=e.get("fclass", str, "0,1,8"), vsm=e.strings("vsm"), vls=e.get("vls", str, "OK"),
                vtr=e.get("vtr", bool, True), rx_end_etx=e.get("rx_end_etx", bool, True),
                vsm_short=e.get("vsm_short", bool, True), cid_spaces=e.get("cid_spaces", bool, True),
                remote_hangup=e.get("remote_hangup", str, "l"), dtmf_shielding=e.get("dtmf_shielding", bool, False))
    e.done()
    return a


def _model(path: Path, i: int, data: dict) -> ModemModel:
    e = _Entry(path, f"modem[{i}]", data)
    codec = e.get("fallback_codec", str, "u8")
    try:
        fallback_codec = Codec(codec)
    except ValueError:
        raise e.error("fallback_codec", f"{codec!r} is not one of {', '.join(c.value for c in Codec)}") from None
    for usb in e.strings("usb"):
        parts = usb.split(":")
        if len(parts) != 2 or not all(len(p) == 4 and all(ch in "0123456789abcdef" for ch in p) for p in parts):
            raise e.error("usb", f"{usb!r} is not a lower-case vvvv:pppp USB id")
    aliases = e.get("dle_aliases", dict, {})
    for code, name in aliases.items():
        if len(code) != 1 or name not in set(DCE_EVENTS.values()):
            raise e.error("dle_aliases", f"{code!r} = {name!r}: a one-character code and a V.253 event name")
    stop_rx = e.get("stop_rx", str, "!")
    if stop_rx not in ("!", "^"):
        raise e.error("stop_rx", f"{stop_rx!r} is neither '!' nor '^'")
    answers = e.get("answers", dict)
    model = ModemModel(
        id=e.get("id", str, required=True), family=e.get("family", str, required=True),
        name=e.get("name", str, required=True), usb=e.strings("usb"), ati0=e.strings("ati0"),
        ati3=e.strings("ati3"), fallback_cml=e.get("fallback_cml", int, 1), fallback_codec=fallback_codec,
        vsm_long=e.get("vsm_long", bool, False), vit_units_s=e.get("vit_units_s", float, 1.0),
        stop_rx=stop_rx, duplex=e.get("duplex", bool), init=e.strings("init"),
        ignore_dle=frozenset(e.strings("ignore_dle")), dle_aliases=dict(aliases), bugs=e.strings("bugs"),
        answers=_answers(path, f"modem[{i}].answers", answers) if answers is not None else None)
    if model.vit_units_s <= 0:
        raise e.error("vit_units_s", "must be positive")
    e.done()
    return model


def load_table(path: str | Path = TABLE) -> dict[str, ModemModel]:
    path = Path(path)
    try:
        with open(path, "rb") as f:
            top = tomllib.load(f)
    except FileNotFoundError:
        raise ModemTableError(f"{path}: file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ModemTableError(f"{path}: not valid TOML: {exc}") from None
    if set(top) - {"modem"}:
        raise ModemTableError(f"{path}: {sorted(set(top) - {'modem'})[0]}: unknown key")
    models = [_model(path, i, m) for i, m in enumerate(top.get("modem", []))]
    table = {m.id: m for m in models}
    if len(table) != len(models):
        raise ModemTableError(f"{path}: modem ids repeat")
    if GENERIC not in table:
        raise ModemTableError(f"{path}: needs the generic entry id = {GENERIC!r}")
    return table


@lru_cache(maxsize=4)
def known(path: str = str(TABLE)) -> dict[str, ModemModel]:
    """The table, read once per process."""
    return load_table(path)


def by_usb(vid: int | None, pid: int | None, table: dict[str, ModemModel] | None = None) -> ModemModel | None:
    if vid is None or pid is None:
        return None
    key = f"{vid:04x}:{pid:04x}"
    return next((m for m in (table or known()).values() if key in m.usb), None)


def by_ati(ati0: str, ati3: str = "", table: dict[str, ModemModel] | None = None) -> ModemModel | None:
    """The model whose ATI0 answer matches exactly, else whose ATI3 substring appears."""
    table = table or known()
    a0 = ati0.strip()
    for m in table.values():
        if a0 and a0 in m.ati0:
            return m
    for m in table.values():
        if any(s and s in ati3 for s in m.ati3):
            return m
    return None


def generic(table: dict[str, ModemModel] | None = None) -> ModemModel:
    return (table or known())[GENERIC]
