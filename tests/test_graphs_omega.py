"""ωGNN (`papers_lib.graphs.omega`): the operator against dense formulas and
torch-geometric (`gcn_norm`, mean aggregation), its spectrum against a dense
eigendecomposition, the energy parabola against direct evaluation, and the deep
ωGCN's GCN special case and copy independence."""
import torch
from torch_geometric.nn import SimpleConv
from torch_geometric.nn.conv.gcn_conv import gcn_norm

from papers_lib.graphs.omega import (OmegaGCN, dirichlet_ratio, energy_parabola,
                                     omega_laplacian, omega_operator, omega_propagate,
                                     train_nodes)
from papers_lib.graphs.toolkit import (add_self_loops, dirichlet_energy, erdos_renyi,
                                       propagate, to_dense)

f64 = torch.float64


def graph(n=15, p=0.25, seed=0):
    g = torch.Generator().manual_seed(seed)
    ei = erdos_renyi(n, p, generator=g).edge_index
    return ei, torch.ones(ei.shape[1], dtype=f64), torch.randn(n, 3, dtype=f64,
                                                                 generator=g)


def test_omega_one_is_gcn_propagation_of_torch_geometric():
    ei, w, x = graph()
    li, lw = omega_laplacian(ei, 15, w, kind="sym")
    gi, gw = gcn_norm(ei, None, 15, add_self_loops=True, dtype=f64)
    ref = propagate(x, gi, gw)                         # D~^-1/2 A~ D~^-1/2 x
    assert torch.allclose(omega_propagate(x, 1.0, li, lw), ref, atol=1e-12)
    li, lw = omega_laplacian(ei, 15, w, kind="rw")
    mean = SimpleConv(aggr="mean")(x, add_self_loops(ei, 15)[0])   # D~^-1 A~ x
    assert torch.allclose(omega_propagate(x, 1.0, li, lw), mean, atol=1e-12)
    assert torch.equal(omega_propagate(x, 0.0, li, lw), x)


def test_laplacian_dense_formula_and_spectrum():
    ei, w, _ = graph(seed=1)
    A = to_dense(ei, 15, w) + torch.eye(15, dtype=f64)
    d = A.sum(1)
    li, lw = omega_laplacian(ei, 15, w, kind="rw")
    Lrw = to_dense(li, 15, lw)
    assert torch.allclose(Lrw, torch.eye(15, dtype=f64) - A / d[:, None], atol=1e-12)
    li, lw = omega_laplacian(ei, 15, w, kind="sym")
    lam = torch.linalg.eigvalsh(to_dense(li, 15, lw))
    assert abs(lam[0]) < 1e-12 and lam[-1] < 2
    for kind in ("rw", "sym"):
        for om in (-0.7, 0.3, 1.0, 2.2):
            ev = torch.linalg.eigvals(omega_operator(ei, 15, om, w, kind=kind))
            assert ev.imag.abs().max() < 1e-9
            assert torch.allclose(ev.real.sort().values, (1 - om * lam).sort().values,
                                  atol=1e-9)


def test_per_channel_omega_and_gradcheck():
    ei, w, x = graph(8, 0.4, seed=2)
    li, lw = omega_laplacian(ei, 8, w)
    om = torch.tensor([-1.0, 0.5, 3.0], dtype=f64)
    out = omega_propagate(x, om, li, lw)
    for c in range(3):
        assert torch.allclose(out[:, c], omega_propagate(x[:, c], om[c].item(), li, lw))
    assert torch.autograd.gradcheck(lambda a, b: omega_propagate(a, b, li, lw),
                                    (x.clone().requires_grad_(),
                                     om.clone().requires_grad_()))


