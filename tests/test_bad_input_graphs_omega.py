"""Bad-input sweep of `papers_lib.graphs.omega` (chapter *ωGNN: learnable propagation
operators*): each public name refuses an invalid argument with a message naming it."""
import math

import torch

from papers_lib.graphs.omega import (OmegaGCN, dirichlet_ratio, energy_parabola,
                                     omega_laplacian, omega_operator, omega_propagate,
                                     train_nodes)
from tests.bad_input import Case, check, parametrize

M = "papers_lib.graphs.omega."
E = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
LI, LW = omega_laplacian(E, 3)
X = torch.randn(3, 2)
NET = OmegaGCN(2, 4, 2, layers=2, copies=1)
XB = torch.randn(1, 3, 2)
YB = torch.zeros(1, 3, dtype=torch.long)
MK = torch.ones(1, 3, dtype=torch.bool)

CASES = [
    Case(M + "omega_laplacian", lambda: omega_laplacian(E, 3, kind="comb"), ValueError,
         r"kind must be"),
    Case(M + "omega_laplacian", lambda: omega_laplacian(E + 5, 3), ValueError,
         r"edge_index must hold node numbers"),
    Case(M + "omega_propagate", lambda: omega_propagate(X, math.nan, LI, LW),
         ValueError, r"omega must be"),
    Case(M + "omega_propagate", lambda: omega_propagate(X, torch.ones(3), LI, LW),
         ValueError, r"omega must broadcast to x's shape"),
    Case(M + "omega_propagate", lambda: omega_propagate(X.long(), 1.0, LI, LW),
         TypeError, r"x must be a floating-point tensor"),
    Case(M + "omega_operator", lambda: omega_operator(E, 3, math.inf), ValueError,
         r"omega must be"),
    Case(M + "omega_operator", lambda: omega_operator(E, 3, "1"), TypeError,
         r"omega must be a real number"),
    Case(M + "dirichlet_ratio", lambda: dirichlet_ratio(X[:, 0], E), ValueError,
         r"x must have at least 2 dimensions"),
    Case(M + "dirichlet_ratio", lambda: dirichlet_ratio(X, E, kind="comb"), ValueError,
         r"kind must be"),
    Case(M + "energy_parabola", lambda: energy_parabola(XB, E), ValueError,
         r"x must have 2 dimensions"),
    Case(M + "energy_parabola", lambda: energy_parabola(X[:2], E), ValueError,
         r"edge_index must hold node numbers in \[0, 2\)"),
    Case(M + "OmegaGCN", lambda: OmegaGCN(2, 4, 2, layers=2, omega="node"), ValueError,
         r"omega must be"),
    Case(M + "OmegaGCN", lambda: OmegaGCN(2, 4, 2, layers=-1), ValueError,
         r"layers must be"),
    Case(M + "OmegaGCN", lambda: OmegaGCN(2, 4, 2, layers=2, omega_init=math.nan),
         ValueError, r"omega_init must be"),
    Case(M + "OmegaGCN", lambda: NET(torch.randn(2, 3, 2), LI, LW), ValueError,
         r"x must have shape \(copies, n, in_features\)"),
    Case(M + "train_nodes", lambda: train_nodes(torch.nn.Linear(2, 2), XB, YB, MK, MK,
                                                LI, LW), TypeError,
         r"model must be an OmegaGCN"),
    Case(M + "train_nodes", lambda: train_nodes(NET, XB, YB[:, :2], MK, MK, LI, LW),
         ValueError, r"y must have shape"),
    Case(M + "train_nodes", lambda: train_nodes(NET, XB, YB, MK, MK, LI, LW,
                                                omega_lr=0.0), ValueError,
         r"omega_lr must be"),
    Case(M + "train_nodes", lambda: train_nodes(NET, XB, YB, MK, MK, LI, LW, epochs=0),
         ValueError, r"epochs must be"),
]


@parametrize(CASES)
def test_bad_input(case):
    check(case)
