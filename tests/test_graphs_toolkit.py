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


# --- random walks, skip-gram, clustering metrics, DAG utilities -----------------------

from papers_lib.graphs.toolkit import (  # noqa: E402
    SkipGram, ari, conductance, is_dag, linear_sem, negative_samples, nmi, notears_h,
    random_dag, random_walks, shd, skipgram_pairs)


def test_first_order_walk_steps_are_uniform_over_neighbours():
    ei, _ = _random_graph(n=12, p=0.4, seed=5)
    G = _nx(ei, 12)
    starts = torch.arange(12).repeat(400)
    walks = random_walks(ei, 12, starts, 4, generator=torch.Generator().manual_seed(0))
    a, b = walks[:, :-1].flatten(), walks[:, 1:].flatten()
    assert all(G.has_edge(i, j) for i, j in set(zip(a.tolist(), b.tolist())))
    for v in range(12):
        d = G.degree(v)
        if d == 0:
            assert (b[a == v] == v).all()
            continue
        nxt = b[a == v]
        freq = torch.bincount(nxt, minlength=12)[list(G.neighbors(v))].double() / len(nxt)
        se = ((1 / d) * (1 - 1 / d) / len(nxt)) ** 0.5
        assert (freq - 1 / d).abs().max() < 4.5 * se


@pytest.mark.parametrize("p, q", [(0.5, 2.0), (4.0, 0.25), (1.0, 3.0)])
def test_node2vec_return_probability_equals_the_closed_form(p, q):
    # 0 - 1, and 1's other neighbours: 2 and 3 (both joined to 0), 4, 5, 6 (not)
    und = [(0, 1), (1, 2), (1, 3), (1, 4), (1, 5), (1, 6), (0, 2), (0, 3)]
    ei = torch.tensor(und).T
    ei = torch.cat([ei, ei.flip(0)], 1)
    walks = random_walks(ei, 7, torch.zeros(30000, dtype=torch.long), 2, p=p, q=q,
                         generator=torch.Generator().manual_seed(1))
    came = walks[walks[:, 1] == 1]
    exact = (1 / p) / (1 / p + 2 * 1.0 + 3 / q)
    got = (came[:, 2] == 0).double().mean().item()
    assert abs(got - exact) < 4 * (exact * (1 - exact) / len(came)) ** 0.5
    far = (came[:, 2] >= 4).double().mean().item()
    assert abs(far - (3 / q) / (1 / p + 2 + 3 / q)) < 0.02


def test_skipgram_pairs_count_and_loss_by_hand():
    walks = torch.tensor([[0, 1, 2, 3], [3, 2, 1, 0]])
    c, o = skipgram_pairs(walks, 2)
    assert c.numel() == 2 * 2 * (3 + 2)
    assert set(zip(c[:6].tolist(), o[:6].tolist())) == {(0, 1), (1, 2), (2, 3), (3, 2),
                                                           (2, 1), (1, 0)}
    assert skipgram_pairs(walks, 10)[0].numel() == 2 * 2 * (3 + 2 + 1)
    sg = SkipGram(4, 2, torch.Generator().manual_seed(0)).double()
    with torch.no_grad():
        sg.context.copy_(torch.arange(8.0).reshape(4, 2) / 10)
    u, v = sg.centre.detach(), sg.context.detach()
    neg = torch.tensor([[1, 2]])
    sig = lambda z: 1 / (1 + torch.exp(-z))
    hand = -(torch.log(sig(u[0] @ v[3])) + torch.log(sig(-u[0] @ v[1]))
             + torch.log(sig(-u[0] @ v[2])))
    torch.testing.assert_close(sg.loss(torch.tensor([0]), torch.tensor([3]), neg), hand)
    f = lambda U, V: torch.func.functional_call(sg, {"centre": U, "context": V},
                                                (c, o, neg.expand(c.numel(), 2)))
    assert torch.autograd.gradcheck(f, (u.clone().requires_grad_(),
                                        v.clone().requires_grad_()))


