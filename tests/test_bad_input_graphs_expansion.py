"""Bad-input sweep of `papers_lib.graphs.expansion` (chapter *Feature expansion for graph
neural networks*): each public name refuses an invalid argument with a message naming
it."""
import torch

from papers_lib.graphs.expansion import (
    FEGNN, effective_rank, fit_fegnn, principal_cosines, propagated_features,
    structural_components, subspace_correlation)
from tests.bad_input import Case, check, parametrize

M = "papers_lib.graphs.expansion."
E = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
X = torch.randn(3, 2)
NET = FEGNN(2, 2, 2, hidden=3, structural=1, copies=2)
ST = torch.randn(2, 2, 3, 2)
SX = torch.randn(2, 3, 1)
Y = torch.zeros(2, 3, dtype=torch.long)
MK = torch.ones(2, 3, dtype=torch.bool)

CASES = [
    Case(M + "propagated_features", lambda: propagated_features(X, E, -1), ValueError,
         r"num_powers must be"),
    Case(M + "propagated_features", lambda: propagated_features(X.long(), E, 2),
         TypeError, r"x must be a floating-point"),
    Case(M + "propagated_features", lambda: propagated_features(X, E + 5, 2),
         ValueError, r"edge_index must hold"),
    Case(M + "principal_cosines", lambda: principal_cosines(X, torch.randn(4, 1)),
         ValueError, r"a and b must have the same number of rows"),
    Case(M + "principal_cosines", lambda: principal_cosines(X, torch.randn(3, 4)),
         ValueError, r"a and b must have no more columns than rows"),
    Case(M + "principal_cosines", lambda: principal_cosines(X[0], X), ValueError,
         r"a must have 2 dimensions"),
    Case(M + "subspace_correlation", lambda: subspace_correlation(ST[0, :1]),
         ValueError, r"stack must hold at least 2"),
    Case(M + "subspace_correlation", lambda: subspace_correlation(X), ValueError,
         r"stack must have 3 dimensions"),
    Case(M + "effective_rank", lambda: effective_rank(torch.zeros(3, 2)), ValueError,
         r"m must not be a zero matrix"),
    Case(M + "effective_rank", lambda: effective_rank(torch.ones(3)), ValueError,
         r"m must have at least 2 dimensions"),
    Case(M + "structural_components", lambda: structural_components(E, 3, 4),
         ValueError, r"num_components must be an int >= 1, <= 3"),
    Case(M + "structural_components", lambda: structural_components(E, 3, 1, niter=-1),
         ValueError, r"niter must be"),
    Case(M + "structural_components", lambda: structural_components(E, 2, 1),
         ValueError, r"edge_index must hold"),
    Case(M + "FEGNN", lambda: FEGNN(2, 0, 2), ValueError, r"num_powers must be"),
    Case(M + "FEGNN", lambda: FEGNN(2, 2, 2, structural=-1), ValueError,
         r"structural must be"),
    Case(M + "FEGNN", lambda: FEGNN(2, 2, 2, shared=1), TypeError, r"shared must be"),
    Case(M + "FEGNN", lambda: NET(torch.randn(2, 3, 3, 2), SX), ValueError,
         r"stack must have shape \(copies, num_powers, n, in_features\)"),
    Case(M + "FEGNN", lambda: NET(ST), ValueError, r"structure must have shape"),
    Case(M + "fit_fegnn", lambda: fit_fegnn(torch.nn.Linear(2, 2), ST, Y, MK, MK, MK),
         TypeError, r"model must be an FEGNN"),
    Case(M + "fit_fegnn", lambda: fit_fegnn(NET, ST, Y[:1], MK, MK, MK, structure=SX),
         ValueError, r"y must have shape"),
    Case(M + "fit_fegnn", lambda: fit_fegnn(NET, ST, Y, MK, MK, MK, structure=SX,
                                            lr=0.0), ValueError, r"lr must be"),
    Case(M + "fit_fegnn", lambda: fit_fegnn(NET, ST, Y, MK, MK, MK, structure=SX,
                                            epochs=0), ValueError, r"epochs must be"),
]


@parametrize(CASES)
def test_bad_input(case):
    check(case)
