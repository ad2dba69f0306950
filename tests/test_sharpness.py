"""Tests of papers_lib.analysis.sharpness (chapter nbs/theory/03_gfs_sharpness.ipynb):
closed forms against autograd and the analysis toolkit, the exact gradient flow
solution against a numerical flow (papers_lib.ode.odeint), and bad input."""
import pytest
import torch

from papers_lib.analysis import dense_matrix, hessian_operator
from papers_lib.analysis.sharpness import (gfs_sharpness, gradient_flow_solution,
                                           scalar_net_gd, scalar_net_gradient,
                                           scalar_net_hessian, scalar_net_loss,
                                           sharpness)
from papers_lib.ode import odeint

F64 = torch.float64


def _w(D=4, seed=0, n=None):
    g = torch.Generator().manual_seed(seed)
    shape = (D,) if n is None else (n, D)
    return torch.randn(shape, generator=g, dtype=F64)


def _flow_end(w0, y, T=25.0):
    """The flow at time T (rows of w0 at once): near w* it contracts at the rate
    psi = gfs_sharpness >= 2.4 for the starts below, so by T = 25 the error is set
    by the tolerances (a start not yet converged fails the comparison)."""
    return odeint(lambda t, v: -scalar_net_gradient(v, y), w0,
                  torch.tensor([0.0, T], dtype=F64), rtol=1e-10, atol=1e-12)[-1]


def test_loss_and_gradient_match_autograd():
    w = _w(5)
    assert torch.allclose(scalar_net_loss(w, 0.3), 0.5 * (w.prod() - 0.3) ** 2)
    g = torch.func.grad(lambda v: scalar_net_loss(v, 0.3))(w)
    assert torch.allclose(scalar_net_gradient(w, 0.3), g, atol=1e-13)
    wz = torch.tensor([0.0, 2.0, 3.0], dtype=F64)          # a zero weight: no division
    assert torch.allclose(scalar_net_gradient(wz, 1.0),
                          torch.tensor([-6.0, 0.0, 0.0], dtype=F64))


@pytest.mark.parametrize("D", [1, 2, 3, 5])
def test_hessian_matches_autograd_and_toolkit(D):
    w = _w(D, seed=D)
    H = scalar_net_hessian(w, -0.4)
    ref = torch.autograd.functional.hessian(lambda v: scalar_net_loss(v, -0.4), w)
    assert torch.allclose(H, ref, atol=1e-12)
    op = hessian_operator(lambda p: scalar_net_loss(p["w"], -0.4), {"w": w})
    assert torch.allclose(H, dense_matrix(op, w), atol=1e-12)
    assert torch.isclose(sharpness(w, -0.4), torch.linalg.eigvalsh(ref)[-1])


def test_hessian_batched():
    w = _w(3, n=6)
    H = scalar_net_hessian(w, 1.0)
    assert H.shape == (6, 3, 3)
    assert torch.allclose(H[4], scalar_net_hessian(w[4], 1.0))


def test_gd_matches_torch_sgd():
    w0 = _w(4, seed=2)
    traj = scalar_net_gd(w0, 0.5, lr=0.03, steps=5)
    p = w0.clone().requires_grad_()
    opt = torch.optim.SGD([p], lr=0.03)
    for k in range(5):
        opt.zero_grad()
        scalar_net_loss(p, 0.5).backward()
        opt.step()
        assert torch.allclose(traj[k + 1], p.detach(), atol=1e-14)
    assert traj.shape == (6, 4)


def test_gradient_flow_conserves_balances():
    w0 = _w(5, seed=3)
    sol = odeint(lambda t, v: -scalar_net_gradient(v, 1.0), w0,
                 torch.linspace(0, 50, 6, dtype=F64), rtol=1e-10, atol=1e-12)
    inv = sol ** 2 - sol[:, :1] ** 2
    assert (inv - inv[0]).abs().max() < 1e-8
    assert (sol[-1] ** 2 - sol[-1, 0] ** 2 - inv[0]).abs().max() < 1e-8


@pytest.mark.parametrize("y", [1.0, -0.7, 2.5])
def test_gfs_equals_flow_endpoint(y):
    W0 = torch.stack([_w(4, seed=seed) for seed in range(4)])   # four starts at once
    ws = gradient_flow_solution(W0, y)
    assert torch.allclose(ws, _flow_end(W0, y), rtol=0, atol=1e-8)
    assert (ws.prod(-1) - y).abs().max() < 1e-12
    d = ws ** 2 - W0 ** 2                               # one common shift c per row
    assert (d - d[:, :1]).abs().max() < 1e-12


def test_gfs_sign_flip_case():
    w0 = torch.tensor([2.0, -0.3, 1.5], dtype=F64)           # f < 0 < y
    ws = gradient_flow_solution(w0, 1.0)
    assert ws[1] > 0 and ws[0] > 0 and ws[2] > 0
    assert torch.allclose(ws, _flow_end(w0, 1.0), rtol=0, atol=1e-8)


def test_gfs_of_a_minimum_is_itself_and_batched():
    m = torch.tensor([2.0, 0.5, -1.0, -1.0], dtype=F64)      # prod = 1
    assert torch.allclose(gradient_flow_solution(m, 1.0), m, atol=1e-14)
    W = _w(3, n=7, seed=5)
    WS = gradient_flow_solution(W, 1.0)
    assert torch.allclose(WS[3], gradient_flow_solution(W[3], 1.0))


def test_gfs_sharpness_closed_form_and_eigenvalue():
    w0 = _w(4, seed=7)
    ws = gradient_flow_solution(w0, 0.8)
    psi = gfs_sharpness(w0, 0.8)
    assert torch.isclose(psi, (0.8 ** 2 / ws ** 2).sum())
    assert torch.isclose(psi, sharpness(ws, 0.8), rtol=1e-10)
    ev = torch.linalg.eigvalsh(scalar_net_hessian(ws, 0.8))
    assert ev[:-1].abs().max() < 1e-10                       # rank one at a minimum


def test_gfs_sharpness_nonincreasing_along_one_eos_run():
    w0 = torch.tensor([1.6, 1.1, 0.9, 0.55], dtype=F64)
    eta = 2.4 / gfs_sharpness(w0).item()
    psi = gfs_sharpness(scalar_net_gd(w0, lr=eta, steps=100))
    assert ((psi[1:] - psi[:-1]) / psi[0]).max() < 1e-13
    assert psi[-1] < psi[0] * 0.95


def test_bad_input():
    with pytest.raises(TypeError, match="floating-point"):
        scalar_net_loss(torch.tensor([1, 2]))
    with pytest.raises(ValueError, match="shape"):
        scalar_net_loss(torch.tensor(1.0, dtype=F64))
    with pytest.raises(ValueError, match="y must be a real number, got nan"):
        scalar_net_loss(_w(3), float("nan"))
    with pytest.raises(ValueError, match="lr must be"):
        scalar_net_gd(_w(3), lr=0.0)
    with pytest.raises(ValueError, match="steps must be"):
        scalar_net_gd(_w(3), lr=0.1, steps=-1)
    with pytest.raises(ValueError, match="y must be nonzero"):
        gradient_flow_solution(_w(3), 0.0)
    with pytest.raises(ValueError, match="f\\(w\\) = 0"):
        gradient_flow_solution(torch.tensor([0.0, 1.0, 2.0], dtype=F64))
    with pytest.raises(ValueError, match="not unique"):
        gradient_flow_solution(torch.tensor([-0.5, 0.5, 2.0], dtype=F64), 1.0)