def test_negative_samples_follow_the_three_quarter_power():
    counts = torch.tensor([1.0, 5.0, 0.0, 20.0])
    draws = negative_samples(counts, 5, 8000, torch.Generator().manual_seed(0))
    assert draws.shape == (8000, 5)
    freq = torch.bincount(draws.flatten(), minlength=4).double() / draws.numel()
    want = counts.double() ** 0.75 / (counts.double() ** 0.75).sum()
    assert (freq - want).abs().max() < 4 * (0.25 / draws.numel()) ** 0.5


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_nmi_and_ari_equal_sklearn(seed):
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
    g = torch.Generator().manual_seed(seed)
    yt = torch.randint(0, 4, (60,), generator=g)
    noisy = torch.where(torch.rand(60, generator=g) < 0.4,
                        torch.randint(0, 3, (60,), generator=g), yt + 7)
    for yp in (noisy, torch.randint(0, 5, (60,), generator=g), yt, torch.zeros(60).long()):
        assert abs(nmi(yt, yp) - normalized_mutual_info_score(yt, yp)) < 1e-10
        assert abs(ari(yt, yp) - adjusted_rand_score(yt, yp)) < 1e-10
    one = torch.zeros(5, dtype=torch.long)
    assert nmi(one, one) == normalized_mutual_info_score(one, one) == 1.0
    assert ari(one, one) == adjusted_rand_score(one, one) == 1.0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_conductance_equals_networkx(seed):
    ei, _ = _random_graph(n=25, p=0.2, seed=seed)
    mask = torch.rand(25, generator=torch.Generator().manual_seed(seed)) < 0.4
    G = _nx(ei, 25)
    S = mask.nonzero().flatten().tolist()
    assert abs(conductance(ei, 25, mask) - nx.conductance(G, S)) < 1e-12


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dag_utilities(seed):
    g = torch.Generator().manual_seed(seed)
    W = random_dag(8, 0.4, g).double()
    assert is_dag(W) and nx.is_directed_acyclic_graph(nx.DiGraph((W != 0).numpy()))
    assert abs(notears_h(W).item()) < 1e-10 and (W.diagonal() == 0).all()
    for k in range(10):   # random directed graphs: is_dag agrees with networkx, h > 0 iff cyclic
        R = (torch.rand(6, 6, generator=g) < 0.2).double() * 0.7
        dag = nx.is_directed_acyclic_graph(nx.DiGraph(R.numpy()))
        assert is_dag(R) == dag
        assert (notears_h(R).item() > 1e-8) == (not dag)
    Wg = W.clone().requires_grad_()
    assert torch.autograd.gradcheck(notears_h, (Wg + 0.1 * torch.randn(8, 8, generator=g,
                                                                      dtype=torch.float64),))
    X = linear_sem(W, 40000, 0.7, g)
    M = torch.linalg.inv(torch.eye(8, dtype=torch.float64) - W)
    Sigma = 0.49 * M.T @ M
    assert ((torch.cov(X.T) - Sigma).norm() / Sigma.norm()).item() < 0.04


def test_shd_on_hand_examples():
    A = torch.zeros(4, 4)
    A[0, 1] = A[1, 2] = A[2, 3] = 1.0                  # 0 -> 1 -> 2 -> 3
    B = A.clone()
    assert shd(A, B) == 0
    B[1, 2], B[2, 1] = 0.0, 1.0                        # one reversal
    assert shd(A, B) == 1
    B[0, 3] = 2.0                                      # plus one extra edge
    assert shd(A, B) == 2
    B[2, 3] = 0.0                                      # plus one missing edge
    assert shd(A, B) == 3
    assert shd(A, torch.zeros(4, 4)) == 3 and shd(torch.zeros(4, 4), A.T) == 3


from papers_lib.graphs.toolkit import balanced_accuracy, linear_probe  # noqa: E402


def test_probe_matches_a_closed_form_boundary():
    g = torch.Generator().manual_seed(0)
    z = torch.randn(400, 2, generator=g, dtype=torch.float64)
    y = (z[:, 0] + 0.5 * z[:, 1] > 0).long()
    train = torch.rand(400, generator=g) < 0.5
    pred = linear_probe(z, y, train, weight_decay=0.0)
    assert (pred[train] == y[train]).all()
    assert (pred[~train] == y[~train]).double().mean() >= 0.97


def test_probe_agrees_with_sklearn_logistic_regression():
    from sklearn.linear_model import LogisticRegression
    g = torch.Generator().manual_seed(1)
    z = torch.randn(300, 4, generator=g, dtype=torch.float64)
    y = (z @ torch.tensor([1.0, -1.0, 0.5, 0.0], dtype=torch.float64)
         + 0.5 * torch.randn(300, generator=g, dtype=torch.float64) > 0).long()
    train = torch.arange(300) < 200
    pred = linear_probe(z, y, train, weight_decay=1e-3)
    zs = (z - z[train].mean(0)) / z[train].std(0, correction=0)
    # lambda ||W||^2 on the mean loss is sklearn's C = 1 / (2 lambda n_train) on the
    # summed loss (binary: one weight vector, the softmax's two columns split it)
    ref = LogisticRegression(C=1 / (2 * 1e-3 * 200 * 2), tol=1e-10, max_iter=1000)
    ref.fit(zs[train].numpy(), y[train].numpy())
    agree = (pred == torch.from_numpy(ref.predict(zs.numpy()))).double().mean()
    assert agree >= 0.99


