"""Tests of papers_lib.analysis.intrinsic (page
nbs/theory/08_intrinsic_dimension.ipynb): projections against their defining
properties, the subspace reparametrisation against an explicit theta_0 + P theta_d, its
gradient and Hessian against P^T grad and P^T H P, P = I against ordinary SGD, subspace
training against the least-squares optimum of a block-sum toy, and d_int90 against
hand-computed crossings."""
import copy
import math

import pytest
import torch
from torch import nn

from papers_lib.analysis import (dense_matrix, functional_loss, hessian_operator,
                                 params_of)
from papers_lib.analysis.intrinsic import (SubspaceModel, intrinsic_dimension,
                                           random_projection, subspace_loss,
                                           subspace_params, train_in_subspace)

from tests.analysis_helpers import F64, tiny_classifier
from tests.analysis_helpers import gen as _gen


def _tiny(seed=0):
    return tiny_classifier(5, 20, seed)


def _flat(params):
    return torch.cat([v.reshape(-1) for v in params.values()])


# random_projection -------------------------------------------------------------------

def test_dense_projection_unit_columns_and_random_directions():
    P = random_projection(500, 200, generator=_gen(), dtype=F64)
    assert P.shape == (500, 200) and P.dtype == F64
    torch.testing.assert_close(P.norm(dim=0), torch.ones(200, dtype=F64))
    G = P.T @ P
    off = G[~torch.eye(200, dtype=torch.bool)]
    # independent uniform unit vectors: E[(p_i . p_j)^2] = 1/D, mean 0
    assert (off ** 2).mean().item() == pytest.approx(1 / 500, rel=0.05)
    assert abs(off.mean().item()) < 3 / math.sqrt(500 * off.numel())
    torch.testing.assert_close(P, random_projection(500, 200, generator=_gen(),
                                                    dtype=F64))


def test_sparse_projection_structure():
    D, d = 300, 40
    k = math.ceil(math.sqrt(D))
    P = random_projection(D, d, "sparse", generator=_gen(1), dtype=F64)
    assert P.is_sparse and P.shape == (D, d)
    Q = P.to_dense()
    assert ((Q != 0).sum(0) == k).all()
    torch.testing.assert_close(Q[Q != 0].abs(), torch.full((k * d,), k ** -0.5,
                                                           dtype=F64))
    torch.testing.assert_close(Q.norm(dim=0), torch.ones(d, dtype=F64))
    assert 0.4 < (Q > 0).sum().item() / (k * d) < 0.6


@pytest.mark.parametrize("D, d, kind, err, match", [
    (10, 11, "dense", ValueError, "d must be an int >= 1, <= 10, got 11"),
    (0, 1, "dense", ValueError, "D must be an int >= 1, got 0"),
    (5, 0, "dense", ValueError, "d must be an int >= 1"),
    (True, 1, "dense", TypeError, "D must be an int, got True"),
    (5, 2.5, "dense", TypeError, "d must be an int, got 2.5"),
    (5, 2, "fastfood", ValueError, "kind must be one of 'dense', 'sparse'")])
def test_projection_bad_input(D, d, kind, err, match):
    with pytest.raises(err, match=match):
        random_projection(D, d, kind)


# subspace_params, subspace_loss ------------------------------------------------------

def test_subspace_params_is_theta0_plus_P_theta_d():
    m, _, _ = _tiny()
    theta0 = params_of(m)
    D = _flat(theta0).numel()
    P = random_projection(D, 7, generator=_gen(2), dtype=F64)
    zero = subspace_params(theta0, P, torch.zeros(7, dtype=F64))
    assert list(zero) == list(theta0)
    assert all(torch.equal(zero[k], theta0[k]) for k in theta0)
    td = torch.randn(7, dtype=F64, generator=_gen(3))
    got = subspace_params(theta0, P, td)
    torch.testing.assert_close(_flat(got), _flat(theta0) + P @ td, rtol=0, atol=1e-15)
    assert all(got[k].shape == theta0[k].shape for k in theta0)


