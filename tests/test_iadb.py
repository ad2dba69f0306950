"""Tests for papers_lib.flows.iadb: closed forms and the library's references."""
import math

import pytest
import torch

from papers_lib.diffusion import GaussianMixture, NoiseSchedule, ddim_sample
from papers_lib.flows.iadb import (MeansMLP, alpha_schedule, deblend_step,
                                   gmm_blend_means, iadb_sample, means_loss)
from papers_lib.flows.matching import CondOTPath, gmm_marginal_field, sample

DT = torch.float64


def _mixture(seed=0):
    g = torch.Generator().manual_seed(seed)
    mu = 2.0 * torch.randn(3, 2, generator=g, dtype=DT)
    std = torch.tensor([0.3, 0.5, 0.2], dtype=DT)
    w = torch.tensor([1.0, 2.0, 3.0], dtype=DT)
    return mu, std, w


def _difference(means_fn):
    return lambda a, x: (lambda p: p[1] - p[0])(means_fn(a, x))


def test_alpha_schedule_closed_forms():
    assert torch.equal(alpha_schedule(4), torch.tensor([0, .25, .5, .75, 1], dtype=DT))
    k = torch.arange(9, dtype=DT)
    ref = 1 - torch.cos(0.5 * math.pi * k / 8)
    a = alpha_schedule(8, "cosine")
    assert torch.allclose(a, ref, atol=1e-15) and a[0] == 0 and a[-1] == 1
    assert bool((a[1:] > a[:-1]).all())
    with pytest.raises(ValueError, match="steps must be an int >= 1"):
        alpha_schedule(0)
    with pytest.raises(ValueError, match="schedule must be one of"):
        alpha_schedule(4, "quadratic")


def test_gmm_means_match_marginal_field_and_blend_identity():
    mu, std, w = _mixture()
    means_fn = gmm_blend_means(mu, std, w)
    field = gmm_marginal_field(CondOTPath(sigma_min=0.0), mu, std, w)
    g = torch.Generator().manual_seed(1)
    x = 3 * torch.randn(300, 2, generator=g, dtype=DT)
    a = torch.rand(300, generator=g, dtype=DT) * 0.999
    x0b, x1b = means_fn(a, x)
    assert torch.allclose(x1b - x0b, field(a, x), atol=1e-10)
    assert torch.allclose((1 - a[:, None]) * x0b + a[:, None] * x1b, x, atol=1e-12)


def test_gmm_means_at_the_ends():
    mu, std, w = _mixture()
    means_fn = gmm_blend_means(mu, std, w)
    x = torch.randn(50, 2, dtype=DT)
    x0b, x1b = means_fn(0.0, x)            # x = x0: x0 known, x1 independent of it
    assert torch.allclose(x0b, x)
    assert torch.allclose(x1b, ((w / w.sum()) @ mu).expand(50, 2))
    x0b, x1b = means_fn(1.0, x)            # x = x1: x0 independent, mean 0
    assert torch.allclose(x1b, x) and torch.allclose(x0b, torch.zeros_like(x))


def test_gmm_means_single_gaussian_1d():
    m, s, a = 1.5, 0.7, 0.4                # x1 ~ N(m, s^2): Gaussian conditioning
    x = torch.linspace(-3, 3, 7, dtype=DT)[:, None]
    x0b, x1b = gmm_blend_means(torch.tensor([[m]], dtype=DT), s)(a, x)
    cov = torch.tensor([[1.0, 0.0], [0.0, s * s]], dtype=DT)     # (x0, x1)
    b = torch.tensor([1 - a, a], dtype=DT)
    gain = cov @ b / (b @ cov @ b)
    mean = torch.tensor([0.0, m], dtype=DT)
    ref = mean + (x - a * m) * gain
    assert torch.allclose(x0b[:, 0], ref[:, 0])
    assert torch.allclose(x1b[:, 0], ref[:, 1])


def test_gmm_means_bad_input():
    mu, std, w = _mixture()
    with pytest.raises(ValueError, match="std must be > 0"):
        gmm_blend_means(mu, 0.0)
    with pytest.raises(ValueError, match="means must have 2 dimensions"):
        gmm_blend_means(mu[0], 0.3)
    with pytest.raises(ValueError, match="weights must be 3 positive"):
        gmm_blend_means(mu, std, -w)
    f = gmm_blend_means(mu, std, w)
    with pytest.raises(ValueError, match="alpha must lie in"):
        f(1.5, torch.zeros(4, 2, dtype=DT))
    with pytest.raises(ValueError, match="x must have shape"):
        f(0.5, torch.zeros(4, 3, dtype=DT))


def test_deblend_step_both_variants():
    x = torch.tensor([[1.0, -1.0], [0.0, 2.0]])
    out = deblend_step(lambda a, x: 2 * x + a[:, None], x, 0.25, 0.5)
    assert torch.allclose(out, x + 0.25 * (2 * x + 0.25))
    out = deblend_step(lambda a, x: (x - 1, x + 1), x, 0.0, 0.3, "means")
    assert torch.allclose(out, 0.7 * (x - 1) + 0.3 * (x + 1))
    with pytest.raises(ValueError, match="variant must be one of"):
        deblend_step(lambda a, x: x, x, 0.0, 0.5, "score")
    with pytest.raises(ValueError, match="alpha_next must be a real number >= 0, <= 1"):
        deblend_step(lambda a, x: x, x, 0.0, 1.5)
    with pytest.raises(ValueError, match="pair"):
        deblend_step(lambda a, x: x, x, 0.0, 0.5, "means")
    with pytest.raises(ValueError, match="tensor of shape"):
        deblend_step(lambda a, x: x[:, :1], x, 0.0, 0.5)
    with pytest.raises(ValueError, match="x must have at least 2 dimensions"):
        deblend_step(lambda a, x: x, torch.zeros(3), 0.0, 0.5)


