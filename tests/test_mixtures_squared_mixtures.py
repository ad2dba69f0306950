"""Library tests of `papers_lib.mixtures.squared_mixtures` (chapter *Subtractive mixture
models via squaring*): SciPy's signed log-sum-exp, numerical integration, the toolkit's
Gaussian log-density, scikit-learn, closed forms and gradcheck."""
import math

import numpy as np
import scipy.special
import scipy.stats
import torch
from sklearn.mixture import GaussianMixture as SkGMM

from papers_lib.mixtures.squared_mixtures import (
    KINDS, MixtureDensity, additive_log_prob, fit_mixture, gaussian_overlaps,
    sample_ring, signed_logsumexp, squared_log_normalizer, squared_log_prob)
from papers_lib.mixtures.toolkit import gaussian_log_prob

D64 = torch.float64


def _params(K=3, D=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    mu = torch.randn(K, D, generator=g, dtype=D64)
    A = torch.randn(K, D, D, generator=g, dtype=D64)
    cov = A @ A.transpose(-1, -2) / D + 0.3 * torch.eye(D, dtype=D64)
    w = torch.randn(K, generator=g, dtype=D64)
    return w, mu, cov


def test_signed_logsumexp_matches_scipy():
    g = torch.Generator().manual_seed(1)
    a = 5 * torch.randn(4, 7, generator=g, dtype=D64)
    b = torch.randn(4, 7, generator=g, dtype=D64)
    got, sg = signed_logsumexp(a, b, dim=1)
    ref, rsg = scipy.special.logsumexp(a.numpy(), b=b.numpy(), axis=1, return_sign=True)
    assert np.allclose(got.numpy(), ref) and np.array_equal(sg.numpy(), rsg)


def test_overlaps_match_scipy_density_and_quadrature():
    w, mu, cov = _params(4, 3)
    G = gaussian_overlaps(mu, cov)
    for i in range(4):
        for j in range(4):
            ref = scipy.stats.multivariate_normal(mu[j].numpy(),
                                                  (cov[i] + cov[j]).numpy()).logpdf(
                mu[i].numpy())
            assert abs(G[i, j].item() - ref) < 1e-10
    # 1-D quadrature
    m1, c1 = mu[:2, :1], cov[:2, :1, :1]
    t = torch.linspace(-15, 15, 30001, dtype=D64)[:, None]
    f = gaussian_log_prob(t, m1, c1).exp()
    num = torch.trapezoid(f[:, 0] * f[:, 1], t[:, 0])
    assert abs(gaussian_overlaps(m1, c1)[0, 1].exp().item() - num.item()) < 1e-9


def test_squared_density_integrates_to_one_and_matches_direct():
    w, mu, cov = _params(3, 2, seed=2)
    w = torch.tensor([1.0, -0.8, 0.5], dtype=D64)
    h = 16 / 500
    t = torch.linspace(-8 + h / 2, 8 - h / 2, 500, dtype=D64)
    x = torch.cartesian_prod(t, t)
    lp = squared_log_prob(x, w, mu, cov)
    assert abs(lp.exp().sum().item() * h * h - 1) < 1e-5
    f = gaussian_log_prob(x, mu, cov).exp()
    Z = w @ gaussian_overlaps(mu, cov).exp() @ w
    assert torch.allclose(lp.exp(), (f @ w) ** 2 / Z, atol=1e-12)
    assert abs(squared_log_normalizer(w, mu, cov).item() - Z.log().item()) < 1e-12
    assert (f @ w < 0).any()                       # the signed sum does go negative


def test_scale_invariance_and_single_component():
    w, mu, cov = _params(3, 2, seed=3)
    x = torch.randn(20, 2, dtype=D64, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(squared_log_prob(x, w, mu, cov),
                          squared_log_prob(x, -7.5 * w, mu, cov))
    one = squared_log_prob(x, torch.ones(1, dtype=D64), mu[:1], cov[:1])
    assert torch.allclose(one, gaussian_log_prob(x, mu[:1], cov[:1] / 2)[:, 0])


def test_batched_equals_unbatched():
    ws, ms, cs = zip(*[_params(3, 2, seed=s) for s in range(3)])
    w, mu, cov = torch.stack(ws), torch.stack(ms), torch.stack(cs)
    x = torch.randn(3, 10, 2, dtype=D64, generator=torch.Generator().manual_seed(1))
    batched = squared_log_prob(x, w, mu, cov)
    for b in range(3):
        assert torch.allclose(batched[b], squared_log_prob(x[b], w[b], mu[b], cov[b]))


def test_additive_matches_sklearn():
    _, mu, cov = _params(3, 2, seed=4)
    lw = torch.tensor([0.2, 0.5, 0.3], dtype=D64).log()
    x = torch.randn(30, 2, dtype=D64, generator=torch.Generator().manual_seed(2))
    sk = SkGMM(3, covariance_type="full")
    sk.weights_, sk.means_, sk.covariances_ = lw.exp().numpy(), mu.numpy(), cov.numpy()
    sk.precisions_cholesky_ = np.linalg.cholesky(np.linalg.inv(cov.numpy()))
    assert np.allclose(additive_log_prob(x, lw, mu, cov).numpy(), sk.score_samples(x))


def test_gradcheck():
    w, mu, cov = _params(2, 2, seed=5)
    x = torch.randn(4, 2, dtype=D64, generator=torch.Generator().manual_seed(3))
    w.requires_grad_(True)
    mu.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda w_, m_: squared_log_prob(x, w_, m_, cov),
                                    (w, mu))


def test_module_kinds_and_training():
    g = torch.Generator().manual_seed(0)
    x = torch.stack([sample_ring(100, generator=g) for _ in range(2)])
    for kind in KINDS:
        m = MixtureDensity.from_data(x, 3, kind, g)
        if kind == "squared-positive":
            assert (m.weights > 0).all()
        h = fit_mixture(m, x, 10, 0.05)
        assert h.shape == (10, 2) and (h[-1] < h[0]).all()
        h_ = 16 / 250
        t = torch.linspace(-8 + h_ / 2, 8 - h_ / 2, 250, dtype=D64)
        grid = torch.cartesian_prod(t, t).expand(2, -1, -1)
        with torch.no_grad():
            mass = m(grid).exp().sum(-1) * h_ * h_
        assert torch.allclose(mass, torch.ones(2, dtype=D64), atol=5e-3)


def test_ring_radius_and_two_component_hole():
    r = sample_ring(20000, 2.0, 0.25, torch.Generator().manual_seed(0)).norm(dim=1)
    assert abs(r.mean().item() - 2.0) < 0.01 and abs(r.std().item() - 0.25) < 0.01
    cov = torch.stack([2.25 * torch.eye(2), torch.eye(2)]).double()
    w = torch.tensor([2.25, -1.0], dtype=D64)
    lp = squared_log_prob(torch.zeros(1, 2, dtype=D64), w, torch.zeros(2, 2, dtype=D64),
                          cov)
    assert lp.item() == -math.inf