@pytest.mark.parametrize("kind", ["dense", "sparse"])
def test_subspace_gradient_and_hessian_by_the_chain_rule(kind):
    m, x, y = _tiny(1)
    ce = nn.functional.cross_entropy
    theta0 = params_of(m)
    D = _flat(theta0).numel()
    P = random_projection(D, 5, kind, generator=_gen(4), dtype=F64)
    Pd = P.to_dense() if kind == "sparse" else P
    td = 0.3 * torch.randn(5, dtype=F64, generator=_gen(5))
    L = functional_loss(m, ce, x, y)
    at = subspace_params(theta0, P, td)
    at = {k: v.detach().requires_grad_() for k, v in at.items()}
    grad_full = _flat(dict(zip(at, torch.autograd.grad(L(at), list(at.values())))))
    t = td.clone().requires_grad_()
    g, = torch.autograd.grad(subspace_loss(m, theta0, P, t, ce, x, y), t)
    torch.testing.assert_close(g, Pd.T @ grad_full, rtol=0, atol=1e-14)
    H = dense_matrix(hessian_operator(L, at), _flat(at))
    Hd = torch.autograd.functional.hessian(
        lambda v: subspace_loss(m, theta0, Pd, v, ce, x, y), td)
    torch.testing.assert_close(Hd, Pd.T @ H @ Pd, rtol=1e-10, atol=1e-12)


def test_subspace_params_bad_input():
    m, _, _ = _tiny()
    theta0 = params_of(m)
    D = _flat(theta0).numel()
    with pytest.raises(ValueError, match="P must be a"):
        subspace_params(theta0, torch.zeros(D + 1, 3, dtype=F64), torch.zeros(3))
    with pytest.raises(ValueError, match="P must be a"):
        subspace_params(theta0, torch.zeros(D, dtype=F64), torch.zeros(3))
    with pytest.raises(ValueError, match="theta_d must be a vector of length d = 3"):
        subspace_params(theta0, torch.zeros(D, 3, dtype=F64),
                        torch.zeros(4, dtype=F64))


# SubspaceModel -----------------------------------------------------------------------

def test_subspace_model_at_zero_is_the_model_and_trains_only_theta_d():
    m, x, _ = _tiny(2)
    before = {k: v.clone() for k, v in params_of(m).items()}
    D = _flat(before).numel()
    sub = SubspaceModel(m, random_projection(D, 4, generator=_gen(6), dtype=F64))
    assert [n for n, _ in sub.named_parameters()] == ["theta_d"] and sub.d == 4
    assert torch.equal(sub(x), m(x))
    opt = torch.optim.SGD(sub.parameters(), lr=0.1)
    sub(x).pow(2).sum().backward()
    opt.step()
    assert sub.theta_d.abs().sum() > 0
    assert all(torch.equal(v, before[k]) for k, v in params_of(m).items())
    assert not torch.equal(sub(x), m(x))


def test_identity_projection_is_ordinary_sgd():
    m, x, y = _tiny(3)

    plain = copy.deepcopy(m)
    D = _flat(params_of(m)).numel()
    sub = SubspaceModel(m, torch.eye(D, dtype=F64))
    o1 = torch.optim.SGD(sub.parameters(), lr=0.3)
    o2 = torch.optim.SGD(plain.parameters(), lr=0.3)
    ce = nn.functional.cross_entropy
    for _ in range(15):
        for o, f in ((o1, sub), (o2, plain)):
            o.zero_grad()
            ce(f(x), y).backward()
            o.step()
    torch.testing.assert_close(_flat(sub.params()), _flat(params_of(plain)),
                               rtol=0, atol=1e-13)


def test_subspace_model_bad_input():
    m, _, _ = _tiny()
    with pytest.raises(TypeError, match="nn.Module"):
        SubspaceModel(lambda x: x, torch.eye(3))
    with pytest.raises(ValueError, match="P must be a"):
        SubspaceModel(m, torch.eye(3, dtype=F64))


# train_in_subspace on a block-sum toy whose Hessian has rank 3 -----------------------

