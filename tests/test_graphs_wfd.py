"""Weighted flow diffusion of the chapter *Weighted flow diffusion: local clustering with
node attributes* (`papers_lib.graphs.wfd`): closed forms, the KKT conditions on the
reweighted graph, scipy's solution of the same QP, and the planted-cluster generator."""
import math

import networkx as nx
import numpy as np
import torch
from scipy.optimize import minimize

from papers_lib.graphs.toolkit import degree, laplacian, precision_recall_f1, to_dense
from papers_lib.graphs.wfd import (
    attribute_weights, contextual_planted_cluster, weighted_flow_diffusion)


def test_attribute_weights_closed_form_and_symmetry():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(6, 3, generator=gen, dtype=torch.float64)
    G = nx.cycle_graph(6)
    e = torch.tensor(list(G.edges())).T
    ei = torch.cat([e, e.flip(0)], 1)
    w = attribute_weights(ei, x, 0.7)
    for k in range(ei.shape[1]):
        i, j = ei[:, k].tolist()
        assert math.isclose(w[k].item(), math.exp(-0.7 * float(((x[i] - x[j]) ** 2).sum())))
    m = e.shape[1]
    assert torch.equal(w[:m], w[m:])


def test_weighted_diffusion_solves_the_weighted_qp():
    g = contextual_planted_cluster(3, 8, 0.6, 0.1, 3, 2.0, 1.0,
                                   torch.Generator().manual_seed(1))
    n, ei = g.num_nodes, g.edge_index
    d = degree(ei[0], n, torch.ones(ei.shape[1], dtype=torch.float64))
    mass = 1.5 * d[g.y == 0].sum().item()
    x = weighted_flow_diffusion(ei, n, 0, mass, g.x, gamma=0.3)
    w = attribute_weights(ei, g.x, 0.3)
    eil, wl = laplacian(ei, n, w, kind="comb")
    L = to_dense(eil, n, wl).numpy()
    D = np.zeros(n)
    D[0] = mass
    T = d.numpy()
    ref = minimize(lambda v: 0.5 * v @ L @ v + v @ (T - D), np.zeros(n),
                   jac=lambda v: L @ v + (T - D), bounds=[(0, None)] * n,
                   method="L-BFGS-B",
                   options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 20000}).x
    assert np.abs(ref - x.numpy()).max() < 1e-4 * max(1.0, np.abs(ref).max())
    m = D - L @ x.numpy()
    assert (m <= T + 1e-6).all() and d[x > 0].sum() <= mass + 1e-6


def test_gamma_zero_is_the_unweighted_diffusion():
    g = contextual_planted_cluster(4, 10, 0.5, 0.05, 4, 3.0, 1.0,
                                   torch.Generator().manual_seed(2))
    n, ei = g.num_nodes, g.edge_index
    a = weighted_flow_diffusion(ei, n, 1, 40.0)
    b = weighted_flow_diffusion(ei, n, 1, 40.0, g.x, gamma=0.0)
    assert torch.allclose(a, b)


def test_strong_attributes_recover_a_leaky_cluster():
    g = contextual_planted_cluster(6, 30, 0.4, 0.08, 6, 8.0, 1.0,
                                   torch.Generator().manual_seed(3))
    n, ei, K = g.num_nodes, g.edge_index, g.y == 0
    d = degree(ei[0], n)
    mass = 1.5 * d[K].sum().item()
    _, r_plain, f_plain = precision_recall_f1(weighted_flow_diffusion(ei, n, 0, mass) > 0,
                                              K)
    _, r_w, f_w = precision_recall_f1(
        weighted_flow_diffusion(ei, n, 0, mass, g.x, gamma=0.25) > 0, K)
    assert r_w >= 0.95 and f_w > f_plain + 0.2


def test_planted_cluster_statistics():
    g = contextual_planted_cluster(3, 300, 0.1, 0.02, 5, 4.0, 2.0,
                                   torch.Generator().manual_seed(4))
    y, ei = g.y, g.edge_index
    inside = (y[ei[0]] == y[ei[1]])
    # expected edge counts: 3 * C(300, 2) * 0.1 inside, 3 * 300^2 * 0.02 across
    assert abs(inside.sum().item() / 2 / (3 * 300 * 299 / 2 * 0.1) - 1) < 0.05
    assert abs((~inside).sum().item() / 2 / (3 * 300 ** 2 * 0.02) - 1) < 0.05
    mu_hat = torch.stack([g.x[y == c].mean(0) for c in range(3)])
    assert abs((mu_hat[0] - mu_hat[2]).norm().item() - 4.0) < 0.4
    assert abs(g.x[y == 1].std(0).mean().item() - 2.0) < 0.1
