"""Tests of papers_lib.analysis (page nbs/theory/00_analysis_toolkit.ipynb): each tool
against an explicit computation on a model small enough to write it down."""
import math

import pytest
import torch
from torch import nn
from torch.func import functional_call

from papers_lib.analysis import (dense_matrix, empirical_ntk, functional_loss,
                                 hessian_operator, hutchinson_trace, interpolate,
                                 jacobian, lanczos, loss_surface, params_of,
                                 random_direction, ravel)

F64 = torch.float64


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def _mlp(sizes=(3, 5, 2), seed=0):
    torch.manual_seed(seed)
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b, dtype=F64), nn.Tanh()]
    return nn.Sequential(*layers[:-1])


def _sym(n, seed=0):
    a = torch.randn(n, n, generator=_gen(seed), dtype=F64)
    return (a + a.T) / 2


# weights, flat vectors and the loss as a function -------------------------------------

def test_ravel_round_trip_and_shape_check():
    p = params_of(_mlp())
    flat, unravel = ravel(p)
    assert flat.shape == (3 * 5 + 5 + 5 * 2 + 2,)
    back = unravel(flat * 2)
    assert list(back) == list(p) and all(torch.equal(back[k], 2 * p[k]) for k in p)
    with pytest.raises(ValueError, match="vector of shape"):
        unravel(flat[:-1])


def test_params_of_copies_and_functional_loss_matches_module():
    m = _mlp()
    p = params_of(m)
    p["0.weight"].add_(1.0)                       # a copy: the model is unchanged
    assert not torch.equal(p["0.weight"], m[0].weight)
    x, y = torch.randn(7, 3, dtype=F64, generator=_gen()), torch.randn(7, 2, dtype=F64)
    L = functional_loss(m, nn.functional.mse_loss, x, y)
    torch.testing.assert_close(L(params_of(m)), nn.functional.mse_loss(m(x), y))
    with pytest.raises(ValueError, match="parameter names"):
        L({"0.weight": p["0.weight"]})
    with pytest.raises(TypeError, match="nn.Module"):
        params_of(lambda x: x)
    with pytest.raises(TypeError, match="loss_fn"):
        functional_loss(m, None, x, y)


# the Hessian ---------------------------------------------------------------------------

def test_hessian_operator_matches_torch_func_hessian():
    m = _mlp()
    x, y = torch.randn(9, 3, dtype=F64, generator=_gen(1)), torch.randn(9, 2, dtype=F64)
    L = functional_loss(m, nn.functional.mse_loss, x, y)
    p = params_of(m)
    flat, unravel = ravel(p)
    H = dense_matrix(hessian_operator(L, p), flat)
    ref = torch.func.hessian(lambda v: L(unravel(v)))(flat)
    torch.testing.assert_close(H, ref, rtol=1e-10, atol=1e-12)


def test_hessian_of_a_quadratic_is_its_matrix():
    A = _sym(6) @ _sym(6).T
    model = nn.Linear(6, 1, bias=False, dtype=F64)

    def L(p):  # 0.5 w^T A w, the model only names the weights
        w = p["weight"].reshape(-1)
        return 0.5 * w @ A @ w
    v = torch.randn(6, dtype=F64, generator=_gen(2))
    Hv = hessian_operator(L, params_of(model))(v)
    torch.testing.assert_close(Hv, A @ v, rtol=1e-12, atol=1e-12)


# eigenvalues and the trace -------------------------------------------------------------

def test_lanczos_matches_eigh_at_both_ends():
    A = _sym(30, seed=3)
    exact = torch.linalg.eigh(A)
    vals, vecs = lanczos(lambda v: A @ v, 30, k=4, iters=30, generator=_gen())
    torch.testing.assert_close(vals, exact.eigenvalues.flip(0)[:4], rtol=0, atol=1e-10)
    torch.testing.assert_close(A @ vecs, vecs * vals, rtol=0, atol=1e-8)
    torch.testing.assert_close(vecs.T @ vecs, torch.eye(4, dtype=F64), rtol=0, atol=1e-10)
    low, _ = lanczos(lambda v: A @ v, 30, k=2, iters=30, largest=False, generator=_gen())
    torch.testing.assert_close(low, exact.eigenvalues[:2], rtol=0, atol=1e-10)


