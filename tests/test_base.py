"""papers_lib.optim.base: the hyperparameter checks, tensor grouping and BaseOptimizer."""
import math

import pytest
import torch

from papers_lib.optim.base import (BaseOptimizer, as_real, check_adam_hparams,
                                   check_betas, check_foreach,
                                   check_lr, check_nonnegative, check_range,
                                   group_tensors, is_real)


@pytest.mark.parametrize("x, ok", [(1, True), (0.5, True), (float("nan"), True),
                                   (True, False), ("1", False), (torch.tensor(1.0), False),
                                   (None, False)])
def test_is_real(x, ok):
    assert is_real(x) is ok


@pytest.mark.parametrize("value, kw, ok", [
    (0.0, {}, True), (-1e-12, {}, False), (math.inf, {}, False), (math.nan, {}, False),
    (0.0, dict(low_open=True), False), (1.0, dict(high=1.0), False),
    (1.0, dict(high=1.0, high_open=False), True), (2, dict(low=1, high=3), True)])
def test_check_range_bounds(value, kw, ok):
    if ok:
        check_range(value, "thing", **kw)
    else:
        with pytest.raises(ValueError, match="Invalid thing"):
            check_range(value, "thing", **kw)


def test_named_checks_messages():
    with pytest.raises(ValueError, match=r"Invalid learning rate: -1 \(expected a finite lr >= 0\)"):
        check_lr(-1)
    check_lr(0.0)
    with pytest.raises(ValueError, match="lr > 0"):
        check_lr(0.0, positive=True)
    with pytest.raises(ValueError, match="Invalid betas"):
        check_betas(0.9)
    with pytest.raises(ValueError, match="Invalid betas"):
        check_betas((0.9, 0.99, 0.999))
    check_betas([0.0, 0.5, 0.9999], n=3)
    with pytest.raises(ValueError, match="beta parameter at index 2"):
        check_betas((0.9, 0.99, 1.0), n=3)
    with pytest.raises(ValueError, match="Invalid epsilon value"):
        check_nonnegative(-1e-8, "epsilon")
    for bad in (1, 0, "yes"):
        with pytest.raises(ValueError, match="foreach"):
            check_foreach(bad)
    for good in (None, True, False):
        check_foreach(good)


@pytest.mark.parametrize("bad, match", [
    (dict(lr=-1.0), "Invalid learning rate"), (dict(betas=(0.9, 1.0)), "index 1"),
    (dict(eps=float("nan")), "Invalid epsilon value"),
    (dict(weight_decay=-0.1), "Invalid weight_decay value")])
def test_check_adam_hparams_checks_each_hyperparameter(bad, match):
    good = dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    check_adam_hparams(good)
    with pytest.raises(ValueError, match=match):
        check_adam_hparams({**good, **bad})
    with pytest.raises(ValueError, match="Invalid betas"):
        check_adam_hparams(good, n_betas=3)


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
    with pytest.raises(ValueError, match="learning rate"):
        _Scaled([w], lr=0.0)
    with pytest.raises(ValueError, match="foreach"):
        _Scaled([w], foreach="no")
    opt = _Scaled([w])
    with pytest.raises(ValueError, match="learning rate"):
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
