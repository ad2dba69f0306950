"""Bad-input sweep of `papers_lib.graphs.minmax_cc` (chapter *Fast combinatorial min-max
correlation clustering*): each public name refuses an invalid argument with a message
naming it."""
import torch

from papers_lib.graphs.minmax_cc import (
    ball_rounding, brute_force_minmax, combinatorial_minmax, correlation_metric,
    disagreements, fractional_disagreements, minmax_cost, minmax_lp, pivot,
    planted_signed_graph)
from tests.bad_input import Case, check, parametrize

M = "papers_lib.graphs.minmax_cc."
P = torch.eye(4, dtype=torch.bool)
ASYM = P.clone()
ASYM[0, 1] = True
LAB = torch.zeros(4, dtype=torch.long)
X = torch.zeros(4, 4, dtype=torch.float64)

CASES = [
    Case(M + "disagreements", lambda: disagreements(P.int(), LAB), TypeError,
         r"P must be a torch.bool"),
    Case(M + "disagreements", lambda: disagreements(ASYM, LAB), ValueError,
         r"P must be symmetric"),
    Case(M + "disagreements", lambda: disagreements(P, LAB[:3]), ValueError,
         r"labels must have last size 4"),
    Case(M + "disagreements", lambda: disagreements(P, LAB.float()), TypeError,
         r"labels must be a torch.long"),
    Case(M + "minmax_cost", lambda: minmax_cost(P[:3], LAB), ValueError,
         r"P must be a non-empty square"),
    Case(M + "planted_signed_graph", lambda: planted_signed_graph([3, 2], 1.5),
         ValueError, r"flip must be"),
    Case(M + "planted_signed_graph", lambda: planted_signed_graph([3, 0], 0.1),
         ValueError, r"sizes\[i\] must be"),
    Case(M + "planted_signed_graph", lambda: planted_signed_graph(3, 0.1),
         TypeError, r"sizes must be a non-empty sequence"),
    Case(M + "correlation_metric", lambda: correlation_metric(torch.zeros(3, dtype=bool)),
         ValueError, r"P must have 2 dimensions"),
    Case(M + "fractional_disagreements",
         lambda: fractional_disagreements(P, X + 2), ValueError,
         r"x must have entries in \[0, 1\]"),
    Case(M + "fractional_disagreements",
         lambda: fractional_disagreements(P, X[:3, :3]), ValueError,
         r"x must be of shape"),
    Case(M + "ball_rounding", lambda: ball_rounding(X, 0.0), ValueError,
         r"radius must be"),
    Case(M + "ball_rounding", lambda: ball_rounding(X.long()), TypeError,
         r"x must be a floating-point"),
    Case(M + "ball_rounding", lambda: ball_rounding(torch.triu(X + 0.5)), ValueError,
         r"x must be symmetric"),
    Case(M + "combinatorial_minmax", lambda: combinatorial_minmax(ASYM), ValueError,
         r"P must be symmetric"),
    Case(M + "combinatorial_minmax", lambda: combinatorial_minmax(P, 0.7), ValueError,
         r"radius must be"),
    Case(M + "minmax_lp", lambda: minmax_lp(P.float()), TypeError,
         r"P must be a torch.bool"),
    Case(M + "brute_force_minmax",
         lambda: brute_force_minmax(torch.eye(12, dtype=torch.bool)), ValueError,
         r"P.shape\[0\] must be"),
    Case(M + "pivot", lambda: pivot(ASYM), ValueError, r"P must be symmetric"),
]


@parametrize(CASES)
def test_bad_input(case):
    check(case)
