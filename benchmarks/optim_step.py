"""Step time of every optimizer of the book's Optimizers part against torch.optim.AdamW.

    make bench                                    # 10M parameters, CPU, this machine
    .venv/bin/python benchmarks/optim_step.py --device cuda --params 10_000_000

The model is a stack of square linear layers with about `--params` parameters (weights and
biases, so many tensors of two shapes, as in a real network). Gradients are random and fixed,
so only `optimizer.step()` is timed: `--warmup` untimed steps (state creation, allocator), then
`--repeats` rounds in which every optimizer takes one timed step (synchronised on CUDA). The
optimizers are built first and interleaved in each round, so that a change of load on the
machine shifts them all alike; a ratio is the median over the rounds of the step's time over
AdamW's in the same round. Ratios are against
`torch.optim.AdamW(foreach=True)`. The part's goal: no optimizer whose update is elementwise
slower than 1.5x AdamW. Second-order and multi-objective methods (Exact Gauss-Newton, MKOR,
Jacobian descent, Bloop) are not drop-in `step()` replacements and are not timed here.
"""
from __future__ import annotations

import argparse
import importlib
import math
import statistics
import sys
import time
from typing import Callable, Optional

import torch

GOAL = 1.5

# name -> (module, class, constructor keyword arguments, elementwise update?)
OPTIMIZERS: dict[str, tuple[str, str, dict, bool]] = {
    "torch AdamW (foreach)": ("torch.optim", "AdamW", dict(lr=1e-3, foreach=True), True),
    "torch Adam (foreach)": ("torch.optim", "Adam", dict(lr=1e-3, foreach=True), True),
    "torch SGD momentum (foreach)": ("torch.optim", "SGD",
                                     dict(lr=1e-2, momentum=0.9, foreach=True), True),
    "AMSGrad": ("papers_lib.optim.amsgrad", "AMSGrad", dict(lr=1e-3), True),
    "Lion": ("papers_lib.optim.lion", "Lion", dict(lr=1e-4, weight_decay=0.1), True),
    "DiffGrad": ("papers_lib.optim.diffgrad", "DiffGrad", dict(lr=1e-3), True),
    "AdEMAMix": ("papers_lib.optim.ademamix", "AdEMAMix", dict(lr=1e-3), True),
    "Grams": ("papers_lib.optim.grams", "Grams", dict(lr=1e-3), True),
    "CautiousAdam": ("papers_lib.optim.grams", "CautiousAdam", dict(lr=1e-3), True),
    "OptimisticAMSGrad": ("papers_lib.optim.optimistic", "OptimisticAMSGrad",
                          dict(lr=1e-3), True),
    "DoG": ("papers_lib.optim.dog", "DoG", dict(), True),
    "L-DoG": ("papers_lib.optim.dog", "DoG", dict(layerwise=True), True),
}


def make_params(n_params: int, device: torch.device, width: Optional[int] = None,
                layers: int = 10, seed: int = 0) -> list[torch.Tensor]:
    """`layers` square weight matrices and their biases, about `n_params` in all,
    with fixed random gradients attached."""
    if n_params < layers * 2:
        raise ValueError(f"n_params must be at least {layers * 2}, got {n_params}")
    width = width or max(1, int((-1 + math.sqrt(1 + 4 * n_params / layers)) / 2))
    g = torch.Generator().manual_seed(seed)
    params = []
    for _ in range(layers):
        for shape in ((width, width), (width,)):
            p = torch.randn(shape, generator=g).mul_(0.02).to(device).requires_grad_()
            p.grad = torch.randn(shape, generator=g).to(device)
            params.append(p)
    return params


def time_steps(opt: torch.optim.Optimizer, device: torch.device, warmup: int,
               repeats: int) -> float:
    """Median wall time of one `opt.step()` in seconds."""
    sync: Callable[[], None] = (torch.cuda.synchronize if device.type == "cuda"
                                else (lambda: None))
    for _ in range(warmup):
        opt.step()
    sync()
    if repeats == 0:
        return math.nan
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        opt.step()
        sync()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def run(n_params: int, device: torch.device, warmup: int, repeats: int,
        names: Optional[list[str]] = None) -> list[dict]:
    """Time every optimizer (all of `OPTIMIZERS`, or those in `names`). The optimizers
    are built side by side and timed in interleaved rounds, one step each per round, so
    that a change in the machine's load during the run affects them all alike."""
    rows, timed = [], []
    for name, (module, cls, kwargs, elementwise) in OPTIMIZERS.items():
        if names and name not in names:
            continue
        try:
            opt_cls = getattr(importlib.import_module(module), cls)
        except (ImportError, AttributeError):
            rows.append(dict(name=name, seconds=None, elementwise=elementwise))
            continue
        params = make_params(n_params, device)
        row = dict(name=name, seconds=None, elementwise=elementwise,
                   n=sum(p.numel() for p in params))
        rows.append(row)
        timed.append((row, opt_cls(params, **kwargs)))
    for row, opt in timed:
        time_steps(opt, device, warmup, 0)
    times: dict[str, list[float]] = {row["name"]: [] for row, _ in timed}
    for _ in range(repeats):
        for row, opt in timed:
            times[row["name"]].append(time_steps(opt, device, 0, 1))
    ref = times.get("torch AdamW (foreach)")
    for row, _ in timed:
        row["seconds"] = statistics.median(times[row["name"]])
        if ref:  # the ratio within each round, then the median over rounds
            row["ratio"] = statistics.median(
                t / r for t, r in zip(times[row["name"]], ref))
    return rows


def report(rows: list[dict], device: torch.device) -> bool:
    """Print the table; True when every elementwise optimizer meets the goal."""
    ref = next(r["seconds"] for r in rows if r["name"] == "torch AdamW (foreach)")
    n = next(r["n"] for r in rows if "n" in r)
    where = (torch.cuda.get_device_name(device) if device.type == "cuda"
             else f"CPU, {torch.get_num_threads()} threads")
    print(f"optimizer step time, {n:,} parameters, {where}, torch {torch.__version__}")
    print(f"{'optimizer':30s} {'ms/step':>9s} {'x AdamW':>8s}  goal (<= {GOAL}x)")
    ok = True
    for r in rows:
        if r["seconds"] is None:
            print(f"{r['name']:30s} {'-':>9s} {'-':>8s}  not in papers_lib yet")
            continue
        ratio = r.get("ratio", r["seconds"] / ref)
        verdict = ("met" if ratio <= GOAL else "MISSED") if r["elementwise"] else "n/a"
        ok &= verdict != "MISSED"
        print(f"{r['name']:30s} {1e3 * r['seconds']:9.2f} {ratio:8.2f}  {verdict}")
    return ok


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", type=int, default=10_000_000)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=25)
    ap.add_argument("--only", nargs="*", help="optimizer names to time (AdamW always)")
    args = ap.parse_args(argv)
    device = torch.device(args.device)
    names = None if not args.only else ["torch AdamW (foreach)", *args.only]
    rows = run(args.params, device, args.warmup, args.repeats, names)
    return 0 if report(rows, device) else 1


if __name__ == "__main__":
    sys.exit(main())
