"""Tests of papers_lib.optim.jacobian (chapter nbs/optimizers/08_jacobian_descent.ipynb)."""
import numpy as np
import pytest
import torch
from scipy.optimize import minimize, nnls

from papers_lib.optim.amsgrad import AMSGrad
from papers_lib.optim.jacobian import (_nnls_gram, gramian, jacobian, jacobian_backward, mean,
                                       mgda, mgda_weights, orthogonal_part, pcgrad, upgrad,
                                       upgrad_weights, write_grad)
from tests.optim_helpers import X as _X, Y as _Y, flat_params as _flat, small_net as _net

AGGS = [mean, mgda, pcgrad, upgrad]


def _rand(m, n, seed):
    return torch.randn(m, n, generator=torch.Generator().manual_seed(seed),
                       dtype=torch.float64)


def _project_reference(J, g):
    """Projection of g onto {v : J v >= 0}, by SLSQP on the primal problem."""
    Jn, gn = J.numpy(), g.numpy()
    res = minimize(lambda v: 0.5 * ((v - gn) ** 2).sum(), np.zeros_like(gn),
                   jac=lambda v: v - gn, method="SLSQP",
                   constraints=[{"type": "ineq", "fun": lambda v: Jn @ v, "jac": lambda v: Jn}],
                   options={"ftol": 1e-14, "maxiter": 500})
    return torch.from_numpy(res.x)


@pytest.mark.parametrize("seed", range(8))
def test_nnls_matches_scipy(seed):
    rng = np.random.default_rng(seed)
    k, rows = 2 + seed, 3 if seed % 2 else 12         # odd seeds: rank-deficient Q
    A = rng.standard_normal((rows, k))
    Y = rng.standard_normal((5, rows))
    X = _nnls_gram(A.T @ A, Y @ A)
    for x, y in zip(X, Y):
        ref, _ = nnls(A, y)
        assert (x >= 0).all()
        f = lambda v: ((A @ v - y) ** 2).sum()
        assert f(x) <= f(ref) + 1e-10


@pytest.mark.parametrize("m, n, seed", [(2, 5, 0), (3, 4, 1), (4, 6, 2), (5, 3, 3)])
def test_upgrad_matches_primal_projection(m, n, seed):
    J = _rand(m, n, seed)
    ref = torch.stack([_project_reference(J, g) for g in J]).mean(0)
    torch.testing.assert_close(upgrad(J), ref, rtol=0, atol=1e-6)


def test_upgrad_known_value():
    J = torch.tensor([[-4.0, 1.0, 1.0], [6.0, 1.0, 1.0]], dtype=torch.float64)
    g1, g2 = J
    by_hand = ((g1 + 22 / 38 * g2) + (g2 + 22 / 18 * g1)) / 2
    torch.testing.assert_close(upgrad(J), by_hand, rtol=0, atol=1e-12)
    torch.testing.assert_close(upgrad(J.float()), by_hand.float())
    assert upgrad(J.float()).dtype == torch.float32


@pytest.mark.parametrize("seed", range(10))
def test_upgrad_non_conflicting_and_weighted(seed):
    m = 2 + seed
    J = _rand(m, 6, seed)                              # m > n for the larger seeds
    d = upgrad(J)
    assert (J @ d).min() > -1e-9 * J.norm() * (d.norm() + 1)
    w = upgrad_weights(gramian(J))
    torch.testing.assert_close(torch.from_numpy(w) @ J, d)


def test_mean_and_pcgrad_can_conflict():
    J = torch.tensor([[1.0, 0.0], [-0.9, 0.5], [-0.9, -0.5]], dtype=torch.float64)
    assert (J @ mean(J)).min() < 0
    assert (J @ upgrad(J)).min() > -1e-12
    Jr = [_rand(4, 3, s) for s in range(30)]
    assert min((Jk @ pcgrad(Jk)).min().item() for Jk in Jr) < 0
    assert min((Jk @ upgrad(Jk)).min().item() for Jk in Jr) > -1e-9


@pytest.mark.parametrize("agg", AGGS, ids=lambda a: a.__name__)
def test_single_objective_is_the_gradient(agg):
    J = _rand(1, 7, 0)
    torch.testing.assert_close(agg(J), J[0], rtol=0, atol=1e-14)


