"""papers_lib.diffusion.nonequilibrium: the forward posterior, the Gaussian KL, the
entropy bounds, the reverse kernels and the variational bound, against Bayes' rule,
torch.distributions and the exact density of a Gaussian mixture."""
import math

import pytest
import torch
from torch.distributions import MultivariateNormal, Normal, kl_divergence

from papers_lib.diffusion import DiscreteSchedule, GaussianMixture, VPLinear
from papers_lib.diffusion.nonequilibrium import (
    ReverseMLP, elbo, elbo_loss, elbo_terms, entropy_bounds, gaussian_kl,
    q_posterior, reverse_sample, score_reverse, swiss_roll, swiss_roll_log_prob,
    variance_range)

D = torch.float64


def _gm():
    means = torch.tensor([[-2.0, -1.0], [2.0, -1.5], [0.0, 2.0]], dtype=D)
    covs = torch.tensor([[[0.3, 0.2], [0.2, 0.4]], [[0.5, -0.3], [-0.3, 0.4]],
                         [[0.2, 0.0], [0.0, 0.05]]], dtype=D)
    return GaussianMixture(means, covs, weights=torch.tensor([0.5, 0.3, 0.2]))


def _sch(T=40):
    return VPLinear().discretize(T)


@pytest.mark.parametrize("t", [1, 2, 7, 40])
def test_posterior_is_bayes_rule(t):
    """q(x_{t-1} | x_t, x_0) proportional to q(x_t | x_{t-1}) q(x_{t-1} | x_0), on a
    1-D grid, normalised numerically."""
    sch = _sch()
    x0, xt = torch.tensor([[0.7]], dtype=D), torch.tensor([[-0.4]], dtype=D)
    beta = sch.betas[t - 1]
    ab_prev = sch.alphas_bar[t - 2] if t > 1 else torch.tensor(1.0, dtype=D)
    mean, var = q_posterior(sch, x0, xt, t)
    if t == 1:
        assert float(var) == 0.0 and torch.allclose(mean, x0)
        return
    grid = torch.linspace(-6, 6, 200001, dtype=D)
    logw = (Normal((1 - beta).sqrt() * grid, beta.sqrt()).log_prob(xt[0, 0])
            + Normal(ab_prev.sqrt() * x0[0, 0], (1 - ab_prev).sqrt()).log_prob(grid))
    w = torch.softmax(logw, 0)
    m = (w * grid).sum()
    v = (w * (grid - m) ** 2).sum()
    assert float(mean) == pytest.approx(float(m), abs=1e-8)
    assert float(var) == pytest.approx(float(v), rel=1e-5)


def test_posterior_consistent_with_marginals():
    """Drawing x_{t-1} ~ q(x_{t-1} | x_t, x_0) with x_t ~ q(x_t | x_0) reproduces
    q(x_{t-1} | x_0) = N(sqrt(abar_{t-1}) x_0, 1 - abar_{t-1}) in mean and variance."""
    sch, t, n = _sch(), 10, 200000
    g = torch.Generator().manual_seed(0)
    x0 = torch.full((n, 1), 1.5, dtype=D)
    ab = sch.alphas_bar
    eps = torch.randn(n, 1, generator=g, dtype=D)
    xt = ab[t - 1].sqrt() * x0 + (1 - ab[t - 1]).sqrt() * eps
    mean, var = q_posterior(sch, x0, xt, t)
    xs = mean + var.sqrt() * torch.randn(n, 1, generator=g, dtype=D)
    assert float(xs.mean()) == pytest.approx(1.5 * float(ab[t - 2].sqrt()), abs=0.01)
    assert float(xs.var()) == pytest.approx(float(1 - ab[t - 2]), rel=0.02)


def test_gaussian_kl_against_torch():
    g = torch.Generator().manual_seed(1)
    m1, m2 = torch.randn(5, 3, generator=g, dtype=D), torch.randn(5, 3, generator=g,
                                                                   dtype=D)
    v1, v2 = torch.rand(5, 3, generator=g, dtype=D) + 0.1, \
        torch.rand(5, 3, generator=g, dtype=D) + 0.1
    ref = kl_divergence(Normal(m1, v1.sqrt()), Normal(m2, v2.sqrt())).sum(1)
    torch.testing.assert_close(gaussian_kl(m1, v1, m2, v2), ref)
    mvn = kl_divergence(MultivariateNormal(m1, torch.diag_embed(v1)),
                        MultivariateNormal(m2, torch.diag_embed(v2)))
    torch.testing.assert_close(gaussian_kl(m1, v1, m2, v2), mvn)
    # broadcast scalar variances, and KL(p || p) = 0
    torch.testing.assert_close(gaussian_kl(m1, 0.5, m1, torch.tensor(0.5)),
                               torch.zeros(5, dtype=D))


