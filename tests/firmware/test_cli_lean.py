"""The `branchline` command loads only what a sub-command runs: `web` and `hq pull` start without numpy."""
import json
import subprocess
import sys
from pathlib import Path

from firmware import cli

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("numpy", "scipy", "sqlite_utils", "dsp", "drivers")


def test_the_command_line_itself_loads_no_signal_processing():
    code = ("import sys, json; from firmware.cli import build_parser\n"
            "build_parser().parse_args(['web', '--port', '0'])\n"
            f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))))")
    done = subprocess.run([sys.executable, "-c", code],
                          cwd=ROOT, capture_output=True, text=True, timeout=60, check=True)
    assert json.loads(done.stdout) == []


def test_refusals_of_modules_loaded_on_demand_are_still_one_line(tmp_path, capsys):
    assert cli.main(["run", "--no-web", "--board", "no-such-board", "--state", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("branchline: ") and "no-such-board" in err and "Traceback" not in err


def test_every_refusal_names_a_class_that_exists():
    import importlib

    for module, name in cli.REFUSALS:
        assert issubclass(getattr(importlib.import_module(module), name), Exception), (module, name)


def test_a_box_without_hqs_collector_still_has_its_command_line():
    # make install leaves hq/ out: it runs at head office.
    code = ("import sys; sys.modules['hq'] = None\n"
            "from firmware.cli import build_parser\n"
            "print(build_parser().parse_args(['retention', '--days', '90']).days)")
    done = subprocess.run([sys.executable, "-c", code],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "90.0", done.stderr


ENGINE_WITHOUT_SCIPY = """
import json, sys
sys.modules['scipy'] = None   # unimportable, as on a box that never loads it
from firmware.tools.scenario import run_scenario
report = run_scenario(sys.argv[1], state_dir=sys.argv[2])
print(json.dumps([[c["number"], c["disposition"]] for c in report["calls"]]))
"""


def test_the_engine_decodes_caller_id_and_bridges_calls_without_scipy(tmp_path):
    # scipy costs the engine more than half its memory (57 MB of 125 at 30 busy lines).
    scenario = tmp_path / "two.toml"
    scenario.write_text('[run]\nseconds = 40\ntrunks = 2\ncallerid = "v23"\n'
                        '[[agents]]\nid = "1001"\nqueues = ["sales"]\nanswer_after = 1.0\ntalk = 5.0\n'
                        '[[callers]]\nat = 1.0\nnumber = "13800138000"\nkeys = [[4.0, "1"]]\ntalk = 5.0\n'
                        '[[callers]]\nat = 2.0\nnumber = "13900139000"\nkeys = [[4.0, "1"]]\ntalk = 5.0\n')
    done = subprocess.run([sys.executable, "-c", ENGINE_WITHOUT_SCIPY, str(scenario), str(tmp_path / "state")],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    calls = sorted(json.loads(done.stdout.splitlines()[-1]))
    assert calls == [["13800138000", "answered"], ["13900139000", "answered"]]


# Loaded by the requests that need them, not at the web process's start: its 40 MB budget
# (docs/architecture.md "Memory"; `python -m firmware.tools.bench_memory --quick`). The standard
# library's: backups and restores (zipfile, wave), flow saves and prompt uploads (difflib, subprocess),
# mail (smtplib), CSV imports and exports (csv); decimal and argparse not at all.
ON_DEMAND = ("webui.reports.calls", "webui.reports.agents", "webui.reports.ivr", "webui.reports.tickets",
             "webui.reports.complaints", "webui.reports.details", "webui.reports.export", "xlsxwriter",
             "email.policy", "ctypes.util", "phonenumbers", "zipfile", "wave", "difflib", "subprocess", "smtplib",
             "csv", "decimal", "argparse")


def test_the_web_process_starts_without_what_only_some_requests_need(tmp_path):
    # The engine makes and migrates the database (with sqlite_utils, which loads some of the above); the
    # web process opens it as made.
    subprocess.run([sys.executable, "-c", "import sys; from firmware.store import connect; connect(sys.argv[1]).close()",
                    str(tmp_path / "branchline.db")], cwd=ROOT, timeout=60, check=True)
    code = ("import sys, json; from pathlib import Path\n"
            "from webui.app import create_app; import webui.server\n"
            "state = Path(sys.argv[1])\n"
            "create_app(state / 'branchline.db', state / 'control.sock')\n"
            f"print(json.dumps(sorted(set(sys.modules) & set({ON_DEMAND!r}))))")
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=60, check=True)
    assert json.loads(done.stdout) == []
