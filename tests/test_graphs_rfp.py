"""Random feature propagation, the Laplacian PE and the GIN of the chapter *Random feature
propagation* (`papers_lib.graphs.rfp`), against dense eigendecompositions, torch's QR,
networkx and torch-geometric."""
import math

import networkx as nx
import torch

from papers_lib.graphs.rfp import (GIN, laplacian_pe, normalise, propagation_operator,
                                   random_regular_graphs, rfp_encoding, subspace_sines,
                                   triangle_counts)
from papers_lib.graphs.toolkit import (Graph, batch_graphs, erdos_renyi, sbm, to_dense,
                                       to_undirected)

F64 = torch.float64


def _gen(s=0):
    return torch.Generator().manual_seed(s)


def _top(S, b):
    """The b eigenvectors of the symmetric S with the largest |eigenvalue|, and all
    eigenvalues sorted by magnitude."""
    ev, U = torch.linalg.eigh(S)
    order = ev.abs().argsort(descending=True)
    return ev[order], U[:, order[:b]]


def test_power_iteration_limit_is_the_top_eigenvectors():
    g = _gen(0)
    G = sbm([15] * 3, 0.7, 0.03, g)
    x0 = torch.randn(45, 3, generator=g, dtype=F64)
    ei, w = propagation_operator(G.edge_index, 45)
    ev, Ub = _top(to_dense(ei, 45, w).to(F64), 3)
    assert ev[3].abs() / ev[2].abs() < 0.8                  # a gap: fast convergence
    last = rfp_encoding(G.edge_index, 45, steps=80, x0=x0)[:, -3:]
    assert subspace_sines(last, Ub).max() < 1e-8
    # the random walk operator D^-1 A~ = D^-1/2 A_hat D^1/2: eigenvectors D^-1/2 u
    d = to_dense(G.edge_index, 45).sum(1) + 1                # degrees of A + I
    last_rw = rfp_encoding(G.edge_index, 45, steps=80, operator="rw", x0=x0)[:, -3:]
    # both operators carry float32 weights: they agree to float32 rounding only
    assert subspace_sines(last_rw, d.to(F64).rsqrt()[:, None] * Ub).max() < 1e-6


def test_orthogonal_iteration_rate():
    g = _gen(1)
    G = sbm([12] * 4, 0.8, 0.02, g)
    ei, w = propagation_operator(G.edge_index, 48)
    ev, Ub = _top(to_dense(ei, 48, w).to(F64), 4)
    rho = (ev[4].abs() / ev[3].abs()).item()
    P = rfp_encoding(G.edge_index, 48, steps=12,
                     x0=torch.randn(48, 4, generator=g, dtype=F64)).reshape(48, 13, 4)
    s = torch.stack([subspace_sines(P[:, k], Ub)[0] for k in range(13)])
    tan = s / (1 - s ** 2).sqrt()
    assert (tan <= rho ** torch.arange(13, dtype=F64) * tan[0] * (1 + 1e-9)).all()


def test_unit_columns_converge_to_the_top_eigenvector():
    g = _gen(2)
    G = sbm([10, 10], 0.9, 0.05, g)
    ei, w = propagation_operator(G.edge_index, 20)
    S = to_dense(ei, 20, w).to(F64)
    _, u1 = _top(S, 1)
    P = rfp_encoding(G.edge_index, 20, steps=400, norm="l2",
                     x0=torch.randn(20, 3, generator=g, dtype=F64))[:, -3:]
    assert torch.allclose(P.abs(), u1.abs().expand(-1, 3), atol=1e-6)


def test_normalise_qr_and_l2():
    g = _gen(3)
    sizes = [5, 2, 7]
    batch = torch.repeat_interleave(torch.arange(3), torch.tensor(sizes))
    x = torch.randn(14, 2, 4, generator=g, dtype=F64)
    q = normalise(x, batch)
    for k, n in enumerate(sizes):
        for c in range(2):
            Qk, X = q[batch == k][:, c], x[batch == k][:, c]
            m = min(n, 4)
            Qt, Rt = torch.linalg.qr(X)
            assert torch.allclose(Qk[:, :m], Qt[:, :m] * torch.sign(torch.diagonal(Rt)))
            assert (Qk[:, m:] == 0).all()
            assert torch.allclose(Qk[:, :m].T @ Qk[:, :m], torch.eye(m, dtype=F64))
    assert torch.allclose(normalise(q, batch), q)            # unique: idempotent
    u = normalise(x, batch, "l2")
    norms = torch.zeros(3, 2, 4, dtype=F64).index_add_(0, batch, u * u)
    assert torch.allclose(norms, torch.ones_like(norms))
    assert torch.allclose(normalise(3.0 * x, batch, "l2"), u)


def test_encoding_is_exactly_permutation_equivariant():
    g = _gen(4)
    graphs = [erdos_renyi(9, 0.4, g), erdos_renyi(6, 0.5, g), erdos_renyi(11, 0.3, g)]
    B = batch_graphs(graphs)
    n = B.num_nodes
    # a permutation inside each graph keeps batch sorted
    perm = torch.cat([torch.randperm(gr.num_nodes, generator=g) + o for gr, o in
                      zip(graphs, (0, 9, 15))])
    inv = perm.argsort()
    x0 = torch.randn(n, 4, generator=g, dtype=F64)
    for op in ("sym", "rw", "adj"):
        for norm in ("qr", "l2"):
            P = rfp_encoding(B.edge_index, n, steps=5, operator=op, norm=norm,
                             batch=B.batch, x0=x0)
            Pp = rfp_encoding(inv[B.edge_index], n, steps=5, operator=op, norm=norm,
                              batch=B.batch, x0=x0[perm])
            assert (Pp - P[perm]).abs().max() < 1e-10, (op, norm)


