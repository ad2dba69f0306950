"""Tests of papers_lib.optim.implicit (chapter nbs/optimizers/11_implicit.ipynb)."""
import math
import warnings

import pytest
import torch
from torch.func import functional_call, hessian, jacrev

from papers_lib.optim.implicit import (cg_ihvp, dense_matrix, exact_ihvp, gd_steps,
                                 hessian_operator, hvp, hypergradient, mixed_jvp,
                                 mixed_vjp, neumann_ihvp, top_eigenvalue, tree_dot,
                                 unrolled_hypergradient)

F64 = torch.float64
_g = torch.Generator().manual_seed(0)
N, D, M = 40, 8, 30
X = torch.randn(N, D, generator=_g, dtype=F64)
Y = X @ torch.randn(D, generator=_g, dtype=F64)
Y = Y + 0.5 * torch.randn(N, generator=_g, dtype=F64)
XV = torch.randn(M, D, generator=_g, dtype=F64)
YV = XV @ torch.randn(D, generator=_g, dtype=F64)
LAM = torch.linspace(-2.0, 0.5, D, dtype=F64)  # log weight decay per weight


def train_loss(w, lam):
    """Ridge with one log weight decay per weight (lam of shape (D,) or (1,))."""
    return ((X @ w - Y) ** 2).mean() / 2 + (lam.exp() * w**2).sum() / 2


def val_loss(w, lam):
    return ((XV @ w - YV) ** 2).mean() / 2


def w_star(lam):
    dec = lam.exp() * torch.ones(D, dtype=F64)
    return torch.linalg.solve(X.T @ X / N + torch.diag(dec), X.T @ Y / N)


def closed_form(lam):
    """-e^lam * w* * (A + D)^{-1} grad L_V(w*), summed over the weights for a shared
    decay."""
    dec = lam.exp() * torch.ones(D, dtype=F64)
    w = w_star(lam)
    q = torch.linalg.solve(X.T @ X / N + torch.diag(dec), XV.T @ (XV @ w - YV) / M)
    per_weight = -dec * w * q
    return per_weight if lam.numel() == D else per_weight.sum().reshape(1)


def mu_max(lam):
    A = X.T @ X / N + torch.diag(lam.exp() * torch.ones(D, dtype=F64))
    return torch.linalg.eigvalsh(A).max().item()


# ---------------------------------------------------------------- closed form of ridge
@pytest.mark.parametrize("lam", [LAM, torch.tensor([-1.0], dtype=F64)],
                         ids=["per-weight", "shared"])
def test_closed_form_matches_autograd_through_the_solve(lam):
    ref = torch.func.grad(lambda l: val_loss(w_star(l), l))(lam)
    torch.testing.assert_close(closed_form(lam), ref, rtol=0, atol=1e-14)


@pytest.mark.parametrize("method,kw", [("exact", {}), ("cg", dict(iters=100)),
                                       ("cg", dict(iters=100, tol=1e-14))])
def test_ift_matches_closed_form(method, kw):
    hg = hypergradient(val_loss, train_loss, w_star(LAM), LAM, method, **kw)
    torch.testing.assert_close(hg, closed_form(LAM), rtol=0, atol=1e-14)
    assert hg.abs().max() > 1e-3  # not trivially zero


def test_shared_decay_is_the_sum_of_per_weight_hypergradients():
    lam1 = torch.tensor([-1.0], dtype=F64)

    def inner(w, lam):
        return train_loss(w, lam.expand(D))

    hg = hypergradient(val_loss, inner, w_star(lam1), lam1, "exact")
    torch.testing.assert_close(hg, closed_form(lam1), rtol=0, atol=1e-14)


def test_neumann_converges_to_closed_form():
    ref = closed_form(LAM)
    alpha = 1 / mu_max(LAM)
    w = w_star(LAM)
    terms = (1, 10, 30, 300)
    errs = [(hypergradient(val_loss, train_loss, w, LAM, "neumann", alpha=alpha,
                           terms=K) - ref).abs().max().item() for K in terms]
    assert errs[0] > 1e-3 and all(b < a for a, b in zip(errs, errs[1:]))
    assert errs[-1] < 1e-13


