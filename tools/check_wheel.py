#!/usr/bin/env python3
"""Build papers_lib's wheel and check it as a user meets it, in a fresh virtual environment.

    python tools/check_wheel.py

`python -m build --wheel` makes the wheel; a new virtual environment gets torch (the pinned CPU
build, as `make venv` installs it) and the wheel with its `run` extra, so only the runtime
dependencies, never the development set. From a folder outside the repository the check then
imports every module of every part from the installed copy, finds `py.typed`, and runs
`papers-run --help` from the environment's own `bin/`. Exit status 1 on any failure.
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TORCH = "torch==2.13.0"  # the same pin as the Makefile: the CPU build on these machines

# Run inside the fresh environment: every module imports, from the installed copy.
PROBE = r"""
import importlib, pkgutil, sys
from pathlib import Path
import papers_lib
here = Path(papers_lib.__file__).resolve().parent
assert "site-packages" in here.parts, f"papers_lib imported from {here}, not the wheel"
assert (here / "py.typed").is_file(), "py.typed is missing from the wheel"
names = [m.name for m in pkgutil.walk_packages(papers_lib.__path__, "papers_lib.")]
for name in names:
    importlib.import_module(name)
parts = [p for p in papers_lib.PARTS if importlib.import_module(f"papers_lib.{p}")]
print(f"{len(names)} modules and {len(parts)} parts import from {here}")
"""


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if done.returncode:
        raise SystemExit(f"check_wheel: {' '.join(map(str, cmd))} failed:\n"
                         f"{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return done


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="papers-wheel-") as tmp:
        tmp = Path(tmp)
        run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir",
             str(tmp / "dist"), str(ROOT)])
        wheel = next((tmp / "dist").glob("papers_lib-*.whl"))
        base = getattr(sys, "_base_executable", sys.executable)
        run([base, "-m", "venv", str(tmp / "venv")])
        py, pip = tmp / "venv" / "bin" / "python", [str(tmp / "venv" / "bin" / "python"),
                                                    "-m", "pip", "install", "-q"]
        run(pip + [TORCH])
        run(pip + [f"{wheel}[run]"])
        probe = run([str(py), "-c", PROBE], cwd=tmp)  # not the repository: no shadowing
        help_ = run([str(tmp / "venv" / "bin" / "papers-run"), "--help"], cwd=tmp)
        assert help_.stdout.startswith("usage: papers-run"), help_.stdout[:200]
        print(f"check_wheel: {wheel.name}: {probe.stdout.strip()}; papers-run --help works")
    return 0


if __name__ == "__main__":
    sys.exit(main())
