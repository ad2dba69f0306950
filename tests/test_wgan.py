"""papers_lib.gan.wasserstein: losses, clipping, gradient penalty, parallel lines."""
import math

import pytest
import torch
from torch import nn

from papers_lib.gan import GANLoss, MLPDiscriminator, MLPGenerator, train_gan
from papers_lib.gan.wasserstein import (
    clip_weights, critic_estimate, critic_loss, gradient_penalty, optimal_critic_1d,
    parallel_lines,
    parallel_lines_distances, wasserstein_g_loss, wasserstein_loss, wgan_gp_loss)


def _out(n, seed):
    return torch.randn(n, generator=torch.Generator().manual_seed(seed),
                       dtype=torch.float64)


# --- losses ---

def test_losses_against_formulas_and_gradients():
    r = _out(11, 0).requires_grad_(True)
    f = _out(13, 1).requires_grad_(True)
    loss = critic_loss(r, f)
    torch.testing.assert_close(loss, f.mean() - r.mean())
    gr, gf = torch.autograd.grad(loss, (r, f))
    torch.testing.assert_close(gr, torch.full_like(r, -1 / 11))
    torch.testing.assert_close(gf, torch.full_like(f, 1 / 13))
    torch.testing.assert_close(wasserstein_g_loss(f), -f.mean())


def test_loss_bad_input():
    with pytest.raises(ValueError, match="empty"):
        critic_loss(torch.zeros(0), torch.zeros(3))
    with pytest.raises(TypeError, match="fake_out must be a floating-point tensor"):
        wasserstein_g_loss(torch.arange(3))
    with pytest.raises(TypeError, match="real_out must be a torch.Tensor, got list"):
        critic_loss([1.0], torch.zeros(2))


# --- clipping and the GANLoss ---

def test_clip_weights_clamps_exactly():
    torch.manual_seed(0)
    net = MLPDiscriminator(hidden=8)
    before = [p.detach().clone() for p in net.parameters()]
    assert max(p.abs().max() for p in before) > 0.05
    assert clip_weights(net, 0.05) is None
    for p, b in zip(net.parameters(), before):
        torch.testing.assert_close(p.detach(), b.clamp(-0.05, 0.05))


def test_wasserstein_loss_fields():
    loss = wasserstein_loss(0.02)
    assert isinstance(loss, GANLoss) and loss.name == "wgan" and loss.penalty is None
    r, f = _out(5, 2), _out(5, 3)
    torch.testing.assert_close(loss.d_loss(r, f), f.mean() - r.mean())
    net = nn.Linear(3, 1)
    with torch.no_grad():
        net.weight.fill_(1.0)
    loss.after_d_step(net)
    assert net.weight.max().item() == pytest.approx(0.02)


@pytest.mark.parametrize("bad", [0.0, -0.1, float("nan")])
def test_clip_bad_input(bad):
    with pytest.raises(ValueError, match="clip must be a real number > 0"):
        wasserstein_loss(bad)
    with pytest.raises(ValueError, match="clip must be a real number > 0"):
        clip_weights(nn.Linear(2, 1), bad)


def test_train_gan_with_wgan_keeps_critic_in_box():
    torch.manual_seed(0)
    G, D = MLPGenerator(hidden=16), MLPDiscriminator(hidden=16)
    hist = train_gan(G, D, lambda n: torch.randn(n, 2) + 2.0, 5,
                     torch.optim.RMSprop(G.parameters(), lr=5e-4),
                     torch.optim.RMSprop(D.parameters(), lr=5e-4),
                     loss=wasserstein_loss(0.01), k=3, batch_size=32, disable=True)
    assert max(p.abs().max().item() for p in D.parameters()) <= 0.01
    # the recorded d_loss is the critic loss: mean fake - mean real outputs
    torch.testing.assert_close(hist["d_loss"], hist["d_fake"] - hist["d_real"],
                               atol=1e-6, rtol=1e-5)


# --- gradient penalty (WGAN-GP, the follow-up paper) ---

def test_gradient_penalty_linear_critic_closed_form():
    a = torch.tensor([[3.0, 4.0]], dtype=torch.float64)
    lin = lambda x: (x @ a.T).squeeze(1)          # noqa: E731, gradient a everywhere
    real, fake = _out(12, 4).view(6, 2), _out(12, 5).view(6, 2)
    assert gradient_penalty(lin, real, fake).item() == pytest.approx(16.0)
    unit = lambda x: (x @ (a / 5).T).squeeze(1)   # noqa: E731
    assert gradient_penalty(unit, real, fake).item() == pytest.approx(0.0, abs=1e-12)


