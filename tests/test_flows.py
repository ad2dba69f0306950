"""papers_lib.flows: Gaussian paths, CFM loss, sampler and exact marginal fields."""
import math

import pytest
import torch

from papers_lib.flows import (CondOTPath, GaussianPath, VPDiffusionPath,
                              VectorFieldMLP, cfm_loss, gmm_marginal_field, sample)

PATHS = [CondOTPath(), CondOTPath(sigma_min=0.1), VPDiffusionPath(),
         VPDiffusionPath(beta_min=0.5, beta_max=10.0, eps=1e-2)]


def _vp_reference(t, beta_min=0.1, beta_max=20.0):
    """alpha_{1-t} by numerical quadrature of beta (independent of the closed form)."""
    s = torch.linspace(0, 1 - t, 20001, dtype=torch.float64)
    big_t = torch.trapezoid(beta_min + s * (beta_max - beta_min), s)
    return math.exp(-0.5 * big_t.item())


@pytest.mark.parametrize("path", PATHS, ids=repr)
def test_boundary_conditions(path):
    x1 = torch.randn(7, 3, dtype=torch.float64)
    # t = 1: the conditional mean is the data point
    torch.testing.assert_close(path.mu_t(x1, 1.0), x1)
    # t = 0: p_0(x | x1) = N(0, I) (the VP path only nearly: alpha_1 = e^{-T(1)/2})
    m0 = path.mu_t(x1, 0.0)
    s0 = path.sigma_t(0.0).item()
    if isinstance(path, CondOTPath):
        assert torch.equal(m0, torch.zeros_like(x1)) and s0 == 1.0
        assert path.sigma_t(1.0).item() == pytest.approx(path.sigma_min)
    else:
        big_t1 = path.beta_min + 0.5 * (path.beta_max - path.beta_min)
        alpha_1 = math.exp(-0.5 * big_t1)
        torch.testing.assert_close(m0, alpha_1 * x1)
        assert s0 == pytest.approx(math.sqrt(1 - alpha_1 ** 2))
        assert path.sigma_t(1.0).item() == 0.0


def test_vp_schedule_against_quadrature():
    vp = VPDiffusionPath()
    for t in (0.0, 0.3, 0.7, 0.99):
        m, _, s, _ = vp.coefficients(torch.tensor(t, dtype=torch.float64))
        assert m.item() == pytest.approx(_vp_reference(t), rel=1e-6)
        assert s.item() ** 2 + m.item() ** 2 == pytest.approx(1.0)
    # sigma_t keeps its precision near t = 1 (expm1): 1 - alpha^2 ~ beta_min * (1 - t)
    s = vp.sigma_t(torch.tensor(1 - 1e-7, dtype=torch.float64)).item()
    assert s ** 2 == pytest.approx(0.1 * 1e-7, rel=1e-4)


def test_ot_path_is_a_straight_line():
    ot = CondOTPath(sigma_min=0.0)
    x0, x1 = torch.randn(5, 2), torch.randn(5, 2)
    torch.testing.assert_close(ot.sample_xt(x0, x1, 0.25), 0.75 * x0 + 0.25 * x1)
    for t in (0.0, 0.4, 0.9):  # constant velocity x1 - x0
        torch.testing.assert_close(ot.target(x0, x1, t), x1 - x0)


@pytest.mark.parametrize("path", PATHS, ids=repr)
def test_conditional_field_is_the_flow_derivative(path):
    g = torch.Generator().manual_seed(0)
    x0 = torch.randn(32, 4, generator=g, dtype=torch.float64)
    x1 = torch.randn(32, 4, generator=g, dtype=torch.float64)
    t = torch.rand(32, generator=g, dtype=torch.float64) * path.t_max
    t.requires_grad_()
    psi = path.sample_xt(x0, x1, t)
    dpsi = torch.stack([torch.autograd.grad(psi[:, i].sum(), t, retain_graph=True)[0]
                        for i in range(4)], 1)
    with torch.no_grad():
        torch.testing.assert_close(path.u_t(psi, x1, t), dpsi)
        torch.testing.assert_close(path.target(x0, x1, t), dpsi)
        # sigma_t * sigma_t' (the VP path computes it without dividing by sigma_t)
        ssd = path.sigma_dsigma(t)
        _, _, s, ds = path.coefficients(t)
        torch.testing.assert_close(ssd, s * ds)


