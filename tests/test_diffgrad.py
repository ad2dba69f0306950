"""Tests of papers_lib.optim.diffgrad (chapter nbs/optimizers/03_diffgrad.ipynb)."""
import copy
import math

import pytest
import torch

from papers_lib.optim.diffgrad import (DiffGrad, _multi_tensor_diffgrad,
                                       _single_tensor_diffgrad)
from tests.optim_helpers import flat_params as _flat, mse_loss as _loss, small_net as _net


def _states(ps):
    return ([torch.zeros_like(p) for p in ps], [torch.zeros_like(p) for p in ps],
            [torch.zeros_like(p) for p in ps], [torch.tensor(0.0) for _ in ps])


def _run_update(update, steps=20, friction=True, **kw):
    """Drive a raw update function on the small network; return the final weights."""
    net = _net()
    ps = list(net.parameters())
    state = _states(ps)
    hp = dict(beta1=0.9, beta2=0.999, lr=1e-2, weight_decay=0.0, eps=1e-8,
              maximize=False)
    hp.update(kw)
    for _ in range(steps):
        net.zero_grad()
        _loss(net).backward()
        with torch.no_grad():
            update(ps, [p.grad for p in ps], *state, friction=friction, **hp)
    return _flat(net)


def _torch_adam(foreach, steps=20, **kw):
    net = _net()
    opt = torch.optim.Adam(net.parameters(), lr=1e-2, foreach=foreach, **kw)
    for _ in range(steps):
        opt.zero_grad()
        _loss(net).backward()
        opt.step()
    return _flat(net)


KWS = [{}, {"weight_decay": 0.1}, {"maximize": True}]


@pytest.mark.parametrize("update", [_single_tensor_diffgrad, _multi_tensor_diffgrad])
@pytest.mark.parametrize("kw", KWS, ids=lambda kw: ",".join(kw) or "plain")
def test_friction_one_is_torch_adam(update, kw):
    foreach = update is _multi_tensor_diffgrad
    ref = _torch_adam(foreach, **kw)
    assert torch.equal(_run_update(update, friction=False, **kw), ref)
    # and the real method is not Adam
    assert (_run_update(update, friction=True, **kw) - ref).abs().max() > 1e-2


@pytest.mark.parametrize("foreach", [False, True])
def test_constant_gradient_half_of_adam(foreach):
    # xi_1 = sigmoid(|g|), then xi_t = sigmoid(0) = 1/2 exactly: half of Adam's step
    g = torch.tensor([0.3, -2.0, 5.0], dtype=torch.float64)
    x = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    xa = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    opt = DiffGrad([x], lr=0.1, foreach=foreach)
    adam = torch.optim.Adam([xa], lr=0.1, foreach=foreach)
    for t in range(1, 6):
        before, before_a = x.detach().clone(), xa.detach().clone()
        x.grad, xa.grad = g.clone(), g.clone()
        opt.step()
        adam.step()
        ratio = (x.detach() - before) / (xa.detach() - before_a)
        expected = torch.sigmoid(g.abs()) if t == 1 else torch.full_like(g, 0.5)
        torch.testing.assert_close(ratio, expected, rtol=1e-12, atol=0)


def test_paths_agree_mixed_dtypes():
    g = torch.Generator().manual_seed(0)
    shapes = [((3, 4), torch.float32), ((5,), torch.float64), ((2, 2), torch.float32)]
    p1 = [torch.randn(s, dtype=d, generator=g) for s, d in shapes]
    p2 = [p.clone() for p in p1]
    s1, s2 = _states(p1), _states(p2)
    hp = dict(beta1=0.8, beta2=0.99, lr=1e-2, weight_decay=0.1, eps=1e-8, maximize=True)
    for _ in range(6):
        gr = [torch.randn(p.shape, dtype=p.dtype, generator=g) for p in p1]
        _single_tensor_diffgrad(p1, gr, *s1, **hp)
        _multi_tensor_diffgrad(p2, gr, *s2, **hp)
    for a, b in zip(p1 + s1[0] + s1[1] + s1[2], p2 + s2[0] + s2[1] + s2[2]):
        assert torch.equal(a, b)
    assert all(s.item() == 6 for s in s1[3] + s2[3])


