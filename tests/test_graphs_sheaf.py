"""The sheaf Laplacian, restriction maps, sheaf heat flow and the NSD model of the
chapter *Neural sheaf diffusion* (`papers_lib.graphs.sheaf`)."""

import scipy.linalg
import torch
from torch_geometric.utils import get_laplacian

from papers_lib.graphs.sheaf import (KINDS, SheafDiffusion, class_sheaf,
                                     num_map_params, restriction_maps, reverse_edges,
                                     separable_classes, sheaf_heat, sheaf_laplacian,
                                     sheaf_propagate, sheaf_to_dense)
from papers_lib.graphs.toolkit import (
    erdos_renyi, fit_copies, normalized_adjacency, to_dense)

N = 9


def graph(seed=0, n=N, p=0.45):
    return erdos_renyi(n, p, torch.Generator().manual_seed(seed)).edge_index


def dense(ei, maps, n=N, **kw):
    return sheaf_to_dense(*sheaf_laplacian(ei, maps, n, **kw), n)


def coboundary(ei, maps, n=N):
    """delta as a dense (|E| d, n d) matrix, one undirected edge (u < v) at a time."""
    rev = reverse_edges(ei, n)
    d = maps.shape[-1]
    rows = []
    for k in range(ei.shape[1]):
        u, v = ei[:, k].tolist()
        if u < v:
            r = torch.zeros(d, n * d, dtype=maps.dtype)
            r[:, v * d:(v + 1) * d] = maps[k]
            r[:, u * d:(u + 1) * d] = -maps[rev[k]]
            rows.append(r)
    return torch.cat(rows)


def test_reverse_edges_pairs_directions():
    ei = graph()
    rev = reverse_edges(ei, N)
    assert torch.equal(ei[:, rev], ei.flip(0))
    assert torch.equal(rev[rev], torch.arange(len(rev)))


def test_trivial_sheaf_is_the_graph_laplacian_of_pyg():
    ei = graph(1)
    m = ei.shape[1]
    for norm, pyg in ((False, None), (True, "sym")):
        li, lw = get_laplacian(ei, normalization=pyg, num_nodes=N)
        ref = to_dense(li, N, lw)
        assert torch.allclose(dense(ei, torch.ones(m, 1), normalized=norm), ref,
                              atol=1e-6)
        assert torch.allclose(dense(ei, torch.ones(m, 1, 1), normalized=norm), ref,
                              atol=1e-6)
    # augmented: (D + I)^{-1/2} (D - A) (D + I)^{-1/2} = I - the GCN's A_hat
    ai, aw = normalized_adjacency(ei, N)
    assert torch.allclose(dense(ei, torch.ones(m, 1), augmented=True),
                          torch.eye(N) - to_dense(ai, N, aw), atol=1e-6)


def test_laplacian_is_delta_t_delta_symmetric_psd():
    ei = graph(2)
    g = torch.Generator().manual_seed(0)
    maps = torch.randn(ei.shape[1], 3, 3, generator=g, dtype=torch.float64)
    L = dense(ei, maps, normalized=False)
    dlt = coboundary(ei, maps)
    assert torch.allclose(L, dlt.T @ dlt, atol=1e-12)
    Ln = dense(ei, maps)
    lam = torch.linalg.eigvalsh(Ln)
    assert torch.allclose(Ln, Ln.T) and lam.min() > -1e-10 and lam.max() < 2 + 1e-10
    # normalised = D^{-1/2} L D^{-1/2} with D the block diagonal, by scipy's sqrtm
    D = torch.block_diag(*[L[3 * v:3 * v + 3, 3 * v:3 * v + 3] for v in range(N)])
    R = torch.from_numpy(scipy.linalg.inv(scipy.linalg.sqrtm(D.numpy()).real))
    assert torch.allclose(Ln, R @ L @ R, atol=1e-8)
    # augmented, 2 x 2 blocks: closed-form square roots against scipy
    m2 = maps[:, :2, :2]
    L2 = dense(ei, m2, normalized=False)
    D2 = torch.block_diag(*[L2[2 * v:2 * v + 2, 2 * v:2 * v + 2] for v in range(N)])
    R2 = torch.from_numpy(scipy.linalg.inv(scipy.linalg.sqrtm(
        (D2 + torch.eye(2 * N, dtype=D2.dtype)).numpy()).real))
    assert torch.allclose(dense(ei, m2, augmented=True), R2 @ L2 @ R2, atol=1e-8)


def test_kernel_is_the_global_sections():
    ei = graph(3)
    g = torch.Generator().manual_seed(1)
    Q = restriction_maps(torch.randn(N, 3, generator=g, dtype=torch.float64), "orth",
                         3)
    for maps in (Q[ei[1]].transpose(1, 2),              # consistent: 3 sections
                 torch.randn(ei.shape[1], 3, 3, generator=g, dtype=torch.float64)):
        L = dense(ei, maps, normalized=False)
        dlt = coboundary(ei, maps)
        null = torch.from_numpy(scipy.linalg.null_space(dlt.numpy()))
        lam, U = torch.linalg.eigh(L)
        K = U[:, lam < 1e-9]
        assert K.shape[1] == null.shape[1]
        assert torch.allclose(K @ K.T, null @ null.T, atol=1e-8)
    assert null.shape[1] == 0 and K.shape[1] == 0       # generic maps: no sections