def test_cfm_loss_by_hand():
    x0, x1 = torch.tensor([[1.0, 0.0]]), torch.tensor([[3.0, 2.0]])
    t = torch.tensor([0.5])
    ot = CondOTPath(sigma_min=0.0)
    # x_t = (2, 1), target x1 - x0 = (2, 2)
    assert cfm_loss(lambda t, x: x, ot, x1, x0=x0, t=t).item() == 1.0
    assert cfm_loss(lambda t, x: torch.zeros_like(x), ot, x1, x0=x0, t=t).item() == 8.0
    # a batch: squared norm per sample, mean over the batch
    x0b, x1b = torch.zeros(2, 2), torch.tensor([[1.0, 0.0], [0.0, 3.0]])
    # at t = 1 (sigma_min = 0): x_t = x1, target = x1; v = 0 -> (1 + 9) / 2
    zero = lambda t, x: torch.zeros_like(x)
    assert cfm_loss(zero, ot, x1b, x0=x0b, t=torch.ones(2)).item() == 5.0


def test_cfm_loss_vp_against_formula():
    vp = VPDiffusionPath()
    g = torch.Generator().manual_seed(1)
    x0, x1 = torch.randn(16, 3, generator=g), torch.randn(16, 3, generator=g)
    t = torch.rand(16, generator=g) * 0.9
    alpha = torch.tensor([_vp_reference(s) for s in t.tolist()], dtype=torch.float32)
    beta = 0.1 + (20.0 - 0.1) * (1 - t)
    da = 0.5 * beta * alpha
    sig = (1 - alpha ** 2).sqrt()
    xt = alpha[:, None] * x1 + sig[:, None] * x0
    target = da[:, None] * x1 - (alpha * da / sig)[:, None] * x0
    v = lambda t, x: 0.3 * x + t[:, None]
    expected = (v(t, xt) - target).pow(2).sum(1).mean()
    torch.testing.assert_close(cfm_loss(v, vp, x1, x0=x0, t=t), expected,
                               rtol=1e-4, atol=1e-5)


def test_cfm_loss_draws_are_seeded_and_in_range():
    x1 = torch.randn(64, 2)
    net = VectorFieldMLP(2, hidden=8, depth=1)
    a, b = (cfm_loss(net, VPDiffusionPath(), x1,
                     generator=torch.Generator().manual_seed(3)) for _ in range(2))
    assert torch.equal(a, b)
    t = VPDiffusionPath(eps=0.25).sample_t(10_000, torch.Generator().manual_seed(0))
    assert t.min() >= 0 and t.max() <= 0.75 and t.max() > 0.74


def test_exact_gmm_field_transports_noise_to_data():
    # data N(m, s^2 I): marginal path N(m_t m, v_t I) with v_t = m_t^2 s^2 + sigma_t^2;
    # the marginal field is affine with a scalar linear part, so its flow is the
    # affine map x_t = m_t m + sqrt(v_t / v_0) (x_0 - m_0 m): check it at t = 1
    m, s = torch.tensor([[1.0, -2.0]], dtype=torch.float64), 0.5
    g = torch.Generator().manual_seed(0)
    x0 = torch.randn(500, 2, generator=g, dtype=torch.float64)
    for path in (CondOTPath(), CondOTPath(sigma_min=0.2), VPDiffusionPath()):
        field = gmm_marginal_field(path, m, s)
        x1 = sample(field, x0, None, "dopri5", rtol=1e-8, atol=1e-8)
        (m0, _, s0, _), (m1, _, s1, _) = (path.coefficients(torch.tensor(t).double())
                                          for t in (0.0, 1.0))
        v0, v1 = m0 ** 2 * s ** 2 + s0 ** 2, m1 ** 2 * s ** 2 + s1 ** 2
        torch.testing.assert_close(x1, m1 * m + (v1 / v0).sqrt() * (x0 - m0 * m),
                                   atol=1e-5, rtol=0)


def test_exact_gmm_field_is_the_posterior_mean_of_conditional_fields():
    # Monte Carlo check of u_t(x) = E[u_t(x | x1) | x_t = x] for a mixture of two:
    # importance-weight the conditional fields of many x1 by p_t(x | x1)
    means = torch.tensor([[-1.0, 0.0], [1.5, 1.0]], dtype=torch.float64)
    std, w = torch.tensor([0.3, 0.6], dtype=torch.float64), torch.tensor([0.3, 0.7])
    g = torch.Generator().manual_seed(0)
    k = torch.multinomial(w.double(), 400_000, replacement=True, generator=g)
    eps = torch.randn(400_000, 2, generator=g, dtype=torch.float64)
    x1 = means[k] + std[k, None] * eps
    x = torch.tensor([[0.3, 0.2]], dtype=torch.float64)
    for path in (CondOTPath(), VPDiffusionPath()):
        t = torch.tensor(0.6, dtype=torch.float64)
        m, _, s, _ = path.coefficients(t)
        logw = -0.5 * ((x - m * x1) ** 2).sum(1) / s ** 2
        wts = torch.softmax(logw, 0)[:, None]
        mc = (wts * path.u_t(x.expand_as(x1), x1, t)).sum(0)
        exact = gmm_marginal_field(path, means, std, w)(t, x)[0]
        torch.testing.assert_close(exact, mc, atol=0.02, rtol=0)


