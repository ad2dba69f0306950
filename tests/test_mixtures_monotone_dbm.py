"""The proximal softmax, hollow monotone weights, mean-field solvers, exact marginals and
model of the chapter *Monotone deep Boltzmann machines: mean field with a unique fixed
point* (`papers_lib.mixtures.monotone_dbm`)."""
import numpy as np
import scipy.optimize
import torch

from papers_lib.mixtures.monotone_dbm import (
    MonotoneDBM, bar_patterns, exact_marginals, fb_mean_field, hollow_monotone_weights,
    mean_field_free_energy, pr_mean_field, prox_softmax, train_monotone_dbm)

D = torch.float64
SIZES = [(4, 2), (1, 3)]


def _model(seed=0, scale=2.0, m=0.2):
    g = torch.Generator().manual_seed(seed)
    A = torch.randn(11, 11, generator=g, dtype=D) * scale
    return hollow_monotone_weights(A, SIZES, m), torch.randn(11, generator=g, dtype=D)


def test_prox_is_softmax_at_one_and_matches_scipy():
    g = torch.Generator().manual_seed(0)
    y = torch.randn(6, 4, generator=g, dtype=D) * 3
    assert torch.allclose(prox_softmax(y, 1.0), torch.softmax(y, -1))
    a = 0.4
    for row in y:
        yr = row.numpy()
        obj = lambda v: 0.5 * ((v - yr) ** 2).sum() + a * ((v * np.log(v)).sum()
                                                           - 0.5 * (v ** 2).sum())
        sol = scipy.optimize.minimize(
            obj, np.full(4, 0.25), method="SLSQP", bounds=[(1e-12, 1)] * 4,
            constraints=[{"type": "eq", "fun": lambda v: v.sum() - 1}],
            options={"ftol": 1e-15, "maxiter": 1000})
        z = prox_softmax(row, a).numpy()
        assert obj(z) <= sol.fun + 1e-8
        assert np.abs(z - sol.x).max() < 1e-4


def test_prox_gradcheck():
    y = torch.randn(3, 4, dtype=D, generator=torch.Generator().manual_seed(1),
                    requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: prox_softmax(t, 0.3), (y,), atol=1e-6)


def test_weights_are_symmetric_hollow_and_monotone():
    for s in range(3):
        W, _ = _model(s, scale=3.0, m=0.3)
        assert torch.equal(W, W.T)
        assert W[:2, :2].abs().max() == 0 and W[8:, 8:].abs().max() == 0
        assert torch.linalg.eigvalsh(torch.eye(11, dtype=D) - W).min() >= 0.3 - 1e-10


def test_exact_marginals_against_brute_force_loop():
    W, b = _model(1)
    p, logZ = exact_marginals(W, b, SIZES)
    # an independent loop over all 2^4 * 3 states
    tot, acc = [], torch.zeros(11, dtype=D)
    for bits in range(16):
        for c in range(3):
            x = torch.zeros(11, dtype=D)
            for i in range(4):
                x[2 * i + ((bits >> i) & 1)] = 1
            x[8 + c] = 1
            w = torch.exp(0.5 * x @ W @ x + b @ x)
            tot.append(w)
            acc += w * x
    Z = torch.stack(tot).sum()
    assert torch.allclose(p, acc / Z) and torch.allclose(logZ, Z.log())


def test_solvers_agree_and_minimise_the_free_energy():
    W, b = _model(2)
    L = torch.linalg.eigvalsh(torch.eye(11, dtype=D) - W).max().item()
    q1, r1 = fb_mean_field(W, b, SIZES, min(1.0, 1 / L), 3000, tol=1e-13)
    q2, r2 = pr_mean_field(W, b, SIZES, 1.0, 1000, tol=1e-13)
    assert r1[-1] < 1e-13 and r2[-1] < 1e-13
    assert (q1 - q2).abs().max() < 1e-9
    _, logZ = exact_marginals(W, b, SIZES)
    F = mean_field_free_energy(q1, W, b)
    assert F >= -logZ - 1e-12                      # KL(q || p) >= 0
    g = torch.Generator().manual_seed(5)
    for _ in range(20):                            # the minimiser beats random points
        z = torch.rand(11, generator=g, dtype=D)
        z = torch.cat([(z[:8].reshape(4, 2) / z[:8].reshape(4, 2).sum(-1, keepdim=True))
                       .reshape(-1), z[8:] / z[8:].sum()])
        assert mean_field_free_energy(z, W, b) >= F - 1e-12


def test_clamping_matches_conditional_model():
    W, b = _model(3)
    obs = torch.zeros(11, dtype=torch.bool)
    obs[:2] = True
    val = torch.zeros(11, dtype=D)
    val[1] = 1.0
    q, _ = pr_mean_field(W, b, SIZES, 1.0, 1000, obs, val, tol=1e-13)
    assert torch.equal(q[:2], val[:2])
    # the same fixed point from forward-backward
    q2, _ = fb_mean_field(W, b, SIZES, 0.2, 4000, obs, val, tol=1e-13)
    assert (q - q2).abs().max() < 1e-8


def test_naive_mean_field_oscillates_on_a_frustrated_pair():
    # two binary units with a strong antiferromagnetic coupling, parallel updates
    W = torch.zeros(4, 4, dtype=D)
    W[1, 3] = W[3, 1] = -8.0
    b = torch.tensor([0.0, 6.0, 0.0, 6.0], dtype=D)
    _, r = fb_mean_field(W, b, [(2, 2)], 1.0, 50)
    assert r[-1] > 0.5


def test_bar_patterns_and_model_fixed_point():
    g = torch.Generator().manual_seed(0)
    X, Y = bar_patterns(40, generator=g, flip=0.0)
    assert ((X.reshape(-1, 5, 5).sum((1, 2))) == 5).all()
    assert torch.equal(bar_patterns(3, generator=torch.Generator().manual_seed(1))[0],
                       bar_patterns(3, generator=torch.Generator().manual_seed(1))[0])
    X = X.to(D)
    torch.set_default_dtype(D)
    try:
        model = MonotoneDBM(25, 3, 4, init_scale=0.3, generator=g)
        seen = torch.rand(40, 25, generator=g) < 0.5
        obs, val = model.observe(seen), model.encode(X, Y)
        q = model(val, obs, tol=1e-12, iters=1000)
        with torch.no_grad():
            W = model.weights()
            qd = q.detach()
            f = qd @ W + model.b
            step = torch.cat([prox_softmax(f[:, :56].reshape(40, 28, 2)).reshape(40, 56),
                              prox_softmax(f[:, 56:])], -1)
            step = torch.where(obs, val, step)
        assert (step - qd).abs().max() < 1e-9
        # the model's output is a clamped mean-field fixed point
        assert torch.equal(q[obs], val[obs])
        assert torch.allclose(q[:, -4:].sum(-1), torch.ones(40, dtype=D))
        q.sum().backward()
        assert torch.isfinite(model.A.grad).all() and model.A.grad.abs().sum() > 0
        A0 = model.A.detach().clone()
        losses = train_monotone_dbm(model, X, Y, steps=3, batch=8, generator=g)
    finally:
        torch.set_default_dtype(torch.float32)
    assert len(losses) == 3 and all(torch.isfinite(torch.tensor(losses)))
    assert not torch.equal(A0, model.A.detach())
