"""Tests of papers_lib.gradest.discrete (page nbs/gradest/05_reinmax.ipynb): ST,
Gumbel-ST and ReinMax against closed forms, torch's own functions and enumeration."""
import pytest
import torch
from torch.autograd.functional import jacobian

from papers_lib.gradest.discrete import (categorical_expectation,
                                         exact_gradient_enumeration, expected_estimate,
                                         gradient_draws, gumbel_softmax_st,
                                         one_hot_outcomes, reinmax, sample_one_hot,
                                         straight_through)

F64 = torch.float64
# two categorical variables with K = 3 categories
THETA = torch.tensor([[0.4, -1.1, 0.9], [1.5, 0.2, -0.3]], dtype=F64)
W = torch.tensor([[1.0, -2.0, 0.5], [0.3, 3.0, -1.0]], dtype=F64)
A = torch.tensor([[2.0, -1.0, 0.5, 0.0, 1.0, -0.5],
                  [-1.0, 1.0, 0.0, 2.0, 0.0, 0.5],
                  [0.5, 0.0, 3.0, -1.0, 0.5, 0.0],
                  [0.0, 2.0, -1.0, 1.0, 0.0, 1.5],
                  [1.0, 0.0, 0.5, 0.0, 2.0, -1.0],
                  [-0.5, 0.5, 0.0, 1.5, -1.0, 1.0]], dtype=F64)


def linear(D):
    return (W * D).sum()


def quadratic(D):   # couples the two variables
    x = D.reshape(-1)
    return x @ A @ x + (W.reshape(-1) * x).sum()


def cubic(D):
    return (D - 0.3).pow(3).sum() * (D[0] * W[0]).sum()


def st(logits, sample):
    return straight_through(logits, sample=sample)


def rm(tau):
    return lambda logits, sample: reinmax(logits, tau, sample=sample)


def rel(a, b):
    return ((a - b).norm() / b.norm()).item()


def test_one_hot_outcomes_lists_every_outcome_once():
    outs = one_hot_outcomes((2, 3))
    assert outs.shape == (9, 2, 3)
    assert torch.all(outs.sum(-1) == 1)
    assert len({tuple(o.argmax(-1).tolist()) for o in outs}) == 9
    with pytest.raises(ValueError, match="max_outcomes"):
        one_hot_outcomes((20, 4))


def test_categorical_expectation_closed_form():
    pi = THETA.softmax(-1)
    # E[D_0a D_1b] = pi_0a pi_1b for independent variables; E[<W, D>] = sum <W_v, pi_v>
    got = categorical_expectation(lambda D: D[0, 2] * D[1, 0], THETA)
    torch.testing.assert_close(got, pi[0, 2] * pi[1, 0])
    torch.testing.assert_close(categorical_expectation(linear, THETA), (W * pi).sum())
    with pytest.raises(TypeError, match="callable"):
        categorical_expectation(None, THETA)
    with pytest.raises(ValueError, match="last dimension"):
        categorical_expectation(linear, torch.zeros(3, 1, dtype=F64))


def test_exact_gradient_closed_form_and_finite_difference():
    pi = THETA.softmax(-1)
    # linear f: the gradient is J(pi_v) W_v per variable
    closed = pi * (W - (pi * W).sum(-1, keepdim=True))
    torch.testing.assert_close(exact_gradient_enumeration(linear, THETA), closed)
    g = exact_gradient_enumeration(cubic, THETA)
    fd = torch.zeros_like(THETA)
    for i in range(2):
        for k in range(3):
            e = torch.zeros_like(THETA)
            e[i, k] = 1e-6
            fd[i, k] = (categorical_expectation(cubic, THETA + e)
                        - categorical_expectation(cubic, THETA - e)) / 2e-6
    torch.testing.assert_close(g, fd, atol=1e-8, rtol=1e-6)


def test_sample_one_hot_frequencies():
    probs = torch.tensor([0.1, 0.6, 0.3], dtype=F64)
    D = sample_one_hot(probs.expand(40000, 3), torch.Generator().manual_seed(0))
    assert torch.all(D.sum(-1) == 1) and torch.all((D == 0) | (D == 1))
    se = (probs * (1 - probs) / 40000).sqrt()
    assert torch.all((D.mean(0) - probs).abs() < 4 * se)


@pytest.mark.parametrize("tau", [1.0, 0.5, 2.0])
def test_straight_through_is_softmax_backward(tau):
    theta = THETA.clone().requires_grad_(True)
    D = straight_through(theta, torch.Generator().manual_seed(1), tau)
    assert torch.all(D.sum(-1) == 1) and torch.all((D == 0) | (D == 1))
    (g,) = torch.autograd.grad((W * D).sum(), theta)
    theta2 = THETA.clone().requires_grad_(True)
    (ref,) = torch.autograd.grad((W * (theta2 / tau).softmax(-1)).sum(), theta2)
    torch.testing.assert_close(g, ref)


