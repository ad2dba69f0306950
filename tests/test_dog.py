"""Tests of papers_lib.optim.dog (chapter nbs/optimizers/07_dog.ipynb)."""
import copy
import math

import pytest
import torch

from papers_lib.optim.dog import DoG, LDoG, PolynomialAverage, UDoG
from papers_lib.optim.problems import Quadratic
from tests.optim_helpers import (assert_refused, assert_resumes_exactly,
                                 flat_params as _flat, small_net as _net)


def _reference(steps, reps_rel, layerwise, wd=0.0, eps=1e-8, lr=1.0, scale=1.0):
    """DoG / L-DoG transcribed from the paper's formula, in float64."""
    net = _net().double()
    params = list(net.parameters())
    x0 = [p.detach().clone() for p in params]
    if layerwise:
        rbar = [reps_rel * (1 + p.norm().item()) for p in params]
        G = [0.0] * len(params)
    else:
        rbar = reps_rel * (1 + math.sqrt(sum(p.norm().item() ** 2 for p in params)))
        G = 0.0
    from tests.optim_helpers import X, Y
    for _ in range(steps):
        net.zero_grad()
        (scale * ((net(X.double()) - Y.double()) ** 2).mean()).backward()
        with torch.no_grad():
            grads = [p.grad + wd * p for p in params]
            dists = [(p - q).norm().item() for p, q in zip(params, x0)]
            if layerwise:
                rbar = [max(r, d) for r, d in zip(rbar, dists)]
                G = [s + g.norm().item() ** 2 for s, g in zip(G, grads)]
                etas = [lr * r / math.sqrt(s + eps) for r, s in zip(rbar, G)]
            else:
                rbar = max(rbar, math.sqrt(sum(d * d for d in dists)))
                G += sum(g.norm().item() ** 2 for g in grads)
                etas = [lr * rbar / math.sqrt(G + eps)] * len(params)
            for p, g, eta in zip(params, grads, etas):
                p.sub_(eta * g)
    return _flat(net)


def _run(steps=25, foreach=None, scale=1.0, **kw):
    net = _net().double()
    opt = DoG(net.parameters(), foreach=foreach, **kw)
    from tests.optim_helpers import X, Y
    for _ in range(steps):
        opt.zero_grad()
        (scale * ((net(X.double()) - Y.double()) ** 2).mean()).backward()
        opt.step()
    return _flat(net), opt


CONFIGS = [dict(reps_rel=1e-3, layerwise=False), dict(reps_rel=1e-3, layerwise=True),
           dict(reps_rel=1e-2, layerwise=False, wd=0.1),
           dict(reps_rel=1e-4, layerwise=True, wd=0.05, lr=0.5)]


@pytest.mark.parametrize("foreach", [False, True])
@pytest.mark.parametrize("cfg", CONFIGS, ids=str)
def test_matches_transcription(foreach, cfg):
    ref = _reference(25, cfg["reps_rel"], cfg["layerwise"], wd=cfg.get("wd", 0.0),
                     lr=cfg.get("lr", 1.0))
    ours, opt = _run(25, foreach=foreach, reps_rel=cfg["reps_rel"],
                     layerwise=cfg["layerwise"], weight_decay=cfg.get("wd", 0.0),
                     lr=cfg.get("lr", 1.0))
    torch.testing.assert_close(ours, ref, rtol=0, atol=1e-12)
    assert (ours - _flat(_net().double())).abs().max() > 1e-4  # it did move
    for state in opt.state.values():
        assert set(state) == {"step", "x0", "rbar", "G", "eta"}


def test_first_step_has_length_r_eps():
    w = torch.tensor([3.0, -4.0], dtype=torch.float64, requires_grad=True)
    opt = DoG([w], reps_rel=0.1, eps=0.0)
    w.grad = torch.tensor([10.0, 0.0], dtype=torch.float64)
    opt.step()
    torch.testing.assert_close(w.detach(), torch.tensor([3.0 - 0.6, -4.0],
                                                        dtype=torch.float64))


def test_ldog_is_layerwise_dog():
    a, _ = _run(foreach=False, reps_rel=1e-3, layerwise=True)
    net = _net().double()
    opt = LDoG(net.parameters(), reps_rel=1e-3)
    from tests.optim_helpers import X, Y
    for _ in range(25):
        opt.zero_grad()
        ((net(X.double()) - Y.double()) ** 2).mean().backward()
        opt.step()
    assert torch.equal(a, _flat(net))
    b, _ = _run(foreach=False, reps_rel=1e-3, layerwise=False)
    assert (a - b).abs().max() > 1e-4


