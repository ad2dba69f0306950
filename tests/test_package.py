"""The front door: `import papers_lib` loads no part, each part loads on first use, and the
package ships `py.typed`."""
import importlib
import pkgutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import papers_lib

ROOT = Path(__file__).resolve().parents[1]


def _run(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip()


def test_import_loads_no_part_and_a_part_loads_on_first_use():
    out = _run("import sys, papers_lib\n"
               "print(sorted(m for m in sys.modules if m.startswith('papers_lib.')))\n"
               "papers_lib.ode.odeint\n"
               "print('papers_lib.ode.solvers' in sys.modules, 'papers_lib.optim' in sys.modules)")
    assert out.splitlines() == ["[]", "True False"]


def test_every_subpackage_and_module_is_a_part():
    found = {m.name for m in pkgutil.iter_modules(papers_lib.__path__)
             if not m.name.startswith("_")}
    assert found == set(papers_lib.PARTS), "list a new part in PARTS (00_package.ipynb)"
    assert set(papers_lib.PARTS) <= set(dir(papers_lib))
    for name in papers_lib.PARTS:
        assert getattr(papers_lib, name).__name__ == f"papers_lib.{name}"


def test_moved_modules_import_under_their_old_names_as_the_same_module():
    out = _run("import papers_lib.implicit as a, papers_lib.optim.implicit as b\n"
               "from papers_lib.bfn import ContinuousBFN\n"
               "import papers_lib.diffusion.bfn as c\n"
               "print(a is b, ContinuousBFN is c.ContinuousBFN, a.__name__)")
    assert out == "True True papers_lib.optim.implicit"
    assert set(papers_lib.MOVED) <= set(dir(papers_lib))
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("papers_lib.optimizers")  # not a moved name: declined


def test_no_notebook_imports_a_moved_module_by_its_old_name():
    import re
    pat = re.compile(r"papers_lib\.(%s)\b|from papers_lib import [^\n]*\b(%s)\b"
                     % ("|".join(papers_lib.MOVED), "|".join(papers_lib.MOVED)))
    olds = [str(f.relative_to(ROOT)) for f in ROOT.glob("nbs/**/*.ipynb")
            if f.name != "00_package.ipynb" and pat.search(f.read_text(encoding="utf-8"))]
    assert not olds, f"import the new path (papers_lib.MOVED): {olds}"


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="has no attribute 'optimizers'"):
        papers_lib.optimizers
    assert not hasattr(papers_lib, "lion")


def test_wheel_ships_py_typed(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                    "--no-build-isolation", str(ROOT), "-w", str(tmp_path)],
                   check=True, capture_output=True, cwd=tmp_path)
    (wheel,) = tmp_path.glob("papers_lib-*.whl")
    assert "papers_lib/py.typed" in zipfile.ZipFile(wheel).namelist()


PEERS = ("ot", "torchdiffeq", "pytorch_optimizer", "dog", "torch_geometric", "xxhash")


def test_peers_are_imported_by_tests_and_benchmarks_only():
    """requirements-peers.txt holds test-only peers: neither the library nor a notebook may
    import one (a reader's environment has none of them)."""
    import json
    import re
    pat = re.compile(r"^\s*(?:from|import)\s+(%s)\b" % "|".join(PEERS), re.M)
    sources = {str(f.relative_to(ROOT)): f.read_text(encoding="utf-8")
               for f in ROOT.glob("papers_lib/**/*.py")}
    for f in ROOT.glob("nbs/**/*.ipynb"):
        cells = json.loads(f.read_text(encoding="utf-8"))["cells"]
        sources[str(f.relative_to(ROOT))] = "\n".join(
            "".join(c["source"]) for c in cells if c["cell_type"] == "code")
    assert pat.search("x = 1\nimport ot\n") and not pat.search("import torch")
    hits = sorted(name for name, src in sources.items() if pat.search(src))
    assert not hits, f"a test-only peer imported by: {hits}"


def test_generated_imports_keep_their_continuation_lines_aligned():
    """nbdev rewrites `from papers_lib.x import (a,` to `from .x import (a,` and leaves the
    next line where it was: notebooks write a multi-line import with a hanging indent."""
    import re
    bad = []
    for f in sorted(ROOT.glob("papers_lib/**/*.py")):
        lines = f.read_text(encoding="utf-8").split("\n")
        for i, line in enumerate(lines[:-1]):
            m = re.match(r"^(from \S+ import \()\S", line)
            if m and not line.rstrip().endswith(")"):
                nxt = lines[i + 1]
                if len(nxt) - len(nxt.lstrip()) != len(m.group(1)):
                    bad.append(f"{f.relative_to(ROOT)}:{i + 1}")
    assert not bad, f"misaligned import continuation (use a hanging indent): {bad}"


def test_every_module_has_its_docstring():
    """`help(papers_lib.optim)` shows the module's docstring: nbdev writes `__all__` above
    the first exported cell unless that cell ends with `from __future__`, and a docstring
    below `__all__ = []` is a stray string, not the module's docstring."""
    import importlib
    import pkgutil
    import papers_lib
    names = [m.name for m in pkgutil.walk_packages(papers_lib.__path__, "papers_lib.")
             if not m.name.rsplit(".", 1)[-1].startswith("_")]
    assert len(names) > 40
    missing = [n for n in ["papers_lib", *names] if not importlib.import_module(n).__doc__]
    assert not missing
