"""Tests of papers_lib.analysis.linear_dynamics (chapter
nbs/theory/04_generalization_dynamics.ipynb): the Marchenko-Pastur law against its
closed moments and sampled spectra, the closed-form gradient descent against explicit
steps, the theory curves against their limits and against simulation."""
import math

import pytest
import torch

from papers_lib.analysis.linear_dynamics import (
    asymptotic_test_error, gd_test_error, gd_train_error, gd_weights,
    marchenko_pastur_density, mp_integrate, mp_support, simulate_gd)

F64 = torch.float64


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("alpha", [0.2, 0.5, 1.0, 1.5, 3.0])
def test_mp_mass_and_moments_match_closed_forms(alpha):
    atom = mp_support(alpha)[2]
    assert atom == pytest.approx(max(0.0, 1 - alpha))
    mass = mp_integrate(torch.ones_like, alpha).item() + atom
    assert mass == pytest.approx(1, abs=1e-10)
    assert mp_integrate(lambda l: l, alpha).item() == pytest.approx(1, abs=1e-10)
    # moments of MP with ratio c = 1/alpha: 1 + c and 1 + 3c + c^2
    c = 1 / alpha
    m2 = mp_integrate(lambda l: l ** 2, alpha).item()
    assert m2 == pytest.approx(1 + c, abs=1e-10)
    assert mp_integrate(lambda l: l ** 3, alpha).item() == pytest.approx(
        1 + 3 * c + c * c, abs=1e-9)


@pytest.mark.parametrize("alpha", [0.5, 2.0])
def test_mp_inverse_moment_closed_form(alpha):
    # int rho / lambda over the continuous part: alpha/(alpha-1) or alpha^2/(1-alpha)
    want = alpha / (alpha - 1) if alpha > 1 else alpha ** 2 / (1 - alpha)
    got = mp_integrate(lambda l: 1 / l, alpha).item()
    assert got == pytest.approx(want, rel=1e-9)


def test_mp_density_matches_direct_quadrature_and_sampled_spectrum():
    alpha = 2.0
    lo, hi, _ = mp_support(alpha)
    assert (lo, hi) == pytest.approx(((1 - 2 ** -0.5) ** 2, (1 + 2 ** -0.5) ** 2))
    lam = torch.linspace(lo, hi, 200001, dtype=F64)
    rho = marchenko_pastur_density(lam, alpha)
    assert torch.trapezoid(rho, lam).item() == pytest.approx(1, abs=1e-3)
    outside = marchenko_pastur_density(torch.tensor([lo / 2, hi + 1]), alpha)
    assert outside.abs().max() == 0
    # sampled eigenvalues: fraction below the median of the law
    X = torch.randn(800, 400, dtype=F64, generator=_gen())
    ev = torch.linalg.eigvalsh(X.T @ X / 800)
    for q in (0.7, 1.0, 2.0):
        frac_law = mp_integrate(lambda l: (l < q).to(F64), alpha, nodes=20000).item()
        assert (ev < q).double().mean().item() == pytest.approx(frac_law, abs=0.03)


def test_mp_atom_counts_zero_eigenvalues():
    X = torch.randn(60, 200, dtype=F64, generator=_gen(1))
    ev = torch.linalg.eigvalsh(X.T @ X / 60)
    assert (ev < 1e-8).double().mean().item() == pytest.approx(mp_support(0.3)[2])


def test_gd_weights_equals_explicit_steps_both_regimes():
    for P, N in ((8, 15), (25, 10)):
        g = _gen(P)
        X = torch.randn(P, N, dtype=F64, generator=g)
        y = torch.randn(P, dtype=F64, generator=g)
        w0 = torch.randn(N, dtype=F64, generator=g)
        eta = 0.05
        w, out = w0.clone(), []
        for k in range(101):
            out.append(w.clone())
            w = w - eta * (X.T @ (X @ w) / P - math.sqrt(N) * X.T @ y / P)
        got = gd_weights(X, y, w0, torch.arange(101), eta=eta)
        assert torch.allclose(got, torch.stack(out), atol=1e-11)


def test_gd_weights_flow_limit_is_least_squares_and_keeps_frozen_part():
    g = _gen(3)
    P, N = 6, 10
    X = torch.randn(P, N, dtype=F64, generator=g)
    y = torch.randn(P, dtype=F64, generator=g)
    w0 = torch.randn(N, dtype=F64, generator=g)
    w_inf = gd_weights(X, y, w0, [1e6])[0]
    pinv = torch.linalg.pinv(X / math.sqrt(N))
    want = pinv @ y + (torch.eye(N, dtype=F64) - pinv @ (X / math.sqrt(N))) @ w0
    assert torch.allclose(w_inf, want, atol=1e-9)
    # small step gradient descent approaches the flow
    flow = gd_weights(X, y, w0, [2.0])[0]
    steps = gd_weights(X, y, w0, [20000], eta=1e-4)[0]
    assert torch.allclose(flow, steps, atol=1e-3)


