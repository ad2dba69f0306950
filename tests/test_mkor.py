"""Tests of papers_lib.optim.mkor (chapter nbs/optimizers/12_mkor.ipynb)."""
import copy

import pytest
import torch

from papers_lib.optim.mkor import (KFAC, MKOR, kronecker_precondition,
                                   sherman_morrison_ema, stabilize_inverse)
from tests.optim_helpers import X as _X, Y as _Y
from tests.optim_helpers import flat_params as _flat, mse_loss as _loss
from tests.optim_helpers import small_net as _net

F64 = torch.float64


def _spd(n, gen):
    M = torch.randn(n, n, generator=gen, dtype=F64)
    return M @ M.T + 0.5 * torch.eye(n, dtype=F64)


def _train(net, opt, n):
    for _ in range(n):
        opt.zero_grad()
        _loss(net).backward()
        opt.step()


@pytest.mark.parametrize("gamma", [0.5, 0.9, 0.99])
def test_sherman_morrison_equals_inverse_of_updated_factor(gamma):
    gen = torch.Generator().manual_seed(0)
    L = _spd(12, gen)
    inv = torch.linalg.inv(L)
    for _ in range(10):
        v = torch.randn(12, generator=gen, dtype=F64)
        L = gamma * L + (1 - gamma) * torch.outer(v, v)
        inv = sherman_morrison_ema(inv, v, gamma)
        torch.testing.assert_close(inv, torch.linalg.inv(L), rtol=1e-10, atol=1e-12)
    assert torch.linalg.eigvalsh(0.5 * (inv + inv.T)).min() > 0


def test_stabilizer():
    inv = torch.tensor([[3.0, 0.5], [0.5, 1.0]], dtype=F64)
    out, hit = stabilize_inverse(inv, 2.0, 0.9)
    assert hit
    torch.testing.assert_close(out, 0.9 * inv + 0.1 * torch.eye(2, dtype=F64))
    out, hit = stabilize_inverse(inv, 3.0, 0.9)      # |entry| <= threshold: unchanged
    assert not hit and out is inv


def test_preconditioning_equals_explicit_kronecker_solve():
    gen = torch.Generator().manual_seed(1)
    L, R = _spd(3, gen), _spd(4, gen)
    grad = torch.randn(3, 4, generator=gen, dtype=F64)
    ours = kronecker_precondition(grad, torch.linalg.inv(L), torch.linalg.inv(R))
    vec = grad.T.reshape(-1)                                  # column-major vec
    explicit = torch.linalg.solve(torch.kron(R, L), vec)
    torch.testing.assert_close(ours.T.reshape(-1), explicit, rtol=1e-12, atol=1e-12)
    scaled = kronecker_precondition(grad, torch.linalg.inv(L), torch.linalg.inv(R),
                                    rescale=True)
    torch.testing.assert_close(scaled.norm(), grad.norm())
    # identity factors: the gradient itself, exactly
    assert torch.equal(kronecker_precondition(grad, torch.eye(3, dtype=F64),
                                              torch.eye(4, dtype=F64), True), grad)


@pytest.mark.parametrize("foreach", [False, True])
def test_first_order_fallback_is_torch_sgd(foreach):
    net_a, net_b = _net(), _net()
    opt_a = MKOR(net_a, lr=0.05, momentum=0.9, weight_decay=0.01, foreach=foreach)
    opt_a.switch_to_first_order()
    opt_b = torch.optim.SGD(net_b.parameters(), lr=0.05, momentum=0.9,
                            weight_decay=0.01, foreach=foreach)
    _train(net_a, opt_a, 12)
    _train(net_b, opt_b, 12)
    assert torch.equal(_flat(net_a), _flat(net_b))
    # and the second-order method is not SGD
    net_c = _net()
    _train(net_c, MKOR(net_c, lr=0.05, momentum=0.9, weight_decay=0.01), 12)
    assert (_flat(net_c) - _flat(net_b)).abs().max() > 1e-3


def test_paths_agree():
    nets = [_net(), _net()]
    opts = [MKOR(n, lr=0.05, weight_decay=0.01, foreach=f)
            for n, f in zip(nets, (False, True))]
    for n, o in zip(nets, opts):
        _train(n, o, 10)
    torch.testing.assert_close(_flat(nets[0]), _flat(nets[1]), rtol=0, atol=1e-6)


