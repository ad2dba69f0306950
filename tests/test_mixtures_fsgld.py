"""The samplers, conducive gradients, Laplace fits, exact posterior and Gaussian W2 of
the chapter *Federated stochastic gradient Langevin dynamics*
(`papers_lib.mixtures.fsgld`)."""
import numpy as np
import scipy.linalg
import torch
from sklearn.linear_model import LogisticRegression, Ridge

from papers_lib.mixtures.fsgld import (
    conducive_gradient, federated_sgld, gaussian_posterior, gaussian_w2, laplace_fit,
    linear_regression_grad, linear_regression_log_lik, non_iid_regression)

F64 = torch.float64
torch.set_num_threads(1)


def _data(S=4, n=30, d=2, seed=0):
    return non_iid_regression(S, n, d, 1.0, 2.0, 0.3, torch.Generator().manual_seed(seed))


def _approx(X, y, sizes):
    fits, start = [], 0
    for n_s in sizes.tolist():
        Xs, ys = X[start:start + n_s], y[start:start + n_s]
        fits.append(laplace_fit(lambda t: linear_regression_log_lik(t, Xs, ys),
                                torch.zeros(X.shape[1], dtype=F64)))
        start += n_s
    return torch.stack([f[0] for f in fits]), torch.stack([f[1] for f in fits])


def test_log_lik_and_grad_against_torch():
    X, y, _, _ = _data()
    th = torch.randn(3, 2, dtype=F64, generator=torch.Generator().manual_seed(1))
    ref = torch.stack([torch.distributions.Normal(X @ t, 0.7 ** 0.5).log_prob(y).sum()
                       for t in th])
    assert torch.allclose(linear_regression_log_lik(th, X, y, 0.7), ref)
    t = th.clone().requires_grad_(True)
    auto = torch.autograd.grad(linear_regression_log_lik(t, X, y, 0.7).sum(), t)[0]
    assert torch.allclose(linear_regression_grad(th, X, y, 0.7), auto)


def test_posterior_is_ridge_and_inverse_hessian():
    X, y, _, _ = _data(d=3)
    m, S = gaussian_posterior(X, y, 0.5, 2.0)
    ridge = Ridge(alpha=0.5 / 2.0, fit_intercept=False).fit(X.numpy(), y.numpy())
    assert np.allclose(m.numpy(), ridge.coef_)
    lj = lambda t: linear_regression_log_lik(t, X, y, 0.5) - (t * t).sum() / 4.0
    H = torch.autograd.functional.hessian(lj, m)
    assert torch.allclose(torch.linalg.inv(-H), S)
    g = torch.autograd.functional.jacobian(lj, m)
    assert g.abs().max() < 1e-8


def test_laplace_exact_for_linear_and_matches_sklearn_for_logistic():
    X, y, _, _ = _data()
    m, P = laplace_fit(lambda t: linear_regression_log_lik(t, X, y),
                       torch.zeros(2, dtype=F64), steps=1)
    assert torch.allclose(P, X.T @ X)
    assert torch.allclose(m, torch.linalg.lstsq(X, y[:, None]).solution[:, 0])
    gen = torch.Generator().manual_seed(3)
    yl = (torch.rand(len(y), generator=gen, dtype=F64) < torch.sigmoid(X[:, :1].sum(1))
          ).double()
    lp = lambda t: (yl * (X @ t) - torch.nn.functional.softplus(X @ t)).sum() \
        - (t * t).sum() / (2 * 0.5)
    ml, Pl = laplace_fit(lp, torch.zeros(2, dtype=F64))
    sk = LogisticRegression(C=0.5, fit_intercept=False, tol=1e-12).fit(X.numpy(),
                                                                      yl.numpy())
    assert np.allclose(ml.numpy(), sk.coef_[0], atol=1e-4)
    p = torch.sigmoid(X @ ml)
    want = X.T @ (X * (p * (1 - p))[:, None]) + torch.eye(2) / 0.5
    assert torch.allclose(Pl, want)


def test_conducive_gradient_zero_mean_and_autograd():
    X, y, sizes, _ = _data(S=4, d=3)
    means, precs = _approx(X, y, sizes)
    f = torch.tensor([0.1, 0.2, 0.3, 0.4], dtype=F64)
    th = torch.randn(6, 3, dtype=F64, generator=torch.Generator().manual_seed(2))
    allc = torch.stack([conducive_gradient(th, torch.full((6,), s), means, precs, f)
                        for s in range(4)])
    assert torch.allclose((f[:, None, None] * allc).sum(0), torch.zeros(6, 3, dtype=F64),
                          atol=1e-8)
    q = torch.distributions.MultivariateNormal(means, precision_matrix=precs)
    for s in range(4):
        t = th[s].clone().requires_grad_(True)
        lq = q.log_prob(t).sum() - q.log_prob(t)[s] / f[s]
        auto = torch.autograd.grad(lq, t)[0]
        got = conducive_gradient(th[s:s + 1], torch.tensor([s]), means, precs, f)[0]
        assert torch.allclose(got, auto)


