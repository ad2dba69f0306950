"""The feature stack, subspace measures, structural components and FE-GNN of the chapter
*Feature expansion for graph neural networks* (`papers_lib.graphs.expansion`)."""
import math

import scipy.linalg
import torch
from torch_geometric.nn import SGConv

from papers_lib.graphs.expansion import (
    FEGNN, effective_rank, fit_fegnn, principal_cosines, propagated_features,
    structural_components, subspace_correlation)
from papers_lib.graphs.toolkit import erdos_renyi, normalized_adjacency, sbm, to_dense

F64 = torch.float64


def _gen(s):
    return torch.Generator().manual_seed(s)


def test_stack_is_dense_matrix_powers():
    G = erdos_renyi(30, 0.15, _gen(0))
    x = torch.randn(30, 4, generator=_gen(1), dtype=F64)
    ei, w = normalized_adjacency(G.edge_index, 30)
    A = to_dense(ei, 30, w.double())
    T = propagated_features(x, G.edge_index, 6, column_norm=False)
    for k in range(7):
        assert torch.allclose(T[k], torch.linalg.matrix_power(A, k) @ x, atol=1e-12)
    Tn = propagated_features(x, G.edge_index, 6)
    assert torch.allclose(Tn, T / T.norm(dim=1, keepdim=True) * math.sqrt(30))


def test_stack_matches_torch_geometric_sgconv():
    for s in range(3):
        G = erdos_renyi(25, 0.2, _gen(10 + s))
        x = torch.randn(25, 5, generator=_gen(20 + s))
        conv = SGConv(5, 5, K=3, bias=False)
        with torch.no_grad():
            conv.lin.weight.copy_(torch.eye(5))          # the propagation alone
        ref = conv(x, G.edge_index)
        ours = propagated_features(x, G.edge_index, 3, column_norm=False)[3]
        assert torch.allclose(ours, ref, atol=1e-5)


def test_principal_cosines_match_scipy():
    for s in range(3):
        a = torch.randn(30, 3 + s, generator=_gen(s), dtype=F64)
        b = torch.randn(30, 5, generator=_gen(50 + s), dtype=F64)
        ref = torch.cos(torch.from_numpy(scipy.linalg.subspace_angles(a.numpy(),
                                                                      b.numpy())))
        assert torch.allclose(principal_cosines(a, b), ref.flip(0), atol=1e-10)
    # a basis change leaves the subspace, and so the cosines, unchanged
    m = torch.randn(a.shape[1], a.shape[1], generator=_gen(7), dtype=F64)
    assert torch.allclose(principal_cosines(a @ m, b),
                          principal_cosines(a, b), atol=1e-10)


def test_invariant_subspace_has_correlation_one():
    G = erdos_renyi(20, 0.3, _gen(3))
    ei, w = normalized_adjacency(G.edge_index, 20)
    _, V = torch.linalg.eigh(to_dense(ei, 20, w.double()))
    x = V[:, -3:] @ torch.randn(3, 3, generator=_gen(4), dtype=F64)
    c = subspace_correlation(propagated_features(x, G.edge_index, 4))
    assert torch.allclose(c, torch.ones(4, dtype=F64), atol=1e-9)
    # a random subspace is not invariant
    y = torch.randn(20, 3, generator=_gen(5), dtype=F64)
    assert subspace_correlation(propagated_features(y, G.edge_index, 1))[0] < 0.99


def test_effective_rank_closed_form():
    s = torch.tensor([3.0, 2.0, 1.0], dtype=F64)
    p = s / s.sum()
    want = torch.exp(-(p * p.log()).sum())
    q = torch.linalg.qr(torch.randn(6, 3, generator=_gen(8), dtype=F64))[0]
    assert torch.isclose(effective_rank(q * s), want)
    batch = torch.stack([torch.eye(3, dtype=F64), torch.ones(3, 3, dtype=F64)])
    assert torch.allclose(effective_rank(batch), torch.tensor([3.0, 1.0], dtype=F64))


def test_structural_components_match_dense_svd():
    G = sbm([15, 15, 15], 0.4, 0.05, _gen(9))
    A = torch.nn.functional.normalize(to_dense(G.edge_index, 45).double(), dim=1)
    S = structural_components(G.edge_index, 45, 4, oversample=41, generator=_gen(1),
                              column_norm=False)              # exact: q + p >= n
    ev, V = torch.linalg.eigh(A @ A.T)
    top = V[:, -4:] * ev[-4:].clamp_min(0).sqrt()
    assert torch.allclose(S @ S.T, top @ top.T, atol=1e-9)
    assert torch.allclose(S.norm(dim=0), torch.linalg.svdvals(A)[:4], atol=1e-10)
    # the default randomised SVD finds the three block directions of a graph with a
    # clear gap (singular values about 4.0, 3.5, 3.4, then 1.5): error ~ (1.5/3.4)^9
    G2 = sbm([30, 30, 30], 0.5, 0.02, _gen(9))
    A2 = torch.nn.functional.normalize(to_dense(G2.edge_index, 90).double(), dim=1)
    fast = structural_components(G2.edge_index, 90, 3, generator=_gen(2),
                                 column_norm=False)
    assert torch.allclose(fast.norm(dim=0), torch.linalg.svdvals(A2)[:3], rtol=1e-5)
    assert (fast.gather(0, fast.abs().argmax(0, keepdim=True)) > 0).all()


def test_structural_components_see_heterophilous_blocks():
    # a bipartite-like two-block graph: the label vector has eigenvalue near -|.|
    G = sbm([40, 40], 0.02, 0.3, _gen(11))
    S = structural_components(G.edge_index, 80, 2, generator=_gen(12))
    s = (2 * G.y - 1).double()
    best = max(abs(torch.nn.functional.cosine_similarity(S[:, j], s, dim=0))
               for j in range(2))
    assert best > 0.9


def test_fegnn_forward_and_shared_special_case():
    net = FEGNN(3, 4, 2, hidden=5, structural=2, copies=2, generator=_gen(13))
    st = torch.randn(2, 4, 6, 3, generator=_gen(14))
    sx = torch.randn(2, 6, 2, generator=_gen(15))
    out = net(st, sx)
    for s in range(2):
        H = sum(st[s, k] @ net.W[s, k] for k in range(4)) + sx[s] @ net.W_s[s]
        ref = (H + net.b[s]) @ net.W_o[s] + net.b_o[s]
        assert torch.allclose(out[s], ref, atol=1e-5)
    shr = FEGNN(3, 4, 2, hidden=5, copies=2, shared=True, generator=_gen(16))
    with torch.no_grad():
        shr.theta.copy_(torch.randn(2, 4, generator=_gen(17)))
    ref = torch.stack([(torch.einsum("knd,k->nd", st[s], shr.theta[s]) @ shr.W[s]
                        + shr.b[s]) @ shr.W_o[s] + shr.b_o[s] for s in range(2)])
    assert torch.allclose(shr(st), ref, atol=1e-5)


def test_fit_fegnn_separates_a_linear_problem():
    st = torch.randn(3, 2, 40, 2, generator=_gen(18))
    y = (st[:, 0, :, 0] + st[:, 1, :, 1] > 0).long()
    mask = torch.ones(3, 40, dtype=torch.bool)
    acc = fit_fegnn(FEGNN(2, 2, 2, hidden=8, copies=3, generator=_gen(19)), st, y,
                    mask, mask, mask, epochs=300, lr=0.05, weight_decay=0.0)
    assert (acc >= 0.95).all(), acc
