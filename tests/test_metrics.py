"""papers_lib.metrics: sliced Wasserstein distance, MMD, energy distance, straightness
and transport cost against closed forms."""
import math

import pytest
import torch

from papers_lib.flows import CondOTPath, gmm_marginal_field, sample
from papers_lib.metrics import (energy_distance, energy_distance_gaussians,
                                median_distance, mmd, mmd2, mmd2_gaussians,
                                sliced_w2_gaussians, sliced_wasserstein,
                                straightness, transport_cost, wasserstein_1d)


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
    n, m, k = 4000, 3000, 500  # samples of x and y, projections
    m1, m2 = torch.zeros(d), torch.full((d,), shift / math.sqrt(d))
    x, y = _gauss(n, m1, 1.0, 0), _gauss(m, m2, s2, 1)
    est = sliced_wasserstein(x, y, n_projections=k)
    exact = sliced_w2_gaussians(m1, 1.0, m2, s2)
    assert exact == pytest.approx(math.sqrt(shift ** 2 / d + (1 - s2) ** 2))
    # standard error of SW^2 to first order, from the k directions theta,
    # Var (theta . delta)^2 / k = 2 (d - 1) |delta|^4 / (d^2 (d + 2) k), and from the
    # sample means and spreads, w = 1/n + s2^2/m: 4 |delta|^2 w / d^2 and
    # 2 (1 - s2)^2 w / d; SW's is that over 2 SW. Within 4 standard errors:
    w = 1 / n + s2 ** 2 / m
    var = 2 * (d - 1) * shift ** 4 / (d ** 2 * (d + 2) * k) \
        + 4 * shift ** 2 * w / d ** 2 + 2 * (1 - s2) ** 2 * w / d
    assert abs(est - exact) < 4 * math.sqrt(var) / (2 * exact)


def test_sliced_wasserstein_is_seeded_and_symmetric():
    x, y = _gauss(100, [0.0, 0.0], 1.0, 0), _gauss(80, [1.0, 0.0], 1.0, 1)
    k = 64  # projections

    def sw(a, b, seed=0):
        return sliced_wasserstein(a, b, n_projections=k, seed=seed)
    assert sw(x, y, seed=3) == sw(x, y, seed=3)
    assert sw(x, y, seed=3) != sw(x, y, seed=4)
    assert sw(x, y) == pytest.approx(sw(y, x), rel=1e-6)
    assert sw(x, x) == 0.0


@pytest.mark.parametrize("d,shift,s2", [(2, 0.5, 1.0), (2, 0.0, 1.5), (16, 1.0, 1.0)])
def test_mmd2_matches_gaussian_closed_form(d, shift, s2):
    # unbiased: the mean of r independent estimates is within 4 standard errors of the
    # closed form, and that resolves it to +-60%: a wrong estimator or form shows
    m1, m2 = torch.zeros(d), torch.full((d,), shift / math.sqrt(d))
    h, r = (0.5, 1.0, 2.0), 16
    est = torch.tensor([mmd2(_gauss(400, m1, 1.0, s), _gauss(400, m2, s2, 100 + s), h)
                        for s in range(r)])
    exact = mmd2_gaussians(m1, 1.0, m2, s2, h)
    se = est.std() / math.sqrt(r)
    assert abs(est.mean() - exact) < 4 * se
    assert 4 * se < 0.6 * exact
    x, y = _gauss(400, m1, 1.0, 0), _gauss(400, m2, s2, 100)
    assert mmd(x, y, h) == pytest.approx(math.sqrt(max(float(est[0]), 0.0)))


