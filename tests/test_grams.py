"""Tests of papers_lib.optim.grams (chapter nbs/optimizers/05_grams.ipynb)."""

import pytest
import torch

from papers_lib.optim.grams import CautiousAdam, Grams
from tests.optim_helpers import (assert_group_refused,
                                 assert_maximize_is_minimize_of_negative,
                                 assert_paths_equal, assert_refused,
                                 flat_params as _flat, mse_loss as _loss,
                                 small_net as _net, train)


def _reference(steps, lr, betas, eps, wd, maximize=False, cautious=False):
    """Grams (or Cautious Adam) transcribed from the equations in plain torch."""
    net = _net()
    b1, b2 = betas
    ms = [torch.zeros_like(p) for p in net.parameters()]
    vs = [torch.zeros_like(p) for p in net.parameters()]
    for t in range(1, steps + 1):
        net.zero_grad()
        _loss(net).backward()
        with torch.no_grad():
            for p, m, v in zip(net.parameters(), ms, vs):
                g = -p.grad if maximize else p.grad
                m.copy_(b1 * m + (1 - b1) * g)
                v.copy_(b2 * v + (1 - b2) * g * g)
                u = (m / (1 - b1**t)) / ((v / (1 - b2**t)).sqrt() + eps)
                if cautious:
                    phi = (u * g > 0).to(u.dtype)
                    step = u * phi * (phi.numel() / (phi.sum() + 1))
                else:
                    step = torch.sign(g) * u.abs()
                p.copy_(p - lr * (step + wd * p))
    return _flat(net)


def _run(cls, steps, foreach, **kw):
    net, opt = train(lambda p: cls(p, foreach=foreach, **kw), steps)
    return _flat(net), opt


CONFIGS = [dict(lr=1e-2, betas=(0.9, 0.999), eps=1e-8, wd=0.0),
           dict(lr=3e-2, betas=(0.8, 0.99), eps=1e-6, wd=0.1),
           dict(lr=1e-2, betas=(0.9, 0.999), eps=1e-8, wd=0.05, maximize=True)]


@pytest.mark.parametrize("foreach", [False, True])
@pytest.mark.parametrize("cfg", CONFIGS, ids=str)
@pytest.mark.parametrize("cls", [Grams, CautiousAdam])
def test_matches_transcription(cls, cfg, foreach):
    ref = _reference(25, **cfg, cautious=cls is CautiousAdam)
    ours, opt = _run(cls, 25, foreach, lr=cfg["lr"], betas=cfg["betas"],
                     eps=cfg["eps"], weight_decay=cfg["wd"],
                     maximize=cfg.get("maximize", False))
    torch.testing.assert_close(ours, ref, rtol=0, atol=1e-5)
    adamw, _ = _run(torch.optim.AdamW, 25, foreach, lr=cfg["lr"], betas=cfg["betas"],
                    eps=cfg["eps"], weight_decay=cfg["wd"],
                    maximize=cfg.get("maximize", False))
    assert (ours - adamw).abs().max() > 1e-3      # the method is not AdamW
    for state in opt.state.values():
        assert set(state) == {"step", "exp_avg", "exp_avg_sq"}
        assert state["step"].item() == 25


@pytest.mark.parametrize("foreach", [False, True])
def test_is_adamw_when_signs_agree(foreach):
    # f(x) = c . x: the gradient is constant, so m always has its sign
    c = torch.tensor([1.0, -2.0, 0.5, 3.0])
    x1, x2 = torch.zeros(4, requires_grad=True), torch.zeros(4, requires_grad=True)
    o1 = Grams([x1], lr=0.1, weight_decay=0.2, foreach=foreach)
    o2 = torch.optim.AdamW([x2], lr=0.1, weight_decay=0.2, foreach=foreach)
    for _ in range(40):
        for x, o in ((x1, o1), (x2, o2)):
            o.zero_grad()
            (c * x).sum().backward()
            o.step()
    assert torch.equal(x1, x2)
    assert x1.abs().min() > 1.0


