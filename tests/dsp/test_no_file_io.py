"""dsp/ is pure signal processing: it reads no files (the tone plans are read by firmware/config).

The import-linter contract "dsp reads no files" (pyproject.toml) keeps tomllib, pathlib, os, io, wave
and the like out of dsp; what no import shows, the built-in open() and numpy's own file readers, is
found here by scanning the sources (docs/architecture.md §4)."""
import re
from pathlib import Path

DSP = Path(__file__).resolve().parents[2] / "dsp"
# The built-in open (not a method such as a framer's .open), reads off a path object, numpy's readers.
FILE_IO = re.compile(r"(?<![\w.])open\(|\.read_(text|bytes)\(|\bnp\.(load|loadtxt|genfromtxt|fromfile|memmap)\(")


def file_io_lines(root: Path) -> list[str]:
    return [f"{path.name}:{n}: {line.strip()}"
            for path in sorted(root.glob("*.py"))
            for n, line in enumerate(path.read_text().splitlines(), 1)
            if FILE_IO.search(line.split("#", 1)[0])]


def test_dsp_sources_open_no_files():
    assert file_io_lines(DSP) == []


def test_the_scan_sees_each_way_of_reading_a_file(tmp_path):
    planted = ["f = open('cn.toml', 'rb')", "text = p.read_text()", "data = p.read_bytes()",
               "a = np.load('x.npy')", "b = np.fromfile('x.raw', np.int16)", "c = np.loadtxt('x.csv')"]
    (tmp_path / "leaky.py").write_text("\n".join(planted) + "\n"
                                       "# open( in a comment is no access\n"
                                       "frames, _ = self._framer.frames(x)\n"
                                       "port.open()\n")
    assert [line.split(": ", 1)[1] for line in file_io_lines(tmp_path)] == planted
