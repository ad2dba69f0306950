"""Tests of papers_lib.graphs.cgs (page nbs/graphs/04_cgs.ipynb): contractive weights,
dense blocks, the implicit-function-theorem gradient of the fixed point (gradcheck,
autograd through a solve, unrolled backpropagation), the convergence bound, the model."""
import pytest
import torch

from papers_lib.graphs.cgs import (CGS, LinearFixedPoint, contractive_weights,
                                   fixed_point, fixed_point_iterations, spectral_radius,
                                   to_dense_blocks, to_dense_nodes)
from papers_lib.graphs.toolkit import Graph, batch_graphs, to_dense, to_undirected

F64 = torch.float64
GEN = torch.Generator().manual_seed(0)
PATH = to_undirected(torch.tensor([[0, 1, 2, 3], [1, 2, 3, 4]]), 5)


def rows(shape):
    M = torch.rand(shape, generator=GEN, dtype=F64)
    return M / M.sum(-1, keepdim=True)


A = rows((3, 6, 6))
B = torch.randn(3, 6, 2, generator=GEN, dtype=F64)


def test_contractive_weights_rows_and_heat_matrix():
    c = torch.rand(PATH.shape[1], generator=GEN, dtype=F64) + 0.5
    plain = to_dense(PATH, 5, contractive_weights(c.log(), PATH, 5))
    torch.testing.assert_close(plain.sum(1), torch.ones(5, dtype=F64))
    kappa = torch.tensor([0.1, 0.2, 0.3, 0.4, 0.5], dtype=F64)
    sink = to_dense(PATH, 5, contractive_weights(c.log(), PATH, 5, kappa.log()))
    C = to_dense(PATH, 5, c)
    torch.testing.assert_close(sink, C / (C.sum(1, keepdim=True) + kappa[:, None]))
    # heads and huge logits: still finite, rows <= 1
    s = torch.randn(PATH.shape[1], 3, generator=GEN, dtype=F64) * 1e3
    w = contractive_weights(s, PATH, 5, torch.zeros(5, 3, dtype=F64))
    assert torch.isfinite(w).all() and (to_dense_blocks(PATH, torch.zeros(
        5, dtype=torch.long), w).sum(-1) <= 1 + 1e-12).all()


def test_dense_blocks_are_the_diagonal_blocks():
    two = batch_graphs([Graph(PATH, 5), Graph(to_undirected(torch.tensor([[0], [1]]), 3),
                                              3)])
    w = torch.rand(two.num_edges, generator=GEN, dtype=F64)
    blocks, big = to_dense_blocks(two.edge_index, two.batch, w), to_dense(
        two.edge_index, 8, w)
    torch.testing.assert_close(blocks[0], big[:5, :5])
    torch.testing.assert_close(blocks[1, :3, :3], big[5:, 5:])
    x = torch.randn(8, 2, generator=GEN)
    dense, mask = to_dense_nodes(x, two.batch)
    assert dense.shape == (2, 5, 2) and mask.sum() == 8
    torch.testing.assert_close(dense[mask], x)


@pytest.mark.parametrize("method", ["solve", "iterate"])
def test_fixed_point_matches_inverse(method):
    exact = torch.linalg.inv(torch.eye(6, dtype=F64) - 0.8 * A) @ B
    torch.testing.assert_close(fixed_point(A, B, 0.8, method, tol=1e-14), exact)


@pytest.mark.parametrize("method", ["solve", "iterate"])
def test_gradcheck_implicit_gradient(method):
    a = A[:2, :4, :4].clone().requires_grad_()
    b = B[:2, :4].clone().requires_grad_()
    assert torch.autograd.gradcheck(
        lambda a_, b_: LinearFixedPoint.apply(a_, b_, 0.7, method, 1e-14, 10_000),
        (a, b))


def _grad(fn):
    a, b = A.clone().requires_grad_(), B.clone().requires_grad_()
    w = torch.linspace(-1, 1, B.numel(), dtype=F64).view_as(B)
    (fn(a, b) * w).sum().backward()
    return torch.cat([a.grad.flatten(), b.grad.flatten()])


def test_implicit_gradient_equals_unrolled_and_solve():
    ift = _grad(lambda a, b: fixed_point(a, b, 0.8))
    via_solve = _grad(lambda a, b: torch.linalg.solve(torch.eye(6, dtype=F64) - 0.8 * a,
                                                      b))
    torch.testing.assert_close(ift, via_solve)
    errs = [(_grad(lambda a, b: fixed_point_iterations(a, b, 0.8, K)) - ift).norm()
            / ift.norm() for K in (10, 40, 300)]
    assert errs[0] > errs[1] > errs[2] and errs[2] < 1e-12
    torch.testing.assert_close(_grad(lambda a, b: fixed_point(a, b, 0.8, "iterate",
                                                              tol=1e-15)), ift)


def test_convergence_bound_and_spectral_radius():
    gamma = 0.9
    traj = fixed_point_iterations(A, B, gamma, 60, history=True)
    star = fixed_point(A, B, gamma)
    err = (traj - star).abs().amax(dim=(1, 2, 3))
    bound = gamma ** torch.arange(61, dtype=F64) * star.abs().amax()
    assert (err <= bound * (1 + 1e-9) + 1e-14).all()
    assert err[-1] < 0.01 * err[0]
    # row-stochastic: rho(gamma A) = gamma exactly; a sub-stochastic A: below
    torch.testing.assert_close(spectral_radius(gamma * A), torch.full((3,), gamma,
                                                                      dtype=F64))
    assert (spectral_radius(gamma * 0.5 * A) <= 0.45 + 1e-12).all()


def test_iterate_refuses_a_non_contraction():
    with pytest.raises(ValueError, match="A must make gamma \\* A a contraction"):
        fixed_point(2.5 * A, B, 0.9, "iterate", max_iter=200)


def test_cgs_model_contracts_and_learns_a_fixed_point():
    torch.manual_seed(0)
    graphs = []
    for _ in range(4):
        x = torch.randn(5, 2, generator=GEN)
        graphs.append(Graph(PATH, 5, torch.rand(PATH.shape[1], generator=GEN), x))
    bg = batch_graphs(graphs)
    model = CGS(2, 1, hidden=8, state=2, heads=2, gamma=0.95)
    A_m, b_m, mask, _ = model.transition(bg)
    assert A_m.shape == (4, 2, 5, 5) and b_m.shape == (4, 2, 5, 2)
    assert (A_m.sum(-1) < 1).all() and (spectral_radius(0.95 * A_m.double()) < 0.95).all()
    # target: a fixed point of the graph (mean of x over the path, spread far)
    target = torch.linalg.solve(torch.eye(5) - 0.9 * to_dense(PATH, 5) / 2.0,
                                torch.stack([g.x[:, :1] for g in graphs]))
    target = target.reshape(-1, 1)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    first = None
    for _ in range(40):
        loss = (model(bg) - target).pow(2).mean()
        first = loss.item() if first is None else first
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.5 * first
    model.method = "iterate"
    with torch.no_grad():
        out_it = model(bg)
        model.method = "solve"
        torch.testing.assert_close(out_it, model(bg), atol=1e-4, rtol=1e-4)