@pytest.mark.parametrize("layerwise", [False, True])
@pytest.mark.parametrize("scale", [1e-4, 1e4])
def test_scale_invariance(layerwise, scale):
    ref, _ = _run(40, eps=0.0, reps_rel=1e-3, layerwise=layerwise)
    scaled, _ = _run(40, eps=0.0, reps_rel=1e-3, layerwise=layerwise, scale=scale)
    torch.testing.assert_close(scaled, ref, rtol=0, atol=1e-10)


def test_converges_on_quadratic():
    # condition 10: the gap is below 1e-6 of the initial one from step 278 on
    q = Quadratic(dim=20, condition=10.0, seed=0)
    x = torch.zeros(20, dtype=torch.float64, requires_grad=True)
    opt = DoG([x])
    gap0 = q.gap(x).item()
    for _ in range(500):
        opt.zero_grad()
        q(x).backward()
        opt.step()
    assert q.gap(x).item() < 1e-6 * gap0
    assert opt.state[x]["rbar"].item() < 3 * q.x_star.norm().item()


def test_foreach_paths_agree_on_mixed_dtypes():
    g = torch.Generator().manual_seed(0)
    specs = [((3, 4), torch.float32), ((5,), torch.float64), ((2, 2), torch.complex64)]
    ps = [[torch.randn(s, dtype=d, generator=g).requires_grad_(True)
           for s, d in specs]]
    ps.append([p.detach().clone().requires_grad_(True) for p in ps[0]])
    for layerwise in (False, True):
        opts = [DoG(ps[i], reps_rel=1e-2, layerwise=layerwise, foreach=bool(i))
                for i in range(2)]
        for _ in range(5):
            grads = [torch.randn(p.shape, dtype=p.dtype, generator=g) for p in ps[0]]
            for params, opt in zip(ps, opts):
                for p, gr in zip(params, grads):
                    p.grad = gr.clone()
                opt.step()
        for a, b in zip(*ps):
            torch.testing.assert_close(a, b, rtol=0, atol=1e-6)
        assert not torch.equal(ps[0][0], torch.randn(3, 4))


def test_state_dict_round_trip():
    opt = assert_resumes_exactly(
        lambda p: DoG(p, reps_rel=1e-3, layerwise=True, weight_decay=0.01),
        lambda p: DoG(p, reps_rel=0.5), steps=20, at=10)
    assert opt.param_groups[0]["reps_rel"] == 1e-3
    assert opt.param_groups[0]["layerwise"] is True


def test_param_groups_are_independent():
    w1 = torch.tensor([1.0, 0.0], dtype=torch.float64, requires_grad=True)
    w2 = torch.tensor([0.0, 2.0], dtype=torch.float64, requires_grad=True)
    opt = DoG([w1], reps_rel=0.1, eps=0.0)
    with pytest.raises(ValueError, match="reps_rel"):
        opt.add_param_group({"params": [w2], "reps_rel": -1.0})
    opt.add_param_group({"params": [w2], "reps_rel": 0.5})
    w1.grad = torch.tensor([0.0, 5.0], dtype=torch.float64)
    w2.grad = torch.tensor([3.0, 0.0], dtype=torch.float64)
    opt.step()
    # each group's first step has length r_eps = reps_rel (1 + ||x_0||) of its own
    f64 = torch.float64
    torch.testing.assert_close(w1.detach(), torch.tensor([1.0, -0.2], dtype=f64))
    torch.testing.assert_close(w2.detach(), torch.tensor([-1.5, 2.0], dtype=f64))


@pytest.mark.parametrize("kw, match", [
    (dict(reps_rel=0.0), "reps_rel"), (dict(reps_rel=-1e-6), "reps_rel"),
    (dict(reps_rel=float("inf")), "reps_rel"),
    (dict(reps_rel=float("nan")), "reps_rel"),
    (dict(lr=0.0), "lr must be a (finite )?real number > 0"), (dict(lr=-1.0), "lr must be"),
    (dict(lr=float("inf")), "lr must be"), (dict(eps=-1e-8), "eps must be"),
    (dict(eps=float("nan")), "eps"), (dict(weight_decay=-0.1), "weight_decay"),
    (dict(weight_decay=float("inf")), "weight_decay"),
    (dict(layerwise=1), "layerwise must be one of True, False, got 1"),
    (dict(foreach="yes"), "foreach")])
def test_invalid_hyperparameters(kw, match):
    assert_refused(DoG, kw, match)


@pytest.mark.parametrize("kw, match", [
    (dict(reps_rel=0.0), "reps_rel must be"), (dict(lr=-1.0), "lr must be"),
    (dict(eps=-1.0), "eps must be")])
def test_udog_invalid_hyperparameters(kw, match):
    assert_refused(UDoG, kw, match)


