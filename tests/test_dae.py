"""papers_lib.diffusion.dae: auto-encoder, DAE/contractive criteria, score estimate and
the Bayes-optimal denoiser of a Gaussian mixture."""
import math

import pytest
import torch

from papers_lib.diffusion import GaussianMixture
from papers_lib.diffusion.dae import DAE, dae_loss, dae_score, optimal_denoiser

D = torch.float64


def _gm2():
    covs = torch.tensor([[[0.3, 0.1], [0.1, 0.2]], [[0.25, -0.1], [-0.1, 0.3]]],
                        dtype=D)
    means = torch.tensor([[-1.0, 0.5], [1.5, -0.5]], dtype=D)
    return GaussianMixture(means, covs=covs,
                           weights=torch.tensor([0.3, 0.7], dtype=D))


def _posterior_mean(gm, sigma, x):
    """E[x0 | x0 + sigma eps = x] by per-component Gaussian conditioning."""
    cs = gm.covs + sigma ** 2 * torch.eye(gm.dim, dtype=D)
    comp = torch.distributions.MultivariateNormal(gm.means, cs)
    post = torch.softmax(comp.log_prob(x[:, None]) + gm.weights.log(), 1)
    gain = gm.covs @ torch.linalg.inv(cs)
    m = gm.means + torch.einsum("kij,nkj->nki", gain, x[:, None] - gm.means)
    return (post[..., None] * m).sum(1)


@pytest.mark.parametrize("sigma", [0.05, 0.5, 2.0])
def test_optimal_denoiser_is_the_posterior_mean(sigma):
    gm = _gm2()
    x = torch.randn(300, 2, dtype=D, generator=torch.Generator().manual_seed(0)) * 2
    torch.testing.assert_close(optimal_denoiser(gm, sigma)(x),
                               _posterior_mean(gm, sigma, x), rtol=0, atol=1e-12)


def test_optimal_denoiser_of_a_gaussian_is_linear_shrinkage():
    s, sigma = 0.7, 0.4
    gm = GaussianMixture(torch.tensor([[0.5]], dtype=D), stds=s)
    x = torch.linspace(-3, 3, 11, dtype=D)[:, None]
    shrink = s ** 2 / (s ** 2 + sigma ** 2)
    torch.testing.assert_close(optimal_denoiser(gm, sigma)(x),
                               0.5 + shrink * (x - 0.5))


def test_score_estimate_converges_at_rate_sigma_squared():
    gm = _gm2()
    x = gm.sample(2000, torch.Generator().manual_seed(1)).to(D)
    true = gm.score(x)
    errs = [float((dae_score(optimal_denoiser(gm, s), x, s) - true).norm(dim=1).mean())
            for s in (0.02, 0.01)]
    assert errs[1] < 1e-2 * true.norm(dim=1).mean()
    assert errs[0] / errs[1] == pytest.approx(4.0, rel=0.05)


def test_optimal_denoiser_minimises_the_denoising_loss():
    gm, sigma = _gm2(), 0.4
    x = gm.sample(20000, torch.Generator().manual_seed(2)).to(D)
    r = optimal_denoiser(gm, sigma)
    best = dae_loss(r, x, sigma, generator=torch.Generator().manual_seed(3))
    for shift in (0.1, -0.1):
        worse = dae_loss(lambda y: r(y) + shift, x, sigma,
                         generator=torch.Generator().manual_seed(3))
        # same noise: the loss grows by shift^2 * d up to a cross term ~ 1/sqrt(n)
        assert float(worse - best) == pytest.approx(2 * shift ** 2, rel=0.3)


def test_dae_score_of_a_linear_map():
    a = torch.tensor([[0.9, 0.1], [0.0, 0.8]], dtype=D)
    x = torch.randn(6, 2, dtype=D)
    torch.testing.assert_close(dae_score(lambda y: y @ a.T, x, 0.5),
                               (x @ a.T - x) / 0.25)


def test_contractive_penalty_is_the_jacobian_norm():
    lin = torch.nn.Linear(3, 3).to(D)
    x = torch.randn(50, 3, dtype=D)
    sigma = 0.3
    rec = (lin(x) - x).pow(2).sum(1).mean()
    expected = rec + sigma ** 2 * lin.weight.pow(2).sum()
    got = dae_loss(lin, x, sigma, contractive=True)
    torch.testing.assert_close(got, expected)
    got.backward()   # differentiable (create_graph through the Jacobian)
    assert lin.weight.grad is not None and lin.weight.grad.abs().sum() > 0


