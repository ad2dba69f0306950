"""Bad-input sweep of `papers_lib.graphs.rfp` (chapter *Random feature propagation*):
each public name refuses an invalid argument with a message naming it."""
import torch

from papers_lib.graphs.rfp import (GIN, laplacian_pe, normalise, propagation_operator,
                                   random_regular_graphs, rfp_encoding, subspace_sines,
                                   triangle_counts)
from tests.bad_input import Case, check, parametrize

M = "papers_lib.graphs.rfp."
E = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
X = torch.randn(3, 2)
NET = GIN(2, 4, 2, copies=2)

CASES = [
    Case(M + "propagation_operator", lambda: propagation_operator(E, 3, "lap"),
         ValueError, r"kind must be one of"),
    Case(M + "propagation_operator", lambda: propagation_operator(E, -1), ValueError,
         r"num_nodes must be"),
    Case(M + "propagation_operator", lambda: propagation_operator(E + 3, 3), ValueError,
         r"edge_index must hold node numbers"),
    Case(M + "normalise", lambda: normalise(torch.ones(3)), ValueError,
         r"x must have at least 2 dimensions"),
    Case(M + "normalise", lambda: normalise(torch.ones(3, 2, dtype=torch.long)),
         TypeError, r"x must be a floating-point tensor"),
    Case(M + "normalise", lambda: normalise(X, kind="svd"), ValueError,
         r"kind must be one of"),
    Case(M + "normalise", lambda: normalise(X, torch.tensor([1, 0, 0])), ValueError,
         r"batch must be sorted"),
    Case(M + "normalise", lambda: normalise(X, torch.zeros(2, dtype=torch.long)),
         ValueError, r"batch must be a torch.long tensor of shape \(3,\)"),
    Case(M + "normalise", lambda: normalise(X, kind="l2", eps=0.0), ValueError,
         r"eps must be"),
    Case(M + "rfp_encoding", lambda: rfp_encoding(E, 3, steps=-1), ValueError,
         r"steps must be"),
    Case(M + "rfp_encoding", lambda: rfp_encoding(E, 3, num_features=0), ValueError,
         r"num_features must be"),
    Case(M + "rfp_encoding", lambda: rfp_encoding(E, 3, operator="lap"), ValueError,
         r"operator must be one of"),
    Case(M + "rfp_encoding", lambda: rfp_encoding(E, 3, norm="svd"), ValueError,
         r"norm must be one of"),
    Case(M + "rfp_encoding", lambda: rfp_encoding(E, 3, x0=torch.randn(4, 2)),
         ValueError, r"x0 must have one row per node \(3\)"),
    Case(M + "rfp_encoding", lambda: rfp_encoding(E, 3, x0=torch.ones(3, 2).long()),
         TypeError, r"x0 must be a floating-point tensor"),
    Case(M + "rfp_encoding", lambda: rfp_encoding(E, 0), ValueError,
         r"num_nodes must be"),
    Case(M + "subspace_sines", lambda: subspace_sines(torch.randn(5, 2), X),
         ValueError, r"U and V must have the same number of rows"),
    Case(M + "subspace_sines", lambda: subspace_sines(torch.randn(3), X), ValueError,
         r"U must have 2 dimensions"),
    Case(M + "laplacian_pe", lambda: laplacian_pe(E, 3, k=0), ValueError,
         r"k must be"),
    Case(M + "laplacian_pe", lambda: laplacian_pe(E, 3, 2, torch.zeros(3)), ValueError,
         r"batch must be a torch.long tensor"),
    Case(M + "laplacian_pe", lambda: laplacian_pe(E + 3, 3), ValueError,
         r"edge_index must hold node numbers"),
    Case(M + "random_regular_graphs", lambda: random_regular_graphs(2, 5, 3),
         ValueError, r"d must be < n with n d even"),
    Case(M + "random_regular_graphs", lambda: random_regular_graphs(2, 1, 1),
         ValueError, r"n must be"),
    Case(M + "random_regular_graphs", lambda: random_regular_graphs(0, 6, 3),
         ValueError, r"num_graphs must be"),
    Case(M + "triangle_counts", lambda: triangle_counts(E + 3, 3), ValueError,
         r"edge_index must hold node numbers"),
    Case(M + "triangle_counts", lambda: triangle_counts(E, 3, torch.tensor([0, 1])),
         ValueError, r"batch must be a torch.long tensor of shape \(3,\)"),
    Case(M + "GIN", lambda: GIN(0, 4, 2), ValueError, r"in_features must be"),
    Case(M + "GIN", lambda: GIN(2, 4, 2, layers=0), ValueError, r"layers must be"),
    Case(M + "GIN", lambda: NET(torch.randn(3, 3, 2), torch.cat([E, E + 3], 1),
                                torch.zeros(3, dtype=torch.long)),
         ValueError, r"x must have shape \(copies, n, in_features\)"),
    Case(M + "GIN", lambda: NET(torch.randn(2, 3, 2), E + 6,
                                torch.zeros(3, dtype=torch.long)),
         ValueError, r"edge_index must hold node numbers"),
]


@parametrize(CASES)
def test_bad_input(case):
    check(case)
