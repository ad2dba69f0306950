"""The GTV weights, GTVConv, the TV, balance and MinCut losses and the clustering GNN of
the chapter *Total variation graph neural networks* (`papers_lib.graphs.tvgnn`)."""
import itertools
import math

import torch
from torch_geometric.nn.dense import dense_mincut_pool

from papers_lib.graphs.toolkit import sbm, to_dense, to_undirected
from papers_lib.graphs.tvgnn import (ClusterGNN, GTVConv, balance_loss, fit_clusters,
                                     gtv_weights, mincut_loss, tv_loss)

D64 = torch.float64


def _graph(n=9, p=0.4, seed=0):
    g = torch.Generator().manual_seed(seed)
    iu = torch.triu_indices(n, n, 1)
    keep = torch.rand(iu.shape[1], generator=g) < p
    return to_undirected(iu[:, keep], n), g


def test_gtv_weights_brute_force():
    ei, g = _graph()
    x = torch.randn(9, 3, dtype=D64, generator=g)
    w = torch.rand(ei.shape[1], dtype=D64, generator=g)
    got = gtv_weights(x, ei, w, eps=1e-3)
    for k in range(ei.shape[1]):
        j, i = ei[:, k].tolist()
        want = w[k] / max((x[i] - x[j]).abs().sum().item(), 1e-3)
        assert abs(got[k].item() - want) < 1e-12
    j, i = ei[:, 0].tolist()
    x[i] = x[j]                                   # equal features: 1 / eps
    assert torch.isclose(gtv_weights(x, ei, eps=0.01)[0], torch.tensor(100.0, dtype=D64))


def test_gtvconv_one_feature_is_a_tv_gradient_step():
    ei, g = _graph(seed=1)
    A = to_dense(ei, 9).double()
    conv = GTVConv(1, 1, delta=0.2, generator=g).double()
    with torch.no_grad():
        conv.weight.fill_(1.0)
    x = torch.randn(1, 9, 1, dtype=D64, generator=g)
    xr = x[0, :, 0].clone().requires_grad_()
    tv = 0.5 * (A * (xr[:, None] - xr[None, :]).abs()).sum()
    tv.backward()
    # (I - delta L_Gamma) x = x - delta grad TV(x) when no difference is below eps
    assert torch.allclose(conv(x, ei)[0, :, 0], x[0, :, 0] - 0.2 * xr.grad)


def test_gtvconv_dense_reference_and_gradcheck():
    ei, g = _graph(seed=2)
    A = to_dense(ei, 9).double()
    conv = GTVConv(3, 2, copies=2, delta=0.311, generator=g).double()
    with torch.no_grad():
        conv.bias.normal_(generator=g)
    x = torch.randn(2, 9, 3, dtype=D64, generator=g)
    E2 = torch.cat([ei, ei + 9], 1)
    out = conv(x, E2)
    for s in range(2):
        z = x[s] @ conv.weight[s]
        G = A / torch.cdist(z, z, p=1).clamp_min(1e-3)
        L = torch.diag(G.sum(1)) - G
        assert torch.allclose(out[s], (torch.eye(9) - 0.311 * L) @ z + conv.bias[s])
    assert torch.autograd.gradcheck(lambda a: conv(a, E2), (x.requires_grad_(),))


def test_tv_loss_double_loop_and_cut_fraction():
    ei, g = _graph(seed=3)
    A = to_dense(ei, 9).double()
    w = torch.rand(ei.shape[1], dtype=D64, generator=g)
    Aw = to_dense(ei, 9, w).double()
    s = torch.softmax(torch.randn(9, 4, dtype=D64, generator=g), 1)
    brute = 0.0
    for i in range(9):
        for j in range(9):
            brute += Aw[i, j] * (s[i] - s[j]).abs().sum()
    assert torch.isclose(tv_loss(s, ei, w), brute / (2 * w.sum()))
    y = torch.randint(4, (9,), generator=g)
    hard = torch.eye(4, dtype=D64)[y]
    cut = sum(A[i, j] for i in range(9) for j in range(9) if y[i] != y[j])
    assert torch.isclose(tv_loss(hard, ei), cut / A.sum())     # fraction of edges cut
    both = torch.stack([s, hard])
    got = tv_loss(both, torch.cat([ei, ei + 9], 1))
    assert torch.allclose(got, torch.stack([tv_loss(s, ei), tv_loss(hard, ei)]))
    assert torch.autograd.gradcheck(lambda a: tv_loss(a, ei, w), (s.requires_grad_(),))


def test_balance_loss_closed_forms():
    for sizes in ([3, 3, 3], [5, 3, 1], [9, 0, 0], [4, 4, 1]):
        y = torch.repeat_interleave(torch.arange(3), torch.tensor(sizes))
        hard = torch.eye(3, dtype=D64)[y]
        want = 1 - sum(min(2 * m, 9 - m) for m in sizes) / (9 * 2)
        assert abs(balance_loss(hard).item() - want) < 1e-12, sizes
    assert abs(balance_loss(torch.full((9, 3), 1 / 3, dtype=D64)).item() - 1) < 1e-12


