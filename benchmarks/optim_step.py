"""Step time of every optimizer of the book's Optimizers part: against torch.optim.AdamW,
against its peer (the same update in torch or a published package), and as a multiple of
its memory-bandwidth floor, eager and compiled.

    make bench ARGS="--sections optim"            # 10M parameters, CPU, this machine
    .venv/bin/python benchmarks/optim_step.py --device cuda --params 10_000_000
    .venv/bin/python benchmarks/optim_step.py --no-compile      # eager only, quicker

The model is a stack of square linear layers with about `--params` parameters (weights and
biases, so many tensors of two shapes, as in a real network). Gradients are random and fixed,
so only `optimizer.step()` is timed. Each optimizer is timed in a group: itself (eager),
itself under `torch.compile(opt.step)`, its peer, `torch.optim.AdamW(foreach=True)` and a
copy `dst.copy_(src)` of a float32 buffer as large as the parameters, each with its own
parameters; `--warmup` untimed steps (state creation, compilation), then `--repeats` rounds
in which each member takes one timed step (synchronised on CUDA). Interleaving makes a
change of load on the machine shift the members alike; a ratio is the median over the rounds
of the ratio within each round.

Columns: `x AdamW` (the part's goal: no elementwise optimizer slower than 1.5x AdamW),
`x peer` (ours over the peer, same hyper-parameters; the goal is <= 1.0; tests check that the
peer takes the same step), and `x floor` eager and compiled. The floor of an elementwise
update is the bytes it must read and write, over the copy bandwidth: a copy of N floats
moves 2 x 4N bytes, so an update touching k float32 tensors of N elements (`MOVED`) takes at
least k/2 copy times. The counts are lower bounds: CautiousAdam's per-tensor rescaling and
DoG's norms need a reduction before the update, so one pass cannot reach them.
Second-order and multi-objective methods (Exact Gauss-Newton, MKOR, Jacobian descent, Bloop)
are not drop-in `step()` replacements and are not timed here.
"""
from __future__ import annotations

import argparse
import importlib
import logging
import math
import statistics
import sys
import time
from typing import Callable, Optional

import torch

from common import section_args

GOAL = 1.5        # x AdamW, elementwise optimizers
PEER_GOAL = 1.0   # x peer
REF = "torch AdamW (foreach)"

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

# name -> the peer: (module, class, keyword arguments giving the same update as ours with
# the keyword arguments above; every default that differs between the two is spelled out),
# in its fastest form (foreach). Checked step for step in tests/test_benchmark.py.
# pytorch_optimizer 4.1.0 has no Cautious Adam (its `cautious` flag is on Lion, AdEMAMix,
# ADOPT, ... only) and no Optimistic AMSGrad: those two have no peer.
PEERS: dict[str, tuple[str, str, dict]] = {
    "AMSGrad": ("torch.optim", "Adam", dict(lr=1e-3, amsgrad=True, foreach=True)),
    "Lion": ("pytorch_optimizer", "Lion",
             dict(lr=1e-4, betas=(0.9, 0.99), weight_decay=0.1, weight_decouple=True,
                  foreach=True)),
    "DiffGrad": ("pytorch_optimizer", "DiffGrad",
                 dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                      foreach=True)),
    "AdEMAMix": ("pytorch_optimizer", "AdEMAMix",
                 dict(lr=1e-3, betas=(0.9, 0.999, 0.9999), alpha=5.0, eps=1e-8,
                      weight_decay=0.0, foreach=True)),
    "Grams": ("pytorch_optimizer", "Grams",
              dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                   foreach=True)),
    "DoG": ("dog", "DoG", dict(reps_rel=1e-6, lr=1.0, weight_decay=0.0, eps=1e-8)),
    "L-DoG": ("dog", "LDoG", dict(reps_rel=1e-6, lr=1.0, weight_decay=0.0, eps=1e-8)),
}

