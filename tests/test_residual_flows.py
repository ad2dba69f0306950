"""papers_lib.flows.residual: spectral normalisation, LipSwish, invertible residual
blocks and the log-det estimators, checked against torch's linear algebra, explicit
Jacobians and closed forms for linear blocks."""
import math

import pytest
import torch
from torch import nn

from papers_lib.flows.residual import (LipSwish, ResidualBlock, ResidualFlow,
                                       SpectralLinear, block_jacobian, logdet_exact,
                                       logdet_roulette, logdet_truncated,
                                       roulette_coeffs, spectral_norm_power)

D = torch.float64


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def _saturate(module):
    """Scale every SpectralLinear weight by 20 and converge its power iteration, so
    that each layer's Lipschitz constant sits at its coefficient; `module` in eval
    mode."""
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, SpectralLinear):
                m.weight.mul_(20)
                for _ in range(50):
                    m.normalized_weight()
    return module.eval()


def _saturated_block(coeff=0.9, hidden=16, seed=0):
    torch.manual_seed(seed)
    return _saturate(ResidualBlock(2, hidden=hidden, coeff=coeff).double())


def _linear_block(lip, theta):
    """g(x) = lip R(theta) x, so log det(I + J) = log(1 + 2 lip cos(theta) + lip^2)."""
    b = ResidualBlock(2, hidden=2, depth=1, coeff=0.999, activation=nn.Identity)
    b = b.double().eval()
    rot = torch.tensor([[math.cos(theta), -math.sin(theta)],
                        [math.sin(theta), math.cos(theta)]], dtype=D)
    with torch.no_grad():
        b.g[0].weight.copy_(math.sqrt(lip) * torch.eye(2, dtype=D))
        b.g[-1].weight.copy_(math.sqrt(lip) * rot)
        b.g[0].bias.zero_()
        b.g[-1].bias.zero_()
    return b, math.log(1 + 2 * lip * math.cos(theta) + lip ** 2)


def test_spectral_norm_power_matches_svd():
    W = torch.randn(7, 3, generator=_gen(0), dtype=D)
    sig, u = spectral_norm_power(W, 100, generator=_gen(1))
    assert sig.item() == pytest.approx(torch.linalg.matrix_norm(W, 2).item(), rel=1e-10)
    assert u.norm().item() == pytest.approx(1.0)
    sig1, _ = spectral_norm_power(W, 1, generator=_gen(1))
    assert sig1 <= sig + 1e-12                       # power iteration from below


def test_spectral_norm_power_bad_input():
    with pytest.raises(ValueError, match="W must have 2 dimensions"):
        spectral_norm_power(torch.zeros(3))
    with pytest.raises(ValueError, match="iters must be an int >= 0"):
        spectral_norm_power(torch.zeros(2, 2), -1)


def test_spectral_linear_bounds_and_keeps_small_weights():
    lin = SpectralLinear(3, 5, coeff=0.7).double()
    with torch.no_grad():
        lin.weight.copy_(torch.randn(5, 3, generator=_gen(2), dtype=D) * 5)
    for _ in range(50):
        lin.normalized_weight()
    lin.eval()
    assert torch.linalg.matrix_norm(lin.normalized_weight(), 2).item() == \
        pytest.approx(0.7, rel=1e-8)
    with torch.no_grad():                           # already below c: untouched
        lin.weight.mul_(0.01 / torch.linalg.matrix_norm(lin.weight, 2))
    lin.train()
    for _ in range(20):
        lin.normalized_weight()
    torch.testing.assert_close(lin.normalized_weight(), lin.weight)


def test_lipswish_is_scaled_silu_and_1_lipschitz():
    z = torch.linspace(-30, 30, 60001, dtype=D, requires_grad=True)
    act = LipSwish(1.0).double()
    torch.testing.assert_close(act(z), nn.functional.silu(z) / 1.1)
    for beta in (0.3, 1.0, 5.0):
        d1 = torch.autograd.grad(LipSwish(beta).double()(z).sum(), z)[0]
        assert 0.999 < d1.max().item() <= 1.0
    with pytest.raises(ValueError, match="beta must be a real number > 0"):
        LipSwish(0.0)


def test_block_inverse_and_lipschitz_bound():
    b = _saturated_block(0.9)
    x = 3 * torch.randn(300, 2, generator=_gen(3), dtype=D)
    torch.testing.assert_close(b.inverse(b(x), tol=1e-13), x, atol=1e-11, rtol=0)
    _, J = block_jacobian(b, x)
    assert torch.linalg.matrix_norm(J, 2).max().item() <= 0.9 ** 3 + 1e-9


def test_block_jacobian_matches_torch():
    b = _saturated_block(0.9)
    x = torch.randn(4, 2, generator=_gen(4), dtype=D)
    _, J = block_jacobian(b, x)
    for i in range(4):
        ref = torch.autograd.functional.jacobian(lambda v: b.g(v[None])[0], x[i])
        torch.testing.assert_close(J[i], ref)


