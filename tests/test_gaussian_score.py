"""papers_lib.diffusion.gaussian: the Gaussian model's noised score, denoiser and
density, its closed-form probability-flow map and teleportation, and the training-set
denoiser, against closed forms and the toolkit's references."""
import math

import pytest
import torch

from papers_lib.diffusion import (VE, DiscreteSchedule, GaussianMixture, VPCosine,
                                  VPLinear, convert, ddim_sample, pf_ode_sample)
from papers_lib.diffusion.gaussian import GaussianScore, empirical_denoise, teleport

D = torch.float64
SCHEDULES = [VPLinear(), VPCosine(), VE(0.01, 5.0), DiscreteSchedule.linear(T=100)]


def _model(d=4, seed=0, singular=False):
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(d, d if not singular else d - 2, generator=g, dtype=D)
    cov = a @ a.T / d + (0 if singular else 0.2) * torch.eye(d, dtype=D)
    mu = torch.randn(d, generator=g, dtype=D)
    return mu, cov, g


@pytest.mark.parametrize("sch", SCHEDULES, ids=repr)
def test_score_and_density_match_one_component_mixture(sch):
    mu, cov, g = _model()
    gs, gm = GaussianScore(mu, cov), GaussianMixture(mu[None], cov[None])
    x = torch.randn(30, 4, generator=g, dtype=D)
    for t in (0.1, 0.5, 0.9):
        torch.testing.assert_close(gs.score(x, t, sch), gm.noised_score(x, t, sch))
        torch.testing.assert_close(gs.log_prob(x, t, sch),
                                   gm.noised(sch, t).log_prob(x))
    tt = torch.rand(30, generator=g, dtype=D) * 0.9 + 0.05   # one time per row
    rows = torch.stack([gm.noised_score(x[i:i + 1], float(tt[i]), sch)[0]
                        for i in range(30)])
    torch.testing.assert_close(gs.score(x, tt, sch), rows)


def test_log_prob_against_torch_and_score_against_autograd():
    mu, cov, g = _model(5, 1)
    gs, sch = GaussianScore(mu, cov), VPLinear()
    x = torch.randn(20, 5, generator=g, dtype=D, requires_grad=True)
    t = 0.3
    a, s = float(sch.alpha(t)), float(sch.sigma(t))
    ref = torch.distributions.MultivariateNormal(a * mu, a ** 2 * cov
                                                 + s ** 2 * torch.eye(5, dtype=D))
    lp = gs.log_prob(x, t, sch)
    torch.testing.assert_close(lp, ref.log_prob(x))
    grad, = torch.autograd.grad(lp.sum(), x)
    torch.testing.assert_close(grad, gs.score(x.detach(), t, sch))


def test_denoiser_is_conditional_mean_and_tweedie():
    mu, cov, g = _model(4, 2)
    gs, sch = GaussianScore(mu, cov), VPCosine()
    x = torch.randn(10, 4, generator=g, dtype=D)
    t = 0.4
    a, s = float(sch.alpha(t)), float(sch.sigma(t))
    # Gaussian conditioning: mu + a Sigma (a^2 Sigma + s^2 I)^{-1} (x - a mu)
    k = a * cov @ torch.linalg.inv(a ** 2 * cov + s ** 2 * torch.eye(4, dtype=D))
    torch.testing.assert_close(gs.denoise(x, t, sch), mu + (x - a * mu) @ k.T)
    torch.testing.assert_close(gs.denoise(x, t, sch),
                               (x + s ** 2 * gs.score(x, t, sch)) / a)
    for kind in ("eps", "score", "v"):
        out = gs.model(sch, kind)(x, torch.full((10,), t, dtype=D))
        torch.testing.assert_close(convert(out, x, t, sch, kind, "x0"),
                                   gs.denoise(x, t, sch))


def test_fit_moments_and_singular_covariance():
    g = torch.Generator().manual_seed(3)
    x = torch.randn(500, 3, generator=g, dtype=D) @ torch.tensor(
        [[1.0, 0.5, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]], dtype=D) + 2.0
    gs = GaussianScore.fit(x)
    torch.testing.assert_close(gs.mean, x.mean(0))
    torch.testing.assert_close(gs.cov, torch.cov(x.T, correction=0))
    assert int((gs.eigenvalues == 0).sum()) == 1 and "rank=2" in repr(gs)
    # the constant coordinate: denoised exactly to its value at every t > 0
    xt = torch.randn(7, 3, generator=g, dtype=D)
    assert torch.allclose(gs.denoise(xt, 0.5, VPLinear())[:, 2],
                          torch.full((7,), 2.0, dtype=D))
    with pytest.raises(ValueError, match="singular"):
        gs.log_prob(xt, 0.0, VPLinear())
    with pytest.raises(ValueError, match="singular"):
        gs.flow(xt, 0.0, 0.5, VPLinear())


