"""papers_lib.flows.interpolants: the interpolant, the two quadratic losses, the exact
Gaussian-mixture fields and the ODE/SDE samplers, against closed forms."""
import math

import pytest
import torch

from papers_lib.flows.interpolants import (Interpolant, denoiser_loss, gmm_fields,
                                           ode_sample, sde_sample, velocity_loss)
from papers_lib.flows.matching import CondOTPath, gmm_marginal_field
from papers_lib.flows.rectified import rectified_loss

D = torch.float64


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("path", ["linear", "trig"])
def test_interpolant_endpoints_and_derivative(path):
    interp = Interpolant(path, a=2.0)
    x0, x1, z = (torch.randn(5, 3, generator=_gen(k), dtype=D) for k in range(3))
    torch.testing.assert_close(interp.sample_xt(x0, x1, z, 0.0), x0)
    torch.testing.assert_close(interp.sample_xt(x0, x1, z, 1.0), x1)
    t, h = torch.full((5,), 0.37, dtype=D), 1e-6
    fd = (interp.sample_xt(x0, x1, z, t + h)
          - interp.sample_xt(x0, x1, z, t - h)) / (2 * h)
    torch.testing.assert_close(interp.target(x0, x1, z, t), fd, rtol=1e-6, atol=1e-6)
    tt = torch.tensor([0.2, 0.7], dtype=D)
    _, _, g, _, _, dg = interp.coefficients(tt)
    torch.testing.assert_close(g * dg, interp.gamma_dgamma(tt))
    assert abs(float(interp.gamma(0.5)) - math.sqrt(0.5)) < 1e-12


def test_interpolant_bad_input():
    with pytest.raises(ValueError, match="path"):
        Interpolant("cubic")
    with pytest.raises(ValueError, match="a must be"):
        Interpolant(a=-1.0)
    with pytest.raises(ValueError, match="same shape"):
        Interpolant().sample_xt(torch.zeros(3, 2), torch.zeros(4, 2),
                                torch.zeros(3, 2), 0.5)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        Interpolant().sample_xt(torch.zeros(3, 2), torch.zeros(3, 2),
                                torch.zeros(3, 2), 1.5)


def _gauss_setup(n=100_000, a=1.0):
    g = _gen(1)
    m1, s1 = torch.tensor([[1.0, -2.0]], dtype=D), 0.7
    x0 = torch.randn(n, 2, generator=g, dtype=D)
    x1 = m1 + s1 * torch.randn(n, 2, generator=g, dtype=D)
    z = torch.randn(n, 2, generator=g, dtype=D)
    t = 1e-3 + (1 - 2e-3) * torch.rand(n, generator=g, dtype=D)
    interp = Interpolant("linear", a)
    return interp, x0, x1, z, t, m1, s1, gmm_fields(interp, torch.zeros(1, 2, dtype=D),
                                                    1.0, m1, s1)


def test_losses_minimised_by_exact_fields():
    # L(f + d) - L(f) = |d|^2 / 2 + d . mean(f(t, x_t) - target): the mean has
    # expectation 0 at the minimiser, and the per-sample terms (averaged over z and -z,
    # as the losses are) give its standard error
    n = 20_000
    interp, x0, x1, z, t, *_, (b, eta, _) = _gauss_setup(n)
    d = torch.tensor([0.2, -0.1], dtype=D)
    targets = (lambda zz: interp.target(x0, x1, zz, t), lambda zz: zz)
    for loss, f, target in zip((velocity_loss, denoiser_loss), (b, eta), targets):
        resid = sum((f(t, interp.sample_xt(x0, x1, zz, t)) - target(zz)) @ d
                    for zz in (z, -z)) / 2
        se = resid.std().item() / math.sqrt(n)
        base = loss(f, interp, x0, x1, z=z, t=t)
        for sign in (1, -1):
            pert = loss(lambda s, x: f(s, x) + sign * d, interp, x0, x1, z=z, t=t)
            ex = pert - base
            assert abs(ex.item() - 0.5 * d.pow(2).sum().item()) < 4 * se


def test_denoiser_is_minus_gamma_times_score():
    """eta = -gamma grad log rho_t, with rho_t from torch.distributions (a mixture)."""
    interp = Interpolant("trig", 1.5)
    m0 = torch.tensor([[0.0, 1.0], [-1.0, 0.0]], dtype=D)
    m1 = torch.tensor([[2.0, 0.0], [0.0, -2.0], [1.0, 1.0]], dtype=D)
    s0, s1 = torch.tensor([0.5, 0.8], dtype=D), 0.3
    b, eta, score = gmm_fields(interp, m0, s0, m1, s1)
    x = torch.randn(7, 2, generator=_gen(2), dtype=D).requires_grad_()
    t = 0.35
    al, be, g, *_ = interp.coefficients(torch.tensor(t, dtype=D))
    mu = (al * m0[:, None] + be * m1[None]).reshape(-1, 2)
    var = (al ** 2 * s0[:, None] ** 2 + be ** 2 * s1 ** 2 + g ** 2)
    var = var.expand(2, 3).reshape(-1)
    mix = torch.distributions.MixtureSameFamily(
        torch.distributions.Categorical(torch.ones(6, dtype=D)),
        torch.distributions.Independent(
            torch.distributions.Normal(mu, var.sqrt()[:, None].expand(6, 2)), 1))
    grad, = torch.autograd.grad(mix.log_prob(x).sum(), x)
    torch.testing.assert_close(score(t, x.detach()), grad)
    torch.testing.assert_close(eta(t, x.detach()), -g * grad)


