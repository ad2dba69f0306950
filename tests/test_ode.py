"""Tests for papers_lib.ode: ODE solvers and the adjoint method (nbs/ode/01_neural_ode)."""
import math

import pytest
import torch
from torch import nn

from papers_lib.ode import METHODS, NFECounter, odeint, odeint_adjoint

F64 = torch.float64
A = torch.tensor([[-0.1, 2.0], [-2.0, -0.1]], dtype=F64)  # damped rotation


def rotation(t, y):
    return y @ A.T


def exact_rotation(y0, t):
    return torch.stack([torch.linalg.matrix_exp(s * A) @ y0 for s in t])


class Field(nn.Module):
    def __init__(self, width=8):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(2, width), nn.Tanh(), nn.Linear(width, 2))

    def forward(self, t, y):
        return self.net(y) * torch.cos(t)


@pytest.mark.parametrize("method,options,tol", [
    ("euler", {"step_size": 1e-4}, 1e-4),
    ("rk4", {"step_size": 1e-2}, 1e-9),
    ("dopri5", None, 1e-7),
])
def test_exponential_decay(method, options, tol):
    t = torch.linspace(0, 2, 5, dtype=F64)
    y0 = torch.tensor([1.0, -3.0], dtype=F64)
    ys = odeint(lambda t, y: -0.7 * y, y0, t, method=method, options=options)
    assert ys.shape == (5, 2) and torch.equal(ys[0], y0)
    expected = y0 * torch.exp(-0.7 * t)[:, None]
    assert torch.allclose(ys, expected, rtol=0, atol=tol)


@pytest.mark.parametrize("method", METHODS)
def test_linear_system_matches_matrix_exp(method):
    t = torch.linspace(0, 5, 11, dtype=F64)
    y0 = torch.tensor([2.0, 0.0], dtype=F64)
    options = None if method == "dopri5" else {"step_size": 1e-4 if method == "euler" else 0.01}
    ys = odeint(rotation, y0, t, method=method, options=options)
    err = (ys - exact_rotation(y0, t)).abs().max().item()
    assert err < {"euler": 5e-3, "rk4": 1e-7, "dopri5": 1e-6}[method]


def test_time_dependent_field():
    # dy/dt = cos(t) y  =>  y(t) = y0 exp(sin t)
    t = torch.linspace(0, 3, 7, dtype=F64)
    ys = odeint(lambda s, y: torch.cos(s) * y, torch.ones(1, dtype=F64), t)
    assert torch.allclose(ys[:, 0], torch.exp(torch.sin(t)), atol=1e-7)


def test_rk4_order():
    y0 = torch.tensor([2.0, 0.0], dtype=F64)
    t = torch.tensor([0.0, 2.0], dtype=F64)
    exact = exact_rotation(y0, t)[-1]
    errs = [(odeint(rotation, y0, t, "rk4", options={"step_size": 2 / n})[-1] - exact).norm()
            for n in (20, 40, 80)]
    ratios = [(errs[i] / errs[i + 1]).item() for i in range(2)]
    assert all(abs(r - 16) < 1.0 for r in ratios), ratios


def test_euler_order():
    y0 = torch.ones(1, dtype=F64)
    t = torch.tensor([0.0, 1.0], dtype=F64)
    errs = [abs(odeint(lambda s, y: -y, y0, t, "euler", options={"step_size": 1 / n})[-1]
                - math.exp(-1)).item() for n in (200, 400)]
    assert abs(errs[0] / errs[1] - 2) < 0.05


@pytest.mark.parametrize("tol", [1e-4, 1e-6, 1e-8])
def test_dopri5_meets_tolerance_and_counts(tol):
    y0 = torch.tensor([2.0, 0.0], dtype=F64)
    t = torch.linspace(0, 3, 4, dtype=F64)
    f = NFECounter(rotation)
    ys = odeint(f, y0, t, rtol=tol, atol=tol)
    err = (ys - exact_rotation(y0, t)).abs().max().item()
    assert err < 10 * tol
    assert f.nfe > 0 and (f.nfe - 2) % 6 == 0  # initial step (2 evals) + 6 per step
    if tol == 1e-8:
        g = NFECounter(rotation)
        odeint(g, y0, t, rtol=1e-4, atol=1e-4)
        assert g.nfe < f.nfe  # tighter tolerance costs more evaluations