def test_optimizer_matches_reference_loop():
    # the optimizer against a plain-float transcription of the paper's update
    x = torch.tensor([0.5], dtype=torch.float64, requires_grad=True)
    opt = DiffGrad([x], lr=0.1, betas=(0.9, 0.99), eps=1e-8, weight_decay=0.01)
    xr, m, v, gp = 0.5, 0.0, 0.0, 0.0
    for t, gval in enumerate([4.0, -1.0, -1.0, 2.5], 1):
        x.grad = torch.tensor([gval], dtype=torch.float64)
        opt.step()
        gr = gval + 0.01 * xr
        m, v = 0.9 * m + 0.1 * gr, 0.99 * v + 0.01 * gr**2
        xi = 1 / (1 + math.exp(-abs(gp - gr)))
        gp = gr
        xr -= 0.1 / (1 - 0.9**t) * xi * m / ((v / (1 - 0.99**t)) ** 0.5 + 1e-8)
        assert abs(x.item() - xr) < 1e-12


@pytest.mark.parametrize("foreach", [None, False])
def test_state_dict_round_trip(foreach):
    net_a, net_b = _net(), _net()
    opt_a = DiffGrad(net_a.parameters(), lr=1e-2, weight_decay=0.01, foreach=foreach)
    opt_b = DiffGrad(net_b.parameters(), lr=1e-2, weight_decay=0.01, foreach=foreach)
    for k in range(16):
        if k == 8:
            saved_net, saved_opt = copy.deepcopy(net_b.state_dict()), opt_b.state_dict()
            net_b = _net()
            net_b.load_state_dict(saved_net)
            opt_b = DiffGrad(net_b.parameters(), lr=1.0)
            opt_b.load_state_dict(saved_opt)
            assert opt_b.param_groups[0]["lr"] == 1e-2
        for net, opt in ((net_a, opt_a), (net_b, opt_b)):
            opt.zero_grad()
            _loss(net).backward()
            opt.step()
    assert torch.equal(_flat(net_a), _flat(net_b))
    state = opt_a.state[next(net_a.parameters())]
    assert set(state) == {"step", "exp_avg", "exp_avg_sq", "previous_grad"}
    assert state["step"].item() == 16


def test_param_groups_keep_their_lr():
    w1, w2 = torch.zeros(2, requires_grad=True), torch.zeros(2, requires_grad=True)
    opt = DiffGrad([{"params": [w1]}, {"params": [w2], "lr": 0.1}], lr=0.01)
    (w1.sum() + w2.sum()).backward()
    opt.step()
    s = torch.sigmoid(torch.tensor(1.0)).item()
    torch.testing.assert_close(w1.detach(), torch.full((2,), -0.01 * s))
    torch.testing.assert_close(w2.detach(), torch.full((2,), -0.1 * s))


@pytest.mark.parametrize("kw, match", [
    ({"lr": -1e-3}, "learning rate"), ({"lr": float("nan")}, "learning rate"),
    ({"betas": (1.0, 0.999)}, "index 0"), ({"betas": (0.9, -0.1)}, "index 1"),
    ({"betas": (0.9,)}, "betas"), ({"eps": -1e-8}, "epsilon"),
    ({"weight_decay": -0.1}, "weight_decay"), ({"foreach": "yes"}, "foreach")])
def test_invalid_hyperparameters(kw, match):
    with pytest.raises(ValueError, match=match):
        DiffGrad([torch.zeros(1, requires_grad=True)], **kw)


def test_invalid_param_group():
    opt = DiffGrad([torch.zeros(1, requires_grad=True)])
    with pytest.raises(ValueError, match="learning rate"):
        opt.add_param_group({"params": [torch.zeros(1, requires_grad=True)], "lr": -1})


def test_sparse_and_complex_refused():
    emb = torch.nn.Embedding(10, 3, sparse=True)
    emb(torch.tensor([1, 2])).sum().backward()
    with pytest.raises(RuntimeError, match="sparse"):
        DiffGrad(emb.parameters()).step()
    z = torch.zeros(2, dtype=torch.complex64, requires_grad=True)
    z.grad = torch.ones(2, dtype=torch.complex64)
    with pytest.raises(TypeError, match="complex"):
        DiffGrad([z]).step()


def test_maximize_is_minimize_of_negative():
    x1 = torch.tensor([1.0, -1.0], requires_grad=True)
    x2 = x1.detach().clone().requires_grad_(True)
    o1, o2 = DiffGrad([x1], lr=0.1, maximize=True), DiffGrad([x2], lr=0.1)
    for _ in range(10):
        o1.zero_grad()
        o2.zero_grad()
        (-(x1 ** 2).sum()).backward()
        (x2 ** 2).sum().backward()
        o1.step()
        o2.step()
    assert torch.equal(x1, x2)