def test_block_bad_input():
    with pytest.raises(ValueError, match="coeff"):
        ResidualBlock(2, coeff=1.0)
    with pytest.raises(ValueError, match="hidden"):
        ResidualBlock(2, hidden=0)
    b = ResidualBlock(2)
    with pytest.raises(ValueError, match="shape"):
        logdet_exact(b, torch.zeros(3, 3))
    with pytest.raises(TypeError, match="ResidualBlock"):
        logdet_exact(nn.Linear(2, 2), torch.zeros(3, 2))
    with pytest.raises(RuntimeError, match="converge"):
        _saturated_block(0.9).inverse(torch.ones(2, 2, dtype=D), tol=1e-30,
                                      max_iter=3)


@pytest.mark.parametrize("lip,theta", [(0.5, 2.5), (0.9, math.pi), (0.8, 0.3)])
def test_logdet_linear_closed_form(lip, theta):
    b, exact = _linear_block(lip, theta)
    x = torch.zeros(1, 2, dtype=D)
    assert logdet_exact(b, x)[1].item() == pytest.approx(exact, abs=1e-12)
    assert logdet_truncated(b, x, 400, trace="exact")[1].item() == \
        pytest.approx(exact, abs=1e-9)
    one = logdet_truncated(b, x, 1, trace="exact")[1].item()
    assert one == pytest.approx(2 * lip * math.cos(theta), abs=1e-12)   # tr(J)


def test_truncated_series_equals_exact_on_nonlinear_block():
    b = _saturated_block(0.9)
    x = torch.randn(32, 2, generator=_gen(5), dtype=D)
    torch.testing.assert_close(logdet_truncated(b, x, 60, trace="exact")[1],
                               logdet_exact(b, x)[1], atol=1e-12, rtol=0)


def test_hutchinson_is_unbiased_for_the_trace():
    b, _ = _linear_block(0.7, 2.0)
    x = torch.zeros(20000, 2, dtype=D)             # same J at every row
    est = logdet_truncated(b, x, 1, generator=_gen(6))[1]
    se = est.std().item() / math.sqrt(len(est))
    assert abs(est.mean().item() - 2 * 0.7 * math.cos(2.0)) < 4 * se


def test_roulette_unbiased_truncation_biased():
    b, exact = _linear_block(0.6, math.pi)
    x = torch.zeros(1, 2, dtype=D)
    g = _gen(7)
    draws = torch.tensor([logdet_roulette(b, x, trace="exact", generator=g)[1].item()
                          for _ in range(1500)])
    se = draws.std().item() / math.sqrt(len(draws))
    assert abs(draws.mean().item() - exact) < 4 * se
    trunc = logdet_truncated(b, x, 3, trace="exact")[1].item()
    assert abs(trunc - exact) > 10 * se


def test_roulette_coeffs():
    assert roulette_coeffs(0, 0.5, 2) == [1.0, 1.0]
    assert roulette_coeffs(3, 0.5, 1) == pytest.approx([1, 2, 4, 8])
    with pytest.raises(ValueError, match="p must"):
        logdet_roulette(ResidualBlock(2), torch.zeros(1, 2), p=1.0)
    with pytest.raises(ValueError, match="n_terms"):
        logdet_truncated(ResidualBlock(2), torch.zeros(1, 2), -1)
    with pytest.raises(ValueError, match="trace"):
        logdet_truncated(ResidualBlock(2), torch.zeros(1, 2), 2, trace="svd")


def test_neumann_gradient_matches_autograd():
    b = _saturated_block(0.9)
    x = torch.randn(16, 2, generator=_gen(8), dtype=D)
    ps = list(b.parameters())
    ref = torch.autograd.grad(logdet_exact(b, x)[1].sum(), ps, allow_unused=True)
    val = logdet_truncated(b, x, 60, trace="exact", neumann=True)[1]
    neu = torch.autograd.grad(val.sum(), ps, allow_unused=True)
    for a, c in zip(ref, neu):
        if a is not None:
            torch.testing.assert_close(a, c, atol=1e-12, rtol=0)
    torch.testing.assert_close(val, logdet_exact(b, x)[1].detach(), atol=1e-12, rtol=0)


def test_flow_density_integrates_to_one_and_inverts():
    torch.manual_seed(0)
    flow = _saturate(ResidualFlow(2, n_blocks=2, hidden=8, coeff=0.9).double())
    t = torch.linspace(-9, 9, 161, dtype=D)
    mass = flow.log_prob(torch.cartesian_prod(t, t)).exp().sum() * (t[1] - t[0]) ** 2
    assert mass.item() == pytest.approx(1.0, abs=2e-3)
    x = flow.sample(50, generator=_gen(9), tol=1e-13)
    torch.testing.assert_close(flow.inverse(flow(x), tol=1e-13), x)
    with pytest.raises(ValueError, match="estimator"):
        flow.log_prob(x, "magic")
    with pytest.raises(ValueError, match="n_blocks"):
        ResidualFlow(2, n_blocks=0)