def test_mmd2_unbiased_and_biased():
    # unbiased: for equal distributions the mean over repetitions is within 4 standard
    # errors of 0, and some estimates are < 0 (a biased one is >= 0)
    zero, r = [0.0, 0.0], 20
    vals = torch.tensor([mmd2(_gauss(100, zero, 1.0, s),
                              _gauss(100, zero, 1.0, 100 + s), 1.0) for s in range(r)])
    assert abs(vals.mean()) < 4 * vals.std() / math.sqrt(r) and vals.min() < 0
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
    with pytest.raises(ValueError, match="x must have 2 dimensions"):
        mmd2(torch.randn(10), x)
    with pytest.raises(TypeError, match="torch.Tensor"):
        sliced_wasserstein(x.numpy(), x)
    with pytest.raises(ValueError, match="n_projections"):
        sliced_wasserstein(x, x, n_projections=0)
    with pytest.raises(ValueError, match="p must be a real number >= 1"):
        sliced_wasserstein(x, x, p=0.5)
    with pytest.raises(ValueError, match="bandwidths must be positive"):
        mmd2(x, x, (1.0, -1.0))
    with pytest.raises(ValueError, match="bandwidths must be given"):
        mmd2_gaussians(torch.zeros(2), 1.0, torch.zeros(2), 1.0, None)
    with pytest.raises(ValueError, match="means must be 1-D"):
        sliced_w2_gaussians(torch.zeros(2), 1.0, torch.zeros(3), 1.0)
    with pytest.raises(ValueError, match="s1 must be a real number >= 0"):
        sliced_w2_gaussians(torch.zeros(2), -1.0, torch.zeros(2), 1.0)


def test_energy_distance_v_statistic_is_cramer_distance_in_1d():
    # V-statistic in 1-D = 2 int (F_n - G_m)^2 dx; scipy returns its square root
    scipy_stats = pytest.importorskip("scipy.stats")
    x = _gauss(50, [0.0], 1.0, 0).double()
    y = _gauss(70, [0.5], 2.0, 1).double()
    grid = torch.cat([x, y]).flatten().sort().values
    fx = (x.flatten()[None] <= grid[:-1, None]).double().mean(1)
    fy = (y.flatten()[None] <= grid[:-1, None]).double().mean(1)
    cramer = float(2 * ((fx - fy) ** 2 * torch.diff(grid)).sum())
    v = energy_distance(x, y, unbiased=False)
    assert v == pytest.approx(cramer, rel=1e-10)
    assert math.sqrt(v) == pytest.approx(
        scipy_stats.energy_distance(x.flatten().numpy(), y.flatten().numpy()),
        rel=1e-10)


def test_energy_distance_is_mmd_with_distance_kernel():
    x = _gauss(12, [0.0, 0.0, 0.0], 1.0, 0).double()
    y = _gauss(9, [1.0, 0.0, 0.0], 0.5, 1).double()

    def mean_k(a, b, same):  # k(a, b) = |a| + |b| - |a - b|, by explicit loops
        tot = sum(float(a[i].norm() + b[j].norm() - (a[i] - b[j]).norm())
                  for i in range(len(a)) for j in range(len(b))
                  if not (same and i == j))
        return tot / (len(a) * (len(a) - 1) if same else len(a) * len(b))

    for unbiased in (True, False):
        ref = mean_k(x, x, unbiased) + mean_k(y, y, unbiased) \
            - 2 * mean_k(x, y, False)
        assert energy_distance(x, y, unbiased) == pytest.approx(ref, rel=1e-10)
    # V-statistic of a sample against itself is exactly 0, the U-statistic is < 0
    assert energy_distance(y, y, unbiased=False) == 0.0
    assert energy_distance(y, y) < 0