def test_gradient_penalty_quadratic_critic_against_formula():
    # f(x) = |x|^2 / 2 has gradient x_hat; the interpolation weights come from the
    # generator, so they can be reproduced.
    real, fake = _out(20, 6).view(10, 2), _out(20, 7).view(10, 2)
    sq = lambda x: 0.5 * (x ** 2).sum(1)          # noqa: E731
    gp = gradient_penalty(sq, real, fake, generator=torch.Generator().manual_seed(3))
    u = torch.rand(10, 1, generator=torch.Generator().manual_seed(3),
                   dtype=torch.float64)
    x_hat = u * real + (1 - u) * fake
    torch.testing.assert_close(gp, (x_hat.norm(dim=1) - 1).pow(2).mean())


def test_gradient_penalty_differentiable_and_bad_input():
    torch.manual_seed(0)
    D = MLPDiscriminator(hidden=8)
    gp = gradient_penalty(D, torch.randn(4, 2), torch.randn(4, 2))
    grads = torch.autograd.grad(gp, D.net[0].weight)
    assert grads[0].abs().sum() > 0
    with pytest.raises(ValueError, match="same shape"):
        gradient_penalty(D, torch.randn(4, 2), torch.randn(3, 2))
    with pytest.raises(ValueError, match="weight must be a real number > 0"):
        wgan_gp_loss(0.0)
    loss = wgan_gp_loss(2.0)
    assert loss.name == "wgan-gp" and loss.after_d_step is None
    lin = lambda x: 3 * x[:, 0]                   # noqa: E731
    x = torch.randn(5, 2)
    assert loss.penalty(lin, x, x + 1).item() == pytest.approx(2.0 * 4.0)


# --- parallel lines ---

def test_parallel_lines_samples():
    x = parallel_lines(1000, -0.7, seed=0)
    assert x.shape == (1000, 2) and (x[:, 0] == -0.7).all()
    assert x[:, 1].min() >= 0 and x[:, 1].max() <= 1
    assert abs(x[:, 1].mean().item() - 0.5) < 0.03        # U[0, 1] has mean 1/2
    torch.testing.assert_close(x, parallel_lines(1000, -0.7, seed=0))


def test_parallel_lines_distances_closed_forms():
    assert parallel_lines_distances(0.0) == {"W": 0.0, "JS": 0.0, "KL": 0.0, "TV": 0.0}
    for theta in (-2.0, 1e-3, 0.5):
        d = parallel_lines_distances(theta)
        assert d["W"] == abs(theta) and d["JS"] == pytest.approx(math.log(2))
        assert d["KL"] == math.inf and d["TV"] == 1.0


def test_parallel_lines_w_matches_linear_critic():
    # f(x) = x_1 is 1-Lipschitz and optimal: its gap is W = |theta| exactly
    p0, pt = parallel_lines(500, 0.0, seed=1), parallel_lines(500, -0.4, seed=2)
    f = lambda x: x[:, 0]                         # noqa: E731
    assert critic_estimate(f, p0, pt) == pytest.approx(
        parallel_lines_distances(-0.4)["W"])


def test_parallel_lines_bad_input():
    with pytest.raises(ValueError, match="n must be an int >= 1, got 0"):
        parallel_lines(0, 1.0)
    with pytest.raises(ValueError, match="theta must be a (finite )?real number, got"):
        parallel_lines(3, float("inf"))
    with pytest.raises(ValueError, match="theta must be a (finite )?real number, got"):
        parallel_lines_distances(float("nan"))


# --- the optimal critic in 1-D ---

@pytest.mark.parametrize("n, m", [(300, 300), (200, 350)])
def test_optimal_critic_1d_gap_is_w1(n, m):
    from papers_lib.metrics import wasserstein_1d
    g = torch.Generator().manual_seed(n + m)
    a = torch.randn(n, generator=g, dtype=torch.float64) * 2 - 1
    b = torch.rand(m, generator=g, dtype=torch.float64) * 3
    f = optimal_critic_1d(a, b)
    gap = (f(a).mean() - f(b).mean()).item()
    assert gap == pytest.approx(wasserstein_1d(a, b, p=1).item(), rel=1e-9)
    x = torch.linspace(-6, 6, 5001, dtype=torch.float64)
    assert (torch.diff(f(x)).abs() <= torch.diff(x) + 1e-12).all()   # 1-Lipschitz


def test_optimal_critic_1d_shift_closed_form():
    # point masses at 0 (real) and 2 (fake): W1 = 2, f falls with slope 1 between them
    f = optimal_critic_1d(torch.zeros(5, 1), torch.full((5, 1), 2.0))
    assert (f(torch.zeros(1)) - f(torch.full((1,), 2.0))).item() == pytest.approx(2.0)
    assert f(torch.tensor([1.0])).item() == pytest.approx(-1.0)


def test_optimal_critic_1d_bad_input():
    with pytest.raises(ValueError, match="non-empty 1-D samples"):
        optimal_critic_1d(torch.zeros(3, 2), torch.zeros(3))
    with pytest.raises(ValueError, match="non-empty 1-D samples"):
        optimal_critic_1d(torch.zeros(0), torch.zeros(3))
