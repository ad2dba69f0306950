"""Tests of papers_lib.optim.scalpel (chapter nbs/optimizers/09_scalpel.ipynb)."""
import copy

import pytest
import torch

from papers_lib.optim.amsgrad import AMSGrad
from papers_lib.optim.scalpel import Bloop
from tests.optim_helpers import X as _X, Y as _Y, flat_params as _flat, small_net as _net


def _train(net, idx=None):
    Xb, Yb = (_X, _Y) if idx is None else (_X[idx], _Y[idx])
    return ((net(Xb) - Yb) ** 2).mean()


def _aux(net):
    return sum((p ** 2).sum() for p in net.parameters())


def _flat_grad(loss, params):
    return torch.cat([g.flatten() for g in torch.autograd.grad(loss, params)])


def _reference(steps, lam, beta, lr, batches):
    """Bloop transcribed: m = beta m + (1 - beta) g; d = g + lam (a - (a.m / |m|^2) m)."""
    net = _net()
    params = list(net.parameters())
    m = None
    for k in range(steps):
        g = _flat_grad(_train(net, batches[k]), params)
        a = _flat_grad(_aux(net), params)
        m = (1 - beta) * g if m is None else beta * m + (1 - beta) * g
        d = g + lam * (a - (a @ m) / (m @ m) * m)
        with torch.no_grad():
            i = 0
            for p in params:
                p -= lr * d[i:i + p.numel()].view_as(p)
                i += p.numel()
    return _flat(net)


def _batches(steps, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randint(0, len(_X), (8,), generator=g) for _ in range(steps)]


@pytest.mark.parametrize("lam, beta", [(0.5, 0.9), (2.0, 0.0), (0.1, 0.99), (0.0, 0.5)])
def test_matches_transcription_with_sgd(lam, beta):
    batches = _batches(12)
    ref = _reference(12, lam, beta, 0.05, batches)
    net = _net()
    bloop = Bloop(net.parameters(), lam=lam, beta=beta)
    opt = torch.optim.SGD(net.parameters(), lr=0.05)
    for k in range(12):
        opt.zero_grad()
        bloop.backward(_train(net, batches[k]), _aux(net))
        opt.step()
    torch.testing.assert_close(_flat(net), ref, rtol=0, atol=1e-6)
    assert (_flat(net) - _flat(_net())).abs().max() > 1e-3          # it moved


def test_orthogonal_to_full_gradient_with_beta_zero():
    net = _net()
    params = list(net.parameters())
    g = _flat_grad(_train(net), params)
    d = Bloop(params, lam=5.0, beta=0.0).backward(_train(net), _aux(net))
    assert abs((g @ d - g @ g).item()) < 1e-4 * (g @ g).item()
    torch.testing.assert_close(torch.cat([p.grad.flatten() for p in params]), d)


def test_lam_zero_is_plain_backward():
    net_a, net_b = _net(), _net()
    _train(net_a).backward()
    Bloop(net_b.parameters(), lam=0.0).backward(_train(net_b), _aux(net_b))
    for pa, pb in zip(net_a.parameters(), net_b.parameters()):
        torch.testing.assert_close(pa.grad, pb.grad)


def test_accumulates_into_grad():
    net = _net()
    for p in net.parameters():
        p.grad = torch.ones_like(p)
    d = Bloop(net.parameters(), lam=1.0).backward(_train(net), _aux(net))
    torch.testing.assert_close(torch.cat([p.grad.flatten() for p in net.parameters()]), d + 1)


def test_bilevel_solution_on_a_known_problem():
    # L(w) = (w1 + w2 - 2)^2 has minimisers w1 + w2 = 2; A(w) = (w1 - 3)^2 + w2^2.
    # The bilevel solution: minimise A on the line -> w = (2.5, -0.5).
    w = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    bloop = Bloop([w], lam=1.0, beta=0.0)          # full-batch: no noise
    opt = torch.optim.SGD([w], lr=0.05)
    for _ in range(3000):
        opt.zero_grad()
        bloop.backward((w.sum() - 2) ** 2, (w[0] - 3) ** 2 + w[1] ** 2)
        opt.step()
    torch.testing.assert_close(w.detach(), torch.tensor([2.5, -0.5], dtype=torch.float64),
                               rtol=0, atol=1e-4)
    # mixing the losses does not reach the line w1 + w2 = 2
    v = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([v], lr=0.05)
    for _ in range(3000):
        opt.zero_grad()
        ((v.sum() - 2) ** 2 + (v[0] - 3) ** 2 + v[1] ** 2).backward()
        opt.step()
    assert abs(v.sum().item() - 2) > 0.1


