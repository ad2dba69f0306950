"""What `make test` and `make test-full` will cost when the book has 500 notebooks (a benchmark).

    make budget                    # reuse the costs of the last runs where they cover the book
    make budget ARGS="--measure"   # run every step again first (about 8 minutes on 2 cores)

It times the steps of `make test-full` on this machine (check-sync, the library tests, nbval on
every notebook, the book build), reading the per-notebook and per-test-module seconds that
`tests/cost_report.py` writes to `_build/cost-*.json`, and scales each step to the target size:
the work that grows with the book (notebooks run, test modules, pages built) grows in
proportion to the notebooks, the rest (start-up, collection) stays. `make test` runs nbval only
on the notebooks whose key is not in the record (`tools/nbcache.py`) and a rotating sample of
the others; its figure is given for several kinds of commit. The last line reads
`at 500 notebooks: make test N min, make test-full M min`.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "_build"
STEPS = BUILD / "cost-steps.json"
sys.path.insert(0, str(ROOT / "tools"))
import nbcache  # noqa: E402

# `make venv` in a fresh clone of main, on this machine with pip's cache warm: 47 s
# (`git clone /work/main /tmp/fresh && cd /tmp/fresh && time make venv`, 2026-12-07).
VENV_SECONDS = 47.0


def _run_step(target: str) -> float:
    """Run `make <target>` and return its wall seconds (it must pass)."""
    t0 = time.perf_counter()
    subprocess.run(["make", "-s", target], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    return time.perf_counter() - t0


def _costs(name: str) -> dict:
    path = BUILD / f"cost-{name}.json"
    return json.loads(path.read_text())["files"] if path.is_file() else {}


def measure(force: bool) -> dict:
    """Wall seconds of each step and the seconds per file, running what is missing or stale."""
    steps = json.loads(STEPS.read_text()) if STEPS.is_file() and not force else {}
    notebooks = {nb for nb in nbcache.find_notebooks(["nbs"])  # those nbval has cells of
                 if nbcache.code_cells(json.loads((ROOT / nb).read_text()))}
    need = {
        "check-sync": "check-sync" not in steps,
        "pytest": "pytest" not in steps or not _costs("tests"),
        "nbval-all": "nbval-all" not in steps or set(_costs("nbval-all")) != notebooks,
        "book-check": "book-check" not in steps,
    }
    for target, missing in need.items():
        if missing:
            print(f"budget: running make {target} ...", flush=True)
            steps[target] = round(_run_step(target), 1)
    BUILD.mkdir(exist_ok=True)
    STEPS.write_text(json.dumps(steps, indent=1, sort_keys=True) + "\n")
    return steps


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--notebooks", type=int, default=500, help="the book's size to plan for")
    ap.add_argument("--workers", type=int, default=2, help="CPU cores of the CI machine")
    ap.add_argument("--sample", type=float, default=nbcache.SAMPLE,
                    help="make test's rotating sample (the Makefile's SAMPLE)")
    ap.add_argument("--measure", action="store_true", help="run every step again first")
    args = ap.parse_args(argv)
    if args.notebooks < 1 or args.workers < 1 or not 0 <= args.sample <= 1:
        ap.error("--notebooks and --workers must be >= 1 and --sample in [0, 1]")

    steps = measure(args.measure)
    nb_costs, test_costs = _costs("nbval-all"), _costs("tests")
    n, target, w = len(nb_costs), args.notebooks, args.workers
    scale = target / n
    per_nb = sum(nb_costs.values()) / n
    # the part of each step's wall time that is spread over the workers, and the rest
    nb_work = sum(nb_costs.values()) / w
    nb_fixed = max(steps["nbval-all"] - nb_work, 0.0)
    test_work = sum(test_costs.values()) / w
    test_fixed = max(steps["pytest"] - test_work, 0.0)

    def nbval(k: float) -> float:  # wall seconds to run k average notebooks
        return nb_fixed + k * per_nb / w if k else 0.0

    def suite(nbval_s: float, size: float) -> float:
        s = size / n
        return (VENV_SECONDS + steps["check-sync"] * s + test_fixed + test_work * s
                + nbval_s + steps["book-check"] * s)

    print(f"measured on this machine ({os.cpu_count()} cores), {n} notebooks, "
          f"{len(test_costs)} test modules:")
    rows = [("make venv (fresh clone)", VENV_SECONDS, VENV_SECONDS),
            ("check-sync", steps["check-sync"], steps["check-sync"] * scale),
            ("library tests", steps["pytest"], test_fixed + test_work * scale),
            ("nbval, every notebook", steps["nbval-all"], nbval(target)),
            ("book-check", steps["book-check"], steps["book-check"] * scale)]
    print(f"  {'step':28s} {'now':>8s} {'at ' + str(target):>10s}")
    for name, now, then in rows:
        print(f"  {name:28s} {now / 60:6.1f} m {then / 60:8.1f} m")
    print(f"  per notebook under nbval: {per_nb:.1f} s on average "
          f"(max {max(nb_costs.values()):.1f} s); library tests: "
          f"{sum(test_costs.values()) / n:.1f} CPU s per notebook")

    def test_at(changed: int) -> float:
        sampled = math.ceil(args.sample * (target - changed))
        return suite(nbval(changed + sampled), target)

    full_now, full_then = suite(nbval(n), n), suite(nbval(target), target)
    print(f"make test-full: now {full_now / 60:.1f} min, at {target} notebooks "
          f"{full_then / 60:.1f} min")
    print(f"make test at {target} notebooks (rotating sample {args.sample:g} of the verified):")
    for what, changed in (("nothing changed", 0), ("one chapter changed", 1),
                          ("a wave of 14 new chapters", 14),
                          ("a part's toolkit changed (100 notebooks)", 100),
                          ("papers_lib.core or a pin changed (all)", target)):
        print(f"  {what:42s} {test_at(changed) / 60:6.1f} min")
    print(f"at {target} notebooks: make test {test_at(0) / 60:.0f} min, "
          f"make test-full {full_then / 60:.0f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
