"""Tests of papers_lib.gradest.forward (page nbs/gradest/01_forward_gradient.ipynb)."""
import math

import pytest
import torch

from papers_lib.gradest import estimator_stats, exact_gradient
from papers_lib.gradest.forward import expected_cosine, forward_gradient

F64 = torch.float64
A = torch.tensor([[3.0, 1.0], [1.0, 2.0]], dtype=F64)
P = {"w": torch.tensor([1.0, -1.0], dtype=F64), "b": torch.tensor(0.5, dtype=F64)}


def L(p):  # 0.5 w^T A w + b^3: gradient (A w, 3 b^2) = ([2, -1], 0.75)
    return 0.5 * p["w"] @ A @ p["w"] + p["b"] ** 3


def test_one_direction_is_directional_derivative_times_v():
    gen = torch.Generator().manual_seed(3)
    est = forward_gradient(L, P, generator=gen)
    gen = torch.Generator().manual_seed(3)   # the same draw, by hand
    v = {k: torch.randn((1, *w.shape), generator=gen, dtype=F64)[0]
         for k, w in P.items()}
    dd = (A @ P["w"]) @ v["w"] + 3 * P["b"] ** 2 * v["b"]
    for k in P:
        torch.testing.assert_close(est[k], dd * v[k])
        assert est[k].shape == P[k].shape


def test_unbiased_with_closed_form_variance():
    """rel_variance = (P + 1) / K with P = 3 for one direction (the K = 1 branch) and
    for 64 (the vmap branch), within 4 standard errors: Gaussian moments give, per
    draw, q = |est - g|^2 / |g|^2 with E q = 4 / K and sd / mean = sqrt(3 / 4
    + 6 / K), so the relative standard error of the mean of n draws is that over
    sqrt(n). A draw costs the same for any K; K = 64 sharpens the bias check."""
    g = exact_gradient(L, P)
    for K, n in ((1, 600), (64, 300)):
        st = estimator_stats(lambda gen: forward_gradient(L, P, n_directions=K,
                                                          generator=gen),
                             g, n, generator=torch.Generator().manual_seed(K))
        rel_se = math.sqrt(3 / 4 + 6 / K) / math.sqrt(n)
        assert st.rel_variance == pytest.approx((3 + 1) / K, rel=4 * rel_se)
        assert st.bias_ratio < 5


def test_many_directions_converge_to_gradient():
    g = exact_gradient(L, P)
    est = forward_gradient(L, P, n_directions=20000,
                           generator=torch.Generator().manual_seed(0))
    for k in P:   # standard error about sqrt(4 |g|^2 / 20000) = 0.032
        torch.testing.assert_close(est[k], g[k], atol=0.12, rtol=0)


def test_guess_projection():
    g = exact_gradient(L, P)
    same = forward_gradient(L, P, guess={k: -2.0 * t for k, t in g.items()})
    for k in P:
        torch.testing.assert_close(same[k], g[k])
    u = {"w": torch.tensor([1.0, 0.0], dtype=F64), "b": torch.tensor(1.0, dtype=F64)}
    proj = forward_gradient(L, P, guess=u)   # (2 + 0.75) / 2 * u
    torch.testing.assert_close(proj["w"], torch.tensor([1.375, 0.0], dtype=F64))
    torch.testing.assert_close(proj["b"], torch.tensor(1.375, dtype=F64))


def test_expected_cosine_closed_form_and_monte_carlo():
    assert expected_cosine(1) == pytest.approx(1.0)
    assert expected_cosine(2) == pytest.approx(2 / math.pi)
    assert expected_cosine(3) == pytest.approx(0.5)
    assert expected_cosine(10 ** 6) == pytest.approx(math.sqrt(2 / (math.pi * 1e6)),
                                                     rel=1e-5)
    v = torch.randn(20000, 7, generator=torch.Generator().manual_seed(0), dtype=F64)
    mc = (v[:, 0].abs() / v.norm(dim=1)).mean().item()
    assert mc == pytest.approx(expected_cosine(7), abs=0.01)


def test_bad_input():
    with pytest.raises(TypeError, match="callable"):
        forward_gradient(None, P)
    with pytest.raises(ValueError, match="n_directions must be an int >= 1, got 0"):
        forward_gradient(L, P, n_directions=0)
    with pytest.raises(TypeError, match="n_directions must be an int, got True"):
        forward_gradient(L, P, n_directions=True)
    with pytest.raises(ValueError, match="n_directions must be 1"):
        forward_gradient(L, P, n_directions=2, guess=P)
    with pytest.raises(ValueError, match="guess must be finite and nonzero"):
        forward_gradient(L, P, guess={k: torch.zeros_like(t) for k, t in P.items()})
    with pytest.raises(ValueError, match="names and shapes"):
        forward_gradient(L, P, guess={"w": P["w"]})
    with pytest.raises(ValueError, match="dim must be an int >= 1, got 0"):
        expected_cosine(0)
