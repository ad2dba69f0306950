"""Bad-input sweep of `papers_lib.graphs.bimmdf` (chapter *BiMMDF: mixed memberships in
bipartite weighted networks*): each public name refuses an invalid argument with a
message naming it."""
import torch

from papers_lib.graphs.bimmdf import (
    bimmdf_fit, bimmdf_sample, membership_error, mixed_memberships,
    simplex_memberships, successive_projection)
from tests.bad_input import Case, check, parametrize

M = "papers_lib.graphs.bimmdf."
PI = torch.eye(3, dtype=torch.float64).repeat(2, 1)
P = torch.eye(3, dtype=torch.float64)
X = torch.randn(6, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
MM, SAMP, SPA, SM = (M + "mixed_memberships", M + "bimmdf_sample",
                     M + "successive_projection", M + "simplex_memberships")
FIT, ERR = M + "bimmdf_fit", M + "membership_error"
NAN = torch.full((6, 3), float("nan"), dtype=torch.float64)

CASES = [
    Case(MM, lambda: mixed_memberships(0, 3, 1), ValueError, r"n must be"),
    Case(MM, lambda: mixed_memberships(10, 2.5, 1), TypeError, r"K must be"),
    Case(MM, lambda: mixed_memberships(10, 3, 4), ValueError, r"pure must be"),
    Case(MM, lambda: mixed_memberships(10, 3, 0), ValueError, r"pure must be"),
    Case(SAMP, lambda: bimmdf_sample(PI.float().numpy(), PI, P, 0.5), TypeError,
         r"Pi_r must be"),
    Case(SAMP, lambda: bimmdf_sample(PI, PI * 2, P, 0.5), ValueError,
         r"Pi_c must have nonnegative rows"),
    Case(SAMP, lambda: bimmdf_sample(PI, PI, P[:2], 0.5), ValueError,
         r"P must have shape"),
    Case(SAMP, lambda: bimmdf_sample(PI, PI, P, 0.0), ValueError, r"rho must be"),
    Case(SAMP, lambda: bimmdf_sample(PI, PI, P, 0.5, "gamma"), ValueError,
         r"dist must be one of"),
    Case(SAMP, lambda: bimmdf_sample(PI, PI, P, 0.5, "normal", sigma=float("inf")),
         ValueError, r"sigma must be"),
    Case(SAMP, lambda: bimmdf_sample(PI, PI, P, 0.5, missing=1.0), ValueError,
         r"missing must be"),
    Case(SAMP, lambda: bimmdf_sample(PI, PI, P, 2.0, "bernoulli"), ValueError,
         r"rho \* Pi_r P Pi_c\^T must lie in"),
    Case(SAMP, lambda: bimmdf_sample(PI, PI, -P, 1.0, "poisson"), ValueError,
         r"rho \* Pi_r P Pi_c\^T must lie in"),
    Case(SPA, lambda: successive_projection(X, 4), ValueError, r"K must be"),
    Case(SPA, lambda: successive_projection(NAN, 2), ValueError, r"X must be finite"),
    Case(SPA, lambda: successive_projection(torch.zeros(6, 3, dtype=torch.float64), 2),
         ValueError, r"X must have rank"),
    Case(SM, lambda: simplex_memberships(X, torch.tensor([0, 1])), ValueError,
         r"corners must be"),
    Case(SM, lambda: simplex_memberships(X, torch.tensor([0, 1, 9])), ValueError,
         r"corners must index"),
    Case(SM, lambda: simplex_memberships(X, torch.tensor([0, 0, 1])), ValueError,
         r"corners must pick"),
    Case(SM, lambda: simplex_memberships(X.long(), torch.tensor([0, 1, 2])), TypeError,
         r"X must be a floating"),
    Case(FIT, lambda: bimmdf_fit(X, 0), ValueError, r"K must be"),
    Case(FIT, lambda: bimmdf_fit(NAN, 2), ValueError, r"A must be finite"),
    Case(FIT, lambda: bimmdf_fit(X[0], 1), ValueError, r"A must have 2 dimensions"),
    Case(ERR, lambda: membership_error(PI, PI[:3]), ValueError,
         r"Pi_hat and Pi must have the same"),
    Case(ERR, lambda: membership_error(NAN, PI), ValueError, r"Pi_hat must be finite"),
]


@parametrize(CASES)
def test_bad_input(case):
    check(case)


def test_the_checks_leave_good_input_alone():
    g = torch.Generator().manual_seed(0)
    Pr = mixed_memberships(9, 3, 1, g)
    A = bimmdf_sample(Pr, PI, P, 1.0, "bernoulli", generator=g)
    assert A.shape == (9, 6)
    bimmdf_sample(Pr, PI, -P, 1.0, "signed", generator=g)
    bimmdf_sample(Pr, PI, -P, 1.0, "normal", 0.5, 0.2, g)
    idx = successive_projection(X, 3)
    assert simplex_memberships(X, idx).shape == (6, 3)
    Hr, Hc = bimmdf_fit(A + torch.eye(9, 6, dtype=torch.float64), 3)
    assert Hr.shape == (9, 3) and Hc.shape == (6, 3)
    assert membership_error(PI, PI) == 0.0