def test_given_sample_and_bad_input():
    sample = torch.tensor([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]], dtype=F64)
    assert torch.equal(straight_through(THETA, sample=sample), sample)
    assert torch.equal(reinmax(THETA, sample=sample), sample)
    with pytest.raises(ValueError, match="sample must have the shape of logits"):
        reinmax(THETA, sample=sample[0])
    for bad in (0.0, -1.0, float("inf")):
        with pytest.raises(ValueError, match="tau must be a (finite )?real number > 0"):
            reinmax(THETA, bad)
        with pytest.raises(ValueError, match="tau must be a (finite )?real number > 0"):
            gumbel_softmax_st(THETA, bad)
    with pytest.raises(ValueError, match="last dimension"):
        straight_through(torch.zeros(4, 1))


def test_gumbel_softmax_st_matches_torch():
    theta = THETA.clone().requires_grad_(True)
    torch.manual_seed(5)
    mine = gumbel_softmax_st(theta, 0.6)
    (g,) = torch.autograd.grad((W * mine).sum(), theta)
    theta2 = THETA.clone().requires_grad_(True)
    torch.manual_seed(5)
    ref = torch.nn.functional.gumbel_softmax(theta2, tau=0.6, hard=True)
    (g_ref,) = torch.autograd.grad((W * ref).sum(), theta2)
    assert torch.equal(mine, ref)
    torch.testing.assert_close(g, g_ref)


@pytest.mark.parametrize("tau", [1.0, 1.7])
def test_reinmax_backward_against_softmax_jacobians(tau):
    """[2 J(pi_half) - J(pi)/2] v with J from torch's softmax via autograd."""
    theta = THETA.clone().requires_grad_(True)
    D = reinmax(theta, tau, torch.Generator().manual_seed(2))
    (g,) = torch.autograd.grad((W * D).sum(), theta)
    D = D.detach()
    for v in range(2):
        half = 0.5 * (D[v] + (THETA[v] / tau).softmax(-1))
        J_half = jacobian(lambda z: z.softmax(-1), half.log())    # softmax(log p) = p
        J_pi = jacobian(lambda z: z.softmax(-1), THETA[v])
        torch.testing.assert_close(g[v], 2 * J_half.T @ W[v] - 0.5 * J_pi.T @ W[v])


def test_reinmax_tau1_is_the_heun_form():
    """At tau = 1: 1/2 [J(pi) + (D - pi)(D - pi)^T] grad f(D), for every outcome."""
    pi = THETA[0].softmax(-1)
    J = torch.diag(pi) - torch.outer(pi, pi)
    for D in torch.eye(3, dtype=F64):
        theta = THETA[0].clone().requires_grad_(True)
        (g,) = torch.autograd.grad((W[0] * reinmax(theta, sample=D)).sum(), theta)
        torch.testing.assert_close(g, 0.5 * (J + torch.outer(D - pi, D - pi)) @ W[0])


def test_exact_means_first_and_second_order():
    g_lin = exact_gradient_enumeration(linear, THETA)
    g_quad = exact_gradient_enumeration(quadratic, THETA)
    assert rel(expected_estimate(st, linear, THETA), g_lin) < 1e-12     # ST: Euler
    assert rel(expected_estimate(rm(1.0), quadratic, THETA), g_quad) < 1e-12   # Heun
    assert rel(expected_estimate(st, quadratic, THETA), g_quad) > 0.05
    assert rel(expected_estimate(rm(2.0), quadratic, THETA), g_quad) > 0.05
    # third-order terms remain
    assert rel(expected_estimate(rm(1.0), cubic, THETA),
               exact_gradient_enumeration(cubic, THETA)) > 1e-3


def test_gradient_draws_average_to_the_exact_mean():
    n = 20000
    for est, sampler in [(st, lambda l, g: straight_through(l, g)),
                         (rm(1.0), lambda l, g: reinmax(l, 1.0, g))]:
        draws = gradient_draws(sampler, quadratic, THETA, n,
                               torch.Generator().manual_seed(3))
        assert draws.shape == (n, 2, 3)
        mean, se = draws.mean(0), draws.std(0) / n ** 0.5
        assert torch.all((mean - expected_estimate(est, quadratic, THETA)).abs()
                         < 5 * se + 1e-12)
    with pytest.raises(ValueError, match="samples must be an int >= 1, got 0"):
        gradient_draws(lambda l, g: straight_through(l, g), linear, THETA, 0)
