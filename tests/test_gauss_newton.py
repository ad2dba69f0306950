"""Tests of papers_lib.optim.gauss_newton (chapter
nbs/optimizers/10_gauss_newton.ipynb)."""
import copy

import pytest
import torch
from torch.func import functional_call, jacrev, vmap

from papers_lib.optim.gauss_newton import (ExactGaussNewton, batch_jacobian,
                                           gauss_newton_direction, output_derivatives)
from tests.optim_helpers import X as _X, Y as _Y
from tests.optim_helpers import assert_refused, flat_params as _flat, small_net as _net

D64 = torch.float64


def _tiny(seed=0, c=4):
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(),
                              torch.nn.Linear(5, c)).double()
    g = torch.Generator().manual_seed(seed + 1)
    x = torch.randn(6, 3, dtype=D64, generator=g)
    return net, x, {"squared": torch.randn(6, c, dtype=D64, generator=g),
                    "cross_entropy": torch.randint(0, c, (6,), generator=g)}


def _explicit(J, r, Q, damping):
    """(J^T Q J / b + D)^{-1} J^T r / b, the n x n solve."""
    b, c = r.shape
    Qf = torch.eye(b * c, dtype=D64) if Q is None else torch.block_diag(*Q)
    D = torch.diag(damping) if torch.is_tensor(damping) else damping * torch.eye(
        J.shape[1], dtype=D64)
    return torch.linalg.solve(J.T @ Qf @ J / b + D, J.T @ r.reshape(-1) / b)


@pytest.mark.parametrize("loss", ["squared", "cross_entropy"])
@pytest.mark.parametrize("solver", ["lu", "cholesky"])
@pytest.mark.parametrize("damping", [1e-4, 0.1, 10.0])
def test_direction_equals_parameter_space_solve(loss, solver, damping):
    net, x, targets = _tiny()
    J = batch_jacobian(net(x), list(net.parameters()))
    _, r, Q = output_derivatives(net(x).detach(), targets[loss], loss)
    d = gauss_newton_direction(J, r, damping, Q, solver=solver)
    ref = _explicit(J, r, Q, damping)
    assert ((d - ref).norm() / ref.norm()).item() < 1e-9


