"""Path enumerations, 1-WL and the PathNN model of the chapter *Path neural networks:
beyond 1-WL with paths* (`papers_lib.graphs.pathnn`), against networkx and brute
force."""
import networkx as nx
import pytest
import torch
from torch import nn

from papers_lib.graphs.pathnn import (PathNN, csl_graph, encode_paths, enumerate_paths,
                                      path_distances, shortest_paths, simple_paths,
                                      wl_colors, wl_equivalent)
from papers_lib.graphs.toolkit import Graph, batch_graphs

pytestmark = pytest.mark.filterwarnings("ignore:The hashes produced")


def from_nx(G):
    G = nx.convert_node_labels_to_integers(G)
    e = torch.tensor(list(G.edges()), dtype=torch.long).reshape(-1, 2).T
    return Graph(torch.cat([e, e.flip(0)], 1), G.number_of_nodes())


def rows(paths):
    return [tuple(r) for p in paths for r in p.tolist()]


@pytest.mark.parametrize("s", range(4))
def test_simple_paths_are_networkx_all_simple_paths(s):
    G = nx.gnp_random_graph(9, 0.4, seed=s)
    K = 5
    ours = rows(simple_paths(from_nx(G).edge_index, 9, K))
    ref = [tuple(p) for a in G for b in G if a != b
           for p in nx.all_simple_paths(G, a, b, cutoff=K)]
    assert len(ours) == len(set(ours)) and set(ours) == set(ref)
    assert all(len(r) - 1 <= K for r in ours)


@pytest.mark.parametrize("s", range(4))
def test_shortest_paths_are_networkx_all_shortest_paths(s):
    G = nx.gnp_random_graph(10, 0.3, seed=10 + s)
    g = from_nx(G)
    ours = shortest_paths(g.edge_index, 10, 9)
    ref = {tuple(p) for a in G for b in G if a != b and nx.has_path(G, a, b)
           for p in nx.all_shortest_paths(G, a, b)}
    assert sorted(rows(ours)) == sorted(ref)
    one = shortest_paths(g.edge_index, 10, 9, single=True)
    D = dict(nx.all_pairs_shortest_path_length(G))
    for k, p in enumerate(one, 1):      # one shortest path per pair at distance k
        want = sorted((a, b) for a in G for b in G if D[a].get(b) == k)
        assert sorted((r[0], r[-1]) for r in p.tolist()) == want
    assert set(rows(one)) <= ref


def test_enumerate_paths_nests_and_cuts_at_k():
    g = csl_graph(11, 3)
    c = {k: [p.shape[0] for p in enumerate_paths(g.edge_index, 11, 4, k)]
         for k in ("sp", "sp+", "ap")}
    assert all(a <= b <= d for a, b, d in zip(c["sp"], c["sp+"], c["ap"]))
    assert len(c["ap"]) == 4 and c["ap"][0] == 44      # 4-regular: 4 edges per node


def test_path_distances_match_networkx():
    G = nx.gnp_random_graph(9, 0.35, seed=3)
    g = from_nx(G)
    ap = simple_paths(g.edge_index, 9, 4)
    D = dict(nx.all_pairs_shortest_path_length(G))
    for p, d in zip(ap, path_distances(ap, g.edge_index, 9)):
        ref = torch.tensor([[D[r[0]][u] for u in r] for r in p.tolist()])
        assert torch.equal(d, ref.reshape(d.shape))


@pytest.mark.parametrize("s", range(3))
def test_wl_partition_matches_networkx_subgraph_hashes(s):
    G = nx.gnp_random_graph(14, 0.25, seed=20 + s)
    c = wl_colors(from_nx(G).edge_index, 14, iterations=4)
    h = nx.weisfeiler_lehman_subgraph_hashes(G, iterations=4)
    for t in range(1, 5):
        ours = c[t][:, None] == c[t][None, :]
        theirs = torch.tensor([[h[u][t - 1] == h[v][t - 1] for v in G] for u in G])
        assert torch.equal(ours, theirs)


