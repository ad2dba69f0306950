"""The covariance and precision forms, log-densities, operation counts and streams of the
chapter *A fast incremental Gaussian mixture model* (`papers_lib.mixtures.igmn`)."""
import math

import numpy as np
import scipy.stats
import torch

from papers_lib.mixtures.igmn import (
    IGMN, chi2_threshold, cluster_stream, count_flops, covariance_step,
    precision_log_prob, precision_step)
from papers_lib.mixtures.toolkit import gaussian_log_prob

F64 = torch.float64


def _state(K=3, D=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    A = torch.randn(K, D, D, generator=g, dtype=F64)
    C = A @ A.mT + 0.3 * torch.eye(D, dtype=F64)
    m = torch.randn(K, D, generator=g, dtype=F64)
    x = torch.randn(D, generator=g, dtype=F64)
    return m, C, x


def test_chi2_threshold_against_scipy_and_closed_form():
    assert math.isclose(chi2_threshold(7, 0.05), scipy.stats.chi2.ppf(0.95, 7))
    assert math.isclose(chi2_threshold(2, 0.2), -2 * math.log(0.2), rel_tol=1e-12)


def test_covariance_step_is_weighted_running_moments():
    g = torch.Generator().manual_seed(1)
    pts = torch.randn(20, 3, generator=g, dtype=F64)
    wts = torch.rand(20, generator=g, dtype=F64) * 0.9 + 0.1
    m, C, s = pts[:1].clone(), torch.zeros(1, 3, 3, dtype=F64), wts[:1].clone()
    for p, w in zip(pts[1:], wts[1:]):
        m, C, s = covariance_step(m, C, s, p, w[None])
    ref = np.cov(pts.numpy().T, aweights=wts.numpy(), bias=True)
    assert np.allclose(m[0].numpy(), np.average(pts.numpy(), 0, wts.numpy()))
    assert np.allclose(C[0].numpy(), ref)
    assert torch.isclose(s[0], wts.sum())


def test_precision_step_inverts_covariance_step_over_many_steps():
    m, C, _ = _state(K=2, D=5, seed=2)
    P, ld, s = torch.linalg.inv(C), torch.logdet(C), torch.tensor([1.0, 2.0], dtype=F64)
    mc, Cc, sc = m.clone(), C.clone(), s.clone()
    g = torch.Generator().manual_seed(3)
    for _ in range(50):
        x = torch.randn(5, generator=g, dtype=F64)
        post = torch.softmax(torch.randn(2, generator=g, dtype=F64), 0)
        mc, Cc, sc = covariance_step(mc, Cc, sc, x, post)
        m, P, ld, s = precision_step(m, P, ld, s, x, post)
    assert torch.allclose(m, mc) and torch.allclose(s, sc)
    assert torch.allclose(torch.linalg.inv(P), Cc, atol=1e-10)
    assert torch.allclose(ld, torch.logdet(Cc), atol=1e-10)


def test_precision_log_prob_against_toolkit_and_torch():
    m, C, _ = _state(K=3, D=4, seed=4)
    x = torch.randn(6, 4, generator=torch.Generator().manual_seed(5), dtype=F64)
    maha, lp = precision_log_prob(x, m, torch.linalg.inv(C), torch.logdet(C))
    assert torch.allclose(lp, gaussian_log_prob(x, m, C))
    ref = torch.distributions.MultivariateNormal(m, C).log_prob(x[:, None, :])
    assert torch.allclose(lp, ref)
    d = x[:, None, :] - m[None]
    assert torch.allclose(maha, torch.einsum("nkd,kde,nke->nk", d, torch.linalg.inv(C), d))


def test_both_forms_learn_the_same_model_and_match_sklearn_weights():
    x, _ = cluster_stream(300, 6, 3, 5.0, torch.Generator().manual_seed(6))
    a = IGMN(6, 1.5, 0.1, "covariance").fit(x)
    b = IGMN(6, 1.5, 0.1, "precision").fit(x)
    assert a.n_components == b.n_components >= 3
    assert torch.allclose(a.means, b.means) and torch.allclose(a.covariances,
                                                               b.covariances, atol=1e-9)
    assert torch.allclose(a.log_prob(x), b.log_prob(x))
    assert torch.allclose(b.responsibilities(x).sum(1), torch.ones(300, dtype=F64))
    assert torch.isclose(torch.logsumexp(b.log_weights, 0), torch.zeros((), dtype=F64))


def test_novelty_test_creates_and_updates():
    md = IGMN(2, 1.0, 0.1)
    assert md.learn(torch.zeros(2, dtype=F64))                 # first point: create
    assert not md.learn(torch.tensor([0.5, 0.0], dtype=F64))    # d^2 = 0.25: update
    assert md.learn(torch.tensor([50.0, 0.0], dtype=F64))       # far away: create
    assert md.n_components == 2 and md.v.tolist() == [2, 1]


def test_count_flops_exact_and_slopes():
    def costs(form, D):
        md = IGMN(D, 1.0, form=form)
        md.learn(torch.zeros(D, dtype=F64))
        created, tot, ops = count_flops(md.learn, torch.full((D,), 0.01, dtype=F64))
        assert not created
        return tot, ops
    for D in (4, 16, 64):
        tc, oc = costs("covariance", D)
        tp, op = costs("precision", D)
        assert tc == D ** 3 // 3 + D ** 2 + 4 * D ** 2
        assert tp == 10 * D ** 2 + 4 * D and not any("linalg" in k for k in op)
    _, n, _ = count_flops(torch.linalg.inv, torch.eye(5, dtype=F64))
    assert n == 2 * 125


def test_cluster_stream_reproducible_and_shaped():
    a = cluster_stream(50, 4, 2, 3.0, torch.Generator().manual_seed(7))
    b = cluster_stream(50, 4, 2, 3.0, torch.Generator().manual_seed(7))
    assert torch.equal(a[0], b[0]) and a[0].shape == (50, 4) and set(a[1].tolist()) <= {0, 1}
