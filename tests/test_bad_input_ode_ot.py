"""Bad input to the ODE solvers (`papers_lib.ode.solvers`) and to the minibatch OT couplings
(`papers_lib.flows.multisample`): every public name refuses an invalid argument with a
message naming it, refuses non-finite data, and never loops without bound."""
import math

import torch
from torch import nn

from papers_lib.flows import multisample as M
from papers_lib.flows.base import ConstantField
from papers_lib.ode import solvers as S
from tests.bad_input import Case, check, parametrize

NAN, INF = math.nan, math.inf
Y0, T = torch.ones(2), torch.tensor([0.0, 1.0])
X0 = torch.randn(6, 2, generator=torch.Generator().manual_seed(0))
X1 = X0 + 1


def _decay(t, y):
    return -y


class _Field(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Parameter(torch.tensor(-1.0))

    def forward(self, t, y):
        return self.a * y


def _nan_at(x, i=0):
    x = x.clone()
    x.view(-1)[i] = NAN
    return x


def _ode(name, call, error, match, label=""):
    return Case(f"papers_lib.ode.solvers.{name}", call, error, match, label)


def _both(call, error, match, label=""):
    """The same bad call of `odeint` and `odeint_adjoint` (same validation)."""
    return [_ode("odeint", lambda: call(S.odeint, _decay), error, match, label),
            _ode("odeint_adjoint", lambda: call(S.odeint_adjoint, _Field()), error,
                 match, label)]


def _ot(name, call, error, match, label=""):
    return Case(f"papers_lib.flows.multisample.{name}", call, error, match, label)


CASES = [
    _ode("NFECounter", lambda: S.NFECounter("f"), TypeError, r"func must be callable"),
    _ode("NFECounter", lambda: S.NFECounter(None), TypeError, r"func must be callable",
         "None"),
    *_both(lambda s, f: s(f, Y0, torch.tensor([0.0, INF])), ValueError,
           r"t must be finite, got inf", "t inf"),
    *_both(lambda s, f: s(f, Y0, torch.tensor([0.0, NAN])), ValueError,
           r"t must be finite, got nan", "t nan"),
    *_both(lambda s, f: s(f, Y0, torch.tensor([False, True])), TypeError,
           r"t must be a real tensor, got dtype torch.bool"),
    *_both(lambda s, f: s(f, Y0, torch.tensor([0.0, 2.0, 1.0])), ValueError,
           r"t must be strictly monotone"),
    *_both(lambda s, f: s(f, Y0, torch.zeros(0)), ValueError,
           r"t must be a non-empty 1-D tensor, got shape \(0,\)"),
    *_both(lambda s, f: s(f, torch.tensor([1.0, NAN]), T), ValueError,
           r"y0 must be finite, got nan at index \(1,\)"),
    *_both(lambda s, f: s(f, [1.0, 2.0], T), TypeError, r"y0 must be a torch.Tensor"),
    *_both(lambda s, f: s(f, torch.tensor([1, 2]), T), TypeError,
           r"y0 must be a floating-point tensor"),
    *_both(lambda s, f: s(f, Y0, T, method="rk45"), ValueError,
           r"method must be one of 'euler', 'rk4', 'dopri5', got 'rk45'"),
    *_both(lambda s, f: s(f, Y0, T, rtol=INF), ValueError,
           r"rtol must be a finite real number > 0, got inf"),
    *_both(lambda s, f: s(f, Y0, T, atol=NAN), ValueError,
           r"atol must be a real number > 0, got nan"),
    *_both(lambda s, f: s(f, Y0, T, rtol="1e-6"), TypeError,
           r"rtol must be a real number, got '1e-6'"),
    *_both(lambda s, f: s(f, Y0, T, options=[("step_size", 0.1)]), TypeError,
           r"options must be a dict or None, got list"),
    *_both(lambda s, f: s(f, Y0, T, method="rk4", options={"step_size": INF}),
           ValueError, r"options\['step_size'\] must be a finite real number > 0, got inf"),
    *_both(lambda s, f: s(f, Y0, T, options={"first_step": -1.0}), ValueError,
           r"options\['first_step'\] must be a real number > 0, got -1.0"),
    *_both(lambda s, f: s(f, Y0, T, options={"safety": 1.5}), ValueError,
           r"options\['safety'\] must be a .*< 1, got 1.5"),
    *_both(lambda s, f: s(f, Y0, T, options={"max_steps": 2.5}), TypeError,
           r"options\['max_steps'\] must be an int, got 2.5"),
    *_both(lambda s, f: s(f, Y0, T, method="rk4", options={"step_size": 1e-9}),
           ValueError, r"step_size=1e-09 needs 1000000000 steps, more than max_steps"),
    _ode("odeint", lambda: S.odeint(lambda t, y: y.log() - 1, -Y0, T),
         FloatingPointError, r"func\(t, y\) returned a non-finite value at t=0: nan"),
    _ode("odeint", lambda: S.odeint(lambda t, y: y ** 2, Y0, torch.tensor([0.0, 2.0])),
         (FloatingPointError, RuntimeError),
         r"non-finite value|max_steps|underflow", "blow-up stops"),
    _ode("odeint", lambda: S.odeint("f", Y0, T), TypeError, r"func must be callable"),
    _ode("odeint", lambda: S.odeint(lambda t, y: y[:1], Y0, T), ValueError,
         r"func returned shape \(1,\), but y0 has shape \(2,\)"),
    _ode("odeint_adjoint", lambda: S.odeint_adjoint(_decay, Y0, T), TypeError,
         r"odeint_adjoint needs func to be an nn.Module.*adjoint_params"),
    _ode("odeint_adjoint", lambda: S.odeint_adjoint(_decay, Y0, T,
                                                    adjoint_params=torch.ones(3)),
         TypeError, r"adjoint_params must be a sequence of tensors, got Tensor"),
    _ode("odeint_adjoint", lambda: S.odeint_adjoint(_decay, Y0, T, adjoint_params=3),
         TypeError, r"adjoint_params must be a sequence of tensors, got int"),
    _ode("odeint_adjoint", lambda: S.odeint_adjoint(_decay, Y0, T,
                                                    adjoint_params=[1.0]),
         TypeError, r"adjoint_params must be a sequence of tensors, got a float"),
    # the minibatch OT couplings
    _ot("ot_assignment", lambda: M.ot_assignment(_nan_at(X0, 3), X1), ValueError,
        r"x0 must be finite, got nan at index \(1, 1\)"),
    _ot("ot_assignment", lambda: M.ot_assignment(X0, X1[:5]), ValueError,
        r"x0 and x1 must have the same shape \(n, \.\.\.\)"),
    _ot("ot_assignment", lambda: M.ot_assignment(X0[:0], X1[:0]), ValueError,
        r"the number of rows of x0 and x1 must be an int >= 1, got 0"),
    _ot("ot_assignment", lambda: M.ot_assignment(X0.tolist(), X1), TypeError,
        r"x0 must be a torch.Tensor"),
    _ot("minibatch_ot_coupling",
        lambda: M.minibatch_ot_coupling(X0, X1.masked_fill(X1 > 1, INF)), ValueError,
        r"x1 must be finite, got inf"),
    _ot("minibatch_ot_coupling", lambda: M.minibatch_ot_coupling(X0[0], X1[0]),
        ValueError, r"x0 and x1 must have the same shape \(n, \.\.\.\)"),
    _ot("sinkhorn_plan", lambda: M.sinkhorn_plan(X0, X1, eps=0.0), ValueError,
        r"eps must be a .*> 0.*, got 0.0"),
    _ot("sinkhorn_plan", lambda: M.sinkhorn_plan(X0, X1, eps=INF), ValueError,
        r"eps must be a .*> 0.*, got inf"),
    _ot("sinkhorn_plan", lambda: M.sinkhorn_plan(X0, X1, eps=1e-320), ValueError,
        r"eps must be large enough that C / eps is finite, got 1e-320"),
    _ot("sinkhorn_plan", lambda: M.sinkhorn_plan(X0, X1, iters=0), ValueError,
        r"iters must be an int >= 1, got 0"),
    _ot("sinkhorn_plan", lambda: M.sinkhorn_plan(_nan_at(X0), X1), ValueError,
        r"x0 must be finite, got nan"),
    _ot("sinkhorn_coupling", lambda: M.sinkhorn_coupling(X0, X1, generator=0),
        TypeError, r"generator must be a torch.Generator or None, got int"),
    _ot("sinkhorn_coupling", lambda: M.sinkhorn_coupling(X0, X1, eps=NAN), ValueError,
        r"eps must be a .*, got nan"),
    _ot("gradient_variance",
        lambda: M.gradient_variance(lambda t, x: x, X0, X1, M.minibatch_ot_coupling),
        TypeError, r"net must be an nn.Module, got function"),
    _ot("gradient_variance",
        lambda: M.gradient_variance(ConstantField(2), X0, X1, "ot"), TypeError,
        r"coupling must be callable"),
    _ot("gradient_variance",
        lambda: M.gradient_variance(ConstantField(2), X0, X1, M.minibatch_ot_coupling,
                                    n_batches=1), ValueError,
        r"n_batches must be an int >= 2, got 1"),
    _ot("gradient_variance",
        lambda: M.gradient_variance(ConstantField(2), X0, X1, M.minibatch_ot_coupling,
                                    batch_size=0), ValueError,
        r"batch_size must be an int >= 1, got 0"),
    _ot("gradient_variance",
        lambda: M.gradient_variance(ConstantField(2), _nan_at(X0), X1,
                                    M.minibatch_ot_coupling), ValueError,
        r"x0 must be finite, got nan"),
    _ot("gradient_variance",
        lambda: M.gradient_variance(ConstantField(2), X0, X1, M.minibatch_ot_coupling,
                                    generator=1), TypeError,
        r"generator must be a torch.Generator or None, got int"),
]
EXEMPT: dict[str, str] = {}


@parametrize(CASES)
def test_bad_input(case):
    check(case)
