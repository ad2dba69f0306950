"""Conditioning in precision and covariance form, the regressor and the function stream
of the chapter *Incremental Gaussian-mixture regression*
(`papers_lib.mixtures.igmn_regression`)."""
import math

import numpy as np
import torch
from sklearn.linear_model import LinearRegression

from papers_lib.mixtures.igmn import count_flops
from papers_lib.mixtures.igmn_regression import (
    IGMNRegressor, conditional_mean, covariance_conditional_mean, function_stream)

F64 = torch.float64


def _mix(K=3, D=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    A = torch.randn(K, D, D, generator=g, dtype=F64)
    C = A @ A.mT + 0.5 * torch.eye(D, dtype=F64)
    m = torch.randn(K, D, generator=g, dtype=F64)
    lw = torch.log_softmax(torch.randn(K, generator=g, dtype=F64), 0)
    return m, C, lw, g


def test_precision_and_covariance_conditioning_agree():
    m, C, lw, g = _mix()
    for Da in (1, 2, 4):
        a = torch.randn(6, Da, generator=g, dtype=F64)
        yp, pp = conditional_mean(a, m, torch.linalg.inv(C), torch.logdet(C), lw)
        yc, pc = covariance_conditional_mean(a, m, C, lw)
        assert yp.shape == (6, 5 - Da)
        assert torch.allclose(yp, yc) and torch.allclose(pp, pc)


def test_posteriors_are_marginal_bayes_rule_by_torch():
    m, C, lw, g = _mix(seed=1)
    a = torch.randn(4, 3, generator=g, dtype=F64)
    marg = torch.distributions.MultivariateNormal(m[:, :3], C[:, :3, :3])
    ref = torch.softmax(marg.log_prob(a[:, None, :]) + lw, -1)
    _, post = conditional_mean(a, m, torch.linalg.inv(C), torch.logdet(C), lw)
    assert torch.allclose(post, ref)


def test_conditional_mean_by_sampling_a_single_gaussian():
    m, C, _, g = _mix(K=1, D=2, seed=2)
    # E[y | x] of a bivariate Gaussian is the regression line of y on x
    z = torch.distributions.MultivariateNormal(m[0], C[0]).sample((200000,))
    lr = LinearRegression().fit(z[:, :1].numpy(), z[:, 1].numpy())
    q = torch.tensor([[-1.0], [0.5]], dtype=F64)
    y, _ = conditional_mean(q, m, torch.linalg.inv(C), torch.logdet(C),
                            torch.zeros(1, dtype=F64))
    assert np.allclose(y[:, 0].numpy(), lr.predict(q.numpy()), atol=0.02)


def test_regressor_forms_agree_and_fit_sine():
    x, y = function_stream(300, 0.1, torch.Generator().manual_seed(3))
    sig = 0.1 * torch.tensor([2 * math.pi, 2.0], dtype=F64)
    a = IGMNRegressor(1, 1, sig, 0.1, "precision").fit(x, y)
    b = IGMNRegressor(1, 1, sig, 0.1, "covariance").fit(x, y)
    grid = torch.linspace(-3, 3, 50, dtype=F64)[:, None]
    assert torch.allclose(a.predict(grid), b.predict(grid))
    assert (a.predict(grid) - grid.sin()).square().mean().sqrt() < 0.15


def test_query_cost_is_quadratic_in_inputs():
    costs = []
    for D in (32, 64):
        m, C, lw, g = _mix(K=2, D=D + 1, seed=4)
        q = torch.randn(1, D, generator=g, dtype=F64)
        costs.append(count_flops(conditional_mean, q, m, torch.linalg.inv(C),
                                 torch.logdet(C), lw)[1])
    assert 3.8 < costs[1] / costs[0] < 4.2


def test_function_stream_reproducible():
    a = function_stream(10, 0.0, torch.Generator().manual_seed(5))
    b = function_stream(10, 0.0, torch.Generator().manual_seed(5))
    assert torch.equal(a[0], b[0]) and torch.allclose(a[1], a[0].sin())
