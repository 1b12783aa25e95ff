"""Bytecode for both processes' optimisation levels, written once by `make install`.

The services cannot write beside their code (docs/architecture.md §30), so a module without bytecode for
its process's level is compiled from source at every import: CPU at each start and, for a module that
loads late, memory the allocator keeps. phonenumbers' metadata, loaded with the first number a page or
a screen pop reads, left the web process 3.5 MB larger compiled from source than loaded from bytecode.
The engine runs at the default level (0), the web process at its flags' (`web_child.WEB_PYTHON_FLAGS`,
-OO: level 2). Our packages get both levels; the standard library and the venv already have level 0
(Debian's packages and pip write it), so they get level 2."""
from __future__ import annotations

import compileall
import re
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("firmware", "drivers", "dsp", "webui", "typed_toml")
WEB_LEVEL = 2
# What the box never imports, some of it not Python 3 on purpose (lib2to3's test data); in the standard
# library's tree, the interpreter's own site-packages too (a venv has its own).
_NOT_IMPORTED = r"[/\\](test|tests|idlelib|lib2to3|tkinter|turtledemo|ensurepip{})[/\\]"
STDLIB_SKIP = re.compile(_NOT_IMPORTED.format("|site-packages|dist-packages"))
VENV_SKIP = re.compile(_NOT_IMPORTED.format(""))


def compile_all(root: Path = ROOT) -> bool:
    """Compile our packages under `root` for levels 0 and 2, and the standard library and this
    interpreter's site-packages for level 2. False if one of our modules does not compile; a file
    elsewhere that does not is only reported (nothing the box runs imports it). One process: a pool
    of compilers would make the check of bytecode already written take seconds instead of half of one."""
    ours = True
    for name in PACKAGES:   # every package, even after one fails, so that all errors are printed
        for level in (0, WEB_LEVEL):
            ours &= compileall.compile_dir(root / name, quiet=1, optimize=level)
    for path, skip in ((sysconfig.get_path("stdlib"), STDLIB_SKIP), (sysconfig.get_path("purelib"), VENV_SKIP)):
        compileall.compile_dir(path, quiet=1, optimize=WEB_LEVEL, rx=skip)
    return ours


def main() -> int:
    if not compile_all():
        print("bytecode: some of the box's own modules do not compile (above)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
