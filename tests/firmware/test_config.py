"""Configuration files: scenario, site and board profiles refused with the file, the key and the reason."""
import pytest

from firmware import cli
from firmware.config.boards import build_board, list_profiles, load_profile
from typed_toml import ConfigError
from firmware.tools.scenario import generate_callers, load_scenario
from firmware.config.site import DEFAULTS_DIR, read_site

GOOD = """
[run]
seconds = 100
[[agents]]
id = "1"
queues = ["sales"]
[[callers]]
at = 1.0
number = "1"
keys = [[1.0, "1"]]
[[traffic]]
per_hour = 3600
keys = ["1"]
patience = [10.0, 20.0]
"""


@pytest.mark.parametrize("change, key, reason", [
    (("seconds = 100", "seconds = -5"), "run.seconds", "below the minimum"),
    (("seconds = 100", 'seconds = "long"'), "run.seconds", "expected a number"),
    (("[run]\n", "[run]\nspeed = 2\n"), "run.speed", "unknown key"),
    (('queues = ["sales"]', 'queues = ["billing"]'), "agents[0].queues", "no queue needs skill 'billing'"),
    (('queues = ["sales"]', "skills = { sales = 11 }"), "agents[0].skills.sales", "above the maximum 10"),
    (('keys = [[1.0, "1"]]', 'keys = [[1.0, "x"]]'), "callers[0].keys", "bad key press"),
    (('keys = [[1.0, "1"]]', 'keys = ["1"]'), "callers[0].keys", "expected [seconds after answer, digits]"),
    (("patience = [10.0, 20.0]", "patience = [20.0, 10.0]"), "traffic[0].patience", "min <= max"),
    (('number = "1"', "number = 1"), "callers[0].number", "expected a string"),
    (("seconds = 100", "seconds = 100\nseconds = 3"), "", "not valid TOML"),
    (("seconds = 100", 'seconds = 100\ncallerid = "fsk"'), "run.callerid", "'fsk' is not one of bell202, dtmf, event, v23"),
    (("seconds = 100", 'seconds = 100\ntones = "uk"'), "run.tones", "no tone plan 'uk' (plans: cn, etsi, na)"),
    (("seconds = 100", 'seconds = 100\nboard = "sim"\ncallerid = "v23"'), "run.callerid", "leave callerid out"),
])
def test_bad_scenario_names_file_key_and_reason(tmp_path, change, key, reason):
    path = tmp_path / "bad.toml"
    path.write_text(GOOD.replace(*change, 1))
    with pytest.raises(ConfigError) as err:
        load_scenario(path)
    msg = str(err.value)
    assert str(path) in msg and key in msg and reason in msg, msg


