"""Library tests for papers_lib.analysis.ntk (chapter nbs/theory/01_ntk.ipynb)."""
import math

import numpy as np
import pytest
import torch

from papers_lib.analysis import empirical_ntk
from papers_lib.analysis.ntk import (NTKMLP, activation_kernels,
                                     kernel_regression_path, limiting_ntk)

from tests.analysis_helpers import F64 as D
from tests.analysis_helpers import float64_default, gen  # noqa: F401 (autouse fixture)


# NTKMLP -----------------------------------------------------------------------------

def test_forward_is_the_ntk_parameterisation():
    m = NTKMLP(3, [5, 4], out_features=2, activation="erf", beta=0.3, generator=gen())
    x = torch.randn(6, 3, generator=gen(1), dtype=D)
    W, b = list(m.weights), list(m.biases)
    h = torch.erf(x @ W[0].T / math.sqrt(3) + 0.3 * b[0])
    h = torch.erf(h @ W[1].T / math.sqrt(5) + 0.3 * b[1])
    ref = h @ W[2].T / 2 + 0.3 * b[2]
    torch.testing.assert_close(m(x), ref)
    assert [tuple(w.shape) for w in W] == [(5, 3), (4, 5), (2, 4)]


def test_weights_are_standard_gaussian():
    m = NTKMLP(400, [500], generator=gen(2))
    w = m.weights[0].detach()
    assert abs(w.mean().item()) < 0.01 and abs(w.std().item() - 1) < 0.01


def test_ntkmlp_bad_input():
    with pytest.raises(ValueError, match="activation"):
        NTKMLP(2, [3], activation="tanh")
    with pytest.raises(ValueError, match=r"widths\[0\] must be an int >= 1, got 0"):
        NTKMLP(2, [0])
    with pytest.raises(ValueError, match="beta"):
        NTKMLP(2, [3], beta=-1.0)
    with pytest.raises(ValueError, match="shape"):
        NTKMLP(2, [3])(torch.zeros(4, 3))


# activation_kernels -----------------------------------------------------------------

@pytest.mark.parametrize("act", ["relu", "erf", "identity"])
def test_activation_kernels_against_monte_carlo(act):
    a, b, c = 0.6, 1.5, -0.4
    chol = torch.linalg.cholesky(torch.tensor([[a, c], [c, b]], dtype=D))
    u, v = (torch.randn(500_000, 2, generator=gen(3), dtype=D) @ chol.T).unbind(1)
    s, ds = {"relu": (torch.relu, lambda z: (z > 0).to(D)),
             "erf": (torch.erf, lambda z: 2 / math.sqrt(math.pi) * torch.exp(-z ** 2)),
             "identity": (lambda z: z, torch.ones_like)}[act]
    e, ed = activation_kernels(torch.tensor(a, dtype=D), torch.tensor(b, dtype=D),
                               torch.tensor(c, dtype=D), act)
    for exact, sample in ((e, s(u) * s(v)), (ed, ds(u) * ds(v))):
        se = max(sample.std().item() / math.sqrt(sample.numel()), 1e-12)
        assert abs(sample.mean().item() - exact.item()) < 5 * se + 1e-12


def test_activation_kernels_special_cases():
    a = torch.tensor([0.5, 2.0], dtype=D)
    e, ed = activation_kernels(a, a, a, "relu")          # u = v: E[relu^2] = a/2
    torch.testing.assert_close(e, a / 2)
    torch.testing.assert_close(ed, torch.full_like(a, 0.5))
    e, ed = activation_kernels(a, 2 * a, torch.zeros_like(a), "relu")   # independent
    torch.testing.assert_close(e, torch.sqrt(2 * a * a) / (2 * math.pi))
    torch.testing.assert_close(ed, torch.full_like(a, 0.25))
    e, ed = activation_kernels(a, a, -a, "relu")         # v = -u: product is 0
    torch.testing.assert_close(e, torch.zeros_like(a), atol=1e-7, rtol=0)
    torch.testing.assert_close(ed, torch.zeros_like(a), atol=1e-7, rtol=0)
    e, ed = activation_kernels(a, a, torch.zeros_like(a), "erf")  # odd: E = 0
    torch.testing.assert_close(e, torch.zeros_like(a))
    torch.testing.assert_close(ed, 4 / math.pi / (1 + 2 * a))


def test_erf_kernel_against_gauss_hermite_quadrature():
    a, b, c = 0.8, 0.3, 0.2
    z, w = map(torch.from_numpy, np.polynomial.hermite_e.hermegauss(60))
    w = w / w.sum()
    L = torch.linalg.cholesky(torch.tensor([[a, c], [c, b]], dtype=D))
    z1, z2 = torch.meshgrid(z, z, indexing="ij")
    u, v = L[0, 0] * z1, L[1, 0] * z1 + L[1, 1] * z2
    ww = w[:, None] * w[None, :]
    e, ed = activation_kernels(torch.tensor(a, dtype=D), torch.tensor(b, dtype=D),
                               torch.tensor(c, dtype=D), "erf")
    torch.testing.assert_close(e, (ww * torch.erf(u) * torch.erf(v)).sum())
    dv = 4 / math.pi * torch.exp(-u ** 2 - v ** 2)
    torch.testing.assert_close(ed, (ww * dv).sum())