def test_polynomial_average_weights_and_swap():
    w = torch.zeros(1, requires_grad=True)
    avg = PolynomialAverage([w], gamma=8.0)
    weights, values = [], []
    for t in range(1, 31):
        with torch.no_grad():
            w.fill_(float(t * t))
        avg.step()
        wt = (1 + 8.0) / (t + 8.0)
        weights = [x * (1 - wt) for x in weights] + [wt]
        values.append(float(t * t))
    expected = sum(a * b for a, b in zip(weights, values))
    assert abs(sum(weights) - 1) < 1e-12
    assert abs(avg.averages[0].item() - expected) < 1e-3 * expected
    with avg.swapped():
        assert w.item() == avg.averages[0].item()
    assert w.item() == 900.0
    uniform = PolynomialAverage([w], gamma=0.0)
    for t in range(1, 5):
        with torch.no_grad():
            w.fill_(float(t))
        uniform.step()
    assert abs(uniform.averages[0].item() - 2.5) < 1e-6
    restored = PolynomialAverage([w], gamma=3.0)
    restored.load_state_dict(avg.state_dict())
    assert restored.t == 30 and restored.gamma == 8.0
    assert torch.equal(restored.averages[0], avg.averages[0])
    with pytest.raises(ValueError, match="gamma must be a (finite )?real number >= 0"):
        PolynomialAverage([w], gamma=-1.0)


def _udog_reference(q, x0, steps, reps_rel=1e-6, eps=1e-8):
    """Our U-DoG equations (UniXGrad with DoG's rbar), transcribed in float64."""
    def grad(z):
        z = z.clone().requires_grad_(True)
        q(z).backward()
        return z.grad
    x0 = x0.clone()
    y, x, x_sum = x0.clone(), x0.clone(), torch.zeros_like(x0)
    rbar, S, W, G = reps_rel * (1 + x0.norm().item()), 0.0, 0.0, None
    for _ in range(steps):
        rbar = max(rbar, (y - x0).norm().item(), (x - x0).norm().item())
        S += rbar
        alpha, omega = S / rbar, S
        W += omega
        m = grad((omega * y + x_sum) / W)
        if G is None:
            G = m.norm().item() ** 2
        x = y - alpha * rbar / math.sqrt(G + eps) * m
        g = grad((omega * x + x_sum) / W)
        G += alpha ** 2 * (g - m).norm().item() ** 2
        y = y - alpha * rbar / math.sqrt(G + eps) * g
        x_sum = x_sum + omega * x
    return x_sum / W


def _udog_run(q, x, steps):
    opt = UDoG([x])

    def closure():
        opt.zero_grad()
        loss = q(x)
        loss.backward()
        return loss

    for _ in range(steps):
        opt.step(closure)
    return opt


def test_udog_matches_transcription_and_accelerates():
    q = Quadratic(dim=10, condition=1e3, seed=0)
    x = torch.zeros(10, dtype=torch.float64, requires_grad=True)
    ref = _udog_reference(q, x.detach(), 60)
    _udog_run(q, x, 60)
    torch.testing.assert_close(x.detach(), ref, rtol=1e-10, atol=1e-12)
    # 300 gradients: U-DoG (150 steps) far below DoG (300 steps) on an ill-conditioned
    # quadratic
    xu = torch.zeros(10, dtype=torch.float64, requires_grad=True)
    _udog_run(q, xu, 150)
    xd = torch.zeros(10, dtype=torch.float64, requires_grad=True)
    opt = DoG([xd])
    for _ in range(300):
        opt.zero_grad()
        q(xd).backward()
        opt.step()
    assert q.gap(xu).item() < 0.1 * q.gap(xd).item()


def test_udog_scale_invariance_and_state_dict():
    q = Quadratic(dim=5, condition=10.0, seed=1)
    outs = []
    for scale in (1.0, 1e3):
        x = torch.zeros(5, dtype=torch.float64, requires_grad=True)
        opt = UDoG([x], eps=0.0)

        def closure():
            opt.zero_grad()
            loss = scale * q(x)
            loss.backward()
            return loss

        for _ in range(20):
            opt.step(closure)
        outs.append(x.detach().clone())
    torch.testing.assert_close(outs[0], outs[1], rtol=0, atol=1e-10)
    # continue after a checkpoint = continue without
    xa = torch.zeros(5, dtype=torch.float64, requires_grad=True)
    xb = torch.zeros(5, dtype=torch.float64, requires_grad=True)
    opt_a, opt_b = _udog_run(q, xa, 10), _udog_run(q, xb, 10)
    saved = copy.deepcopy(opt_b.state_dict())
    opt_b = UDoG([xb], reps_rel=0.3)
    opt_b.load_state_dict(saved)
    for x, opt in ((xa, opt_a), (xb, opt_b)):
        def closure(x=x, opt=opt):
            opt.zero_grad()
            loss = q(x)
            loss.backward()
            return loss
        for _ in range(10):
            opt.step(closure)
    assert torch.equal(xa, xb)


def test_udog_needs_a_closure():
    w = torch.zeros(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="closure"):
        UDoG([w]).step()