def test_w2_against_scipy_and_one_dimension():
    gen = torch.Generator().manual_seed(5)
    A, B = (torch.randn(4, 4, dtype=F64, generator=gen) for _ in range(2))
    Ca, Cb = A @ A.T + 0.1 * torch.eye(4), B @ B.T + 0.1 * torch.eye(4)
    ma, mb = torch.randn(4, dtype=F64, generator=gen), torch.randn(4, dtype=F64,
                                                                   generator=gen)
    ra = scipy.linalg.sqrtm(Ca.numpy())
    ref = ((ma - mb) ** 2).sum().item() + np.trace(
        Ca.numpy() + Cb.numpy() - 2 * scipy.linalg.sqrtm(ra @ Cb.numpy() @ ra)).real
    assert abs(gaussian_w2(ma, Ca, mb, Cb).item() ** 2 - ref) < 1e-8
    # symmetric, batched
    both = gaussian_w2(torch.stack([ma, mb]), torch.stack([Ca, Cb]), mb, Cb)
    assert abs(both[0] - gaussian_w2(mb, Cb, ma, Ca)) < 1e-8 and both[1] < 1e-6
    w = gaussian_w2(torch.tensor([1.0]), torch.tensor([[9.0]]), torch.tensor([-1.0]),
                    torch.tensor([[1.0]]))
    assert abs(w.item() - (4 + 4) ** 0.5) < 1e-6


def test_sgld_samples_the_posterior_on_one_client():
    X, y, s, _ = non_iid_regression(1, 40, 2, 1.0, 1.0, 1.0,
                                    torch.Generator().manual_seed(7))
    m, S = gaussian_posterior(X, y)
    run = lambda seed: federated_sgld(torch.zeros(200, 2, dtype=F64), X, y, s,
                                      linear_regression_grad, 1.0, 2e-3, 200, 1, 40,
                                      generator=torch.Generator().manual_seed(seed))
    out = run(0)
    assert torch.equal(out, run(0)) and not torch.equal(out, run(1))
    smp = out[:, 100:].reshape(-1, 2)
    assert gaussian_w2(smp.mean(0), smp.T.cov(), m, S) / S.trace().sqrt() < 0.15


def test_fsgld_keeps_the_posterior_under_delay_and_dsgld_does_not():
    X, y, sizes, _ = _data(S=4, n=40)
    m, S = gaussian_posterior(X, y)
    approx = _approx(X, y, sizes)
    C = 32
    correct = torch.cat([torch.zeros(C), torch.ones(C)])
    out = federated_sgld(m.expand(2 * C, 2).clone(), X, y, sizes,
                         linear_regression_grad, 1.0, 3e-4, 600, 300, 40, approx,
                         correct, torch.Generator().manual_seed(0))
    smp = out[:, 100:].reshape(2, -1, 2)
    mu = smp.mean(1)
    cov = torch.stack([x.T.cov() for x in smp])
    err = gaussian_w2(mu, cov, m, S) / S.trace().sqrt()
    assert err[1] < 0.3 and err[0] > 1.0, err
    # correct = 0 is DSGLD draw for draw
    a = federated_sgld(torch.zeros(3, 2, dtype=F64), X, y, sizes, linear_regression_grad,
                       1.0, 1e-5, 20, 3, 5, generator=torch.Generator().manual_seed(1))
    b = federated_sgld(torch.zeros(3, 2, dtype=F64), X, y, sizes, linear_regression_grad,
                       1.0, 1e-5, 20, 3, 5, approx, torch.zeros(3),
                       torch.Generator().manual_seed(1))
    assert torch.equal(a, b)


def test_unequal_shards_and_per_chain_delays_stay_on_their_client():
    X, y, _, _ = _data(S=3, n=20)
    sizes = torch.tensor([10, 20, 30])
    seen = []

    def spy(theta, Xb, yb):
        seen.append(Xb.clone())
        return linear_regression_grad(theta, Xb, yb)

    T = torch.tensor([1, 5, 100])
    federated_sgld(torch.zeros(3, 2, dtype=F64), X, y, sizes, spy, 1.0, 1e-5, 10, T, 4,
                   generator=torch.Generator().manual_seed(0))
    rows = {tuple(r.tolist()): i for i, r in enumerate(X)}
    client = lambda xb: {0 if rows[tuple(r.tolist())] < 10 else
                         1 if rows[tuple(r.tolist())] < 30 else 2 for r in xb}
    per = [[client(b[c]) for b in seen] for c in range(3)]
    assert all(len(c) == 1 for chain in per for c in chain)   # one client per minibatch
    assert len(set().union(*per[2])) == 1                      # T = 100: no move in 10
    for k in range(0, 10, 5):                                  # T = 5: fixed per round
        assert len(set().union(*per[1][k:k + 5])) == 1
