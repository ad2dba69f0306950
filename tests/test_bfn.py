"""papers_lib.diffusion.bfn: Bayesian updates against conjugate posteriors, additivity and flow
distributions against sequential updates (moments within standard errors), the
continuous-time losses against exact and quadrature KL divergences, samplers with
oracle networks, and bad input."""
import math

import pytest
import torch

from papers_lib.diffusion.bfn import (BFNMLP, ContinuousBFN, DiscreteBFN, categorical_update,
                            continuous_flow, continuous_gamma, continuous_loss,
                            discrete_flow, discrete_loss, discrete_sender,
                            gaussian_update)

N = torch.distributions.Normal
D64 = torch.float64


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def _close(samples, mean, var, z=4.0):
    n = samples.numel()
    m, v = samples.mean().item(), samples.var().item()
    return (abs(m - mean) < z * math.sqrt(var / n)
            and abs(v - var) < z * var * math.sqrt(2 / (n - 1)))


def test_gaussian_update_is_the_conjugate_posterior():
    mu, rho, y, a = torch.tensor([0.3, -2.0], dtype=D64), 2.0, \
        torch.tensor([-1.1, 0.5], dtype=D64), 5.0
    mu1, rho1 = gaussian_update(mu, rho, y, a)
    xs = torch.linspace(-3, 3, 25, dtype=D64)[:, None]
    resid = (N(mu, rho ** -0.5).log_prob(xs) + N(xs, a ** -0.5).log_prob(y)
             - N(mu1, rho1 ** -0.5).log_prob(xs))
    assert (resid.max(0).values - resid.min(0).values).max() < 1e-10
    torch.testing.assert_close(rho1, torch.full((2,), 7.0, dtype=D64))


def test_continuous_additivity_and_flow():
    g, M, x = _gen(1), 50000, 0.7
    mu, rho = torch.zeros(M, dtype=D64), torch.tensor(1.0, dtype=D64)
    for a in [0.5, 1.5, 3.0]:
        mu, rho = gaussian_update(mu, rho, x + torch.randn(M, generator=g, dtype=D64)
                                  / math.sqrt(a), a)
        rho = rho[0]
    assert _close(mu, 5 * x / 6, 5 / 36)
    # the flow distribution equals 4 of 8 steps of the schedule
    s, n = 0.02, 8
    mu, rho = torch.zeros(M, dtype=D64), torch.tensor(1.0, dtype=D64)
    for i in range(1, 5):
        a = s ** (-2 * i / n) * (1 - s ** (2 / n))
        mu, rho = gaussian_update(mu, rho, x + torch.randn(M, generator=g, dtype=D64)
                                  / math.sqrt(a), a)
        rho = rho[0]
    gam = 1 - s ** 1.0
    assert abs(rho.item() - 1 / (1 - gam)) < 1e-9
    flow = continuous_flow(torch.full((M, 1), x, dtype=D64), 0.5, s, generator=g)
    assert _close(mu, gam * x, gam * (1 - gam))
    assert _close(flow, gam * x, gam * (1 - gam))
    # a wrong flow variance is detected
    assert not _close(flow, gam * x, 1.2 * gam * (1 - gam))


def test_continuous_gamma_endpoints():
    t = torch.tensor([0.0, 0.5, 1.0], dtype=D64)
    torch.testing.assert_close(continuous_gamma(t, 0.1),
                               torch.tensor([0.0, 0.9, 0.99], dtype=D64))


def test_continuous_loss_is_the_limit_of_n_kl():
    x0 = torch.tensor([[0.4, -1.2]], dtype=D64)
    xh = torch.tensor([[0.1, -0.7]], dtype=D64)
    s, n = 0.01, 20000
    rate = continuous_loss(xh, x0, 0.25, s).item()
    assert abs(rate - (-math.log(s)) * s ** -0.5 * 0.34) < 1e-9
    i = n // 4 + 1
    a = s ** (-2 * i / n) * (1 - s ** (2 / n))
    kl = torch.distributions.kl_divergence(N(x0, a ** -0.5), N(xh, a ** -0.5)).sum()
    assert abs(n * kl.item() / rate - 1) < 1e-3