def test_state_dict_round_trip():
    batches = _batches(20, seed=3)
    net_a, net_b = _net(), _net()
    bl_a = Bloop(net_a.parameters(), lam=0.5, beta=0.9)
    bl_b = Bloop(net_b.parameters(), lam=0.5, beta=0.9)
    opt_a = torch.optim.SGD(net_a.parameters(), lr=0.05, momentum=0.9)
    opt_b = torch.optim.SGD(net_b.parameters(), lr=0.05, momentum=0.9)
    assert bl_b.state_dict()["ema"] is None
    for k in range(20):
        if k == 10:
            saved = [copy.deepcopy(x.state_dict()) for x in (net_b, opt_b, bl_b)]
            net_b = _net()
            net_b.load_state_dict(saved[0])
            opt_b = torch.optim.SGD(net_b.parameters(), lr=0.05, momentum=0.9)
            opt_b.load_state_dict(saved[1])
            bl_b = Bloop(net_b.parameters(), lam=9.0, beta=0.1)
            bl_b.load_state_dict(saved[2])
        for net, opt, bl in ((net_a, opt_a, bl_a), (net_b, opt_b, bl_b)):
            opt.zero_grad()
            bl.backward(_train(net, batches[k]), _aux(net))
            opt.step()
    assert bl_b.lam == 0.5 and bl_b.beta == 0.9
    assert torch.equal(_flat(net_a), _flat(net_b))
    assert torch.equal(bl_a.ema, bl_b.ema)


def test_works_with_amsgrad_and_a_closure():
    net = _net()
    bloop = Bloop(net.parameters(), lam=0.1, beta=0.9)
    opt = AMSGrad(net.parameters(), lr=1e-2)
    start = _train(net).item()

    def closure():
        opt.zero_grad()
        loss = _train(net)
        bloop.backward(loss, _aux(net))
        return loss

    for _ in range(50):
        loss = opt.step(closure)
    assert loss.item() < start and _train(net).item() < 0.9 * start


def test_param_groups_with_different_lrs():
    net = _net()
    layers = list(net.parameters())
    bloop = Bloop(layers, lam=0.3, beta=0.5)
    opt = torch.optim.SGD([{"params": layers[:2], "lr": 0.1},
                           {"params": layers[2:], "lr": 0.0}])
    before = _flat(net)
    d = bloop.backward(_train(net), _aux(net))
    opt.step()
    n0 = layers[0].numel() + layers[1].numel()
    torch.testing.assert_close((_flat(net) - before)[:n0], -0.1 * d[:n0])
    assert torch.equal(_flat(net)[n0:], before[n0:])


@pytest.mark.parametrize("kw, match", [
    (dict(lam=-0.1), "lam"), (dict(lam=float("nan")), "lam"), (dict(lam=float("inf")), "lam"),
    (dict(beta=1.0), "beta"), (dict(beta=-0.1), "beta"), (dict(beta=float("nan")), "beta")])
def test_invalid_hyperparameters(kw, match):
    w = torch.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match=match):
        Bloop([w], **kw)


def test_invalid_inputs():
    with pytest.raises(ValueError, match="params must hold at least one tensor"):
        Bloop([])
    with pytest.raises(ValueError, match="params must be tensors that require grad"):
        Bloop([torch.zeros(2)])
    w = torch.zeros(2, requires_grad=True)
    bloop = Bloop([w])
    with pytest.raises(ValueError, match=r"train_loss must be a scalar tensor, got shape \(2,\)"):
        bloop.backward(w * 2, w.sum())
    with pytest.raises(ValueError, match="ema"):
        bloop.load_state_dict({"lam": 0.1, "beta": 0.9, "ema": torch.zeros(3)})
    with pytest.raises(ValueError, match="beta"):
        bloop.load_state_dict({"lam": 0.1, "beta": 1.5, "ema": None})