def test_balanced_accuracy_by_hand():
    y = torch.tensor([0, 0, 0, 0, 1, 1])
    pred = torch.tensor([0, 0, 0, 1, 0, 1])
    m = torch.ones(6, dtype=torch.bool)
    assert balanced_accuracy(y, pred, m) == (3 / 4 + 1 / 2) / 2
    assert balanced_accuracy(y, torch.zeros_like(y), m) == 0.5   # majority guess: chance


from sklearn.cluster import KMeans  # noqa: E402

from papers_lib.graphs.toolkit import kmeans  # noqa: E402


def _gen(s):
    return torch.Generator().manual_seed(s)


def test_kmeans_matches_sklearn():
    for s in range(3):
        centres = torch.randn(4, 3, generator=_gen(10 + s)) * 5
        x = (centres.repeat_interleave(40, 0)
             + torch.randn(160, 3, generator=_gen(20 + s))).double()
        lab = kmeans(x, 4, generator=_gen(s))
        sk = KMeans(4, n_init=10, random_state=s).fit(x.numpy())
        inertia = sum(((x[lab == c] - x[lab == c].mean(0)) ** 2).sum().item()
                      for c in range(4))
        assert inertia <= sk.inertia_ * (1 + 1e-6)
        assert ari(lab, torch.from_numpy(sk.labels_).long()) > 0.95
    assert torch.equal(kmeans(x, 4, generator=_gen(7)), kmeans(x, 4, generator=_gen(7)))


def test_kmeans_on_one_point_per_cluster_and_one_cluster():
    x = torch.tensor([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0]], dtype=torch.float64)
    assert sorted(kmeans(x, 3, generator=_gen(0)).tolist()) == [0, 1, 2]
    assert kmeans(x, 1, generator=_gen(0)).tolist() == [0, 0, 0]


from papers_lib.graphs.toolkit import set_partitions  # noqa: E402


def test_set_partitions_against_brute_force_relabelling():
    from itertools import product
    for n in range(1, 8):
        P = set_partitions(n)
        # every row is a restricted growth string, and no partition repeats
        assert (P[:, 0] == 0).all()
        assert (P[:, 1:] <= P.cummax(1).values[:, :-1] + 1).all()
        assert len({tuple(r) for r in P.tolist()}) == P.shape[0]
    # brute force: canonical relabellings of all n^n labelings are exactly the rows
    n = 5
    canon = set()
    for lab in product(range(n), repeat=n):
        first = {}
        canon.add(tuple(first.setdefault(v, len(first)) for v in lab))
    assert canon == {tuple(r) for r in set_partitions(n).tolist()}
    assert [tuple(r) for r in set_partitions(n).tolist()] == sorted(canon)   # lex order


def test_skipgram_fit_matches_a_hand_written_loop():
    from papers_lib.graphs.toolkit import SkipGram, negative_samples
    g = torch.Generator().manual_seed(0)
    c = torch.randint(6, (50,), generator=g)
    o = torch.randint(6, (50,), generator=g)
    counts = torch.bincount(o, minlength=6) + 1
    a = SkipGram(6, 3, torch.Generator().manual_seed(1))
    a.fit(c, o, counts, 4, 2, 0.05, 16, torch.Generator().manual_seed(2))
    b = SkipGram(6, 3, torch.Generator().manual_seed(1))
    gen, opt = torch.Generator().manual_seed(2), torch.optim.Adam(b.parameters(), lr=0.05)
    for _ in range(2):
        order = torch.randperm(50, generator=gen)
        neg = negative_samples(counts, 4, 50, gen)
        for s in range(0, 50, 16):
            i = order[s:s + 16]
            opt.zero_grad()
            b.loss(c[i], o[i], neg[i]).backward()
            opt.step()
    assert torch.equal(a.centre, b.centre) and torch.equal(a.context, b.context)
    with pytest.raises(ValueError, match="lr must be"):
        a.fit(c, o, counts, lr=0.0)
