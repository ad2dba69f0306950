"""Motifs, exact densities, the Glauber and pivot chains, their time averages and the
Watts-Strogatz generator of the chapter *Sampling random graph homomorphisms*
(`papers_lib.graphs.homomorphisms`)."""
import itertools

import networkx as nx
import torch

from papers_lib.graphs.homomorphisms import (
    brute_force_hom_density, conditional_density, glauber_chain, hom_weights, macc,
    path_motif, pivot_chain, star_motif, tree_hom_density, tree_sample, tree_weights,
    watts_strogatz)
from papers_lib.graphs.toolkit import erdos_renyi, to_dense


def _dense(G):
    return to_dense(G.edge_index, G.num_nodes).double()


def _weighted(n, seed):
    g = torch.Generator().manual_seed(seed)
    A = torch.rand(n, n, generator=g, dtype=torch.float64)
    ring = torch.roll(torch.eye(n, dtype=torch.float64), 1, 1)
    A = torch.triu(A * (torch.rand(n, n, generator=g) < 0.6) + ring + ring.T, 1)
    return A + A.T


def test_hom_counts_against_networkx_and_matrix_powers():
    A = _dense(erdos_renyi(8, 0.5, torch.Generator().manual_seed(1)))
    n, one = 8, torch.ones(8, dtype=torch.float64)
    tri = sum(nx.triangles(nx.from_numpy_array(A.numpy())).values()) // 3
    C3 = torch.tensor([[0, 1, 2], [1, 2, 0]])
    assert round(brute_force_hom_density(A, C3, 3) * n ** 3) == 6 * tri
    for k in (2, 3, 4):
        want = (one @ torch.linalg.matrix_power(A, k - 1) @ one).item() / n ** k
        assert abs(tree_hom_density(A, path_motif(k), k) - want) < 1e-12
        assert abs(brute_force_hom_density(A, path_motif(k), k) - want) < 1e-12


def test_tree_density_matches_brute_force_weighted():
    A = _weighted(6, 2)
    al = torch.rand(6, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    al = al / al.sum()
    for e, k in ((torch.tensor([[0, 0, 2, 2], [1, 2, 3, 4]]), 5), (star_motif(4), 4)):
        assert abs(tree_hom_density(A, e, k, al) - brute_force_hom_density(A, e, k, al)) \
            < 1e-12
    deg = A.sum(1) / 6
    assert torch.allclose(tree_weights(A, star_motif(4), 4)[0], deg ** 3)


def test_hom_weights_zero_off_edges():
    A = _dense(erdos_renyi(4, 1.0))
    A[0, 1] = A[1, 0] = 0.0
    x = torch.tensor([[0, 1, 2], [0, 2, 1]])
    w = hom_weights(A, path_motif(3), x)
    assert w[0] == 0 and w[1] == 1 / 64


def _tv(tr, pi, n):
    code = (tr.reshape(-1, 3) * torch.tensor([n * n, n, 1])).sum(1)
    emp = torch.bincount(code, minlength=n ** 3).double() / code.numel()
    return 0.5 * (emp - pi).abs().sum().item()


def test_both_chains_have_the_homomorphism_law_as_stationary():
    A = _weighted(4, 5)
    states = torch.tensor(list(itertools.product(range(4), repeat=3)))
    pi = hom_weights(A, path_motif(3), states)
    pi = pi / pi.sum()
    g = torch.Generator().manual_seed(0)
    for chain in (glauber_chain, pivot_chain):
        tr = chain(A, path_motif(3), 3, 300, 200, generator=g)[50:]
        assert _tv(tr, pi, 4) < 0.03, chain.__name__


def test_tree_sample_conditional_law():
    A = _weighted(4, 6)
    states = torch.tensor(list(itertools.product(range(4), repeat=3)))
    pi = hom_weights(A, path_motif(3), states) * (states[:, 0] == 2)
    xs = tree_sample(A, path_motif(3), 3, torch.full((20000,), 2),
                     generator=torch.Generator().manual_seed(0))
    assert (xs[:, 0] == 2).all() and _tv(xs, pi / pi.sum(), 4) < 0.03


def test_chains_deterministic_and_valid():
    A = _dense(erdos_renyi(30, 0.3, torch.Generator().manual_seed(0)))
    for chain in (glauber_chain, pivot_chain):
        run = lambda s: chain(A, path_motif(4), 4, 50, 8,
                              generator=torch.Generator().manual_seed(s))
        a, b = run(1), run(1)
        assert torch.equal(a, b) and not torch.equal(a, run(2))
        assert (hom_weights(A, path_motif(4), a.reshape(-1, 4)) > 0).all()


def test_conditional_density_and_macc_converge_to_closed_form():
    A = _dense(erdos_renyi(60, 0.2, torch.Generator().manual_seed(4)))
    one = torch.ones(60, dtype=torch.float64)
    exact = (torch.trace(A @ A @ A) / (one @ A @ A @ one)).item()
    tr = pivot_chain(A, path_motif(3), 3, 200, 32,
                     generator=torch.Generator().manual_seed(0))
    est = conditional_density(A, tr, torch.tensor([[2], [0]]), burn_in=50)
    assert abs(est.mean().item() / exact - 1) < 0.1
    M = macc(A, tr, burn_in=50)
    assert torch.allclose(M[:, 0, 2], est) and (M[:, 0, 1] == 1).all()


def test_watts_strogatz_against_networkx():
    W = watts_strogatz(20, 4, 0.0)
    assert nx.is_isomorphic(nx.Graph(W.edge_index.T.tolist()),
                            nx.watts_strogatz_graph(20, 4, 0.0))
    W = watts_strogatz(50, 6, 0.5, torch.Generator().manual_seed(0))
    G = nx.Graph(W.edge_index.T.tolist())
    assert G.number_of_edges() == 150 and nx.number_of_selfloops(G) == 0
    lattice = nx.Graph(watts_strogatz(50, 6, 0.0).edge_index.T.tolist())
    assert len(set(G.edges) ^ set(lattice.edges)) > 0
