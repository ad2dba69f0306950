"""papers_lib.flows.cnf: divergences, Hutchinson's estimator, the augmented CNF dynamics,
log-densities and sampling, checked against explicit Jacobians, exact enumeration of
Rademacher probes, the closed-form variances and linear flows."""
import itertools
import math

import pytest
import torch
from torch import nn

from papers_lib.flows.cnf import (CNF, cnf_log_prob, cnf_sample, divergence_exact,
                                  divergence_hutchinson, normal_log_prob, sample_noise)
from papers_lib.flows.matching import VectorFieldMLP

T = torch.tensor(0.3, dtype=torch.float64)


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def _mlp(d, seed=0):
    torch.manual_seed(seed)
    return VectorFieldMLP(d, hidden=16, depth=2).double()


def _signs(d):
    """All 2^d Rademacher vectors, shape (2^d, d)."""
    return torch.tensor(list(itertools.product([-1.0, 1.0], repeat=d)),
                        dtype=torch.float64)


def test_divergence_exact_is_the_jacobian_trace():
    net = _mlp(4)
    z = torch.randn(6, 4, dtype=torch.float64, generator=_gen(1))
    dz, div = divergence_exact(net, T, z)
    ref = torch.stack([torch.autograd.functional.jacobian(
        lambda u: net(T, u[None])[0], row).trace() for row in z])
    torch.testing.assert_close(div, ref, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(dz, net(T, z).detach())


def test_divergence_keeps_the_graph_only_with_grad():
    net = _mlp(3)
    z = torch.randn(5, 3, dtype=torch.float64, generator=_gen(2))
    _, div = divergence_exact(net, T, z)
    assert div.requires_grad                   # for training: d div / d params exists
    eps = torch.ones_like(z)
    with torch.no_grad():
        dz, div = divergence_exact(net, T, z)
        dz2, div2 = divergence_hutchinson(net, T, z, eps)
    assert not div.requires_grad and not dz.requires_grad and not div2.requires_grad


def test_divergence_gradient_wrt_parameters():
    """d/dA of div(Az) = d/dA tr(A) = I, through the kept graph."""
    A = torch.randn(3, 3, dtype=torch.float64, generator=_gen(3), requires_grad=True)
    z = torch.randn(4, 3, dtype=torch.float64, generator=_gen(4))
    _, div = divergence_exact(lambda t, u: u @ A.T, T, z)
    (g,) = torch.autograd.grad(div.sum(), A)
    torch.testing.assert_close(g, 4 * torch.eye(3, dtype=torch.float64))


def test_hutchinson_of_a_linear_field_is_the_quadratic_form():
    A = torch.randn(5, 5, dtype=torch.float64, generator=_gen(5))
    z = torch.randn(7, 5, dtype=torch.float64, generator=_gen(6))
    eps = torch.randn(7, 5, dtype=torch.float64, generator=_gen(7))
    _, est = divergence_hutchinson(lambda t, u: u @ A.T, T, z, eps)
    torch.testing.assert_close(est, torch.einsum("ni,ij,nj->n", eps, A, eps))


def test_hutchinson_over_all_rademacher_probes_is_exact():
    """The mean over all 2^d sign vectors is E[eps^T J eps] = tr J, exactly."""
    net, d = _mlp(4), 4
    z = torch.randn(1, d, dtype=torch.float64, generator=_gen(8))
    eps = _signs(d)
    _, est = divergence_hutchinson(net, T, z.expand(len(eps), d), eps)
    _, div = divergence_exact(net, T, z)
    torch.testing.assert_close(est.mean(), div[0], rtol=1e-12, atol=1e-12)
    assert est.std() > 1e-3                    # ... while single probes do vary


def test_hutchinson_variance_closed_forms():
    A = torch.randn(4, 4, dtype=torch.float64, generator=_gen(9))
    S = (A + A.T) / 2
    quad = lambda e: torch.einsum("ni,ij,nj->n", e, A, e)
    # Rademacher: exact, by enumeration (population variance)
    var_r = quad(_signs(4)).var(unbiased=False)
    torch.testing.assert_close(var_r, 2 * (S.pow(2).sum() - S.diag().pow(2).sum()))
    # Gaussian: Monte Carlo, 400k probes, within 3% (relative s.e. of the variance ~0.4%)
    est = quad(sample_noise((400_000, 4), "gaussian", dtype=torch.float64,
                            generator=_gen(10)))
    assert abs(est.var() / (2 * S.pow(2).sum()) - 1) < 0.03
    assert abs(est.mean() - A.trace()) < 4 * est.std() / math.sqrt(len(est))


def test_sample_noise():
    r = sample_noise((1000, 3), "rademacher", generator=_gen(11))
    assert set(r.unique().tolist()) == {-1.0, 1.0} and r.dtype == torch.float32
    gn = sample_noise((200_000, 3), "gaussian", dtype=torch.float64, generator=_gen(12))
    cov = gn.T @ gn / len(gn)
    torch.testing.assert_close(cov, torch.eye(3, dtype=torch.float64), atol=0.02,
                               rtol=0)
    with pytest.raises(ValueError, match="kind must be one of"):
        sample_noise((2, 2), "uniform")


def test_linear_flow_log_prob_closed_form():
    """f = A z on [0, 1]: x = e^A z0, log p(x) = log N(e^{-A} x) - tr A."""
    A = 0.5 * torch.randn(3, 3, dtype=torch.float64, generator=_gen(13))
    x = torch.randn(50, 3, dtype=torch.float64, generator=_gen(14))
    ref = normal_log_prob(x @ torch.linalg.matrix_exp(-A).T) - A.trace()
    lp, z0 = cnf_log_prob(lambda t, u: u @ A.T, x, trace="exact", method="dopri5",
                          rtol=1e-10, atol=1e-10, return_z=True)
    torch.testing.assert_close(lp, ref, rtol=1e-8, atol=1e-8)
    torch.testing.assert_close(z0, x @ torch.linalg.matrix_exp(-A).T, rtol=1e-8,
                               atol=1e-8)


def test_time_dependent_flow_and_interval():
    """f = t z on [t0, t1]: log-det = d (t1^2 - t0^2) / 2, z0 = x e^{-(t1^2 - t0^2)/2}."""
    x = torch.randn(20, 2, dtype=torch.float64, generator=_gen(15))
    t0, t1 = 0.5, 2.0
    c = (t1 ** 2 - t0 ** 2) / 2
    ref = normal_log_prob(x * math.exp(-c)) - 2 * c
    lp = cnf_log_prob(lambda t, u: t * u, x, t0=t0, t1=t1, trace="exact",
                      method="rk4", options={"step_size": 0.01})
    torch.testing.assert_close(lp, ref, rtol=1e-8, atol=1e-8)


def test_normal_log_prob_matches_torch():
    z = torch.randn(10, 3, dtype=torch.float64, generator=_gen(16))
    ref = torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(1)
    torch.testing.assert_close(normal_log_prob(z), ref)


def test_fixed_step_hutchinson_log_prob_is_unbiased_exactly():
    """Fixed-step RK4: averaging over all sign vectors gives the exact-trace result."""
    net, d = _mlp(3, seed=4), 3
    x = torch.randn(1, d, dtype=torch.float64, generator=_gen(17))
    eps = _signs(d)
    with torch.no_grad():
        ref = cnf_log_prob(net, x, trace="exact", options={"step_size": 0.25})
        est = cnf_log_prob(net, x.expand(len(eps), d), eps=eps,
                           options={"step_size": 0.25})
    torch.testing.assert_close(est.mean(), ref[0], rtol=1e-12, atol=1e-12)


def test_sample_inverts_log_prob():
    net = _mlp(2, seed=5)
    x = torch.randn(30, 2, dtype=torch.float64, generator=_gen(18))
    with torch.no_grad():
        _, z0 = cnf_log_prob(net, x, trace="exact", method="dopri5", rtol=1e-10,
                             atol=1e-10, return_z=True)
    back = cnf_sample(net, z0, method="dopri5", rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(back, x, rtol=1e-7, atol=1e-7)


def test_adjoint_gradient_matches_backprop():
    net = _mlp(2, seed=6)
    x = torch.randn(16, 2, dtype=torch.float64, generator=_gen(19))
    eps = sample_noise(x.shape, dtype=torch.float64, generator=_gen(20))
    grads = []
    for adjoint in (False, True):
        net.zero_grad()
        cnf_log_prob(net, x, eps=eps, adjoint=adjoint, method="dopri5", rtol=1e-9,
                     atol=1e-9).sum().backward()
        grads.append(torch.cat([p.grad.flatten() for p in net.parameters()]))
    torch.testing.assert_close(grads[1], grads[0], rtol=1e-5, atol=1e-6)


def test_cnf_counts_and_state():
    net = _mlp(3)
    state = torch.randn(4, 4, dtype=torch.float64, generator=_gen(21))
    exact = CNF(net, "exact")
    out = exact(T, state)
    _, div = divergence_exact(net, T, state[:, :3])
    torch.testing.assert_close(out[:, 3], -div)
    assert out.shape == state.shape and exact.nfe == 1 and exact.nvjp == 3
    hut = CNF(net).set_noise(torch.ones(4, 3, dtype=torch.float64))
    hut(T, state)
    assert hut.nfe == 1 and hut.nvjp == 1


def test_bad_input():
    net = _mlp(2)
    x = torch.zeros(3, 2, dtype=torch.float64)
    with pytest.raises(ValueError, match="trace must be one of"):
        CNF(net, "frobenius")
    with pytest.raises(TypeError, match="callable"):
        CNF(3)
    with pytest.raises(RuntimeError, match="set_noise"):
        CNF(net)(T, torch.zeros(3, 3, dtype=torch.float64))
    with pytest.raises(ValueError, match="eps must have"):
        divergence_hutchinson(net, T, x, torch.zeros(3, 3, dtype=torch.float64))
    with pytest.raises(ValueError, match="z must have 2 dimensions"):
        divergence_exact(net, T, torch.zeros(2))
    with pytest.raises(ValueError, match="z's shape"):
        divergence_exact(lambda t, z: z[:, :1], T, x)
    with pytest.raises(ValueError, match="t1 must be a real number > 1, got 0.0"):
        cnf_log_prob(net, x, t0=1.0, t1=0.0)
    with pytest.raises(ValueError, match="t1 must be a real number > 1, got 1.0"):
        cnf_sample(net, x, t0=1.0, t1=1.0)
    with pytest.raises(TypeError, match="nn.Module"):
        cnf_log_prob(lambda t, z: z, x, adjoint=True)
