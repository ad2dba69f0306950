"""The orbit adjacency counter, walk coefficients and PMI embeddings of the chapter
*Graphlet orbit adjacencies: the topology random walks miss* (`papers_lib.graphs.gradco`)."""
import itertools

import networkx as nx
import torch

from papers_lib.graphs.gradco import (
    GRAPHLETS, ORBIT_ADJACENCIES, ORBIT_OF_DEGREE, connected_sets, orbit_adjacency,
    pmi_embedding, walk_coefficients, walk_cooccurrence)


def _edges(G):
    e = torch.tensor(list(G.edges), dtype=torch.long).reshape(-1, 2).T
    return torch.cat([e, e.flip(0)], 1)


def _brute(G, n):
    temps = [nx.Graph(e) for e in GRAPHLETS]
    out = torch.zeros(28, n, n)
    for k in (2, 3, 4):
        for S in itertools.combinations(range(n), k):
            H = G.subgraph(S)
            if not nx.is_connected(H):
                continue
            g = next(g for g, T in enumerate(temps) if len(T) == k and nx.is_isomorphic(H, T))
            T = temps[g]
            iso = next(nx.isomorphism.GraphMatcher(H, T).isomorphisms_iter())
            dist = dict(nx.all_pairs_shortest_path_length(T))
            for u, v in itertools.permutations(S, 2):
                key = (g, ORBIT_OF_DEGREE[g][T.degree(iso[u])],
                       ORBIT_OF_DEGREE[g][T.degree(iso[v])], dist[iso[u]][iso[v]])
                out[ORBIT_ADJACENCIES.index(key), u, v] += 1
    return out


def test_counts_match_brute_force_on_random_graphs():
    for seed, p in ((0, 0.3), (3, 0.5), (7, 0.7)):
        G = nx.gnp_random_graph(9, p, seed=seed)
        G.add_nodes_from(range(9))
        assert torch.equal(orbit_adjacency(_edges(G), 9), _brute(G, 9)), seed


def test_each_graphlet_gives_its_own_classes():
    for g, edges in enumerate(GRAPHLETS):
        k = 1 + max(max(e) for e in edges)
        O = orbit_adjacency(_edges(nx.Graph(edges)), k)
        # the k-node graphlet itself holds every smaller one; its own classes each once
        own = [c for c, key in enumerate(ORBIT_ADJACENCIES) if key[0] == g]
        assert O[own].sum() == k * (k - 1)
        assert all(O[c].sum() > 0 for c in own)


def test_connected_sets_against_networkx():
    G = nx.gnp_random_graph(11, 0.3, seed=5)
    for k in (2, 3, 4):
        got = {tuple(s) for s in connected_sets(_edges(G), 11, k).tolist()}
        want = {S for S in itertools.combinations(range(11), k)
                if nx.is_connected(G.subgraph(S))}
        assert got == want


def test_self_avoiding_walks_are_mixtures_of_orbit_adjacencies():
    pi = walk_coefficients()
    assert pi.tolist() == [1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 1, 0,
                           0, 0, 0, 2, 1, 1, 0, 2]
    size = torch.tensor([1 + max(max(e) for e in GRAPHLETS[c[0]])
                         for c in ORBIT_ADJACENCIES])
    G = nx.gnp_random_graph(10, 0.4, seed=2)
    O = orbit_adjacency(_edges(G), 10)
    for k in (2, 3, 4):
        saw = torch.zeros(10, 10)
        for u, v in itertools.permutations(range(10), 2):
            saw[u, v] = sum(len(p) == k for p in nx.all_simple_paths(G, u, v, cutoff=k - 1))
        assert torch.equal(saw, (pi[size == k].float()[:, None, None] * O[size == k]).sum(0))


def test_walk_cooccurrence_closed_form():
    G = nx.cycle_graph(6)
    M = walk_cooccurrence(_edges(G), 6, 2)
    A = torch.tensor(nx.to_numpy_array(G, nodelist=range(6)), dtype=torch.float32)
    # regular graph of degree 2: D P + D P^2 = A + A^2 / 2
    assert torch.allclose(M, A + A @ A / 2)


def test_pmi_embedding_against_numpy_svd():
    g = torch.Generator().manual_seed(0)
    M = torch.rand(8, 8, generator=g) * (torch.rand(8, 8, generator=g) > 0.3)
    z = pmi_embedding(M, 8)
    Md = M.double()
    pmi = torch.log(Md * Md.sum() / (Md.sum(1, keepdim=True) * Md.sum(0, keepdim=True)))
    pmi = torch.where(Md > 0, pmi, torch.zeros_like(pmi)).clamp_min(0)
    # full rank: z z^T = U S U^T reproduces the symmetric part of the factorisation
    assert torch.allclose((z @ z.T).double(),
                          torch.linalg.svd(pmi).U @ torch.diag(torch.linalg.svd(pmi).S)
                          @ torch.linalg.svd(pmi).U.T, atol=1e-4)
    assert torch.allclose(torch.linalg.svdvals(z.double()) ** 2,
                          torch.linalg.svdvals(pmi), atol=1e-4)