def test_velocity_solves_the_transport_equation():
    """d/dt log rho_t + div b + b . grad log rho_t = 0, mixture to mixture."""
    interp = Interpolant("linear", 1.0)
    m0 = torch.tensor([[0.0, 1.0], [-1.0, 0.0]], dtype=D)
    m1 = torch.tensor([[2.0, 0.0], [0.0, -2.0]], dtype=D)
    b, _, score = gmm_fields(interp, m0, 0.5, m1, 0.3)

    def logp(t, x):
        al, be, g, *_ = interp.coefficients(torch.tensor(t, dtype=D))
        mu = (al * m0[:, None] + be * m1[None]).reshape(-1, 2)
        sd = (al ** 2 * 0.25 + be ** 2 * 0.09 + g ** 2).sqrt()
        comp = torch.distributions.Normal(mu, sd)
        return torch.logsumexp(comp.log_prob(x[:, None]).sum(-1), 1) - math.log(4)

    x = torch.randn(6, 2, generator=_gen(3), dtype=D)
    t, h = 0.4, 1e-5
    dlog = (logp(t + h, x) - logp(t - h, x)) / (2 * h)
    div = torch.stack([torch.autograd.functional.jacobian(
        lambda y: b(t, y[None])[0], xi).trace() for xi in x])
    resid = dlog + div + (b(t, x) * score(t, x)).sum(1)
    assert resid.abs().max() < 1e-6


def test_gamma_zero_is_rectified_flow():
    interp, x0, x1, z, t, m1, s1, (b, _, _) = _gauss_setup(2000, a=0.0)
    u = gmm_marginal_field(CondOTPath(0.0), m1, s1)
    torch.testing.assert_close(b(t, x0), u(t, x0))
    torch.testing.assert_close(velocity_loss(b, interp, x0, x1, z=z, t=t),
                               0.5 * rectified_loss(b, x0, x1, t=t)
                               - 0.5 * (x1 - x0).pow(2).sum(1).mean())


@pytest.mark.parametrize("eps, steps", [(0.0, 20), (0.5, 50), (2.0, 200)])
def test_samplers_transport_gaussians(eps, steps):
    n = 4000
    interp, *_, m1, s1, (b, eta, _) = _gauss_setup(10)
    x0 = torch.randn(n, 2, generator=_gen(4), dtype=D)
    if eps == 0:  # Gaussians all along: the flow's map is x1 = m1 + s1 x0, rk4 O(h^4)
        x0 = x0[:100]
        torch.testing.assert_close(ode_sample(b, x0, steps), m1 + s1 * x0,
                                   rtol=0, atol=1e-6)
        return
    x = sde_sample(b, eta, interp, x0, steps, eps, t_span=(1e-3, 1.0),
                   generator=_gen(5))
    # within 4 standard errors of the sample mean and variance; Euler-Maruyama's O(h)
    # bias grows with eps: at these steps at most about half a standard error (0.005
    # in the variance at eps = 2)
    assert (x.mean(0) - m1[0]).abs().max() < 4 * s1 / math.sqrt(n)
    assert (x.var(0) - s1 ** 2).abs().max() < 4 * s1 ** 2 * math.sqrt(2 / (n - 1))


def test_sde_is_reproducible_and_eps_zero_is_euler():
    interp, *_, (b, eta, _) = _gauss_setup(10)
    x0 = torch.randn(50, 2, generator=_gen(6), dtype=D)
    a1 = sde_sample(b, eta, interp, x0, 10, 1.0, t_span=(0.01, 1.0), generator=_gen(7))
    a2 = sde_sample(b, eta, interp, x0, 10, 1.0, t_span=(0.01, 1.0), generator=_gen(7))
    torch.testing.assert_close(a1, a2)
    torch.testing.assert_close(sde_sample(b, eta, interp, x0, 10, 0.0),
                               ode_sample(b, x0, 10, "euler"))


def test_bad_input():
    interp, *_, (b, eta, _) = _gauss_setup(10)
    x0 = torch.zeros(4, 2, dtype=D)
    with pytest.raises(ValueError, match="gamma"):
        sde_sample(b, eta, interp, x0, 10, 1.0)
    with pytest.raises(ValueError, match="eps"):
        sde_sample(b, eta, interp, x0, 10, -1.0, t_span=(0.1, 1.0))
    with pytest.raises(ValueError, match="t_span"):
        sde_sample(b, eta, interp, x0, 10, 1.0, t_span=(0.5, 0.2))
    with pytest.raises(ValueError, match="steps"):
        sde_sample(b, eta, interp, x0, 0)
    with pytest.raises(TypeError, match="Interpolant"):
        velocity_loss(b, "linear", x0, x0)
    with pytest.raises(ValueError, match="shape"):
        velocity_loss(lambda t, x: x[:, :1], interp, x0, x0)
    with pytest.raises(ValueError, match="t must have shape"):
        denoiser_loss(eta, interp, x0, x0, t=torch.zeros(3))
    with pytest.raises(ValueError, match="means"):
        gmm_fields(interp, torch.zeros(2), 1.0, torch.zeros(1, 2), 1.0)
    with pytest.raises(ValueError, match="weights"):
        gmm_fields(interp, torch.zeros(2, 2), 1.0, torch.zeros(1, 2), 1.0,
                   weights0=torch.tensor([1.0, -1.0]))
