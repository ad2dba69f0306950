"""papers_lib.optim.base: the hyperparameter checks, tensor grouping, BaseOptimizer and
the Adam core AdamBase."""
import math

import pytest
import torch

from papers_lib.optim.base import (AdamBase, BaseOptimizer, as_real, check_adam_hparams,
                                   check_betas, check_foreach, check_lr, group_tensors)
from tests.optim_helpers import assert_paths_equal, flat_params, train


@pytest.mark.parametrize("value, kw, ok", [
    (0.0, {}, True), (-1e-12, {}, False), (math.inf, {}, False), (math.nan, {}, False),
    (0.0, dict(positive=True), False), (1e-12, dict(positive=True), True),
    (2, {}, True)])
def test_check_lr_bounds(value, kw, ok):
    if ok:
        assert check_lr(value, **kw) == value
    else:
        with pytest.raises(ValueError, match="lr must be a (finite )?real number"):
            check_lr(value, **kw)


def test_named_checks_messages():
    with pytest.raises(ValueError, match=r"lr must be a (finite )?real number >= 0.*, got -1$"):
        check_lr(-1)
    check_lr(0.0)
    with pytest.raises(ValueError, match="lr must be a (finite )?real number > 0.*, got 0.0"):
        check_lr(0.0, positive=True)
    with pytest.raises(TypeError, match="lr must be a real number, got True"):
        check_lr(True)
    with pytest.raises(TypeError,
                       match="betas must be a tuple of 2 decay rates, got 0.9"):
        check_betas(0.9)
    with pytest.raises(ValueError, match="betas must be a tuple of 2 decay rates"):
        check_betas((0.9, 0.99, 0.999))
    assert check_betas([0.0, 0.5, 0.9999], n=3) == (0.0, 0.5, 0.9999)
    with pytest.raises(ValueError, match=r"betas\[2\] must be a (finite )?real number >= 0, < 1"):
        check_betas((0.9, 0.99, 1.0), n=3)
    for bad in (1, 0, "yes"):
        with pytest.raises(ValueError, match="foreach must be one of None, True, Fals"):
            check_foreach(bad)
    for good in (None, True, False):
        assert check_foreach(good) is good


@pytest.mark.parametrize("bad, exc, match", [
    (dict(lr=-1.0), ValueError, "lr must be"),
    (dict(betas=(0.9, 1.0)), ValueError, r"betas\[1\]"),
    (dict(eps=float("nan")), ValueError, "eps must be a (finite )?real number >= 0.*, got nan"),
    (dict(eps=float("inf")), ValueError, "eps must be a (finite )?real number >= 0.*, got inf"),
    (dict(weight_decay=-0.1), ValueError, "weight_decay must be"),
    (dict(weight_decay="0"), TypeError, "weight_decay must be a real number, got '0'")])
def test_check_adam_hparams_checks_each_hyperparameter(bad, exc, match):
    good = dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    check_adam_hparams(good)
    with pytest.raises(exc, match=match):
        check_adam_hparams({**good, **bad})
    with pytest.raises(ValueError, match="betas must be a tuple of 3"):
        check_adam_hparams(good, n_betas=3)


class _AdamW(AdamBase):
    decoupled_weight_decay = True


def _train(make_opt):
    net, opt = train(make_opt)
    return flat_params(net), opt


@pytest.mark.parametrize("foreach", [False, True])
@pytest.mark.parametrize("kw", [{}, {"weight_decay": 0.1}, {"maximize": True},
                                {"weight_decay": 0.1, "maximize": True},
                                {"betas": (0.5, 0.9), "eps": 1e-3}], ids=str)
def test_adam_core_is_torch_adam_and_adamw(foreach, kw):
    hp = dict(lr=1e-2, foreach=foreach, **kw)
    ours, opt = _train(lambda p: AdamBase(p, **hp))
    assert torch.equal(ours, _train(lambda p: torch.optim.Adam(p, **hp))[0])
    decoupled, _ = _train(lambda p: _AdamW(p, **hp))
    adamw = _train(lambda p: torch.optim.AdamW(p, **{"weight_decay": 0.0, **hp}))[0]
    assert torch.equal(decoupled, adamw)
    for state in opt.state.values():
        assert set(state) == {"step", "exp_avg", "exp_avg_sq"}
    with pytest.raises(TypeError, match=r"unexpected keyword arguments \['weight_dac"):
        AdamBase([torch.zeros(1, requires_grad=True)], weight_dacay=0.1)


def test_adam_core_paths_agree_and_hooks_see_the_extra_state():
    assert_paths_equal(lambda p, **kw: AdamBase(p, lr=1e-2, weight_decay=0.1, **kw),
                       ("exp_avg", "exp_avg_sq", "step"))
    seen = []

    class _Spy(AdamBase):
        state_keys = AdamBase.state_keys + ("extra",)

        def _direction(self, group, t, g, m, v, extra):
            seen.append((t, extra.shape))
            return m, v

    w = torch.zeros(3, requires_grad=True)
    opt = _Spy([w], foreach=False)
    for _ in range(2):
        w.grad = torch.ones(3)
        opt.step()
    assert seen == [(1.0, (3,)), (2.0, (3,))]


