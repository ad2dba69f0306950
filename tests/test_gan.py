"""papers_lib.gan: losses, optimal discriminator, networks, trainer, mode coverage."""
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from papers_lib.data import eight_gaussians
from papers_lib.gan import (
    GANLoss, GANTrainer, MLPDiscriminator, MLPGenerator, minimax_d_loss,
    minimax_g_loss, minimax_loss, mode_coverage, nonsaturating_g_loss, nonsaturating_loss,
    optimal_discriminator, ring_centres, train_gan, value_function)


def _logits(n, seed):
    return 3 * torch.randn(n, generator=torch.Generator().manual_seed(seed),
                           dtype=torch.float64)


# --- losses ---

def test_losses_against_torch_and_formulas():
    r, f = _logits(11, 0), _logits(13, 1)
    bce = (F.binary_cross_entropy_with_logits(r, torch.ones_like(r))
           + F.binary_cross_entropy_with_logits(f, torch.zeros_like(f)))
    torch.testing.assert_close(minimax_d_loss(r, f), bce)
    torch.testing.assert_close(value_function(r, f), -bce)
    d_r, d_f = torch.sigmoid(r), torch.sigmoid(f)
    torch.testing.assert_close(value_function(r, f),
                               d_r.log().mean() + (1 - d_f).log().mean())
    torch.testing.assert_close(minimax_g_loss(f), (1 - d_f).log().mean())
    torch.testing.assert_close(nonsaturating_g_loss(f), -d_f.log().mean())


def test_value_at_chance_is_minus_log4():
    z = torch.zeros(4)
    assert value_function(z, z).item() == pytest.approx(-math.log(4), abs=1e-6)


def test_losses_finite_for_extreme_logits():
    a = torch.tensor([-200.0, 200.0])
    for v in (value_function(a, a), minimax_g_loss(a), nonsaturating_g_loss(a)):
        assert torch.isfinite(v)
    assert nonsaturating_g_loss(torch.tensor([-200.0])).item() == pytest.approx(200.0)


def test_generator_loss_gradients_saturate_or_not():
    a = torch.linspace(-12, 3, 31, dtype=torch.float64, requires_grad=True)
    g_mm, = torch.autograd.grad(minimax_g_loss(a) * a.numel(), a)
    g_ns, = torch.autograd.grad(nonsaturating_g_loss(a) * a.numel(), a)
    torch.testing.assert_close(g_mm, -torch.sigmoid(a.detach()))
    torch.testing.assert_close(g_ns, torch.sigmoid(a.detach()) - 1)
    assert abs(g_mm[0]) < 1e-5 and abs(g_ns[0]) > 0.9999


def test_loss_bad_input():
    with pytest.raises(ValueError, match="empty"):
        minimax_g_loss(torch.zeros(0))
    with pytest.raises(TypeError, match="real_logits must be a floating-point tensor"):
        value_function(torch.zeros(3, dtype=torch.long), torch.zeros(3))
    with pytest.raises(TypeError, match="fake_logits must be a torch.Tensor, got list"):
        nonsaturating_g_loss([0.0, 1.0])


# --- optimal discriminator and the JSD identity ---

def _log_normal(x, mu, s):
    return -0.5 * ((x - mu) / s) ** 2 - math.log(s * math.sqrt(2 * math.pi))


def test_optimal_discriminator_formula():
    x = torch.linspace(-3, 3, 101, dtype=torch.float64)
    lp, lq = _log_normal(x, 0.0, 1.0), _log_normal(x, 1.0, 0.5)
    torch.testing.assert_close(optimal_discriminator(lp, lq),
                               lp.exp() / (lp.exp() + lq.exp()))
    torch.testing.assert_close(optimal_discriminator(lp, lp), torch.full_like(x, 0.5))
    # equal-variance Gaussians: the log ratio is linear, D* = sigmoid(mu x - mu^2 / 2)
    mu = 1.7
    torch.testing.assert_close(
        optimal_discriminator(_log_normal(x, mu, 1.0), _log_normal(x, 0.0, 1.0)),
        torch.sigmoid(mu * x - mu ** 2 / 2))
    with pytest.raises(ValueError, match="same shape"):
        optimal_discriminator(lp, lq[:-1])


def _value_at_optimum(lp, lq, x):
    # log D* = log sigmoid(a), log(1 - D*) = log sigmoid(-a), a = lp - lq: finite
    # where one density underflows (0 * log 0 would be nan)
    d = optimal_discriminator(lp, lq)
    a = lp - lq
    torch.testing.assert_close(torch.sigmoid(a), d)
    return torch.trapezoid(-lp.exp() * F.softplus(-a) - lq.exp() * F.softplus(a), x)