def test_lanczos_stops_when_the_krylov_space_is_exhausted():
    # rank 2: the Krylov space of a generic start has dimension 3 (with the null space)
    u = torch.randn(20, 2, dtype=F64, generator=_gen(4))
    A = u @ torch.diag(torch.tensor([5.0, 2.0], dtype=F64)) @ u.T
    vals, _ = lanczos(lambda v: A @ v, 20, k=2, iters=15, generator=_gen())
    torch.testing.assert_close(vals, torch.linalg.eigvalsh(A).flip(0)[:2], rtol=1e-9,
                               atol=1e-9)
    with pytest.raises(ValueError, match="Krylov space has dimension"):
        lanczos(lambda v: A @ v, 20, k=5, iters=15, generator=_gen())


def test_lanczos_bad_arguments():
    A = _sym(5)
    with pytest.raises(ValueError, match="k must be at most the Krylov dimension"):
        lanczos(lambda v: A @ v, 5, k=6)
    with pytest.raises(ValueError, match="k must be an int"):
        lanczos(lambda v: A @ v, 5, k=0)
    with pytest.raises(TypeError, match="dim must be an int, got 2.5"):
        lanczos(lambda v: A @ v, 2.5)
    with pytest.raises(ValueError, match="iters must be an int >= 1, got 0"):
        lanczos(lambda v: A @ v, 5, iters=0)


def test_hutchinson_is_exact_for_diagonal_with_rademacher():
    d = torch.linspace(-1.0, 3.0, 12, dtype=F64)
    est, se = hutchinson_trace(lambda v: d * v, 12, 5, generator=_gen())
    assert est == pytest.approx(d.sum().item(), abs=1e-12) and se == pytest.approx(0.0)


def test_hutchinson_gaussian_is_unbiased_with_the_right_variance():
    A = _sym(10, seed=5)
    n = 4000
    est, se = hutchinson_trace(lambda v: A @ v, 10, n, dist="gaussian", generator=_gen())
    assert abs(est - A.trace().item()) < 4 * se
    sd_formula = math.sqrt(2 * (A ** 2).sum().item())
    assert se * math.sqrt(n) == pytest.approx(sd_formula, rel=0.1)


def test_hutchinson_vectorized_equals_loop_and_bad_dist():
    A = _sym(8, seed=6)
    a = hutchinson_trace(lambda v: A @ v, 8, 50, generator=_gen(7))
    b = hutchinson_trace(lambda v: A @ v, 8, 50, generator=_gen(7), vectorize=False)
    assert a == pytest.approx(b, rel=1e-12)
    with pytest.raises(ValueError, match="dist must be one of 'rademacher', 'gaussian'"):
        hutchinson_trace(lambda v: A @ v, 8, 10, dist="uniform")


# Jacobians and the NTK ---------------------------------------------------------------

def test_jacobian_matches_autograd_for_several_outputs():
    m = _mlp((3, 4, 2))
    x = torch.randn(5, 3, dtype=F64, generator=_gen(8))
    flat, unravel = ravel(params_of(m))
    ref = torch.autograd.functional.jacobian(
        lambda v: functional_call(m, unravel(v), (x,)), flat)       # (5, 2, P)
    torch.testing.assert_close(jacobian(m, x), ref, rtol=1e-12, atol=1e-12)


def test_ntk_of_a_linear_model_is_the_linear_kernel_plus_one():
    m = nn.Linear(4, 1, dtype=F64)
    x1 = torch.randn(6, 4, dtype=F64, generator=_gen(9))
    x2 = torch.randn(3, 4, dtype=F64, generator=_gen(10))
    torch.testing.assert_close(empirical_ntk(m, x1, x2), x1 @ x2.T + 1)


def test_ntk_blocks_for_several_outputs_and_at_given_params():
    m = _mlp((3, 4, 2))
    x = torch.randn(5, 3, dtype=F64, generator=_gen(11))
    p = {k: v + 0.1 for k, v in params_of(m).items()}
    K = empirical_ntk(m, x, params=p)
    J = jacobian(m, x, p)
    assert K.shape == (5, 5, 2, 2)
    torch.testing.assert_close(K, torch.einsum("aip,bjp->abij", J, J))
    torch.testing.assert_close(K.permute(1, 0, 3, 2), K)            # symmetric
    assert not torch.allclose(K, empirical_ntk(m, x))               # params are used
    with pytest.raises(ValueError, match="parameter names"):
        empirical_ntk(m, x, params={"w": torch.ones(1)})


