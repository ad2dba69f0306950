"""Tests of `papers_lib.graphs.topo_swaps` (chapter *Topological swaps: optimizing
NOTEARS objectives over orders*): the inner least-squares fit against the truth and
against random consistent weights, the Cholesky order score against `lstsq`, the swap
search against brute force, and the NOTEARS solver's acyclicity."""
import itertools

import torch

from papers_lib.graphs.toolkit import is_dag, linear_sem, notears_h, random_dag
from papers_lib.graphs.topo_swaps import (
    dag_order, fit_order, ls_score, notears_linear, order_score, topological_swaps)


def _order_of(W):
    B, order, alive = (W != 0).long(), [], torch.ones(W.shape[0], dtype=torch.bool)
    while alive.any():
        src = (alive & (B[alive].sum(0) == 0)).nonzero().flatten()
        order += src.tolist()
        alive[src] = False
    return torch.tensor(order)


def _data(d, n, p=0.5, s=0):
    g = torch.Generator().manual_seed(s)
    W = random_dag(d, p, g).double()
    return W, linear_sem(W, n, 1.0, g), g


def test_fit_order_recovers_truth_at_large_n():
    W, X, _ = _data(6, 40000, s=1)
    assert (fit_order(X, _order_of(W)) - W).abs().max() < 0.05


def test_fit_order_is_optimal_among_consistent_weights():
    _, X, g = _data(5, 300, s=2)
    order = torch.randperm(5, generator=g)
    Wf = fit_order(X, order)
    rank = torch.empty(5, dtype=torch.long)
    rank[order] = torch.arange(5)
    mask = (rank[:, None] < rank[None, :]).double()
    assert ((Wf != 0).double() <= mask).all() and is_dag(Wf)
    best = ls_score(X, Wf)
    for _ in range(300):
        R = torch.randn(5, 5, generator=g, dtype=torch.float64) * mask
        assert ls_score(X, Wf + 0.2 * R) >= best
        assert ls_score(X, R) >= best


def test_order_score_matches_lstsq_on_all_orders():
    _, X, _ = _data(4, 200, s=3)
    perms = torch.tensor(list(itertools.permutations(range(4))))
    ref = torch.stack([ls_score(X, fit_order(X, p)) for p in perms])
    assert torch.allclose(order_score(X, perms), ref, rtol=1e-9, atol=1e-10)
    assert torch.allclose(order_score(X, perms[5]), ref[5])


def test_threshold_prunes_and_refits():
    W, X, _ = _data(6, 5000, s=4)
    Wp = fit_order(X, _order_of(W), threshold=0.3)
    assert torch.equal(Wp != 0, W != 0)


def test_swaps_return_permutation_and_dag_and_reach_brute_force():
    W, X, g = _data(5, 2000, s=5)
    order, Wt, sc = topological_swaps(X, torch.randperm(5, generator=g))
    assert torch.equal(torch.sort(order).values, torch.arange(5)) and is_dag(Wt)
    assert (sc[1:] <= sc[:-1]).all()
    assert torch.allclose(sc[-1], order_score(X, order))
    brute = order_score(X, torch.tensor(list(itertools.permutations(range(5)))))
    assert sc[-1] >= brute.min() - 1e-12
    assert sc[-1] <= brute.quantile(0.1)           # among the best tenth of orders
    o2, W2, sc2 = topological_swaps(X, order, pairs="adjacent")
    assert len(sc2) == 1 and torch.equal(o2, order)   # no adjacent swap improves


def test_notears_small_h_on_easy_instance():
    W, X, _ = _data(5, 1000, p=0.4, s=6)
    Wn = notears_linear(X)
    assert notears_h(Wn).item() < 1e-6 and is_dag(Wn)
    order = dag_order(Wn)
    rank = torch.empty(5, dtype=torch.long)
    rank[order] = torch.arange(5)
    src, dst = Wn.nonzero().T
    assert (rank[src] < rank[dst]).all()


def test_dag_order_breaks_cycle_at_weakest_edge():
    W = torch.tensor([[0.0, 2.0, 0.0], [0.0, 0.0, 1.0], [0.4, 0.0, 0.0]])
    assert dag_order(W).tolist() == [0, 1, 2]