def test_dirichlet_ratio_against_brute_force():
    ei, w, x = graph(seed=3)
    A = to_dense(ei, 15, w) + torch.eye(15, dtype=f64)
    d = A.sum(1)
    diff = ((x[:, None] - x[None]) ** 2).sum(-1)
    ref = 0.5 * (A * diff).sum() / (d[:, None] * x ** 2).sum()
    assert torch.isclose(dirichlet_ratio(x, ei, edge_weight=w), ref, atol=1e-12)
    sym = dirichlet_ratio(x, ei, kind="sym", edge_weight=w)
    assert torch.isclose(sym, dirichlet_energy(x, ei) / (x * x).sum(), atol=1e-12)
    assert dirichlet_ratio(torch.zeros(15, 2), ei) == 0                 # f = 0
    assert dirichlet_ratio(torch.full((15, 2), 3.0), ei).abs() < 1e-6   # constant
    both = dirichlet_ratio(torch.stack([x, -5 * x]), torch.cat([ei, ei + 15], 1),
                           edge_weight=torch.cat([w, w]))
    assert torch.allclose(both, ref.expand(2), atol=1e-12)


def test_energy_parabola_against_direct_evaluation():
    ei, w, x = graph(seed=4)
    li, lw = omega_laplacian(ei, 15, w)
    a, b, c = energy_parabola(x, ei, edge_weight=w)
    A = to_dense(ei, 15, w) + torch.eye(15, dtype=f64)

    def energy(f):
        return 0.5 * (A[..., None] * (f[:, None] - f[None]) ** 2).sum((0, 1))
    assert torch.allclose(energy(x), a, rtol=1e-12)
    for om in (-2.0, 0.4, 1.0, 1.9):
        y = omega_propagate(x, om, li, lw)
        assert torch.allclose(energy(y), a - 2 * om * b + om ** 2 * c, rtol=1e-10)
    y = omega_propagate(x, 2 * b / c, li, lw)                # energy kept exactly
    assert torch.allclose(energy(y), a, rtol=1e-10)
    assert (energy(omega_propagate(x, 1.0, li, lw)) < a).all()          # GCN smooths
    assert (2 * b / c > 1).all()


def test_omega_gcn_special_cases_and_copy_independence():
    ei, w, _ = graph(10, 0.3, seed=5)
    e2 = torch.cat([ei, ei + 10], 1)
    l2, w2 = omega_laplacian(e2, 20)
    x = torch.randn(2, 10, 4, generator=torch.Generator().manual_seed(6))
    gcn = OmegaGCN(4, 6, 3, layers=4, copies=2, omega="fixed", omega_init=1.0,
                   generator=torch.Generator().manual_seed(7))
    _, hid = gcn(x, l2, w2, return_hidden=True)
    A = to_dense(ei, 10) + torch.eye(10)
    P = A / A.sum(1, keepdim=True)
    for s in range(2):
        assert torch.allclose(hid[-1][s], torch.matrix_power(P, 4) @ hid[0][s],
                              atol=1e-5)
    net = OmegaGCN(4, 6, 3, layers=3, copies=2, omega="layer",
                   generator=torch.Generator().manual_seed(7))
    assert net.omega.shape == (3, 2, 1, 1) and net.omega.requires_grad
    with torch.no_grad():
        net.omega.fill_(-0.5)
        net.K.add_(0.2)
    out = net(x, l2, w2)
    x2 = x.clone()
    x2[1] = 0
    assert torch.equal(net(x2, l2, w2)[0], out[0])             # copy 0 ignores copy 1


def test_train_nodes_fits_and_leaves_a_fixed_omega():
    g = torch.Generator().manual_seed(8)
    ei = erdos_renyi(20, 0.2, generator=g).edge_index
    li, lw = omega_laplacian(torch.cat([ei, ei + 20], 1), 40)
    x = torch.randn(2, 20, 3, generator=g)
    y = (x[..., 0] > 0).long()
    m = torch.ones(2, 20, dtype=torch.bool)
    acc = train_nodes(OmegaGCN(3, 8, 2, layers=1, copies=2, generator=g), x, y, m, m,
                      li, lw, epochs=200, lr=0.05)
    assert (acc >= 0.9).all()
    fixed = OmegaGCN(3, 8, 2, layers=2, copies=2, omega="fixed", omega_init=0.7,
                     generator=g)
    train_nodes(fixed, x, y, m, m, li, lw, epochs=5)
    assert torch.equal(fixed.omega, torch.full_like(fixed.omega, 0.7))
