"""Content keys for the notebook tests: which notebooks nbval must run, and which it verified.

The practice of jupyter-cache and of d2l's book tool: re-evaluate only what changed. A notebook's
key hashes everything that decides what nbval sees when it runs the notebook:

- its code cells: sources, stored outputs and metadata (a prose edit does not change the key);
- the `papers_lib` modules it imports, and those they import, transitively, read from the
  package's own source (importing `papers_lib.a.b` also runs `papers_lib/__init__.py` and
  `papers_lib/a/__init__.py`, so those count too);
- the nbval harness: `tests/nbval_gpu.py` (with the `papers_lib` modules it imports: the
  kernel environment) and `tests/sanitize.cfg`;
- the pinned tool and runtime versions (`requirements-dev.txt` and the torch pin in the
  Makefile, with the versions installed under those names), the Python version and platform.

`tests/nbval_record.py`, a pytest plugin, writes the keys of the notebooks that an nbval run
verified into the committed record `tests/nbval-record.json`; nothing else writes it. Before a
run, `select` compares each notebook's key with the record: a notebook runs when it is new or
one of its parts changed (and says which), or when it falls in the rotating sample that the
commit hash picks from the verified ones.

    python tools/nbcache.py select [--sample 0.125] [--commit SHA] [NB_OR_DIR ...]

prints the notebooks to run, one per line, on stdout, and why, on stderr.
"""
from __future__ import annotations

import argparse
import ast
import contextlib
import hashlib
import json
import math
import os
import platform
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Iterable, Optional

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "papers_lib"
RECORD = Path("tests/nbval-record.json")
HARNESS = (Path("tests/nbval_gpu.py"), Path("tests/sanitize.cfg"))
PINS = (Path("requirements-dev.txt"), Path("Makefile"))
SAMPLE = 0.125  # the share of verified notebooks that each `make test` re-runs anyway
_PIN = re.compile(r"(?<![\w.\-])([A-Za-z][\w.\-]*)==([\w.+!\-]+)")  # name==version


def _digest(obj) -> str:
    text = obj if isinstance(obj, (str, bytes)) else json.dumps(obj, sort_keys=True)
    data = text.encode() if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest()[:16]


# --- imports, read from source ------------------------------------------------------------

def _python_source(cell_source: str) -> str:
    """A code cell as plain Python: IPython magics and shell escapes become calls."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
        return TransformerManager().transform_cell(cell_source)
    except Exception:  # no IPython here: drop the magic lines
        return "\n".join(ln for ln in cell_source.splitlines()
                         if not ln.lstrip().startswith(("%", "!")))


def module_file(name: str, root: Path = ROOT) -> Optional[Path]:
    """The source file of module `name` of the package under `root`, or None."""
    base = root.joinpath(*name.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def lazy_table(name: str, root: Path = ROOT) -> dict:
    """`{exported name: submodule}` of package `name` when its `__init__.py` re-exports its
    chapters' names with `papers_lib.core.lazy_exports(__name__, {...})` (a literal table)."""
    path = module_file(name, root)
    if path is None or path.name != "__init__.py":
        return {}
    for node in ast.walk(ast.parse(path.read_text())):
        if (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "lazy_exports"
                and len(node.args) == 2):
            table = ast.literal_eval(node.args[1])
            return {n: f"{name}.{sub}" for sub, names in table.items() for n in names}
    return {}


def imported_modules(source: str, module: Optional[str] = None,
                     is_package: bool = False, root: Path = ROOT) -> set[str]:
    """The package's modules that `source` imports (absolute, or relative to `module`).

    A name that a package re-exports lazily (`lazy_table`) counts as an import of the one
    module that defines it; `import package` or `from package import *` of such a package
    counts as an import of all its modules."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for a in node.names:
                found.add(a.name)
                found.update(lazy_table(a.name, root).values())
            continue
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level:  # relative: resolve against the importing module's package
            if module is None:
                continue
            parts = module.split(".")
            keep = len(parts) - node.level + (1 if is_package else 0)
            base = ".".join(parts[:keep] + ([node.module] if node.module else []))
        else:
            base = node.module or ""
        found.add(base)
        lazy = lazy_table(base, root) if base.split(".")[0] == PACKAGE else {}
        for a in node.names:
            if module_file(f"{base}.{a.name}", root):  # `from pkg import submodule`
                found.add(f"{base}.{a.name}")
            elif a.name in lazy:
                found.add(lazy[a.name])
            elif a.name == "*":
                found.update(lazy.values())
    return {m for m in found if m.split(".")[0] == PACKAGE and module_file(m, root)}


def module_closure(names: Iterable[str], root: Path = ROOT) -> set[str]:
    """`names`, their parent packages, and every package module they import, transitively."""
    todo, seen = list(names), set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        parts = name.split(".")
        todo += [".".join(parts[:i]) for i in range(1, len(parts))]  # parents run first
        path = module_file(name, root)
        todo += imported_modules(path.read_text(), name, path.name == "__init__.py", root)
    return seen


def notebook_imports(nb: dict, root: Path = ROOT) -> set[str]:
    """The package's modules that the code cells of notebook `nb` import, directly."""
    found: set[str] = set()
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        src = cell.get("source", "")
        src = "".join(src) if isinstance(src, list) else src
        try:
            found |= imported_modules(_python_source(src), root=root)
        except SyntaxError:  # nbval will report it; a module named here still counts
            found |= {m for m in re.findall(rf"\b{PACKAGE}(?:\.\w+)*", src)
                      if module_file(m, root)}
    return found


