"""The node2vec trainer, the community-and-role graph and the linear probe of the
chapter *node2vec: biased random walks for node embeddings*
(`papers_lib.graphs.node2vec`)."""
import networkx as nx
import torch

from papers_lib.graphs.node2vec import community_role_graph, node2vec_embeddings
from papers_lib.graphs.toolkit import ari, linear_probe


def _two_cliques(k=8):
    src, dst = torch.triu_indices(k, k, 1)
    e = torch.cat([torch.stack([src, dst]), torch.stack([src, dst]) + k,
                   torch.tensor([[0], [k]])], 1)
    return torch.cat([e, e.flip(0)], 1), torch.arange(2 * k) // k


def test_deterministic_given_a_generator():
    ei, _ = _two_cliques()
    run = lambda s, q: node2vec_embeddings(ei, 16, 4, 2, 6, 2, q=q, epochs=1,
                                           generator=torch.Generator().manual_seed(s))
    for q in (1.0, 0.5):
        assert torch.equal(run(3, q), run(3, q))
    assert not torch.equal(run(3, 1.0), run(4, 1.0))


def test_two_cliques_are_separated():
    ei, y = _two_cliques()
    for s in range(3):
        z = node2vec_embeddings(ei, 16, 8, 10, 10, 3, p=1.0, q=0.5, epochs=3, lr=0.05,
                                generator=torch.Generator().manual_seed(s))
        zc = z - z.mean(0)
        # the top principal direction splits the cliques
        v = torch.linalg.svd(zc, full_matrices=False).Vh[0]
        assert ari(y, (zc @ v > 0).long()) >= 0.9, s
        # and a linear probe trained on half of each clique labels the other half
        train = torch.arange(16) % 2 == 0
        pred = linear_probe(z, y, train)
        assert ari(y[~train], pred[~train]) >= 0.9, s


def test_community_role_graph_against_networkx():
    ei, n, comm, role = community_role_graph(4, 3, 2)
    G = nx.Graph(ei.T.tolist())
    assert n == 4 * 3 * 3 and G.number_of_nodes() == n and nx.is_connected(G)
    assert G.number_of_edges() == 4 * (3 + 6) + 4
    assert ei.shape[1] == 2 * G.number_of_edges()
    deg = torch.tensor([G.degree(i) for i in range(n)])
    assert (deg[role == 1] == 1).all() and (deg[role == 0] >= 4).all()
    # removing the ring edges leaves exactly the communities as components
    H = G.copy()
    H.remove_edges_from([(u, v) for u, v in G.edges if comm[u] != comm[v]])
    comps = sorted(sorted(c) for c in nx.connected_components(H))
    assert comps == [torch.nonzero(comm == c).flatten().tolist() for c in range(4)]
    assert torch.bincount(comm).tolist() == [9] * 4 and role.sum() == 4 * 6
