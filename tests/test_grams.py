"""Tests of papers_lib.optim.grams (chapter nbs/optimizers/05_grams.ipynb)."""

import pytest
import torch

from papers_lib.optim.grams import CautiousAdam, Grams
from tests.optim_helpers import (flat_params as _flat, mse_loss as _loss,
                                 small_net as _net)


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
    net = _net()
    opt = cls(net.parameters(), foreach=foreach, **kw)
    for _ in range(steps):
        opt.zero_grad()
        _loss(net).backward()
        opt.step()
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


def test_paths_agree_on_mixed_dtypes():
    for cls in (Grams, CautiousAdam):
        gen = torch.Generator().manual_seed(0)
        specs = [((3, 4), torch.float32), ((5,), torch.float64),
                 ((2, 2), torch.complex64)]
        p1 = [torch.randn(s, dtype=d, generator=gen).requires_grad_()
              for s, d in specs]
        p2 = [p.detach().clone().requires_grad_() for p in p1]
        o1 = cls(p1, lr=1e-2, weight_decay=0.1, foreach=False, maximize=True)
        o2 = cls(p2, lr=1e-2, weight_decay=0.1, foreach=True, maximize=True)
        start = [p.detach().clone() for p in p1]
        for _ in range(6):
            grads = [torch.randn(p.shape, dtype=p.dtype, generator=gen) for p in p1]
            for a, b, g in zip(p1, p2, grads):
                a.grad, b.grad = g.clone(), g.clone()
            o1.step()
            o2.step()
        for a, b, s in zip(p1, p2, start):
            assert torch.equal(a, b)
            assert not torch.equal(a, s)
        for a, b in zip(p1, p2):
            for key in ("exp_avg", "exp_avg_sq", "step"):
                assert torch.equal(o1.state[a][key], o2.state[b][key])


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
    x1 = torch.tensor([1.0, -1.0], requires_grad=True)
    x2 = x1.detach().clone().requires_grad_(True)
    o1, o2 = Grams([x1], lr=0.1, maximize=True), Grams([x2], lr=0.1)
    for _ in range(10):
        o1.zero_grad()
        o2.zero_grad()
        (-(x1 ** 2).sum()).backward()
        (x2 ** 2).sum().backward()
        o1.step()
        o2.step()
    assert torch.equal(x1, x2)


@pytest.mark.parametrize("cls", [Grams, CautiousAdam])
@pytest.mark.parametrize("kw, match", [
    (dict(lr=-1e-3), "learning rate"), (dict(lr=float("nan")), "learning rate"),
    (dict(lr=float("inf")), "learning rate"),
    (dict(betas=(1.0, 0.999)), "beta parameter at index 0"),
    (dict(betas=(0.9, -0.1)), "beta parameter at index 1"),
    (dict(betas=(0.9,)), "betas"), (dict(eps=-1e-8), "epsilon"),
    (dict(weight_decay=-0.1), "weight_decay"),
    (dict(weight_decay=float("inf")), "weight_decay"),
    (dict(foreach="yes"), "foreach")])
def test_invalid_hyperparameters(cls, kw, match):
    with pytest.raises(ValueError, match=match):
        cls([torch.zeros(2, requires_grad=True)], **kw)


def test_invalid_param_group():
    w1, w2 = torch.zeros(2, requires_grad=True), torch.zeros(2, requires_grad=True)
    opt = Grams([w1], lr=1e-3)
    with pytest.raises(ValueError, match="learning rate"):
        opt.add_param_group({"params": [w2], "lr": -1.0})
    with pytest.raises(ValueError, match="epsilon"):
        opt.add_param_group({"params": [w2], "eps": -1.0})
    assert len(opt.param_groups) == 1