def test_neumann_one_term_is_alpha_times_identity():
    v = torch.randn(D, generator=_g, dtype=F64)
    out = neumann_ihvp(lambda x: 7.0 * x, v, alpha=0.3, terms=1)
    torch.testing.assert_close(out, 0.3 * v, rtol=0, atol=0)


def test_neumann_matches_partial_sums_of_the_series():
    g = torch.Generator().manual_seed(3)
    Q, _ = torch.linalg.qr(torch.randn(6, 6, generator=g, dtype=F64))
    A = Q @ torch.diag(torch.linspace(0.2, 1.5, 6, dtype=F64)) @ Q.T
    v = torch.randn(6, generator=g, dtype=F64)
    alpha, K = 0.5, 7
    B = torch.eye(6, dtype=F64) - alpha * A
    ref = alpha * sum(torch.linalg.matrix_power(B, j) @ v for j in range(K))
    out = neumann_ihvp(lambda x: A @ x, v, alpha=alpha, terms=K)
    torch.testing.assert_close(out, ref, rtol=0, atol=1e-14)


def test_unrolled_converges_to_closed_form():
    alpha = 1 / mu_max(LAM)
    ref = closed_form(LAM)
    w0 = torch.zeros(D, dtype=F64)
    errs = [(unrolled_hypergradient(val_loss, train_loss, w0, LAM, steps=K, lr=alpha)
             - ref).abs().max().item() for K in (5, 20, 300)]
    assert errs[0] > 1e-3 and errs[1] < errs[0] and errs[-1] < 1e-12


@pytest.mark.parametrize("K", [1, 4, 25])
def test_unrolled_from_the_optimum_equals_neumann(K):
    """The paper's Theorem 2: K steps unrolled from w* = K Neumann terms."""
    alpha = 0.8 / mu_max(LAM)
    w = w_star(LAM)
    a = unrolled_hypergradient(val_loss, train_loss, w, LAM, steps=K, lr=alpha)
    b = hypergradient(val_loss, train_loss, w, LAM, "neumann", alpha=alpha, terms=K)
    torch.testing.assert_close(a, b, rtol=0, atol=1e-15)


def test_unrolled_matches_manual_double_backward():
    """Against plain autograd: K explicit gradient steps with create_graph=True."""
    lam = LAM.clone().requires_grad_()
    w = torch.zeros(D, dtype=F64, requires_grad=True)
    cur = w
    for _ in range(7):
        (g,) = torch.autograd.grad(train_loss(cur, lam), cur, create_graph=True)
        cur = cur - 0.2 * g
    (ref,) = torch.autograd.grad(val_loss(cur, lam), lam)
    out = unrolled_hypergradient(val_loss, train_loss, torch.zeros(D, dtype=F64), LAM,
                                 steps=7, lr=0.2)
    torch.testing.assert_close(out, ref, rtol=0, atol=1e-15)


def test_gd_steps_reaches_the_minimum():
    w0 = torch.zeros(D, dtype=F64)
    w = gd_steps(train_loss, w0, LAM, steps=300, lr=1 / mu_max(LAM))
    torch.testing.assert_close(w, w_star(LAM), rtol=0, atol=1e-12)
    assert gd_steps(train_loss, w, LAM, steps=0, lr=0.1) is w


# ---------------------------------------------------------- second-derivative products
def _f(w, lam):
    return (torch.sin(w["a"]) * lam[:3]).sum() + (w["b"] ** 3).sum() * lam[3] + (
        w["a"].sum() * w["b"].sum()) ** 2 * lam.exp().sum()


def _tree(g):
    return {"a": torch.randn(3, generator=g, dtype=F64),
            "b": torch.randn(2, 2, generator=g, dtype=F64)}