def test_group_tensors_keeps_rows_together():
    a = [torch.full((2,), float(i), dtype=d)
         for i, d in enumerate([torch.float32, torch.float64, torch.float32, torch.float64])]
    b = [x + 100 for x in a]
    groups = group_tensors(a, b)
    assert len(groups) == 2
    seen = 0
    for xs, ys in groups:
        assert len({x.dtype for x in xs}) == 1
        for x, y in zip(xs, ys):
            assert torch.equal(y, x + 100)  # the pairing survives the split
            seen += 1
    assert seen == 4
    one = group_tensors(a[:1], b[:1])
    assert len(one) == 1 and one[0][0][0] is a[0]  # no copies in the common case


def test_as_real_views_complex_only():
    z = torch.zeros(3, dtype=torch.complex64)
    x = torch.zeros(3)
    rz, rx = as_real([z, x])
    assert rz.shape == (3, 2) and rx is x
    rz.add_(1.0)
    assert torch.equal(z, torch.full((3,), 1 + 1j, dtype=torch.complex64))  # a view


class _Scaled(BaseOptimizer):
    """x <- x - lr * g, with a counter and a buffer holding the last gradient."""
    state_keys = ("last_grad",)
    count_steps = True
    supports_complex = False

    def __init__(self, params, lr=0.1, foreach=None):
        super().__init__(params, dict(lr=lr, foreach=foreach))

    def _check(self, group):
        check_lr(group["lr"], positive=True)

    def _update(self, group, params, grads, last, steps):
        for p, g, b, t in zip(params, grads, last, steps):
            t += 1
            b.copy_(g)
            p.add_(g, alpha=-group["lr"])


def test_base_optimizer_protocol():
    w1 = torch.ones(2, requires_grad=True)
    w2 = torch.ones(3, requires_grad=True)
    opt = _Scaled([w1, w2], lr=0.5)
    calls = []

    def closure():
        calls.append(1)
        opt.zero_grad()
        loss = (w1**2).sum()  # w2 gets no gradient
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert calls == [1] and loss.item() == 2.0
    assert torch.equal(w1.detach(), torch.zeros(2))        # 1 - 0.5 * 2
    assert torch.equal(w2.detach(), torch.ones(3))         # untouched
    assert w2 not in opt.state                             # state is lazy
    assert opt.state[w1]["step"].item() == 1.0
    assert opt.state[w1]["step"].dtype == torch.float32
    assert torch.equal(opt.state[w1]["last_grad"], torch.full((2,), 2.0))


def test_base_optimizer_refuses_bad_input():
    w = torch.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match="lr must be"):
        _Scaled([w], lr=0.0)
    with pytest.raises(ValueError, match="foreach"):
        _Scaled([w], foreach="no")
    opt = _Scaled([w])
    with pytest.raises(ValueError, match="lr must be"):
        opt.add_param_group({"params": [torch.ones(1, requires_grad=True)], "lr": -1.0})
    with pytest.raises(ValueError, match="foreach"):
        opt.add_param_group({"params": [torch.ones(1, requires_grad=True)], "foreach": 2})
    assert len(opt.param_groups) == 1
    z = torch.zeros(2, dtype=torch.complex64, requires_grad=True)
    z.grad = torch.ones(2, dtype=torch.complex64)
    with pytest.raises(TypeError, match="_Scaled does not support complex"):
        _Scaled([z]).step()
    emb = torch.nn.Embedding(5, 2, sparse=True)
    emb(torch.tensor([1])).sum().backward()
    with pytest.raises(RuntimeError, match="_Scaled does not support sparse"):
        _Scaled(emb.parameters()).step()


def test_update_must_be_defined():
    class Nothing(BaseOptimizer):
        pass

    w = torch.ones(1, requires_grad=True)
    w.grad = torch.ones(1)
    with pytest.raises(NotImplementedError, match="Nothing must define _update"):
        Nothing([w], {"lr": 0.1}).step()


def test_state_dict_round_trip_continues_identically():
    torch.manual_seed(0)
    w = torch.randn(4, requires_grad=True)
    opt = _Scaled([w], lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        (w**3).sum().backward()
        opt.step()
    w2 = w.detach().clone().requires_grad_()
    opt2 = _Scaled([w2], lr=0.1)
    opt2.load_state_dict(opt.state_dict())
    assert opt2.state[w2]["step"].item() == 3.0
    assert torch.equal(opt2.state[w2]["last_grad"], opt.state[w]["last_grad"])


@pytest.mark.parametrize("name", ["AMSGrad", "Lion", "DiffGrad", "AdEMAMix", "Grams",
                                  "CautiousAdam", "OptimisticAMSGrad", "DoG", "LDoG"])
def test_step_compiles_and_matches_eager(name):
    """`torch.compile(opt.step)` traces (dynamo treats a method named `_init_group`
    specially: BaseOptimizer's gatherer must not use that name) and takes the eager
    steps, up to float rounding (the step count turns symbolic after a recompile)."""
    import torch._dynamo

    import papers_lib.optim as optim
    cls = getattr(optim, name)
    torch.manual_seed(0)
    eager = [torch.randn(4, 3, requires_grad=True), torch.randn(3, requires_grad=True)]
    compiled = [p.detach().clone().requires_grad_() for p in eager]
    kw = {} if name in ("DoG", "LDoG") else {"lr": 1e-2}
    opt, opt_c = cls(eager, **kw), cls(compiled, **kw)
    torch._dynamo.reset()
    step = torch.compile(opt_c.step, backend="eager")  # tracing, not code generation
    for _ in range(3):
        for p, q in zip(eager, compiled):
            p.grad = torch.randn_like(p)
            q.grad = p.grad.clone()
        opt.step()
        step()
    for p, q in zip(eager, compiled):
        torch.testing.assert_close(q, p)