# directions, lines and planes ----------------------------------------------------------

def test_filter_normalised_direction_for_linear_and_conv():
    p = {"conv.weight": torch.randn(4, 3, 3, 3, dtype=F64, generator=_gen(12)),
         "conv.bias": torch.randn(4, dtype=F64), "fc.weight": torch.randn(2, 5, dtype=F64)}
    d = random_direction(p, generator=_gen(13))
    torch.testing.assert_close(d["conv.weight"].flatten(1).norm(dim=1),
                               p["conv.weight"].flatten(1).norm(dim=1))
    torch.testing.assert_close(d["fc.weight"].norm(dim=1), p["fc.weight"].norm(dim=1))
    assert not d["conv.bias"].any()
    layer = random_direction(p, normalization="layer", generator=_gen(13))
    torch.testing.assert_close(layer["fc.weight"].norm(), p["fc.weight"].norm())
    raw = random_direction(p, normalization=None, generator=_gen(13))
    assert raw["conv.bias"].any() and raw["fc.weight"].shape == (2, 5)
    with pytest.raises(ValueError, match="normalization must be"):
        random_direction(p, normalization="unit")


def test_interpolate_endpoints_midpoint_and_mismatch():
    a = {"w": torch.zeros(3, dtype=F64)}
    b = {"w": torch.tensor([2.0, 4.0, 6.0], dtype=F64)}
    torch.testing.assert_close(interpolate(a, b, 0.5)["w"], b["w"] / 2)
    assert torch.equal(interpolate(a, b, 1.0)["w"], b["w"])
    with pytest.raises(ValueError, match="same names and shapes"):
        interpolate(a, {"w": torch.zeros(2)}, 0.5)


def test_loss_surface_of_a_quadratic_is_closed_form():
    p = {"w": torch.tensor([1.0, -2.0], dtype=F64)}
    d1, d2 = {"w": torch.tensor([1.0, 0.0], dtype=F64)}, {"w": torch.tensor([0.0, 1.0],
                                                                            dtype=F64)}
    L = lambda q: (q["w"] ** 2).sum()
    a, b = torch.linspace(-1, 1, 5, dtype=F64), torch.linspace(0, 2, 3, dtype=F64)
    torch.testing.assert_close(loss_surface(L, p, d1, alphas=a), (1 + a) ** 2 + 4)
    plane = loss_surface(L, p, d1, d2, alphas=a, betas=b)
    torch.testing.assert_close(plane, (1 + a[:, None]) ** 2 + (-2 + b[None, :]) ** 2)
    with pytest.raises(ValueError, match="both d2 and betas"):
        loss_surface(L, p, d1, d2, alphas=a)


def test_tree_operators_are_the_ones_the_implicit_chapter_reexports():
    import papers_lib.analysis as A
    import papers_lib.optim.implicit as I
    assert I.hessian_operator is A.tree_hessian_operator and I.hvp is A.tree_hvp
    assert I.tree_dot is A.tree_dot and I.dense_matrix is A.dense_matrix
    assert I.top_eigenvalue is A.top_eigenvalue
    w = {"a": torch.tensor([1.0, -2.0], dtype=F64), "b": torch.tensor([[0.5]], dtype=F64)}
    v = {"a": torch.ones(2, dtype=F64), "b": torch.full((1, 1), 2.0, dtype=F64)}
    lam = torch.tensor(3.0, dtype=F64)

    def f(w_, lam_):                        # H = diag(lam, lam, 3 b^2)
        return lam_ * (w_["a"] ** 2).sum() / 2 + (w_["b"] ** 4).sum() / 4
    hv = A.tree_hvp(f, w, lam, v)
    assert torch.equal(hv["a"], 3.0 * v["a"]) and torch.equal(hv["b"], 0.75 * v["b"])
    assert A.tree_dot(w, v).item() == pytest.approx(1.0 - 2.0 + 1.0)
    with pytest.raises(ValueError, match="v must have the structure and shapes of w"):
        A.tree_hvp(f, w, lam, {"a": v["a"]})
    with pytest.raises(ValueError, match="iters must be an int >= 1, got 0"):
        A.top_eigenvalue(lambda x: x, w, iters=0)