def test_wl_equivalence_matches_networkx_graph_hash():
    two_c3 = nx.disjoint_union(nx.cycle_graph(3), nx.cycle_graph(3))
    pairs = [(nx.cycle_graph(6), two_c3),
             (nx.random_regular_graph(3, 12, seed=1),
              nx.random_regular_graph(3, 12, seed=2)),
             (nx.gnp_random_graph(10, 0.3, seed=4),
              nx.gnp_random_graph(10, 0.3, seed=5)),
             (nx.path_graph(6), nx.star_graph(5))]
    G = nx.gnp_random_graph(10, 0.3, seed=6)
    relabel = dict(zip(range(10), [3, 1, 4, 0, 9, 2, 6, 5, 8, 7]))
    pairs.append((G, nx.relabel_nodes(G, relabel)))
    got = [wl_equivalent(from_nx(a), from_nx(b)) for a, b in pairs]
    ref = [nx.weisfeiler_lehman_graph_hash(a, iterations=10)
           == nx.weisfeiler_lehman_graph_hash(b, iterations=10) for a, b in pairs]
    assert got == ref and got[0] and got[1] and got[4] and not got[3]


def test_csl_graph_is_the_circulant_graph():
    g = csl_graph(41, 9)
    ref = nx.circulant_graph(41, [1, 9])
    ours = {tuple(sorted(e)) for e in g.edge_index.T.tolist()}
    assert ours == {tuple(sorted(e)) for e in ref.edges()}
    assert torch.equal(torch.bincount(g.edge_index[1]), torch.full((41,), 4))


def test_encode_paths_equals_a_loop_over_paths():
    torch.manual_seed(0)
    h = torch.randn(9, 3, dtype=torch.float64)
    g = from_nx(nx.gnp_random_graph(9, 0.4, seed=7))
    p = simple_paths(g.edge_index, 9, 3)[2]
    ann = torch.randn(*p.shape, 2, dtype=torch.float64)
    for rnn in (nn.LSTM(5, 4, batch_first=True), nn.GRU(5, 4, batch_first=True)):
        rnn = rnn.double()
        m = encode_paths(h, p, rnn, ann)
        ref = torch.zeros(9, 4, dtype=torch.float64)
        for r, a in zip(p.tolist(), ann):
            x = torch.cat([h[r], a], 1).flip(0)[None]
            ref[r[0]] += rnn(x)[0][0, -1]
        assert torch.allclose(m, ref, atol=1e-12)


def _embed(model, graphs, kind, K, dd):
    U = batch_graphs(graphs)
    P = enumerate_paths(U.edge_index, U.num_nodes, K, kind)
    D = path_distances(P, U.edge_index, U.num_nodes) if dd else None
    x = torch.ones(U.num_nodes, 1, dtype=torch.float64)
    with torch.no_grad():
        return model(x, P, D, U.batch, len(graphs))


@pytest.mark.parametrize("kind,dd", [("sp+", False), ("ap", False), ("ap", True)])
def test_graph_embedding_is_permutation_invariant_and_batch_consistent(kind, dd):
    torch.manual_seed(1)
    G = nx.gnp_random_graph(10, 0.35, seed=8)
    g = from_nx(G)
    perm = torch.randperm(10)
    gp = Graph(perm[g.edge_index], 10)
    model = PathNN(1, 8, 3, distances=dd).double()
    e = _embed(model, [g, gp, from_nx(nx.cycle_graph(7))], kind, 3, dd)
    assert torch.allclose(e[0], e[1], atol=1e-10)
    alone = _embed(model, [g], kind, 3, dd)[0]
    assert torch.allclose(alone, e[0], atol=1e-10)


def test_paths_separate_a_1wl_pair_that_message_passing_cannot():
    torch.manual_seed(2)
    a = from_nx(nx.cycle_graph(6))
    b = from_nx(nx.disjoint_union(nx.cycle_graph(3), nx.cycle_graph(3)))
    assert wl_equivalent(a, b)
    model = PathNN(1, 8, 3).double()
    U = batch_graphs([a, b])
    edges = simple_paths(U.edge_index, 12, 1) * 3          # message passing
    x = torch.ones(12, 1, dtype=torch.float64)
    with torch.no_grad():
        e = model(x, edges, None, U.batch, 2)
    assert (e[0] - e[1]).norm() < 1e-12
    e = _embed(model, [a, b], "sp+", 3, False)
    assert (e[0] - e[1]).norm() > 1e-5