def test_activation_kernels_bad_input():
    with pytest.raises(ValueError, match="activation"):
        activation_kernels(1.0, 1.0, 0.5, "sigmoid")
    with pytest.raises(ValueError, match="non-negative"):
        activation_kernels(torch.tensor(-1.0), 1.0, 0.0)


# limiting_ntk -----------------------------------------------------------------------

def test_depth_one_is_the_exact_kernel_of_a_linear_model():
    m = NTKMLP(4, [], beta=0.2, generator=gen(4))
    x1 = torch.randn(5, 4, generator=gen(5), dtype=D)
    x2 = torch.randn(3, 4, generator=gen(6), dtype=D)
    torch.testing.assert_close(limiting_ntk(x1, x2, depth=1, beta=0.2),
                               empirical_ntk(m, x1, x2))
    torch.testing.assert_close(limiting_ntk(x1, x2, depth=1, beta=0.2),
                               x1 @ x2.T / 4 + 0.04)


@pytest.mark.parametrize("act", ["relu", "erf"])
def test_one_hidden_layer_limit_matches_a_very_wide_network(act):
    x = torch.randn(4, 3, generator=gen(7), dtype=D)
    m = NTKMLP(3, [2 ** 17], activation=act, beta=0.1, generator=gen(8))
    K_inf = limiting_ntk(x, depth=2, activation=act, beta=0.1)
    K = empirical_ntk(m, x)
    assert ((K - K_inf).norm() / K_inf.norm()).item() < 0.01


def test_one_hidden_layer_closed_form_by_hand():
    # ReLU, depth 2: Theta = S1 (pi - phi) / (2 pi) + E[relu relu] + beta^2
    x = torch.tensor([[1.0, 0.0], [0.6, 0.8], [-1.0, 0.5]], dtype=D)
    beta = 0.3
    S1 = x @ x.T / 2 + beta ** 2
    d = S1.diagonal()
    cos = (S1 / torch.sqrt(d[:, None] * d[None, :])).clamp(-1, 1)
    phi = torch.arccos(cos)
    E = torch.sqrt(d[:, None] * d[None, :]) / (2 * math.pi) * (
        torch.sin(phi) + (math.pi - phi) * cos)
    ref = S1 * (math.pi - phi) / (2 * math.pi) + E + beta ** 2
    torch.testing.assert_close(limiting_ntk(x, depth=2, beta=beta), ref)
    theta, nngp = limiting_ntk(x, depth=2, beta=beta, return_nngp=True)
    torch.testing.assert_close(nngp, E + beta ** 2)


def test_deep_linear_network_kernel_is_unbiased():
    # deep linear nets: E[empirical NTK] = limit at every width (independent layers)
    x = torch.randn(3, 2, generator=gen(9), dtype=D)
    K_inf = limiting_ntk(x, depth=3, activation="identity", beta=0.5)
    g = gen(10)
    Ks = torch.stack([empirical_ntk(NTKMLP(2, [4, 4], activation="identity",
                                           beta=0.5, generator=g), x)
                      for _ in range(300)])
    se = Ks.std(0) / math.sqrt(Ks.shape[0])
    assert ((Ks.mean(0) - K_inf).abs() < 5 * se).all()
    assert (Ks.std(0) > 0.05 * K_inf.abs()).any()     # random at width 4


def test_limiting_ntk_is_symmetric_and_consistent():
    x1 = torch.randn(5, 3, generator=gen(11), dtype=D)
    x2 = torch.randn(2, 3, generator=gen(12), dtype=D)
    K = limiting_ntk(x1, depth=4, activation="erf")
    torch.testing.assert_close(K, K.T)
    assert torch.linalg.eigvalsh(K).min() > 0
    both = limiting_ntk(torch.cat([x1, x2]), depth=4, activation="erf")
    torch.testing.assert_close(limiting_ntk(x1, x2, depth=4, activation="erf"),
                               both[:5, 5:])


def test_limiting_ntk_bad_input():
    x = torch.zeros(3, 2)
    with pytest.raises(ValueError, match="depth"):
        limiting_ntk(x, depth=0)
    with pytest.raises(ValueError, match="activation"):
        limiting_ntk(x, activation="gelu")
    with pytest.raises(ValueError, match="beta"):
        limiting_ntk(x, beta=-0.1)
    with pytest.raises(ValueError, match="shapes"):
        limiting_ntk(x, torch.zeros(3, 4))


# kernel_regression_path -------------------------------------------------------------