# --- the key --------------------------------------------------------------------------------

def code_cells(nb: dict) -> list:
    """What nbval reads of a notebook: each code cell's source, stored outputs and metadata."""
    def text(src):
        return "".join(src) if isinstance(src, list) else src
    return [{"source": text(c.get("source", "")), "outputs": c.get("outputs", []),
             "metadata": c.get("metadata", {})}
            for c in nb.get("cells", []) if c.get("cell_type") == "code"]


def versions(root: Path = ROOT, installed=None) -> dict:
    """The pins (`name==version` in requirements-dev.txt and the Makefile), the version
    installed under each pinned name, the Python version and the platform."""
    installed = installed or _installed
    pins: dict = {}
    for rel in PINS:
        path = root / rel
        if path.is_file():
            pins.update((n.lower(), v) for n, v in _PIN.findall(path.read_text()))
    return {"pins": pins, "installed": {n: installed(n) for n in sorted(pins)},
            "python": "%d.%d" % sys.version_info[:2],
            "platform": f"{sys.platform}-{platform.machine().lower()}"}


def _installed(name: str) -> Optional[str]:
    try:
        return metadata.version(name.split("[")[0])
    except metadata.PackageNotFoundError:
        return None


def harness(root: Path = ROOT) -> dict:
    """Hashes of the nbval plugin, its sanitizer and the package modules the plugin imports."""
    files = {rel.as_posix(): _digest((root / rel).read_bytes()) for rel in HARNESS}
    mods: set[str] = set()
    for rel in HARNESS:
        if rel.suffix == ".py":
            mods |= imported_modules((root / rel).read_text(), root=root)
    files.update(_module_hashes(module_closure(mods, root), root))
    return files


def _module_hashes(names: Iterable[str], root: Path) -> dict:
    return {n: _digest(module_file(n, root).read_bytes()) for n in sorted(names)}


def key_parts(path: Path, root: Path = ROOT, env: Optional[dict] = None) -> dict:
    """The parts of notebook `path`'s key: cells, modules, harness, versions (each a hash).

    `env` is `{"harness": ..., "versions": ...}`, computed once for many notebooks."""
    nb = json.loads(Path(path).read_text())
    env = env or environment(root)
    mods = module_closure(notebook_imports(nb, root), root)
    return {"cells": _digest(code_cells(nb)), "modules": _module_hashes(mods, root),
            "harness": env["harness"], "versions": env["versions"]}


def environment(root: Path = ROOT, installed=None) -> dict:
    """The parts of the key that every notebook shares."""
    return {"harness": _digest(harness(root)), "versions": _digest(versions(root, installed))}


def key(parts: dict) -> str:
    return _digest(parts)


# --- the record -----------------------------------------------------------------------------

def read_record(path: Path) -> dict:
    """`{notebook: {"key": ..., **parts}}` from the record at `path` (empty if none)."""
    path = Path(path)
    if not path.is_file():
        return {}
    return json.loads(path.read_text()).get("notebooks", {})


def write_record(path: Path, verified: dict, root: Path = ROOT) -> dict:
    """Add `verified` (`{notebook: parts}`) to the record at `path`, drop the entries of
    notebooks that no longer exist, and write it back. Safe when several runs end at once."""
    path = Path(path)
    lock = root / "_build" / "nbval-record.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "w") as fh, _locked(fh):
        notebooks = read_record(path)
        notebooks.update({nb: {"key": key(p), **p} for nb, p in verified.items()})
        notebooks = {nb: e for nb, e in sorted(notebooks.items()) if (root / nb).is_file()}
        doc = {"about": "Keys of the notebooks that nbval verified (tools/nbcache.py). "
                        "Written only by tests/nbval_record.py after a passing run.",
               "notebooks": notebooks}
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
        os.replace(tmp, path)
    return notebooks


