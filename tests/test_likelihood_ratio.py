"""Tests of papers_lib.gradest.likelihood_ratio (page nbs/gradest/06_likelihood_ratio)."""
import pytest
import torch
from torch import nn

from papers_lib.analysis import functional_loss, params_of
from papers_lib.gradest import estimator_stats, exact_gradient
from papers_lib.gradest.likelihood_ratio import Step, lr_gradient, smoothed_gradient

F64 = torch.float64
S = 0.5


def sq(out, target):
    return 0.5 * (out - target).pow(2).sum(-1)


def linear_problem():
    torch.manual_seed(0)
    m = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2)).to(F64)
    x, y = torch.randn(6, 3, dtype=F64), torch.randn(6, 2, dtype=F64)
    P = params_of(m)
    h = x @ P["0.weight"].T + P["0.bias"]
    r = h @ P["1.weight"].T + P["1.bias"] - y
    clean = {"0.weight": (r @ P["1.weight"]).T @ x / 6,
             "0.bias": (r @ P["1.weight"]).mean(0), "1.weight": r.T @ h / 6,
             "1.bias": r.mean(0)}
    smooth = dict(clean, **{"1.weight": clean["1.weight"] + S ** 2 * P["1.weight"]})
    return m, x, y, clean, smooth


def test_closed_form_clean_gradient_matches_backprop():
    m, x, y, clean, _ = linear_problem()
    g = exact_gradient(functional_loss(m, lambda o, t: sq(o, t).mean(), x, y),
                       params_of(m))
    for k in clean:
        torch.testing.assert_close(g[k], clean[k])


# bias_ratio = |mean - exact|^2 / (tr Cov / draws) is about chi^2_k / k for an unbiased
# estimator, k = 8 to 11 effective dimensions here: above 4 with probability ~1e-4.
# Fewer, larger draws (100 of 256 noisy copies) take fewer forward calls than many small
# ones for the same total of copies; that total sets the power to see a bias.
DRAWS, COPIES = 100, 256


@pytest.mark.parametrize("kw", [dict(antithetic=False, baseline=False), {}])
def test_unbiased_for_smoothed_loss(kw):
    m, x, y, clean, smooth = linear_problem()

    def est(gen):
        return lr_gradient(m, sq, x, y, sigma=S, n_samples=COPIES, generator=gen,
                           **kw)
    st = estimator_stats(est, smooth, DRAWS,
                         generator=torch.Generator().manual_seed(1))
    assert st.bias_ratio < 4
    if kw == {}:   # the sigma^2 W2 term is detected where the variance is low enough
        off = estimator_stats(est, clean, DRAWS,
                              generator=torch.Generator().manual_seed(1))
        assert off.bias_ratio > 5


def test_layerwise_targets_clean_gradient_of_linear_net():
    m, x, y, clean, _ = linear_problem()
    st = estimator_stats(lambda gen: lr_gradient(m, sq, x, y, sigma=S,
                                                 n_samples=COPIES, layerwise=True,
                                                 generator=gen),
                         clean, DRAWS, generator=torch.Generator().manual_seed(2))
    assert st.bias_ratio < 4


def test_variance_reduction_reduces_variance():
    # the ratio is ~75; 40 draws estimate each variance to ~10% (k ~ 10 dimensions)
    m, x, y, _, smooth = linear_problem()
    kws = [dict(antithetic=False, baseline=False), {}]
    v = [estimator_stats(lambda gen: lr_gradient(m, sq, x, y, sigma=0.1, n_samples=8,
                                                 generator=gen, **kw), smooth, 40,
                         generator=torch.Generator().manual_seed(3)).rel_variance
         for kw in kws]
    assert v[0] > 10 * v[1]


def test_smoothed_gradient_matches_closed_form():
    m, x, y, _, smooth = linear_problem()
    g = smoothed_gradient(m, sq, x, y, sigma=S, n_samples=20000,
                          generator=torch.Generator().manual_seed(4))
    for k in smooth:
        torch.testing.assert_close(g[k], smooth[k], atol=0.02, rtol=0.02)


def test_antithetic_small_sigma_tends_to_exact_gradient():
    torch.manual_seed(1)
    m = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 3)).to(F64)
    x, y = torch.randn(8, 4, dtype=F64), torch.randint(0, 3, (8,))

    def ce(o, t):
        return nn.functional.cross_entropy(o, t, reduction="none")
    g = exact_gradient(functional_loss(m, lambda o, t: ce(o, t).mean(), x, y),
                       params_of(m))
    est = lr_gradient(m, ce, x, y, sigma=1e-3, n_samples=20000,
                      generator=torch.Generator().manual_seed(5))
    flat = torch.cat([g[k].reshape(-1) for k in g])
    err = torch.cat([(est[k] - g[k]).reshape(-1) for k in g])
    assert err.norm() < 0.1 * flat.norm()
    assert set(est) == set(g)


def test_step_unit_and_bias_free_layers():
    z = torch.tensor([-1.0, 0.0, 2.0], requires_grad=True)
    out = Step()(z)
    assert out.tolist() == [0.0, 0.0, 1.0]
    m = nn.Sequential(nn.Linear(3, 2, bias=False), Step(), nn.Linear(2, 1)).to(F64)
    g = lr_gradient(m, sq, torch.randn(4, 3, dtype=F64), torch.randn(4, 1, dtype=F64),
                    sigma=0.3, n_samples=4)
    assert set(g) == {"0.weight", "2.weight", "2.bias"} and g["0.weight"].shape == (2, 3)


def test_bad_input():
    m, x, y, _, _ = linear_problem()
    with pytest.raises(ValueError, match="even n_samples"):
        lr_gradient(m, sq, x, y, sigma=S, n_samples=3)
    with pytest.raises(ValueError, match="sigma must be a real number > 0, got 0.0"):
        lr_gradient(m, sq, x, y, sigma=0.0, n_samples=2)
    with pytest.raises(ValueError, match="n_samples must be an int >= 1, got 0"):
        smoothed_gradient(m, sq, x, y, sigma=S, n_samples=0)
    with pytest.raises(ValueError, match="one loss per example"):
        lr_gradient(m, lambda o, t: sq(o, t).mean(), x, y, sigma=S, n_samples=2)
    with pytest.raises(TypeError, match="nn.Sequential"):
        lr_gradient(nn.Linear(3, 2), sq, x, y, sigma=S, n_samples=2)
    with pytest.raises(ValueError, match="only nn.Linear"):
        lr_gradient(nn.Sequential(nn.Linear(3, 2), nn.LayerNorm(2)), sq, x, y,
                    sigma=S, n_samples=2)
    with pytest.raises(ValueError, match="no nn.Linear"):
        lr_gradient(nn.Sequential(nn.Tanh()), sq, x, y, sigma=S, n_samples=2)
    with pytest.raises(ValueError, match="x and y must have the same leading size"):
        lr_gradient(m, sq, x, y[:3], sigma=S, n_samples=2)
