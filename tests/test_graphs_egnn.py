"""papers_lib.graphs.egnn: E(n) and permutation equivariance of the EGCL and the EGNN
(float64, random orthogonal matrices and translations), closed forms of the coordinate
update, complete graphs against the toolkit's `batch_graphs`, and the N-body
simulator's conserved momentum."""
import pytest
import torch
from torch import nn

from papers_lib.graphs.egnn import (EGCL, EGNN, charged_nbody, fully_connected,
                                    random_orthogonal)
from papers_lib.graphs.toolkit import Graph, batch_graphs, erdos_renyi

F64 = torch.float64


def _system(dim, n=6, d=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, dim, dtype=F64, generator=g)
    v = torch.randn(n, dim, dtype=F64, generator=g)
    h = torch.randn(n, d, dtype=F64, generator=g)
    ei = erdos_renyi(n, 0.6, g).edge_index
    return g, x, v, h, ei


def _loud(module):
    """Make phi_x far from its tiny initialisation, so that the points move."""
    for m in module.modules():
        if isinstance(m, EGCL):
            nn.init.normal_(m.phi_x[-1].weight, std=0.5)
    return module


@pytest.mark.parametrize("dim", [2, 3, 5])
@pytest.mark.parametrize("velocity", [False, True])
def test_egcl_e_n_equivariance(dim, velocity):
    g, x, v, h, ei = _system(dim, seed=dim)
    torch.manual_seed(dim)
    layer = _loud(EGCL(3, dim_edge=2, hidden=8, velocity=velocity).double())
    a = torch.randn(ei.shape[1], 2, dtype=F64, generator=g)
    Q, t = random_orthogonal(dim, g), torch.randn(dim, dtype=F64, generator=g)
    vv = v if velocity else None
    h1, x1 = layer(h, x, ei, a, vv)
    h2, x2 = layer(h, x @ Q.T + t, ei, a, vv @ Q.T if velocity else None)
    assert (x1 - x).norm() > 1e-2                     # the layer does move the points
    torch.testing.assert_close(x2, x1 @ Q.T + t, rtol=0, atol=1e-12)
    torch.testing.assert_close(h2, h1, rtol=0, atol=1e-12)


