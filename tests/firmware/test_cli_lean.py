"""The `branchline` command loads only what a sub-command runs: `web` and `hq pull` start without numpy."""
import json
import subprocess
import sys
from pathlib import Path

from firmware import cli

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("numpy", "scipy", "sqlite_utils", "dsp", "drivers")


def test_the_command_line_itself_loads_no_signal_processing():
    done = subprocess.run([sys.executable, "-c", "import sys, json; from firmware.cli import build_parser\n"
                           "build_parser().parse_args(['web', '--port', '0'])\n"
                           f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))))"],
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
    done = subprocess.run([sys.executable, "-c", "import sys; sys.modules['hq'] = None\n"
                           "from firmware.cli import build_parser\n"
                           "print(build_parser().parse_args(['retention', '--days', '90']).days)"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "90.0", done.stderr