def test_batched_encoding_equals_each_graph_alone():
    g = _gen(5)
    graphs = [sbm([4, 4], 0.8, 0.2, g), erdos_renyi(5, 0.6, g)]
    B = batch_graphs(graphs)
    x0 = torch.randn(13, 3, generator=g, dtype=F64)
    P = rfp_encoding(B.edge_index, 13, steps=3, batch=B.batch, x0=x0)
    assert torch.allclose(P[:8], rfp_encoding(graphs[0].edge_index, 8, steps=3, x0=x0[:8]))
    assert torch.allclose(P[8:], rfp_encoding(graphs[1].edge_index, 5, steps=3, x0=x0[8:]))


def test_closed_walk_expectation():
    # E r_i (S^3 r)_i = (S^3)_ii, within 4 standard errors at each node
    g = _gen(6)
    G = erdos_renyi(12, 0.4, g)
    ei, w = propagation_operator(G.edge_index, 12)
    S3 = torch.linalg.matrix_power(to_dense(ei, 12, w).to(F64), 3)
    R = torch.randn(12, 20000, generator=g, dtype=F64)
    est = (R * (S3 @ R)).mean(1)
    se = ((S3 ** 2).sum(1) + S3.diagonal() ** 2).div(20000).sqrt()
    assert ((est - S3.diagonal()).abs() < 4 * se).all()


def test_laplacian_pe_against_torch_geometric():
    from torch_geometric.data import Data
    from torch_geometric.transforms import AddLaplacianEigenvectorPE
    g = _gen(7)
    G = erdos_renyi(14, 0.35, g)
    while not nx.is_connected(nx.Graph(G.edge_index.T.tolist())) or \
            len(set(G.edge_index.flatten().tolist())) < 14:
        G = erdos_renyi(14, 0.35, g)
    ref = AddLaplacianEigenvectorPE(4, attr_name=None)(
        Data(edge_index=G.edge_index, num_nodes=14)).x.float()
    pe = laplacian_pe(G.edge_index, 14, 4)
    for j in range(4):                                   # equal up to a sign per column
        s = torch.sign(pe[:, j] @ ref[:, j])
        assert torch.allclose(pe[:, j], s * ref[:, j], atol=1e-4)


def test_laplacian_pe_batches_and_pads():
    g = _gen(8)
    graphs = [erdos_renyi(10, 0.5, g), Graph(to_undirected(torch.tensor([[0], [1]]), 2), 2)]
    B = batch_graphs(graphs)
    pe = laplacian_pe(B.edge_index, 12, 3, B.batch)
    alone = laplacian_pe(graphs[0].edge_index, 10, 3)
    assert torch.allclose(pe[:10].abs(), alone.abs(), atol=1e-5)
    assert torch.allclose(pe[10:, 0].abs(), torch.full((2,), 2 ** -0.5))
    assert (pe[10:, 1:] == 0).all()
    flipped = laplacian_pe(B.edge_index, 12, 3, B.batch, g)
    assert torch.allclose(flipped.abs(), pe.abs())


def test_random_regular_graphs_and_triangles():
    g = _gen(9)
    gs = random_regular_graphs(40, 12, 4, g)
    for gr in gs:
        deg = torch.bincount(gr.edge_index[1], minlength=12)
        assert (deg == 4).all() and (gr.edge_index[0] != gr.edge_index[1]).all()
        key = gr.edge_index[0] * 12 + gr.edge_index[1]
        assert key.unique().numel() == key.numel()
    B = batch_graphs(gs)
    t = triangle_counts(B.edge_index, B.num_nodes, B.batch)
    o = 0
    for gr in gs:
        nxg = nx.Graph(gr.edge_index.T.tolist())
        assert t[o:o + 12].tolist() == [nx.triangles(nxg)[i] for i in range(12)]
        o += 12


def test_gin_copies_are_independent_and_invariant():
    g = _gen(10)
    G = erdos_renyi(8, 0.5, g)
    b = torch.zeros(8, dtype=torch.long)
    two = GIN(3, 5, 2, layers=2, copies=2, generator=g)
    x = torch.randn(2, 8, 3, generator=g)
    ei2 = torch.cat([G.edge_index, G.edge_index + 8], 1)
    z = two(x, ei2, b)
    one = GIN(3, 5, 2, layers=2, copies=1)
    with torch.no_grad():
        for p1, p2 in zip(one.parameters(), two.parameters()):
            p1.copy_(p2[1:2])
    assert torch.allclose(one(x[1:], G.edge_index, b), z[1:], atol=1e-6)
    perm = torch.randperm(8, generator=g)
    e_p = perm.argsort()[G.edge_index]
    assert torch.allclose(two(x[:, perm], torch.cat([e_p, e_p + 8], 1), b), z, atol=1e-5)
    # GIN-0 by hand for one layer's aggregation: h + A h
    A = to_dense(G.edge_index, 8)
    w1, b1, w2, b2 = one.mlps[:4]
    h = torch.relu(torch.relu((x[1] + A @ x[1]) @ w1[0] + b1[0]) @ w2[0] + b2[0])
    h = torch.relu(torch.relu((h + A @ h) @ one.mlps[4][0] + one.mlps[5][0])
                   @ one.mlps[6][0] + one.mlps[7][0])
    ref = h.sum(0) @ one.readout[0][0] + one.readout[1][0, 0]
    assert torch.allclose(one(x[1:], G.edge_index, b)[0, 0], ref, atol=1e-5)