def test_variant1_is_euler_and_variant2_equals_it_for_exact_means():
    mu, std, w = _mixture()
    means_fn = gmm_blend_means(mu, std, w)
    field = gmm_marginal_field(CondOTPath(sigma_min=0.0), mu, std, w)
    z = torch.randn(200, 2, generator=torch.Generator().manual_seed(2), dtype=DT)
    v1 = iadb_sample(_difference(means_fn), z, 12)
    assert torch.allclose(v1, sample(field, z, 12, "euler"), atol=1e-10)
    assert torch.allclose(iadb_sample(means_fn, z, 12, "means"), v1, atol=1e-10)
    al, xs = iadb_sample(means_fn, z, 5, "means", "cosine", trajectory=True)
    assert xs.shape == (6, 200, 2) and torch.equal(xs[0], z)
    assert torch.allclose(al, alpha_schedule(5, "cosine"))


def test_first_order_convergence_to_the_ode_map():
    mu, std, w = _mixture()
    means_fn = gmm_blend_means(mu, std, w)
    field = gmm_marginal_field(CondOTPath(sigma_min=0.0), mu, std, w)
    z = torch.randn(500, 2, generator=torch.Generator().manual_seed(3), dtype=DT)
    ref = sample(field, z, None, "dopri5", rtol=1e-9, atol=1e-9)
    e = [float((iadb_sample(means_fn, z, n, "means") - ref).norm(dim=1).mean())
         for n in (16, 128)]
    order = math.log2(e[0] / e[1]) / 3
    assert 0.8 < order < 1.2, order


class _Blend(NoiseSchedule):
    t_min, t_max = 0.0, 1.0 - 1e-3

    def _coefficients(self, t):
        return 1 - t, t, -1 / (1 - t), 2 * t


def test_exact_iadb_is_ddim_on_the_blend_schedule():
    mu, std, w = _mixture()
    covs = std[:, None, None] ** 2 * torch.eye(2, dtype=DT)
    gm = GaussianMixture(mu, covs, weights=w)
    means_fn = gmm_blend_means(mu, std, w)
    z = torch.randn(100, 2, generator=torch.Generator().manual_seed(4), dtype=DT)
    x_ddim = ddim_sample(gm.model(_Blend()), _Blend(), z, 7)
    levels = torch.linspace(1e-3, 1.0, 8, dtype=DT).tolist()
    x = z
    for a, b in zip(levels[:-1], levels[1:]):
        x = deblend_step(means_fn, x, a, b, "means")
    assert torch.allclose(x_ddim, x, atol=1e-9)


def test_means_loss_closed_form():
    g = torch.Generator().manual_seed(5)
    m = torch.tensor([2.0, -1.0], dtype=DT)
    x0 = torch.randn(4000, 2, generator=g, dtype=DT)
    x1 = m.expand(4000, 2)
    a = 0.9 * torch.rand(4000, generator=g, dtype=DT)
    exact = lambda a, x: ((x - a[:, None] * m) / (1 - a[:, None]), m.expand_as(x))
    assert float(means_loss(exact, x0, x1, alpha=a)) < 1e-20
    d = torch.tensor([0.3, -0.2], dtype=DT)
    shifted = lambda a, x: tuple(o + d for o in exact(a, x))
    assert math.isclose(float(means_loss(shifted, x0, x1, alpha=a)),
                        2 * float(d @ d), rel_tol=1e-12)
    # the GMM means minimise the expected loss: a shift costs about 2 |d|^2
    mu, std, w = _mixture()
    covs = std[:, None, None] ** 2 * torch.eye(2, dtype=DT)
    gm = GaussianMixture(mu, covs, weights=w)
    y1 = gm.sample(20000, generator=g)
    y0 = torch.randn(20000, 2, generator=g, dtype=DT)
    f = gmm_blend_means(mu, std, w)
    fs = lambda a, x: tuple(o + d for o in f(a, x))
    gap = float(means_loss(fs, y0, y1, generator=torch.Generator().manual_seed(6))
                - means_loss(f, y0, y1, generator=torch.Generator().manual_seed(6)))
    assert abs(gap - 2 * float(d @ d)) < 0.05


def test_means_loss_bad_input():
    f = lambda a, x: (x, x)
    x = torch.zeros(4, 2)
    with pytest.raises(ValueError, match="same shape"):
        means_loss(f, x, torch.zeros(4, 3))
    with pytest.raises(ValueError, match="alpha must have shape"):
        means_loss(f, x, x, alpha=torch.zeros(3))
    with pytest.raises(ValueError, match="alpha must lie in"):
        means_loss(f, x, x, alpha=torch.full((4,), 2.0))
    with pytest.raises(ValueError, match="pair"):
        means_loss(lambda a, x: x, x, x)


def test_means_mlp():
    torch.manual_seed(0)
    net = MeansMLP(3, hidden=16, depth=2)
    x = torch.randn(5, 3)
    x0b, x1b = net(torch.rand(5), x)
    assert x0b.shape == x1b.shape == (5, 3)
    out = net.net(torch.cat([x, torch.full((5, 1), 0.5)], 1))
    assert torch.equal(net(0.5, x)[1], out[:, 3:])
    loss = means_loss(net, torch.randn(8, 3), torch.randn(8, 3))
    loss.backward()
    assert all(p.grad is not None for p in net.parameters())
    with pytest.raises(ValueError, match="dim must be an int >= 1"):
        MeansMLP(0)
    with pytest.raises(ValueError, match="x must have shape"):
        net(0.5, torch.randn(5, 2))