def test_gaussian_kl_bad_input():
    x = torch.zeros(2, 2)
    with pytest.raises(ValueError, match="positive"):
        gaussian_kl(x, torch.zeros(2, 2), x, torch.ones(2, 2))
    with pytest.raises(ValueError, match="batch dimension"):
        gaussian_kl(torch.tensor(0.0), 1.0, torch.tensor(0.0), 1.0)


def test_entropy_bounds_closed_form():
    sch = _sch()
    lo, hi = entropy_bounds(sch, 3)
    assert lo[0] == -math.inf
    torch.testing.assert_close(hi, 1.5 * torch.log(2 * math.pi * math.e * sch.betas))
    # lower bound = H(X_t | X_{t-1}) + H(X_{t-1} | X_0) - H(X_t | X_0)
    h = lambda v: 1.5 * torch.log(2 * math.pi * math.e * v)  # noqa: E731
    ab = sch.alphas_bar
    ref = h(sch.betas[1:]) + h(1 - ab[:-1]) - h(1 - ab[1:])
    torch.testing.assert_close(lo[1:], ref)
    assert bool((lo[1:] < hi[1:]).all())
    v_lo, v_hi = variance_range(sch)
    assert float(v_lo[0]) == float(v_lo[1]) and bool((v_lo < v_hi).all())


def test_entropy_bounds_hold_for_a_gaussian():
    """For x_0 ~ N(0, s^2) every reverse step is Gaussian with an exact entropy: it
    lies between the bounds."""
    sch, s2 = _sch(), 0.3
    ab = torch.cat([torch.ones(1, dtype=D), sch.alphas_bar])
    var_prev, var_t = ab[:-1] * s2 + 1 - ab[:-1], ab[1:] * s2 + 1 - ab[1:]
    a = 1 - sch.betas                 # Cov(x_t, x_{t-1}) = sqrt(a) var_prev
    cond = var_prev - a * var_prev ** 2 / var_t
    h = 0.5 * torch.log(2 * math.pi * math.e * cond)
    lo, hi = entropy_bounds(sch, 1)
    assert bool((h <= hi + 1e-12).all()) and bool((h >= lo - 1e-12).all())


def test_bad_inputs():
    sch = _sch()
    x = torch.zeros(4, 2, dtype=D)
    with pytest.raises(ValueError, match="1..T"):
        q_posterior(sch, x, x, 41)
    with pytest.raises(TypeError, match="integer step"):
        q_posterior(sch, x, x, 0.5)
    with pytest.raises(TypeError, match="DiscreteSchedule"):
        q_posterior(VPLinear(), x, x, 3)
    with pytest.raises(ValueError, match="same shape"):
        q_posterior(sch, x, x[:, :1], 3)
    with pytest.raises(ValueError, match="T >= 2"):
        ReverseMLP(DiscreteSchedule(torch.tensor([0.1])))
    with pytest.raises(ValueError, match="shape"):
        ReverseMLP(sch, dim=2)(torch.zeros(3, 3), 1)
    with pytest.raises(ValueError, match="variance must be one of 'lower', 'upper'"):
        score_reverse(lambda x, t: x, sch, "middle")
    with pytest.raises(ValueError, match="n must be an int >= 1, got 0"):
        swiss_roll(0)
    with pytest.raises(ValueError, match="noise must be a real number >= 0"):
        swiss_roll(5, noise=-0.1)
    with pytest.raises(ValueError, match="dim must be an int >= 1, got 0"):
        entropy_bounds(sch, 0)
    with pytest.raises(ValueError, match="hidden must be an int >= 1"):
        ReverseMLP(sch, hidden=0)


def test_reverse_mlp_variance_within_entropy_bounds():
    torch.manual_seed(0)
    sch = _sch()
    model = ReverseMLP(sch, hidden=16).double()
    for p in model.parameters():        # random weights, not the zero init
        torch.nn.init.normal_(p, std=2.0)
    x = torch.randn(64, 2, dtype=D)
    lo, hi = variance_range(sch)       # buffers are stored in float32: rel 1e-6
    for t in (1, 2, 20, 40):
        mean, var = model(x, t)
        assert mean.shape == var.shape == x.shape
        assert bool((var >= lo[t - 1] * (1 - 1e-6)).all())
        assert bool((var <= hi[t - 1] * (1 + 1e-6)).all())


def test_zero_init_is_exact_reverse_for_standard_normal():
    """At initialisation the mean is sqrt(1 - beta_t) x_t = E[x_{t-1} | x_t] when the
    data are N(0, I) (every marginal is then N(0, I))."""
    sch = _sch()
    model = ReverseMLP(sch).double()
    x = torch.randn(8, 2, dtype=D)
    mean, _ = model(x, 5)
    torch.testing.assert_close(mean, (1 - sch.betas[4]).sqrt() * x)
    exact = score_reverse(lambda y, t: -y, sch)      # score of N(0, I)
    torch.testing.assert_close(exact(x, 5)[0], mean)