def _flat(t):
    return torch.cat([t["a"], t["b"].reshape(-1)])


def test_second_derivative_products_match_dense_matrices():
    g = torch.Generator().manual_seed(5)
    w, v = _tree(g), _tree(g)
    lam = torch.randn(4, generator=g, dtype=F64)
    u = torch.randn(4, generator=g, dtype=F64)

    def flat_f(x, lam_):
        return _f({"a": x[:3], "b": x[3:].reshape(2, 2)}, lam_)

    x = _flat(w)
    H = hessian(flat_f)(x, lam)
    J = jacrev(jacrev(flat_f, argnums=0), argnums=1)(x, lam)
    close = dict(rtol=0, atol=1e-12)
    torch.testing.assert_close(_flat(hvp(_f, w, lam, v)), H @ _flat(v), **close)
    torch.testing.assert_close(mixed_vjp(_f, w, lam, v), J.T @ _flat(v), **close)
    torch.testing.assert_close(_flat(mixed_jvp(_f, w, lam, u)), J @ u, **close)
    dense = dense_matrix(hessian_operator(_f, w, lam), w)
    torch.testing.assert_close(dense, H, **close)


def test_hessian_operator_is_reusable():
    g = torch.Generator().manual_seed(6)
    w, v1, v2 = _tree(g), _tree(g), _tree(g)
    lam = torch.randn(4, generator=g, dtype=F64)
    op = hessian_operator(_f, w, lam)
    first = op(v1)
    op(v2)
    again = op(v1)
    for k in first:
        assert torch.equal(first[k], again[k])
    # linearity, and symmetry <H v1, v2> = <v1, H v2>
    torch.testing.assert_close(tree_dot(op(v1), v2), tree_dot(v1, op(v2)), rtol=1e-12,
                               atol=0)


# ------------------------------------------------------------ solvers and trees
def test_cg_exact_and_neumann_on_trees_agree():
    g = torch.Generator().manual_seed(7)
    Q, _ = torch.linalg.qr(torch.randn(7, 7, generator=g, dtype=F64))
    A = Q @ torch.diag(torch.linspace(0.5, 2.0, 7, dtype=F64)) @ Q.T

    def op(t):
        y = A @ _flat(t)
        return {"a": y[:3], "b": y[3:].reshape(2, 2)}

    v = _tree(g)
    ref = torch.linalg.solve(A, _flat(v))
    for out in (cg_ihvp(op, v, iters=20, tol=0.0), exact_ihvp(op, v),
                neumann_ihvp(op, v, alpha=0.5, terms=400)):
        assert set(out) == {"a", "b"} and out["b"].shape == (2, 2)
        torch.testing.assert_close(_flat(out), ref, rtol=0, atol=1e-12)
    damped = cg_ihvp(op, v, iters=30, damping=0.5)
    torch.testing.assert_close(_flat(damped),
                               torch.linalg.solve(A + 0.5 * torch.eye(7, dtype=F64),
                                                  _flat(v)), rtol=0, atol=1e-9)


def test_top_eigenvalue():
    A = torch.diag(torch.tensor([0.5, 3.0, 1.0, 2.0], dtype=F64))
    mu = top_eigenvalue(lambda x: A @ x, torch.zeros(4, dtype=F64), iters=200,
                        generator=torch.Generator().manual_seed(0))
    assert abs(mu - 3.0) < 1e-9