class _PointOracle(torch.nn.Module):
    def __init__(self, x0, s):
        super().__init__()
        self.register_buffer("x0", x0)
        self.s = s

    def forward(self, mu, t):
        gam = continuous_gamma(t, self.s)[:, None].clamp_min(1e-12)
        return (mu - gam * self.x0) / (gam * (1 - gam)).clamp_min(1e-12).sqrt()


def test_continuous_sampler_with_oracle_returns_the_point():
    x0 = torch.tensor([[0.4, -1.2]])
    bfn = ContinuousBFN(_PointOracle(x0, 0.05), 0.05)
    for n in [1, 4, 30]:
        out = bfn.sample(7, (2,), n, generator=_gen(2))
        assert (out - x0).abs().max() < 1e-4
    assert bfn.output(torch.zeros(3, 2), 0.0).abs().max() == 0   # t < t_min: x_hat = 0
    clip = ContinuousBFN(_PointOracle(3 * x0, 0.05), 0.05, x_max=1.0)
    assert clip.sample(3, (2,), 5, generator=_gen(2)).abs().max() <= 1.0


def test_continuous_loss_gradient_reaches_the_network():
    torch.manual_seed(0)
    bfn = ContinuousBFN(BFNMLP((2,), hidden=8), 0.05)
    bfn.loss(torch.randn(16, 2), generator=_gen(3)).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in bfn.parameters())


def test_categorical_update_is_bayes_rule():
    K, a = 4, 0.8
    theta = torch.tensor([[0.1, 0.2, 0.3, 0.4]], dtype=D64)
    y = torch.tensor([[0.5, -1.0, 2.0, 0.0]], dtype=D64)
    means = a * (K * torch.eye(K, dtype=D64) - 1)
    lik = N(means, math.sqrt(a * K)).log_prob(y).sum(-1).exp()     # p(y | k)
    post = lik * theta[0] / (lik * theta[0]).sum()
    torch.testing.assert_close(categorical_update(theta, y)[0], post)


def test_discrete_additivity():
    K, M, g = 3, 40000, _gen(4)
    x = torch.full((M, 1), 1, dtype=torch.long)
    th = torch.full((M, 1, K), 1 / K, dtype=D64)
    for a in [0.3, 0.7]:
        th = categorical_update(th, discrete_sender(x, a, K, generator=g).double())
    ref = torch.softmax(discrete_sender(x.repeat(4, 1), 1.0, K, generator=g), -1)
    for k in range(K):
        a_, b_ = th[:, 0, k], ref[:, 0, k].double()
        assert abs(a_.mean() - b_.mean()) < 4 * math.sqrt(a_.var() / M
                                                           + b_.var() / (4 * M))
        se = math.sqrt((a_ - a_.mean()).pow(2).var() / M
                       + (b_ - b_.mean()).pow(2).var() / (4 * M))
        assert abs(a_.var() - b_.var()) < 4 * se
    # a wrong total accuracy is detected
    wrong = torch.softmax(discrete_sender(x, 1.5, K, generator=g), -1)[:, 0, 1]
    assert abs(wrong.mean() - th[:, 0, 1].mean()) > 0.02


def test_discrete_flow_moments_and_concentration():
    M, g = 40000, _gen(5)
    x = torch.zeros(M, 1, dtype=torch.long)
    y_mean = torch.tensor([1.0, -1.0]) * 2.0          # beta (K e_x - 1), beta = 2
    th = discrete_flow(x, 1.0, 2.0, 2, generator=g)
    logit = (th[:, 0, 0] / th[:, 0, 1]).log()         # y_0 - y_1 ~ N(2 beta, 4 beta)
    assert _close(logit.double(), (y_mean[0] - y_mean[1]).item(), 8.0)
    for beta1 in [1.0, 4.0, 16.0]:
        frac = (discrete_flow(x, 1.0, beta1, 2, generator=g)[:, 0, 0] > 0.5).float()
        exact = N(0.0, 1.0).cdf(torch.tensor(math.sqrt(beta1))).item()
        assert abs(frac.mean().item() - exact) < 4 * math.sqrt(exact * (1 - exact) / M)
    assert torch.allclose(discrete_flow(x[:5], 0.0, 3.0, 2),
                          torch.full((5, 1, 2), 0.5))