def test_balance_loss_quantile_is_the_minimiser():
    g = torch.Generator().manual_seed(4)
    for n, K in ((10, 2), (11, 3), (12, 5)):
        s = torch.softmax(torch.randn(3, n, K, dtype=D64, generator=g), -1)
        rho = K - 1
        best = torch.zeros(3, dtype=D64)
        for k in range(K):
            col = s[..., k]
            qs = torch.linspace(0, 1, 2001, dtype=D64)    # a grid plus every entry
            qs = torch.cat([qs.expand(3, -1), col], 1)
            r = col[:, None, :] - qs[:, :, None]
            val = torch.where(r >= 0, rho * r, -r).sum(-1).min(-1).values
            best += val
        assert torch.allclose(balance_loss(s), 1 - best / (n * rho))
        assert (balance_loss(s) >= 0).all() and (balance_loss(s) <= 1).all()
    s = torch.softmax(torch.randn(7, 3, dtype=D64, generator=g), -1)
    assert torch.autograd.gradcheck(balance_loss, (s.requires_grad_(),))


def test_mincut_loss_matches_torch_geometric():
    g = torch.Generator().manual_seed(5)
    G = [sbm([6, 6], 0.7, 0.1, g) for _ in range(3)]
    logits = torch.randn(3, 12, 3, dtype=D64, generator=g)
    adj = torch.stack([to_dense(gr.edge_index, 12) for gr in G]).double()
    x = torch.randn(3, 12, 2, dtype=D64, generator=g)
    ei = torch.cat([gr.edge_index + k * 12 for k, gr in enumerate(G)], 1)
    cut, ortho = mincut_loss(torch.softmax(logits, -1), ei)
    for k in range(3):
        _, _, c_ref, o_ref = dense_mincut_pool(x[k:k + 1], adj[k:k + 1], logits[k:k + 1])
        assert torch.isclose(cut[k], c_ref) and torch.isclose(ortho[k], o_ref)
    # weighted, one graph
    w = torch.rand(G[0].num_edges, dtype=D64, generator=g)
    wsym = to_dense(G[0].edge_index, 12, w)
    wsym = (wsym + wsym.T).double()
    c1, o1 = mincut_loss(torch.softmax(logits[0], -1), torch.cat(
        [G[0].edge_index, G[0].edge_index.flip(0)], 1), torch.cat([w, w]))
    _, _, c_ref, o_ref = dense_mincut_pool(x[:1], wsym[None], logits[:1])
    assert torch.isclose(c1, c_ref) and torch.isclose(o1, o_ref)
    s = torch.softmax(logits[0], -1).requires_grad_()
    assert torch.autograd.gradcheck(lambda a: sum(mincut_loss(a, G[0].edge_index)), (s,))


def test_tv_relaxation_is_tight_on_a_small_graph():
    ei, g = _graph(n=8, p=0.5, seed=6)
    A = to_dense(ei, 8).double()
    h = math.inf
    for bits in itertools.product((0.0, 1.0), repeat=8):
        f = torch.tensor(bits, dtype=D64)
        k = int(f.sum())
        if 0 < k < 8:
            h = min(h, (0.5 * (A * (f[:, None] - f).abs()).sum() / min(k, 8 - k)).item())
    F = torch.rand(5000, 8, dtype=D64, generator=g)
    tv = 0.5 * (A * (F[:, :, None] - F[:, None, :]).abs()).sum((1, 2))
    med = F.sort(1, descending=True).values[:, 4:5]
    assert (tv / (F - med).abs().sum(1) >= h - 1e-12).all()     # coarea: no f beats h


def test_cluster_gnn_copies_and_training():
    ei, g = _graph(n=10, p=0.5, seed=7)
    for conv in ("gtv", "gcn"):
        net = ClusterGNN(3, 6, 3, copies=2, conv=conv, generator=g).double()
        x = torch.randn(2, 10, 3, dtype=D64, generator=g)
        s = net(x, torch.cat([ei, ei + 10], 1))
        assert s.shape == (2, 10, 3)
        assert torch.allclose(s.sum(-1), torch.ones(2, 10, dtype=D64))
        solo = ClusterGNN(3, 6, 3, conv=conv).double()
        with torch.no_grad():
            for p, q in zip(solo.parameters(), net.parameters()):
                p.copy_(q[1:])
        assert torch.allclose(solo(x[1:], ei), s[1:])
    # two cliques joined by one edge: TV training separates them
    pairs = [(i, j) for b in (0, 5) for i in range(b, b + 5) for j in range(i + 1, b + 5)]
    e2 = to_undirected(torch.tensor(pairs + [(4, 5)]).T, 10)
    x = (torch.eye(2)[(torch.arange(10) >= 5).long()] + 0.1 * torch.randn(
        10, 2, generator=g))[None]
    for conv, loss in (("gtv", "tv"), ("gcn", "mincut")):
        net = ClusterGNN(2, 8, 2, conv=conv, generator=torch.Generator().manual_seed(3))
        pred = fit_clusters(net, x, e2, loss=loss, epochs=150, lr=0.02)[0].argmax(1)
        assert (pred[:5] == pred[0]).all() and (pred[5:] != pred[0]).all(), (conv, pred)
