"""The generator of class-specific heterophily and the GCN of the chapter
*Is homophily a necessity for GNNs?* (`papers_lib.graphs.homophily`)."""
import math

import torch

from papers_lib.graphs.homophily import (GCN, add_heterophilous_edges,
                                         concentration_bound, cross_class_similarity,
                                         fit_nodes, neighbour_distributions,
                                         neighbour_label_histogram, neighbourhood_graph)
from papers_lib.graphs.toolkit import edge_homophily, normalized_adjacency, to_dense

C = 4


def test_distributions_rows_and_limits():
    D = neighbour_distributions(C, 0.3, shift=2)
    assert torch.allclose(D.sum(1), torch.ones(C))
    assert torch.allclose(D[1], torch.tensor([0.075, 0.075, 0.075, 0.775]))
    assert torch.allclose(neighbour_distributions(C, 1.0), torch.full((C, C), 0.25))


def test_added_edges_follow_the_distributions():
    g = torch.Generator().manual_seed(0)
    y = torch.arange(C).repeat_interleave(250)
    D = neighbour_distributions(C, 0.4)
    empty = torch.zeros(2, 0, dtype=torch.long)
    K = 20_000
    ei = add_heterophilous_edges(empty, y, D, K, g)
    assert ei.shape == (2, 2 * K) and (ei[0] != ei[1]).all()
    # the pair (i, j) of edge k sits at column 2k + 1 as i -> j (source i, target j)
    i, j = ei[0, 1::2], ei[1, 1::2]
    for c in range(C):
        sel = y[i] == c
        emp = torch.bincount(y[j[sel]], minlength=C).float() / sel.sum()
        # redrawing j = i removes 1 of 250 same-class draws: a 0.4 % relative bias
        want = D[c].clone()
        se = (want * (1 - want) / sel.sum()).sqrt()      # binomial counts
        assert ((emp - want).abs() <= 4 * se + 0.004 * want).all(), (c, emp, want)
    # homophily: the same-class share gamma / C, within 4 binomial standard errors
    h, p = edge_homophily(ei, y), 0.4 / C
    assert abs(h - p) < 4 * math.sqrt(p * (1 - p) / K)


def test_added_edges_are_nested_prefixes():
    y = torch.arange(C).repeat_interleave(10)
    base = torch.tensor([[0, 1], [1, 0]])
    a = add_heterophilous_edges(base, y, neighbour_distributions(C), 30,
                                torch.Generator().manual_seed(1))
    assert torch.equal(a[:, :2], base) and a.shape == (2, 62)
    assert torch.equal(a[:, 2::2], a[:, 3::2].flip(0))          # both directions


def test_neighbourhood_graph_histograms():
    g = torch.Generator().manual_seed(2)
    y = torch.arange(C).repeat_interleave(100)
    D = neighbour_distributions(C, 0.5)
    d = 50
    ei = neighbourhood_graph(y, D, d, g)
    assert (torch.bincount(ei[1], minlength=400) == d).all()
    pairs = ei[0] * 400 + ei[1]
    assert pairs.unique().numel() == pairs.numel()
    H = neighbour_label_histogram(ei, y, C)
    for c in range(C):
        emp = H[y == c].mean(0)
        se = (D[c] * (1 - D[c]) / (100 * d)).sqrt()           # 5000 iid labels
        assert ((emp - D[c]).abs() <= 4 * se + 1e-6).all()


def test_ccns_against_a_loop():
    y = torch.tensor([0, 0, 1, 1, 2])
    ei = torch.tensor([[1, 2, 0, 3, 4, 0, 2], [0, 0, 1, 2, 2, 3, 4]])
    H = torch.nn.functional.normalize(neighbour_label_histogram(ei, y, 3), dim=1)
    S = cross_class_similarity(ei, y, 3)
    for a in range(3):
        for b in range(3):
            ref = sum(float(H[i] @ H[j]) for i in range(5) for j in range(5)
                      if y[i] == a and y[j] == b) / ((y == a).sum() * (y == b).sum())
            assert abs(S[a, b].item() - float(ref)) < 1e-6


def test_bound_formula_and_monte_carlo():
    assert concentration_bound(0.0, 5, 3, 1.0, 1.0) == 6.0
    t = torch.tensor([0.5, 1.0])
    ref = 2 * 3 * torch.exp(-20 * t ** 2 / (2 * 4 * 1.5 ** 2 * 3))
    assert torch.allclose(concentration_bound(t, 20, 3, 1.5, 2.0), ref)
    # a mean of 20 uniform(-1, 1) vectors in 3 dims never beats the bound
    g = torch.Generator().manual_seed(3)
    dev = (2 * torch.rand(20_000, 20, 3, generator=g) - 1).mean(1).norm(dim=1)
    for tt in (0.3, 0.5, 0.7):
        assert (dev >= tt).float().mean() <= concentration_bound(tt, 20, 3, 1.0, 1.0)


def test_gcn_matches_dense_and_trains():
    g = torch.Generator().manual_seed(4)
    net = GCN(3, 5, 2, copies=2, dropout=0.0, generator=g).eval()
    x = torch.randn(2, 4, 3, generator=g)
    ei = torch.tensor([[0, 1, 4, 6], [1, 2, 5, 7]])
    ei = torch.cat([ei, ei.flip(0)], 1)
    ea, wa = normalized_adjacency(ei, 8)
    A = to_dense(ea, 8, wa)
    out = net(x, ea, wa)
    for s in range(2):
        As = A[4 * s:4 * s + 4, 4 * s:4 * s + 4]
        ref = As @ torch.relu(As @ x[s] @ net.W1[s] + net.b1[s]) @ net.W2[s] + net.b2[s]
        assert torch.allclose(out[s], ref, atol=1e-6)
    y = (x[..., 0] > 0).long()
    m = torch.ones(2, 4, dtype=torch.bool)
    acc = fit_nodes(GCN(3, 8, 2, copies=2, generator=g), x, y, m, m, m, epochs=80)
    assert acc.shape == (2,) and (acc == 1).all()
