"""Tests of papers_lib.optim.ademamix (chapter nbs/optimizers/04_ademamix.ipynb)."""
import math

import pytest
import torch

from papers_lib.optim.ademamix import (AdEMAMix, alpha_schedule, beta3_schedule,
                                       half_life)
from tests.optim_helpers import (assert_paths_equal, assert_refused,
                                 assert_resumes_exactly, flat_params as _flat,
                                 mse_loss as _loss, small_net as _net)
from tests.optim_helpers import train as _train


def _reference(steps, lr, betas, alpha, wd, eps=1e-8, t_alpha=None, t_beta3=None,
               maximize=False):
    """The AdEMAMix update transcribed from the paper's equations in plain torch."""
    net = _net()
    b1, b2, b3_final = betas
    m1 = [torch.zeros_like(p) for p in net.parameters()]
    m2 = [torch.zeros_like(p) for p in net.parameters()]
    nu = [torch.zeros_like(p) for p in net.parameters()]
    for t in range(1, steps + 1):
        a = alpha if t_alpha is None else alpha * min(t / t_alpha, 1.0)
        if t_beta3 is None or t >= t_beta3:
            b3 = b3_final
        else:
            r = t / t_beta3
            b3 = math.exp(math.log(b1) * math.log(b3_final)
                          / ((1 - r) * math.log(b3_final) + r * math.log(b1)))
        net.zero_grad()
        _loss(net).backward()
        with torch.no_grad():
            for p, x1, x2, v in zip(net.parameters(), m1, m2, nu):
                g = -p.grad if maximize else p.grad
                x1.copy_(b1 * x1 + (1 - b1) * g)
                x2.copy_(b3 * x2 + (1 - b3) * g)
                v.copy_(b2 * v + (1 - b2) * g * g)
                num = x1 / (1 - b1**t) + a * x2
                den = (v / (1 - b2**t)).sqrt() + eps
                p.copy_(p - lr * (num / den + wd * p))
    return _flat(net)


CONFIGS = [dict(lr=1e-2, betas=(0.9, 0.999, 0.999), alpha=5.0, wd=0.0),
           dict(lr=1e-2, betas=(0.9, 0.99, 0.9999), alpha=8.0, wd=0.1),
           dict(lr=3e-3, betas=(0.8, 0.99, 0.999), alpha=2.0, wd=0.05, t_alpha=7,
                t_beta3=11, maximize=True)]


@pytest.mark.parametrize("foreach", [False, True])
@pytest.mark.parametrize("cfg", CONFIGS, ids=str)
def test_matches_transcription(foreach, cfg):
    ref = _reference(20, **cfg)
    net, opt = _train(lambda p: AdEMAMix(
        p, lr=cfg["lr"], betas=cfg["betas"], alpha=cfg["alpha"],
        weight_decay=cfg["wd"], alpha_warmup=cfg.get("t_alpha"),
        beta3_warmup=cfg.get("t_beta3"), maximize=cfg.get("maximize", False),
        foreach=foreach), 20)
    torch.testing.assert_close(_flat(net), ref, rtol=0, atol=1e-5)
    assert (_flat(net) - _flat(_net())).abs().max() > 1e-2  # it did move
    for state in opt.state.values():
        assert set(state) == {"step", "exp_avg", "exp_avg_slow", "exp_avg_sq"}


def test_alpha_changes_the_iterates():
    # the transcription check above would pass for a slow EMA that is ignored if the
    # reference ignored it too: compare alpha=5 with alpha=0 directly
    kw = dict(lr=1e-2, betas=(0.9, 0.999, 0.99))
    a, _ = _train(lambda p: AdEMAMix(p, alpha=5.0, **kw), 10)
    b, _ = _train(lambda p: AdEMAMix(p, alpha=0.0, **kw), 10)
    assert (_flat(a) - _flat(b)).abs().max() > 1e-3


@pytest.mark.parametrize("foreach", [False, True])
@pytest.mark.parametrize("wd, betas, eps", [(0.0, (0.9, 0.999), 1e-8),
                                            (0.1, (0.8, 0.99), 1e-6),
                                            (0.5, (0.0, 0.9), 1e-3)])
def test_alpha_zero_is_adamw(foreach, wd, betas, eps):
    ours, _ = _train(lambda p: AdEMAMix(p, lr=1e-2, betas=(*betas, 0.999), alpha=0.0,
                                        eps=eps, weight_decay=wd, foreach=foreach), 30)
    ref, _ = _train(lambda p: torch.optim.AdamW(p, lr=1e-2, betas=betas, eps=eps,
                                                weight_decay=wd, foreach=foreach), 30)
    assert torch.equal(_flat(ours), _flat(ref))