def test_dense_output_costs_no_evaluations():
    y0 = torch.tensor([2.0, 0.0], dtype=F64)
    few, many = NFECounter(rotation), NFECounter(rotation)
    odeint(few, y0, torch.tensor([0.0, 4.0], dtype=F64), rtol=1e-6, atol=1e-8)
    t = torch.linspace(0, 4, 401, dtype=F64)
    ys = odeint(many, y0, t, rtol=1e-6, atol=1e-8)
    assert many.nfe == few.nfe
    assert (ys - exact_rotation(y0, t)).abs().max() < 1e-5


@pytest.mark.parametrize("method", METHODS)
def test_decreasing_time(method):
    t = torch.linspace(0, 3, 7, dtype=F64)
    y0 = torch.tensor([2.0, 0.0], dtype=F64)
    exact = exact_rotation(y0, t)
    options = None if method == "dopri5" else {"step_size": 1e-4 if method == "euler" else 0.01}
    back = odeint(rotation, exact[-1], t.flip(0), method=method, options=options)
    assert torch.allclose(back, exact.flip(0), atol=5e-3 if method == "euler" else 1e-6)


def test_batched_state_and_float32():
    y0 = torch.randn(5, 3, 2)
    ys = odeint(lambda t, y: -y, y0, torch.tensor([0.0, 1.0]))
    assert ys.shape == (2, 5, 3, 2) and ys.dtype == torch.float32
    assert torch.allclose(ys[-1], y0 * math.exp(-1), atol=1e-5)


def test_single_time_returns_y0():
    y0 = torch.randn(3)
    for method in METHODS:
        ys = odeint(lambda t, y: y, y0, torch.tensor([0.5]), method=method)
        assert ys.shape == (1, 3) and torch.equal(ys[0], y0)


def test_backprop_through_solver_gradient():
    # y(1) = exp(a) y0  =>  dy(1)/da = exp(a) y0
    a = torch.tensor(0.3, dtype=F64, requires_grad=True)
    y0 = torch.tensor([1.5], dtype=F64)
    y1 = odeint(lambda t, y: a * y, y0, torch.tensor([0.0, 1.0], dtype=F64))[-1]
    (g,) = torch.autograd.grad(y1.sum(), a)
    assert abs(g.item() - math.exp(0.3) * 1.5) < 1e-6


def _loss(ys, target):
    return ((ys - target) ** 2).sum() + ys[1].sum()


def test_adjoint_matches_backprop():
    torch.manual_seed(0)
    f = Field().double()
    y0 = torch.randn(4, 2, dtype=F64, requires_grad=True)
    t = torch.tensor([0.0, 0.3, 1.0, 1.5], dtype=F64)
    target = torch.randn(4, 4, 2, dtype=F64)
    kw = dict(rtol=1e-10, atol=1e-10)
    g_bp = torch.autograd.grad(_loss(odeint(f, y0, t, **kw), target), [y0, *f.parameters()])
    ys = odeint_adjoint(f, y0, t, **kw)
    assert torch.allclose(ys, odeint(f, y0, t, **kw))
    g_adj = torch.autograd.grad(_loss(ys, target), [y0, *f.parameters()])
    for a, b in zip(g_adj, g_bp):
        assert torch.allclose(a, b, rtol=1e-6, atol=1e-8)


def test_adjoint_fixed_step_and_nfe_counter():
    torch.manual_seed(1)
    f = NFECounter(Field().double())
    y0 = torch.randn(3, 2, dtype=F64)
    t = torch.linspace(0, 1, 3, dtype=F64)
    opts = {"step_size": 0.01}
    loss = odeint_adjoint(f, y0, t, method="rk4", options=opts).square().sum()
    assert f.nfe == 4 * 100
    g_adj = torch.autograd.grad(loss, list(f.parameters()))
    assert f.nfe == 2 * 4 * 100  # the backward solve takes the same steps
    loss_bp = odeint(f, y0, t, method="rk4", options=opts).square().sum()
    g_bp = torch.autograd.grad(loss_bp, list(f.parameters()))
    for a, b in zip(g_adj, g_bp):  # continuous vs discrete gradient: O(h^4) apart
        assert torch.allclose(a, b, rtol=1e-6, atol=1e-8)