@pytest.mark.parametrize("agg", [mean, pcgrad, upgrad], ids=lambda a: a.__name__)
def test_no_conflict_means_mean(agg):
    # non-negative entries: no two rows conflict (MGDA, the min-norm point, is not the mean)
    J = torch.rand(4, 5, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    torch.testing.assert_close(agg(J), J.mean(0))


@pytest.mark.parametrize("agg, linear", [(mean, True), (upgrad, True), (pcgrad, True),
                                         (mgda, False)], ids=["mean", "upgrad", "pcgrad",
                                                              "mgda"])
def test_linear_under_scaling(agg, linear):
    J = _rand(4, 6, 5)
    gen = torch.Generator().manual_seed(1)
    c1, c2 = torch.rand(2, 4, 1, generator=gen, dtype=torch.float64) + 0.1
    lhs = agg((2.0 * c1 + 3.0 * c2) * J)
    err = (lhs - 2.0 * agg(c1 * J) - 3.0 * agg(c2 * J)).norm() / lhs.norm()
    assert (err < 1e-10) if linear else (err > 1e-3)


def test_mgda_two_objectives_closed_form():
    for seed in range(20):
        a, b = _rand(2, 5, seed)
        b = b * (0.2 + seed / 5)
        gamma = ((b - a) @ b / ((a - b) @ (a - b))).clamp(0, 1)
        torch.testing.assert_close(mgda(torch.stack([a, b])), gamma * a + (1 - gamma) * b,
                                   rtol=0, atol=1e-12)


def test_mgda_min_norm_in_hull():
    J = _rand(3, 4, 7)
    w = mgda_weights(gramian(J))
    assert abs(w.sum() - 1) < 1e-12 and (w >= 0).all()
    best = min(((torch.tensor([a, b, 1 - a - b], dtype=torch.float64) @ J).norm().item()
                for a in np.linspace(0, 1, 201) for b in np.linspace(0, 1, 201) if a + b <= 1))
    assert mgda(J).norm().item() <= best + 1e-12
    # 0 in the hull: MGDA returns 0 (Pareto stationary)
    J0 = torch.tensor([[1.0, 0.0], [-1.0, 1.0], [-1.0, -1.0]], dtype=torch.float64)
    assert mgda(J0).norm() < 1e-12
    assert upgrad(J0).norm() < 1e-12                  # the dual cone is {0}


def test_pcgrad_two_objectives():
    a = torch.tensor([1.0, 0.0], dtype=torch.float64)
    b = torch.tensor([-1.0, 1.0], dtype=torch.float64)
    expect = ((a - (a @ b) / (b @ b) * b) + (b - (a @ b) / (a @ a) * a)) / 2
    torch.testing.assert_close(pcgrad(torch.stack([a, b])), expect)
    J = _rand(5, 3, 2)
    g = torch.Generator().manual_seed(0)
    assert torch.isfinite(pcgrad(J, generator=g)).all()


def test_orthogonal_part():
    v = torch.tensor([3.0, 4.0])
    u = torch.tensor([1.0, 0.0])
    torch.testing.assert_close(orthogonal_part(v, u), torch.tensor([0.0, 4.0]))
    torch.testing.assert_close(orthogonal_part(v, torch.zeros(2)), v)
    assert orthogonal_part(v, 2 * u) @ u == 0


def test_zero_jacobian():
    J = torch.zeros(3, 4, dtype=torch.float64)
    for agg in AGGS:
        assert agg(J).abs().max() == 0


def test_jacobian_matches_per_loss_grads():
    net = _net()
    losses = ((net(_X) - _Y) ** 2).mean(1)[:6]
    params = list(net.parameters())
    J = jacobian(losses, params, retain_graph=True)
    for i in range(6):
        ref = torch.cat([g.flatten() for g in torch.autograd.grad(losses[i], params,
                                                                  retain_graph=True)])
        torch.testing.assert_close(J[i], ref)
    w = torch.zeros(3, requires_grad=True)              # unused: zero columns
    J2 = jacobian([(params[0] ** 2).sum(), params[1].sum()], [params[1], w])
    assert J2.shape == (2, params[1].numel() + 3) and J2[:, -3:].abs().max() == 0


def test_backward_with_mean_is_loss_backward():
    net_a, net_b = _net(), _net()
    ((net_a(_X) - _Y) ** 2).mean().backward()
    jacobian_backward(((net_b(_X) - _Y) ** 2).mean(1), net_b.parameters(), mean)
    for pa, pb in zip(net_a.parameters(), net_b.parameters()):
        torch.testing.assert_close(pa.grad, pb.grad)


def test_backward_accumulates_and_steps_any_optimizer():
    net = _net()
    losses = lambda: ((net(_X) - _Y) ** 2).mean(0)          # two objectives (outputs)
    for p in net.parameters():
        p.grad = torch.ones_like(p)
    J, d = jacobian_backward(losses(), net.parameters(), upgrad)
    assert (J @ d).min() > -1e-6
    torch.testing.assert_close(torch.cat([p.grad.flatten() for p in net.parameters()]),
                               d + 1)
    before = _flat(net)
    opt = AMSGrad(net.parameters(), lr=1e-2)
    start = losses().detach()
    for _ in range(50):
        opt.zero_grad()
        jacobian_backward(losses(), net.parameters(), upgrad)
        opt.step()
    assert not torch.equal(before, _flat(net))
    assert (losses().detach() < start).all()              # both objectives went down


def test_backward_sgd_step_is_minus_lr_direction():
    net = _net()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    before = _flat(net)
    _, d = jacobian_backward(((net(_X) - _Y) ** 2).mean(1)[:8], net.parameters(), upgrad)
    opt.step()
    torch.testing.assert_close(_flat(net) - before, -0.1 * d)


@pytest.mark.parametrize("bad, exc, match", [
    (torch.zeros(3), ValueError, "J must have 2 dimensions, got shape"),
    (torch.zeros(0, 3), ValueError, "m >= 1"),
    (torch.zeros(2, 3, dtype=torch.int64), TypeError, "J must be a real floating"),
    (torch.tensor([[1.0, float("nan")]]), ValueError, "non-finite")])
@pytest.mark.parametrize("agg", AGGS, ids=lambda a: a.__name__)
def test_invalid_jacobian(agg, bad, exc, match):
    with pytest.raises(exc, match=match):
        agg(bad)


def test_invalid_inputs():
    with pytest.raises(TypeError, match="torch.Tensor"):
        upgrad([[1.0, 2.0]])
    with pytest.raises(ValueError, match="pref"):
        upgrad(_rand(3, 2, 0), pref=[0.5, 0.5])
    with pytest.raises(ValueError, match="pref"):
        upgrad(_rand(2, 2, 0), pref=[1.5, -0.5])
    w = torch.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="1-D"):
        jacobian((w * torch.ones(2, 2)).sum(1, keepdim=True), [w])
    with pytest.raises(ValueError, match="params must hold at least one tensor"):
        jacobian(w * 2, [])
    with pytest.raises(ValueError, match="direction"):
        write_grad([w], torch.zeros(3))
    with pytest.raises(TypeError, match="aggregator"):
        jacobian_backward(w * 2, [w], "upgrad")
