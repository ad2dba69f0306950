"""Tests of papers_lib.gradest.noprop (page nbs/gradest/04_noprop.ipynb)."""
import math

import pytest
import torch
from torch import nn

from papers_lib.diffusion import DiscreteSchedule, VPCosine
from papers_lib.gradest.noprop import (NoPropDT, classifier_loss, nearest_label,
                                       noisy_label, noprop_loss, noprop_predict,
                                       noprop_step)

F64 = torch.float64


def model(T=4, d_in=5, k=3, seed=0, **kw):
    torch.manual_seed(seed)
    return NoPropDT(d_in, k, T=T, hidden=8, depth=1, **kw).to(F64)


def data(n=6, d_in=5, k=3, seed=1):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(n, d_in, generator=g, dtype=F64),
            torch.randint(0, k, (n,), generator=g))


def gen(seed):
    return torch.Generator().manual_seed(seed)


class Copy(nn.Module):
    """An oracle block: the input x is the one-hot label; return it."""

    def __init__(self, k):
        super().__init__()
        self.k = k

    def forward(self, inp):
        return inp[:, :self.k]


def oracle(T=4, k=3):
    m = model(T=T, d_in=k, k=k)
    m.blocks = nn.ModuleList(Copy(k) for _ in range(T))
    return m


def test_levels_follow_the_schedule():
    m = model(T=4)
    ab = VPCosine().discretize(5, max_beta=0.999).alphas_bar
    assert m.level(0) == 1.0 and m.level(4) == pytest.approx(1 / 5)
    for t in range(5):
        assert m.alpha_bar(t) == pytest.approx(float(ab[4 - t]), rel=1e-12)
        assert m.alpha_bar(t) == pytest.approx(
            float(m.schedule.alpha(m.level(t))) ** 2, rel=1e-9)
        assert m.snr(t) == pytest.approx(m.alpha_bar(t) / (1 - m.alpha_bar(t)))
    assert all(m.snr(t) < m.snr(t + 1) for t in range(4))
    assert torch.equal(m.u, torch.eye(3, dtype=F64))


def test_noisy_label_is_q_sample_and_has_the_marginal_moments():
    m = model(T=4)
    y = torch.tensor([0, 2])
    for t in range(5):
        z = noisy_label(m, y, t, gen(3))
        eps = torch.randn(2, 3, generator=gen(3), dtype=F64)
        ab = m.alpha_bar(t)
        assert torch.allclose(z, ab ** 0.5 * m.u[y] + (1 - ab) ** 0.5 * eps)
    n, t = 40000, 2
    z = noisy_label(m, torch.full((n,), 1), t, gen(4))
    ab = m.alpha_bar(t)
    se_mean, se_var = ((1 - ab) / n) ** 0.5, (1 - ab) * (2 / n) ** 0.5
    assert ((z.mean(0) - ab ** 0.5 * m.u[1]).abs() < 5 * se_mean).all()
    assert ((z.var(0) - (1 - ab)).abs() < 5 * se_var).all()


def test_noprop_loss_closed_form():
    m = model(T=4, eta=0.3)
    x, y = data()
    for t in range(1, 5):
        ab = m.alpha_bar(t - 1)
        eps = torch.randn(6, 3, generator=gen(t), dtype=F64)
        z = ab ** 0.5 * m.u[y] + (1 - ab) ** 0.5 * eps
        pred = m.blocks[t - 1](torch.cat([x, z], 1))
        w = 0.3 * 4 / 2 * (m.snr(t) - m.snr(t - 1))
        ref = w * ((pred - m.u[y]) ** 2).sum(1).mean()
        assert torch.allclose(noprop_loss(m, x, y, t, gen(t)), ref)


def test_elbo_weight_is_the_gaussian_kl_of_the_step():
    """With eta = 1, block t's loss is T times the KL between q(z_t | z_{t-1}, u_y) and
    p(z_t | z_{t-1}, x): two Gaussians with variance c_t whose means differ by
    a_t (u_hat - u_y), so KL = a_t^2 / (2 c_t) ||u_hat - u_y||^2."""
    m = model(T=4)
    x, y = data()
    for t in range(1, 5):
        hi, lo = m.alpha_bar(t - 1), m.alpha_bar(t)
        beta = 1 - hi / lo
        a = lo ** 0.5 * beta / (1 - hi)
        c = (1 - lo) / (1 - hi) * beta
        assert a ** 2 / c == pytest.approx(m.snr(t) - m.snr(t - 1), rel=1e-10)
        ab = m.alpha_bar(t - 1)
        eps = torch.randn(6, 3, generator=gen(t), dtype=F64)
        z = ab ** 0.5 * m.u[y] + (1 - ab) ** 0.5 * eps
        pred = m.blocks[t - 1](torch.cat([x, z], 1))
        kl = a ** 2 / (2 * c) * ((pred - m.u[y]) ** 2).sum(1).mean()
        assert torch.allclose(noprop_loss(m, x, y, t, gen(t)), 4 * kl)


def test_each_loss_reaches_only_its_block():
    m = model(T=4)
    x, y = data()
    for t in range(1, 5):
        m.zero_grad(set_to_none=True)
        noprop_loss(m, x, y, t, gen(t)).backward()
        for s, blk in enumerate(m.blocks, start=1):
            grads = [p.grad for p in blk.parameters()]
            if s == t:
                assert all(g is not None and g.abs().sum() > 0 for g in grads)
            else:
                assert all(g is None for g in grads)
        assert all(p.grad is None for p in m.head.parameters())
    m.zero_grad(set_to_none=True)
    classifier_loss(m, y, gen(0)).backward()
    assert all(p.grad is None for p in m.blocks.parameters())
    assert all(p.grad is not None for p in m.head.parameters())