def test_schedulers_end_points_and_monotonicity():
    T = 1000
    alphas = [alpha_schedule(t, 5.0, T) for t in range(0, T + 2)]
    betas = [beta3_schedule(t, 0.9999, 0.9, T) for t in range(0, T + 2)]
    assert alphas[0] == 0.0 and alphas[T] == 5.0 and alphas[T + 1] == 5.0
    assert abs(betas[0] - 0.9) < 1e-12
    assert betas[T] == 0.9999 and betas[T + 1] == 0.9999
    assert all(x < y for x, y in zip(alphas[:T], alphas[1:T + 1]))
    assert all(x < y for x, y in zip(betas[:T], betas[1:T + 1]))
    assert alpha_schedule(7, 5.0, None) == 5.0
    assert beta3_schedule(1, 0.99, 0.9, None) == 0.99
    # the half-life grows linearly: at the midpoint it is the average of the two ends
    mid = half_life(beta3_schedule(T // 2, 0.9999, 0.9, T))
    assert math.isclose(mid, (half_life(0.9) + half_life(0.9999)) / 2, rel_tol=1e-9)
    assert half_life(0.0) == 0.0 and beta3_schedule(5, 0.99, 0.0, 10) > 0.0
    assert math.isclose(half_life(0.5), 1.0)


def test_schedules_used_by_the_optimizer():
    w = torch.zeros(1, requires_grad=True)
    opt = AdEMAMix([w], lr=0.0, betas=(0.9, 0.999, 0.999), beta3_warmup=4)
    for t in range(1, 6):
        w.grad = torch.ones(1)
        before = opt.state[w]["exp_avg_slow"].clone() if t > 1 else torch.zeros(1)
        opt.step()
        b3 = beta3_schedule(t, 0.999, 0.9, 4)
        expect = b3 * before + (1 - b3)
        torch.testing.assert_close(opt.state[w]["exp_avg_slow"], expect)


def test_paths_agree_on_mixed_dtypes():
    def make(p, **kw):  # a step count per tensor, 0, 1, 2: three points of the schedules
        opt = AdEMAMix(p, lr=1e-2, betas=(0.9, 0.99, 0.999), alpha=5.0, beta3_warmup=5,
                       alpha_warmup=4, weight_decay=0.2, maximize=True, **kw)
        for k, x in enumerate(p):
            opt.state[x] = {"step": torch.tensor(float(k)),
                            **{key: torch.zeros_like(x) for key in AdEMAMix.state_keys}}
        return opt

    assert_paths_equal(make, AdEMAMix.state_keys + ("step",))


def test_state_dict_round_trip():
    kw = dict(lr=1e-2, alpha=5.0, beta3_warmup=15, alpha_warmup=12, weight_decay=0.1)
    opt = assert_resumes_exactly(lambda p: AdEMAMix(p, **kw),
                                 lambda p: AdEMAMix(p, lr=1.0), steps=25, at=8)
    assert opt.param_groups[0]["lr"] == 1e-2
    assert opt.param_groups[0]["alpha_warmup"] == 12


def test_param_groups_use_their_own_hyperparameters():
    w1, w2 = torch.zeros(3, requires_grad=True), torch.zeros(3, requires_grad=True)
    opt = AdEMAMix([{"params": [w1]}, {"params": [w2], "lr": 0.1, "alpha": 0.0}],
                   lr=1e-2, alpha=5.0, betas=(0.9, 0.999, 0.5))
    (w1.sum() + w2.sum()).backward()
    opt.step()
    # first step: m1_hat = g, m2 = (1 - beta3) g, sqrt(nu_hat) = |g|
    torch.testing.assert_close(w1.detach(), torch.full((3,), -1e-2 * (1 + 5.0 * 0.5)))
    torch.testing.assert_close(w2.detach(), torch.full((3,), -0.1))
    with pytest.raises(ValueError, match="alpha"):
        opt.add_param_group({"params": [torch.zeros(1, requires_grad=True)],
                             "alpha": -1.0})
    assert len(opt.param_groups) == 2


def test_quadratic_minimum_is_reached():
    # f = 0.5 ||x - a||^2: with a decaying learning rate AdEMAMix converges to a
    a = torch.tensor([1.5, -2.0, 0.5], dtype=torch.float64)
    x = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    opt = AdEMAMix([x], lr=0.1, betas=(0.9, 0.999, 0.99), alpha=2.0)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: 1 / (1 + k / 50))
    for _ in range(300):  # within 1e-2 from step 144 on
        opt.zero_grad()
        (0.5 * (x - a) ** 2).sum().backward()
        opt.step()
        sched.step()
    torch.testing.assert_close(x.detach(), a, rtol=0, atol=1e-2)


@pytest.mark.parametrize("kw, match", [
    (dict(lr=-1e-3), "lr must be"), (dict(lr=float("nan")), "lr must be"),
    (dict(lr=float("inf")), "lr must be"),
    (dict(betas=(1.0, 0.999, 0.9999)), r"betas\[0\] must be"),
    (dict(betas=(0.9, -0.1, 0.9999)), r"betas\[1\] must be"),
    (dict(betas=(0.9, 0.999, 1.0)), r"betas\[2\] must be"),
    (dict(betas=(0.9, 0.999)), "betas"),
    (dict(alpha=-1.0), "alpha"), (dict(alpha=float("inf")), "alpha"),
    (dict(beta3_warmup=0), "beta3_warmup must be an int >= 1"),
    (dict(alpha_warmup=-3), "alpha_warmup must be an int >= 1"),
    (dict(eps=-1e-8), "eps must be"), (dict(weight_decay=-0.1), "weight_decay"),
    (dict(weight_decay=float("inf")), "weight_decay"),
    (dict(foreach="yes"), "foreach")])
def test_invalid_hyperparameters(kw, match):
    assert_refused(AdEMAMix, kw, match)


@pytest.mark.parametrize("kw, match", [
    (dict(beta3_warmup=2.5), "beta3_warmup must be an int, got 2.5"),
    (dict(alpha_warmup="10"), "alpha_warmup must be an int, got '10'"),
    (dict(alpha="5"), "alpha must be a real number, got '5'")])
def test_wrong_kinds_of_hyperparameters(kw, match):
    assert_refused(AdEMAMix, kw, match, TypeError)
