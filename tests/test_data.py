"""papers_lib.data: seeded 2-D samplers and the bundled digits."""
import math

import pytest
import torch

from papers_lib.data import TOY_2D, digits, eight_gaussians, sample_2d


@pytest.mark.parametrize("name", sorted(TOY_2D))
def test_samplers_shape_seed_and_range(name):
    x = sample_2d(name, 500, seed=1)
    assert x.shape == (500, 2) and x.dtype == torch.float32
    assert torch.equal(x, sample_2d(name, 500, seed=1))
    assert not torch.equal(x, sample_2d(name, 500, seed=2))
    assert x.abs().max() < 5.0 and x.abs().mean() > 0.5  # one plotting window fits all


def test_seeded_samplers_leave_global_state_alone():
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    for name in TOY_2D:
        sample_2d(name, 10, seed=5)
    assert torch.equal(torch.rand(3), expected)


def test_eight_gaussians_moments():
    x = eight_gaussians(200_000, seed=0, radius=2.0, std=0.5)
    # mixture covariance: (r^2 / 2) I from the means plus std^2 I
    cov = torch.cov(x.T)
    torch.testing.assert_close(cov, (2.0 + 0.25) * torch.eye(2), atol=0.03, rtol=0)
    torch.testing.assert_close(x.mean(0), torch.zeros(2), atol=0.02, rtol=0)


def test_checkerboard_is_uniform_on_black_squares():
    x = sample_2d("checkerboard", 80_000, seed=0)
    idx = torch.floor((x + 4) / 2).long().clamp(0, 3)
    assert ((idx[:, 0] + idx[:, 1]) % 2 == 0).all()
    counts = torch.bincount(idx[:, 0] * 4 + idx[:, 1], minlength=16).float()
    black = counts[counts > 0]
    assert len(black) == 8 and (black / black.mean() - 1).abs().max() < 0.05


def test_circles_radii():
    r = sample_2d("circles", 10_000, seed=0).norm(dim=1)
    assert ((r - 1.5).abs() < 0.4).float().mean() == pytest.approx(0.5, abs=0.03)
    assert ((r - 3.0).abs() < 0.4).float().mean() == pytest.approx(0.5, abs=0.03)


def test_bad_input():
    with pytest.raises(ValueError, match="name must be one of .checkerboard., .circles., .eight_gaussians., .spirals., .two_moons., got "):
        sample_2d("swiss_roll", 10)
    for bad, err in ((0, ValueError), (-3, ValueError), (2.5, TypeError),
                     (True, TypeError)):
        with pytest.raises(err, match="n must be an int"):
            sample_2d("two_moons", bad)
    with pytest.raises(ValueError, match=r"threshold must be a real number > 0, < 1"):
        digits(binarize=True, threshold=1.5)


def test_digits():
    X, y = digits()
    assert X.shape == (1797, 64) and y.shape == (1797,)
    assert X.min() == 0 and X.max() == 1 and y.dtype == torch.int64
    assert sorted(torch.unique(y).tolist()) == list(range(10))
    Xb, yb = digits(binarize=True, flatten=False)
    assert Xb.shape == (1797, 1, 8, 8) and torch.equal(yb, y)
    assert torch.equal(Xb.reshape(1797, 64), (X > 0.5).float())
    # sklearn's raw grey levels are integers 0..16
    assert torch.equal(X * 16, (X * 16).round())
    assert math.isclose(float(X.mean()), 0.3055, abs_tol=5e-4)