@contextlib.contextmanager
def _locked(fh):
    try:
        import fcntl
    except ImportError:  # not POSIX: one run at a time, then
        yield
        return
    fcntl.flock(fh, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(fh, fcntl.LOCK_UN)


# --- the selection --------------------------------------------------------------------------

def why_changed(parts: dict, entry: Optional[dict]) -> Optional[str]:
    """Why a notebook with key `parts` is not verified by the record `entry` (None if it is)."""
    if entry is None:
        return "new: not in the record"
    if entry.get("key") == key(parts):
        return None
    reasons = []
    if entry.get("versions") != parts["versions"]:
        reasons.append("pinned versions, Python or platform changed")
    if entry.get("harness") != parts["harness"]:
        reasons.append("nbval plugin or sanitizer changed")
    if entry.get("cells") != parts["cells"]:
        reasons.append("cells changed")
    old, new = entry.get("modules", {}), parts["modules"]
    changed = sorted(m for m in new if m in old and old[m] != new[m])
    if changed:
        reasons.append("module changed: " + ", ".join(changed))
    if set(old) != set(new):
        added, gone = sorted(set(new) - set(old)), sorted(set(old) - set(new))
        reasons.append("imports changed: " + ", ".join(
            [f"+{m}" for m in added] + [f"-{m}" for m in gone]))
    return "; ".join(reasons) or "key changed"


def sample(paths: list, commit: str, share: float) -> list:
    """The rotating sample: `ceil(share * len(paths))` of `paths`, ranked by a hash of the
    commit and the path, so that each commit picks a different, reproducible set."""
    k = math.ceil(share * len(paths)) if paths and share > 0 else 0
    ranked = sorted(paths, key=lambda p: hashlib.sha256(f"{commit}:{p}".encode()).hexdigest())
    return sorted(ranked[:k])


def select(notebooks: list, record: dict, commit: str, share: float = SAMPLE,
           root: Path = ROOT, env: Optional[dict] = None) -> dict:
    """Split `notebooks` (paths relative to `root`) into `run` (`{path: reason}`), `verified`
    (skipped: their keys are in `record`), `empty` (no code cells: nothing for nbval to check)
    and `stale` (record entries for missing notebooks)."""
    env = env or environment(root)
    run, verified, empty = {}, [], []
    for nb in notebooks:
        if not code_cells(json.loads((root / nb).read_text())):
            empty.append(nb)
            continue
        reason = why_changed(key_parts(root / nb, root, env), record.get(nb))
        if reason:
            run[nb] = reason
        else:
            verified.append(nb)
    picked = sample(verified, commit, share)
    run.update({nb: f"rotating sample (commit {commit[:7]})" for nb in picked})
    return {"run": dict(sorted(run.items())),
            "verified": [nb for nb in verified if nb not in picked],
            "empty": empty,
            "stale": sorted(nb for nb in record if not (root / nb).is_file())}


def find_notebooks(args: Iterable[str], root: Path = ROOT) -> list:
    """The notebooks named in `args` or found under the folders there, relative to `root`."""
    found = set()
    for arg in args:
        path = (root / arg) if not Path(arg).is_absolute() else Path(arg)
        hits = [path] if path.suffix == ".ipynb" else path.rglob("*.ipynb")
        found |= {p.resolve().relative_to(root).as_posix() for p in hits
                  if not any(part.startswith(".") for part in p.relative_to(root).parts)}
    return sorted(found)


def head_commit(root: Path = ROOT) -> str:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "no-commit"


def main(argv: Optional[list] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    sel = sub.add_parser("select", help="print the notebooks that nbval must run")
    sel.add_argument("paths", nargs="*", default=["nbs"])
    sel.add_argument("--sample", type=float, default=SAMPLE,
                     help="share of the verified notebooks to re-run anyway (default %(default)s)")
    sel.add_argument("--commit", default=None, help="picks the sample (default: git HEAD)")
    sel.add_argument("--record", default=str(RECORD))
    args = ap.parse_args(argv)
    if not 0 <= args.sample <= 1:
        ap.error(f"--sample must be in [0, 1], got {args.sample}")

    notebooks = find_notebooks(args.paths)
    commit = args.commit or head_commit()
    out = select(notebooks, read_record(ROOT / args.record), commit, args.sample)
    n_changed = sum(not r.startswith("rotating") for r in out["run"].values())
    say = lambda s="": print(s, file=sys.stderr)  # noqa: E731
    say(f"nbval: {len(notebooks)} notebooks: {len(out['verified'])} skipped, verified in "
        f"{args.record}; {len(out['run'])} to run: {n_changed} new or changed, "
        f"{len(out['run']) - n_changed} in the rotating sample "
        f"({args.sample:g} of the verified, commit {commit[:7]})"
        + (f"; {len(out['empty'])} without code cells" if out["empty"] else ""))
    for nb, reason in out["run"].items():
        say(f"  run {nb}: {reason}")
    if out["stale"]:
        say(f"  ignored: {len(out['stale'])} record entries for notebooks that no longer exist "
            f"({', '.join(out['stale'])}); the next recording run drops them")
    if out["run"]:
        print("\n".join(out["run"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
