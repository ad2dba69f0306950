"""Tests of papers_lib.gradest.forward_forward
(page nbs/gradest/03_forward_forward.ipynb)."""
import pytest
import torch
from torch.nn import functional as F

from papers_lib.gradest.forward_forward import (FFNet, embed_label, ff_loss,
                                                ff_predict, ff_scores, wrong_labels)

F64 = torch.float64


def net(seed=0, sizes=(7, 5, 4, 3)):
    torch.manual_seed(seed)
    return FFNet(list(sizes)).to(F64)


def data(n=9, d=4, c=3, seed=1):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, d, generator=g, dtype=F64)
    y = torch.randint(0, c, (n,), generator=g)
    return x, y, wrong_labels(y, c, generator=g)


def test_embed_label_round_trip_and_errors():
    x, y, _ = data()
    e = embed_label(x, y, 3)
    assert e.shape == (9, 7) and e.dtype == F64
    torch.testing.assert_close(e[:, 3:], x)
    assert torch.equal(e[:, :3].argmax(1), y)
    assert torch.equal(e[:, :3].sum(1), torch.ones(9, dtype=F64))
    with pytest.raises(ValueError, match="shape \\(n, d\\)"):
        embed_label(x[0], y[:1], 3)
    with pytest.raises(ValueError, match="y must have shape"):
        embed_label(x, y[:3], 3)
    with pytest.raises(ValueError, match=r"y must hold labels in 0\.\."):
        embed_label(x, y + 3, 3)


def test_wrong_labels_never_correct_and_uniform():
    y = torch.zeros(30000, dtype=torch.long)
    w = wrong_labels(y, 4, generator=torch.Generator().manual_seed(0))
    assert (w != 0).all()
    freq = torch.bincount(w, minlength=4).double() / len(w)
    torch.testing.assert_close(freq[1:], torch.full((3,), 1 / 3, dtype=F64), atol=0.01,
                               rtol=0)
    with pytest.raises(ValueError, match="n_classes must be an int >= 2"):
        wrong_labels(y, 1)


def test_goodness_closed_form():
    """G_l = mean(relu(W_l nu(h_{l-1}) + b_l)^2), nu = rescale to unit RMS."""
    m = net()
    m.eps = 0.0                                     # the exact normalisation
    x = torch.randn(6, 7, dtype=F64, generator=torch.Generator().manual_seed(2))
    h, want = x, []
    for lay in m.layers:
        u = h / h.pow(2).mean(1, keepdim=True).sqrt()
        h = torch.relu(u @ lay.weight.T + lay.bias)
        want.append(h.pow(2).sum(1) / h.shape[1])
    torch.testing.assert_close(m.goodness(x), torch.stack(want, 1))
    # length normalisation: scaling the input does not change anything
    torch.testing.assert_close(m.goodness(3.7 * x), m.goodness(x))
    with pytest.raises(ValueError, match="at least one layer"):
        FFNet([5])


def test_vanilla_loss_closed_form():
    m, (x, y, w) = net(), data()
    xp, xn = embed_label(x, y, 3), embed_label(x, w, 3)
    gp, gn = m.goodness(xp), m.goodness(xn)
    want = -F.logsigmoid(gp - 1.5).mean(0) - F.logsigmoid(1.5 - gn).mean(0)
    got = ff_loss(m, xp, xn, 1.5)
    assert got.shape == (3,)
    torch.testing.assert_close(got, want)
    with pytest.raises(ValueError, match="same row shape"):
        ff_loss(m, xp, xn[:, :5])


@pytest.mark.parametrize("collaborative", [False, True])
def test_gradients_stay_inside_each_layer(collaborative):
    m, (x, y, w) = net(), data()
    losses = ff_loss(m, embed_label(x, y, 3), embed_label(x, w, 3), 0.5,
                     collaborative=collaborative)
    for l in range(3):
        for k, lay in enumerate(m.layers):
            grads = torch.autograd.grad(losses[l], list(lay.parameters()),
                                        retain_graph=True, allow_unused=True)
            if k == l:
                assert all(g is not None and g.abs().max() > 0 for g in grads)
            else:
                assert all(g is None or (g == 0).all() for g in grads)


def test_collaborative_equals_vanilla_with_shifted_threshold():
    m, (x, y, w) = net(), data()
    xp, xn = embed_label(x, y, 3), embed_label(x, w, 3)
    theta = 0.8
    gp, gn = m.goodness(xp).detach(), m.goodness(xn).detach()
    # per-example, per-layer thresholds theta - sum of the other layers' goodness
    tp = theta - (gp.sum(1, keepdim=True) - gp)
    tn = theta - (gn.sum(1, keepdim=True) - gn)
    Gp, Gn = m.goodness(xp), m.goodness(xn)
    shifted = (F.softplus(tp - Gp).mean(0) + F.softplus(Gn - tn).mean(0)).sum()
    collab = ff_loss(m, xp, xn, theta, collaborative=True)
    torch.testing.assert_close(collab.sum(), shifted)
    g1 = torch.autograd.grad(collab.sum(), list(m.parameters()))
    g2 = torch.autograd.grad(shifted, list(m.parameters()))
    for a, b in zip(g1, g2):
        torch.testing.assert_close(a, b)
    # and it is not the vanilla gradient
    g0 = torch.autograd.grad(ff_loss(m, xp, xn, theta).sum(), list(m.parameters()))
    assert max((a - b).abs().max() for a, b in zip(g0, g1)) > 1e-3
    # a tensor theta of shape (n, L) with equal entries is the float theta
    full = torch.full((9, 3), theta, dtype=F64)
    torch.testing.assert_close(ff_loss(m, xp, xp, full), ff_loss(m, xp, xp, theta))


def test_scores_and_prediction():
    m, (x, y, _) = net(), data()
    S = ff_scores(m, x, 3)
    assert S.shape == (9, 3, 3) and not S.requires_grad
    for c in range(3):
        xc = embed_label(x, torch.full_like(y, c), 3)
        torch.testing.assert_close(S[:, c], m.goodness(xc).detach())
    assert torch.equal(ff_predict(m, x, 3), S.sum(-1).argmax(1))
    assert torch.equal(ff_predict(m, x, 3, [1]), S[..., 1].argmax(1))
    assert torch.equal(ff_predict(m, x, 3, [0, 2]), (S[..., 0] + S[..., 2]).argmax(1))
    with pytest.raises(ValueError, match="at least one layer"):
        ff_predict(m, x, 3, [])


def test_training_separates_positive_from_negative():
    """A few steps of vanilla FF raise positive goodness above negative goodness."""
    g = torch.Generator().manual_seed(0)
    x = torch.rand(64, 4, generator=g, dtype=F64)
    y = (x[:, 0] > 0.5).long()
    m = net(sizes=(6, 16))
    opt = torch.optim.Adam(m.parameters(), lr=0.05)
    for _ in range(80):
        xn = embed_label(x, wrong_labels(y, 2, generator=g), 2)
        loss = ff_loss(m, embed_label(x, y, 2), xn, 1.0).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert (ff_predict(m, x, 2) == y).double().mean() > 0.9