def test_theory_limits_and_discrete_steps():
    kw = dict(noise_var=0.3, init_var=0.2, teacher_var=0.7)
    for a in (0.4, 2.5):
        e = gd_test_error(torch.tensor([0.0, 1e7]), a, **kw)
        tr = gd_train_error(torch.tensor([0.0, 1e7]), a, **kw)
        assert e[0].item() == pytest.approx(1.2) and tr[0].item() == pytest.approx(1.2)
        assert e[1].item() == pytest.approx(asymptotic_test_error(a, **kw), rel=1e-6)
        assert tr[1].item() == pytest.approx(0.3 * max(0, 1 - 1 / a), abs=1e-9)
        # eta -> 0 with t steps of size eta approaches the flow at time eta t
        d = gd_test_error(torch.tensor([4000.0]), a, **kw, eta=1e-3)
        f = gd_test_error(torch.tensor([4.0]), a, **kw)
        assert d.item() == pytest.approx(f.item(), rel=1e-3)
    assert asymptotic_test_error(1.0, noise_var=0.1) == math.inf
    assert asymptotic_test_error(1.0, noise_var=0.0) == 0.0


def test_theory_matches_simulation_in_expectation():
    """The mean of R draws at N = 100 matches the N -> infinity curves within 4
    standard errors plus 1/N, the order of the finite-size corrections."""
    t, N, R = torch.tensor([0.5, 3.0, 50.0]), 100, 16
    g = _gen(7)
    for a, init in ((0.5, 0.3), (2.0, 0.0)):
        sims = [simulate_gd(N, round(a * N), t, noise_var=0.25, init_var=init,
                            generator=g) for _ in range(R)]
        te = torch.stack([s["test"] for s in sims])
        tr = torch.stack([s["train"] for s in sims])
        for sim, th in ((te, gd_test_error(t, a, noise_var=0.25, init_var=init)),
                        (tr, gd_train_error(t, a, noise_var=0.25, init_var=init))):
            se = sim.std(0) / math.sqrt(R)
            assert ((sim.mean(0) - th).abs() < 4 * se + 1 / N).all()


def test_simulation_errors_are_consistent_with_weights():
    g1, g2 = _gen(5), _gen(5)
    out = simulate_gd(30, 20, [0.0, 1.0], noise_var=0.1, init_var=0.5, generator=g1)
    X = torch.randn(20, 30, dtype=F64, generator=g2)
    w_star = torch.randn(30, dtype=F64, generator=g2)
    noise = math.sqrt(0.1) * torch.randn(20, dtype=F64, generator=g2)
    y = X @ w_star / math.sqrt(30) + noise
    w0 = math.sqrt(0.5) * torch.randn(30, dtype=F64, generator=g2)
    W = gd_weights(X, y, w0, [0.0, 1.0])
    assert torch.allclose(out["test"], ((W - w_star) ** 2).sum(1) / 30 + 0.1)
    assert torch.allclose(out["train"], ((y - W @ X.T / math.sqrt(30)) ** 2).mean(1))


def test_bad_input():
    with pytest.raises(ValueError, match="alpha"):
        mp_support(0.0)
    with pytest.raises(ValueError, match="alpha"):
        gd_test_error([1.0], -1, noise_var=0.1)
    with pytest.raises(ValueError, match="noise_var"):
        gd_test_error([1.0], 1.0, noise_var=-0.1)
    with pytest.raises(ValueError, match="times"):
        gd_train_error([-1.0], 1.0, noise_var=0.1)
    with pytest.raises(ValueError, match="integers"):
        gd_test_error([1.5], 2.0, noise_var=0.1, eta=0.1)
    with pytest.raises(ValueError, match="diverges"):
        gd_test_error([10], 0.5, noise_var=0.1, eta=1.0)
    with pytest.raises(ValueError, match="nodes"):
        mp_integrate(torch.ones_like, 1.0, nodes=3)
    X = torch.randn(5, 4, dtype=F64)
    with pytest.raises(ValueError, match="X, y and w0 must have shapes"):
        gd_weights(X, torch.zeros(4, dtype=F64), torch.zeros(4, dtype=F64), [1.0])
    with pytest.raises(ValueError, match="diverges"):
        gd_weights(X * 100, torch.zeros(5, dtype=F64), torch.zeros(4, dtype=F64), [1],
                   eta=1.0)
    with pytest.raises(ValueError, match="N must"):
        simulate_gd(0, 5, [1.0], noise_var=0.1)
