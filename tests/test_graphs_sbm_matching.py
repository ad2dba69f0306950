"""The correlated SBM, the partition-tree signatures and the matching of the chapter
*Exact graph matching on correlated stochastic block models*
(`papers_lib.graphs.sbm_matching`)."""
import itertools

import networkx as nx
import torch

from papers_lib.graphs.sbm_matching import (
    _assignment, correlated_sbm, degree_profile_matching, match_correlated_sbm,
    match_rate, partition_tree_signatures, seeded_refinement, signature_similarity,
    spectral_communities)
from papers_lib.graphs.toolkit import to_dense


def test_generator_statistics():
    g = torch.Generator().manual_seed(0)
    n, p, q, s = 400, 0.3, 0.1, 0.6
    ea, eb, pi, y = correlated_sbm([160, 240], p, q, s, g)
    A, B = to_dense(ea, n), to_dense(eb, n)
    assert torch.equal(A, A.T) and torch.equal(B, B.T) and A.diag().sum() == 0
    assert torch.equal(torch.sort(pi).values, torch.arange(n))
    Bp = B[pi][:, pi]                          # B in A's numbering
    same = (y[:, None] == y[None, :]) & ~torch.eye(n, dtype=torch.bool)
    pairs = same.sum() / 2
    dens = A[same].sum() / 2 / pairs           # within-community density: s p
    assert abs(dens - s * p) < 4 * (s * p * (1 - s * p) / pairs) ** 0.5
    both = (A * Bp)[same].sum() / 2 / pairs    # both children: s^2 p
    assert abs(both - s * s * p) < 4 * (s * s * p / pairs) ** 0.5
    m = A.sum() / 2
    overlap = (A * Bp).sum() / 2 / m           # overlap fraction: s
    assert abs(overlap - s) < 4 * (s * (1 - s) / m) ** 0.5
    assert abs(Bp.sum() / 2 / m - 1) < 0.05    # children have the same size


def test_communities_exact_on_dense_sbm():
    g = torch.Generator().manual_seed(1)
    ea, eb, pi, y = correlated_sbm([60, 90], 0.5, 0.15, 0.8, g)
    assert torch.equal(spectral_communities(ea, 150), y)
    assert torch.equal(spectral_communities(eb, 150)[pi], y)


def test_signature_depth_zero_is_degree_and_shapes():
    g = torch.Generator().manual_seed(2)
    ea, _, _, y = correlated_sbm([20, 30], 0.5, 0.2, 0.9, g)
    A = to_dense(ea, 50)
    F0 = partition_tree_signatures(ea, 50, y, depth=0)
    sizes = torch.tensor([20.0, 30.0])
    deg_c = torch.stack([A[:, y == c].sum(1) for c in range(2)], 1)
    # F0 = (deg_c - P[y, c] |V_c|) / sqrt|V_c|: the offset depends only on y
    off = F0 - deg_c / sizes.sqrt()
    assert torch.allclose(off[y == 0], off[y == 0][[0]].expand(20, 2), atol=1e-5)
    assert torch.allclose(off[y == 1], off[y == 1][[0]].expand(30, 2), atol=1e-5)
    assert partition_tree_signatures(ea, 50, y, depth=2).shape == (50, 2 * (1 + 1 + 4))
    # depth-1 coordinates: (|S_c+| - |S_c-|) over V_c \ {i}, so |value| <= sqrt|V_c|
    F1 = partition_tree_signatures(ea, 50, y, depth=1)[:, 2:]
    assert (F1.abs() <= sizes.sqrt() + 1e-5).all()


def test_similarity_is_correlation():
    g = torch.Generator().manual_seed(3)
    a, b = torch.randn(30, 5, generator=g), torch.randn(30, 5, generator=g)
    C = signature_similarity(a, a)
    assert abs(C.diag().mean() - 29 / 30) < 1e-5     # sum of z^2 = D (n - 1)
    za = (a - a.mean(0)) / a.std(0)
    zb = (b - b.mean(0)) / b.std(0)
    assert torch.allclose(signature_similarity(a, b), za @ zb.T / 5, atol=1e-5)


def test_assignment_against_brute_force():
    g = torch.Generator().manual_seed(4)
    for _ in range(3):
        W = torch.rand(6, 6, generator=g)
        best = max(itertools.permutations(range(6)),
                   key=lambda p: sum(W[i, p[i]].item() for i in range(6)))
        assert _assignment(W).tolist() == list(best)


def test_baseline_is_optimal_assignment_on_tiny_instance():
    g = torch.Generator().manual_seed(5)
    ea, eb, pi, _ = correlated_sbm([3, 4], 0.6, 0.3, 0.8, g)
    perm = degree_profile_matching(ea, eb, 7)
    from papers_lib.graphs.sbm_matching import _degree_profile
    ga = _degree_profile(to_dense(ea, 7).double())
    gb = _degree_profile(to_dense(eb, 7).double())
    D = torch.cdist(ga, gb, p=1)
    cost = min(sum(D[i, p[i]].item() for i in range(7))
               for p in itertools.permutations(range(7)))
    assert abs(sum(D[i, perm[i]].item() for i in range(7)) - cost) < 1e-9
    assert sorted(perm.tolist()) == list(range(7))


def test_exact_in_easy_regime_and_output_is_permutation():
    g = torch.Generator().manual_seed(6)
    ea, eb, pi, _ = correlated_sbm([40, 60], 0.6, 0.2, 0.98, g)
    pi0, ph = match_correlated_sbm(ea, eb, 100)
    for p in (pi0, ph):
        assert p.dtype == torch.long and torch.equal(torch.sort(p).values,
                                                     torch.arange(100))
    assert match_rate(ph, pi) == 1.0
    # the truth is a fixed point of the refinement
    assert torch.equal(seeded_refinement(ea, eb, 100, pi), pi)


def test_match_rate_and_isomorphism_with_networkx():
    g = torch.Generator().manual_seed(7)
    ea, eb, pi, _ = correlated_sbm([15, 20], 0.5, 0.2, 1.0, g)
    _, ph = match_correlated_sbm(ea, eb, 35)
    Ga = nx.Graph(ea.T.tolist())
    Gb = nx.relabel_nodes(nx.Graph(eb.T.tolist()), {j: i for i, j in
                                                     enumerate(ph.tolist())})
    assert nx.utils.graphs_equal(Ga, Gb) or set(map(frozenset, Ga.edges)) == set(
        map(frozenset, Gb.edges))
    assert match_rate(torch.arange(35), torch.arange(35)) == 1.0
    assert match_rate(torch.arange(4).flip(0), torch.arange(4)) == 0.0
