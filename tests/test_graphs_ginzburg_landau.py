"""Tests of papers_lib.graphs.ginzburg_landau (page nbs/graphs/05_ginzburg_landau.ipynb):
the gradient against autograd, one splitting step against a direct solve, monotone
energy and the box [-1, 1] of the stability theorem."""
import torch

from papers_lib.graphs.ginzburg_landau import (
    ccs_step, double_well, gl_energy, gl_gradient, knn_graph, minimize_gl,
    splitting_matrix)
from papers_lib.graphs.toolkit import laplacian, to_dense

F64 = torch.float64
GEN = torch.Generator().manual_seed(0)
X = torch.randn(40, 2, generator=GEN, dtype=F64)
EI, W = knn_graph(X, 4)
L = to_dense(*laplacian(EI, 40, W, kind="comb")[:1], 40,
             laplacian(EI, 40, W, kind="comb")[1])
MASK = torch.zeros(40, dtype=torch.bool)
MASK[:4] = True
F = torch.where(MASK, torch.tensor([1.0, -1.0]).repeat(20).double(), 0.0)


def test_knn_graph_symmetric_gaussian():
    A = to_dense(EI, 40, W)
    torch.testing.assert_close(A, A.T)
    assert (A.diag() == 0).all() and (W > 0).all() and (W <= 1).all()
    assert ((A > 0).sum(1) >= 4).all()


def test_gradient_matches_autograd():
    u = torch.randn(2, 40, generator=GEN, dtype=F64, requires_grad=True)
    gl_energy(u, L, F, MASK, 0.5, 3.0).sum().backward()
    torch.testing.assert_close(u.grad, gl_gradient(u.detach(), L, F, MASK, 0.5, 3.0))
    torch.testing.assert_close(double_well(torch.tensor([1.0, -1.0, 0.0])),
                               torch.tensor([0.0, 0.0, 0.25]))


def test_step_is_direct_solve():
    u = torch.rand(40, generator=GEN, dtype=F64) * 2 - 1
    eps, mu, c, dt = 0.5, 3.0, 4.0, 0.7
    M = (torch.eye(40, dtype=F64) + dt * (eps * L + c * torch.eye(40, dtype=F64)
                                          + mu * torch.diag(MASK.double())))
    r = u + dt * (c * u - (u ** 3 - u) / eps + mu * MASK.double() * F)
    torch.testing.assert_close(ccs_step(u, L, F, MASK, eps, mu, c, dt),
                               torch.linalg.solve(M, r))
    torch.testing.assert_close(splitting_matrix(L, MASK, eps, mu, c, dt), M)


def test_energy_monotone_and_box_for_any_step():
    u0 = torch.rand(40, generator=GEN, dtype=F64) * 2 - 1
    for dt in (0.01, 1.0, 1e4):
        u, E, _ = minimize_gl(u0, L, F, MASK, eps=0.5, mu=3.0, c=4.0, dt=dt,
                              max_iter=60, tol=1e-12)
        assert (E[1:] - E[:-1]).max() <= 1e-12
        assert u.abs().max() <= 1 + 1e-12


def test_momentum_converges_to_stationary_point():
    u, _, it = minimize_gl(F, L, F, MASK, eps=1.0, mu=3.0, c=2.0, dt=1.0,
                           momentum="fista", tol=1e-8, max_iter=2000)
    assert it.item() < 2000
    assert gl_gradient(u, L, F, MASK, 1.0, 3.0).abs().max() < 1e-7