def test_energy_distance_gaussians_closed_form():
    hyp1f1 = pytest.importorskip("scipy.special").hyp1f1  # the reference for 1F1
    # 1-D: folded normal E|Z| = sqrt(2v/pi) exp(-d^2/2v) + d erf(d / sqrt(2v))
    def folded(delta, v):
        return math.sqrt(2 * v / math.pi) * math.exp(-delta ** 2 / (2 * v)) \
            + delta * math.erf(delta / math.sqrt(2 * v))

    m1, s1, m2, s2 = 0.3, 1.2, -0.5, 0.7
    ref = 2 * folded(0.8, s1 ** 2 + s2 ** 2) - folded(0, 2 * s1 ** 2) \
        - folded(0, 2 * s2 ** 2)
    got = energy_distance_gaussians(torch.tensor([m1], dtype=torch.float64), s1,
                                torch.tensor([m2], dtype=torch.float64), s2)
    assert got == pytest.approx(ref, rel=1e-12)

    # d dimensions: noncentral chi mean with scipy's 1F1, including a far shift
    def mean_norm(delta2, v, d):
        c = math.exp(math.lgamma((d + 1) / 2) - math.lgamma(d / 2))
        return math.sqrt(2 * v) * c * hyp1f1(-0.5, d / 2, -delta2 / (2 * v))

    for d, shift, s2 in [(2, 1.0, 1.0), (5, 0.0, 2.0), (16, 3.0, 0.5), (3, 30.0, 1.0)]:
        a = torch.zeros(d, dtype=torch.float64)
        b = torch.full((d,), shift / math.sqrt(d), dtype=torch.float64)
        ref = 2 * mean_norm(shift ** 2, 1 + s2 ** 2, d) - mean_norm(0, 2, d) \
            - mean_norm(0, 2 * s2 ** 2, d)
        got = energy_distance_gaussians(a, 1.0, b, s2)
        assert got == pytest.approx(ref, rel=1e-9, abs=1e-12)
    # point mass at 0 against N(0, I): 2 E|Z| - E|Z - Z'| = (2 - sqrt 2) E|Z|
    got = energy_distance_gaussians(torch.zeros(4), 0.0, torch.zeros(4), 1.0)
    assert got == pytest.approx((2 - math.sqrt(2)) * mean_norm(0, 1, 4), rel=1e-12)
    assert energy_distance_gaussians(torch.zeros(3), 1.0, torch.zeros(3), 1.0) == 0.0


@pytest.mark.parametrize("d,shift,s2", [(1, 1.0, 1.0), (2, 0.0, 1.5), (8, 1.0, 1.0)])
def test_energy_distance_matches_gaussian_closed_form(d, shift, s2):
    # unbiased: the mean of r estimates is within 4 standard errors of the closed
    # form, which resolves it to +-40%
    m1, m2, r = torch.zeros(d), torch.full((d,), shift / math.sqrt(d)), 16
    est = torch.tensor([energy_distance(_gauss(400, m1, 1.0, s),
                                        _gauss(400, m2, s2, 100 + s))
                        for s in range(r)])
    exact = energy_distance_gaussians(m1, 1.0, m2, s2)
    se = est.std() / math.sqrt(r)
    assert abs(est.mean() - exact) < 4 * se
    assert 4 * se < 0.4 * exact


def test_straightness_of_lines_and_a_sine_path():
    g = torch.Generator().manual_seed(0)
    x0, x1 = (torch.randn(200, 3, generator=g, dtype=torch.float64) for _ in range(2))
    a, e = 0.4, torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64)
    for steps in (1, 3, 10, 64):
        t = torch.linspace(0, 1, steps + 1, dtype=torch.float64)
        line = x0 + t[:, None, None] * (x1 - x0)
        assert straightness(line, t) < 1e-20
        curved = line + a * torch.sin(math.pi * t)[:, None, None] * e
        u = math.pi / (2 * steps)  # S_N = (a pi)^2 / 2 sinc^2(h / 2)
        expect = (a * math.pi) ** 2 / 2 * (math.sin(u) / u) ** 2 if steps > 1 else 0.0
        assert straightness(curved, t) == pytest.approx(expect, rel=1e-10, abs=1e-20)
    # non-uniform grids converge to (a pi)^2 / 2; default times are uniform on [0, 1]
    t = torch.linspace(0, 1, 2001, dtype=torch.float64) ** 2
    curved = x0 + t[:, None, None] * (x1 - x0) \
        + a * torch.sin(math.pi * t)[:, None, None] * e
    assert straightness(curved, t) == pytest.approx((a * math.pi) ** 2 / 2, rel=1e-3)
    t = torch.linspace(0, 1, 33, dtype=torch.float64)
    curved = x0 + t[:, None, None] * (x1 - x0) \
        + a * torch.sin(math.pi * t)[:, None, None] * e
    assert straightness(curved) == pytest.approx(straightness(curved, t), rel=1e-6)
    # a line at non-constant speed (x_t = x0 + t^2 (x1 - x0)) is not straight in S:
    # int (2t - 1)^2 dt E|x1 - x0|^2 = E|x1 - x0|^2 / 3
    t = torch.linspace(0, 1, 4001, dtype=torch.float64)
    sq = x0 + t[:, None, None] ** 2 * (x1 - x0)
    assert straightness(sq, t) == pytest.approx(transport_cost(x0, x1) / 3, rel=1e-5)


