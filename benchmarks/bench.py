"""`make bench`: the book's benchmarks against their peers, one section each (not tests).

    make bench                                   # every section, default sizes
    make bench ARGS="--sections ode ot"          # some sections
    make bench ARGS="--no-compile --repeats 10"  # options of the sections, below
    .venv/bin/python benchmarks/bench.py --help

Sections: `optim` (benchmarks/optim_step.py: each optimizer's step vs AdamW, vs its peer,
and as a multiple of its memory-bandwidth floor, eager and compiled), `ode`
(benchmarks/ode_solvers.py: papers_lib.ode.odeint vs torchdiffeq), `ot`
(benchmarks/ot_coupling.py: the minibatch OT couplings vs POT) and `imports`
(benchmarks/import_time.py: each part's import time after torch). Every timing interleaves
what it compares, in rounds, and reports medians, so that a change of load on the machine
shifts both sides alike. Exit status 1 when a section misses its goal (ours slower than
its fastest peer, or an elementwise optimizer slower than 1.5x AdamW).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))

import import_time  # noqa: E402
import ode_solvers  # noqa: E402
import optim_step  # noqa: E402
import ot_coupling  # noqa: E402

SECTIONS = {"optim": optim_step, "ode": ode_solvers, "ot": ot_coupling,
            "imports": import_time}


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sections", nargs="+", choices=list(SECTIONS),
                    default=list(SECTIONS))
    for mod in SECTIONS.values():
        mod.add_arguments(ap)
    return ap


def main(argv: Optional[list[str]] = None) -> int:
    args = parser().parse_args(argv)
    status = 0
    for name in args.sections:
        t0 = time.perf_counter()
        print(f"== {name} ==", flush=True)
        status |= SECTIONS[name].main(args=args)
        print(f"({name}: {time.perf_counter() - t0:.0f} s)\n", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
