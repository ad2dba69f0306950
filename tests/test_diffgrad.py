"""Tests of papers_lib.optim.diffgrad (chapter nbs/optimizers/03_diffgrad.ipynb)."""
import math

import pytest
import torch

from papers_lib.optim.base import AdamBase
from papers_lib.optim.diffgrad import DiffGrad
from tests.optim_helpers import (assert_maximize_is_minimize_of_negative,
                                 assert_paths_equal, assert_refused,
                                 assert_resumes_exactly, flat_params as _flat, train)


class _Xi1(DiffGrad):
    """DiffGrad with the friction coefficient forced to 1: the core's direction."""
    _direction = AdamBase._direction
    _foreach_direction = AdamBase._foreach_direction


def _train(cls, foreach, **kw):
    return _flat(train(lambda p: cls(p, lr=1e-2, foreach=foreach, **kw))[0])


KWS = [{}, {"weight_decay": 0.1}, {"maximize": True}]


@pytest.mark.parametrize("foreach", [False, True])
@pytest.mark.parametrize("kw", KWS, ids=lambda kw: ",".join(kw) or "plain")
def test_friction_one_is_torch_adam(foreach, kw):
    ref = _train(torch.optim.Adam, foreach, **kw)
    assert torch.equal(_train(_Xi1, foreach, **kw), ref)
    # and the real method is not Adam
    assert (_train(DiffGrad, foreach, **kw) - ref).abs().max() > 1e-2


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
    specs = [((3, 4), torch.float32), ((5,), torch.float64), ((2, 2), torch.float32)]
    o1, o2 = assert_paths_equal(
        lambda p, **kw: DiffGrad(p, lr=1e-2, betas=(0.8, 0.99), weight_decay=0.1,
                                 maximize=True, **kw),
        DiffGrad.state_keys + ("step",), specs=specs)
    assert all(s["step"].item() == 6 for o in (o1, o2) for s in o.state.values())


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
    opt = assert_resumes_exactly(
        lambda p: DiffGrad(p, lr=1e-2, weight_decay=0.01, foreach=foreach),
        lambda p: DiffGrad(p, lr=1.0), steps=16, at=8)
    assert opt.param_groups[0]["lr"] == 1e-2
    state = opt.state[opt.param_groups[0]["params"][0]]
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
    ({"lr": -1e-3}, "lr must be"), ({"lr": float("nan")}, "lr must be"),
    ({"betas": (1.0, 0.999)}, r"betas\[0\]"), ({"betas": (0.9, -0.1)}, r"betas\[1\]"),
    ({"betas": (0.9,)}, "betas"), ({"eps": -1e-8}, "eps must be"),
    ({"weight_decay": -0.1}, "weight_decay"), ({"foreach": "yes"}, "foreach")])
def test_invalid_hyperparameters(kw, match):
    assert_refused(DiffGrad, kw, match)


def test_invalid_param_group():
    opt = DiffGrad([torch.zeros(1, requires_grad=True)])
    with pytest.raises(ValueError, match="lr must be"):
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
    assert_maximize_is_minimize_of_negative(DiffGrad, lr=0.1)
