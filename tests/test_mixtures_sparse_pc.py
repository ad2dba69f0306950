"""Masked circuits, flows, pruning with its bound, and growing of the chapter *Sparse
probabilistic circuits by pruning and growing* (`papers_lib.mixtures.sparse_pc`)."""
import math

import numpy as np
import torch

from papers_lib.mixtures.sparse_pc import (
    SparseEinsumCircuit, edge_flows, fit_em, grow_circuit, prune_edges, pruning_bound,
    randomize_, sparse_teacher)
from papers_lib.mixtures.toolkit import all_binary_states, check_circuit


def _trained(seed=0, n=8, K=3, steps=5):
    g = torch.Generator().manual_seed(seed)
    teach = sparse_teacher(n, 4, fan_in=2, generator=g)
    x = teach.sample(200, g)
    c = randomize_(SparseEinsumCircuit(n, K, generator=g), generator=g)
    fit_em(c, x, steps)
    return c, x, g


def test_masked_circuit_is_normalised_with_exact_marginals():
    c, x, g = _trained()
    p = prune_edges(c, edge_flows(c, x), c.num_edges() // 3)
    for _ in range(3):
        tot, err = check_circuit(p, torch.rand(8, generator=g) < 0.5)
        assert abs(tot - 1) < 1e-12 and err < 1e-12


def test_masked_log_prob_matches_numpy_brute_force_over_induced_trees():
    # p(x) by explicit recursion in numpy over the kept weights of a 4-variable circuit
    c, _, g = _trained(n=4, K=2)
    p = prune_edges(c, [torch.rand(m.shape, generator=g) for m in c.edge_masks], 6)
    W = [w.detach().exp().numpy() for w in p.log_weights()]
    leaf = torch.softmax(p.leaf_logits, -1).detach().numpy()
    X = all_binary_states(4)
    got = p(X).exp().detach().numpy()
    for x, val in zip(X.numpy(), got):
        vals = {v: leaf[v, :, x[v]] for v in range(4)}
        r = 4
        for L, w in zip(p.tree.layers, W):
            for q, (a, b) in enumerate(L.tolist()):
                vals[r] = np.einsum("oij,i,j->o", w[q], vals[a], vals[b])
                r += 1
        assert abs(vals[r - 1][0] - val) < 1e-12


def test_flows_are_gradients_and_sum_to_regions_per_example():
    c, x, _ = _trained()
    fl = edge_flows(c, x)
    assert all(abs(f.sum().item() - len(x) * f.shape[0]) < 1e-8 for f in fl)
    lw = [w.detach().requires_grad_() for w in c.log_weights()]
    # finite difference of sum log p along one kept edge's log-weight
    h = 1e-6
    k = tuple(int(i) for i in c.edge_masks[0].nonzero()[5])
    base = c(x).sum().item()
    with torch.no_grad():
        c.sum_logits[0][k] += h          # softmax shift: d/dθ = F_e - W_e * F_unit
    moved = c(x).sum().item()
    w = c.log_weights()[0].exp()
    with torch.no_grad():
        c.sum_logits[0][k] -= h
    unit = fl[0][k[:2]].sum().item()
    expect = fl[0][k].item() - w[k].item() * unit
    assert abs((moved - base) / h - expect) < 1e-3 * max(1.0, abs(expect))


def test_pruning_bound_holds_and_matches_aggregate_flow():
    for seed in range(3):
        c, x, _ = _trained(seed)
        fl = edge_flows(c, x)
        for cut in (3, 10, 40):
            p = prune_edges(c, fl, c.num_edges() - cut)
            rem = [m & ~k for m, k in zip(c.edge_masks, p.edge_masks)]
            b, F = pruning_bound(c, x, rem)
            agg = sum((f * r).sum() for f, r in zip(fl, rem)).item()
            assert abs(F.sum().item() - agg) < 1e-8 * max(agg, 1.0)
            assert bool((c(x) - p(x) <= b + 1e-12).all())
            assert bool((b >= F - 1e-12).all())      # -log(1-F) >= F


def test_prune_keeps_top_flows_and_one_edge_per_unit():
    c, x, _ = _trained()
    fl = edge_flows(c, x)
    units = sum(m.shape[0] * m.shape[1] for m in c.edge_masks)
    p = prune_edges(c, fl, units)
    assert p.num_edges() == units
    assert all(bool((m.flatten(2).sum(-1) == 1).all()) for m in p.edge_masks)
    assert all(bool((f.flatten(2).argmax(-1) == m.flatten(2).float().argmax(-1)).all())
               for f, m in zip(fl, p.edge_masks))
    full = prune_edges(c, fl, c.num_edges())
    assert torch.allclose(full(x), c(x))
    assert c.num_edges() == sum(m.numel() for m in c.edge_masks)   # original untouched


def test_grow_without_noise_keeps_distribution_and_counts_edges():
    c, x, g = _trained()
    p = prune_edges(c, edge_flows(c, x), 40)
    for src in (c, p):
        g0 = grow_circuit(src, 0.0, g)
        assert g0.num_units == 2 * src.num_units
        assert torch.allclose(g0(x), src(x), atol=1e-12)
        root = src.edge_masks[-1].sum().item()
        assert g0.num_edges() == 4 * (src.num_edges() - root) + 2 * root
    g1 = grow_circuit(p, 0.5, g)
    tot, err = check_circuit(g1, torch.ones(8, dtype=torch.bool))
    assert abs(tot - 1) < 1e-12 and not torch.allclose(g1(x), p(x))


def test_em_is_monotone_and_keeps_pruned_edges_at_zero():
    c, x, _ = _trained()
    p = prune_edges(c, edge_flows(c, x), 50)
    hist = fit_em(p, x, 10, pseudocount=1e-6)
    assert bool((hist.diff() > -1e-9).all())
    assert all(bool((w[~m] == -math.inf).all())
               for w, m in zip(p.log_weights(), p.edge_masks))


def test_teacher_has_fan_in_edges_and_randomize_draws_scales():
    g = torch.Generator().manual_seed(5)
    t = sparse_teacher(6, 3, fan_in=2, generator=g)
    assert all(bool((m.flatten(2).sum(-1) == 2).all()) for m in t.edge_masks)
    c = randomize_(SparseEinsumCircuit(12, 8, generator=g), 3.0, 0.0, g)
    assert abs(c.leaf_logits.std().item() - 3.0) < 0.3
    assert all(bool((w == 0).all()) for w in c.sum_logits)
