"""The best-bin estimator, the fitted score, rejection subsampling and SuMPE of the
chapter *Mixture proportion estimation beyond irreducibility*
(`papers_lib.mixtures.mpe`)."""
import math

import numpy as np
import torch
from scipy.stats import multivariate_normal, norm
from torch.distributions import Independent, Normal, Uniform

from papers_lib.mixtures.mpe import (
    MixtureProblem, base_mpe, gaussian_log_ratio, lsp_acceptance, rejection_subsample,
    sumpe, tail_ratio_mpe)


def _normal(mu, sd):
    return Independent(Normal(torch.tensor([float(mu)], dtype=torch.float64),
                              torch.tensor([float(sd)], dtype=torch.float64)), 1)


def _square(lo, hi):
    return Independent(Uniform(torch.tensor(lo, dtype=torch.float64),
                               torch.tensor(hi, dtype=torch.float64),
                               validate_args=False), 1)


def test_tail_ratio_matches_numpy_brute_force():
    rng = np.random.default_rng(0)
    for _ in range(5):
        sf, sh = rng.normal(size=150), rng.normal(1.0, 1.0, size=90)
        sf[:10] = sh[:10]
        eps = math.sqrt(math.log(40) / 300) + math.sqrt(math.log(40) / 180)
        best, val = None, math.inf
        for t in sh:
            qf, qh = (sf >= t).mean(), (sh >= t).mean()
            obj = qf / qh + 1.01 * eps / qh
            if obj < val:
                best, val = qf / qh, obj
        got = tail_ratio_mpe(torch.tensor(sf), torch.tensor(sh)).item()
        assert abs(got - min(best, 1.0)) < 1e-12


def test_tail_ratio_extremes():
    g = torch.Generator().manual_seed(0)
    s = torch.randn(100, generator=g, dtype=torch.float64)
    assert tail_ratio_mpe(s, s).item() == 1.0
    assert tail_ratio_mpe(s - 100.0, s).item() == 0.0


def test_gaussian_log_ratio_matches_scipy():
    g = torch.Generator().manual_seed(1)
    xf = torch.randn(60, 3, generator=g, dtype=torch.float64) * 1.5 + 1.0
    xh = torch.randn(50, 3, generator=g, dtype=torch.float64)
    x = torch.randn(7, 3, generator=g, dtype=torch.float64)
    ref = (multivariate_normal(xh.mean(0), np.cov(xh.numpy().T)).logpdf(x)
           - multivariate_normal(xf.mean(0), np.cov(xf.numpy().T)).logpdf(x))
    got = gaussian_log_ratio(x, xf, xh, ridge=0.0).numpy()
    assert np.allclose(got, ref, atol=1e-10)


def test_base_mpe_consistent_when_irreducible_and_deterministic():
    pr = MixtureProblem(_normal(0, 1), [_normal(3, 1)], [1.0], 0.4)
    x_f, x_h = pr.sample(20000, 20000, torch.Generator().manual_seed(0))
    a = base_mpe(x_f, x_h, torch.Generator().manual_seed(1)).item()
    b = base_mpe(x_f, x_h, torch.Generator().manual_seed(1)).item()
    assert a == b and abs(a - 0.4) < 0.05


def test_rejection_subsample_rate_and_law():
    g = torch.Generator().manual_seed(2)
    x = torch.randn(50000, 1, generator=g, dtype=torch.float64)
    alpha = (x[:, 0] > 0).double()                         # keep the positive half
    kept, c = rejection_subsample(x, alpha, g)
    assert abs(c.item() - 0.5) < 0.01 and bool((kept > 0).all())
    # the kept points follow the half-normal: mean sqrt(2 / pi)
    assert abs(kept.mean().item() - math.sqrt(2 / math.pi)) < 0.02
    assert torch.equal(rejection_subsample(x, torch.ones(50000, dtype=torch.float64),
                                           g)[0], x)


def test_lsp_acceptance_values():
    a = lsp_acceptance(torch.tensor([True, False]), 0.3)
    assert a.dtype == torch.float64 and a.tolist() == [0.3, 1.0]


def test_sumpe_with_all_ones_is_base_mpe():
    pr = MixtureProblem(_normal(0, 1), [_normal(3, 1)], [1.0], 0.3)
    x_f, x_h = pr.sample(2000, 2000, torch.Generator().manual_seed(3))
    g1, g2 = torch.Generator().manual_seed(4), torch.Generator().manual_seed(4)
    a = sumpe(x_f, x_h, torch.ones(2000, dtype=torch.float64), g1).item()
    torch.rand(2000, generator=g2, dtype=torch.float64)
    assert a == base_mpe(x_f, x_h, g2).item()


def test_problem_closed_forms():
    pr = MixtureProblem(_normal(0, 1), [_normal(0, 3)], [1.0], 0.25)
    x = torch.linspace(-4, 4, 9, dtype=torch.float64)[:, None]
    f = 0.75 * norm.pdf(x.numpy()[:, 0], 0, 3) + 0.25 * norm.pdf(x.numpy()[:, 0])
    assert np.allclose(pr.log_f(x).exp().numpy(), f, rtol=1e-10)
    assert np.allclose(pr.posterior(x).numpy(), 0.25 * norm.pdf(x.numpy()[:, 0]) / f)
    # G = N(0, 9) contains H: kappa(G|H) = 1/3 at x = 0, so kappa(F|H) = 0.25 + 0.75/3
    grid = torch.linspace(-6, 6, 12001, dtype=torch.float64)[:, None]
    assert abs(pr.max_proportion(grid) - 0.5) < 1e-9


def test_sumpe_removes_bias_on_uniform_squares():
    sq = MixtureProblem(_square([0., 0.], [1., 1.]), [_square([0., 0.], [2., 2.])],
                        [1.0], 0.25)
    grid = torch.cartesian_prod(*[torch.linspace(0, 0.99, 50, dtype=torch.float64)] * 2)
    assert abs(sq.max_proportion(grid) - (0.25 + 0.75 / 4)) < 1e-12
    rho = sq.posterior(grid).max().item()                  # constant: 0.25 / 0.4375
    x_f, x_h = sq.sample(8000, 8000, torch.Generator().manual_seed(5))
    alpha = lsp_acceptance(torch.ones(8000, dtype=torch.bool), rho)
    g = torch.Generator().manual_seed(6)
    base = base_mpe(x_f, x_h, g).item()
    sub = sumpe(x_f, x_h, alpha, g).item()
    assert abs(base - 0.4375) < 0.05 and abs(sub - 0.25) < 0.05