def _last_layer_backward(make_opt):
    """A float64 small net, `make_opt(net)`, and one backward pass of the squared loss
    written out: the optimizer, the last layer's weights before the step, its input h,
    the output and the targets."""
    net = _net().double()
    opt = make_opt(net)
    X, Y = _X.double(), _Y.double()
    W0 = net[2].weight.detach().clone()
    opt.zero_grad()
    h = torch.tanh(net[0](X))
    out = net[2](h)
    ((out - Y) ** 2).mean().backward()
    return net, opt, W0, h, out, Y


def test_one_step_matches_dense_factors():
    net, opt, W0, h, out, Y = _last_layer_backward(
        lambda net: MKOR(net, lr=0.1, momentum=0.0, rescale=False, stat_decay=0.8))
    a = torch.cat([h.mean(0), torch.ones(1, dtype=F64)]).detach()
    g = (2 * (out - Y) / out.numel()).sum(0).detach()
    R = 0.8 * torch.eye(9, dtype=F64) + 0.2 * torch.outer(a, a)
    L = 0.8 * torch.eye(2, dtype=F64) + 0.2 * torch.outer(g, g)
    grad = torch.cat([net[2].weight.grad, net[2].bias.grad[:, None]], 1)
    step = torch.linalg.inv(L) @ grad @ torch.linalg.inv(R)
    opt.step()
    torch.testing.assert_close(net[2].weight, W0 - 0.1 * step[:, :8], rtol=0,
                               atol=1e-12)