@pytest.mark.parametrize("sch", SCHEDULES[:3], ids=repr)
def test_flow_matches_numerical_pf_ode(sch):
    mu, cov, g = _model(3, 4)
    gs = GaussianScore(mu, cov)
    x = torch.randn(50, 3, generator=g, dtype=D)
    closed = gs.flow(x, 0.9, 0.15, sch)
    num = pf_ode_sample(gs.model(sch), sch, x, t_start=0.9, t_end=0.15,
                        rtol=1e-9, atol=1e-9)
    torch.testing.assert_close(closed, num, rtol=1e-6, atol=1e-6)


def test_flow_pushes_forward_the_noised_gaussian_and_inverts():
    mu, cov, g = _model(4, 5)
    gs, sch = GaussianScore(mu, cov), VPLinear()
    t, s = 0.8, 0.2
    x = torch.randn(20, 4, generator=g, dtype=D)
    # linear map x -> M x + c; M V_t M^T must equal V_s
    eye = torch.eye(4, dtype=D)
    c = gs.flow(torch.zeros(1, 4, dtype=D), t, s, sch)
    m = (gs.flow(eye, t, s, sch) - c).T
    v = {u: float(sch.alpha(u)) ** 2 * cov + float(sch.sigma(u)) ** 2 * eye
         for u in (t, s)}
    torch.testing.assert_close(m @ v[t] @ m.T, v[s])
    torch.testing.assert_close(c[0] + m @ (float(sch.alpha(t)) * mu),
                               float(sch.alpha(s)) * mu)
    torch.testing.assert_close(gs.flow(gs.flow(x, t, s, sch), s, t, sch), x)


def test_teleport_equals_many_step_ddim_with_the_gaussian():
    mu, cov, g = _model(3, 6)
    gs, sch = GaussianScore(mu, cov), VPLinear()
    z = torch.randn(40, 3, generator=g, dtype=D)
    jump = teleport(gs, sch, z, 0.3)
    torch.testing.assert_close(jump, gs.flow(z, sch.t_max, 0.3, sch))
    ddim = ddim_sample(gs.model(sch), sch, z, 2000, t_start=sch.t_max, t_end=0.3)
    assert float((jump - ddim).abs().max()) < 5e-3


def test_empirical_denoise_matches_tiny_mixture():
    g = torch.Generator().manual_seed(7)
    pts = torch.randn(12, 3, generator=g, dtype=D)
    gm = GaussianMixture(pts, stds=1e-7)
    x = torch.randn(25, 3, generator=g, dtype=D)
    sch = VPCosine()
    for t in (0.2, 0.7):
        ref = convert(gm.noised_score(x, t, sch), x, t, sch, "score", "x0")
        torch.testing.assert_close(empirical_denoise(pts, x, t, sch), ref)
        torch.testing.assert_close(empirical_denoise(pts, x, t, sch, batch=4), ref)
    # small noise: the nearest training point
    near = pts[torch.cdist(x, pts).argmin(1)]
    torch.testing.assert_close(empirical_denoise(pts, x, 0.0005, VE(1e-3, 1.0)), near)


def test_bad_input():
    mu, cov, g = _model()
    gs, sch = GaussianScore(mu, cov), VPLinear()
    x = torch.randn(5, 4, dtype=D)
    with pytest.raises(ValueError, match="mean must have shape"):
        GaussianScore(mu[None], cov)
    with pytest.raises(ValueError, match="cov must have shape"):
        GaussianScore(mu, cov[:3])
    with pytest.raises(ValueError, match="symmetric"):
        GaussianScore(mu, cov + torch.triu(torch.ones(4, 4, dtype=D), 1))
    with pytest.raises(ValueError, match="positive semi-definite"):
        GaussianScore(mu, -cov)
    with pytest.raises(ValueError, match=r"x must have shape \(n, 4\)"):
        gs.score(torch.randn(5, 3, dtype=D), 0.5, sch)
    with pytest.raises(ValueError, match="t must lie in"):
        gs.denoise(x, 1.5, sch)
    with pytest.raises(ValueError, match="t must be a scalar"):
        gs.score(x, torch.rand(3), sch)
    with pytest.raises(TypeError, match="schedule must be a NoiseSchedule, got str"):
        gs.score(x, 0.5, "vp")
    with pytest.raises(ValueError, match="kind must be one of 'eps', 'score'"):
        gs.model(sch, "noise")
    with pytest.raises(ValueError, match="t_skip must be a real number >= 0, <"):
        teleport(gs, sch, x, 0.9, t_start=0.5)
    with pytest.raises(ValueError, match="n >= 2"):
        GaussianScore.fit(torch.randn(1, 4))
    with pytest.raises(ValueError, match="sigma"):
        empirical_denoise(x, x, 0.0, sch)
    with pytest.raises(ValueError, match="single time"):
        gs.flow(x, torch.rand(5), 0.1, sch)
