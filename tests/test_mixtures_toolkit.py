"""papers_lib.mixtures.toolkit against scikit-learn's GaussianMixture, torch.distributions,
closed forms and enumeration over all binary states."""
import math
import warnings

import numpy as np
import pytest
import torch

from papers_lib.mixtures.toolkit import (
    COVARIANCE_TYPES, EinsumCircuit, GaussianMixture, all_binary_states, check_circuit,
    circuit_em_step, circuit_flows, fit_gmm, gaussian_log_prob, gmm_em_step,
    gmm_log_likelihood, gmm_m_step, init_gmm, log_einsum_exp, random_region_tree,
    responsibilities, sample_gmm)

sk = pytest.importorskip("sklearn.mixture")
D64 = torch.float64


def _data(seed=0, n=200, d=3):
    g = torch.Generator().manual_seed(seed)
    centers = torch.tensor([[0.0] * d, [3.0] + [0.0] * (d - 1), [0.0, 3.0] + [0.0] * (d - 2)],
                           dtype=D64)
    x = centers[torch.arange(n) % 3] + torch.randn(n, d, generator=g, dtype=D64)
    return x


def _start(x, t):
    """A deliberately poor start with non-trivial covariances in layout t."""
    K, D = 3, x.shape[1]
    lw = torch.log(torch.tensor([0.5, 0.3, 0.2], dtype=D64))
    mu = x[[0, 1, 2]].clone() + 0.3
    if t == "full":
        A = torch.randn(K, D, D, generator=torch.Generator().manual_seed(9), dtype=D64)
        cov = A @ A.transpose(1, 2) / D + torch.eye(D, dtype=D64)
    elif t == "diag":
        cov = torch.tensor([[1.0, 2.0, 0.5], [0.7, 1.0, 1.5], [2.0, 1.0, 1.0]], dtype=D64)
    else:
        cov = torch.tensor([1.0, 2.0, 0.5], dtype=D64)
    return lw, mu, cov


def _precisions(cov, t):
    return np.linalg.inv(cov.numpy()) if t == "full" else 1.0 / cov.numpy()


@pytest.mark.parametrize("t", COVARIANCE_TYPES)
@pytest.mark.parametrize("steps", [1, 7])
def test_em_iterates_equal_sklearn(t, steps):
    x = _data()
    lw, mu, cov = _start(x, t)
    ref = sk.GaussianMixture(3, covariance_type=t, tol=0.0, max_iter=steps,
                             reg_covar=1e-6, weights_init=lw.exp().numpy(),
                             means_init=mu.numpy(), precisions_init=_precisions(cov, t))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref.fit(x.numpy())
    fit = fit_gmm(x, 3, t, max_iter=steps, tol=0.0, reg_covar=1e-6, init=(lw, mu, cov))
    assert fit.n_iter == steps and not fit.converged
    np.testing.assert_allclose(fit.log_weights.exp().numpy(), ref.weights_, atol=1e-8)
    np.testing.assert_allclose(fit.means.numpy(), ref.means_, atol=1e-8)
    np.testing.assert_allclose(fit.covariances.numpy(), ref.covariances_, atol=1e-8)
    np.testing.assert_allclose(fit.log_prob(x).numpy(), ref.score_samples(x.numpy()),
                               atol=1e-8)
    np.testing.assert_allclose(fit.responsibilities(x).numpy(), ref.predict_proba(x.numpy()),
                               atol=1e-8)
    assert fit.history[-1] == pytest.approx(ref.lower_bound_, abs=1e-10)


@pytest.mark.parametrize("t", COVARIANCE_TYPES)
def test_log_prob_equals_sklearn_from_given_parameters(t):
    x = _data(1)
    lw, mu, cov = _start(x, t)
    ref = sk.GaussianMixture(3, covariance_type=t).fit(x.numpy())   # any fit, then overwrite
    ref.weights_, ref.means_, ref.covariances_ = lw.exp().numpy(), mu.numpy(), cov.numpy()
    prec = _precisions(cov, t)
    ref.precisions_cholesky_ = (np.linalg.cholesky(prec) if t == "full" else np.sqrt(prec))
    np.testing.assert_allclose(gmm_log_likelihood(x, lw, mu, cov, t).numpy(),
                               ref.score_samples(x.numpy()), atol=1e-10)