def _block_toy(D=60, r=3):
    A = torch.kron(torch.eye(r, dtype=F64), torch.ones(1, D // r, dtype=F64))
    b = torch.arange(1.0, r + 1, dtype=F64).reshape(r, 1)
    torch.manual_seed(0)
    lin = nn.Linear(D, 1, bias=False, dtype=F64)
    return lin, A, b


@pytest.mark.parametrize("d", [1, 2, 3, 6])
def test_training_reaches_the_least_squares_optimum_of_the_subspace(d):
    """Full-batch SGD on the quadratic (1/3) |M z - r|^2 from z = 0 with step lr,
    H = 2/3 M^T M: z_k = (I - (I - lr H)^k) z* in closed form, z* the minimum-norm
    least-squares solution; every recorded loss follows it, and so tends to the
    subspace's optimum (|1 - lr h| < 1 on the nonzero eigenvalues h of H)."""
    lin, A, b = _block_toy()
    w0 = lin.weight.detach().clone()
    P = random_projection(60, d, generator=_gen(7), dtype=F64)
    M = A @ P
    resid = b - A @ lin.weight.detach().reshape(-1, 1)
    z = torch.linalg.pinv(M) @ resid                    # minimum norm: in range(M^T)
    best = ((M @ z - resid) ** 2).mean().item()
    h, V = torch.linalg.eigh(2 / 3 * M.T @ M)
    lr = 1 / h.max().item()
    if d < 3:
        assert best > 1e-2
    else:
        assert best < 1e-25
    steps = 60
    k = torch.arange(steps + 1, dtype=F64)[:, None]
    zk = ((1 - (1 - lr * h) ** k) * (V.T @ z)[:, 0]) @ V.T     # (steps + 1, d)
    want = ((zk @ M.T - resid[:, 0]) ** 2).mean(1)
    sub, losses = train_in_subspace(lin, P, nn.functional.mse_loss, A, b, steps,
                                    lr=lr, optimizer="sgd")
    assert losses.shape == (steps,)
    # `train` records the losses in float32, before each step
    torch.testing.assert_close(losses.double(), want[:-1], rtol=1e-6, atol=1e-12)
    torch.testing.assert_close(sub.theta_d.detach(), zk[-1], rtol=1e-9, atol=1e-12)
    assert torch.equal(lin.weight.detach(), w0)         # theta_0 is left untouched


def test_minibatch_training_is_seeded():
    m, x, y = _tiny(4)
    D = _flat(params_of(m)).numel()
    P = random_projection(D, 6, generator=_gen(8), dtype=F64)
    ce = nn.functional.cross_entropy
    runs = [train_in_subspace(m, P, ce, x, y, 30, lr=0.05, batch_size=5,
                              generator=_gen(9))[1] for _ in range(2)]
    full = train_in_subspace(m, P, ce, x, y, 30, lr=0.05)[1]
    assert torch.equal(runs[0], runs[1]) and not torch.equal(runs[0], full)
    assert full[-1] < full[0]


def test_train_in_subspace_bad_input():
    m, x, y = _tiny()
    P = torch.zeros(_flat(params_of(m)).numel(), 2, dtype=F64)
    ce = nn.functional.cross_entropy
    with pytest.raises(ValueError, match="optimizer"):
        train_in_subspace(m, P, ce, x, y, 3, optimizer="lbfgs")
    with pytest.raises(ValueError, match="lr must be a real number > 0"):
        train_in_subspace(m, P, ce, x, y, 3, lr=0.0)


# intrinsic_dimension -----------------------------------------------------------------

def test_intrinsic_dimension_first_and_interpolated():
    ds, acc = [10, 20, 40, 80], [0.3, 0.6, 0.8, 0.95]
    assert intrinsic_dimension(ds, acc, 1.0) == 80
    # 0.9 is 2/3 of the way from 0.8 to 0.95, in log d from 40 to 80
    assert intrinsic_dimension(ds, acc, 1.0, interpolate=True) == pytest.approx(
        40 * 2 ** (2 / 3), rel=1e-12)
    # threshold relative to the full score: 0.9 * 0.7 = 0.63 is crossed at d = 40
    assert intrinsic_dimension(ds, acc, 0.7) == 40
    # 0.5 is 2/3 of the way from 0.3 to 0.6: d = 10 * 2 ** (2/3)
    assert intrinsic_dimension(ds, acc, 1.0, threshold=0.5, interpolate=True) == (
        pytest.approx(10 * 2 ** (2 / 3), rel=1e-12))
    assert intrinsic_dimension(ds, acc, 1.0, threshold=0.25, interpolate=True) == 10
    assert intrinsic_dimension(ds, acc, 1.0, threshold=0.99) is None
    assert intrinsic_dimension(ds, acc, 1.0, threshold=0.95) == 80


def test_intrinsic_dimension_takes_the_first_crossing():
    assert intrinsic_dimension([1, 2, 3, 4], [0.1, 0.95, 0.5, 0.99], 1.0) == 2


@pytest.mark.parametrize("ds, acc, thr, match", [
    ([1, 2], [0.5], 0.9, "same length"), ([], [], 0.9, "non-empty"),
    ([2, 1], [0.5, 0.6], 0.9, "increasing"), ([0, 1], [0.5, 0.6], 0.9, "positive"),
    ([1, 2], [0.5, 0.6], 1.5, "threshold"), ([1, 2], [0.5, 0.6], 0.0, "threshold")])
def test_intrinsic_dimension_bad_input(ds, acc, thr, match):
    with pytest.raises(ValueError, match=match):
        intrinsic_dimension(ds, acc, 1.0, threshold=thr)
