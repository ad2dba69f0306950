"""The l2-norm flow diffusion and the local-cluster scores of the graph toolkit
(`papers_lib.graphs.toolkit.flow_diffusion`, `precision_recall_f1`), checked against the
KKT conditions, scipy's bound-constrained solution of the same QP, networkx and closed
forms."""
import networkx as nx
import numpy as np
import pytest
import torch
from scipy.optimize import minimize

from papers_lib.graphs.toolkit import (
    degree, flow_diffusion, laplacian, precision_recall_f1, sbm, to_dense, to_undirected)


def _graph(seed, n=14, p=0.3):
    G = nx.gnp_random_graph(n, p, seed=seed)
    ei = to_undirected(torch.tensor(list(G.edges())).T, n)
    return G, ei


def _scipy_qp(L, T, D):
    f = lambda v: 0.5 * v @ L @ v + v @ (T - D)
    g = lambda v: L @ v + (T - D)
    return minimize(f, np.zeros(len(T)), jac=g, bounds=[(0, None)] * len(T),
                    method="L-BFGS-B",
                    options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 20000}).x


@pytest.mark.parametrize("seed", range(4))
def test_matches_scipy_and_kkt_on_weighted_graphs(seed):
    G, ei = _graph(seed)
    n = 14
    gen = torch.Generator().manual_seed(seed)
    w0 = 0.2 + torch.rand(ei.shape[1], generator=gen, dtype=torch.float64)
    # symmetrise the weights: w_ij = w_ji
    key = torch.minimum(ei[0], ei[1]) * n + torch.maximum(ei[0], ei[1])
    w = w0[torch.unique(key, return_inverse=True)[1]]
    T = 0.5 + torch.rand(n, generator=gen, dtype=torch.float64)
    D = torch.zeros(n, dtype=torch.float64)
    D[0] = 3.0
    comp = nx.node_connected_component(G, 0)
    if T[list(comp)].sum() <= 3.0:
        T = T * 4.0
    x = flow_diffusion(ei, n, D, T, edge_weight=w)
    ei_l, w_l = laplacian(ei, n, w, kind="comb")
    L = to_dense(ei_l, n, w_l)
    m = D - L @ x
    assert (x >= 0).all() and (m <= T + 1e-7).all()
    assert (x * (T - m)).abs().max() < 1e-6
    ref = _scipy_qp(L.numpy(), T.numpy(), D.numpy())
    assert np.abs(ref - x.numpy()).max() < 1e-4
    assert torch.isclose(m.sum(), D.sum())                       # mass conserved
    assert T[x > 0].sum() <= D.sum() + 1e-9                      # support volume
    assert set((x > 0).nonzero().flatten().tolist()) <= comp     # stays local


def test_path_closed_form():
    # path 0-1-2-3-4, unit sinks, mass 2.5 at node 0: node 0 and 1 saturate, node 2
    # keeps 0.5. Then x_1 = 0.5 (flow 1-2), x_0 = x_1 + 1.5 (flow 0-1 carries 1.5)
    ei = to_undirected(torch.tensor([[0, 1, 2, 3], [1, 2, 3, 4]]), 5)
    T = torch.ones(5, dtype=torch.float64)
    D = torch.tensor([2.5, 0, 0, 0, 0], dtype=torch.float64)
    x = flow_diffusion(ei, 5, D, T)
    assert torch.allclose(x, torch.tensor([2.0, 0.5, 0, 0, 0], dtype=torch.float64),
                          atol=1e-7)


def test_no_excess_gives_zero_and_weights_scale_inversely():
    _, ei = _graph(1)
    T = degree(ei[0], 14, torch.ones(ei.shape[1], dtype=torch.float64))
    D = torch.zeros(14, dtype=torch.float64)
    D[0] = T[0] * 0.5
    assert (flow_diffusion(ei, 14, D, T) == 0).all()
    D[0] = T.sum() * 0.5
    w = torch.ones(ei.shape[1], dtype=torch.float64)
    x1 = flow_diffusion(ei, 14, D, T, edge_weight=w)
    x3 = flow_diffusion(ei, 14, D, T, edge_weight=3 * w)
    assert torch.allclose(x1, 3 * x3, atol=1e-6)                # L -> 3L: x -> x / 3


def test_planted_cluster_recovered_when_well_separated():
    g = sbm([30, 30, 30], 0.5, 0.005, torch.Generator().manual_seed(0))
    n, ei = g.num_nodes, g.edge_index
    T = degree(ei[0], n, torch.ones(ei.shape[1], dtype=torch.float64))
    K = g.y == 0
    D = torch.zeros(n, dtype=torch.float64)
    D[0] = 2 * T[K].sum()
    S = flow_diffusion(ei, n, D, T) > 0
    prec, rec, f1 = precision_recall_f1(S, K)
    # full recovery; the false positives fit in the spare source mass vol(K)
    assert rec == 1.0 and T[S & ~K].sum() <= T[K].sum() and prec >= 0.5


def test_precision_recall_f1_against_sklearn():
    from sklearn.metrics import f1_score, precision_score, recall_score
    gen = torch.Generator().manual_seed(0)
    pred, tgt = torch.rand(50, generator=gen) < 0.4, torch.rand(50, generator=gen) < 0.3
    p, r, f = precision_recall_f1(pred, tgt)
    assert abs(p - precision_score(tgt, pred)) < 1e-12
    assert abs(r - recall_score(tgt, pred)) < 1e-12
    assert abs(f - f1_score(tgt, pred)) < 1e-12
    assert precision_recall_f1(torch.zeros(50, dtype=torch.bool), tgt) == (0.0, 0.0, 0.0)
