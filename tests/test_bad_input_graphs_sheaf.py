"""Bad-input sweep of `papers_lib.graphs.sheaf` (chapter *Neural sheaf diffusion*):
each public name refuses an invalid argument with a message naming it."""
import torch

from papers_lib.graphs.sheaf import (SheafDiffusion, class_sheaf,
                                     num_map_params, restriction_maps, reverse_edges,
                                     separable_classes, sheaf_heat, sheaf_laplacian,
                                     sheaf_propagate, sheaf_to_dense)
from tests.bad_input import Case, check, parametrize

M = "papers_lib.graphs.sheaf."
EI = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])          # a path of 3 nodes
MAPS = torch.eye(2).repeat(4, 1, 1)
IDX, B = sheaf_laplacian(EI, MAPS, 3)
Y = torch.tensor([0, 1, 0])
NET = SheafDiffusion(2, 2, 2, 2, layers=1, kind="diag", copies=2)
X = torch.randn(2, 3, 2)
YY = Y.expand(2, -1)
MK = torch.ones(2, 3, dtype=torch.bool)
EU = torch.cat([EI, EI + 3], 1)

CASES = [
    Case(M + "reverse_edges", lambda: reverse_edges(torch.tensor([[0, 1], [1, 2]]), 3),
         ValueError, r"edge_index must hold every edge in both directions"),
    Case(M + "reverse_edges", lambda: reverse_edges(torch.tensor([[0, 0], [0, 0]]), 3),
         ValueError, r"edge_index must have no self-loops"),
    Case(M + "reverse_edges",
         lambda: reverse_edges(torch.tensor([[0, 1, 0], [1, 0, 1]]), 3),
         ValueError, r"edge_index must have no repeated edges"),
    Case(M + "reverse_edges", lambda: reverse_edges(EI, 2), ValueError, r"edge_index"),
    Case(M + "num_map_params", lambda: num_map_params("full", 2), ValueError,
         r"kind must be"),
    Case(M + "num_map_params", lambda: num_map_params("diag", 0), ValueError,
         r"stalk_dim must be"),
    Case(M + "restriction_maps",
         lambda: restriction_maps(torch.zeros(4, 3), "orth", 2),
         ValueError, r"raw must have last dimension 1"),
    Case(M + "restriction_maps",
         lambda: restriction_maps(torch.zeros(4, 2, dtype=torch.long), "diag", 2),
         TypeError, r"raw must be a floating"),
    Case(M + "sheaf_laplacian", lambda: sheaf_laplacian(EI, MAPS[:3], 3), ValueError,
         r"maps must have shape \(m, d, d\) or \(m, d\) with m = 4"),
    Case(M + "sheaf_laplacian", lambda: sheaf_laplacian(EI, torch.ones(4, 2, 3), 3),
         ValueError, r"maps must have shape"),
    Case(M + "sheaf_laplacian", lambda: sheaf_laplacian(EI, MAPS, 0), ValueError,
         r"num_nodes must be"),
    Case(M + "sheaf_propagate", lambda: sheaf_propagate(torch.randn(3, 3), IDX, B, 3),
         ValueError, r"x must have shape \(n, d\) or \(n, d, f\)"),
    Case(M + "sheaf_propagate",
         lambda: sheaf_propagate(torch.randn(3, 2), IDX, B[:4], 3),
         ValueError, r"blocks must have shape"),
    Case(M + "sheaf_to_dense", lambda: sheaf_to_dense(IDX, B, 2), ValueError,
         r"edge_index must hold node numbers"),
    Case(M + "sheaf_heat", lambda: sheaf_heat(torch.randn(3, 2), IDX, B, 3, t=-1.0),
         ValueError, r"t must be"),
    Case(M + "sheaf_heat", lambda: sheaf_heat(torch.randn(4, 2), IDX, B, 3),
         ValueError, r"x0 must have shape"),
    Case(M + "sheaf_heat",
         lambda: sheaf_heat(torch.randn(3, 2), IDX,
                            B + torch.tensor([[0.0, 1], [0, 0]]), 3), ValueError,
         r"blocks must form a symmetric operator"),
    Case(M + "class_sheaf", lambda: class_sheaf(EI, Y, 3, 1), ValueError,
         r"num_classes must be at most 2"),
    Case(M + "class_sheaf", lambda: class_sheaf(EI, Y + 2, 2, 2), ValueError,
         r"y must be a torch.long tensor of labels in \[0, 2\)"),
    Case(M + "separable_classes",
         lambda: separable_classes(torch.randn(3, 2), Y, 2, margin=0.0), ValueError,
         r"margin must be"),
    Case(M + "separable_classes", lambda: separable_classes(torch.randn(4, 2), Y, 2),
         ValueError, r"y must have one label per row of x"),
    Case(M + "SheafDiffusion", lambda: SheafDiffusion(2, 2, 2, 2, kind="full"),
         ValueError, r"kind must be"),
    Case(M + "SheafDiffusion", lambda: SheafDiffusion(2, 2, 2, 2, dropout=1.0),
         ValueError, r"dropout must be"),
    Case(M + "SheafDiffusion", lambda: NET(torch.randn(3, 3, 2), EU), ValueError,
         r"x must have shape \(copies, n, in_features\)"),
]

EXEMPT: dict = {}  # KINDS (a tuple) is not called


@parametrize(CASES)
def test_bad_input(case):
    check(case)