def test_value_at_optimum_known_cases():
    x = torch.linspace(-15, 15, 300_001, dtype=torch.float64)
    lp = _log_normal(x, 0.0, 1.0)
    # p_g = p_data: JSD = 0, C = -log 4
    assert _value_at_optimum(lp, lp, x).item() == pytest.approx(-math.log(4), abs=1e-9)
    # (almost) disjoint supports: JSD -> log 2, C -> 0
    c = _value_at_optimum(_log_normal(x, -6.0, 0.3), _log_normal(x, 6.0, 0.3), x)
    assert c.item() == pytest.approx(0.0, abs=1e-9)
    # in between: C = -log 4 + 2 JSD with JSD from its KL definition
    lq = _log_normal(x, 1.0, 1.5)
    lm = torch.logaddexp(lp, lq) - math.log(2)
    jsd = 0.5 * torch.trapezoid(lp.exp() * (lp - lm) + lq.exp() * (lq - lm), x)
    assert 0.05 < jsd.item() < math.log(2)
    assert _value_at_optimum(lp, lq, x).item() == pytest.approx(
        -math.log(4) + 2 * jsd.item(), abs=1e-9)


# --- networks ---

def test_networks_shapes_and_bad_input():
    torch.manual_seed(0)
    G = MLPGenerator(latent_dim=3, data_dim=2, hidden=8, depth=1)
    D = MLPDiscriminator(2)
    x = G.sample(5)
    assert x.shape == (5, 2) and x.requires_grad and D(x).shape == (5,)
    assert G.sample(4, torch.Generator().manual_seed(1)).shape == (4, 2)
    z = torch.randn(3, 3, generator=torch.Generator().manual_seed(2))
    torch.testing.assert_close(G.sample(3, torch.Generator().manual_seed(2)), G(z))
    with pytest.raises(ValueError, match="shape"):
        G(torch.zeros(5, 2))
    with pytest.raises(ValueError, match="shape"):
        D(torch.zeros(5, 3))
    with pytest.raises(ValueError, match="hidden must be an int >= 1, got 0"):
        MLPDiscriminator(hidden=0)
    with pytest.raises(ValueError, match="depth must be an int >= 0"):
        MLPGenerator(depth=-1)


# --- trainer ---

def _setup(seed=0, hidden=16):
    torch.manual_seed(seed)
    G, D = MLPGenerator(hidden=hidden), MLPDiscriminator(hidden=hidden)
    opt_g = torch.optim.Adam(G.parameters(), 1e-3)
    return G, D, opt_g, torch.optim.Adam(D.parameters(), 1e-3)


def test_train_gan_history_and_determinism():
    data = eight_gaussians(512, seed=0)
    runs = []
    for _ in range(2):
        G, D, og, od = _setup()
        h = train_gan(G, D, data, 20, og, od, batch_size=32, seed=3, disable=True)
        runs.append((h, [p.detach().clone() for p in G.parameters()]))
    (h1, p1), (h2, p2) = runs
    assert set(h1) == {"d_loss", "d_real", "d_fake", "g_loss"}
    assert all(v.shape == (20,) and torch.isfinite(v).all() for v in h1.values())
    for k in h1:
        assert torch.equal(h1[k], h2[k])
    assert all(torch.equal(a, b) for a, b in zip(p1, p2))


def test_trainer_step_counts_and_hooks():
    G, D, og, od = _setup()
    calls = {"d": 0, "g": 0, "penalty": 0, "after": 0, "cb": []}

    def d_loss(r, f):
        calls["d"] += 1
        return minimax_d_loss(r, f)

    def g_loss(f):
        calls["g"] += 1
        return nonsaturating_g_loss(f)

    def penalty(Dn, real, fake):
        calls["penalty"] += 1
        assert Dn is D and real.shape == fake.shape == (16, 2)
        return torch.zeros(())

    def clip(Dn):
        calls["after"] += 1
        for p in Dn.parameters():
            p.clamp_(-0.01, 0.01)

    loss = GANLoss(d_loss, g_loss, "test", penalty=penalty, after_d_step=clip)
    train_gan(G, D, lambda n: torch.randn(n, 2), 4, og, od, loss=loss, k=3,
              batch_size=16, callback=lambda s, t: calls["cb"].append(s), disable=True)
    assert calls["d"] == calls["penalty"] == calls["after"] == 12 and calls["g"] == 4
    assert calls["cb"] == [1, 2, 3, 4]
    assert max(p.abs().max().item() for p in D.parameters()) <= 0.01


def test_generator_step_leaves_discriminator_alone():
    G, D, og, od = _setup()
    trainer = GANTrainer(G, D, og, od, minimax_loss())
    before = [p.detach().clone() for p in D.parameters()]
    trainer.g_step(32)
    assert all(torch.equal(a, b) for a, b in zip(before, D.parameters()))
    assert all(p.grad is None for p in D.parameters())
    assert all(p.requires_grad for p in D.parameters())
    g_before = [p.detach().clone() for p in G.parameters()]
    trainer.d_step(torch.randn(32, 2))
    assert all(torch.equal(a, b) for a, b in zip(g_before, G.parameters()))