def _problem(seed=13, n=5, m=4):
    g = gen(seed)
    x, xt = torch.randn(n, 3, generator=g), torch.randn(m, 3, generator=g)
    K, Ks = limiting_ntk(x, depth=3), limiting_ntk(xt, x, depth=3)
    y, f0, f0t = (torch.randn(k, generator=g, dtype=D) for k in (n, n, m))
    return K, Ks, y, f0, f0t


def test_continuous_path_against_matrix_exponential():
    K, Ks, y, f0, f0t = _problem()
    ts = torch.tensor([0.0, 0.7, 3.0, 20.0], dtype=D)
    ftr, fte = kernel_regression_path(K, Ks, y, f0, f0t, 0.8, ts)
    for i, t in enumerate(ts.tolist()):
        E = torch.linalg.matrix_exp(-0.8 * K * t)
        I = torch.eye(len(y), dtype=D)
        torch.testing.assert_close(ftr[i], y + E @ (f0 - y))
        ref = f0t + Ks @ torch.linalg.solve(K, (I - E) @ (y - f0))
        torch.testing.assert_close(fte[i], ref)


def test_limits_and_discrete_steps():
    K, Ks, y, f0, f0t = _problem()
    ftr, fte = kernel_regression_path(K, Ks, y, f0, f0t, 0.5, [0.0, 1e6])
    torch.testing.assert_close(ftr[0], f0)
    torch.testing.assert_close(fte[0], f0t)
    torch.testing.assert_close(ftr[1], y)
    torch.testing.assert_close(fte[1], f0t + Ks @ torch.linalg.solve(K, y - f0))
    eta = 0.3
    f = f0.clone()
    for _ in range(7):                               # explicit kernel gradient descent
        f = f - eta * K @ (f - y)
    torch.testing.assert_close(
        kernel_regression_path(K, Ks, y, f0, f0t, eta, 7, discrete=True)[0][0], f)


def test_gradient_descent_on_a_linear_model_is_the_discrete_path():
    m = NTKMLP(3, [], beta=0.4, generator=gen(14))
    g = gen(15)
    x, xt = torch.randn(6, 3, generator=g), torch.randn(3, 3, generator=g)
    y = torch.randn(6, generator=g, dtype=D)
    K, Ks = limiting_ntk(x, depth=1, beta=0.4), limiting_ntk(xt, x, depth=1, beta=0.4)
    with torch.no_grad():
        f0, f0t = m(x)[:, 0], m(xt)[:, 0]
    opt = torch.optim.SGD(m.parameters(), lr=0.2)
    for _ in range(20):
        opt.zero_grad()
        (0.5 * ((m(x)[:, 0] - y) ** 2).sum()).backward()
        opt.step()
    ftr, fte = kernel_regression_path(K, Ks, y, f0, f0t, 0.2, 20, discrete=True)
    with torch.no_grad():
        torch.testing.assert_close(m(x)[:, 0], ftr[0])
        torch.testing.assert_close(m(xt)[:, 0], fte[0])


def test_singular_kernel_has_the_eta_t_limit():
    # rank-one kernel: along its null space nothing moves, and no division by zero
    v = torch.tensor([1.0, 2.0], dtype=D)
    K = torch.outer(v, v)
    Ks = torch.tensor([[0.5, 1.0]], dtype=D)         # K(x*, X) = 0.5 v^T
    y, f0, f0t = torch.tensor([1.0, 0.0], dtype=D), torch.zeros(2, dtype=D), \
        torch.zeros(1, dtype=D)
    ftr, fte = kernel_regression_path(K, Ks, y, f0, f0t, 0.1, [2.0])
    assert torch.isfinite(fte).all()
    # f_t(X) = y + exp(-eta K t)(f0 - y) on the range of v
    E = torch.linalg.matrix_exp(-0.2 * K)
    torch.testing.assert_close(ftr[0], y + E @ (f0 - y))
    # test: f* = K* K^+ (I - e^{-eta K t}) (y - f0) with gain (1 - e^{-eta 5 t})/5 on v
    r = (v / v.norm()) @ (y - f0)
    gain = (1 - math.exp(-0.1 * 5 * 2.0)) / 5
    torch.testing.assert_close(fte[0, 0], (Ks @ (v / v.norm()))[0] * gain * r)


def test_kernel_regression_path_bad_input():
    K, Ks, y, f0, f0t = _problem()
    with pytest.raises(ValueError, match="K_train must have shapes"):
        kernel_regression_path(K[:4], Ks, y, f0, f0t, 0.1, 1.0)
    with pytest.raises(ValueError, match="K_test_train"):
        kernel_regression_path(K, Ks.T, y, f0, f0t, 0.1, 1.0)
    with pytest.raises(ValueError, match="eta"):
        kernel_regression_path(K, Ks, y, f0, f0t, 0.0, 1.0)
    with pytest.raises(ValueError, match="non-negative"):
        kernel_regression_path(K, Ks, y, f0, f0t, 0.1, -1.0)
    with pytest.raises(ValueError, match="semi-definite"):
        kernel_regression_path(-K, Ks, y, f0, f0t, 0.1, 1.0)