def test_adjoint_gradcheck_with_time_gradients():
    torch.manual_seed(2)
    W = torch.randn(2, 2, dtype=F64, requires_grad=True)
    y0 = torch.randn(2, dtype=F64, requires_grad=True)
    t = torch.tensor([0.0, 0.5, 1.0], dtype=F64, requires_grad=True)

    def solve(y0, t, W):
        return odeint_adjoint(lambda s, z: torch.tanh(W @ z) * torch.cos(s), y0, t,
                              method="rk4", options={"step_size": 0.01}, adjoint_params=(W,))

    assert torch.autograd.gradcheck(solve, (y0, t, W), atol=1e-6, rtol=1e-4, fast_mode=True)


def test_adjoint_time_gradient_closed_form():
    # y(t1) = exp(-(t1 - t0)) y0: dL/dt1 = -y(t1), dL/dt0 = +y(t1) for L = y(t1)
    t = torch.tensor([0.2, 1.0], dtype=F64, requires_grad=True)
    y0 = torch.tensor([2.0], dtype=F64)
    f = NFECounter(lambda s, y: -y)
    y1 = odeint_adjoint(f, y0, t, adjoint_params=())[-1]
    (gt,) = torch.autograd.grad(y1.sum(), t)
    v = 2.0 * math.exp(-0.8)
    assert torch.allclose(gt, torch.tensor([v, -v], dtype=F64), atol=1e-7)


def test_adjoint_saves_constant_memory():
    f = Field()
    y0, t = torch.randn(16, 2), torch.tensor([0.0, 1.0])

    def n_saved(solver, steps):
        n = [0]

        def pack(x):
            n[0] += 1
            return x
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda x: x):
            solver(f, y0, t, method="rk4", options={"step_size": 1 / steps})
        return n[0]

    assert n_saved(odeint_adjoint, 10) == n_saved(odeint_adjoint, 40) == 2
    assert n_saved(odeint, 40) > 3.5 * n_saved(odeint, 10) > 0


def test_nfe_counter():
    f = NFECounter(lambda t, y: y)
    odeint(f, torch.ones(1), torch.linspace(0, 1, 4), method="rk4")
    assert f.nfe == 12 and f.reset().nfe == 0
    with pytest.raises(TypeError, match="callable"):
        NFECounter(3)


@pytest.mark.parametrize("kwargs,exc,match", [
    (dict(t=torch.tensor([0.0, 2.0, 1.0])), ValueError, "strictly monotone"),
    (dict(t=torch.tensor([0.0, 0.0, 1.0])), ValueError, "strictly monotone"),
    (dict(t=torch.zeros(2, 2)), ValueError, "1-D"),
    (dict(t=torch.tensor(1.0)), ValueError, "1-D"),
    (dict(t=[0.0, 1.0]), TypeError, "t must be"),
    (dict(y0=[1.0, 2.0]), TypeError, "y0 must be a torch.Tensor"),
    (dict(y0=torch.tensor([1, 2])), TypeError, "floating-point"),
    (dict(func=lambda t, y: y[:1]), ValueError, "func returned shape"),
    (dict(func=lambda t, y: 1.0), TypeError, "must return a tensor"),
    (dict(func="f"), TypeError, "callable"),
    (dict(method="rk45"), ValueError,
     "method must be one of 'euler', 'rk4', 'dopri5', got 'rk45'"),
    (dict(rtol=0.0), ValueError, "rtol must be a real number > 0"),
    (dict(atol=-1e-9), ValueError, "atol must be a real number > 0"),
    (dict(options={"step_size": 0.1}), ValueError, "unknown options"),
    (dict(method="rk4", options={"step_size": 0.0}), ValueError,
     r"options\['step_size'\] must be a real number > 0"),
])
@pytest.mark.parametrize("solver", [odeint, odeint_adjoint])
def test_bad_input(solver, kwargs, exc, match):
    args = dict(func=Field(), y0=torch.ones(2), t=torch.tensor([0.0, 1.0]))
    args.update(kwargs)
    if solver is odeint_adjoint and not isinstance(args["func"], nn.Module):
        args["adjoint_params"] = ()
    with pytest.raises(exc, match=match):
        solver(**args)


def test_adjoint_needs_module_or_params():
    with pytest.raises(TypeError, match="nn.Module"):
        odeint_adjoint(lambda t, y: -y, torch.ones(2), torch.tensor([0.0, 1.0]))
    with pytest.raises(TypeError, match="sequence of tensors"):
        odeint_adjoint(lambda t, y: -y, torch.ones(2), torch.tensor([0.0, 1.0]),
                       adjoint_params=[1.0])


