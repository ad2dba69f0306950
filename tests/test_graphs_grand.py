"""GRAND (`papers_lib.graphs.grand`): the edge softmax and the attention against
torch-geometric and dense formulas, the field against matrix exponentials, backward
Euler against a direct solve, and the model's GRAND-l / GRAND-nl identities."""
import pytest
import torch
from torch_geometric.nn import SimpleConv
from torch_geometric.utils import softmax as pyg_softmax

from papers_lib.graphs.grand import (GRAND, DiffusionAttention, GrandField,
                                     backward_euler, diffuse, edge_softmax)
from papers_lib.graphs.toolkit import add_self_loops, erdos_renyi, to_dense

f64 = torch.float64


def graph(n=20, p=0.2, seed=0):
    g = torch.Generator().manual_seed(seed)
    ei = add_self_loops(erdos_renyi(n, p, generator=g).edge_index, n)[0]
    return ei, torch.randn(n, 3, generator=g, dtype=f64)


def test_edge_softmax_matches_torch_geometric():
    ei, _ = graph()
    g = torch.Generator().manual_seed(1)
    s = torch.randn(ei.shape[1], 2, dtype=f64, generator=g)
    ours = edge_softmax(s, ei[1], 20)
    assert torch.allclose(ours, pyg_softmax(s, ei[1], num_nodes=20), atol=1e-12)
    rows = torch.zeros(20, 2, dtype=f64).index_add(0, ei[1], ours)
    assert torch.allclose(rows, torch.ones_like(rows))


def test_attention_dense_formula_and_gradcheck():
    ei, x = graph(8, 0.4)
    torch.manual_seed(0)
    att = DiffusionAttention(3, key_dim=2, heads=3).double()
    a = att(x, ei)
    K, Q = att.key(x).view(8, 3, 2), att.query(x).view(8, 3, 2)
    S = torch.einsum("ihk,jhk->hij", K, Q) / 2
    dense = S.masked_fill(to_dense(ei, 8) == 0, -torch.inf).softmax(-1).mean(0)
    assert torch.allclose(a, dense[ei[1], ei[0]], atol=1e-12)
    assert torch.autograd.gradcheck(lambda x: att(x, ei), (x.clone().requires_grad_(),))


def test_uniform_field_is_mean_aggregation_minus_identity():
    ei, x = graph()
    f = GrandField(ei, 20)
    ref = SimpleConv(aggr="mean")(x, ei) - x     # mean over j -> i, self-loops included
    assert torch.allclose(f(torch.tensor(0.0), x), ref, atol=1e-12)


@pytest.mark.parametrize("method,step,tol", [("euler", 0.02, 1e-2), ("rk4", 0.1, 1e-6),
                                             ("dopri5", None, 1e-6),
                                             ("implicit", 0.02, 1e-2)])
def test_diffuse_matches_matrix_exponential(method, step, tol):
    ei, x = graph()
    torch.manual_seed(1)
    field = GrandField(ei, 20, DiffusionAttention(3).double())
    out = diffuse(field, x, 1.5, method, step)
    A = to_dense(ei, 20, field.weight).detach()
    exact = torch.linalg.matrix_exp(1.5 * (A - torch.eye(20, dtype=f64))) @ x
    assert (out - exact).abs().max() < tol


def test_backward_euler_solve_iterative_and_maximum_principle():
    ei, x = graph()
    torch.manual_seed(2)
    field = GrandField(ei, 20, DiffusionAttention(3).double()).fix(x)
    A = to_dense(ei, 20, field.weight).detach()
    t = torch.tensor([0.0, 5.0], dtype=f64)
    one = backward_euler(field, x, t)[-1]
    M = 6.0 * torch.eye(20, dtype=f64) - 5.0 * A
    assert torch.allclose(one, torch.linalg.solve(M, x), atol=1e-12)
    it = backward_euler(field, x, t, solver="iterative", tol=1e-13)[-1]
    assert torch.allclose(it, one, atol=1e-10)
    path = backward_euler(field, x, torch.linspace(0, 20, 11, dtype=f64), step_size=4.0)
    assert (path.amax(1)[1:] <= path.amax(1)[:-1] + 1e-12).all()
    assert (path.amin(1)[1:] >= path.amin(1)[:-1] - 1e-12).all()


def test_backward_euler_gradcheck_nonlinear():
    ring = torch.tensor([[0, 1, 2, 3], [1, 2, 3, 0]])
    ei = add_self_loops(torch.cat([ring, ring.flip(0)], 1), 4)[0]
    torch.manual_seed(3)
    att = DiffusionAttention(2).double()
    x = torch.randn(4, 2, dtype=f64, requires_grad=True)
    t = torch.tensor([0.0, 2.0], dtype=f64)
    assert torch.autograd.gradcheck(
        lambda x: backward_euler(GrandField(ei, 4, att, nonlinear=True), x, t, 1.0)[-1],
        (x,))


def test_grand_linear_equals_nonlinear_after_one_step():
    ei, x = graph()
    torch.manual_seed(4)
    m_l = GRAND(3, 6, 2, T=1.0, method="euler").double()
    m_nl = GRAND(3, 6, 2, T=1.0, method="euler", nonlinear=True).double()
    m_nl.load_state_dict(m_l.state_dict())
    assert m_l(x, ei).shape == (20, 2)
    assert torch.allclose(m_l(x, ei), m_nl(x, ei), atol=1e-12)
    m_l.step_size = m_nl.step_size = 0.5
    assert (m_l(x, ei) - m_nl(x, ei)).abs().max() > 1e-8
