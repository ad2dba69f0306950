"""The Rayleigh quotient, Chebyshev convolutions, RQ-pooling, the metrics and the
models of the chapter *Rayleigh quotient GNNs for graph-level anomaly detection*
(`papers_lib.graphs.rqgnn`), against dense algebra, torch-geometric and scikit-learn."""
import math

import pytest
import torch
from scipy.sparse import csgraph
from sklearn.metrics import f1_score, roc_auc_score

from papers_lib.graphs.rqgnn import (
    ChebConv, GCNPool, RQGNN, anomaly_graphs, fit_graphs, macro_f1, rayleigh_quotient,
    roc_auc, rq_pool, spectral_energy)
from papers_lib.graphs.toolkit import (
    Graph, batch_graphs, erdos_renyi, node_split, to_dense, to_undirected)


def _graphs(k, g):
    """k connected random graphs (an Erdos-Renyi graph plus a Hamiltonian path)."""
    out = []
    for _ in range(k):
        n = int(torch.randint(5, 12, (), generator=g))
        er = erdos_renyi(n, 0.3, g)
        path = torch.stack([torch.arange(n - 1), torch.arange(1, n)])
        ei = to_undirected(torch.cat([er.edge_index, path], 1), n)
        out.append(Graph(ei, n, x=torch.randn(n, 3, dtype=torch.float64, generator=g)))
    return batch_graphs(out), out


def test_rayleigh_quotient_matches_scipy_normalised_laplacian():
    g = torch.Generator().manual_seed(0)
    big, parts = _graphs(6, g)
    rq = rayleigh_quotient(big.x, big.edge_index, big.batch)
    for k, p in enumerate(parts):
        A = to_dense(p.edge_index, p.num_nodes).double().numpy()
        L = torch.from_numpy(csgraph.laplacian(A, normed=True))
        ref = torch.diag(p.x.T @ L @ p.x) / (p.x * p.x).sum(0)
        assert torch.allclose(rq[k], ref, atol=1e-6)
    assert ((rq >= 0) & (rq <= 2)).all()


def test_rayleigh_quotient_extremes():
    # an even cycle is bipartite: the signal (-1)^i sqrt(d_i) has quotient 2,
    # sqrt(d_i) has quotient 0
    n = 8
    ei = to_undirected(torch.stack([torch.arange(n), (torch.arange(n) + 1) % n]), n)
    sign = torch.tensor([(-1.0) ** i for i in range(n)], dtype=torch.float64)
    ones = torch.ones(n, dtype=torch.float64)
    assert math.isclose(rayleigh_quotient(sign * math.sqrt(2), ei).item(), 2.0,
                        abs_tol=1e-6)
    assert abs(rayleigh_quotient(ones * math.sqrt(2), ei).item()) < 1e-6


def test_spectral_energy_layer_cake_and_monotone():
    g = torch.Generator().manual_seed(1)
    _, parts = _graphs(4, g)
    for p in parts:
        for c in range(3):
            lam, E = spectral_energy(p.x[:, c], p.edge_index, p.num_nodes)
            assert (E[1:] >= E[:-1] - 1e-12).all() and math.isclose(E[-1].item(), 1.0)
            zero = lam.new_zeros(1)
            area = ((lam - torch.cat([zero, lam[:-1]]))
                    * (1 - torch.cat([zero, E[:-1]]))).sum()
            rq = rayleigh_quotient(p.x[:, c], p.edge_index)
            assert math.isclose(area.item(), rq.item(), abs_tol=1e-6)


def test_cheb_conv_equals_torch_geometric():
    tgnn = pytest.importorskip("torch_geometric.nn")
    g = torch.Generator().manual_seed(2)
    big, _ = _graphs(3, g)
    x = big.x.float()
    for K in (1, 2, 4):
        ours = ChebConv(3, 5, K)
        ref = tgnn.ChebConv(3, 5, K, normalization="sym")
        with torch.no_grad():
            for k in range(K):
                ref.lins[k].weight.copy_(ours.lins[k].weight)
            ours.bias.copy_(torch.randn(5, generator=g))
            ref.bias.copy_(ours.bias)
        expect = ref(x, big.edge_index, lambda_max=torch.tensor(2.0))
        assert torch.allclose(ours(x, big.edge_index), expect, atol=1e-5)


