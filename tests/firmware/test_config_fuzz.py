"""The box's own TOML files fuzzed (docs/architecture.md §27): board profiles, site settings, flows,
scenarios, tone plans and R2 variants. Each stock file reads as its value; any change to it (a value of
another type or out of range, a key dropped or unknown, the file cut short, text that is not TOML) is
the value or the reader's own error naming the file, never another exception (STYLE: configuration
errors fail at load with the file, key and reason)."""
from __future__ import annotations

import tempfile
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings

from drivers.r2_variant import R2VariantError, variant_from_dict
from dsp.tones import TonePlanError, plan_from_dict
from firmware.callcenter.flow_graph import flow_graph
from firmware.callcenter.flows import FlowError, check_flow
from firmware.config.boards import PROFILES_DIR, build_board, list_profiles, load_profile
from firmware.config.r2_variants import VARIANT_DIR
from firmware.config.site import DEFAULTS_DIR, check_site, read_site
from firmware.config.site_keys import PLAN_DIR
from firmware.tools.scenario import load_scenario
from typed_toml import ConfigError, read_text

from toml_fuzz import variants

BOARD = Path(__file__).resolve().parents[2] / "board"
PROMPTS = {p.stem for p in (BOARD / "prompts" / "en").glob("*.wav")}
QUEUES = {q.name for q in read_site(DEFAULTS_DIR / "site.toml").queues}
FLOWS = sorted((DEFAULTS_DIR / "flows").glob("*.toml"))
SCENARIOS = sorted((BOARD / "scenarios").glob("*.toml"))
FUZZ = settings(max_examples=60, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def written(text: str, name: str) -> Path:
    """`text` as a file named `name` in a directory of its own (a loader reads a path)."""
    path = Path(tempfile.mkdtemp(prefix="fuzz-")) / name
    path.write_text(text, encoding="utf-8")
    return path


def refused_naming(error: Exception, path: Path) -> None:
    assert path.name in str(error), f"the error does not name the file: {error}"


# -- board profiles ------------------------------------------------------------------------------

def test_every_stock_profile_reads():
    for name in list_profiles():
        profile = load_profile(name)
        assert profile.drivers and profile.path == PROFILES_DIR / f"{name}.toml"


@pytest.mark.parametrize("name", ["sim", "sim-e1", "sim-modems"])
def test_a_changed_profile_is_a_board_or_an_error_naming_the_file(name):
    @FUZZ
    @given(variants((PROFILES_DIR / f"{name}.toml").read_text()))
    # A timeslot range of a hundred billion: refused by its bounds, not expanded into memory first.
    @example('[board]\n[[driver]]\ntype = "e1"\ncontrol = "sim"\ntimeslots = "1-100000000000"\n')
    def check(text):
        path = written(text, f"{name}.toml")
        try:
            board = build_board(load_profile(path))
        except ConfigError as exc:
            refused_naming(exc, path)
        else:
            assert len(board) > 0
    check()


E1_SIM = '[board]\n[[driver]]\ntype = "e1"\ncontrol = "sim"\ntimeslots = "{}"\n'


@pytest.mark.parametrize("timeslots, lines", [("1-15,17-31", 30), ("1-3, 17", 4), ("5", 1)])
def test_an_e1_span_has_the_timeslots_its_profile_lists(timeslots, lines):
    assert len(build_board(load_profile(written(E1_SIM.format(timeslots), "e1.toml"))).drivers[0].lines) == lines


@pytest.mark.parametrize("timeslots", ["15-1", "0-3", "16", "1-32", "1-3,3", "1-100000000000", "-3", "a-b"])
def test_timeslots_outside_the_voice_timeslots_are_refused_by_the_profile(timeslots):
    # ITU-T G.704 §5.1: on a CAS span timeslot 0 frames and 16 signals; 1-15 and 17-31 carry voice.
    with pytest.raises(ConfigError, match=r"e1.toml: driver\[0\]\.timeslots"):
        build_board(load_profile(written(E1_SIM.format(timeslots), "e1.toml")))


# -- site settings -------------------------------------------------------------------------------

SITE = (DEFAULTS_DIR / "site.toml").read_text()


def test_the_stock_site_settings_have_no_problem():
    _, errors = check_site(read_text(SITE, "site.toml"))
    assert errors == []


@FUZZ
@given(variants(SITE))
def test_changed_site_settings_are_settings_or_errors_naming_file_and_key(text):
    try:
        top = read_text(text, "site.toml")
    except ConfigError as exc:
        assert "site.toml" in str(exc) and exc.key == ""
        return
    site, errors = check_site(top)
    for error in errors:
        assert isinstance(error, ConfigError) and "site.toml" in str(error)
        assert error.reason
    if not errors:
        # Usable settings: what the engine and the web process read from them is there.
        assert all(q.name for q in site.queues)


# -- flows ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", FLOWS, ids=[p.stem for p in FLOWS])
def test_a_stock_flow_checks_clean_and_every_way_out_leads_to_a_node(path):
    flow = check_flow(path.read_text(), path, PROMPTS, QUEUES).flow()
    assert flow.start in flow.nodes
    for node in flow.nodes.values():
        assert set(node.targets()) <= set(flow.nodes), node.name


@pytest.mark.parametrize("path", FLOWS, ids=[p.stem for p in FLOWS])
def test_a_changed_flow_is_a_flow_or_problems_and_always_a_graph(path):
    @FUZZ
    @given(variants(path.read_text()))
    def check(text):
        checked = check_flow(text, path, PROMPTS, QUEUES)
        # The editor draws the flow even while it is mistyped.
        flow_graph(checked, PROMPTS)
        if checked.problems:
            with pytest.raises(FlowError) as refused:
                checked.flow()
            refused_naming(refused.value, path)
        else:
            flow = checked.flow()
            assert flow.start in flow.nodes
            for node in flow.nodes.values():
                assert set(node.targets()) <= set(flow.nodes), node.name
    check()


# -- scenarios -----------------------------------------------------------------------------------

@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_a_changed_scenario_is_a_scenario_or_an_error_naming_the_file(path):
    @FUZZ
    @given(variants(path.read_text()))
    def check(text):
        copy = written(text, path.name)
        try:
            scenario = load_scenario(copy)
        except ConfigError as exc:
            refused_naming(exc, copy)
        else:
            assert scenario.seconds >= 1.0 and scenario.trunks >= 1
    check()


# -- tone plans and R2 variants (read whole by their modules, not through typed_toml) --------------

@pytest.mark.parametrize("path", sorted(PLAN_DIR.glob("*.toml")), ids=lambda p: p.stem)
def test_a_changed_tone_plan_is_a_plan_or_its_error(path):
    @FUZZ
    @given(variants(path.read_text()))
    def check(text):
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError:
            return
        try:
            plan_from_dict(data, str(path))
        except TonePlanError as exc:
            refused_naming(exc, path)
    check()


@pytest.mark.parametrize("path", sorted(VARIANT_DIR.glob("*.toml")), ids=lambda p: p.stem)
def test_a_changed_r2_variant_is_a_variant_or_its_error(path):
    @FUZZ
    @given(variants(path.read_text()))
    def check(text):
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError:
            return
        try:
            variant_from_dict(path.stem, data, str(path))
        except R2VariantError as exc:
            refused_naming(exc, path)
    check()

