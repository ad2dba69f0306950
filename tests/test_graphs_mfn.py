"""The resolvent, the pole expansions, the learned operator, the MFN and the local
baseline of the chapter *Equivariant matrix function networks*
(`papers_lib.graphs.mfn`)."""
import math

import networkx as nx
import torch
from torch_geometric.nn import MessagePassing as PygMessagePassing

from papers_lib.graphs.mfn import (
    MFN, MPNN, LocalLayer, MatrixFunction, MatrixOperator, chain_graph,
    chain_green_diagonal, chain_hamiltonian, contour_poles, fermi_poles, local_dos,
    pole_expansion, resolvent)
from papers_lib.graphs.toolkit import Graph, batch_graphs, to_undirected


def _sym(*shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    A = torch.randn(*shape, generator=g, dtype=torch.float64)
    return A + A.mT


def test_resolvent_matches_dense_inverse_and_neumann_series():
    H = _sym(3, 5, 5)
    z = torch.tensor([0.2 + 0.4j, -1.0 + 0.05j, 3.0 - 1.0j], dtype=torch.complex128)
    eye = torch.eye(5, dtype=torch.complex128)
    want = torch.linalg.inv(z[:, None, None] * eye - H)
    assert torch.allclose(resolvent(H, z), want, atol=1e-12)
    # one scalar z for the whole batch, and the Neumann series for |z| > ||H||
    zb = 3.0 * torch.linalg.matrix_norm(H[0], 2).item()
    series = sum(torch.linalg.matrix_power(H[0], m) / zb ** (m + 1) for m in range(50))
    assert torch.allclose(resolvent(H[0], zb).real, series, atol=1e-14)


def test_pole_expansion_solve_eigh_and_by_hand_agree():
    H = _sym(2, 6, 6, seed=1)
    z = torch.tensor([0.5 + 0.3j, -1.0 + 0.7j], dtype=torch.complex128)
    w = torch.tensor([1.0 - 0.5j, -0.3 + 0.2j], dtype=torch.complex128)
    lam, U = torch.linalg.eigh(H)
    g = (w[:, None] / (z[:, None] - lam[:, None, :])).sum(1).real
    want = U @ torch.diag_embed(g) @ U.mT
    for method in ("solve", "eigh"):
        full = pole_expansion(H, z, w, method=method)
        assert torch.allclose(full, want, atol=1e-12)
        diag = pole_expansion(H, z, w, diagonal=True, method=method)
        assert torch.allclose(diag, want.diagonal(dim1=-2, dim2=-1), atol=1e-12)


def test_contour_poles_give_the_matrix_exponential():
    H = _sym(4, 4, seed=2)
    r = 1.5 * torch.linalg.eigvalsh(H).abs().max().item()
    z, w = contour_poles(torch.exp, 0.0, r, 64)
    want = torch.linalg.matrix_exp(H)
    assert (pole_expansion(H, z, w) - want).abs().max() < 1e-10 * want.abs().max()
    z8, w8 = contour_poles(torch.exp, 0.0, r, 8)                 # too few: it shows
    assert (pole_expansion(H, z8, w8) - want).abs().max() > 1e-4 * want.abs().max()


def test_fermi_poles_within_the_truncation_bound():
    H = _sym(6, 6, seed=3)
    kT, mu, M = 0.3, 0.2, 100
    lam, U = torch.linalg.eigh(H)
    want = U @ torch.diag(torch.sigmoid(-(lam - mu) / kT)) @ U.mT
    z, w = fermi_poles(kT, mu, M)
    got = 0.5 * torch.eye(6, dtype=torch.float64) + pole_expansion(H, z, w)
    err = (got - want).abs().max().item()
    bound = (lam - mu).abs().max().item() / (2 * math.pi ** 2 * kT * M)
    # the bound holds per eigenvalue; in the basis U the matrix error is at most
    # n times the largest eigenvalue error
    assert err <= 6 * bound
    assert (got - want).abs().max() > 1e-6      # truncation is not exact: a real test
    ev = torch.linalg.eigvalsh(got - want).abs().max().item()
    assert ev <= bound


def test_gradcheck_through_the_solve():
    H = _sym(1, 4, 4, seed=4).requires_grad_()
    re = torch.tensor([0.3, -0.8], dtype=torch.float64, requires_grad=True)
    im = torch.tensor([0.4, 0.9], dtype=torch.float64, requires_grad=True)
    w = torch.tensor([1.0 + 0.5j, -0.4 + 0.1j], dtype=torch.complex128)

    def f(H, re, im):
        return pole_expansion(H, torch.complex(re, im), w, diagonal=True)

    assert torch.autograd.gradcheck(f, (H, re, im))


def test_operator_symmetric_sparse_and_equivariant():
    torch.manual_seed(0)
    op = MatrixOperator(3, channels=2).double()
    g = chain_graph(torch.zeros(1, 6, dtype=torch.float64))
    h = torch.randn(6, 3, dtype=torch.float64)
    H = op(h, g.edge_index)[0]
    assert torch.equal(H, H.mT)
    far = (torch.arange(6)[:, None] - torch.arange(6)).abs() > 1
    assert (H[:, far] == 0).all() and (H[:, ~far] != 0).all()
    perm = torch.tensor([3, 0, 5, 1, 4, 2])
    inv = torch.argsort(perm)
    Hp = op(h[perm], inv[g.edge_index])[0]
    assert torch.allclose(Hp, H[:, perm][:, :, perm])


def test_mfn_is_permutation_equivariant_on_a_random_graph():
    torch.manual_seed(1)
    gen = torch.Generator().manual_seed(1)
    n = 9
    ei = to_undirected(torch.randint(0, n, (2, 14), generator=gen), n)
    ei = ei[:, ei[0] != ei[1]]
    x = torch.randn(n, 2, generator=gen, dtype=torch.float64)
    model = MFN(2, 3, hidden=8, channels=2, poles=3).double()
    perm = torch.randperm(n, generator=gen)
    inv = torch.argsort(perm)
    out = model(x, ei)
    assert out.shape == (n, 3)
    assert torch.allclose(model(x[perm], inv[ei]), out[perm], atol=1e-12)


def test_mfn_padding_does_not_leak_between_graphs():
    torch.manual_seed(2)
    model = MFN(1, 1, hidden=8, poles=3).double()
    a = chain_graph(torch.rand(1, 4, dtype=torch.float64))
    b = chain_graph(torch.rand(1, 7, dtype=torch.float64))
    both = batch_graphs([Graph(a.edge_index, 4, x=a.x), Graph(b.edge_index, 7, x=b.x)])
    out = model(both.x, both.edge_index, both.batch)
    assert torch.allclose(out[:4], model(a.x, a.edge_index), atol=1e-12)
    assert torch.allclose(out[4:], model(b.x, b.edge_index), atol=1e-12)


def test_mfn_eigh_equals_solve():
    torch.manual_seed(3)
    model = MFN(1, 2, hidden=8, poles=4).double()
    g = chain_graph(torch.rand(3, 10, dtype=torch.float64) - 0.5)
    out = model(g.x, g.edge_index, g.batch)
    model.fn.method = "eigh"
    assert torch.allclose(model(g.x, g.edge_index, g.batch), out, atol=1e-10)


def test_matrix_function_layer_matches_inverse():
    torch.manual_seed(4)
    layer = MatrixFunction(channels=1, poles=2).double()
    H = _sym(2, 1, 5, 5, seed=5)
    eye = torch.eye(5, dtype=torch.float64)
    R = [torch.linalg.inv(layer.poles[0, p] * eye - H[:, 0]) for p in range(2)]
    want = sum(layer.weights[0, p] * R[p]
               for p in range(2)).real.diagonal(dim1=-2, dim2=-1)
    assert torch.allclose(layer(H)[:, 0], want, atol=1e-12)
    assert (layer.poles.imag > 0).all()


def test_mpnn_output_is_blind_beyond_k_hops_and_mfn_is_not():
    torch.manual_seed(5)
    k, n = 3, 12
    mpnn, mfn = MPNN(1, 1, hidden=8, layers=k).double(), MFN(1, 1, hidden=8).double()
    eps = torch.rand(1, n, dtype=torch.float64)
    far = eps.clone()
    far[0, k + 1:] += 0.7
    g, gf = chain_graph(eps), chain_graph(far)
    assert mpnn(gf.x, gf.edge_index)[0] == mpnn(g.x, g.edge_index)[0]
    near = eps.clone()
    near[0, k] += 0.7                                 # k hops away: inside the ball
    gn = chain_graph(near)
    assert mpnn(gn.x, gn.edge_index)[0] != mpnn(g.x, g.edge_index)[0]
    assert (mfn(gf.x, gf.edge_index)[0] - mfn(g.x, g.edge_index)[0]).abs() > 1e-8


class _PygLayer(PygMessagePassing):
    """torch_geometric's message passing with the same message MLP and update."""

    def __init__(self, ours: LocalLayer):
        super().__init__(aggr="add")
        self.ours = ours

    def forward(self, h, edge_index):
        m = self.propagate(edge_index, x=h)
        return h + self.ours.upd(torch.cat([h, m], -1))

    def message(self, x_i, x_j):
        return self.ours.msg(torch.cat([x_i, x_j], -1))


def test_local_layer_matches_torch_geometric():
    torch.manual_seed(6)
    layer = LocalLayer(5).double()
    gen = torch.Generator().manual_seed(6)
    ei = torch.randint(0, 8, (2, 20), generator=gen)
    h = torch.randn(8, 5, generator=gen, dtype=torch.float64)
    assert torch.allclose(layer(h, ei), _PygLayer(layer)(h, ei), atol=1e-12)


def test_chain_green_diagonal_and_local_dos():
    gen = torch.Generator().manual_seed(7)
    eps = torch.rand(4, 15, generator=gen, dtype=torch.float64) - 0.5
    H = chain_hamiltonian(eps, hopping=0.8)
    z = complex(0.3, 0.05)
    want = resolvent(H, z).diagonal(dim1=-2, dim2=-1)
    assert torch.allclose(chain_green_diagonal(eps, z, hopping=0.8), want, atol=1e-10)
    lam, U = torch.linalg.eigh(H)
    lorentz = 0.05 / math.pi / ((0.3 - lam) ** 2 + 0.05 ** 2)
    assert torch.allclose(local_dos(H, 0.3, 0.05), (U ** 2 * lorentz[:, None]).sum(-1))
    # one site: G = 1 / (z - eps)
    one = torch.tensor([[0.4]], dtype=torch.float64)
    assert abs(chain_green_diagonal(one, z)[0, 0].item() - 1 / (z - 0.4)) < 1e-14


def test_chain_graph_is_a_batch_of_paths():
    g = chain_graph(torch.zeros(3, 5))
    assert g.num_nodes == 15 and g.batch.tolist() == [0] * 5 + [1] * 5 + [2] * 5
    edges = {tuple(e) for e in g.edge_index.T.tolist()}
    path = nx.disjoint_union_all([nx.path_graph(5)] * 3)
    want = {(u, v) for u, v in path.edges} | {(v, u) for u, v in path.edges}
    assert edges == want
    H = chain_hamiltonian(torch.zeros(5), hopping=2.0)
    assert torch.equal(H, -2.0 * torch.tensor(nx.to_numpy_array(nx.path_graph(5)),
                                              dtype=torch.float32))