@pytest.mark.parametrize("loss", ["squared", "cross_entropy"])
def test_vector_damping_equals_diagonal_solve(loss):
    net, x, targets = _tiny()
    J = batch_jacobian(net(x), list(net.parameters()))
    _, r, Q = output_derivatives(net(x).detach(), targets[loss], loss)
    damp = torch.linspace(0.01, 2.0, J.shape[1], dtype=D64)
    d = gauss_newton_direction(J, r, damp, Q)
    torch.testing.assert_close(d, _explicit(J, r, Q, damp), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("loss", ["squared", "cross_entropy"])
def test_large_damping_is_gradient_over_damping(loss):
    net, x, targets = _tiny()
    J = batch_jacobian(net(x), list(net.parameters()))
    losses, r, Q = output_derivatives(net(x), targets[loss], loss)
    grad = torch.cat([g.flatten() for g in torch.autograd.grad(losses.mean(),
                                                               net.parameters())])
    errs = []
    for lam in (1e2, 1e4, 1e6):
        d = gauss_newton_direction(J, r.detach(), lam,
                                   None if Q is None else Q.detach())
        errs.append(((lam * d - grad).norm() / grad.norm()).item())
    assert errs[2] < 1e-5 and errs[0] > errs[1] > errs[2]   # O(1/lambda)


def test_linear_least_squares_one_step():
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(40, 5, dtype=D64, generator=g), torch.randn(40, 2, dtype=D64,
                                                                    generator=g)
    lin = torch.nn.Linear(5, 2).double()
    ExactGaussNewton(lin.parameters(), damping=1e-9).step(lambda: (lin(x), y))
    X1 = torch.cat([x, torch.ones(40, 1, dtype=D64)], 1)
    sol = torch.linalg.lstsq(X1, y).solution
    torch.testing.assert_close(lin.weight.detach(), sol[:5].T, rtol=0, atol=1e-7)
    torch.testing.assert_close(lin.bias.detach(), sol[5], rtol=0, atol=1e-7)


def test_underdetermined_one_step_interpolates_with_min_norm_step():
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(4, 5, dtype=D64, generator=g), torch.randn(4, 2, dtype=D64,
                                                                  generator=g)
    lin = torch.nn.Linear(5, 2).double()
    before = _flat(lin)
    J = batch_jacobian(lin(x), list(lin.parameters()))
    r = (lin(x) - y).detach().reshape(-1)
    ExactGaussNewton(lin.parameters(), damping=0.0).step(lambda: (lin(x), y))
    assert (lin(x) - y).abs().max().item() < 1e-12
    torch.testing.assert_close(_flat(lin) - before, -torch.linalg.pinv(J) @ r,
                               rtol=0, atol=1e-12)


def test_batch_jacobian_matches_torch_func():
    net, x, _ = _tiny()
    J = batch_jacobian(net(x), list(net.parameters()))
    w = {k: v.detach() for k, v in net.named_parameters()}
    per = vmap(jacrev(lambda w, xi: functional_call(net, w, (xi[None],))[0]),
               in_dims=(None, 0))(w, x)
    ref = torch.cat([per[k].reshape(6, 4, -1) for k in w], 2).reshape(24, -1)
    torch.testing.assert_close(J, ref, rtol=0, atol=1e-14)
    # a parameter the outputs do not use gets a zero column
    unused = torch.zeros(3, dtype=D64, requires_grad=True)
    J2 = batch_jacobian(net(x), list(net.parameters()) + [unused])
    assert J2.shape == (24, J.shape[1] + 3) and J2[:, -3:].abs().max() == 0


@pytest.mark.parametrize("loss", ["squared", "cross_entropy"])
def test_callable_loss_matches_builtin(loss):
    net, x, targets = _tiny()
    out = net(x).detach()
    if loss == "squared":
        def fn(f, y):
            return 0.5 * ((f - y) ** 2).sum()
    else:
        def fn(f, y):
            return -torch.log_softmax(f, 0).gather(0, y[None])[0]
    l1, r1, Q1 = output_derivatives(out, targets[loss], loss)
    l2, r2, Q2 = output_derivatives(out, targets[loss], fn)
    torch.testing.assert_close(l1, l2)
    torch.testing.assert_close(r1, r2)
    torch.testing.assert_close(torch.eye(4, dtype=D64).expand(6, 4, 4) if Q1 is None
                               else Q1, Q2)


@pytest.mark.parametrize("loss", ["squared", "cross_entropy"])
def test_step_is_minus_lr_times_direction(loss):
    net, x, targets = _tiny()
    y = targets[loss]
    J = batch_jacobian(net(x), list(net.parameters()))
    _, r, Q = output_derivatives(net(x).detach(), y, loss)
    expected = _flat(net) - 0.5 * _explicit(J, r, Q, 0.01)
    opt = ExactGaussNewton(net.parameters(), lr=0.5, damping=0.01, loss=loss)
    loss_before = output_derivatives(net(x).detach(), y, loss)[0].mean().item()
    returned = opt.step(lambda: (net(x), y))
    torch.testing.assert_close(_flat(net), expected, rtol=1e-9, atol=1e-12)
    assert returned.item() == pytest.approx(loss_before, rel=1e-12)
    assert opt.last == {"alpha": 1.0}


def test_step_returns_loss_before_the_step():
    net, x, targets = _tiny()
    y = targets["cross_entropy"]
    before = torch.nn.functional.cross_entropy(net(x), y).item()
    opt = ExactGaussNewton(net.parameters(), damping=0.1, loss="cross_entropy")
    loss = opt.step(lambda: (net(x), y))
    assert torch.is_tensor(loss) and loss.item() == pytest.approx(before, rel=1e-12)
    assert torch.nn.functional.cross_entropy(net(x), y).item() < before


def test_param_groups_lr_and_damping():
    net, x, targets = _tiny()
    y = targets["squared"]
    J = batch_jacobian(net(x), list(net.parameters()))
    _, r, _ = output_derivatives(net(x).detach(), y)
    first = sum(p.numel() for p in net[0].parameters())
    n = J.shape[1]
    damp = torch.cat([torch.full((first,), 0.1, dtype=D64),
                      torch.full((n - first,), 1.0, dtype=D64)])
    lrs = torch.cat([torch.full((first,), 1.0, dtype=D64),
                     torch.full((n - first,), 0.25, dtype=D64)])
    expected = _flat(net) - lrs * _explicit(J, r, None, damp)
    opt = ExactGaussNewton([{"params": net[0].parameters(), "damping": 0.1},
                            {"params": net[2].parameters(), "lr": 0.25}], damping=1.0)
    opt.step(lambda: (net(x), y))
    torch.testing.assert_close(_flat(net), expected, rtol=1e-9, atol=1e-12)
    with pytest.raises(ValueError, match="every damping > 0"):
        opt.param_groups[0]["damping"] = 0.0
        opt.step(lambda: (net(x), y))


def test_line_search_satisfies_armijo():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(),
                              torch.nn.Linear(8, 4)).double()
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(16, 3, dtype=D64, generator=g), torch.randint(0, 4, (16,),
                                                                      generator=g)
    plain = copy.deepcopy(net)
    J = batch_jacobian(net(x), list(net.parameters()))
    _, r, Q = output_derivatives(net(x).detach(), y, "cross_entropy")
    grad = J.T @ r.reshape(-1) / 16
    d = gauss_newton_direction(J, r, 1e-6, Q)
    opt = ExactGaussNewton(net.parameters(), damping=1e-6, loss="cross_entropy",
                           line_search=True, armijo=1e-4, shrink=0.5)
    before = opt.step(lambda: (net(x), y)).item()
    alpha = opt.last["alpha"]
    after = torch.nn.functional.cross_entropy(net(x), y).item()
    assert alpha < 1 and alpha in [0.5**k for k in range(11)]
    assert after <= before - 1e-4 * alpha * torch.dot(grad, d).item()
    # the full step (what the line search rejected) makes things worse
    ExactGaussNewton(plain.parameters(), damping=1e-6, loss="cross_entropy").step(
        lambda: (plain(x), y))
    assert torch.nn.functional.cross_entropy(plain(x), y).item() > after


