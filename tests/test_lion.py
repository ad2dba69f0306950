"""Tests of papers_lib.optim.lion (chapter nbs/optimizers/02_lion.ipynb)."""

import pytest
import torch

from papers_lib.optim.lion import Lion, _multi_tensor_lion, _single_tensor_lion
from tests.optim_helpers import (X as _X, Y as _Y, assert_group_refused,
                                 assert_refused, flat_params as _flat,
                                 mse_loss as _loss, small_net as _net)


def _reference(steps, lr, betas, wd, maximize=False):
    """The Lion update transcribed in plain torch."""
    net = _net()
    b1, b2 = betas
    ms = [torch.zeros_like(p) for p in net.parameters()]
    for _ in range(steps):
        net.zero_grad()
        _loss(net).backward()
        with torch.no_grad():
            for p, m in zip(net.parameters(), ms):
                g = -p.grad if maximize else p.grad
                c = b1 * m + (1 - b1) * g
                p.copy_(p - lr * (torch.sign(c) + wd * p))
                m.copy_(b2 * m + (1 - b2) * g)
    return _flat(net)


CONFIGS = [dict(lr=1e-2, betas=(0.9, 0.99), wd=0.0),
           dict(lr=1e-2, betas=(0.9, 0.99), wd=0.5),
           dict(lr=3e-3, betas=(0.5, 0.9), wd=0.1, maximize=True),
           dict(lr=1e-2, betas=(0.0, 0.0), wd=0.0)]


@pytest.mark.parametrize("foreach", [False, True])
@pytest.mark.parametrize("cfg", CONFIGS, ids=str)
def test_matches_transcription(foreach, cfg):
    ref = _reference(15, **cfg)
    net = _net()
    opt = Lion(net.parameters(), lr=cfg["lr"], betas=cfg["betas"],
               weight_decay=cfg["wd"], maximize=cfg.get("maximize", False),
               foreach=foreach)
    for _ in range(15):
        opt.zero_grad()
        _loss(net).backward()
        opt.step()
    torch.testing.assert_close(_flat(net), ref, rtol=0, atol=1e-6)
    assert (_flat(net) - _flat(_net())).abs().max() > 1e-2  # it did move
    for state in opt.state.values():
        assert set(state) == {"exp_avg"}


def test_first_step_is_a_sign_step():
    w = torch.tensor([0.5, -0.2, 0.0], requires_grad=True)
    opt = Lion([w], lr=0.1, weight_decay=0.0)
    w.grad = torch.tensor([3.0, -1e-6, 0.0])
    opt.step()
    torch.testing.assert_close(w.detach(), torch.tensor([0.4, -0.1, 0.0]))


def test_paths_agree_on_mixed_dtypes():
    g = torch.Generator().manual_seed(0)
    specs = [((3, 4), torch.float32), ((5,), torch.float64), ((2, 2), torch.complex64)]
    p1 = [torch.randn(s, dtype=d, generator=g) for s, d in specs]
    p2 = [p.clone() for p in p1]
    m1, m2 = [torch.zeros_like(p) for p in p1], [torch.zeros_like(p) for p in p2]
    hp = dict(beta1=0.9, beta2=0.99, lr=1e-2, weight_decay=0.2, maximize=False)
    for _ in range(5):
        grads = [torch.randn(p.shape, dtype=p.dtype, generator=g) for p in p1]
        _single_tensor_lion(p1, grads, m1, **hp)
        _multi_tensor_lion(p2, grads, m2, **hp)
    for a, b in zip(p1 + m1, p2 + m2):
        assert torch.equal(a, b)


def test_box_is_reached_and_kept():
    # f = 0.5 ||x - a||^2 with a outside the box: Lion goes to clip(a, -1/wd, 1/wd)
    a = torch.tensor([3.0, -0.5, -4.0, 0.2], dtype=torch.float64)
    x = torch.tensor([2.0, 0.0, 0.0, -3.0], dtype=torch.float64, requires_grad=True)
    lr, wd = 0.01, 2.0
    opt = Lion([x], lr=lr, weight_decay=wd)
    excess0 = (x.detach().abs().max() - 1 / wd).item()
    for k in range(1, 1501):
        opt.zero_grad()
        (0.5 * (x - a) ** 2).sum().backward()
        opt.step()
        excess = (x.detach().abs().max() - 1 / wd).item()
        assert excess <= max(excess0, 0) * (1 - lr * wd) ** k + 1e-12
    torch.testing.assert_close(x.detach(), a.clamp(-1 / wd, 1 / wd), rtol=0, atol=lr)


@pytest.mark.parametrize("kw, match", [
    (dict(lr=0.0), "lr must be a (finite )?real number > 0"), (dict(lr=-1e-3), "lr must be"),
    (dict(lr=float("nan")), "lr must be"), (dict(lr=float("inf")), "lr must be"),
    (dict(betas=(1.0, 0.99)), r"betas\[0\] must be"),
    (dict(betas=(0.9, -0.1)), r"betas\[1\] must be"),
    (dict(betas=(0.9,)), "betas"), (dict(weight_decay=-0.1), "weight_decay"),
    (dict(weight_decay=float("inf")), "weight_decay"),
    (dict(foreach="yes"), "foreach")])
def test_invalid_hyperparameters(kw, match):
    assert_refused(Lion, kw, match)


def test_invalid_param_group():
    w1, w2 = torch.zeros(2, requires_grad=True), torch.zeros(2, requires_grad=True)
    opt = Lion([w1], lr=1e-3)
    assert_group_refused(opt, {"lr": -1.0}, "lr must be")
    opt.add_param_group({"params": [w2], "lr": 0.1})
    (w1.sum() + w2.sum()).backward()
    opt.step()
    torch.testing.assert_close(w1.detach(), torch.full((2,), -1e-3))
    torch.testing.assert_close(w2.detach(), torch.full((2,), -0.1))