def test_contractive_penalty_of_a_nonlinear_map_against_autograd_jacobian():
    torch.manual_seed(0)
    r = DAE(2, 8, 2).to(D)
    torch.nn.init.normal_(r.decoder.weight)
    x = torch.randn(4, 2, dtype=D)
    jac = torch.stack([torch.autograd.functional.jacobian(lambda y: r(y[None])[0], xi)
                       for xi in x])
    expected = (r(x) - x).pow(2).sum(1).mean() + 0.04 * jac.pow(2).sum((1, 2)).mean()
    torch.testing.assert_close(dae_loss(r, x, 0.2, contractive=True), expected)


def test_denoising_loss_of_a_linear_map_on_a_gaussian():
    # r(x) = a x, x ~ N(0, s^2): E (a(x + sigma eps) - x)^2 = (a-1)^2 s^2 + a^2 sigma^2
    s, sigma, a = 0.8, 0.3, 0.6
    gen = torch.Generator().manual_seed(4)
    x = s * torch.randn(400_000, 1, dtype=D, generator=gen)
    loss = dae_loss(lambda y: a * y, x, sigma, generator=gen)
    exact = (a - 1) ** 2 * s ** 2 + a ** 2 * sigma ** 2
    assert float(loss) == pytest.approx(exact, rel=0.01)


def test_dae_module_shapes_identity_at_init_and_residual():
    torch.manual_seed(0)
    r = DAE(3, hidden=16, depth=3)
    x = torch.randn(10, 3)
    assert torch.equal(r(x), x)
    assert sum(isinstance(m, torch.nn.Linear) for m in r.encoder) == 3
    plain = DAE(3, residual=False)
    assert torch.equal(plain(x), torch.zeros_like(x))


def test_fit_decoder_solves_least_squares():
    # a target the decoder can represent exactly: E[x | x~] for a Gaussian is linear,
    # so with sigma -> residual target it must recover the shrinkage on a large sample
    torch.manual_seed(0)
    s, sigma = 0.7, 0.5
    r = DAE(1, 16, 1).to(D)
    gen = torch.Generator().manual_seed(6)
    x = s * torch.randn(100_000, 1, dtype=D, generator=gen)
    r.fit_decoder(x, sigma, generator=torch.Generator().manual_seed(7))
    grid = torch.linspace(-1, 1, 9, dtype=D)[:, None]
    with torch.no_grad():
        est = dae_score(r, grid, sigma)
    exact = -grid / (s ** 2 + sigma ** 2)          # score of p_sigma
    torch.testing.assert_close(est, exact, rtol=0, atol=0.1)
    # the refit decoder is a stationary point of the (same-noise) denoising loss
    xt = x + sigma * torch.randn(x.shape, dtype=D,
                                 generator=torch.Generator().manual_seed(7))
    for p in r.decoder.parameters():
        p.requires_grad_(True)
    loss = (r(xt) - x).pow(2).sum(1).mean() + 1e-10 * r.decoder.weight.pow(2).sum()
    grads = torch.autograd.grad(loss, list(r.decoder.parameters()))
    assert max(float(g.abs().max()) for g in grads) < 1e-8


def test_bad_input():
    gm = _gm2()
    r = DAE(2)
    x = torch.randn(4, 2)
    with pytest.raises(ValueError, match="sigma must be a (finite )?real number > 0"):
        dae_score(r, x, 0.0)
    with pytest.raises(ValueError, match="sigma must be a (finite )?real number > 0"):
        dae_loss(r, x, float("nan"))
    with pytest.raises(ValueError, match="sigma must be a (finite )?real number > 0"):
        optimal_denoiser(gm, -1)
    with pytest.raises(ValueError, match="sigma must be a (finite )?real number > 0"):
        dae_score(r, x, float("inf"))
    with pytest.raises(ValueError, match=r"x must have 2 dimensions, got shape \(4,\)"):
        dae_score(r, torch.randn(4), 0.1)
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        r(torch.randn(4, 3))
    with pytest.raises(ValueError, match="r returned shape"):
        dae_loss(lambda y: y[:, :1], x, 0.1)
    with pytest.raises(TypeError, match="GaussianMixture"):
        optimal_denoiser("not a mixture", 0.1)
    with pytest.raises(ValueError, match="hidden must be an int >= 1, got 0"):
        DAE(2, hidden=0)
    with pytest.raises(ValueError, match="ridge must be a real number >= 0"):
        r.fit_decoder(x, 0.1, ridge=-1.0)