def test_max_steps():
    with pytest.raises(RuntimeError, match="max_steps"):
        odeint(rotation, torch.tensor([2.0, 0.0], dtype=F64), torch.tensor([0.0, 50.0]),
               options={"max_steps": 5})


def test_adjoint_decreasing_time_matches_backprop():
    torch.manual_seed(3)
    f = Field().double()
    y0 = torch.randn(3, 2, dtype=F64, requires_grad=True)
    t = torch.tensor([1.0, 0.6, 0.0], dtype=F64)
    kw = dict(rtol=1e-10, atol=1e-10)
    g_bp = torch.autograd.grad(odeint(f, y0, t, **kw).square().sum(), [y0, *f.parameters()])
    g_adj = torch.autograd.grad(odeint_adjoint(f, y0, t, **kw).square().sum(),
                                [y0, *f.parameters()])
    for a, b in zip(g_adj, g_bp):
        assert torch.allclose(a, b, rtol=1e-6, atol=1e-8)


def test_dopri5_never_evaluates_outside_the_interval():
    """A slow field makes the starting-step probe long: it must stay inside [t0, t1]."""
    seen = []

    def field(t, y):
        seen.append(float(t))
        return -1e-3 * y

    for t in (torch.tensor([0.0, 1.0]), torch.tensor([1.0, 0.5, 0.0])):
        seen.clear()
        y = odeint(field, torch.ones(3, dtype=torch.float64), t.double(), method="dopri5")
        assert min(seen) >= float(t.min()) and max(seen) <= float(t.max())
        expected = torch.exp(-1e-3 * (t[-1] - t[0])).double()
        torch.testing.assert_close(y[-1], expected.expand(3), rtol=1e-6, atol=0)


@pytest.mark.parametrize("method", METHODS)
def test_a_non_finite_field_stops_at_the_first_evaluation(method):
    """A NaN from the field would make dopri5 shrink its step until max_steps (60,002
    evaluations of an MLP field took 50 s): the solver stops at the first one."""
    nans = []

    def field(t, y):  # -y before t = 0.5, NaN from then on
        nans.append(bool(t >= 0.5))
        return torch.where(t < 0.5, -y, torch.full_like(y, math.nan))

    with pytest.raises(FloatingPointError, match=r"non-finite value at t=0\.5\d*: nan"):
        odeint(field, torch.ones(3), torch.tensor([0.0, 1.0]), method,
               options={"step_size": 0.25} if method != "dopri5" else None)
    assert sum(nans) == 1 and nans[-1]  # the first NaN ended the solve


def test_a_non_finite_start_is_refused():
    for bad in (math.nan, math.inf):
        with pytest.raises(ValueError, match=rf"y0 must be finite, got {bad} at index \(1,\)"):
            odeint(lambda t, y: -y, torch.tensor([1.0, bad]), torch.tensor([0.0, 1.0]))


@pytest.mark.parametrize("key, value", [
    ("safety", 1.5), ("safety", 0.0), ("dfactor", 1.0), ("ifactor", 0.5),
    ("ifactor", math.nan), ("max_steps", 0), ("max_steps", 2.5)])
def test_adaptive_options_are_checked(key, value):
    with pytest.raises((ValueError, TypeError), match=rf"options\['{key}'\] must be"):
        odeint(lambda t, y: -y, torch.ones(2), torch.tensor([0.0, 1.0]),
               options={key: value})


@pytest.mark.parametrize("method", ["euler", "rk4"])
def test_a_fixed_grid_too_fine_is_refused_before_the_first_step(method):
    """step_size=1e-9 on [0, 1] looped for about 1e9 steps."""
    calls = []

    def field(t, y):
        calls.append(t)
        return -y

    with pytest.raises(ValueError, match=r"needs 1000000000 steps, more than max_steps=100000"):
        odeint(field, torch.ones(2), torch.tensor([0.0, 1.0]), method,
               options={"step_size": 1e-9})
    assert calls == []
    ys = odeint(field, torch.ones(2), torch.tensor([0.0, 1.0]), method,
                options={"step_size": 0.25, "max_steps": 4})
    assert ys.shape == (2, 2)
