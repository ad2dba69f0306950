"""The min-max correlation clustering of the chapter *Fast combinatorial min-max
correlation clustering* (`papers_lib.graphs.minmax_cc`)."""
import itertools

import networkx as nx
import torch
from scipy.spatial.distance import pdist, squareform

from papers_lib.graphs.minmax_cc import (
    ball_rounding, brute_force_minmax, combinatorial_minmax, correlation_metric,
    disagreements, fractional_disagreements, minmax_cost, minmax_lp, pivot,
    planted_signed_graph)


def _graph(seed, sizes=(3, 2, 2), flip=0.3):
    return planted_signed_graph(list(sizes), flip, torch.Generator().manual_seed(seed))


def _partitions_nx(n):
    """All set partitions by networkx-free recursion (an independent enumeration)."""
    if n == 0:
        yield []
        return
    for p in _partitions_nx(n - 1):
        for k in range(len(p)):
            yield p[:k] + [p[k] + [n - 1]] + p[k + 1:]
        yield p + [[n - 1]]


def test_disagreements_by_loops():
    for s in range(3):
        P, _ = _graph(s)
        c = torch.randint(3, (7,), generator=torch.Generator().manual_seed(s))
        want = [sum(int(bool(P[u, v]) != bool(c[u] == c[v])) for v in range(7) if v != u)
                for u in range(7)]
        assert disagreements(P, c).tolist() == want
        assert minmax_cost(P, c).item() == max(want)


def test_brute_force_matches_independent_enumeration():
    P, _ = _graph(5, (2, 2, 2), 0.4)
    best = min(max(sum(int(bool(P[u, v]) != (lab[u] == lab[v])) for v in range(6)
                       if v != u) for u in range(6))
               for parts in _partitions_nx(6)
               for lab in [{u: k for k, b in enumerate(parts) for u in b}])
    assert brute_force_minmax(P)[0] == best
    assert sum(1 for _ in _partitions_nx(6)) == 203


def test_metric_is_jaccard_and_a_metric():
    P, _ = _graph(1, (6, 5, 4), 0.2)
    d = correlation_metric(P)
    A = (P | torch.eye(15, dtype=torch.bool)).numpy()
    assert torch.allclose(d, torch.from_numpy(squareform(pdist(A, "jaccard"))))
    G = nx.from_numpy_array(A.astype(int))
    for u, v in [(0, 1), (2, 9), (14, 3)]:                   # networkx's Jaccard
        nu, nv = set(G[u]) | {u}, set(G[v]) | {v}
        assert abs(d[u, v].item() - (1 - len(nu & nv) / len(nu | nv))) < 1e-12
    assert torch.equal(d, d.T) and (d.diag() == 0).all()
    for a, b, c in itertools.permutations(range(15), 3):
        assert d[a, c] <= d[a, b] + d[b, c] + 1e-12


def test_lp_lower_bounds_opt_and_rounding_factor():
    for s in range(3):
        P, _ = _graph(10 + s)
        opt, lab = brute_force_minmax(P)
        lp, x = minmax_lp(P)
        assert lp <= opt + 1e-7 and minmax_cost(P, lab).item() == opt
        assert abs(fractional_disagreements(P, x).max().item() - lp) < 1e-6
        assert minmax_cost(P, ball_rounding(x)).item() <= 5 * lp + 1e-9


def test_outputs_are_partitions_and_clean_cliques_recovered():
    P, y = planted_signed_graph([4, 3, 5], 0.0)
    for lab in (combinatorial_minmax(P), pivot(P, torch.Generator().manual_seed(0))):
        assert torch.equal(lab[:, None] == lab[None, :], y[:, None] == y[None, :])
    P, _ = _graph(3, (8, 6, 6), 0.15)
    for lab in (combinatorial_minmax(P), pivot(P)):
        assert lab.shape == (20,) and (lab >= 0).all()
        assert torch.equal(torch.unique(lab), torch.arange(int(lab.max()) + 1))


def test_fractional_equals_count_for_integral_x():
    P, _ = _graph(7)
    c = torch.tensor([0, 1, 0, 2, 1, 1, 0])
    x = (c[:, None] != c[None, :]).double()
    assert torch.equal(fractional_disagreements(P, x), disagreements(P, c).double())