def test_discrete_loss_is_the_limit_of_kl_by_quadrature():
    K, a, m = 2, 0.005, 601
    probs = torch.tensor([0.3, 0.7], dtype=D64)
    sd = math.sqrt(a * K)
    u = torch.linspace(-8 * sd, 8 * sd, m, dtype=D64)
    Y = torch.stack(torch.meshgrid(u, u, indexing="ij"), -1).reshape(-1, 2)
    means = a * (K * torch.eye(K, dtype=D64) - 1)
    logn = N(means[:, None], sd).log_prob(Y[None] + means[0]).sum(-1)
    log_r = torch.logsumexp(logn + probs.log()[:, None], 0)
    dens = (logn[0].exp() * (logn[0] - log_r)).reshape(m, m)
    kl = torch.trapezoid(torch.trapezoid(dens, u), u).item()
    # n KL, alpha = beta'(t) / n  ->  K beta'(t) / 2 |e_x - e_hat|^2 = discrete_loss
    beta1, t = 2.0, 0.5
    n = 2 * beta1 * t / a
    rate = discrete_loss(probs[None, None], torch.zeros(1, 1, dtype=torch.long), t,
                         beta1).item()
    assert abs(n * kl / rate - 1) < 0.01
    x0 = torch.zeros(1, 1, dtype=torch.long)
    assert discrete_loss(torch.tensor([[[1.0, 0.0]]]), x0, 0.7, 3.0).item() == 0


class _ClassOracle(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c

    def forward(self, inp, t):
        return 50.0 * torch.nn.functional.one_hot(
            torch.full(inp.shape[:-1], self.c), inp.shape[-1]).to(inp)


def test_discrete_sampler_and_losses_with_oracle():
    bfn = DiscreteBFN(_ClassOracle(2), 3, beta1=2.0)
    for n in [1, 5]:
        assert (bfn.sample(4, (6,), n, generator=_gen(6)) == 2).all()
    x = torch.full((4, 6), 2, dtype=torch.long)
    assert bfn.loss(x, generator=_gen(7)).item() < 1e-12
    assert bfn.reconstruction_loss(x, generator=_gen(7)).item() < 1e-12
    torch.manual_seed(0)
    net = DiscreteBFN(BFNMLP((6, 3), hidden=8), 3)
    net.loss(x, generator=_gen(8)).backward()
    assert all(p.grad is not None for p in net.parameters())


def test_bad_input():
    with pytest.raises(ValueError, match="sigma1"):
        continuous_gamma(torch.tensor(0.5), 1.5)
    with pytest.raises(ValueError, match=r"t must lie in \[0, 1\]"):
        continuous_flow(torch.zeros(3, 2), 1.5, 0.1)
    with pytest.raises(ValueError, match="t must be a scalar"):
        continuous_flow(torch.zeros(3, 2), torch.zeros(4), 0.1)
    with pytest.raises(ValueError, match="non-negative"):
        gaussian_update(torch.zeros(2), 1.0, torch.zeros(2), -1.0)
    with pytest.raises(ValueError, match="same shape"):
        continuous_loss(torch.zeros(3, 2), torch.zeros(3, 1), 0.5, 0.1)
    with pytest.raises(ValueError, match=r"x must hold class indices in \[0, 1\]"):
        discrete_sender(torch.full((2, 3), 2), 1.0, 2)
    with pytest.raises(TypeError, match="integer class indices"):
        discrete_flow(torch.zeros(2, 3), 0.5, 3.0, 2)
    with pytest.raises(ValueError, match="beta1"):
        discrete_flow(torch.zeros(2, 3, dtype=torch.long), 0.5, 0.0, 2)
    with pytest.raises(ValueError, match="num_classes"):
        DiscreteBFN(BFNMLP((3, 1)), 1)
    with pytest.raises(ValueError, match="steps"):
        ContinuousBFN(BFNMLP((2,)), 0.1).sample(2, (2,), 0)
    with pytest.raises(ValueError, match="input must have shape"):
        BFNMLP((2,))(torch.zeros(3, 3), torch.zeros(3))
    with pytest.raises(ValueError, match="same shape"):
        categorical_update(torch.full((2, 3), 1 / 3), torch.zeros(2, 2))


def test_continuous_flow_refuses_a_nan_time():
    from papers_lib.diffusion.bfn import continuous_flow
    with pytest.raises(ValueError, match=r"t must lie in \[0, 1\]"):
        continuous_flow(torch.zeros(2, 3), torch.tensor([0.5, float("nan")]), 0.02)
