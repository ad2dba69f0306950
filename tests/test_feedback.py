"""Tests of papers_lib.gradest.feedback (page nbs/gradest/02_dfa.ipynb)."""
import math

import pytest
import torch
from torch import nn

from papers_lib.gradest.feedback import (alignment, dfa_gradients, dfa_loss,
                                         random_feedback)

F64 = torch.float64
ce = nn.functional.cross_entropy


def tanh_net(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 3), nn.Tanh(),
                         nn.Linear(3, 2)).to(F64)


def data(n=7, seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 5, generator=g, dtype=F64), torch.randint(0, 2, (n,),
                                                                    generator=g)


def test_random_feedback_shapes_scale_and_seed():
    net = tanh_net()
    B = random_feedback(net, generator=torch.Generator().manual_seed(0))
    assert [b.shape for b in B] == [(4, 2), (3, 2)] and B[0].dtype == F64
    B2 = random_feedback(net, generator=torch.Generator().manual_seed(0))
    assert all(torch.equal(a, b) for a, b in zip(B, B2))
    wide = nn.Sequential(nn.Linear(3, 400), nn.ReLU(), nn.Linear(400, 50))
    (Bw,) = random_feedback(wide, generator=torch.Generator().manual_seed(0))
    assert Bw.var().item() == pytest.approx(1 / 50, rel=0.05)   # 20000 entries
    with pytest.raises(TypeError, match="nn.Sequential"):
        random_feedback(nn.Linear(3, 2))
    with pytest.raises(ValueError, match="two nn.Linear"):
        random_feedback(nn.Sequential(nn.Linear(3, 2), nn.Tanh()))


def test_dfa_matches_the_closed_form():
    """delta a_l = (B_l e) * tanh'(a_l); dW_l = delta a_l^T h_{l-1}; last layer exact."""
    net, (x, y) = tanh_net(), data()
    B = random_feedback(net, generator=torch.Generator().manual_seed(3))
    W1, b1, W2, b2, W3, b3 = (p.detach() for p in net.parameters())
    a1 = x @ W1.T + b1
    h1 = torch.tanh(a1)
    a2 = h1 @ W2.T + b2
    h2 = torch.tanh(a2)
    out = h2 @ W3.T + b3
    e = (out.softmax(1) - nn.functional.one_hot(y, 2)) / len(x)
    d1 = (e @ B[0].T) * (1 - h1 ** 2)
    d2 = (e @ B[1].T) * (1 - h2 ** 2)
    want = {"0.weight": d1.T @ x, "0.bias": d1.sum(0), "2.weight": d2.T @ h1,
            "2.bias": d2.sum(0), "4.weight": e.T @ h2, "4.bias": e.sum(0)}
    got = dfa_gradients(net, x, y, B)
    assert list(got) == list(want)
    for k in want:
        torch.testing.assert_close(got[k], want[k])
    # the last layer's update is torch's own gradient
    ref = torch.autograd.grad(ce(net(x), y), list(net.parameters()))
    torch.testing.assert_close(got["4.weight"], ref[4])
    torch.testing.assert_close(got["4.bias"], ref[5])
    # and a hidden layer's is not
    assert not torch.allclose(got["0.weight"], ref[0])


def test_dfa_loss_value_and_backward_into_grad():
    net, (x, y) = tanh_net(), data()
    B = random_feedback(net, generator=torch.Generator().manual_seed(3))
    S = dfa_loss(net, x, y, B)
    torch.testing.assert_close(S, ce(net(x), y))
    S.backward()
    want = dfa_gradients(net, x, y, B)
    for k, p in net.named_parameters():
        torch.testing.assert_close(p.grad, want[k])


def test_linear_network_with_transposed_chain_is_backprop():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(6, 5), nn.Linear(5, 4),
                        nn.Linear(4, 3)).to(F64)
    x = torch.randn(9, 2, 3, dtype=F64)
    y = torch.randint(0, 3, (9,))
    W1, W2, W3 = (m.weight.detach() for m in net if isinstance(m, nn.Linear))
    got = dfa_gradients(net, x, y, [(W3 @ W2).T, W3.T])
    ref = torch.autograd.grad(ce(net(x), y), list(net.parameters()))
    for g, r in zip(got.values(), ref):
        torch.testing.assert_close(g, r)
    # a random feedback does not reproduce it
    rnd = random_feedback(net, generator=torch.Generator().manual_seed(0))
    assert not torch.allclose(dfa_gradients(net, x, y, rnd)["1.weight"], ref[0])


def test_dfa_with_mse_loss():
    net, (x, _) = tanh_net(), data()
    t = torch.randn(7, 2, dtype=F64)
    B = random_feedback(net)
    got = dfa_gradients(net, x, t, B, nn.functional.mse_loss)
    ref = torch.autograd.grad(nn.functional.mse_loss(net(x), t), list(net.parameters()))
    torch.testing.assert_close(got["4.weight"], ref[4])


def test_dfa_bad_input():
    net, (x, y) = tanh_net(), data()
    B = random_feedback(net)
    with pytest.raises(ValueError, match="2 matrices"):
        dfa_loss(net, x, y, B[:1])
    with pytest.raises(ValueError, match=r"feedback\[1\] must have shape \(3, 2\)"):
        dfa_loss(net, x, y, [B[0], B[1].T])
    with pytest.raises(ValueError, match="scalar"):
        dfa_loss(net, x, y, B, lambda o, t: ce(o, t, reduction="none"))
    with pytest.raises(TypeError, match="nn.Sequential"):
        dfa_gradients(nn.Linear(5, 2), x, y, B)


def test_alignment_closed_form_angles():
    u = {"a.weight": torch.tensor([[1.0, 0.0]]), "a.bias": torch.tensor([0.0]),
         "b.weight": torch.tensor([1.0, 1.0]), "c.weight": torch.zeros(2)}
    g = {"a.weight": torch.tensor([[1.0, 1.0]]), "a.bias": torch.tensor([0.0]),
         "b.weight": torch.tensor([-2.0, -2.0]), "c.weight": torch.ones(2)}
    ang = alignment(u, g)
    assert set(ang) == {"a", "b", "c"}
    assert ang["a"] == pytest.approx(45.0)
    assert ang["b"] == pytest.approx(180.0)
    assert ang["c"] == pytest.approx(90.0)          # zero vector: orthogonal
    assert alignment(g, g)["a"] == pytest.approx(0.0, abs=1e-5)
    x = torch.tensor([[1.0, 2.0, 0.5]])
    v = torch.tensor([[0.3, -1.0, 2.0]])
    cos = (x * v).sum() / (x.norm() * v.norm())
    assert alignment({"w": x}, {"w": v})[""] == pytest.approx(
        math.degrees(math.acos(cos.item())))


def test_alignment_bad_input():
    g = {"a.weight": torch.ones(2, 2)}
    with pytest.raises(ValueError, match="same names"):
        alignment(g, {"b.weight": torch.ones(2, 2)})
    with pytest.raises(ValueError, match="shapes differ"):
        alignment(g, {"a.weight": torch.ones(4)})