def test_diagonal_and_orthogonal_shortcuts_agree_with_the_general_path():
    ei = graph(4)
    m = ei.shape[1]
    g = torch.Generator().manual_seed(2)
    r = torch.randn(m, 2, generator=g, dtype=torch.float64)
    for kw in ({"normalized": False}, {}, {"augmented": True}):
        assert torch.allclose(dense(ei, r, **kw), dense(ei, torch.diag_embed(r), **kw),
                              atol=1e-10)
    O = restriction_maps(torch.randn(m, 3, generator=g, dtype=torch.float64), "orth",
                         3)
    for kw in ({}, {"augmented": True}):
        assert torch.allclose(dense(ei, O, orthogonal=True, **kw), dense(ei, O, **kw),
                              atol=1e-10)


def test_restriction_map_families():
    g = torch.Generator().manual_seed(3)
    for d in (1, 2, 3, 4):
        raw = torch.randn(6, num_map_params("orth", d), generator=g,
                          dtype=torch.float64)
        Q = restriction_maps(raw, "orth", d)
        eye = torch.eye(d, dtype=Q.dtype).expand(6, d, d)
        assert torch.allclose(Q.transpose(1, 2) @ Q, eye)
        assert torch.allclose(torch.linalg.det(Q), torch.ones(6, dtype=Q.dtype))
        A = torch.zeros(d, d, dtype=torch.float64)
        iu = torch.triu_indices(d, d, 1)
        A[iu[1], iu[0]] = raw[0]
        ref = torch.from_numpy(scipy.linalg.expm((A - A.T).numpy()))
        assert torch.allclose(Q[0], ref, atol=1e-10)
    assert [num_map_params(k, 3) for k in KINDS] == [3, 3, 9]
    r = torch.randn(5, 4, generator=g)
    assert torch.equal(restriction_maps(r, "general", 2), r.reshape(5, 2, 2))
    assert torch.equal(restriction_maps(r[:, :2], "diag", 2),
                       torch.diag_embed(r[:, :2]))


def test_gradcheck_laplacian_action():
    ei = graph(5, n=5, p=0.7)
    g = torch.Generator().manual_seed(4)
    x = torch.randn(5, 2, 2, generator=g, dtype=torch.float64, requires_grad=True)
    for d, aug in ((2, True), (2, False), (3, False)):
        maps = torch.randn(ei.shape[1], d, d, generator=g, dtype=torch.float64,
                           requires_grad=True)
        xx = torch.randn(5, d, 2, generator=g, dtype=torch.float64, requires_grad=True)
        def f(mp, z, aug=aug):
            return sheaf_propagate(z, *sheaf_laplacian(ei, mp, 5, augmented=aug), 5)
        assert torch.autograd.gradcheck(f, (maps, xx))
    assert x.requires_grad


def test_heat_flow_and_limit():
    ei = graph(6)
    g = torch.Generator().manual_seed(5)
    maps = torch.randn(ei.shape[1], 2, 2, generator=g, dtype=torch.float64)
    op = sheaf_laplacian(ei, maps, N)
    Ld = sheaf_to_dense(*op, N)
    x0 = torch.randn(N, 2, 3, generator=g, dtype=torch.float64)
    assert torch.allclose(sheaf_heat(x0, *op, N, t=0.0), x0)
    ref = torch.linalg.matrix_exp(-0.7 * Ld) @ x0.reshape(2 * N, 3)
    out = sheaf_heat(x0, *op, N, t=0.7).reshape(2 * N, 3)
    assert torch.allclose(out, ref, atol=1e-10)
    # a sheaf with sections: the limit is the projection onto ker; far times reach it
    y = torch.arange(N) % 4
    cs = class_sheaf(ei, y, 4, 2).double()
    op = sheaf_laplacian(ei, cs, N, orthogonal=True)
    lim = sheaf_heat(x0, *op, N)
    assert (sheaf_propagate(lim, *op, N)).abs().max() < 1e-10
    assert torch.allclose(sheaf_heat(lim, *op, N), lim, atol=1e-10)
    assert torch.allclose(sheaf_heat(x0, *op, N, t=1e4), lim, atol=1e-8)
    assert separable_classes(lim, y, 4).all()


def test_separable_classes_linear_program():
    x = torch.tensor([[0.0, 0], [1, 1], [0, 1], [1, 0]])
    xor = separable_classes(x, torch.tensor([0, 0, 1, 1]), 2)
    assert xor.tolist() == [False, False]
    assert separable_classes(x, torch.tensor([0, 1, 0, 0]), 2).tolist() == [True, True]
    # points on one ray, ordered by class 0, 1, 0: not separable; round-off ignored
    r = torch.tensor([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]])
    r[1] += 1e-9
    assert not separable_classes(r, torch.tensor([0, 1, 0]), 2).any()


def test_trivial_nsd_layer_against_dense_gcn_algebra_and_training():
    ei = graph(7)
    g = torch.Generator().manual_seed(6)
    net = SheafDiffusion(3, 4, 1, 2, layers=1, kind="trivial", copies=1, generator=g)
    x = torch.randn(1, N, 3, generator=g)
    ai, aw = normalized_adjacency(ei, N)
    Delta = torch.eye(N) - to_dense(ai, N, aw)           # I - A_hat
    h = x[0] @ net.W_in[0] + net.b_in[0]
    h = h - torch.nn.functional.elu(Delta @ h @ net.W2[0, 0] * net.W1[0, 0, 0, 0])
    assert torch.allclose(net(x, ei)[0], h @ net.W_out[0] + net.b_out[0], atol=1e-5)
    # two copies learn a linearly separable labelling of their nodes
    x2 = torch.randn(2, N, 3, generator=g)
    y2 = (x2[..., 0] > 0).long()
    mk = torch.ones(2, N, dtype=torch.bool)
    net = SheafDiffusion(3, 4, 2, 2, layers=1, kind="general", copies=2, generator=g)
    acc = fit_copies(net, x2, y2, mk, mk, mk, torch.cat([ei, ei + N], 1), epochs=60,
                     lr=0.05)
    assert (acc == 1).all()