def test_adaptive_damping_moves_lambda():
    # linear least squares: the model is exact, rho = 1, so lambda halves
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(8, 3, dtype=D64, generator=g), torch.randn(8, 1, dtype=D64,
                                                                  generator=g)
    lin = torch.nn.Linear(3, 1).double()
    opt = ExactGaussNewton(lin.parameters(), damping=1.0, adaptive_damping=True)
    opt.step(lambda: (lin(x), y))
    assert opt.last["rho"] == pytest.approx(1.0, abs=1e-9)
    assert opt.param_groups[0]["damping"] == 0.5
    # a step that increases the loss (a huge lr) doubles it, within the bounds
    opt = ExactGaussNewton(lin.parameters(), lr=50.0, damping=1.0,
                           adaptive_damping=True,
                           damping_bounds=(1e-3, 1.5))
    opt.step(lambda: (lin(x), y))
    assert opt.last["rho"] < 0.25 and opt.param_groups[0]["damping"] == 1.5


def test_state_dict_round_trip():
    """Adaptive damping lives in the param groups: save, load, continue = continue."""
    def batches():
        g = torch.Generator().manual_seed(3)
        for _ in range(12):
            i = torch.randint(0, 32, (8,), generator=g)
            yield _X[i], _Y[i]

    net_a, net_b = _net(), _net()
    kw = dict(damping=0.1, line_search=True, adaptive_damping=True)
    opt_a = ExactGaussNewton(net_a.parameters(), **kw)
    opt_b = ExactGaussNewton(net_b.parameters(), **kw)
    for k, (xb, yb) in enumerate(batches()):
        if k == 6:
            saved_net = copy.deepcopy(net_b.state_dict())
            saved_opt = opt_b.state_dict()
            net_b = _net()
            net_b.load_state_dict(saved_net)
            opt_b = ExactGaussNewton(net_b.parameters(), **{**kw, "damping": 5.0})
            opt_b.load_state_dict(saved_opt)
            assert opt_b.param_groups[0]["damping"] == opt_a.param_groups[0]["damping"]
        for net, opt in ((net_a, opt_a), (net_b, opt_b)):
            opt.step(lambda: (net(xb), yb))
    assert torch.equal(_flat(net_a), _flat(net_b))
    assert opt_a.param_groups[0]["damping"] != 0.1      # it did adapt


@pytest.mark.parametrize("solver", ["lu", "cholesky"])
def test_converges_on_nonlinear_least_squares(solver):
    # y = a * exp(b t) with known (a, b): Gauss-Newton finds them in a few steps
    t = torch.linspace(0, 1, 20, dtype=D64)
    y = 2.0 * torch.exp(-1.5 * t)
    theta = torch.tensor([1.0, 0.0], dtype=D64, requires_grad=True)
    opt = ExactGaussNewton([theta], damping=1e-3, line_search=True, solver=solver)
    for _ in range(20):
        opt.step(lambda: (theta[0] * torch.exp(theta[1] * t), y))
    torch.testing.assert_close(theta.detach(), torch.tensor([2.0, -1.5], dtype=D64),
                               rtol=0, atol=1e-8)