def test_straightness_and_cost_of_the_gaussian_flow():
    # independent coupling N(0, 1) -> N(m, s^2): x_t = t m + sigma_t x0 with
    # sigma_t^2 = (1 - t)^2 + t^2 s^2, S = s (2 - pi/2) E|x0|^2 and the flow's coupling
    # is x1 = m + s x0
    g = torch.Generator().manual_seed(1)
    x0 = torch.randn(100, 2, generator=g, dtype=torch.float64)
    m, s = torch.tensor([1.0, -1.0], dtype=torch.float64), 1.5

    def path(t):
        sigma = ((1 - t) ** 2 + t ** 2 * s ** 2).sqrt()
        return t[:, None, None] * m + sigma[:, None, None] * x0

    field = gmm_marginal_field(CondOTPath(sigma_min=0.0), m[None], s)
    t, xs = sample(field, x0, steps=20, method="rk4", trajectory=True)
    # rk4 with h = 1/20 follows the path to O(h^4); so does S on the same grid
    torch.testing.assert_close(xs, path(t), rtol=0, atol=1e-5)
    assert straightness(xs, t) == pytest.approx(straightness(path(t), t), rel=1e-5)
    # on a fine grid (finite differences, O(h^2)) the path's S is the closed form
    exact = s * (2 - math.pi / 2) * float(x0.pow(2).sum(1).mean())
    fine = torch.linspace(0, 1, 1001, dtype=torch.float64)
    assert straightness(path(fine), fine) == pytest.approx(exact, rel=1e-5)
    assert transport_cost(x0, xs[-1]) == pytest.approx(
        transport_cost(x0, m + s * x0), rel=1e-6)


def test_transport_cost():
    x0 = _gauss(20000, [0.0, 0.0], 1.0, 0)
    c = torch.tensor([3.0, 4.0])
    assert transport_cost(x0, x0 + c) == pytest.approx(25.0, rel=1e-5)
    # independent N(0, I) and N(m, s^2 I): |m|^2 + d (1 + s^2) = 25 + 2 * 1.25
    x1 = _gauss(20000, [3.0, 4.0], 0.5, 1)
    assert transport_cost(x0, x1) == pytest.approx(27.5, rel=0.02)


def test_bad_input_new_metrics():
    x = torch.randn(10, 2)
    with pytest.raises(ValueError, match="same dimension"):
        energy_distance(x, torch.randn(10, 3))
    with pytest.raises(ValueError, match="s1 and s2 must not both be 0"):
        energy_distance_gaussians(torch.zeros(2), 0.0, torch.zeros(2), 0.0)
    with pytest.raises(ValueError, match="same shape"):
        transport_cost(x, torch.randn(9, 2))
    with pytest.raises(TypeError, match="torch.Tensor"):
        transport_cost(x.numpy(), x)
    with pytest.raises(ValueError, match="steps >= 1"):
        straightness(torch.randn(1, 10, 2))
    with pytest.raises(ValueError, match="shape \\(steps\\+1, n, d\\)"):
        straightness(torch.randn(5, 10))
    with pytest.raises(ValueError, match="t must have shape"):
        straightness(torch.randn(5, 10, 2), torch.linspace(0, 1, 4))
    with pytest.raises(ValueError, match="strictly"):
        straightness(torch.randn(3, 10, 2), torch.tensor([0.0, 0.5, 0.5]))


@pytest.mark.parametrize("p", [0.0, 0.5, float("nan")])
def test_wasserstein_1d_needs_p_at_least_one(p):
    from papers_lib.metrics import wasserstein_1d
    with pytest.raises(ValueError, match=r"p must be a real number >= 1"):
        wasserstein_1d(torch.zeros(4), torch.ones(4), p=p)