def test_egcl_reflection_and_permutation():
    g, x, v, h, ei = _system(3, n=7, seed=4)
    torch.manual_seed(4)
    layer = _loud(EGCL(3, hidden=8, coord_aggr="sum").double())
    R = torch.diag(torch.tensor([-1.0, 1.0, 1.0], dtype=F64))    # a pure reflection
    perm = torch.randperm(7, generator=g)
    inv = torch.argsort(perm)
    h1, x1 = layer(h, x, ei)
    h2, x2 = layer(h[perm], (x @ R.T)[perm], inv[ei])
    torch.testing.assert_close(x2, (x1 @ R.T)[perm], rtol=0, atol=1e-12)
    torch.testing.assert_close(h2, h1[perm], rtol=0, atol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_egnn_equivariance_complete_graphs(seed):
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = _loud(EGNN(2, 3, hidden=8, layers=3, velocity=True).double())
    M, B, dim = 4, 2, 3
    ei = fully_connected(M, B)
    x, v = (torch.randn(M * B, dim, dtype=F64, generator=g) for _ in range(2))
    h = torch.randn(M * B, 2, dtype=F64, generator=g)
    Q, t = random_orthogonal(dim, g), torch.randn(dim, dtype=F64, generator=g)
    out1, x1 = model(h, x, ei, v=v)
    out2, x2 = model(h, x @ Q.T + t, ei, v=v @ Q.T)
    torch.testing.assert_close(x2, x1 @ Q.T + t, rtol=0, atol=1e-11)
    torch.testing.assert_close(out2, out1, rtol=0, atol=1e-11)


def test_plain_coordinates_break_equivariance():
    """A check that the test can fail: a layer reading x_i is not equivariant."""
    g, x, v, h, ei = _system(3, seed=7)
    lin = nn.Linear(3, 3).double()
    Q = random_orthogonal(3, g)
    with torch.no_grad():
        assert (lin(x @ Q.T) - lin(x) @ Q.T).abs().max() > 1e-3


def test_coordinate_update_closed_form():
    """With phi_x = c, x_i' = x_i + c (x_i - mean of its neighbours) (mean) or
    x_i + c * sum_j (x_i - x_j) (sum)."""
    g, x, v, h, ei = _system(2, n=5, seed=3)
    ei = fully_connected(5)
    for aggr, C in (("mean", 1 / 4), ("sum", 1.0)):
        layer = EGCL(3, hidden=4, coord_aggr=aggr).double()
        layer.phi_x = _Const(0.7)
        _, x1 = layer(h, x, ei)
        expect = x + 0.7 * C * (5 * x - x.sum(0))          # sum_j (x_i - x_j), j != i
        torch.testing.assert_close(x1, expect, rtol=0, atol=1e-13)


class _Const(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c

    def forward(self, m):
        return torch.full((m.shape[0], 1), self.c, dtype=m.dtype)


def test_untrained_network_barely_moves_points():
    g, x, v, h, ei = _system(3, seed=5)
    torch.manual_seed(5)
    _, x1 = EGNN(3, hidden=8, layers=2).double()(h, x, ei)
    assert 0 < (x1 - x).abs().max() < 1e-2             # phi_x starts at gain 1e-3


def test_fully_connected_matches_batch_graphs():
    ei = fully_connected(4, 3)
    assert ei.shape == (2, 3 * 4 * 3) and ei.dtype == torch.long
    assert (ei[0] != ei[1]).all()
    ref = batch_graphs([Graph(fully_connected(4), 4) for _ in range(3)]).edge_index
    assert torch.equal(ei, ref)
    dense = torch.zeros(4, 4)
    dense[fully_connected(4)[1], fully_connected(4)[0]] = 1
    assert torch.equal(dense, 1 - torch.eye(4))


def test_random_orthogonal():
    g = torch.Generator().manual_seed(0)
    Qs = torch.stack([random_orthogonal(4, g) for _ in range(200)])
    torch.testing.assert_close(Qs.transpose(1, 2) @ Qs, torch.eye(4, dtype=F64).expand(
        200, 4, 4), rtol=0, atol=1e-13)
    # Binomial(200, 1/2) reflections: mean 100, sd 7.1; 5 sd either side
    assert 65 < int((Qs.det() < 0).sum()) < 135
    # Haar: E[Q] = 0, entries of variance 1/4; the mean of 200 draws has sd 0.035
    assert Qs.mean(0).abs().max() < 0.2
    assert random_orthogonal(3, dtype=torch.float32).dtype == torch.float32


def test_charged_nbody_momentum_and_shapes():
    g = torch.Generator().manual_seed(1)
    x0, v0, q, xT = charged_nbody(6, n_particles=4, dim=2, steps=100, dt=0.01,
                                  max_force=1e8, generator=g)
    assert x0.shape == v0.shape == xT.shape == (6, 4, 2) and q.shape == (6, 4)
    assert set(q.unique().tolist()) <= {-1.0, 1.0}
    torch.testing.assert_close(v0.norm(dim=-1), torch.full((6, 4), 0.5, dtype=F64))
    # the forces cancel in pairs: the summed displacement is T * total momentum
    torch.testing.assert_close((xT - x0).sum(1), 1.0 * v0.sum(1), rtol=0, atol=1e-10)


def test_charged_nbody_one_step_closed_form():
    """One step for two particles: v' = v + dt F, x' = x + dt v', with
    F_0 = q_0 q_1 (x_0 - x_1) / |x_0 - x_1|^3 = -F_1 (like charges repel)."""
    g = torch.Generator().manual_seed(2)
    x0, v0, q, x1 = charged_nbody(5, n_particles=2, steps=1, dt=0.01, generator=g)
    d = x0[:, 0] - x0[:, 1]
    F0 = (q[:, 0] * q[:, 1])[:, None] * d / d.norm(dim=-1, keepdim=True) ** 3
    F = torch.stack([F0, -F0], 1)
    torch.testing.assert_close(x1, x0 + 0.01 * (v0 + 0.01 * F), rtol=0, atol=1e-14)
    # the clip scales a force down to norm max_force
    _, _, _, xc = charged_nbody(5, n_particles=2, steps=1, dt=0.01, max_force=1e-3,
                                generator=torch.Generator().manual_seed(2))
    Fc = F * (1e-3 / F.norm(dim=-1, keepdim=True)).clamp(max=1)
    torch.testing.assert_close(xc, x0 + 0.01 * (v0 + 0.01 * Fc), rtol=0, atol=1e-14)