def test_score_reverse_mean_is_posterior_mean():
    """For Gaussian data the exact E[x_{t-1} | x_t] is linear and known:
    Cov(x_{t-1}, x_t) / Var(x_t) x_t with x_0 ~ N(0, s^2)."""
    sch, s2, t = _sch(), 0.25, 12
    gm = GaussianMixture(torch.zeros(1, 1, dtype=D), stds=s2 ** 0.5)
    rev = score_reverse(lambda x, tt: gm.noised_score(x, tt, sch), sch)
    x = torch.linspace(-2, 2, 9, dtype=D)[:, None]
    ab = sch.alphas_bar
    v_prev, v_t = ab[t - 2] * s2 + 1 - ab[t - 2], ab[t - 1] * s2 + 1 - ab[t - 1]
    ref = (1 - sch.betas[t - 1]).sqrt() * v_prev / v_t * x
    torch.testing.assert_close(rev(x, t)[0], ref)


def test_bound_below_exact_likelihood_and_tight_for_exact_reverse():
    """E_data[bound] <= E_data[log p_model] <= E_data[log p_data] for any reverse
    model; with the exact reverse mean the gap is small and shrinks with T. Monte
    Carlo checks at k = 3 standard errors of the n = 1000 row means."""
    target, g = _gm(), torch.Generator().manual_seed(0)
    x0 = target.sample(1000, g)
    ll = target.log_prob(x0)
    bound, gap, se = {}, {}, {}
    for T in (10, 40):
        sch = _sch(T)
        exact = score_reverse(lambda x, t: target.noised_score(x, t, sch), sch)
        bound[T] = elbo(exact, sch, x0, torch.Generator().manual_seed(1))
        d = bound[T] - ll
        gap[T], se[T] = -float(d.mean()), float(d.std()) / math.sqrt(len(d))
        assert gap[T] > -3 * se[T]
    assert gap[10] - gap[40] > 3 * math.hypot(se[10], se[40])
    assert gap[40] < 0.2 + 3 * se[40]                  # small: under 0.2 nats
    # other reverse models, on the same x_t draws (the same seed): paired differences
    torch.manual_seed(0)
    sch = _sch(10)
    for model in (ReverseMLP(sch).double(),
                  score_reverse(lambda x, t: target.noised_score(x, t, sch), sch,
                                "lower")):
        with torch.no_grad():
            d = elbo(model, sch, x0, torch.Generator().manual_seed(1)) - bound[10]
        assert float(d.mean()) < -3 * float(d.std()) / math.sqrt(len(d))


def test_elbo_terms_and_loss():
    target, g = _gm(), torch.Generator().manual_seed(3)
    sch, n = _sch(10), 2000
    torch.manual_seed(3)
    model = ReverseMLP(sch, hidden=16).double()
    x0 = target.sample(n, g)
    terms = elbo_terms(model, sch, x0, g).detach()
    assert terms.shape == (n, 11) and bool((terms[:, 2:] <= 0).all())
    ab = sch.alphas_bar[-1]
    prior = 0.5 * (ab * x0 ** 2 + (1 - ab) - 1 - torch.log(1 - ab)).sum(1)
    torch.testing.assert_close(terms[:, 0], -prior)
    # one call on 8 copies of x0: 8n one-step draws of -(prior + T term_t); both
    # means are unbiased for -E[bound], so within 4 se, se^2 = var(one) / 8n
    # + var(full) / n (a bound: the part from x0, shared by both, cancels)
    loss = elbo_loss(model, sch, x0.repeat(8, 1), g)
    full = -terms.sum(1)
    one = -(terms[:, :1] + sch.T * terms[:, 1:])          # the one-step values
    se = math.hypot(float(one.std()) / math.sqrt(8 * n),
                    float(full.std()) / math.sqrt(n))
    assert abs(float(loss.detach()) - float(full.mean())) < 4 * se
    loss.backward()
    assert model.out.weight.grad is not None