def test_hypergradient_on_a_module_with_dict_hyperparameters():
    """Logistic regression as an nn.Module: dict weights and dict log decays."""
    torch.manual_seed(0)
    net = torch.nn.Linear(5, 3).double()
    g = torch.Generator().manual_seed(8)
    xs = torch.randn(60, 5, generator=g, dtype=F64)
    ys = torch.randint(3, (60,), generator=g)
    xv = torch.randn(40, 5, generator=g, dtype=F64)
    yv = torch.randint(3, (40,), generator=g)
    lam = {k: torch.full_like(p, -2.0) for k, p in net.named_parameters()}

    def inner(p, l):
        ce = torch.nn.functional.cross_entropy(functional_call(net, p, (xs,)), ys)
        return ce + sum((l[k].exp() * p[k] ** 2).sum() for k in p) / 2

    def outer(p, l):
        return torch.nn.functional.cross_entropy(functional_call(net, p, (xv,)), yv)

    def solve(l):
        """The inner minimum by L-BFGS (plain autograd)."""
        q = {k: v.detach().clone().requires_grad_() for k, v in net.named_parameters()}
        opt = torch.optim.LBFGS(list(q.values()), max_iter=500, tolerance_grad=1e-13,
                                tolerance_change=0, line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            loss = inner(q, l)
            loss.backward()
            return loss
        opt.step(closure)
        return {k: v.detach() for k, v in q.items()}

    p = solve(lam)
    exact = hypergradient(outer, inner, p, lam, "exact")
    cg = hypergradient(outer, inner, p, lam, "cg", iters=100)
    neu = hypergradient(outer, inner, p, lam, "neumann", alpha=1.0, terms=300)
    for out in (cg, neu):
        assert {k: v.shape for k, v in out.items()} == {k: v.shape
                                                        for k, v in lam.items()}
        for k in out:
            torch.testing.assert_close(out[k], exact[k], rtol=0, atol=1e-10)
    # a finite-difference check of the exact hypergradient along one coordinate
    eps = 1e-5

    def val_at(l):
        return outer(solve(l), l).item()

    plus = {k: v.clone() for k, v in lam.items()}
    minus = {k: v.clone() for k, v in lam.items()}
    plus["weight"][1, 2] += eps
    minus["weight"][1, 2] -= eps
    fd = (val_at(plus) - val_at(minus)) / (2 * eps)
    assert abs(fd - exact["weight"][1, 2].item()) < 1e-6 * max(1.0, abs(fd))


def test_custom_solver_callable_and_direct_term():
    calls = []

    def solver(H, v):
        calls.append(1)
        return exact_ihvp(H, v)

    def outer(w, lam):  # depends on lam directly too
        return val_loss(w, lam) + (lam**2).sum()

    hg = hypergradient(outer, train_loss, w_star(LAM), LAM, solver)
    torch.testing.assert_close(hg, closed_form(LAM) + 2 * LAM, rtol=0, atol=1e-14)
    assert calls == [1]


def test_results_are_detached():
    lam = LAM.clone().requires_grad_()
    w = w_star(LAM).requires_grad_()
    hg = hypergradient(val_loss, train_loss, w, lam, "cg")
    un = unrolled_hypergradient(val_loss, train_loss, w, lam, steps=3, lr=0.1)
    assert not hg.requires_grad and not un.requires_grad


# ------------------------------------------------------------ bad input
def test_neumann_divergence_warns_or_raises():
    A = torch.diag(torch.tensor([0.5, 2.0], dtype=F64))
    v = torch.ones(2, dtype=F64)
    with pytest.warns(RuntimeWarning, match="Neumann series diverges"):
        neumann_ihvp(lambda x: A @ x, v, alpha=1.2, terms=10)   # alpha * 2 > 2
    with pytest.raises(ValueError, match="alpha=1.2 is too large"):
        neumann_ihvp(lambda x: A @ x, v, alpha=1.2, terms=10, on_divergence="raise")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        neumann_ihvp(lambda x: A @ x, v, alpha=1.2, terms=10, on_divergence="ignore")
        neumann_ihvp(lambda x: A @ x, v, alpha=0.9, terms=200)   # converges: silent
    neg = torch.diag(torch.tensor([1.0, -0.1], dtype=F64))       # a saddle
    with pytest.raises(ValueError, match="not positive definite"):
        neumann_ihvp(lambda x: neg @ x, v, alpha=0.5, terms=50, on_divergence="raise")


def test_hypergradient_warns_when_alpha_too_large():
    with pytest.warns(RuntimeWarning, match="diverges"):
        hypergradient(val_loss, train_loss, w_star(LAM), LAM, "neumann",
                      alpha=2.5 / mu_max(LAM), terms=20)


@pytest.mark.parametrize("kw,err,match", [
    (dict(alpha=0.0, terms=3), ValueError, "alpha must be a real number > 0"),
    (dict(alpha=-0.1, terms=3), ValueError, "alpha must be a real number > 0"),
    (dict(alpha=float("nan"), terms=3), ValueError, "alpha must be a real number"),
    (dict(alpha=float("inf"), terms=3), ValueError, "alpha must be a finite real number > 0, got inf"),
    (dict(alpha=0.1, terms=0), ValueError, "terms must be an int >= 1, got 0"),
    (dict(alpha=0.1, terms=2.5), TypeError, "terms must be an int, got 2.5"),
    (dict(alpha=0.1, terms=3, on_divergence="loud"), ValueError,
     "on_divergence must be one of 'warn', 'raise', 'ignore', got 'loud'"),
])
def test_neumann_bad_arguments(kw, err, match):
    with pytest.raises(err, match=match):
        neumann_ihvp(lambda x: x, torch.ones(2), **kw)


@pytest.mark.parametrize("kw,match", [(dict(iters=0), "iters must be an int >= 1"),
                                      (dict(tol=-1.0), "tol must be a real number"),
                                      (dict(damping=-1.0),
                                       "damping must be a real number >= 0")])
def test_cg_bad_arguments(kw, match):
    with pytest.raises(ValueError, match=match):
        cg_ihvp(lambda x: x, torch.ones(2), **kw)


def test_cg_rejects_indefinite_hessian():
    A = torch.diag(torch.tensor([1.0, -1.0], dtype=F64))
    with pytest.raises(ValueError, match="not positive definite"):
        cg_ihvp(lambda x: A @ x, torch.ones(2, dtype=F64))


def test_shape_and_structure_errors():
    w, lam = w_star(LAM), LAM
    with pytest.raises(ValueError, match="structure and shapes of w"):
        hvp(train_loss, w, lam, torch.ones(D + 1, dtype=F64))
    with pytest.raises(ValueError, match="structure and shapes of w"):
        mixed_vjp(train_loss, w, lam, (w, w))
    with pytest.raises(ValueError, match="structure and shapes of lam"):
        mixed_jvp(train_loss, w, lam, torch.ones(3, dtype=F64))
    with pytest.raises(ValueError, match="solver's result"):
        hypergradient(val_loss, train_loss, w, lam, lambda H, v: v[:2])
    with pytest.raises(ValueError, match="0-d tensor"):
        hypergradient(lambda w_, l: (XV @ w_ - YV) ** 2, train_loss, w, lam, "cg")
    with pytest.raises(ValueError, match="0-d tensor"):
        hvp(lambda w_, l: w_ * l, w, lam, w)
    with pytest.raises(ValueError, match="method must be one of"):
        hypergradient(val_loss, train_loss, w, lam, "lbfgs")
    with pytest.raises(TypeError, match="method must be"):
        hypergradient(val_loss, train_loss, w, lam, 3)
    with pytest.raises(TypeError, match="tensor or a tuple/list/dict"):
        hypergradient(val_loss, train_loss, [1.0, 2.0], lam)
    with pytest.raises(TypeError, match="unexpected keyword"):
        hypergradient(val_loss, train_loss, w, lam, "cg", terms=3)
    with pytest.raises(ValueError, match="steps must be an int >= 0, got -1"):
        unrolled_hypergradient(val_loss, train_loss, w, lam, steps=-1, lr=0.1)
    with pytest.raises(ValueError, match="lr must be a real number > 0, got 0.0"):
        gd_steps(train_loss, w, lam, steps=2, lr=0.0)