def test_scenario_cli_reports_bad_file_without_traceback(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text(GOOD.replace("seconds = 100", "seconds = 0"))
    assert cli.main(["scenario", str(path), "--fast"]) == 2
    err = capsys.readouterr().err
    assert "run.seconds" in err and "Traceback" not in err


def test_poisson_traffic_rate_and_determinism(tmp_path):
    path = tmp_path / "t.toml"
    path.write_text("[run]\nseconds = 36000\nseed = 3\n[[traffic]]\nper_hour = 120\n")
    scn = load_scenario(path)
    callers = generate_callers(scn)
    # 1200 expected arrivals; a Poisson count is within 4 standard deviations (sqrt(1200) ~ 35).
    assert abs(len(callers) - 1200) < 140
    assert [c.at for c in callers] == sorted(c.at for c in callers)
    assert [c.number for c in generate_callers(scn)] == [c.number for c in callers]


def test_stock_site_config_reads():
    site = read_site(DEFAULTS_DIR / "site.toml")
    assert [q.name for q in site.queues] == ["sales", "service"]
    assert all(a.station.startswith("station") for a in site.agents)


def test_site_tone_plan_must_be_one_of_the_boards(tmp_path):
    path = tmp_path / "site.toml"
    path.write_text('[box]\ntones = "../profiles/sim"\n')
    with pytest.raises(ConfigError, match=r"box.tones.*no tone plan '../profiles/sim' \(plans: cn, etsi, na\)"):
        read_site(path)
    path.write_text('[box]\ntones = "na"\n')
    assert read_site(path).tones.name == "na"


def test_site_region_must_be_a_country_of_the_numbering_plans(tmp_path):
    path = tmp_path / "site.toml"
    path.write_text('[box]\nregion = "cn"\n')
    with pytest.raises(ConfigError, match=r"site.toml.*region.*ISO 3166"):
        read_site(path)
    path.write_text('[box]\nregion = "HK"\n')
    assert read_site(path).region == "HK"
    assert read_site(DEFAULTS_DIR / "site.toml").region == "CN"


@pytest.mark.parametrize("text, error", [
    ("hangup_silence_s = 10", r"box.hangup_silence_s.*0 \(off\) or 30-3600 s"),
    ("hangup_silence_s = 7200", r"box.hangup_silence_s"),
    ("hangup_silence_s = -1", r"box.hangup_silence_s"),
    ("hangup_tone_cycles = 11", r"box.hangup_tone_cycles"),
    ("hangup_tone_cycles = 2.5", r"box.hangup_tone_cycles"),
])
def test_site_disconnect_supervision_is_off_or_within_its_limits(tmp_path, text, error):
    path = tmp_path / "site.toml"
    path.write_text(f"[box]\n{text}\n")
    with pytest.raises(ConfigError, match=error):
        read_site(path)


def test_site_disconnect_supervision_defaults_to_busy_tone_only(tmp_path):
    # Three periods of busy or congestion tone; silence is a last resort a site turns on.
    site = read_site(DEFAULTS_DIR / "site.toml")
    assert (site.hangup_tone_cycles, site.hangup_silence_s) == (3, 0.0)
    path = tmp_path / "site.toml"
    path.write_text("[box]\nhangup_tone_cycles = 0\nhangup_silence_s = 120\n")
    assert (read_site(path).hangup_tone_cycles, read_site(path).hangup_silence_s) == (0, 120.0)


def test_site_agent_in_unknown_queue(tmp_path):
    path = tmp_path / "site.toml"
    path.write_text('[[queue]]\nname = "a"\n[[agent]]\nid = "1"\nstation = "station1"\nqueues = ["b"]\n')
    with pytest.raises(ConfigError, match=r"agent\[0\].queues: no queue needs skill 'b'"):
        read_site(path)


@pytest.mark.parametrize("table, reason", [
    ("longest_wait_warn = 90\nlongest_wait_alarm = 60", r"wallboard.longest_wait_alarm: must be more than longest_wait_warn \(90\)"),
    ("service_level_warn = 50", r"wallboard.service_level_alarm: must be less than service_level_warn \(50\)"),
    ("service_level_warn = 101", r"wallboard.service_level_warn"),
    ("longest_wait_warn = 0", r"wallboard.longest_wait_warn"),
    ("longest_wait_warn = \"30\"", r"wallboard.longest_wait_warn"),
    ("colour = \"red\"", r"wallboard.colour: unknown key"),
])
def test_site_wallboard_thresholds_are_checked(tmp_path, table, reason):
    path = tmp_path / "site.toml"
    path.write_text(f"[wallboard]\n{table}\n")
    with pytest.raises(ConfigError, match=reason):
        read_site(path)
    path.write_text("[wallboard]\nlongest_wait_warn = 20\nlongest_wait_alarm = 40\n")
    read_site(path)


@pytest.mark.parametrize("name", list_profiles())
def test_every_board_profile_boots(name, tmp_path):
    from firmware.config.box import StatePaths, load_site, open_engine
    from firmware.config.loadtest import VIRTUAL_STATIONS, VIRTUAL_TRUNKS
    profile = load_profile(name)
    board = build_board(profile)
    engine = open_engine(StatePaths(tmp_path), board, load_site(StatePaths(tmp_path)), clock="fast",
                         board_name=name, control=False, gsm_port=profile.gsm_port)
    for _ in range(50):
        engine.step()
    status = engine.status()
    # Every profile's real lines are the status's; the load test's virtual lines come after them, unseen.
    assert status["ticks"]["count"] == 50 and len(status["lines"]) == board.live
    assert len(board) - board.live == VIRTUAL_TRUNKS + VIRTUAL_STATIONS
    engine.close()


def test_unknown_profile_lists_the_profiles():
    with pytest.raises(ConfigError) as err:
        load_profile("e1-card-from-mars")
    assert "sim" in str(err.value) and "e1-card-from-mars" in str(err.value)


def test_profile_with_unknown_driver_key(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text('[board]\nclock = "fast"\n[[driver]]\ntype = "sim"\ntrunks = 2\nwheels = 4\n')
    with pytest.raises(ConfigError, match=r"driver\[0\].wheels: unknown key"):
        build_board(load_profile(path))


def test_only_emulated_modem_lines_have_a_network_whose_tones_to_set(tmp_path):
    line = '[[driver.line]]\nname = "line1"\nport = "{port}"\n'
    path = tmp_path / "p.toml"
    path.write_text('[board]\nclock = "fast"\n[[driver]]\ntype = "voice_modem"\ntones = "na"\n'
                    + line.format(port="emulator:cx93010"))
    board = build_board(load_profile(path))
    try:
        board.drivers[0].start()
        assert board.drivers[0].emulators[0].tone_plan.name == "na"
    finally:
        board.drivers[0].close()
    path.write_text('[board]\nclock = "fast"\n[[driver]]\ntype = "voice_modem"\ntones = "na"\n'
                    + line.format(port="/dev/ttyACM0"))
    with pytest.raises(ConfigError, match=r"driver\[0\].tones: unknown key"):
        build_board(load_profile(path))