def test_rq_pool_brute_force_and_gradcheck():
    g = torch.Generator().manual_seed(3)
    h = torch.randn(7, 4, dtype=torch.float64, generator=g, requires_grad=True)
    t = torch.randn(3, 4, dtype=torch.float64, generator=g, requires_grad=True)
    b = torch.tensor([0, 0, 1, 2, 2, 2, 1])
    out = rq_pool(h, t, b)
    for k in range(3):
        ref = sum((h[i] @ t[k]) * h[i] for i in range(7) if b[i] == k)
        assert torch.allclose(out[k], ref)
    assert torch.autograd.gradcheck(lambda h, t: rq_pool(h, t, b), (h, t))


def test_gcn_pool_equals_torch_geometric():
    tgnn = pytest.importorskip("torch_geometric.nn")
    g = torch.Generator().manual_seed(4)
    big, _ = _graphs(4, g)
    x = big.x.float()
    ours = GCNPool(3, 6)
    c1, c2 = tgnn.GCNConv(3, 6), tgnn.GCNConv(6, 6)
    with torch.no_grad():
        for conv, lin, bias in ((c1, ours.lin1, ours.bias1),
                                (c2, ours.lin2, ours.bias2)):
            conv.lin.weight.copy_(lin.weight)
            bias.copy_(torch.randn(6, generator=g))
            conv.bias.copy_(bias)
    h = torch.relu(c2(torch.relu(c1(x, big.edge_index)), big.edge_index))
    ref = ours.out(tgnn.global_mean_pool(h, big.batch))
    assert torch.allclose(ours(x, big.edge_index, big.batch), ref, atol=1e-5)


def test_models_are_permutation_invariant_per_graph():
    g = torch.Generator().manual_seed(5)
    big, _ = _graphs(3, g)
    perm = torch.randperm(big.num_nodes, generator=g)
    inv = torch.argsort(perm)
    for net in (RQGNN(3, 8, width=2, K=3).double(), GCNPool(3, 8).double()):
        z = net(big.x, big.edge_index, big.batch)
        zp = net(big.x[perm], inv[big.edge_index], big.batch[perm])
        assert z.shape == (3, 2) and torch.allclose(z, zp)


def test_metrics_equal_scikit_learn():
    g = torch.Generator().manual_seed(6)
    for _ in range(5):
        y = (torch.rand(40, generator=g) < 0.3).long()
        y[:2] = torch.tensor([0, 1])
        s = torch.randint(0, 6, (40,), generator=g).float()          # many ties
        assert math.isclose(roc_auc(s, y), roc_auc_score(y, s), abs_tol=1e-12)
        p = torch.randint(0, 2, (40,), generator=g)
        assert math.isclose(macro_f1(p, y), f1_score(y, p, average="macro"),
                            abs_tol=1e-12)


def test_anomaly_graphs_shapes_rate_and_determinism():
    a = anomaly_graphs(400, 0.25, 0.3, sizes=(6, 9),
                       generator=torch.Generator().manual_seed(7))
    b = anomaly_graphs(400, 0.25, 0.3, sizes=(6, 9),
                       generator=torch.Generator().manual_seed(7))
    assert torch.equal(a.x, b.x) and torch.equal(a.edge_index, b.edge_index)
    sizes = torch.bincount(a.batch)
    assert sizes.min() >= 6 and sizes.max() <= 9 and a.x.shape == (a.num_nodes, 8)
    rate = a.y.float().mean().item()
    assert abs(rate - 0.25) < 4 * math.sqrt(0.25 * 0.75 / 400)
    # anomalies move energy to high frequencies: higher mean quotient
    q = rayleigh_quotient(a.x, a.edge_index, a.batch, 400).mean(1)
    assert q[a.y == 1].mean() > q[a.y == 0].mean()


class _QuotientLogistic(torch.nn.Module):
    """Logistic regression on the graph's Rayleigh quotients (the RQL branch alone)."""

    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(8, 2)

    def forward(self, x, edge_index, batch, num_graphs=None):
        return self.lin(4 * rayleigh_quotient(x, edge_index, batch, num_graphs) - 2)


def test_fit_graphs_learns_an_easy_detector():
    # every node of an anomalous graph shuffled, little noise: the quotients separate
    # the classes, and a logistic regression on them trained by fit_graphs must too
    g = torch.Generator().manual_seed(8)
    data = anomaly_graphs(200, 0.5, 1.0, noise=0.1, sizes=(20, 24), p_in=0.6,
                          p_out=0.02, generator=g)
    tr, va, te = node_split(200, 0.5, 0.25, g)
    torch.manual_seed(0)
    p = fit_graphs(_QuotientLogistic(), data, tr, va, epochs=100, lr=0.05)
    assert p.shape == (200,) and roc_auc(p[te], data.y[te]) > 0.9