def test_reverse_sample_exact_reverse_recovers_moments():
    """For Gaussian data N(mu, S) the exact reverse kernel is affine, x_{t-1} = A_t x_t
    + b_t + sqrt(beta_t) z, so the chain's output law N(m, C) follows in closed form;
    the samples match it (4 standard errors) and it tends to N(mu, S) as T grows."""
    mu = torch.tensor([1.0, -0.5], dtype=D)
    S = torch.tensor([[0.5, 0.3], [0.3, 0.4]], dtype=D)
    gm = GaussianMixture(mu[None], S[None])

    def law(T):              # A_t, b_t from the kernel at 0, e_1, e_2 for every t
        sch = _sch(T)
        rev = score_reverse(lambda x, t: gm.noised_score(x, t, sch), sch)
        pts = torch.cat([torch.zeros(1, 2, dtype=D), torch.eye(2, dtype=D)])
        mean, var = rev(pts.repeat(T, 1), torch.arange(1, T + 1).repeat_interleave(3))
        mean, var = mean.reshape(T, 3, 2), var.reshape(T, 3, 2)
        m, C = torch.zeros(2, dtype=D), torch.eye(2, dtype=D)
        for i in range(T - 1, -1, -1):
            A = (mean[i, 1:] - mean[i, 0]).T
            m, C = A @ m + mean[i, 0], A @ C @ A.T + torch.diag(var[i, 0])
        return sch, rev, m, C

    def err(mm, CC):
        return max(float((mm - mu).abs().max()), float((CC - S).abs().max()))

    sch, rev, m, C = law(20)
    n, g = 4000, torch.Generator().manual_seed(4)
    x = reverse_sample(rev, sch, torch.randn(n, 2, generator=g, dtype=D), g)
    # Gaussian samples: se(mean_i) = sqrt(C_ii / n), se(cov_ij)^2 = (C_ii C_jj
    # + C_ij^2) / n
    se_m = (C.diagonal() / n).sqrt()
    se_c = ((C.diagonal()[:, None] * C.diagonal()[None] + C ** 2) / n).sqrt()
    assert bool(((x.mean(0) - m).abs() < 4 * se_m).all())
    assert bool(((torch.cov(x.T) - C).abs() < 4 * se_c).all())
    # the chain's law approaches the data's: first order in 1/T (a quarter at 4 T)
    assert err(m, C) < err(*law(5)[2:]) / 3
    traj = reverse_sample(rev, sch, x[:5], g, trajectory=True)
    assert traj.shape == (21, 5, 2)


def test_swiss_roll_log_prob_is_a_density():
    # the mixture over the u grid integrates to 1 exactly; the lattice sum h^2 sum p
    # differs from the integral by aliasing, at most about 4 exp(-2 pi^2 s^2 / h^2)
    # = 2e-13 for s = 0.1, h = 0.08 (Poisson summation), and by the mass outside
    # [-4, 4]^2, over 11 s from the curve (radius <= 0.9 pi): e^-60
    u = torch.linspace(-4, 4, 101, dtype=D)
    gx, gy = torch.meshgrid(u, u, indexing="xy")
    pts = torch.stack([gx.flatten(), gy.flatten()], 1)
    p = swiss_roll_log_prob(pts, noise=0.1, grid=1000).exp()
    assert float(p.sum()) * (8 / 100) ** 2 == pytest.approx(1.0, abs=1e-10)
    # thin-tube entropy: H = log(3 pi) + E_u log|c'(u)| + log(2 pi e s^2) / 2, with
    # |c'(u)| = sqrt(1 + u^2) / 5 and u uniform on [1.5 pi, 4.5 pi] (s << curvature)
    uu = torch.linspace(1.5 * math.pi, 4.5 * math.pi, 100001, dtype=D)
    e_log_speed = float(torch.log((1 + uu ** 2).sqrt() / 5).mean())
    h = math.log(3 * math.pi) + e_log_speed + 0.5 * math.log(2 * math.pi * math.e
                                                               * 0.05 ** 2)
    # grid 1000 (midpoint rule in u): the curve moves <= 0.9 pi * 3 pi / 1000 = 0.027
    # < s / 1.8 between points, an error of order exp(-2 pi^2 1.8^2) = 1e-28 in log p
    # (about 1e-3 within s of the roll's two ends): far below the tolerance, 0.05
    x = swiss_roll(4000, seed=5, noise=0.05).double()
    lp = swiss_roll_log_prob(x, noise=0.05, grid=1000)
    assert float(lp.mean()) == pytest.approx(-h, abs=4 * float(lp.std()) / 63)
    with pytest.raises(ValueError, match="noise must be a real number > 0"):
        swiss_roll_log_prob(x, noise=0.0)
    with pytest.raises(ValueError, match="grid must be an int >= 2"):
        swiss_roll_log_prob(x, grid=1)
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        swiss_roll_log_prob(x[:, :1])


def test_swiss_roll():
    a, b = swiss_roll(500, seed=1), swiss_roll(500, seed=1)
    assert torch.equal(a, b) and a.shape == (500, 2)
    r = swiss_roll(2000, seed=2, noise=0.0).norm(dim=1) * 5
    assert float(r.min()) >= 1.5 * math.pi - 1e-4
    assert float(r.max()) <= 4.5 * math.pi + 1e-4
