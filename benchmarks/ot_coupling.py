"""The minibatch OT couplings of `papers_lib.flows.multisample` against POT: the exact
assignment (`minibatch_ot_coupling`) against `ot.emd`, the entropic plan (`sinkhorn_plan`)
against `ot.sinkhorn(method="sinkhorn_log")`, on n points in 2-D.

    make bench ARGS="--sections ot"
    .venv/bin/python benchmarks/ot_coupling.py --ot-sizes 128 512 2048 4096

x0 is standard normal noise, x1 a mixture of 8 Gaussians on a circle of radius 4 (float32,
as in the chapter). Each op is timed whole, cost matrix included: ours as the chapter
calls it, POT given the same tensors (`ot.dist` then `ot.emd` with uniform weights;
Sinkhorn with the same eps, 1 by default, and 200 iterations with no early stop: enough for
both to converge, since the two start their alternation on opposite sides). The plans must
agree: equal exact costs (to 1e-9, relative) and the same assignment; Sinkhorn plans equal
to 1e-6 of 1/n. Interleaved rounds; the ratio is the median over the rounds of ours over
POT's.

The exact assignment is scipy's `linear_sum_assignment` (a shortest augmenting path
method, O(n^3) at worst), which POT's network simplex beats from n ~ 500 on in 2-D.
Measured and rejected as replacements (exact, or exactified by scipy afterwards): scipy's
`min_weight_full_bipartite_matching` (dense input: 9 s at n=512), a sparse k-nearest-
neighbour graph (no perfect matching: OT pairs are not near neighbours once the
distributions are far apart), and `linear_sum_assignment` on costs reduced by approximate
duals from log-domain Sinkhorn, an epsilon-scaling auction or a subsampled problem: exact
duals make it 20-45x faster, but none of the approximations was both cheap and close
enough to beat `ot.emd` at n=2048.
"""
from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
import warnings
from typing import Optional

import torch

from common import section_args


def points(n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """n noise points and n points of the 8-Gaussian mixture, both (n, 2) float32."""
    g = torch.Generator().manual_seed(seed)
    x0 = torch.randn(n, 2, generator=g)
    angle = torch.randint(0, 8, (n,), generator=g) * (math.pi / 4)
    centre = 4 * torch.stack([angle.cos(), angle.sin()], 1)
    return x0, centre + 0.5 * torch.randn(n, 2, generator=g)


def _rounds(fns: dict, repeats: int) -> dict:
    times = {k: [] for k in fns}
    for _ in range(repeats):
        for k, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t0)
    return times


def run(sizes=(128, 512, 2048), repeats: int = 3, sinkhorn: bool = True,
        eps: float = 1.0) -> list[dict]:
    """One row per op and size: both times, the ratio and the agreement of the plans."""
    import ot
    from papers_lib.flows.multisample import minibatch_ot_coupling, sinkhorn_plan
    rows = []
    for n in sizes:
        x0, x1 = points(n)
        a = torch.full((n,), 1 / n, dtype=torch.float64)

        def pot_emd():
            return ot.emd(a, a, ot.dist(x0.double(), x1.double()))
        fns = {"ours": lambda: minibatch_ot_coupling(x0, x1), "peer": pot_emd}
        _, y1 = fns["ours"]()
        plan = fns["peer"]()
        cost = ot.dist(x0.double(), x1.double())
        ours_cost = float((x0.double() - y1.double()).pow(2).sum(1).mean())
        peer_cost = float((plan * cost).sum())
        same = torch.equal(x1[plan.argmax(1)], y1)
        times = _rounds(fns, repeats)
        rows.append(dict(op="exact assignment", n=n, peer="ot.emd",
                         ours_seconds=statistics.median(times["ours"]),
                         peer_seconds=statistics.median(times["peer"]),
                         ratio=statistics.median(
                             s / p for s, p in zip(times["ours"], times["peer"])),
                         agree=abs(ours_cost - peer_cost) <= 1e-9 * peer_cost and same,
                         detail=f"cost {ours_cost:.10g} vs {peer_cost:.10g}"))
        if not sinkhorn:
            continue

        def pot_sinkhorn():
            with warnings.catch_warnings():  # "did not converge": stopThr=0 on purpose
                warnings.simplefilter("ignore")
                return ot.sinkhorn(a, a, ot.dist(x0.double(), x1.double()), eps,
                                   method="sinkhorn_log", numItermax=200,
                                   stopThr=0.0)
        fns = {"ours": lambda: sinkhorn_plan(x0, x1, eps=eps, iters=200),
               "peer": pot_sinkhorn}
        diff = float((fns["ours"]() - fns["peer"]()).abs().max()) * n
        times = _rounds(fns, repeats)
        rows.append(dict(op=f"Sinkhorn plan, eps={eps:g}", n=n,
                         peer="ot.sinkhorn (log)",
                         ours_seconds=statistics.median(times["ours"]),
                         peer_seconds=statistics.median(times["peer"]),
                         ratio=statistics.median(
                             s / p for s, p in zip(times["ours"], times["peer"])),
                         agree=diff <= 1e-6, detail=f"max |P - P_pot| n = {diff:.1e}"))
    return rows


def report(rows: list[dict]) -> bool:
    """Print the table; True when ours is never slower than POT and the plans agree."""
    print(f"OT couplings: papers_lib.flows.multisample vs POT, 2-D, CPU, "
          f"{torch.get_num_threads()} threads")
    print(f"{'op':26s} {'n':>5s} {'ours ms':>9s} {'peer':>18s} {'peer ms':>9s} "
          f"{'ratio':>6s}  plans")
    ok = True
    for r in rows:
        ok &= r["ratio"] <= 1.0 and r["agree"]
        print(f"{r['op']:26s} {r['n']:5d} {1e3 * r['ours_seconds']:9.2f} {r['peer']:>18s}"
              f" {1e3 * r['peer_seconds']:9.2f} {r['ratio']:6.2f}  "
              f"{'equal' if r['agree'] else 'DIFFER'} ({r['detail']})")
    print("goal: ratio <= 1.0 (ours over POT, median of interleaved rounds), equal plans")
    return ok


def add_arguments(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--ot-sizes", type=int, nargs="+", default=[128, 512, 2048])
    ap.add_argument("--ot-repeats", type=int, default=3)


def main(argv: Optional[list[str]] = None, args=None) -> int:
    args = section_args(__doc__, add_arguments, argv, args)
    return 0 if report(run(args.ot_sizes, args.ot_repeats)) else 1


if __name__ == "__main__":
    sys.exit(main())