@pytest.mark.parametrize("t", COVARIANCE_TYPES)
def test_component_log_prob_equals_torch(t):
    x = _data(2, n=20)
    _, mu, cov = _start(x, t)
    full = {"full": cov, "diag": torch.diag_embed(cov) if cov.ndim == 2 else None,
            "spherical": cov[:, None, None] * torch.eye(3, dtype=D64) if cov.ndim == 1
            else None}[t]
    ref = torch.distributions.MultivariateNormal(mu, full).log_prob(x[:, None])
    torch.testing.assert_close(gaussian_log_prob(x, mu, cov, t), ref, atol=1e-12, rtol=0)


def test_m_step_with_one_hot_responsibilities_is_per_cluster_mle():
    x = _data(3, n=60)
    z = torch.arange(60) % 3
    lw, mu, cov = gmm_m_step(x, torch.nn.functional.one_hot(z, 3).to(D64), reg_covar=0.0)
    for k in range(3):
        xk = x[z == k]
        torch.testing.assert_close(mu[k], xk.mean(0))
        torch.testing.assert_close(cov[k], torch.cov(xk.T, correction=0))
    torch.testing.assert_close(lw.exp(), torch.full((3,), 1 / 3, dtype=D64))


def test_em_is_monotone_and_responsibilities_sum_to_one():
    x = _data(4)
    p = init_gmm(x, 3, "full", torch.Generator().manual_seed(0))
    prev = -math.inf
    for _ in range(15):
        *p, ll = gmm_em_step(x, *p, "full", 0.0)
        assert ll.item() >= prev - 1e-10
        prev = ll.item()
    torch.testing.assert_close(responsibilities(x, *p).sum(-1), torch.ones(200, dtype=D64))


def test_sampling_moments_and_reproducibility():
    g = GaussianMixture(torch.log(torch.tensor([0.3, 0.7], dtype=D64)),
                        torch.tensor([[0.0, 0.0], [3.0, -1.0]], dtype=D64),
                        torch.tensor([[1.0, 2.0], [0.5, 0.5]], dtype=D64), "diag")
    x, z = g.sample(40000, torch.Generator().manual_seed(0))
    x2, _ = sample_gmm(40000, *g.params, "diag", torch.Generator().manual_seed(0))
    assert torch.equal(x, x2)
    assert abs((z == 1).double().mean().item() - 0.7) < 0.01
    torch.testing.assert_close(x[z == 1].var(0), torch.tensor([0.5, 0.5], dtype=D64),
                               atol=0.03, rtol=0)
    torch.testing.assert_close(x.mean(0), torch.tensor([2.1, -0.7], dtype=D64), atol=0.03,
                               rtol=0)


def test_gradients_flow_through_the_log_likelihood():
    x = _data(5, n=10)
    lw, mu, cov = _start(x, "diag")
    mu = mu.clone().requires_grad_()
    assert torch.autograd.gradcheck(
        lambda m: gmm_log_likelihood(x, lw, m, cov, "diag"), (mu,))


def test_log_einsum_exp_equals_brute_force_and_survives_large_values():
    g = torch.Generator().manual_seed(0)
    l, r = torch.randn(2, 3, 2, 4, generator=g, dtype=D64) * 500
    lw = torch.randn(3, 5, 4, 4, generator=g, dtype=D64)
    brute = torch.logsumexp(lw[:, None] + l[:, :, None, :, None] + r[:, :, None, None, :],
                            (-2, -1))
    torch.testing.assert_close(log_einsum_exp(l, r, lw), brute, rtol=1e-12, atol=1e-8)


@pytest.mark.parametrize("n", [2, 5, 9])
def test_region_tree_is_a_decomposable_binary_tree(n):
    rt = random_region_tree(n, torch.Generator().manual_seed(n))
    assert len(rt.scopes) == 2 * n - 1 and rt.scopes[-1] == tuple(range(n))
    region = n
    for L in rt.layers:
        for a, b in L.tolist():
            assert a < region and b < region                       # children come first
            assert sorted(rt.scopes[a] + rt.scopes[b]) == list(rt.scopes[region])
            region += 1


def test_all_binary_states():
    s = all_binary_states(3)
    assert s.tolist()[:3] == [[0, 0, 0], [0, 0, 1], [0, 1, 0]] and len(set(map(tuple,
                                                                         s.tolist()))) == 8


