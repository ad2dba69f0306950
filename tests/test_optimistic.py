"""Tests of papers_lib.optim.optimistic
(chapter nbs/optimizers/06_optimistic_amsgrad.ipynb)."""

import pytest
import torch

from papers_lib.optim import AMSGrad
from papers_lib.optim.optimistic import OptimisticAMSGrad
from tests.optim_helpers import (assert_paths_equal, assert_refused,
                                 assert_resumes_exactly, flat_params as _flat,
                                 mse_loss as _loss, small_net as _net, train)


def _run(make, steps=25):
    net, opt = train(make, steps)
    return _flat(net), opt


def _reference(steps, lr, betas, eps, wd, maximize=False):
    """The two sequences of OPT-AMSGrad (last-gradient predictor) in plain torch:
    returns theta (where gradients are taken) and w (AMSGrad's iterate)."""
    net = _net()
    b1, b2 = betas
    ws = [p.detach().clone() for p in net.parameters()]
    ms, vs, vh = ([torch.zeros_like(p) for p in net.parameters()] for _ in range(3))
    for t in range(1, steps + 1):
        net.zero_grad()
        _loss(net).backward()
        with torch.no_grad():
            for p, w, m, v, v_hat in zip(net.parameters(), ws, ms, vs, vh):
                g = (-p.grad if maximize else p.grad) + wd * p
                h = b1 * m + (1 - b1) * g          # beta1 m_{t-1} + (1-beta1) g_t
                m.copy_(b1 * m + (1 - b1) * g)
                v.copy_(b2 * v + (1 - b2) * g * g)
                v_hat.copy_(torch.maximum(v_hat, v))
                denom = (v_hat / (1 - b2**t)).sqrt() + eps
                w.copy_(w - lr / (1 - b1**t) * m / denom)
                p.copy_(w - lr / (1 - b1**t) * h / denom)
    return _flat(net), torch.cat([w.flatten() for w in ws])


CONFIGS = [dict(lr=1e-2, betas=(0.9, 0.999), eps=1e-8, wd=0.0),
           dict(lr=3e-2, betas=(0.8, 0.99), eps=1e-6, wd=0.01),
           dict(lr=1e-2, betas=(0.9, 0.999), eps=1e-8, wd=0.0, maximize=True)]


@pytest.mark.parametrize("foreach", [False, True])
@pytest.mark.parametrize("cfg", CONFIGS, ids=str)
def test_matches_two_sequence_transcription(cfg, foreach):
    theta, w = _reference(25, **cfg)
    ours, opt = _run(lambda p: OptimisticAMSGrad(
        p, lr=cfg["lr"], betas=cfg["betas"], eps=cfg["eps"], weight_decay=cfg["wd"],
        maximize=cfg.get("maximize", False), foreach=foreach))
    torch.testing.assert_close(ours, theta, rtol=0, atol=1e-5)
    offsets = torch.cat([opt.state[p]["optimistic_offset"].flatten()
                         for g in opt.param_groups for p in g["params"]])
    torch.testing.assert_close(ours - offsets, w, rtol=0, atol=1e-5)
    assert (theta - w).abs().max() > 1e-4         # the two sequences differ


@pytest.mark.parametrize("foreach", [False, True])
@pytest.mark.parametrize("kw", [{}, {"weight_decay": 0.05}, {"maximize": True},
                                {"betas": (0.5, 0.9), "eps": 1e-4}], ids=str)
def test_without_prediction_is_amsgrad(kw, foreach):
    ref, _ = _run(lambda p: AMSGrad(p, lr=1e-2, foreach=foreach, **kw))
    off, opt = _run(lambda p: OptimisticAMSGrad(p, lr=1e-2, predictor=None,
                                                foreach=foreach, **kw))
    on, _ = _run(lambda p: OptimisticAMSGrad(p, lr=1e-2, foreach=foreach, **kw))
    assert torch.equal(off, ref)
    assert (on - ref).abs().max() > 1e-3
    assert all(s["optimistic_offset"].abs().max() == 0 for s in opt.state.values())


def test_last_predictor_extrapolates_steps():
    # theta_{t+1} - theta_t = -(2 s_t - s_{t-1}), s_t AMSGrad's step: on a constant
    # gradient with beta1 = 0, s_t is the same every step after the first
    x = torch.zeros(3, requires_grad=True)
    opt = OptimisticAMSGrad([x], lr=0.1, betas=(0.0, 0.99))
    moves = []
    for _ in range(4):
        before = x.detach().clone()
        x.grad = torch.tensor([1.0, -2.0, 0.5])
        opt.step()
        moves.append(x.detach() - before)
    sign = -torch.sign(torch.tensor([1.0, -2.0, 0.5]))
    torch.testing.assert_close(moves[0], 2 * 0.1 * sign)     # 2 s_1 - s_0, s_0 = 0
    for mv in moves[1:]:
        torch.testing.assert_close(mv, 0.1 * sign)                 # 2 s - s


def test_paths_agree_on_mixed_dtypes():
    o1, _ = assert_paths_equal(
        lambda p, **kw: OptimisticAMSGrad(p, lr=1e-2, weight_decay=0.1, **kw),
        OptimisticAMSGrad.state_keys + ("step",))
    assert all(s["optimistic_offset"].abs().max() > 0 for s in o1.state.values())


@pytest.mark.parametrize("foreach", [None, False])
def test_state_dict_round_trip(foreach):
    opt = assert_resumes_exactly(
        lambda p: OptimisticAMSGrad(p, lr=1e-2, foreach=foreach),
        lambda p: OptimisticAMSGrad(p, lr=1.0, predictor=None, foreach=foreach),
        steps=16, at=8)
    assert opt.param_groups[0]["lr"] == 1e-2
    assert opt.param_groups[0]["predictor"] == "last"


def test_param_groups_keep_their_settings():
    w1, w2 = torch.zeros(2, requires_grad=True), torch.zeros(2, requires_grad=True)
    opt = OptimisticAMSGrad([{"params": [w1]}, {"params": [w2], "lr": 0.1,
                                                "predictor": None}], lr=0.01)
    (w1.sum() + w2.sum()).backward()
    opt.step()
    # first step: s_1 = lr (|m_hat / sqrt(v_hat)| = 1); optimistic: 2 s_1
    torch.testing.assert_close(w1.detach(), torch.full((2,), -0.02))
    torch.testing.assert_close(w2.detach(), torch.full((2,), -0.1))


@pytest.mark.parametrize("kw, match", [
    (dict(lr=-1e-3), "lr must be"), (dict(lr=float("nan")), "lr must be"),
    (dict(betas=(1.0, 0.999)), r"betas\[0\] must be"),
    (dict(betas=(0.9, 1.5)), r"betas\[1\] must be"),
    (dict(betas=(0.9,)), "betas"), (dict(eps=-1e-8), "eps must be"),
    (dict(weight_decay=-0.1), "weight_decay"),
    (dict(predictor="rmpe"), "predictor must be one of None, 'last'"),
    (dict(foreach="yes"), "foreach")])
def test_invalid_hyperparameters(kw, match):
    assert_refused(OptimisticAMSGrad, kw, match)


def test_invalid_param_group():
    w1, w2 = torch.zeros(2, requires_grad=True), torch.zeros(2, requires_grad=True)
    opt = OptimisticAMSGrad([w1])
    with pytest.raises(ValueError, match="predictor"):
        opt.add_param_group({"params": [w2], "predictor": "next"})
    with pytest.raises(ValueError, match="lr must be"):
        opt.add_param_group({"params": [w2], "lr": -1.0})
    assert len(opt.param_groups) == 1
