"""The reconstructed graphs, filters, self-expression, k-means, spectral clustering,
accuracy and pipeline of the chapter *Graph-agnostic clustering: homophilic and
heterophilic graphs, a mixed filter* (`papers_lib.graphs.agnostic`)."""
import itertools

import networkx as nx
import torch
from sklearn.cluster import SpectralClustering
from sklearn.neighbors import kneighbors_graph
from torch_geometric.utils import get_laplacian

from papers_lib.graphs.agnostic import (
    clustering_accuracy, contextual_sbm_multi, graph_agnostic_clustering,
    heterophilic_graph, high_pass_filter, homophilic_graph, low_pass_filter,
    mixed_filter, self_expression, spectral_clustering, subspace_clustering)
from papers_lib.graphs.toolkit import ari, edge_homophily, to_dense


def _gen(s):
    return torch.Generator().manual_seed(s)


def test_contextual_sbm_multi_statistics():
    g = contextual_sbm_multi(1200, 30, 3, 10.0, 0.2, 2.0, _gen(0))
    assert abs(edge_homophily(g.edge_index, g.y) - 0.2) < 0.03
    assert abs(g.edge_index.shape[1] / 1200 - 10.0) < 0.5
    means = torch.stack([g.x[g.y == c].mean(0) for c in range(3)]) / 2.0
    assert torch.allclose(means @ means.T, torch.eye(3), atol=0.05)


def test_homophilic_graph_against_sklearn():
    x = torch.randn(60, 5, generator=_gen(1), dtype=torch.float64)
    for k in (1, 4):
        A = kneighbors_graph(x.numpy(), k, metric="cosine").toarray()
        A = ((A + A.T) > 0)
        ref = sorted(map(tuple, torch.from_numpy(A).nonzero().tolist()))
        assert sorted(map(tuple, homophilic_graph(x, k).T.tolist())) == ref


def test_heterophilic_graph_brute_force_and_hops():
    g = contextual_sbm_multi(60, 8, 2, 3.0, 0.5, 1.0, _gen(2))
    x, ei = g.x, g.edge_index
    G = nx.Graph(ei.T.tolist())
    G.add_nodes_from(range(60))
    dist = dict(nx.all_pairs_shortest_path_length(G))
    cos = torch.nn.functional.cosine_similarity(x[:, None], x[None], dim=-1).double()
    for t, k in ((1, 3), (2, 2)):
        Sb, w = heterophilic_graph(x, ei, k, hops=t)
        edges = set(map(tuple, Sb.T.tolist()))
        assert all(dist[i].get(j, 99) > t for i, j in edges)
        assert all((j, i) in edges for i, j in edges)
        for i in range(60):
            far = [j for j in range(60) if dist[i].get(j, 99) > t]
            top = sorted(far, key=lambda j: -(1 - cos[i, j]).item())[:k]
            assert all((i, j) in edges for j in top)
        assert torch.allclose(w.double(), 1 - cos[Sb[0], Sb[1]], atol=1e-6)


def test_filters_against_dense_and_torch_geometric():
    g = contextual_sbm_multi(80, 6, 2, 4.0, 0.3, 1.0, _gen(3))
    x, ei, n = g.x.double(), g.edge_index, 80
    I = torch.eye(n, dtype=torch.float64)
    A = to_dense(ei, n).double() + I
    d = A.sum(1).rsqrt()
    Lt = I - d[:, None] * A * d[None]
    assert torch.allclose(low_pass_filter(x, ei, 4, p=0.3),
                          torch.linalg.matrix_power(I - 0.3 * Lt, 4) @ x)
    w = torch.rand(ei.shape[1], generator=_gen(4), dtype=torch.float64)
    w = (w + to_dense(ei, n, w).T[ei[1], ei[0]]) / 2          # symmetric weights
    lei, lw = get_laplacian(ei, w, normalization="sym", num_nodes=n)
    L = torch.zeros(n, n, dtype=torch.float64).index_put_(
        (lei[0], lei[1]), lw, accumulate=True)
    assert torch.allclose(high_pass_filter(x, ei, 3, p=0.5, edge_weight=w),
                          torch.linalg.matrix_power(0.5 * L, 3) @ x)
    mix = mixed_filter(x, ei, ei, 2, 1, 0.3, het_weight=w)
    assert torch.allclose(mix, 0.7 * low_pass_filter(x, ei, 2)
                          + 0.3 * high_pass_filter(x, ei, 1, edge_weight=w))
    assert torch.equal(low_pass_filter(x, ei, 0), x)


def test_self_expression_is_the_minimiser():
    Z1 = torch.randn(25, 4, generator=_gen(5), dtype=torch.float64)
    Z2 = torch.randn(25, 40, generator=_gen(6), dtype=torch.float64)
    for views, ws, a in (([Z1], [1.0], 0.5), ([Z1, Z2], [2.0, 0.3], 3.0)):
        C = self_expression(views, a, ws).requires_grad_()
        obj = sum(w * ((z - C @ z) ** 2).sum() for w, z in zip(ws, views))
        (obj + a * (C ** 2).sum()).backward()
        assert C.grad.abs().max() < 1e-8
        G = sum(w * z @ z.T for w, z in zip(ws, views))
        lam, V = torch.linalg.eigh(G)
        assert torch.allclose(C.detach(), V @ torch.diag(lam / (lam + a)) @ V.T,
                              atol=1e-9)


def test_spectral_clustering_matches_sklearn():
    g = contextual_sbm_multi(120, 4, 3, 12.0, 0.9, 0.0, _gen(30))
    W = to_dense(g.edge_index, 120).double() + 1e-3
    lab = spectral_clustering(W, 3, _gen(31))
    sk = SpectralClustering(3, affinity="precomputed", random_state=0).fit(W.numpy())
    assert ari(lab, torch.from_numpy(sk.labels_).long()) > 0.9
    assert clustering_accuracy(g.y, lab) > 0.9


def test_clustering_accuracy_brute_force():
    for s in range(5):
        y = torch.randint(3, (12,), generator=_gen(40 + s))
        p = torch.randint(3, (12,), generator=_gen(50 + s))
        brute = max(sum(int(perm[int(a)] == int(b)) for b, a in zip(y, p))
                    for perm in itertools.permutations(range(3))) / 12
        assert abs(clustering_accuracy(y, p) - brute) < 1e-12
    assert clustering_accuracy(torch.tensor([0, 0, 1]), torch.tensor([5, 5, 2])) == 1.0


def test_pipeline_is_graph_agnostic_on_an_easy_case():
    for h in (0.05, 0.95):
        g = contextual_sbm_multi(200, 20, 4, 6.0, h, 0.8, _gen(60))
        lab = graph_agnostic_clustering(g.x, g.edge_index, 4, generator=_gen(61))
        assert clustering_accuracy(g.y, lab) >= 0.95, h
    g = contextual_sbm_multi(200, 20, 4, 6.0, 0.05, 0.8, _gen(60))
    run = lambda s: subspace_clustering([g.x], 4, generator=_gen(s))
    assert torch.equal(run(3), run(3))
