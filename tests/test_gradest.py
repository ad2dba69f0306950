"""Tests of papers_lib.gradest's harness (page nbs/gradest/00_harness.ipynb)."""
import pytest
import torch

from papers_lib.gradest import (EstimatorStats, directional_derivative, estimator_stats,
                                exact_gradient)

F64 = torch.float64
A = torch.tensor([[3.0, 1.0], [1.0, 2.0]], dtype=F64)
P = {"w": torch.tensor([1.0, -1.0], dtype=F64), "b": torch.tensor(0.5, dtype=F64)}


def L(p):  # 0.5 w^T A w + b^3: gradient (A w, 3 b^2)
    return 0.5 * p["w"] @ A @ p["w"] + p["b"] ** 3


def test_exact_gradient_closed_form():
    g = exact_gradient(L, P)
    torch.testing.assert_close(g["w"], A @ P["w"])
    torch.testing.assert_close(g["b"], 3 * P["b"] ** 2)
    with pytest.raises(TypeError, match="callable"):
        exact_gradient(None, P)


def test_directional_derivative_is_grad_dot_v():
    v = {"w": torch.tensor([0.3, 2.0], dtype=F64), "b": torch.tensor(-1.0, dtype=F64)}
    loss, dd = directional_derivative(L, P, v)
    torch.testing.assert_close(loss, L(P))
    torch.testing.assert_close(dd, (A @ P["w"]) @ v["w"] + 3 * P["b"] ** 2 * v["b"])
    with pytest.raises(ValueError, match="names and shapes"):
        directional_derivative(L, P, {"w": v["w"]})


G = torch.tensor([1.0, -2.0, 2.0, 0.0], dtype=F64)   # |G| = 3


def test_stats_of_the_exact_gradient():
    st = estimator_stats(lambda gen: G.clone(), G, 10)
    assert st.rel_bias == 0 and st.rel_variance == 0
    assert st.cosine == pytest.approx(1.0) and st.cosine_se == pytest.approx(0, abs=1e-12)


def test_stats_of_a_constant_offset():
    off = torch.tensor([0.0, 0.0, 0.0, 1.5], dtype=F64)
    st = estimator_stats(lambda gen: G + off, G, 10)
    assert st.rel_bias == pytest.approx(0.5) and st.rel_variance == pytest.approx(0)
    assert st.cosine == pytest.approx(9 / (3 * (9 + 2.25) ** 0.5))


def test_stats_of_gaussian_noise_match_closed_form():
    s, n = 0.6, 4000

    def noisy(gen):
        return G + s * torch.randn(4, generator=gen, dtype=F64)
    st = estimator_stats(noisy, {"g": G}, n, generator=torch.Generator().manual_seed(1))
    assert isinstance(st, EstimatorStats)
    assert st.rel_variance == pytest.approx(4 * s ** 2 / 9, rel=0.1)
    assert st.bias_ratio < 5
    assert st.rel_bias < 3 * (4 * s ** 2 / 9 / n) ** 0.5


def test_biased_estimator_has_a_bias_ratio_growing_with_draws():
    def biased(gen):
        return 1.1 * G + 0.5 * torch.randn(4, generator=gen, dtype=F64)
    small = estimator_stats(biased, G, 50, generator=torch.Generator().manual_seed(2))
    big = estimator_stats(biased, G, 3200, generator=torch.Generator().manual_seed(2))
    assert big.rel_bias == pytest.approx(0.1, abs=0.02)
    # expected ratio 1 + n |bias|^2 / tr(Cov) = 1 + 0.09 n: about 5.5 and 290
    assert small.bias_ratio < 20 and big.bias_ratio > 150


def test_estimator_stats_bad_input():
    with pytest.raises(ValueError, match="samples must be an int >= 2"):
        estimator_stats(lambda gen: G, G, 1)
    with pytest.raises(ValueError, match="estimator must return estimates with the 4 entries"):
        estimator_stats(lambda gen: G[:3], G, 5)
    with pytest.raises(TypeError, match="estimator must be callable"):
        estimator_stats(G, G, 5)