@pytest.mark.parametrize("seed", [0, 1])
def test_circuit_is_normalised_and_marginals_are_exact(seed):
    g = torch.Generator().manual_seed(seed)
    pc = EinsumCircuit(8, num_units=3, generator=g)
    for mask in (torch.rand(8, generator=g) < 0.5, torch.zeros(8, dtype=torch.bool)):
        total, err = check_circuit(pc, mask)
        assert abs(total - 1) < 1e-12 and err < 1e-12
    x = all_binary_states(8)[:5]
    assert torch.allclose(pc(x, torch.zeros(8, dtype=torch.bool)), torch.zeros(5, dtype=D64))


def test_categorical_circuit_sums_to_one_over_all_states():
    pc = EinsumCircuit(4, num_units=2, num_states=3, generator=torch.Generator().manual_seed(0))
    X = torch.cartesian_prod(*[torch.arange(3)] * 4)
    assert abs(pc(X).exp().sum().item() - 1) < 1e-12


def test_conditional_equals_enumeration():
    pc = EinsumCircuit(6, num_units=3, generator=torch.Generator().manual_seed(1))
    X = all_binary_states(6)
    joint = pc(X).exp()
    q, e = torch.tensor([1, 1, 0, 0, 0, 0]).bool(), torch.tensor([0, 0, 0, 1, 1, 0]).bool()
    x = X[37:38]
    agree_qe = ((X[:, q | e] == x[:, q | e]).all(1))
    agree_e = ((X[:, e] == x[:, e]).all(1))
    ref = joint[agree_qe].sum() / joint[agree_e].sum()
    assert abs(pc.log_conditional(x, q, e).exp().item() - ref.item()) < 1e-12


def test_flows_are_the_closed_form_posterior_of_a_latent_class_model():
    g = torch.Generator().manual_seed(2)
    pc = EinsumCircuit(2, num_units=3, generator=g)
    X = torch.randint(0, 2, (30, 2), generator=g)
    lc, sc, _ = circuit_flows(pc, X)
    W = pc.log_weights()[0][0, 0].exp()
    P = torch.softmax(pc.leaf_logits, -1)
    a, b = pc.tree.layers[0][0].tolist()
    post = W * P[a, :, X[:, a]].T[:, :, None] * P[b, :, X[:, b]].T[:, None, :]
    post = post / post.sum((1, 2), keepdim=True)
    torch.testing.assert_close(sc[0][0, 0], post.sum(0), atol=1e-12, rtol=0)
    # the leaf statistics of the right variable: posterior of j times the observed state
    stat = torch.einsum("bj,bc->jc", post.sum(1),
                        torch.nn.functional.one_hot(X[:, b], 2).to(D64))
    torch.testing.assert_close(lc[b], stat, atol=1e-12, rtol=0)


def test_circuit_em_is_monotone_and_fits_a_teacher():
    g = torch.Generator().manual_seed(3)
    teacher = EinsumCircuit(8, num_units=3, generator=g)
    x = teacher.sample(1500, g)
    student = EinsumCircuit(8, num_units=3, generator=g)
    lls = [circuit_em_step(student, x).item() for _ in range(20)]
    assert all(b >= a - 1e-10 for a, b in zip(lls, lls[1:]))
    assert student(x).mean() > teacher(x).mean() - 0.05
    total, err = check_circuit(student, torch.arange(8) < 4)
    assert abs(total - 1) < 1e-10 and err < 1e-12


def test_circuit_em_with_missing_values_ignores_them():
    g = torch.Generator().manual_seed(4)
    pc = EinsumCircuit(5, num_units=2, generator=g)
    x = torch.randint(0, 2, (40, 5), generator=g)
    mask = torch.rand(40, 5, generator=g) < 0.7
    x_garbage = torch.where(mask, x, 1 - x)               # unobserved entries flipped
    a = EinsumCircuit(5, num_units=2, generator=torch.Generator().manual_seed(4))
    b = EinsumCircuit(5, num_units=2, generator=torch.Generator().manual_seed(4))
    circuit_em_step(a, x, mask)
    circuit_em_step(b, x_garbage, mask)
    torch.testing.assert_close(a.leaf_logits, b.leaf_logits)


def test_ancestral_samples_follow_the_circuit():
    g = torch.Generator().manual_seed(5)
    pc = EinsumCircuit(4, num_units=3, generator=g)
    S = pc.sample(40000, g)
    emp = torch.bincount((S * torch.tensor([8, 4, 2, 1])).sum(1), minlength=16) / 40000
    p = pc(all_binary_states(4)).exp()
    assert (emp - p).abs().max() < 0.01
