"""Import time of each part of papers_lib in a fresh interpreter, after `import torch`.

    make bench ARGS="--sections imports"
    .venv/bin/python benchmarks/import_time.py --import-runs 9

One interpreter imports torch, then forks a child per import: each child is a fresh
process that has imported torch and nothing else, and times `import papers_lib.X` there
(what `python -X importtime -c "import torch; import papers_lib.X"` gives minus torch's
own, without paying torch's import each time). The parts are interleaved within each
round; the median over `--import-runs` rounds is reported, with the number of modules the
import added to `sys.modules` and the non-torch packages and other parts among them. The
goal: no part's import paying for what a user did not call (scipy, matplotlib or another
part loaded eagerly).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from typing import Optional

from common import section_args

PARTS = ["papers_lib", "papers_lib.optim", "papers_lib.analysis", "papers_lib.flows",
         "papers_lib.diffusion", "papers_lib.gan", "papers_lib.gradest", "papers_lib.ode",
         "papers_lib.graphs", "papers_lib.graphs.toolkit", "papers_lib.core", "papers_lib.data", "papers_lib.claims", "papers_lib.metrics",
         "papers_lib.diffusion.bfn", "papers_lib.optim.implicit"]
HEAVY = ["scipy", "matplotlib", "numpy", "pandas", "sklearn", "torchvision", "tqdm",
         "IPython", "PIL"]

_SERVER = """
import json, os, sys, time
import torch
parts, runs, heavy = json.loads(sys.argv[1])
out = {p: [] for p in parts}
for _ in range(runs):
    for mod in parts:
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: a process that has imported torch and nothing else
            os.close(r)
            before = set(sys.modules)
            t0 = time.perf_counter()
            __import__(mod)
            dt = time.perf_counter() - t0
            new = set(sys.modules) - before
            os.write(w, json.dumps(dict(
                seconds=dt, n=len(new),
                heavy=sorted({m.split('.')[0] for m in new} & set(heavy)),
                parts=sorted(m for m in new if m.startswith('papers_lib.')
                             and m.count('.') == 1))).encode())
            os._exit(0)
        os.close(w)
        with os.fdopen(r) as f:
            out[mod].append(json.loads(f.read()))
        os.waitpid(pid, 0)
print(json.dumps(out))
"""


def run(runs: int = 5, parts: Optional[list[str]] = None,
        python: str = sys.executable) -> list[dict]:
    """Per part: the median time of `import part` over `runs` rounds, each import in a
    process forked from one that has imported torch and nothing else (a fresh interpreter
    would measure the same, plus torch's own import each time); parts interleaved."""
    parts = parts or PARTS
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    done = subprocess.run([python, "-c", _SERVER, json.dumps([parts, runs, HEAVY])],
                          capture_output=True, text=True, check=True, env=env)
    results = json.loads(done.stdout.strip().splitlines()[-1])
    return [dict(part=p, seconds=statistics.median(r["seconds"] for r in rs),
                 n=rs[-1]["n"], heavy=rs[-1]["heavy"], parts=rs[-1]["parts"])
            for p, rs in results.items()]


def report(rows: list[dict]) -> bool:
    print("import time after `import torch`, a fresh forked process each run, median")
    print(f"{'part':26s} {'ms':>7s} {'modules':>7s}  non-torch packages and other parts "
          f"it loads")
    for r in rows:
        extra = ", ".join(r["heavy"] + [p for p in r["parts"] if not r["part"]
                                         .startswith(p)])
        print(f"{r['part']:26s} {1e3 * r['seconds']:7.1f} {r['n']:7d}  {extra or '-'}")
    return True


def add_arguments(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--import-runs", type=int, default=5)


def main(argv: Optional[list[str]] = None, args=None) -> int:
    args = section_args(__doc__, add_arguments, argv, args)
    return 0 if report(run(args.import_runs)) else 1


if __name__ == "__main__":
    sys.exit(main())
