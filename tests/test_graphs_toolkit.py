"""papers_lib.graphs.toolkit against dense linear algebra, torch-geometric and networkx."""
import networkx as nx
import pytest
import torch

from papers_lib.graphs.toolkit import (
    Graph, MessagePassing, aggregate, appnp, batch_graphs, coalesce, connected_components,
    contextual_sbm, degree, dirichlet_energy, edge_homophily, erdos_renyi, fit_copies,
    hop_distances, laplacian, node_split, normalized_adjacency, propagate, random_geometric,
    sbm, to_dense, to_undirected)

tg = pytest.importorskip("torch_geometric")


def _random_graph(n=30, p=0.15, seed=0, weighted=False):
    g = torch.Generator().manual_seed(seed)
    ei = erdos_renyi(n, p, g).edge_index
    lo, hi = ei.min(0).values, ei.max(0).values  # the same weight both ways: A symmetric
    w = 0.5 + ((lo * 31 + hi) % 7).double() / 7 if weighted else None
    return ei, w


def _nx(ei, n):
    G = nx.Graph()
    G.add_nodes_from(range(n))
    G.add_edges_from(ei.t().tolist())
    return G


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gcn_propagation_equals_gcnconv(seed):
    from torch_geometric.nn import GCNConv
    ei, _ = _random_graph(seed=seed)
    x = torch.randn(30, 5, generator=torch.Generator().manual_seed(seed + 10))
    conv = GCNConv(5, 5, bias=False)
    with torch.no_grad():
        conv.lin.weight.copy_(torch.eye(5))
    ei_hat, w = normalized_adjacency(ei, 30)
    torch.testing.assert_close(propagate(x, ei_hat, w, 30), conv(x, ei), rtol=1e-5,
                               atol=1e-6)


