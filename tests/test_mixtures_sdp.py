"""Stable distribution propagation, moment matching, Monte Carlo and the 1-D distances
of the chapter *Uncertainty quantification via stable distribution propagation*
(`papers_lib.mixtures.sdp`)."""
import math

import numpy as np
import torch
from scipy import integrate, stats
from torch import nn

from papers_lib.mixtures.sdp import (ks_to_stable, mc_forward, moment_matching_forward,
                                     relu_gaussian_tv, relu_linearization_tv,
                                     relu_moments, sdp_forward, sdp_marginal_forward,
                                     stable_sample, stable_scale, w1_to_gaussian)

F64 = torch.float64


def _net(seed=0, d=3, h=6, o=2):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(d, h), nn.ReLU(), nn.Linear(h, h), nn.ReLU(),
                         nn.Linear(h, o)).double()


def test_relu_moments_against_scipy_quadrature_and_gradcheck():
    mu = torch.tensor([-2.0, -0.3, 0.0, 0.4, 3.0], dtype=F64)
    sd = torch.tensor([0.7, 1.0, 2.0, 0.5, 1.5], dtype=F64)
    m, v = relu_moments(mu, sd ** 2)
    for i in range(5):
        a, s = mu[i].item(), sd[i].item()
        e1 = integrate.quad(lambda t: t * stats.norm.pdf(t, a, s), 0, np.inf)[0]
        e2 = integrate.quad(lambda t: t * t * stats.norm.pdf(t, a, s), 0, np.inf)[0]
        assert abs(m[i].item() - e1) < 1e-8 and abs(v[i].item() - (e2 - e1 ** 2)) < 1e-8
    assert torch.autograd.gradcheck(relu_moments, (mu.clone().requires_grad_(),
                                                   (sd ** 2).requires_grad_()))
    m0, v0 = relu_moments(torch.tensor([-1.0, 2.0], dtype=F64), torch.zeros(2, dtype=F64))
    assert m0.tolist() == [0.0, 2.0] and v0.tolist() == [0.0, 0.0]


def test_linearization_is_tv_optimal_on_a_grid_of_gaussians():
    for mu, sg in [(0.8, 1.0), (-0.4, 0.6), (0.0, 1.0)]:
        lin = relu_linearization_tv(torch.tensor(mu), torch.tensor(sg)).item()
        assert abs(lin - stats.norm.cdf(-abs(mu) / sg)) < 1e-6
        best = min(relu_gaussian_tv(mu, sg, m, s, grid=601)
                   for m in np.linspace(-2, 2, 21) for s in np.linspace(0.05, 2, 20))
        assert best >= lin - 3e-3
    # the linearisation itself, for mu > 0, is the Gaussian N(mu, sigma^2)
    assert abs(relu_gaussian_tv(0.8, 1.0, 0.8, 1.0) - stats.norm.cdf(-0.8)) < 1e-4


def test_sdp_is_jacobian_times_mixing_matrix():
    net = _net()
    g = torch.Generator().manual_seed(0)
    x = torch.randn(4, 3, generator=g, dtype=F64)
    L = torch.randn(3, 2, generator=g, dtype=F64)
    loc, mix = sdp_forward(net, x, L)
    J = torch.stack([torch.autograd.functional.jacobian(net, xi) for xi in x])
    assert torch.allclose(loc, net(x)) and torch.allclose(mix, J @ L)
    assert mix.shape == (4, 2, 2)


def test_affine_network_is_exact_for_gaussian_and_cauchy_mc():
    torch.manual_seed(1)
    net = nn.Sequential(nn.Linear(3, 5), nn.Linear(5, 1)).double()
    x = torch.tensor([[0.2, -0.1, 0.5]], dtype=F64)
    L = torch.diag(torch.tensor([0.3, 0.1, 0.6], dtype=F64))
    loc, mix = sdp_forward(net, x, L)
    g = torch.Generator().manual_seed(2)
    for alpha in (2, 1):
        y = mc_forward(net, x, L, 20000, alpha, g)[0, :, 0].numpy()
        sc = stable_scale(mix, alpha)[0, 0].item()
        law = stats.norm(loc.item(), sc) if alpha == 2 else stats.cauchy(loc.item(), sc)
        assert stats.kstest(y, law.cdf).pvalue > 1e-3


def test_stable_scale_and_marginal_propagation():
    A = torch.tensor([[3.0, -4.0]], dtype=F64)
    assert stable_scale(A, 2).item() == 5.0 and stable_scale(A, 1).item() == 7.0
    net = _net(3)
    x = torch.randn(2, 3, dtype=F64)
    sc = torch.full((2, 3), 0.2, dtype=F64)
    loc, s = sdp_marginal_forward(net, x, sc, 1)
    loc2, mix = sdp_forward(net, x, torch.diag_embed(sc))
    assert torch.allclose(loc, loc2)
    # for Cauchy the marginal scale bounds the joint one (triangle inequality)
    assert (s >= stable_scale(mix, 1) - 1e-12).all()
    assert (s > stable_scale(mix, 1) + 1e-6).any()
    # one affine layer: marginal = joint
    one = net[:1]
    s = sdp_marginal_forward(one, x, sc, 1)[1]
    assert torch.allclose(s, stable_scale(sdp_forward(one, x, torch.diag_embed(sc))[1], 1))


def test_moment_matching_one_layer_matches_mc():
    torch.manual_seed(4)
    net = nn.Sequential(nn.Linear(2, 3), nn.ReLU()).double()
    x = torch.tensor([[0.3, -0.2]], dtype=F64)
    var = torch.tensor([[0.25, 0.09]], dtype=F64)
    m, v = moment_matching_forward(net, x, var)
    y = mc_forward(net, x, torch.diag_embed(var.sqrt()), 200000, 2,
                   torch.Generator().manual_seed(5))[0]
    assert torch.allclose(m[0], y.mean(0), atol=5e-3)
    assert torch.allclose(v[0], y.var(0), atol=5e-3)


def test_distances_against_scipy():
    g = torch.Generator().manual_seed(6)
    c = stable_sample((5000,), 1, g, F64)
    z = stable_sample((5000,), 2, g, F64)
    one, zero = torch.tensor(1.0, dtype=F64), torch.tensor(0.0, dtype=F64)
    assert abs(ks_to_stable(c, zero, one, 1).item()
               - stats.kstest(c.numpy(), "cauchy").statistic) < 1e-10
    assert abs(ks_to_stable(z, zero, one, 2).item()
               - stats.kstest(z.numpy(), "norm").statistic) < 1e-10
    # W1 between an empirical law and a Gaussian: a shift by 1 costs about 1
    assert abs(w1_to_gaussian(z, torch.tensor(1.0, dtype=F64), one).item() - 1) < 0.05
    assert w1_to_gaussian(z, zero, one).item() < 0.05
    # and it agrees with scipy's W1 against a large Gaussian quantile sample
    q = stats.norm.ppf((np.arange(5000) + 0.5) / 5000, 0.3, 2.0)
    ref = stats.wasserstein_distance(z.numpy(), q)
    assert abs(w1_to_gaussian(z, torch.tensor(0.3, dtype=F64),
                              torch.tensor(2.0, dtype=F64)).item() - ref) < 1e-10


def test_sampling_is_seeded():
    a = stable_sample((3, 4), 1, torch.Generator().manual_seed(7))
    b = stable_sample((3, 4), 1, torch.Generator().manual_seed(7))
    c = stable_sample((3, 4), 1, torch.Generator().manual_seed(8))
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert math.isclose(float(stats.cauchy.median()), 0.0)