def test_discriminator_approaches_optimum_1d():
    """Logistic regression with a linear D on two equal-variance Gaussians: the optimal
    logit is linear, mu x - mu^2 / 2, and a trained linear D must find it."""
    mu = 1.0

    class Shift(nn.Module):
        def sample(self, n, generator=None):
            return torch.randn(n, 1, dtype=torch.float64)

    torch.manual_seed(0)
    D = nn.Sequential(nn.Linear(1, 1), nn.Flatten(0)).double()
    G = Shift()
    dummy = nn.Parameter(torch.zeros(1))
    trainer = GANTrainer(G, D, torch.optim.SGD([dummy], lr=0.0),
                         torch.optim.Adam(D.parameters(), lr=0.05), minimax_loss())
    for _ in range(600):
        trainer.d_step(mu + torch.randn(4096, 1, dtype=torch.float64))
    w, b = D[0].weight.item(), D[0].bias.item()
    assert w == pytest.approx(mu, abs=0.08)
    assert b == pytest.approx(-mu ** 2 / 2, abs=0.08)


def test_trainer_bad_input():
    G, D, og, od = _setup()
    with pytest.raises(TypeError, match="Optimizer"):
        GANTrainer(G, D, og, "adam")
    with pytest.raises(ValueError, match="k must"):
        GANTrainer(G, D, og, od, k=0)
    with pytest.raises(TypeError, match="GANLoss"):
        GANTrainer(G, D, og, od, loss=minimax_d_loss)
    with pytest.raises(TypeError, match="sample"):
        GANTrainer(nn.Linear(2, 2), D, og, od)
    with pytest.raises(ValueError, match="real batches"):
        GANTrainer(G, D, og, od, k=2).step([torch.randn(4, 2)])
    with pytest.raises(ValueError, match="steps"):
        train_gan(G, D, torch.randn(10, 2), -1, og, od)
    with pytest.raises(ValueError, match="batch_size"):
        train_gan(G, D, torch.randn(10, 2), 1, og, od, batch_size=0)
    with pytest.raises(TypeError, match="data"):
        train_gan(G, D, [1, 2], 1, og, od)
    with pytest.raises(TypeError, match="callable"):
        GANLoss(minimax_d_loss, None)
    with pytest.raises(TypeError, match="after_d_step"):
        GANLoss(minimax_d_loss, minimax_g_loss, after_d_step=3)


def test_loss_presets():
    f = _logits(9, 4)
    assert minimax_loss().g_loss is minimax_g_loss
    assert nonsaturating_loss().g_loss is nonsaturating_g_loss
    assert minimax_loss().d_loss is nonsaturating_loss().d_loss is minimax_d_loss
    torch.testing.assert_close(nonsaturating_loss().g_loss(f), nonsaturating_g_loss(f))


# --- mode coverage ---

def test_ring_centres_match_eight_gaussians():
    c = ring_centres()
    assert c.shape == (8, 2)
    torch.testing.assert_close(c.norm(dim=1), torch.full((8,), 3.0))
    # the data's per-mode means are the centres
    x = eight_gaussians(40_000, seed=0, std=0.0)
    assert (x[:, None] - c).norm(dim=-1).min(1).values.max() < 1e-5
    with pytest.raises(ValueError, match="k must be an int >= 1, got 0"):
        ring_centres(0)


def test_mode_coverage_known_cases():
    c = ring_centres()
    full = mode_coverage(eight_gaussians(4000, seed=1), c, 0.25)
    assert full["modes"] == 8 and full["counts"].sum() == round(full["quality"] * 4000)
    # 2-D Gaussian: P(|x| <= 3 s) = 1 - exp(-9/2) = 0.9889
    assert full["quality"] == pytest.approx(1 - math.exp(-4.5), abs=0.01)
    g = torch.Generator().manual_seed(0)
    two = torch.cat([c[0] + 0.25 * torch.randn(500, 2, generator=g),
                     c[3] + 0.25 * torch.randn(500, 2, generator=g)])
    cov = mode_coverage(two, c, 0.25)
    assert cov["modes"] == 2 and cov["counts"][[1, 2, 4, 5, 6, 7]].sum() == 0
    # far away samples are not high quality
    assert mode_coverage(torch.full((10, 2), 20.0), c, 0.25)["quality"] == 0.0
    # a mode with too small a share is not covered
    few = torch.cat([c[0].expand(990, 2), c[1].expand(10, 2)])
    assert mode_coverage(few, c, 0.25, min_share=0.25)["modes"] == 1
    assert mode_coverage(few, c, 0.25, min_share=0.0)["modes"] == 2


def test_mode_coverage_bad_input():
    c = ring_centres()
    with pytest.raises(ValueError, match="agree"):
        mode_coverage(torch.zeros(5, 3), c, 0.25)
    with pytest.raises(ValueError, match="std must be a real number > 0, got 0.0"):
        mode_coverage(torch.zeros(5, 2), c, 0.0)
    with pytest.raises(ValueError, match="min_share must be a real number >= 0"):
        mode_coverage(torch.zeros(5, 2), c, 0.25, min_share=-0.1)
    with pytest.raises(ValueError, match="non-empty"):
        mode_coverage(torch.zeros(0, 2), c, 0.25)
