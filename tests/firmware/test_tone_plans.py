"""Tone plan files (firmware/config/tone_plans.py): the bundled plans load, bad files are named with the key and
the reason."""

import pytest

from dsp import tones
from firmware.config.tone_plans import load_plan

PLANS = ("cn", "na", "etsi")


def test_bundled_plans_load():
    for name in PLANS:
        plan = load_plan(name)
        assert plan.name == name
        assert {t.name for t in plan.tones} == set(tones.TONE_NAMES)


GOOD = """
tolerance = 0.1
frequency_tolerance_hz = 25.0
silence_s = 5.0

[[tone]]
name = "dial"
freqs = [450.0]
min_s = 1.2

[[tone]]
name = "ringback"
freqs = [450.0]
cadence = [1.0, 4.0]
confirm = 2
"""

# A SIT of nine single-frequency segments: with the plan's 450 Hz, ten frequencies (at most 8).
NINE_TONE_SIT = ('[[tone]]\nname = "sit"\nconfirm = 8\nsegments = ['
                 + ", ".join(f"[{f}.0]" for f in range(500, 1400, 100))
                 + "]\ncadence = [" + ", ".join(["0.1"] * 9) + "]\n")


@pytest.mark.parametrize("edit, where, reason", [
    (("tolerance = 0.1", "tolerance = 0.1\ncolour = 3"), "colour", "unknown key"),
    (("min_s = 1.2", "min_s = 1.2\nvolume = 3"), "volume", "unknown key"),
    (("tolerance = 0.1", "tolerance = 0.9"), "tolerance", r"\[0.0, 0.5\]"),
    (("silence_s = 5.0", "silence_s = 'long'"), "silence_s", "number"),
    (('name = "dial"', 'name = "howler"'), "tone[0].name", "one of"),
    (("freqs = [450.0]\nmin_s", "freqs = [50.0]\nmin_s"), "freqs", r"\[100.0, 3400.0\]"),
    (("min_s = 1.2", ""), "min_s", "required for a continuous tone"),
    (("min_s = 1.2", "min_s = 1.0"), "min_s", "not longer than a 1.0 s burst of ringback"),
    (("silence_s = 5.0", "silence_s = 4.0"), "silence_s", "not longer than the 4.0 s pause"),
    (("confirm = 2", "confirm = 9"), "confirm", r"int in \[1, 4\]"),
    (("min_s = 1.2", "min_s = 1.2\ntolerance = 0.2"), "tolerance", "no cadence"),
    (("confirm = 2\n", "confirm = 2\n" + NINE_TONE_SIT), "tone", "10 distinct frequencies"),
    (("cadence = [1.0, 4.0]", "cadence = [1.0, 4.0, 2.0]"), "cadence", "pairs"),
    (('name = "ringback"', 'name = "dial"'), "dial", "defined twice"),
    (("tolerance = 0.1\n", ""), "tolerance", "required"),
    (("[[tone]]", "[[tone]"), "", "not valid TOML"),
])
def test_bad_plan_files_name_file_key_and_reason(tmp_path, edit, where, reason):
    path = tmp_path / "site.toml"
    path.write_text(GOOD.replace(*edit, 1))
    with pytest.raises(tones.TonePlanError, match=str(path)) as info:
        load_plan(path)
    assert where in str(info.value)
    assert info.match(reason)
    assert isinstance(info.value, ValueError)


def test_good_plan_file_loads_and_missing_file_is_named(tmp_path):
    path = tmp_path / "site.toml"
    path.write_text(GOOD)
    plan = load_plan(str(path))
    assert [t.name for t in plan.tones] == ["dial", "ringback"]
    with pytest.raises(tones.TonePlanError, match="nowhere.toml: cannot read"):
        load_plan(tmp_path / "nowhere.toml")
    with pytest.raises(tones.TonePlanError, match="xx.toml"):
        load_plan("xx")