def test_summed_losses_give_each_block_its_own_gradient():
    m = model(T=3)
    x, y = data()
    own = []
    for t in range(1, 4):
        m.zero_grad(set_to_none=True)
        noprop_loss(m, x, y, t, gen(t)).backward()
        own.append([p.grad.clone() for p in m.blocks[t - 1].parameters()])
    m.zero_grad(set_to_none=True)
    sum(noprop_loss(m, x, y, t, gen(t)) for t in range(1, 4)).backward()
    for t in range(1, 4):
        for g, p in zip(own[t - 1], m.blocks[t - 1].parameters()):
            assert torch.allclose(g, p.grad)


def test_classifier_loss_is_cross_entropy_on_q_zT():
    m = model(T=4)
    y = torch.tensor([0, 1, 2, 2])
    z = noisy_label(m, y, 4, gen(5))
    ref = nn.functional.cross_entropy(m.head(z), y)
    assert torch.allclose(classifier_loss(m, y, gen(5)), ref)


def test_step_is_the_ddpm_posterior_with_the_prediction():
    m = model(T=4)
    x, _ = data()
    z = torch.randn(6, 3, generator=gen(9), dtype=F64)
    for t in range(1, 5):
        hi, lo = m.alpha_bar(t - 1), m.alpha_bar(t)     # abar_i, abar_{i-1}
        a_i = hi / lo
        beta = 1 - a_i
        u_hat = m.denoise(t, x, z).detach()
        mean = (lo ** 0.5 * beta / (1 - hi) * u_hat
                + a_i ** 0.5 * (1 - lo) / (1 - hi) * z)
        var = (1 - lo) / (1 - hi) * beta
        ref = mean + var ** 0.5 * torch.randn(6, 3, generator=gen(t), dtype=F64)
        assert torch.allclose(noprop_step(m, x, z, t, gen(t)), ref, atol=1e-10)


def test_oracle_blocks_are_exact_and_the_chain_samples_q_zT():
    m = oracle(T=4, k=3)
    y = torch.arange(3).repeat(4000)
    x = nn.functional.one_hot(y, 3).to(F64)
    logits, preds = noprop_predict(m, x, gen(0), trajectory=True)
    assert preds.shape == (4, 12000, 3) and logits.shape == (12000, 3)
    assert torch.equal(preds, x.expand(4, -1, -1))
    assert torch.equal(nearest_label(m, preds), y.expand(4, -1))
    # with an identity head the logits are z_T; the chain starts from N(0, I), not
    # q(z_0 | y), a difference of sqrt(abar_0) ~ 0.01 in the mean of z_0
    with torch.no_grad():
        m.head.weight.copy_(torch.eye(3, dtype=F64))
        m.head.bias.zero_()
    zT = noprop_predict(m, x, gen(0))
    ab, n = m.alpha_bar(4), 4000
    for c in range(3):
        zc = zT[y == c]
        assert ((zc.mean(0) - ab ** 0.5 * m.u[c]).abs()
                < 5 * ((1 - ab) / n) ** 0.5).all()
        assert ((zc.var(0) - (1 - ab)).abs() < 5 * (1 - ab) * (2 / n) ** 0.5).all()


def test_predict_is_seeded():
    m = model(T=3)
    x, _ = data()
    a = noprop_predict(m, x, gen(1))
    assert torch.equal(a, noprop_predict(m, x, gen(1)))
    assert not torch.equal(a, noprop_predict(m, x, gen(2)))


def test_nearest_label():
    m = model(k=3, embedding=torch.tensor([[0., 0.], [1., 0.], [0., 2.]]))
    u = torch.tensor([[0.1, 0.1], [0.9, 0.2], [0.2, 1.5], [0.6, 0.0]], dtype=F64)
    assert nearest_label(m, u).tolist() == [0, 1, 2, 1]
    assert nearest_label(m, u.reshape(2, 2, 2)).tolist() == [[0, 1], [2, 1]]


def test_bad_input():
    m = model(T=4)
    x, y = data()
    with pytest.raises(ValueError, match="t_block must be an int >= 1, <= 4"):
        noprop_loss(m, x, y, 0)
    with pytest.raises(ValueError, match="t_block must be an int >= 1, <= 4"):
        noprop_loss(m, x, y, 5)
    with pytest.raises(ValueError, match=r"y must hold labels in \[0, 3\)"):
        noprop_loss(m, x, torch.full((6,), 3), 1)
    with pytest.raises(ValueError, match="one label per row"):
        noprop_loss(m, x, y[:3], 1)
    with pytest.raises(ValueError, match=r"x must have shape \(n, d_in\)"):
        noprop_loss(m, x[:, :4], y, 1)
    with pytest.raises(ValueError, match="t must be an int >= 0, <= 4, got 5"):
        noisy_label(m, y, 5)
    with pytest.raises(ValueError, match="z must have shape"):
        noprop_step(m, x, torch.zeros(6, 2, dtype=F64), 1)
    with pytest.raises(TypeError, match="must be a NoPropDT"):
        noprop_predict(nn.Linear(5, 3), x)
    with pytest.raises(ValueError, match="T \\+ 1 = 5 steps"):
        NoPropDT(5, 3, T=4, schedule=DiscreteSchedule.linear(T=4))
    with pytest.raises(ValueError, match="embedding must have shape"):
        NoPropDT(5, 3, embedding=torch.eye(4))
    with pytest.raises(ValueError, match="T must be an int >= 1, got 0"):
        NoPropDT(5, 3, T=0)
    with pytest.raises(ValueError, match="eta must be a real number > 0, got 0.0"):
        NoPropDT(5, 3, eta=0.0)
