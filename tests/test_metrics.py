"""papers_lib.metrics: sliced Wasserstein distance and MMD against closed forms."""
import math

import pytest
import torch

from papers_lib.metrics import (median_distance, mmd, mmd2, mmd2_gaussians,
                                sliced_w2_gaussians, sliced_wasserstein,
                                wasserstein_1d)


def _gauss(n, mean, std, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.as_tensor(mean) + std * torch.randn(n, len(mean), generator=g)


def test_wasserstein_1d_by_hand():
    # uniform on {0, 1} vs uniform on {0, 1, 2}: quantiles differ by 1 on (1/3, 1/2]
    # and (2/3, 1], so W_1 = W_2^2 = 1/6 + 1/3
    a, b = torch.tensor([1.0, 0.0]), torch.tensor([2.0, 0.0, 1.0])
    for p in (1, 2):
        torch.testing.assert_close(wasserstein_1d(a, b, p), torch.tensor([0.5]))
        torch.testing.assert_close(wasserstein_1d(b, a, p), torch.tensor([0.5]))
    # equal sizes: sorted differences; a shift by c costs |c|^p
    x = torch.randn(100, 3, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(wasserstein_1d(x, x + 2.0, 2), torch.full((3,), 4.0))
    torch.testing.assert_close(wasserstein_1d(x, x.flip(0), 1), torch.zeros(3))


def test_wasserstein_1d_unequal_sizes_match_repeated_atoms():
    # repeating every atom of a sample twice does not change its empirical distribution
    g = torch.Generator().manual_seed(1)
    a, b = torch.randn(30, 2, generator=g), torch.randn(40, 2, generator=g)
    torch.testing.assert_close(wasserstein_1d(a, b), wasserstein_1d(a.repeat(2, 1), b),
                               rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(wasserstein_1d(a.repeat(4, 1), b.repeat(3, 1)),
                               wasserstein_1d(a, b), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("d,shift,s2", [(2, 1.0, 1.0), (2, 0.0, 0.5), (8, 2.0, 1.5)])
def test_sliced_wasserstein_matches_gaussian_closed_form(d, shift, s2):
    m1, m2 = torch.zeros(d), torch.full((d,), shift / math.sqrt(d))
    x, y = _gauss(8000, m1, 1.0, 0), _gauss(6000, m2, s2, 1)
    est = sliced_wasserstein(x, y, n_projections=1000)
    exact = sliced_w2_gaussians(m1, 1.0, m2, s2)
    assert abs(est - exact) < 0.03
    assert exact == pytest.approx(math.sqrt(shift ** 2 / d + (1 - s2) ** 2))


def test_sliced_wasserstein_is_seeded_and_symmetric():
    x, y = _gauss(500, [0.0, 0.0], 1.0, 0), _gauss(400, [1.0, 0.0], 1.0, 1)
    assert sliced_wasserstein(x, y, seed=3) == sliced_wasserstein(x, y, seed=3)
    assert sliced_wasserstein(x, y, seed=3) != sliced_wasserstein(x, y, seed=4)
    assert sliced_wasserstein(x, y) == pytest.approx(sliced_wasserstein(y, x),
                                                     rel=1e-6)
    assert sliced_wasserstein(x, x) == 0.0


@pytest.mark.parametrize("d,shift,s2", [(2, 0.5, 1.0), (2, 0.0, 1.5), (16, 1.0, 1.0)])
def test_mmd2_matches_gaussian_closed_form(d, shift, s2):
    # unbiased: the mean of independent estimates converges to the closed form
    m1, m2 = torch.zeros(d), torch.full((d,), shift / math.sqrt(d))
    h = (0.5, 1.0, 2.0)
    est = torch.tensor([mmd2(_gauss(400, m1, 1.0, s), _gauss(400, m2, s2, 100 + s), h)
                        for s in range(40)])
    exact = mmd2_gaussians(m1, 1.0, m2, s2, h)
    assert abs(est.mean() - exact) < 4 * est.std() / math.sqrt(40)
    assert abs(est.mean() - exact) < 0.1 * exact
    x, y = _gauss(400, m1, 1.0, 0), _gauss(400, m2, s2, 100)
    assert mmd(x, y, h) == pytest.approx(math.sqrt(max(float(est[0]), 0.0)))


def test_mmd2_unbiased_and_biased():
    # unbiased: the mean over repetitions is near 0 for equal distributions
    zero = [0.0, 0.0]
    vals = [mmd2(_gauss(200, zero, 1.0, s), _gauss(200, zero, 1.0, 100 + s), 1.0)
            for s in range(20)]
    assert abs(sum(vals) / len(vals)) < 2e-3 and min(vals) < 0
    x, y = _gauss(200, [0.0, 0.0], 1.0, 0), _gauss(200, [0.0, 0.0], 1.0, 1)
    # the biased estimate adds the diagonal terms k(x_i, x_i) = 1: it is larger
    assert mmd2(x, y, 1.0, unbiased=False) > mmd2(x, y, 1.0)
    # single-bandwidth closed form at zero shift is exactly zero
    assert mmd2_gaussians(torch.zeros(3), 1.0, torch.zeros(3), 1.0, 0.7) == 0.0


def test_median_distance_and_default_bandwidths():
    # two points at distance 2 and a third far away: distances 2, 10, 10.2 -> median 10
    y = torch.tensor([[0.0, 0.0], [2.0, 0.0], [0.0, 10.0]])
    assert median_distance(y) == pytest.approx(10.0)
    x = _gauss(300, [0.0, 0.0], 1.0, 0)
    ref = _gauss(300, [0.5, 0.0], 1.0, 1)
    h = median_distance(ref)
    assert mmd2(x, ref) == pytest.approx(mmd2(x, ref, (h / 2, h, 2 * h)))


def test_bad_input():
    x = torch.randn(10, 2)
    with pytest.raises(ValueError, match="same dimension"):
        sliced_wasserstein(x, torch.randn(10, 3))
    with pytest.raises(ValueError, match="shape \\(n, d\\)"):
        mmd2(torch.randn(10), x)
    with pytest.raises(TypeError, match="torch.Tensor"):
        sliced_wasserstein(x.numpy(), x)
    with pytest.raises(ValueError, match="n_projections"):
        sliced_wasserstein(x, x, n_projections=0)
    with pytest.raises(ValueError, match="p must be >= 1"):
        sliced_wasserstein(x, x, p=0.5)
    with pytest.raises(ValueError, match="bandwidths must be positive"):
        mmd2(x, x, (1.0, -1.0))
    with pytest.raises(ValueError, match="bandwidths must be given"):
        mmd2_gaussians(torch.zeros(2), 1.0, torch.zeros(2), 1.0, None)
    with pytest.raises(ValueError, match="means must be 1-D"):
        sliced_w2_gaussians(torch.zeros(2), 1.0, torch.zeros(3), 1.0)
    with pytest.raises(ValueError, match="standard deviations"):
        sliced_w2_gaussians(torch.zeros(2), -1.0, torch.zeros(2), 1.0)
