"""Bad-input sweep of convergent graph solvers (`papers_lib.graphs.cgs`): each public name
refuses an invalid argument with a message naming it."""
import torch

from papers_lib.graphs.cgs import (CGS, LinearFixedPoint, contractive_weights,
                                   fixed_point, fixed_point_iterations, spectral_radius,
                                   to_dense_blocks, to_dense_nodes)
from papers_lib.graphs.toolkit import Graph
from tests.bad_input import Case, check, parametrize

EI = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])             # a path of 3 nodes
S = torch.zeros(4)
BATCH = torch.zeros(3, dtype=torch.long)
A = torch.full((2, 3, 3), 1 / 3)
B = torch.ones(2, 3, 1)
MODEL = CGS(2, 1, hidden=4, state=2)
G = Graph(EI, 3, torch.ones(4), torch.zeros(3, 2))

CASES = [
    Case("papers_lib.graphs.cgs.contractive_weights",
         lambda: contractive_weights(torch.zeros(3), EI, 3), ValueError,
         r"scores must have shape \(m,\) or \(m, p\) with m = 4 edges, got \(3,\)"),
    Case("papers_lib.graphs.cgs.contractive_weights",
         lambda: contractive_weights(torch.zeros(4, dtype=torch.long), EI, 3),
         TypeError, r"scores must be a floating-point tensor"),
    Case("papers_lib.graphs.cgs.contractive_weights",
         lambda: contractive_weights(S, EI, 3, torch.zeros(2)), ValueError,
         r"sink must have shape \(3,\), one logit per node"),
    Case("papers_lib.graphs.cgs.contractive_weights",
         lambda: contractive_weights(S, EI, 2), ValueError,
         r"edge_index must hold node numbers in \[0, 2\)"),
    Case("papers_lib.graphs.cgs.to_dense_blocks",
         lambda: to_dense_blocks(EI, torch.tensor([0, 1, 0])), ValueError,
         r"batch must be sorted"),
    Case("papers_lib.graphs.cgs.to_dense_blocks",
         lambda: to_dense_blocks(EI, torch.tensor([0, 0, 1])), ValueError,
         r"edge_index must join nodes of the same graph"),
    Case("papers_lib.graphs.cgs.to_dense_blocks",
         lambda: to_dense_blocks(EI, BATCH, torch.ones(3)), ValueError,
         r"edge_weight must have shape \(m,\) or \(m, p\) with m = 4 edges"),
    Case("papers_lib.graphs.cgs.to_dense_nodes",
         lambda: to_dense_nodes(torch.zeros(3, 2), torch.zeros(2, dtype=torch.long)),
         ValueError, r"batch must be a torch.long tensor of shape \(3,\)"),
    Case("papers_lib.graphs.cgs.to_dense_nodes",
         lambda: to_dense_nodes([1.0, 2.0], BATCH), TypeError,
         r"x must be a torch.Tensor, got list"),
    Case("papers_lib.graphs.cgs.fixed_point", lambda: fixed_point(A, B, 1.0),
         ValueError, r"gamma must be a real number > 0, < 1, got 1.0"),
    Case("papers_lib.graphs.cgs.fixed_point", lambda: fixed_point(A, B, 0.5, "newton"),
         ValueError, r"method must be one of 'solve', 'iterate', got 'newton'"),
    Case("papers_lib.graphs.cgs.fixed_point", lambda: fixed_point(A[..., :2], B, 0.5),
         ValueError, r"A must have shape \(\.\.\., n, n\)"),
    Case("papers_lib.graphs.cgs.fixed_point", lambda: fixed_point(A, B[:, :2], 0.5),
         ValueError, r"b must have shape \(2, 3\) \+ \(q,\)"),
    Case("papers_lib.graphs.cgs.fixed_point", lambda: fixed_point(A, B.double(), 0.5),
         TypeError, r"b must have A's dtype torch.float32"),
    Case("papers_lib.graphs.cgs.fixed_point",
         lambda: fixed_point(A * 4, B, 0.9, "iterate", max_iter=50), ValueError,
         r"A must make gamma \* A a contraction"),
    Case("papers_lib.graphs.cgs.fixed_point", lambda: fixed_point(A, B, 0.5, tol=0.0),
         ValueError, r"tol must be a real number > 0, got 0.0"),
    Case("papers_lib.graphs.cgs.LinearFixedPoint",
         lambda: LinearFixedPoint.apply(A * 4, B, 0.9, "iterate", 1e-8, 20), ValueError,
         r"A must make gamma \* A a contraction: the forward iteration did not converge"),
    Case("papers_lib.graphs.cgs.fixed_point_iterations",
         lambda: fixed_point_iterations(A, B, 0.5, -1), ValueError,
         r"steps must be an int >= 0, got -1"),
    Case("papers_lib.graphs.cgs.fixed_point_iterations",
         lambda: fixed_point_iterations(A, B, 0.5, 3, h0=torch.zeros(3, 1)), ValueError,
         r"h0 must have b's shape \(2, 3, 1\), got \(3, 1\)"),
    Case("papers_lib.graphs.cgs.fixed_point_iterations",
         lambda: fixed_point_iterations(A, B, -0.5, 3), ValueError,
         r"gamma must be a real number > 0, < 1, got -0.5"),
    Case("papers_lib.graphs.cgs.spectral_radius",
         lambda: spectral_radius(torch.zeros(2, 3)), ValueError,
         r"M must have shape \(\.\.\., n, n\), got \(2, 3\)"),
    Case("papers_lib.graphs.cgs.spectral_radius",
         lambda: spectral_radius(torch.tensor([[float("nan")]])), ValueError,
         r"M must be finite"),
    Case("papers_lib.graphs.cgs.CGS", lambda: CGS(2, 1, gamma=1.5), ValueError,
         r"gamma must be a real number > 0, < 1, got 1.5"),
    Case("papers_lib.graphs.cgs.CGS", lambda: CGS(0, 1), ValueError,
         r"node_dim must be an int >= 1, got 0"),
    Case("papers_lib.graphs.cgs.CGS", lambda: CGS(2, 1, method="cg"), ValueError,
         r"method must be one of 'solve', 'iterate', got 'cg'"),
    Case("papers_lib.graphs.cgs.CGS", lambda: CGS(2, 1, use_edge_weight=1), TypeError,
         r"use_edge_weight must be a bool, got 1"),
    Case("papers_lib.graphs.cgs.CGS", lambda: MODEL(torch.zeros(3, 2)), TypeError,
         r"graph must be a Graph, got Tensor"),
    Case("papers_lib.graphs.cgs.CGS",
         lambda: MODEL(Graph(EI, 3, torch.ones(4), torch.zeros(3, 5))), ValueError,
         r"graph.x must have shape \(num_nodes, 2\), got \(3, 5\)"),
    Case("papers_lib.graphs.cgs.CGS", lambda: MODEL(Graph(EI, 3, None, torch.zeros(3, 2))),
         ValueError, r"graph.edge_weight must be given when use_edge_weight=True"),
]


@parametrize(CASES)
def test_bad_input(case):
    check(case)
