"""Tests of papers_lib.analysis.icl (chapter nbs/theory/05_icl_one_step.ipynb): the
one-step GD predictor against its formula, the optimal step size against the exact
risk and Monte Carlo, and the linear self-attention layer against an explicit loop."""
import pytest
import torch

from papers_lib.analysis.icl import (LinearSelfAttention, Prompts, gd_risk,
                                     one_step_gd, optimal_eta, sample_prompts)

from tests.analysis_helpers import F64, float64_default  # noqa: F401 (autouse fixture)
from tests.analysis_helpers import gen as _gen


def test_sample_prompts_shapes_and_linear_responses():
    p = sample_prompts(6, 7, 3, generator=_gen())
    assert isinstance(p, Prompts)
    assert p.x.shape == (6, 7, 3) and p.y.shape == (6, 7)
    assert p.xq.shape == (6, 3) and p.yq.shape == (6,) and p.w.shape == (6, 3)
    torch.testing.assert_close(p.y, torch.einsum("bnd,bd->bn", p.x, p.w))
    torch.testing.assert_close(p.yq, (p.xq * p.w).sum(-1))
    q = sample_prompts(6, 7, 3, link=torch.tanh, generator=_gen())
    torch.testing.assert_close(q.y, torch.tanh(torch.einsum("bnd,bd->bn", q.x, q.w)))


def test_sample_prompts_covariances():
    S = torch.tensor([[2.0, 0.6], [0.6, 0.5]])
    p = sample_prompts(40_000, 3, 2, cov=S, generator=_gen(1))
    xs = p.x.reshape(-1, 2)
    torch.testing.assert_close(xs.T @ xs / len(xs), S, atol=0.03, rtol=0.0)
    torch.testing.assert_close(p.w.T @ p.w / len(p.w), torch.linalg.inv(S), atol=0.12,
                               rtol=0.0)
    n = sample_prompts(40_000, 1, 2, noise=0.5, generator=_gen(2))
    resid = n.y[:, 0] - (n.x[:, 0] * n.w).sum(-1)
    assert abs(resid.var().item() - 0.25) < 0.01


def test_sample_prompts_bad_input():
    with pytest.raises(ValueError, match="must be an int >= 1"):
        sample_prompts(0, 3, 2)
    with pytest.raises(ValueError, match="noise"):
        sample_prompts(2, 3, 2, noise=-1.0)
    with pytest.raises(ValueError, match="cov must have shape"):
        sample_prompts(2, 3, 2, cov=torch.eye(3))


def test_one_step_gd_matches_explicit_gradient_step():
    p = sample_prompts(5, 8, 3, generator=_gen(3))
    P = torch.randn(3, 3, generator=_gen(4))
    for b in range(5):
        w = p.w[b].clone().zero_().requires_grad_(True)
        loss = 0.5 * ((p.y[b] - p.x[b] @ w) ** 2).mean()
        (g,) = torch.autograd.grad(loss, w)
        w1 = -0.3 * P @ g
        torch.testing.assert_close(one_step_gd(p, 0.3, P)[b], p.xq[b] @ w1)
    with pytest.raises(ValueError, match="precond must have shape"):
        one_step_gd(p, 0.3, torch.eye(2))


def test_optimal_eta_minimises_exact_risk():
    for n, d, s in ((20, 5, 0.0), (3, 4, 1.5), (1, 1, 0.0)):
        eta = optimal_eta(n, d, s)
        assert eta == pytest.approx(n / (n + d + 1 + s ** 2))
        grid = torch.linspace(0, 1.5, 3001)
        risks = torch.tensor([gd_risk(e.item(), n, d, s) for e in grid])
        assert abs(grid[risks.argmin()].item() - eta) < 1e-3
        assert gd_risk(0.0, n, d, s) == pytest.approx(d + s ** 2)
    with pytest.raises(ValueError, match="must be an int >= 1"):
        optimal_eta(0, 3)
    with pytest.raises(ValueError, match="must be an int >= 1"):
        gd_risk(0.5, 3, 0)


@pytest.mark.parametrize("noise", [0.0, 1.0])
def test_gd_risk_against_monte_carlo(noise):
    n, d, eta = 6, 3, 0.6
    p = sample_prompts(200_000, n, d, noise=noise, generator=_gen(5))
    err = (p.yq - one_step_gd(p, eta)) ** 2
    se = err.std().item() / len(err) ** 0.5
    assert abs(err.mean().item() - gd_risk(eta, n, d, noise)) < 4 * se


def test_preconditioned_gd_attains_isotropic_risk_with_inverse_covariance():
    n, d = 6, 3
    A = torch.randn(d, d, generator=_gen(6))
    S = A @ A.T + 0.5 * torch.eye(d)
    p = sample_prompts(200_000, n, d, cov=S, generator=_gen(7))
    eta = optimal_eta(n, d)
    err = (p.yq - one_step_gd(p, eta, torch.linalg.inv(S))) ** 2
    se = err.std().item() / len(err) ** 0.5
    assert abs(err.mean().item() - gd_risk(eta, n, d)) < 4 * se
    plain = ((p.yq - one_step_gd(p, eta)) ** 2).mean().item()
    assert plain > err.mean().item() + 10 * se


def test_lsa_forward_against_explicit_attention_loop():
    d, n = 3, 5
    m = LinearSelfAttention(d, init_scale=1.0, generator=_gen(8))
    p = sample_prompts(4, n, d, generator=_gen(9))
    out = m(p)
    for b in range(4):
        E = torch.cat([p.x[b], p.y[b][:, None]], 1).T  # (d+1, n)
        eq = torch.cat([p.xq[b], torch.zeros(1)])
        upd = eq + m.W_pv @ E @ (E.T @ m.W_kq @ eq) / n
        torch.testing.assert_close(out[b], upd[d])
    with pytest.raises(ValueError, match="covariates must have d"):
        LinearSelfAttention(2)(p)
    with pytest.raises(ValueError, match="d must be an int >= 1, got 0"):
        LinearSelfAttention(0)


def test_lsa_gd_construction_and_effective_matrix():
    d = 4
    p = sample_prompts(10, 7, d, generator=_gen(10))
    P = torch.randn(d, d, generator=_gen(11))
    m = LinearSelfAttention.from_gd(d, 0.4, P)
    torch.testing.assert_close(m(p), one_step_gd(p, 0.4, P))
    torch.testing.assert_close(m.effective_matrix(), 0.4 * P.T)
    # with p = b = 0 and any A, c the prediction is h^T Gamma x_q exactly
    r = LinearSelfAttention(d, init_scale=1.0, generator=_gen(12))
    with torch.no_grad():
        r.W_kq[d, :d] = 0.0
        r.W_pv[d, :d] = 0.0
    h = (p.y[:, :, None] * p.x).mean(1)
    G = r.effective_matrix()
    torch.testing.assert_close(r(p), torch.einsum("bi,ij,bj->b", h, G, p.xq))