def test_sample_matches_known_flows():
    x0 = torch.ones(4, 3, dtype=torch.float64)
    out = sample(lambda t, x: -x, x0, 4, "euler")
    torch.testing.assert_close(out, torch.full_like(x0, 0.75 ** 4))
    out = sample(lambda t, x: t[:, None] * torch.ones_like(x), x0, 10, "rk4")
    torch.testing.assert_close(out, x0 + 0.5)  # integral of t from 0 to 1
    t, xs = sample(lambda t, x: -x, x0, 8, "dopri5", trajectory=True)
    assert xs.shape == (9, 4, 3) and t[-1] == 1.0
    torch.testing.assert_close(xs[-1], x0 * math.exp(-1), atol=1e-5, rtol=0)


def test_vector_field_mlp_shapes():
    net = VectorFieldMLP(5, hidden=16, depth=2)
    x = torch.randn(7, 5)
    assert net(torch.rand(7), x).shape == (7, 5)
    torch.testing.assert_close(net(torch.tensor(0.3), x),
                               net(torch.full((7,), 0.3), x))


def test_bad_input():
    ot, vp, x = CondOTPath(), VPDiffusionPath(), torch.randn(4, 2)
    with pytest.raises(ValueError, match="same shape"):
        ot.sample_xt(x, torch.randn(4, 3), 0.5)
    with pytest.raises(ValueError, match="same shape"):
        cfm_loss(lambda t, x: x, ot, x, x0=torch.randn(3, 2))
    with pytest.raises(ValueError, match=r"t must lie in \[0, 1\]"):
        ot.sample_xt(x, x, 1.5)
    with pytest.raises(ValueError, match=r"t must lie in \[0, 1\]"):
        vp.mu_t(x, torch.tensor([-0.1, 0.2, 0.3, 0.4]))
    with pytest.raises(ValueError, match=r"t must lie in \[0, 1\]"):
        ot.sigma_t(-0.5)
    with pytest.raises(ValueError, match="t must be a scalar or have shape"):
        ot.target(x, x, torch.rand(3))
    with pytest.raises(ValueError, match=r"t must have shape \(n,\)"):
        cfm_loss(lambda t, x: x, ot, x, t=torch.rand(4, 1))
    with pytest.raises(ValueError, match="sigma_min must be a real number >= 0, < 1"):
        CondOTPath(sigma_min=1.0)
    with pytest.raises(ValueError, match="sigma_min must be a real number >= 0, < 1"):
        CondOTPath(sigma_min=-0.1)
    with pytest.raises(ValueError, match="beta_max must be a real number > 2, got 1.0"):
        VPDiffusionPath(beta_min=2.0, beta_max=1.0)
    with pytest.raises(ValueError, match=r"eps must be a real number > 0, < 1"):
        VPDiffusionPath(eps=0.0)
    with pytest.raises(ValueError, match="singular"):
        vp.u_t(x, x, 1.0)
    with pytest.raises(ValueError, match=r"v_theta must return a tensor of shape"):
        cfm_loss(lambda t, x: x[:, :1], ot, x)
    with pytest.raises(TypeError, match="GaussianPath"):
        cfm_loss(lambda t, x: x, "ot", x)
    with pytest.raises(ValueError, match="needs a number of steps"):
        sample(lambda t, x: x, x, None, "euler")
    with pytest.raises(ValueError, match="steps must be an int >= 1"):
        sample(lambda t, x: x, x, 0, "euler")
    with pytest.raises(ValueError, match="method must be one of"):
        sample(lambda t, x: x, x, 4, "midpoint")
    with pytest.raises(ValueError, match="means must have 2 dimensions"):
        gmm_marginal_field(ot, torch.zeros(3), 1.0)
    with pytest.raises(ValueError, match="weights must be"):
        gmm_marginal_field(ot, torch.zeros(2, 2), 1.0, torch.tensor([1.0, -1.0]))
    with pytest.raises(NotImplementedError):
        GaussianPath().sample_xt(x, x, 0.5)
