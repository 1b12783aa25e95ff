"""HQ's collector stands alone: it runs on HQ's server with none of the box's software (no numpy,
scipy, sqlite_utils or firmware module), as `python -m hq pull` and as `branchline hq pull`."""
import json
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BOX_SOFTWARE = ("numpy", "scipy", "sqlite_utils", "firmware", "dsp", "drivers", "webui")


def _python(code: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_importing_the_collector_loads_nothing_of_the_box():
    done = _python("import sys, json, hq.collector\n"
                   f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({BOX_SOFTWARE!r}))))")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_python_m_hq_pulls_with_the_box_software_unimportable(tmp_path):
    config = tmp_path / "hq.toml"
    config.write_text(f'[hq]\ndatabase = "hq.db"\nfiles = "files"\n[[box]]\nid = "branch-001"\n'
                      f'url = "http://127.0.0.1:{_closed_port()}/"\ntoken = "blhq_x"\n')
    # None in sys.modules makes any import of the name fail, as on a server that never installed it.
    done = _python("import runpy, sys\n"
                   f"sys.modules.update(dict.fromkeys({BOX_SOFTWARE!r}))\n"
                   "sys.argv = ['hq', 'pull', '--config', sys.argv[1], '--once']\n"
                   "runpy.run_module('hq', run_name='__main__')", str(config))
    # One round: the box cannot be reached, so it is reported and the round exits 1; HQ's store exists.
    assert done.returncode == 1, done.stderr
    assert "branch-001" in done.stdout + done.stderr
    assert (tmp_path / "hq.db").exists()


def test_branchline_hq_pull_refuses_a_bad_configuration_like_python_m_hq(tmp_path):
    config = tmp_path / "hq.toml"
    config.write_text("[hq]\n")
    for cmd in (["-m", "hq", "pull"], ["-m", "firmware.cli", "hq", "pull"]):
        done = subprocess.run([sys.executable, *cmd, "--config", str(config), "--once"], cwd=ROOT,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 2 and "no [[box]] to pull from" in done.stderr, (cmd, done.stderr)
