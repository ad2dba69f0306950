"""`papers_lib.ode.odeint` against `torchdiffeq.odeint`: time, evaluations of the field
and error, on the same fields, methods and tolerances.

    make bench ARGS="--sections ode"
    .venv/bin/python benchmarks/ode_solvers.py --ode-repeats 15

Fields (float64): an MLP field on a batch (the neural-ODE case), a stiff-ish linear system
(eigenvalues from -1 to -100) and the cubic 2-D spiral of torchdiffeq's demo with 1000
output times. Methods: `dopri5` at rtol=1e-6, atol=1e-8 and `rk4` with step_size 0.0125, the
same for both libraries; the step divides every interval between output times, so that both
fixed grids are the same (torchdiffeq's `rk4` is the 3/8 rule, ours the classic one).
The error is the largest absolute difference from a reference solution by
scipy's DOP853 at rtol=atol=1e-12 at every output time, so that "faster" is at equal
accuracy. Both solvers are timed in interleaved rounds; the ratio is the median over the
rounds of ours over torchdiffeq's.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from typing import Callable, Optional

import torch

from common import section_args

Field = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _mlp_field(batch: int = 256, dim: int = 8, hidden: int = 64):
    g = torch.Generator().manual_seed(0)
    w1 = torch.randn(dim + 1, hidden, generator=g, dtype=torch.float64) / (dim + 1) ** 0.5
    w2 = torch.randn(hidden, dim, generator=g, dtype=torch.float64) / hidden ** 0.5

    def f(t, y):
        tt = torch.as_tensor(t, dtype=y.dtype).expand(y.shape[0], 1)
        return torch.tanh(torch.cat([y, tt], 1) @ w1) @ w2
    y0 = torch.randn(batch, dim, generator=g, dtype=torch.float64)
    return f, y0, torch.linspace(0, 1, 5, dtype=torch.float64)


def _stiff_field(dim: int = 16):
    g = torch.Generator().manual_seed(1)
    q, _ = torch.linalg.qr(torch.randn(dim, dim, generator=g, dtype=torch.float64))
    a = q @ torch.diag(-torch.logspace(0, 2, dim, dtype=torch.float64)) @ q.T

    def f(t, y):
        return y @ a.T
    y0 = torch.randn(32, dim, generator=g, dtype=torch.float64)
    return f, y0, torch.linspace(0, 2, 5, dtype=torch.float64)


def _spiral_field():
    a = torch.tensor([[-0.1, 2.0], [-2.0, -0.1]], dtype=torch.float64)

    def f(t, y):
        return (y ** 3) @ a
    y0 = torch.tensor([[2.0, 0.0]], dtype=torch.float64)
    return f, y0, torch.linspace(0, 25, 1001, dtype=torch.float64)


FIELDS = {"MLP field, batch 256 x 8": _mlp_field,
          "stiff-ish linear, 32 x 16": _stiff_field,
          "cubic spiral, 1001 outputs": _spiral_field}
METHODS = {"dopri5": dict(method="dopri5", rtol=1e-6, atol=1e-8),
           "rk4": dict(method="rk4", options=dict(step_size=0.0125))}


def reference(f: Field, y0: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """y at every time in `t` by scipy's DOP853 at rtol=atol=1e-12."""
    import numpy as np
    from scipy.integrate import solve_ivp
    shape = y0.shape

    def rhs(s, y):
        with torch.no_grad():
            return f(torch.tensor(s, dtype=torch.float64),
                     torch.from_numpy(y).view(shape)).reshape(-1).numpy()
    sol = solve_ivp(rhs, (float(t[0]), float(t[-1])), y0.reshape(-1).numpy(),
                    method="DOP853", t_eval=t.numpy(), rtol=1e-12, atol=1e-12)
    if not sol.success:
        raise RuntimeError(f"reference solution failed: {sol.message}")
    return torch.from_numpy(np.ascontiguousarray(sol.y.T)).view(len(t), *shape)


class _Count:
    def __init__(self, f):
        self.f, self.n = f, 0

    def __call__(self, t, y):
        self.n += 1
        return self.f(t, y)


def run(repeats: int = 7, fields: Optional[list[str]] = None) -> list[dict]:
    """One row per field and method: seconds, NFE and error of both solvers, and the
    median ratio of the times in interleaved rounds."""
    import torchdiffeq
    from papers_lib.ode import odeint
    rows = []
    for fname, make in FIELDS.items():
        if fields and fname not in fields:
            continue
        f, y0, t = make()
        ref = reference(f, y0, t)
        for mname, kw in METHODS.items():
            solvers = {"ours": lambda c: odeint(c, y0, t, **kw),
                       "torchdiffeq": lambda c: torchdiffeq.odeint(c, y0, t, **kw)}
            row = dict(field=fname, method=mname)
            times = {k: [] for k in solvers}
            for k, solve in solvers.items():  # a warm-up call: NFE and error
                c = _Count(f)
                with torch.no_grad():
                    ys = solve(c)
                row[f"{k}_nfe"] = c.n
                row[f"{k}_error"] = float((ys - ref).abs().max())
            for _ in range(repeats):
                for k, solve in solvers.items():
                    with torch.no_grad():
                        t0 = time.perf_counter()
                        solve(f)
                        times[k].append(time.perf_counter() - t0)
            for k in solvers:
                row[f"{k}_seconds"] = statistics.median(times[k])
            row["ratio"] = statistics.median(
                a / b for a, b in zip(times["ours"], times["torchdiffeq"]))
            rows.append(row)
    return rows


def report(rows: list[dict]) -> bool:
    """Print the table; True when ours is never slower than torchdiffeq."""
    print(f"ODE solvers: papers_lib.ode.odeint vs torchdiffeq.odeint, float64, CPU, "
          f"{torch.get_num_threads()} threads; error = max |y - y_ref| over the outputs")
    print(f"{'field':27s} {'method':7s} {'ours ms':>8s} {'tdeq ms':>8s} {'ratio':>6s} "
          f"{'ours NFE':>8s} {'tdeq NFE':>8s} {'ours err':>9s} {'tdeq err':>9s}")
    ok = True
    for r in rows:
        ok &= r["ratio"] <= 1.0
        print(f"{r['field']:27s} {r['method']:7s} {1e3 * r['ours_seconds']:8.2f} "
              f"{1e3 * r['torchdiffeq_seconds']:8.2f} {r['ratio']:6.2f} "
              f"{r['ours_nfe']:8d} {r['torchdiffeq_nfe']:8d} {r['ours_error']:9.1e} "
              f"{r['torchdiffeq_error']:9.1e}")
    print("goal: ratio <= 1.0 (ours over torchdiffeq, median of interleaved rounds)")
    return ok


def add_arguments(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--ode-repeats", type=int, default=7)


def main(argv: Optional[list[str]] = None, args=None) -> int:
    args = section_args(__doc__, add_arguments, argv, args)
    return 0 if report(run(args.ode_repeats)) else 1


if __name__ == "__main__":
    sys.exit(main())