@pytest.mark.parametrize("K, alpha", [(1, 0.1), (10, 0.1), (5, 0.5)])
def test_appnp_equals_torch_geometric(K, alpha):
    from torch_geometric.nn import APPNP
    ei, _ = _random_graph(seed=K)
    x = torch.randn(30, 4, generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(appnp(x, ei, 30, K=K, alpha=alpha), APPNP(K, alpha)(x, ei),
                               rtol=1e-5, atol=1e-6)


def test_appnp_converges_to_the_personalised_pagerank_solve():
    ei, _ = _random_graph(n=20, seed=4)
    x = torch.randn(20, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    ei_hat, w = normalized_adjacency(ei, 20)
    A = to_dense(ei_hat, 20, w.double())
    exact = 0.2 * torch.linalg.solve(torch.eye(20, dtype=torch.float64) - 0.8 * A, x)
    torch.testing.assert_close(appnp(x, ei, 20, K=200, alpha=0.2), exact)


@pytest.mark.parametrize("kind", ["sym", "rw", "comb"])
def test_laplacian_matches_dense_and_torch_geometric(kind):
    from torch_geometric.utils import get_laplacian
    ei, w = _random_graph(seed=5, weighted=True)
    n = 30
    ei_l, w_l = laplacian(ei, n, w, kind=kind)
    L = to_dense(ei_l, n, w_l)
    A, d = to_dense(ei, n, w), to_dense(ei, n, w).sum(1)
    ref = {"comb": torch.diag(d) - A,
           "sym": torch.eye(n, dtype=w.dtype) - A / torch.sqrt(d[:, None] * d[None, :]),
           "rw": torch.eye(n, dtype=w.dtype) - A / d[:, None]}[kind]
    ref = torch.nan_to_num(ref) if kind != "comb" else ref
    keep = d > 0
    torch.testing.assert_close(L[keep][:, keep], ref[keep][:, keep])
    if kind != "rw":  # torch-geometric's rw normalises by the source's degree
        norm = {"comb": None, "sym": "sym"}[kind]
        ei2, w2 = get_laplacian(ei, w, normalization=norm, num_nodes=n)
        torch.testing.assert_close(L, to_dense(ei2, n, w2))


def test_normalized_laplacian_spectrum_equals_networkx():
    ei, _ = _random_graph(n=25, p=0.3, seed=6)
    ei_l, w_l = laplacian(ei, 25, kind="sym")
    L = to_dense(ei_l, 25, w_l).double()
    ref = nx.normalized_laplacian_spectrum(_nx(ei, 25))
    torch.testing.assert_close(torch.linalg.eigvalsh(L), torch.tensor(sorted(ref)),
                               atol=1e-6, rtol=0)


def test_degree_components_and_hops_equal_networkx():
    ei, _ = _random_graph(n=40, p=0.04, seed=7)
    G = _nx(ei, 40)
    assert degree(ei[1], 40).long().tolist() == [G.degree[i] for i in range(40)]
    comp = connected_components(ei, 40)
    assert comp.unique().numel() == nx.number_connected_components(G)
    for c in nx.connected_components(G):
        assert comp[list(c)].unique().numel() == 1
    hops = nx.single_source_shortest_path_length(G, 0)
    assert hop_distances(ei, 40, 0).tolist() == [hops.get(i, -1) for i in range(40)]


def test_propagate_is_the_dense_product_and_to_undirected_is_symmetric():
    ei, w = _random_graph(seed=8, weighted=True)
    x = torch.randn(30, 2, 3, dtype=torch.float64)
    torch.testing.assert_close(propagate(x, ei, w, 30),
                               torch.einsum("ij,jab->iab", to_dense(ei, 30, w), x))
    A = to_dense(to_undirected(torch.tensor([[0, 1, 1], [1, 2, 2]]), 3), 3)
    assert torch.equal(A, A.t()) and A.max() == 1
    ei2, w2 = coalesce(torch.tensor([[0, 0, 1], [1, 1, 2]]), 3, torch.tensor([1.0, 2.0, 5.0]))
    assert ei2.tolist() == [[0, 1], [1, 2]] and w2.tolist() == [3.0, 5.0]


def test_dirichlet_energy_edge_form_and_oversmoothing():
    ei, _ = _random_graph(seed=9)
    x = torch.randn(30, 4, dtype=torch.float64)
    eil, w = normalized_adjacency(ei, 30)
    d = degree(eil[1], 30).double()
    xs = x / d.sqrt()[:, None]
    edge_form = 0.5 * (((xs[eil[1]] - xs[eil[0]]) ** 2).sum(1)).sum()
    torch.testing.assert_close(dirichlet_energy(x, ei, 30), edge_form)
    const = d.sqrt()[:, None].expand(30, 4)  # the eigenvector of the eigenvalue 1
    assert abs(dirichlet_energy(const, ei, 30).item()) < 1e-10


def test_message_passing_aggregations_equal_torch_geometric():
    from torch_geometric.utils import scatter
    ei, _ = _random_graph(seed=11)
    m = torch.randn(ei.shape[1], 3)
    for aggr, reduce in (("sum", "sum"), ("mean", "mean"), ("max", "max")):
        torch.testing.assert_close(aggregate(m, ei[1], 30, aggr),
                                   scatter(m, ei[1], 0, 30, reduce=reduce))

    class Sum(MessagePassing):
        def forward(self, x, edge_index):
            return self.propagate_messages(x, edge_index)
    x = torch.randn(30, 2)
    torch.testing.assert_close(Sum()(x, ei), propagate(x, ei, None, 30))


def test_generators_match_their_parameters():
    gen = torch.Generator().manual_seed(0)
    n, p = 400, 0.05
    g = erdos_renyi(n, p, gen)
    pairs = n * (n - 1) / 2
    assert abs(g.num_edges / 2 - p * pairs) < 4 * (p * (1 - p) * pairs) ** 0.5
    s = sbm([100, 100], 0.2, 0.01, gen)
    assert edge_homophily(s.edge_index, s.y) > 0.8
    for h in (0.2, 0.8):
        c = contextual_sbm(3000, 4, 8.0, h, 1.0, gen)
        m = c.num_edges / 2
        assert abs(edge_homophily(c.edge_index, c.y) - h) < 4 * (h * (1 - h) / m) ** 0.5
        assert abs(c.num_edges / 3000 - 8.0) < 0.5
    r = random_geometric(200, 0.1, 2, gen)
    dist = (r.pos[r.edge_index[0]] - r.pos[r.edge_index[1]]).norm(dim=1)
    assert (dist < 0.1).all()
    tr, va, te = node_split(100, 0.6, 0.2, gen)
    assert (tr.sum(), va.sum(), te.sum()) == (60, 20, 20) and not (tr & va).any()


def test_batch_graphs_matches_torch_geometric_batch():
    from torch_geometric.data import Batch, Data
    gen = torch.Generator().manual_seed(1)
    gs = [erdos_renyi(k, 0.5, gen) for k in (4, 6, 5)]
    for g in gs:
        g.x = torch.randn(g.num_nodes, 2, generator=gen)
    ours = batch_graphs(gs)
    ref = Batch.from_data_list([Data(x=g.x, edge_index=g.edge_index) for g in gs])
    assert torch.equal(ours.edge_index, ref.edge_index) and torch.equal(ours.batch, ref.batch)
    assert torch.equal(ours.x, ref.x) and isinstance(ours, Graph)


class _Stacked(torch.nn.Module):
    """S two-layer perceptrons with stacked weights: logits (S, n, 2)."""

    def __init__(self, S, seed):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.W1 = torch.nn.Parameter(torch.randn(S, 3, 8, generator=g))
        self.W2 = torch.nn.Parameter(torch.randn(S, 8, 2, generator=g))

    def forward(self, x):
        return torch.bmm(torch.tanh(torch.bmm(x, self.W1)), self.W2)


def test_fit_copies_trains_each_copy_as_if_alone_and_restores_the_best():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(3, 30, 3, generator=g)
    y = (x[..., 0] + 0.5 * torch.randn(3, 30, generator=g) > 0).long()
    tr = torch.rand(3, 30, generator=g) < 0.5
    va, te = ~tr, torch.ones(3, 30, dtype=torch.bool)
    together = _Stacked(3, 1)
    alone = [_Stacked(3, 1) for _ in range(3)]        # same start, trained one by one
    acc = fit_copies(together, x, y, tr, va, te, epochs=25, lr=0.05, restore=True)
    for s, net in enumerate(alone):
        with torch.no_grad():                          # keep only copy s
            net.W1.data, net.W2.data = net.W1[s:s + 1].clone(), net.W2[s:s + 1].clone()
        a = fit_copies(net, x[s:s + 1], y[s:s + 1], tr[s:s + 1], va[s:s + 1],
                       te[s:s + 1], epochs=25, lr=0.05, restore=True)
        assert torch.allclose(a, acc[s:s + 1])
        assert torch.allclose(net.W1, together.W1[s:s + 1], atol=1e-6)
    # the restored weights are those of the best validation epoch: re-evaluating them
    # gives the returned test accuracy
    with torch.no_grad():
        hit = (together(x).argmax(2) == y).float()
    assert torch.allclose(hit.mean(1), acc)
