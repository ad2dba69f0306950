"""Tests of papers_lib.analysis.subspace (chapter nbs/theory/02_tiny_subspace.ipynb): the
top Hessian subspace against eigh of the dense Hessian, the overlaps against closed forms."""
import math

import pytest
import torch
from torch import nn

from papers_lib.analysis import dense_matrix, functional_loss, hessian_operator, params_of
from papers_lib.analysis import ravel
from papers_lib.analysis.subspace import (SubspaceTracker, gradient_overlap,
                                          subspace_overlap, top_subspace)

from tests.analysis_helpers import F64, tiny_classifier
from tests.analysis_helpers import gen as _gen


def _tiny(seed=0):
    m, x, y = tiny_classifier(6, 30, seed)
    return m, functional_loss(m, nn.functional.cross_entropy, x, y)


def test_subspace_overlap_coordinate_cases_and_rotation_invariance():
    E = torch.eye(7, dtype=F64)
    assert subspace_overlap(E[:, :3], E[:, :3]) == pytest.approx(1.0, abs=1e-15)
    assert subspace_overlap(E[:, :3], E[:, 3:6]) == 0.0
    assert subspace_overlap(E[:, :3], E[:, 2:5]) == pytest.approx(1 / 3, abs=1e-15)
    R = torch.linalg.qr(torch.randn(3, 3, dtype=F64, generator=_gen()))[0]
    assert subspace_overlap(E[:, :3] @ R, E[:, 2:5]) == pytest.approx(1 / 3, abs=1e-12)


def test_subspace_overlap_is_mean_squared_cosine_of_principal_angles():
    A = torch.linalg.qr(torch.randn(9, 3, dtype=F64, generator=_gen(1)))[0]
    B = torch.linalg.qr(torch.randn(9, 3, dtype=F64, generator=_gen(2)))[0]
    cos = torch.linalg.svdvals(A.T @ B)
    ref = (A @ A.T @ B @ B.T).trace() / 3
    assert subspace_overlap(A, B) == pytest.approx((cos ** 2).mean().item(), abs=1e-12)
    assert subspace_overlap(A, B) == pytest.approx(ref.item(), abs=1e-12)


def test_gradient_overlap_closed_form_and_dict_input():
    g = torch.tensor([3.0, 4.0, 0.0, 12.0], dtype=F64)            # ||g||^2 = 169
    E = torch.eye(4, dtype=F64)
    assert gradient_overlap(g, E[:, :2]) == pytest.approx(25 / 169, abs=1e-15)
    assert gradient_overlap(g, E[:, [3]]) == pytest.approx(144 / 169, abs=1e-15)
    assert gradient_overlap(g, E) == pytest.approx(1.0, abs=1e-15)
    gd = {"a": g[:1], "b": g[1:].reshape(3, 1)}
    assert gradient_overlap(gd, E[:, :2]) == pytest.approx(25 / 169, abs=1e-15)


def test_random_subspace_overlaps_follow_beta_law():
    P, k, N = 60, 5, 3000
    g = torch.randn(P, dtype=F64, generator=_gen(3))
    Qs = torch.linalg.qr(torch.randn(N, P, k, dtype=F64, generator=_gen(4)))[0]
    f = torch.tensor([gradient_overlap(g, Q) for Q in Qs])
    mean, var = k / P, 2 * (k / P) * (1 - k / P) / (P + 2)
    assert abs(f.mean() - mean) < 4 * math.sqrt(var / N)
    assert abs(f.var() / var - 1) < 0.1
    ov = torch.tensor([subspace_overlap(Qs[0], Q) for Q in Qs[1:500]])
    assert abs(ov.mean() - k / P) < 0.01


def test_top_subspace_on_diagonal_quadratic():
    lam = torch.tensor([5.0, 4.0, 3.0, 1.0, 0.5, 0.1], dtype=F64)
    x = torch.randn(6, dtype=F64, generator=_gen(5))
    vals, V = top_subspace(lambda p: 0.5 * (lam * p["x"] ** 2).sum(), {"x": x}, 3,
                           generator=_gen())
    torch.testing.assert_close(vals, lam[:3], rtol=0, atol=1e-10)
    E = torch.eye(6, dtype=F64)
    assert subspace_overlap(V, E[:, :3]) == pytest.approx(1.0, abs=1e-10)
    g = lam * x
    exact = (g[:3] ** 2).sum() / (g ** 2).sum()
    assert gradient_overlap(g, V) == pytest.approx(exact.item(), abs=1e-10)


def test_top_subspace_matches_dense_eigh_on_tiny_mlp():
    m, L = _tiny()
    p = params_of(m)
    vals, V = top_subspace(L, p, 4, generator=_gen())
    ev, U = torch.linalg.eigh(dense_matrix(hessian_operator(L, p), ravel(p)[0]))
    torch.testing.assert_close(vals, ev[-4:].flip(0), rtol=0, atol=1e-9)
    assert subspace_overlap(V, U[:, -4:]) == pytest.approx(1.0, abs=1e-9)
    assert V.shape == (ravel(p)[0].numel(), 4)


def test_tracker_records_consistent_rows():
    m, L = _tiny()
    tr = SubspaceTracker(2, generator=_gen())
    p0 = params_of(m)
    r0 = tr.record(0, L, p0)
    assert r0["ov_prev"] is None and r0["ov_first"] is None
    vals, V = top_subspace(L, p0, 2, generator=_gen())
    torch.testing.assert_close(torch.tensor(r0["eigenvalues"], dtype=F64), vals,
                               rtol=0, atol=1e-9)
    assert r0["f_top"] == pytest.approx(gradient_overlap(torch.func.grad(L)(p0), V),
                                        abs=1e-9)
    r1 = tr.record(1, L, p0)                                 # same point: same subspace
    assert r1["ov_prev"] == pytest.approx(1.0, abs=1e-9)
    p1 = {k: v + 0.3 * torch.randn(v.shape, dtype=F64, generator=_gen(7))
          for k, v in p0.items()}
    g1 = ravel(torch.func.grad(L)(p1))[0]
    r2 = tr.record(2, L, p1, grad=g1)
    assert r2["ov_first"] == pytest.approx(subspace_overlap(tr.bases[0], tr.bases[2]))
    assert r2["ov_prev"] < 1 - 1e-6
    assert [r["step"] for r in tr.rows] == [0, 1, 2] and len(tr.bases) == 3


def test_bad_input():
    E = torch.eye(5, dtype=F64)
    with pytest.raises(ValueError, match="orthonormal"):
        gradient_overlap(torch.ones(5, dtype=F64), 2 * E[:, :2])
    with pytest.raises(ValueError, match="rows"):
        gradient_overlap(torch.ones(4, dtype=F64), E[:, :2])
    with pytest.raises(ValueError, match="zero"):
        gradient_overlap(torch.zeros(5, dtype=F64), E[:, :2])
    with pytest.raises(ValueError, match=r"\(P, k\) matrix"):
        subspace_overlap(torch.ones(5, dtype=F64), E[:, :2])
    with pytest.raises(ValueError, match="same shape"):
        subspace_overlap(E[:, :2], E[:, :3])
    with pytest.raises(ValueError, match="k must be"):
        SubspaceTracker(0)
    with pytest.raises(TypeError, match="non-empty dict"):
        top_subspace(lambda p: p.sum(), torch.ones(3), 1)
    m, L = _tiny()
    with pytest.raises(ValueError, match="at most the Krylov dimension"):
        top_subspace(L, params_of(m), 10, iters=5)