# name -> float32 tensors of N elements the update must read and write (the floor's count):
#   Adam, AdamW, Grams, CautiousAdam: read p, g, m, v; write p, m, v             7
#   SGD with momentum, Lion:          read p, g, m; write p, m                   5
#   AMSGrad:                          read p, g, m, v, v_max; write p, m, v, v_max   9
#   DiffGrad:                         read p, g, m, v, g_prev; write p, m, v, g_prev 9
#   AdEMAMix:                         read p, g, m1, m2, v; write p, m1, m2, v   9
#   OptimisticAMSGrad:                read p, g, m, v, v_max, o; write p, m, v, v_max, o  11
#   DoG, L-DoG:                       read p, g, x0 (the distance); write p     4
MOVED: dict[str, int] = {
    "torch AdamW (foreach)": 7, "torch Adam (foreach)": 7,
    "torch SGD momentum (foreach)": 5, "AMSGrad": 9, "Lion": 5, "DiffGrad": 9,
    "AdEMAMix": 9, "Grams": 7, "CautiousAdam": 7, "OptimisticAMSGrad": 11, "DoG": 4,
    "L-DoG": 4,
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


def _sync(device: torch.device) -> Callable[[], None]:
    return torch.cuda.synchronize if device.type == "cuda" else (lambda: None)


def time_steps(opt, device: torch.device, warmup: int, repeats: int) -> float:
    """Median wall time of one `opt.step()` (or of `opt()`, a callable) in seconds."""
    step = opt if callable(opt) and not hasattr(opt, "step") else opt.step
    sync = _sync(device)
    for _ in range(warmup):
        step()
    sync()
    if repeats == 0:
        return math.nan
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        step()
        sync()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def load(module: str, cls: str):
    """The class `module.cls`, or None when it cannot be imported."""
    try:
        return getattr(importlib.import_module(module), cls)
    except (ImportError, AttributeError):
        return None


def _reason(e: BaseException) -> str:
    """The root cause of a failure, in one short line."""
    while e.__cause__ is not None or getattr(e, "inner_exception", None) is not None:
        e = e.__cause__ or e.inner_exception
    line = next((s for s in str(e).splitlines() if s.strip()), "")
    return f"{type(e).__name__}: {line}"[:100]


def _group(name: str, n_params: int, device: torch.device, compile: bool,
           backend: str) -> tuple[dict, dict]:
    """The row of `name` and its group's members: label -> a step callable."""
    module, cls, kwargs, elementwise = OPTIMIZERS[name]
    row = dict(name=name, seconds=None, elementwise=elementwise, moved=MOVED.get(name))
    opt_cls = load(module, cls)
    if opt_cls is None:
        return row, {}
    params = make_params(n_params, device)
    row["n"] = sum(p.numel() for p in params)
    members = {"ours": opt_cls(params, **kwargs).step}
    members["ref"] = torch.optim.AdamW(make_params(n_params, device),
                                       **OPTIMIZERS[REF][2]).step
    src = torch.randn(row["n"], device=device)
    dst = torch.empty_like(src)
    members["copy"] = lambda: dst.copy_(src)
    if name in PEERS:
        pmod, pcls, pkw = PEERS[name]
        peer_cls = load(pmod, pcls)
        row["peer"] = f"{pmod}.{pcls}"
        if peer_cls is not None:
            members["peer"] = peer_cls(make_params(n_params, device), **pkw).step
    if compile:
        step = torch.compile(opt_cls(make_params(n_params, device), **kwargs).step,
                             backend=backend)
        t0 = time.perf_counter()
        try:
            step()
            step()  # a second call: guards on the step count may recompile once
            _sync(device)()
            members["compiled"] = step
            row["compile_seconds"] = time.perf_counter() - t0
        except Exception as e:  # noqa: BLE001 -- reported in the row, not raised
            row["compile_error"] = _reason(e)
    return row, members


def run(n_params: int, device: torch.device, warmup: int, repeats: int,
        names: Optional[list[str]] = None, compile: bool = False,
        backend: str = "inductor") -> list[dict]:
    """Time every optimizer (all of `OPTIMIZERS`, or those in `names`), one group at a
    time (see the module's docstring), in interleaved rounds; returns one row each."""
    rows = []
    for name in OPTIMIZERS:
        if names and name not in names:
            continue
        row, members = _group(name, n_params, device, compile, backend)
        rows.append(row)
        if not members:
            continue
        for step in members.values():
            time_steps(step, device, warmup, 0)
        times: dict[str, list[float]] = {k: [] for k in members}
        for _ in range(repeats):
            for k, step in members.items():
                times[k].append(time_steps(step, device, 0, 1))

        def ratio(a, b, scale=1.0):
            return statistics.median(x / (scale * y) for x, y in zip(times[a], times[b]))
        row["seconds"] = statistics.median(times["ours"])
        row["ratio"] = ratio("ours", "ref")
        row["copy_seconds"] = statistics.median(times["copy"])
        if "peer" in members:
            row["peer_seconds"] = statistics.median(times["peer"])
            row["peer_ratio"] = ratio("ours", "peer")
        if row["moved"]:
            row["x_floor"] = ratio("ours", "copy", row["moved"] / 2)
            if "compiled" in members:
                row["x_floor_compiled"] = ratio("compiled", "copy", row["moved"] / 2)
        if "compiled" in members:
            row["compiled_seconds"] = statistics.median(times["compiled"])
        del members
    return rows


def report(rows: list[dict], device: torch.device) -> bool:
    """Print the table; True when every elementwise optimizer meets both goals."""
    n = next(r["n"] for r in rows if "n" in r)
    where = (torch.cuda.get_device_name(device) if device.type == "cuda"
             else f"CPU, {torch.get_num_threads()} threads")
    copy = statistics.median(r["copy_seconds"] for r in rows if "copy_seconds" in r)
    print(f"optimizer step time, {n:,} parameters, {where}, torch {torch.__version__}; "
          f"copy bandwidth {2 * 4 * n / copy / 1e9:.1f} GB/s (median copy {1e3 * copy:.2f}"
          f" ms)")
    print(f"{'optimizer':29s} {'ms/step':>8s} {'x AdamW':>7s} {'peer':>28s} {'x peer':>6s}"
          f" {'moved':>5s} {'x floor':>7s} {'compiled':>8s} {'x floor':>7s}  goals")
    ok = True
    for r in rows:
        if r["seconds"] is None:
            print(f"{r['name']:29s} {'-':>8s}  not in papers_lib yet")
            continue
        peer = r.get("peer", "-")
        pr = r.get("peer_ratio")
        fl = r.get("x_floor")
        if "compile_error" in r:
            comp = f"compile failed: {r['compile_error']}"
        elif "compiled_seconds" in r:
            comp = (f"{1e3 * r['compiled_seconds']:8.2f} "
                    f"{r.get('x_floor_compiled', math.nan):7.2f}")
        else:
            comp = f"{'-':>8s} {'-':>7s}"
        verdict = "n/a"
        if r["elementwise"]:
            met = r["ratio"] <= GOAL and (pr is None or pr <= PEER_GOAL)
            verdict = "met" if met else "MISSED"
            ok &= met
        print(f"{r['name']:29s} {1e3 * r['seconds']:8.2f} {r['ratio']:7.2f} {peer:>28s} "
              f"{'-' if pr is None else f'{pr:.2f}':>6s} {r['moved'] or '-':>5} "
              f"{'-' if fl is None else f'{fl:.2f}':>7s} {comp}  {verdict}")
    print(f"goals: x AdamW <= {GOAL} and x peer <= {PEER_GOAL} (elementwise updates); "
          f"x floor = step time / (moved/2 copy times)")
    return ok


def add_arguments(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--params", type=int, default=10_000_000)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=25)
    ap.add_argument("--only", nargs="*", help="optimizer names to time")
    ap.add_argument("--no-compile", dest="compile", action="store_false",
                    help="skip the torch.compile column (compiling takes ~30 s each "
                         "on a 2-core CPU, the first time)")
    ap.add_argument("--compile-backend", default="inductor")


def main(argv: Optional[list[str]] = None, args=None) -> int:
    args = section_args(__doc__, add_arguments, argv, args)
    device = torch.device(args.device)
    # The Adam family shares one `step` code object (AdamBase.step), and dynamo keeps at
    # most `recompile_limit` (8) compiled entries per code object: past that a step runs
    # eagerly. A program compiles its one or two optimizers; this benchmark compiles a
    # dozen in one process, so it raises the limit instead of timing eager fallbacks.
    torch._dynamo.config.recompile_limit = 64
    torch._dynamo.config.accumulated_recompile_limit = 1024
    logging.getLogger("torch._dynamo").setLevel(logging.ERROR)
    rows = run(args.params, device, args.warmup, args.repeats, args.only or None,
               args.compile, args.compile_backend)
    return 0 if report(rows, device) else 1


if __name__ == "__main__":
    sys.exit(main())
