"""An MFC-R2 variant: what each register signal and CAS line signal means (board/r2/<name>.toml), checked."""
# The meanings are data, not code (docs/standards.md §6.3): firmware/config/r2_variants.py reads the
# files and hands the dict here, so drivers/ does no file I/O for them.

from __future__ import annotations

from dataclasses import dataclass

from .e1_proto import check_abcd

LINE_SIGNALS = ("idle", "seize", "seize_ack", "answer", "clear_back", "blocked")
FORWARD = ("end_of_dnis", "end_of_ani", "ani_restricted", "category", "category_b")
BACKWARD_A = ("next_dnis", "next_ani", "category", "change_to_b", "congestion", "address_complete_charge",
              "dnis_minus_1", "dnis_minus_2", "dnis_minus_3")
BACKWARD_B = ("free_charge", "free_no_charge", "busy", "congestion", "unallocated", "out_of_order", "sit")
TIMERS = ("seize", "mf_back_cycle", "mf_fwd_safety", "answer", "answer_delay", "release_guard")
# B-signals after which the called party rings and answers; the others end the call with a reason.
FREE = frozenset({"free_charge", "free_no_charge"})
# What a failed outgoing call tells the engine (drivers/channel.py PROGRESS tones the legs know).
FAILURE_TONE = {"busy": "busy", "congestion": "congestion", "unallocated": "sit", "out_of_order": "sit",
                "sit": "sit"}


class R2VariantError(ValueError):
    """A variant description that cannot be used; the message names its source and key."""


@dataclass(frozen=True)
class R2Variant:
    name: str
    description: str
    cd: str                        # the static C D bits
    line: dict[str, str]           # line signal -> A B
    forward: dict[str, int]        # meaning -> signal (0: none)
    backward_a: dict[str, int]
    backward_b: dict[str, int]
    timers_s: dict[str, float]

    def abcd(self, line_signal: str) -> str:
        return self.line[line_signal] + self.cd

    def b_meaning(self, signal: int) -> str | None:
        for name, s in self.backward_b.items():
            if s == signal:
                return name
        return None


def _table(data: dict, key: str, names: tuple[str, ...], source: str) -> dict:
    table = data.get(key)
    if not isinstance(table, dict):
        raise R2VariantError(f"{source}: [r2.{key}] is missing")
    unknown = set(table) - set(names)
    missing = set(names) - set(table)
    if unknown or missing:
        raise R2VariantError(f"{source}: [r2.{key}] unknown keys {sorted(unknown)}, missing {sorted(missing)}")
    return table


def variant_from_dict(name: str, data: dict, source: str) -> R2Variant:
    """The `[r2]` table of a variant file as an R2Variant; R2VariantError naming `source` and the key."""
    r2 = data.get("r2")
    if not isinstance(r2, dict):
        raise R2VariantError(f"{source}: no [r2] table")
    unknown = set(r2) - {"description", "cd", "ani_first", "line", "forward", "backward_a", "backward_b",
                         "timers_ms"}
    if unknown:
        raise R2VariantError(f"{source}: [r2] unknown keys {sorted(unknown)}")
    cd = r2.get("cd")
    if cd not in ("01", "11"):
        raise R2VariantError(f"{source}: r2.cd must be \"01\" (ITU) or \"11\" (China), not {cd!r}")
    line = _table(r2, "line", LINE_SIGNALS, source)
    for key, ab in line.items():
        if not isinstance(ab, str) or len(ab) != 2:
            raise R2VariantError(f"{source}: r2.line.{key} must be two bits A B, not {ab!r}")
        try:
            check_abcd(ab + cd)
        except ValueError as exc:
            raise R2VariantError(f"{source}: r2.line.{key}: {exc}") from None
    groups = {}
    for key, names in (("forward", FORWARD), ("backward_a", BACKWARD_A), ("backward_b", BACKWARD_B)):
        table = _table(r2, key, names, source)
        for k, v in table.items():
            if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 15:
                raise R2VariantError(f"{source}: r2.{key}.{k} must be a signal 1-15 or 0 (none), not {v!r}")
        groups[key] = dict(table)
    if groups["backward_a"]["change_to_b"] == 0 or groups["backward_b"]["free_charge"] == 0:
        raise R2VariantError(f"{source}: a variant needs change_to_b (group A) and free_charge (group B)")
    timers = _table(r2, "timers_ms", TIMERS, source)
    for k, v in timers.items():
        if isinstance(v, bool) or not isinstance(v, int) or not 0 < v <= 600_000:
            raise R2VariantError(f"{source}: r2.timers_ms.{k} must be 1-600000 ms, not {v!r}")
    return R2Variant(name, str(r2.get("description", name)), cd, dict(line), groups["forward"],
                     groups["backward_a"], groups["backward_b"], {k: v / 1000.0 for k, v in timers.items()})
