"""Every optimizer of papers_lib.optim under `torch.compile`.

The elementwise optimizers (the Adam family, Lion) and DoG / L-DoG compile with no graph
break: their step counters and a tensor `lr` are read with `base.scalar_value`, torch's
`_get_value` pattern (a Python float in eager mode, the tensor itself while compiling), and
the bias corrections are then computed on tensors, as in torch's compiled Adam. The eager
path is unchanged (AMSGrad stays bitwise `torch.optim.Adam(amsgrad=True)`,
tests/test_optim.py).

Compiled and eager steps agree to float32 rounding, not bit for bit: compiled, the bias
corrections 1 - beta^t are computed in float32 from the float32 step counter (eager: in
float64 by Python), and dynamo rewrites `addcdiv_(..., value=s)` and `add_(..., alpha=s)`
as a fused multiply-add (one rounding instead of two). Hence rtol=1e-5 over a few steps
(differences seen: a few float32 ulps).

The others break graphs where their arithmetic is data-dependent or leaves the tensor
world, and still take the eager steps exactly (checked below with backend="eager"):
UDoG and ExactGaussNewton call their closure (a backward pass, `torch.autograd.grad`)
inside `step`, as torch's LBFGS does; MKOR branches on its stabilizer threshold
(`stabilize_inverse`) and on `step % inv_freq`; KFAC also computes its damping split from
the factors' traces in Python.

Backends: "eager" (tracing only, fast) for the matching tests, inductor (code generation,
seconds per optimizer) in one test.
"""
import pytest
import torch
import torch._dynamo
from torch._dynamo.utils import counters

import papers_lib.optim as optim

ELEMENTWISE = ["AMSGrad", "Lion", "DiffGrad", "AdEMAMix", "Grams", "CautiousAdam",
               "OptimisticAMSGrad", "DoG", "LDoG"]
KWARGS = {"DoG": {}, "LDoG": {}, "Lion": {"lr": 1e-3, "weight_decay": 0.1}}
RTOL, ATOL = 1e-5, 1e-7     # float32 rounding: see the module docstring


def _kwargs(name, **extra):
    return {**KWARGS.get(name, {"lr": 1e-2, "weight_decay": 0.01}), **extra}


def _params(seed=0, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(4, 3, generator=g, dtype=dtype).requires_grad_(),
            torch.randn(3, generator=g, dtype=dtype).requires_grad_(),
            torch.randn(2, 2, 2, generator=g, dtype=dtype).requires_grad_()]


def _grads(params, k):
    g = torch.Generator().manual_seed(100 + k)
    return [torch.randn(p.shape, generator=g, dtype=p.dtype) for p in params]


def _run(opt, params, step, steps=4):
    for k in range(steps):
        for p, g in zip(params, _grads(params, k)):
            p.grad = g
        step()
    return [p.detach().clone() for p in params]


def _close(a, b):
    for x, y in zip(a, b):
        torch.testing.assert_close(x, y, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("foreach", [None, False], ids=["foreach", "loop"])
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_compiled_step_has_no_graph_break_and_matches_eager(name, foreach):
    cls = getattr(optim, name)
    eager = _params()
    expected = _run(None, eager, cls(eager, foreach=foreach, **_kwargs(name)).step)
    params = _params()
    opt = cls(params, foreach=foreach, **_kwargs(name))
    torch._dynamo.reset()
    counters.clear()
    got = _run(opt, params, torch.compile(opt.step, backend="eager"))
    assert sum(counters["graph_break"].values()) == 0, dict(counters["graph_break"])
    # one graph for the step that creates the state, one for the later steps: no
    # recompilation as the step counter grows
    assert counters["stats"]["unique_graphs"] <= 2
    _close(got, expected)


@pytest.mark.parametrize("foreach", [None, False], ids=["foreach", "loop"])
def test_ademamix_warmups_compile_without_graph_breaks(foreach):
    """The schedules of alpha and beta3 branch on the step in eager mode; on a tensor
    step they select with torch.where instead."""
    kw = dict(lr=1e-2, alpha=2.0, alpha_warmup=3, beta3_warmup=3, foreach=foreach)
    eager = _params()
    expected = _run(None, eager, optim.AdEMAMix(eager, **kw).step, steps=5)
    params = _params()
    opt = optim.AdEMAMix(params, **kw)
    torch._dynamo.reset()
    counters.clear()
    got = _run(opt, params, torch.compile(opt.step, backend="eager"), steps=5)
    assert sum(counters["graph_break"].values()) == 0, dict(counters["graph_break"])
    _close(got, expected)


def _net():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(),
                               torch.nn.Linear(4, 2))


@pytest.mark.parametrize("name", ["UDoG", "MKOR", "KFAC", "ExactGaussNewton"])
def test_other_optimizers_compile_and_take_the_eager_steps(name):
    """Graph breaks allowed (see the module docstring); the iterates are the eager ones
    exactly, since with backend="eager" every captured op runs as in eager mode."""
    X = torch.randn(8, 3, generator=torch.Generator().manual_seed(1))
    Y = torch.randn(8, 2, generator=torch.Generator().manual_seed(2))
    make = {"UDoG": lambda n: optim.UDoG(n.parameters()),
            "MKOR": lambda n: optim.MKOR(n),
            "KFAC": lambda n: optim.KFAC(n, inv_freq=1),
            "ExactGaussNewton": lambda n: optim.ExactGaussNewton(n.parameters())}[name]

    def train(compiled):
        net = _net()
        opt = make(net)
        step = torch.compile(opt.step, backend="eager") if compiled else opt.step
        for _ in range(2):
            if name == "ExactGaussNewton":
                step(lambda: (net(X), Y))
            elif name == "UDoG":
                def closure():
                    opt.zero_grad()
                    loss = ((net(X) - Y) ** 2).mean()
                    loss.backward()
                    return loss
                step(closure)
            else:
                opt.zero_grad()
                ((net(X) - Y) ** 2).mean().backward()
                step()
        return [p.detach().clone() for p in net.parameters()]

    expected = train(False)
    torch._dynamo.reset()
    for a, b in zip(train(True), expected):
        assert torch.equal(a, b)