def test_kfac_every_step_inversion_matches_dense():
    # K-FAC with inv_freq=1 and one step: (G + d/pi I)^-1 grad (A + pi d I)^-1
    net, opt, W0, h, out, Y = _last_layer_backward(
        lambda net: KFAC(net, lr=0.1, momentum=0.0, rescale=False, inv_freq=1,
                         damping=1e-2))
    hb = torch.cat([h, torch.ones(len(h), 1, dtype=F64)], 1).detach()
    A = hb.T @ hb / len(hb)
    go = (2 * (out - Y) / out.numel()).detach()
    G = go.T @ go * len(go)
    pi = ((A.trace() / 9) / (G.trace() / 2)).sqrt()
    lam = 0.1
    Ai = torch.linalg.inv(A + pi * lam * torch.eye(9, dtype=F64))
    Gi = torch.linalg.inv(G + lam / pi * torch.eye(2, dtype=F64))
    grad = torch.cat([net[2].weight.grad, net[2].bias.grad[:, None]], 1)
    opt.step()
    torch.testing.assert_close(net[2].weight, W0 - 0.1 * (Gi @ grad @ Ai)[:, :8],
                               rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("Opt", [MKOR, KFAC])
def test_state_dict_round_trip(Opt):
    net_a, net_b = _net(), _net()
    opt_a, opt_b = Opt(net_a, lr=0.05), Opt(net_b, lr=0.05)
    _train(net_a, opt_a, 8)
    _train(net_b, opt_b, 8)
    saved_net = copy.deepcopy(net_b.state_dict())
    saved_opt = copy.deepcopy(opt_b.state_dict())
    opt_b.remove_hooks()
    net_b = _net()
    net_b.load_state_dict(saved_net)
    opt_b = Opt(net_b, lr=1.0)
    opt_b.load_state_dict(saved_opt)
    assert opt_b.param_groups[0]["lr"] == 0.05
    _train(net_a, opt_a, 8)
    _train(net_b, opt_b, 8)
    assert torch.equal(_flat(net_a), _flat(net_b))
    state = opt_a.state[net_a[0].weight]
    assert ("a_inv" if Opt is MKOR else "A") in state and state["step"].item() == 16


def test_closure_returns_loss_and_hooks_see_it():
    net = _net()
    opt = MKOR(net, lr=0.05)
    before = _flat(net)

    def closure():
        opt.zero_grad()
        loss = _loss(net)
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert loss.item() == pytest.approx(_loss(_net()).item())
    assert not torch.equal(before, _flat(net))
    assert not torch.equal(opt.state[net[0].weight]["a_inv"], torch.eye(5))


def test_param_groups_keep_their_lr():
    net = _net()
    opt = MKOR(net, lr=0.05)
    opt.param_groups[0]["lr"] = 0.0            # lr 0: nothing moves
    before = _flat(net)
    _train(net, opt, 2)
    assert torch.equal(before, _flat(net))
    with pytest.raises(ValueError, match="lr must be"):
        opt.add_param_group({"params": [torch.zeros(1, requires_grad=True)], "lr": -1})


def test_hybrid_switches_when_loss_stalls():
    w = torch.nn.Linear(3, 1)
    opt = MKOR(w, lr=0.0, switch_window=4, switch_threshold=0.01)   # lr 0: loss flat
    x = torch.randn(8, 3)

    def closure():
        opt.zero_grad()
        loss = w(x).pow(2).mean()
        loss.backward()
        return loss

    for _ in range(7):
        opt.step(closure)
    assert opt.switched_at is None              # only one window so far
    opt.step(closure)
    assert opt.switched_at == 8                 # second window: no decrease
    with pytest.raises(RuntimeError, match="closure"):
        MKOR(torch.nn.Linear(2, 1), switch_window=3).step()


def test_converges_on_linear_regression():
    # a linear model y = W x + b, least squares: minimum at the true (W, b)
    gen = torch.Generator().manual_seed(0)
    X = torch.randn(256, 4, generator=gen) + 3.0   # non-zero mean: ill-conditioned
    W_true, b_true = torch.randn(2, 4, generator=gen), torch.randn(2, generator=gen)
    Y = X @ W_true.T + b_true
    lin = torch.nn.Linear(4, 2)
    opt = MKOR(lin, lr=0.05, momentum=0.9)
    for _ in range(600):
        opt.zero_grad()
        ((lin(X) - Y) ** 2).mean().backward()
        opt.step()
    assert (lin.weight.detach() - W_true).abs().max() < 1e-2
    assert (lin.bias.detach() - b_true).abs().max() < 5e-2


@pytest.mark.parametrize("kw, exc, match", [
    ({"momentum": 1.0}, ValueError, "momentum must be a (finite )?real number >= 0, < 1"),
    ({"stat_decay": 0.0}, ValueError, "stat_decay must be a (finite )?real number > 0, < 1"),
    ({"stat_decay": 1.0}, ValueError, "stat_decay must be"),
    ({"lr": -1.0}, ValueError, "lr must be"), ({"inv_freq": 0}, ValueError, "inv_freq"),
    ({"inv_freq": 1.5}, TypeError, "inv_freq must be an int, got 1.5"),
    ({"stabilizer_threshold": -1.0}, ValueError, "stabilizer_threshold must be"),
    ({"stabilizer_zeta": 1.5}, ValueError, "stabilizer_zeta must be"),
    ({"weight_decay": -0.1}, ValueError, "weight_decay must be"),
    ({"rescale": "yes"}, TypeError, "rescale must be a bool, got 'yes'"),
    ({"switch_window": 0}, ValueError, "switch_window must be an int >= 1"),
    ({"foreach": "yes"}, ValueError, "foreach must be")])
def test_invalid_hyperparameters(kw, exc, match):
    with pytest.raises(exc, match=match):
        MKOR(_net(), **kw)


@pytest.mark.parametrize("kw, match", [({"damping": 0.0}, "damping must be"),
                                       ({"inv_freq": -2}, "inv_freq must be")])
def test_invalid_kfac_hyperparameters(kw, match):
    with pytest.raises(ValueError, match=match):
        KFAC(_net(), **kw)


def test_bad_model_and_layers():
    with pytest.raises(TypeError, match="nn.Module"):
        MKOR(_net().parameters())
    with pytest.raises(ValueError, match="no nn.Linear"):
        MKOR(torch.nn.Sequential(torch.nn.Tanh(), torch.nn.Conv1d(1, 1, 1)))
    with pytest.raises(ValueError, match="not a trainable part"):
        MKOR(_net(), layers=[torch.nn.Linear(2, 2)])
    with pytest.raises(TypeError, match="nn.Linear"):
        MKOR(_net(), layers=[torch.nn.Tanh()])