@pytest.mark.parametrize("foreach", [False, True])
def test_flips_adam_where_signs_disagree(foreach):
    gen = torch.Generator().manual_seed(0)
    g1, g2 = torch.randn(500, generator=gen), torch.randn(500, generator=gen)
    moves = {}
    for cls in (torch.optim.Adam, Grams):
        x = torch.zeros(500, requires_grad=True)
        opt = cls([x], lr=0.01, foreach=foreach)
        x.grad = g1.clone()
        opt.step()
        before = x.detach().clone()
        x.grad = g2.clone()
        opt.step()
        moves[cls] = x.detach() - before
    agree = torch.sign(0.09 * g1 + 0.1 * g2) == torch.sign(g2)
    assert 0 < (~agree).sum() < 500
    assert torch.equal(moves[Grams][agree], moves[torch.optim.Adam][agree])
    torch.testing.assert_close(moves[Grams][~agree], -moves[torch.optim.Adam][~agree])
    # and every Grams move goes against its gradient
    assert (moves[Grams] * g2 < 0).all()


def test_cautious_first_step_is_scaled_adam():
    c = torch.tensor([1.0, -2.0, 0.5, 3.0])
    x, xa = torch.zeros(4, requires_grad=True), torch.zeros(4, requires_grad=True)
    opt, adam = CautiousAdam([x], lr=0.1), torch.optim.Adam([xa], lr=0.1)
    x.grad, xa.grad = c.clone(), c.clone()
    opt.step()
    adam.step()
    torch.testing.assert_close(x.detach(), xa.detach() * 4 / 5)


@pytest.mark.parametrize("cls", [Grams, CautiousAdam])
def test_paths_agree_on_mixed_dtypes(cls):
    assert_paths_equal(lambda p, **kw: cls(p, lr=1e-2, weight_decay=0.1, maximize=True,
                                           **kw), ("exp_avg", "exp_avg_sq", "step"))


def test_param_groups_keep_their_lr():
    w1, w2 = torch.zeros(2, requires_grad=True), torch.zeros(2, requires_grad=True)
    opt = Grams([{"params": [w1]}, {"params": [w2], "lr": 0.1}], lr=0.01)
    (w1.sum() - w2.sum()).backward()
    opt.step()
    # first step: |m_hat / sqrt(v_hat)| = 1, direction -sign(g)
    torch.testing.assert_close(w1.detach(), torch.full((2,), -0.01))
    torch.testing.assert_close(w2.detach(), torch.full((2,), 0.1))


def test_zero_gradient_coordinate_does_not_move():
    x = torch.zeros(2, requires_grad=True)
    opt = Grams([x], lr=0.1)
    x.grad = torch.tensor([1.0, 1.0])
    opt.step()
    x.grad = torch.tensor([1.0, 0.0])        # m is still positive in coordinate 1
    before = x.detach().clone()
    opt.step()
    assert x[1] == before[1] and x[0] < before[0]


def test_maximize_is_minimize_of_negative():
    assert_maximize_is_minimize_of_negative(Grams, lr=0.1)


@pytest.mark.parametrize("cls", [Grams, CautiousAdam])
@pytest.mark.parametrize("kw, match", [
    (dict(lr=-1e-3), "lr must be"), (dict(lr=float("nan")), "lr must be"),
    (dict(lr=float("inf")), "lr must be"),
    (dict(betas=(1.0, 0.999)), r"betas\[0\] must be"),
    (dict(betas=(0.9, -0.1)), r"betas\[1\] must be"),
    (dict(betas=(0.9,)), "betas"), (dict(eps=-1e-8), "eps must be"),
    (dict(weight_decay=-0.1), "weight_decay"),
    (dict(weight_decay=float("inf")), "weight_decay"),
    (dict(foreach="yes"), "foreach")])
def test_invalid_hyperparameters(cls, kw, match):
    assert_refused(cls, kw, match)


def test_invalid_param_group():
    w1, w2 = torch.zeros(2, requires_grad=True), torch.zeros(2, requires_grad=True)
    opt = Grams([w1], lr=1e-3)
    assert_group_refused(opt, {"lr": -1.0}, "lr must be")
    assert_group_refused(opt, {"eps": -1.0}, "eps must be")
    opt.add_param_group({"params": [w2]})
    assert len(opt.param_groups) == 2