def test_compiled_training_step_with_inductor():
    """torch's recipe: eager forward and backward, the optimizer step compiled (inductor
    generating the fused kernel), on a small network. One optimizer: inductor takes
    seconds per optimizer to compile."""
    X = torch.randn(16, 3, generator=torch.Generator().manual_seed(1))
    Y = torch.randn(16, 2, generator=torch.Generator().manual_seed(2))
    for name in ("AMSGrad",):
        def train(compiled):
            net = _net()
            opt = getattr(optim, name)(net.parameters(), **_kwargs(name))
            step = torch.compile(opt.step) if compiled else opt.step
            losses = []
            for _ in range(4):
                opt.zero_grad()
                loss = ((net(X) - Y) ** 2).mean()
                loss.backward()
                step()
                losses.append(loss.item())
            return losses, [p.detach().clone() for p in net.parameters()]

        (l_eager, p_eager) = train(False)
        torch._dynamo.reset()
        counters.clear()
        l_comp, p_comp = train(True)
        assert sum(counters["graph_break"].values()) == 0
        torch.testing.assert_close(l_comp, l_eager, rtol=RTOL, atol=ATOL)
        _close(p_comp, p_eager)


# -- a tensor learning rate, as torch.optim takes it -------------------------------

ALL_LR = ELEMENTWISE + ["UDoG", "MKOR", "KFAC", "ExactGaussNewton"]


@pytest.mark.parametrize("foreach", [None, False], ids=["foreach", "loop"])
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_tensor_lr_gives_the_float_lr_iterates(name, foreach):
    """lr=torch.tensor(x) takes the steps of lr=x bit for bit (x = 2^-7 is exact in
    float32), and an lr changed in place applies from the next step."""
    cls = getattr(optim, name)
    lr = 2.0 ** -7
    a, b = _params(), _params()
    opt_a = cls(a, foreach=foreach, **_kwargs(name, lr=lr))
    lr_t = torch.tensor(lr)
    opt_b = cls(b, foreach=foreach, **_kwargs(name, lr=lr_t))
    for x, y in zip(_run(opt_a, a, opt_a.step), _run(opt_b, b, opt_b.step)):
        assert torch.equal(x, y)
    for group in opt_a.param_groups:
        group["lr"] = lr / 2
    lr_t.fill_(lr / 2)                  # the group holds this very tensor
    assert opt_b.param_groups[0]["lr"] is lr_t
    for x, y in zip(_run(opt_a, a, opt_a.step, 2), _run(opt_b, b, opt_b.step, 2)):
        assert torch.equal(x, y)


@pytest.mark.parametrize("name", ["AMSGrad", "Lion", "DoG"])
def test_compiled_step_with_a_tensor_lr_needs_no_recompilation(name):
    """Compiled, a tensor lr is read inside the graph: changing it in place recompiles
    nothing, and the steps follow the new value."""
    cls = getattr(optim, name)
    lr = 2.0 ** -7
    eager = _params()
    opt_e = cls(eager, **_kwargs(name, lr=lr))
    params = _params()
    lr_t = torch.tensor(lr)
    opt = cls(params, **_kwargs(name, lr=lr_t))
    torch._dynamo.reset()
    counters.clear()
    step = torch.compile(opt.step, backend="eager")
    _close(_run(opt, params, step, 3), _run(opt_e, eager, opt_e.step, 3))
    graphs = counters["stats"]["unique_graphs"]
    lr_t.fill_(lr / 4)
    opt_e.param_groups[0]["lr"] = lr / 4
    _close(_run(opt, params, step, 2), _run(opt_e, eager, opt_e.step, 2))
    assert counters["stats"]["unique_graphs"] == graphs
    assert sum(counters["graph_break"].values()) == 0


@pytest.mark.parametrize("name", ALL_LR)
@pytest.mark.parametrize("lr, error, match", [
    (torch.tensor([1e-3, 1e-3]), ValueError, r"lr must be .* one element, got .*\(2,\)"),
    (torch.tensor(-1e-3), ValueError, r"lr must be a (finite )?real number >= 0|lr must be a real "
                                      r"number > 0"),
    (torch.tensor(float("nan")), ValueError, r"lr must be a real number .*, got nan"),
    (torch.tensor(1), TypeError, r"lr must be a floating-point tensor, got torch.int64"),
], ids=["two-elements", "negative", "nan", "integer"])
def test_bad_tensor_lr_is_refused(name, lr, error, match):
    cls = getattr(optim, name)
    with pytest.raises(error, match=match):
        if name in ("MKOR", "KFAC"):
            cls(_net(), lr=lr)
        else:
            cls(_params(), lr=lr)
