"""Dense multicut with factorised costs and greedy additive edge contraction, from the
chapter *Clustering fully connected graphs by multicut*
(`papers_lib.graphs.clusterfug`), against dense algebra, brute force and networkx."""
import itertools

import networkx as nx
import torch
from torch.nn.functional import normalize

from papers_lib.graphs.clusterfug import (cluster_costs, dense_costs, dense_gaec,
                                          exact_multicut, knn_edges, multicut_objective,
                                          pair_costs, sparse_gaec, sphere_clusters)


def _gen(s):
    return torch.Generator().manual_seed(s)


def _brute_objective(C, labels):
    n = C.shape[0]
    return sum(C[i, j].item() for i, j in itertools.combinations(range(n), 2)
               if labels[i] != labels[j])


def _naive_gaec(C):
    C = C.clone().fill_diagonal_(-float("inf"))
    n = C.shape[0]
    lab, alive = torch.arange(n), torch.ones(n, dtype=torch.bool)
    while alive.sum() > 1:
        M = C.masked_fill(~(alive[:, None] & alive[None, :]), -float("inf"))
        a, b = divmod(int(M.argmax()), n)
        if M[a, b] <= 0:
            break
        C[a] += C[b]
        C[:, a] += C[:, b]
        C[a, a] = -float("inf")
        alive[b] = False
        lab[lab == b] = a
    return lab


def _same_partition(a, b):
    return torch.equal(a[:, None] == a[None, :], b[:, None] == b[None, :])


def test_contraction_identity():
    f = torch.randn(9, 4, generator=_gen(0), dtype=torch.float64)
    y = torch.tensor([0, 2, 1, 0, 2, 2, 1, 3, 0])
    C = dense_costs(f, 0.7)
    assert torch.allclose(C, f @ f.T - 0.7 - torch.diag((f * f).sum(1) - 0.7))
    CC = cluster_costs(f, y, 0.7)
    for a in range(4):
        for b in range(4):
            s = C[y == a][:, y == b].sum()
            assert torch.allclose(CC[a, b], s / 2 if a == b else s)
    yb = torch.where(y == 2, 0, y)                      # merge clusters 0 and 2
    m = cluster_costs(f, yb, 0.7)
    assert torch.allclose(m[0, 1], CC[0, 1] + CC[2, 1])
    assert torch.allclose(m[0, 0], CC[0, 0] + CC[2, 2] + CC[0, 2])


def test_objective_matches_brute_force():
    g = _gen(1)
    for _ in range(5):
        f = torch.randn(12, 3, generator=g, dtype=torch.float64)
        y = torch.randint(4, (12,), generator=g)
        C = dense_costs(f, 0.2)
        assert abs(multicut_objective(f, y, 0.2) - _brute_objective(C, y)) < 1e-9


def test_gaec_upper_bounds_the_optimum_and_exact_is_optimal():
    g = _gen(2)
    ties = 0
    for n in (2, 5, 8):
        for _ in range(6):
            f = torch.randn(n, 3, generator=g, dtype=torch.float64)
            C = dense_costs(f, 0.5)
            lab, opt = exact_multicut(C)
            assert abs(_brute_objective(C, lab) - opt) < 1e-9
            val = multicut_objective(f, dense_gaec(f, 0.5), 0.5)
            assert val >= opt - 1e-9
            ties += val < opt + 1e-9
    # the optimum against a second, recursive enumeration of the partitions of 6 nodes
    f = torch.randn(6, 2, generator=g, dtype=torch.float64)
    C = dense_costs(f, 0.3)
    best = min(sum(C[i, j].item() for a, b in itertools.combinations(p, 2)
                   for i in a for j in b) for p in _set_partitions(range(6)))
    assert abs(exact_multicut(C)[1] - best) < 1e-9
    assert ties >= 1                                   # GAEC is often optimal


def _set_partitions(items):
    items = list(items)
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for p in _set_partitions(rest):
        for k in range(len(p)):
            yield p[:k] + [[first] + p[k]] + p[k + 1:]
        yield [[first]] + p


def test_dense_gaec_matches_naive_and_sparse_on_complete_graph():
    f = normalize(torch.randn(50, 4, generator=_gen(3), dtype=torch.float64), dim=1)
    lab = dense_gaec(f, 0.3)
    assert _same_partition(lab, _naive_gaec(dense_costs(f, 0.3)))
    ii, jj = torch.triu_indices(50, 50, 1)
    E = torch.cat([torch.stack([ii, jj]), torch.stack([jj, ii])], 1)
    assert torch.equal(sparse_gaec(E, pair_costs(f, E, 0.3), 50), lab)
    assert lab[0] == 0 and torch.equal(lab.unique(), torch.arange(int(lab.max()) + 1))


def test_sparse_gaec_is_naive_gaec_on_masked_costs():
    f = normalize(torch.randn(40, 3, generator=_gen(4), dtype=torch.float64), dim=1)
    E = knn_edges(f, 4)
    C = torch.zeros(40, 40, dtype=torch.float64)
    C[E[0], E[1]] = pair_costs(f, E, 0.6)
    assert _same_partition(sparse_gaec(E, pair_costs(f, E, 0.6), 40), _naive_gaec(C))


def test_knn_edges_against_networkx_degrees():
    f = torch.randn(30, 5, generator=_gen(5))
    E = knn_edges(f, 3)
    s = (f @ f.T).fill_diagonal_(-float("inf"))
    G = nx.Graph()
    G.add_nodes_from(range(30))
    for i in range(30):
        G.add_edges_from((i, int(j)) for j in s[i].topk(3).indices)
    assert E.shape[1] == 2 * G.number_of_edges()
    assert set(map(tuple, E.T.tolist())) == {(u, v) for u, v in G.edges} | \
        {(v, u) for u, v in G.edges}


def test_determinism_and_offset_limits():
    f, y = sphere_clusters(200, 5, 8, 0.1, _gen(6))
    assert torch.allclose(f.norm(dim=1), torch.ones(200))
    a, b = dense_gaec(f, 0.3), dense_gaec(f.clone(), 0.3)
    assert torch.equal(a, b)
    # orthogonal centres, small noise: within-cluster costs > 0 > across-cluster
    # costs, so the true partition is optimal and GAEC finds it
    y = torch.arange(5).repeat(8)
    f = normalize(torch.eye(5)[y] + 0.05 * torch.randn(40, 5, generator=_gen(7)), dim=1)
    C = f @ f.T - 0.3
    same = y[:, None] == y[None, :]
    assert (C[same] > 0).all() and (C[~same] < 0).all()
    assert _same_partition(dense_gaec(f, 0.3), y)
    assert (dense_gaec(f, 1.5) == torch.arange(40)).all()        # all costs < 0
    assert (dense_gaec(f, -1.5) == 0).all()                       # all costs > 0