def test_float32_parameters_and_one_output():
    net = _net()
    x, y = _X, _Y[:, 0]                    # outputs (b,) and targets (b,)
    head = torch.nn.Linear(2, 1)
    opt = ExactGaussNewton(list(net.parameters()) + list(head.parameters()),
                           damping=1e-3, line_search=True)
    before = 0.5 * ((head(net(x))[:, 0] - y) ** 2).mean().item()
    for _ in range(5):
        opt.step(lambda: (head(net(x))[:, 0], y))
    after = 0.5 * ((head(net(x))[:, 0] - y) ** 2).mean().item()
    assert next(net.parameters()).dtype == torch.float32
    assert after < 0.5 * before


@pytest.mark.parametrize("kw, exc, match", [
    ({"lr": -1.0}, ValueError, "lr must be"),
    ({"lr": float("nan")}, ValueError, "lr must be"),
    ({"damping": -1e-3}, ValueError, "damping must be"),
    ({"damping": float("inf")}, ValueError, "damping must be"),
    ({"armijo": 0.0}, ValueError, "armijo must be a real number > 0, < 1"),
    ({"armijo": 1.0}, ValueError, "armijo must be"),
    ({"shrink": 1.0}, ValueError, "shrink must be"),
    ({"shrink": 0}, ValueError, "shrink"),
    ({"max_backtracks": -1}, ValueError, "max_backtracks must be an int >= 0"),
    ({"max_backtracks": 2.5}, TypeError, "max_backtracks must be an int, got 2.5"),
    ({"damping_bounds": (0.0, 1.0)}, ValueError, r"damping_bounds\[0\] must be"),
    ({"damping_bounds": (1.0, 0.5)}, ValueError, r"damping_bounds\[1\] must be"),
    ({"damping_bounds": 1.0}, TypeError, "damping_bounds must be a pair"),
    ({"solver": "qr"}, ValueError, "solver must be one of 'lu', 'cholesky'"),
    ({"loss": "hinge"}, ValueError, "loss must be"), ({"loss": 3}, ValueError, "loss")])
def test_invalid_hyperparameters(kw, exc, match):
    assert_refused(ExactGaussNewton, kw, match, exc)


def test_invalid_param_group_and_missing_closure():
    opt = ExactGaussNewton([torch.zeros(1, requires_grad=True)])
    with pytest.raises(ValueError, match="damping"):
        opt.add_param_group({"params": [torch.zeros(1, requires_grad=True)],
                             "damping": -1.0})
    with pytest.raises(RuntimeError, match="closure"):
        opt.step()


def test_bad_shapes():
    J, r = torch.zeros(6, 5, dtype=D64), torch.zeros(3, 2, dtype=D64)
    with pytest.raises(ValueError, match="J must have shape"):
        gauss_newton_direction(J[:5], r, 1.0)
    with pytest.raises(ValueError, match="Q must have shape"):
        gauss_newton_direction(J, r, 1.0, torch.zeros(3, 3, 3, dtype=D64))
    with pytest.raises(ValueError, match="r must have shape"):
        gauss_newton_direction(J, r.flatten(), 1.0)
    with pytest.raises(ValueError, match="damping vector"):
        gauss_newton_direction(J, r, torch.zeros(5, dtype=D64))
    with pytest.raises(ValueError, match="damping"):
        gauss_newton_direction(J, r, -1.0)
    with pytest.raises(ValueError, match="solver"):
        gauss_newton_direction(J, r, 1.0, solver="svd")
    with pytest.raises(ValueError, match="outputs must have shape"):
        output_derivatives(torch.zeros(3), torch.zeros(3))
    with pytest.raises(ValueError, match="do not match"):
        output_derivatives(torch.zeros(3, 2), torch.zeros(3, 1))
    with pytest.raises(ValueError, match="class targets"):
        output_derivatives(torch.zeros(3, 2), torch.zeros(3), "cross_entropy")
    with pytest.raises(ValueError, match="loss must be one of"):
        output_derivatives(torch.zeros(3, 2), torch.zeros(3, 2), "hinge")
