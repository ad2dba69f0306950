"""Bad-input sweep of `papers_lib.graphs.topo_swaps` (chapter *Topological swaps:
optimizing NOTEARS objectives over orders*): each public name refuses an invalid
argument with a message naming it."""
import torch

from papers_lib.graphs.topo_swaps import (
    dag_order, fit_order, ls_score, notears_linear, order_score, topological_swaps)
from tests.bad_input import Case, check, parametrize

M = "papers_lib.graphs.topo_swaps."
X = torch.randn(10, 3, dtype=torch.float64)
O = torch.arange(3)
W = torch.zeros(3, 3, dtype=torch.float64)

CASES = [
    Case(M + "ls_score", lambda: ls_score(X, W[:2]), ValueError, r"W must have shape"),
    Case(M + "ls_score", lambda: ls_score(X, W, lam=-1.0), ValueError, r"lam must be"),
    Case(M + "ls_score", lambda: ls_score(X.long(), W), TypeError, r"X must be"),
    Case(M + "fit_order", lambda: fit_order(X, torch.tensor([0, 0, 1])), ValueError,
         r"order must be a permutation"),
    Case(M + "fit_order", lambda: fit_order(X, O, threshold=float("nan")), ValueError,
         r"threshold must be"),
    Case(M + "fit_order", lambda: fit_order(X * float("nan"), O), ValueError,
         r"X must be a finite"),
    Case(M + "order_score", lambda: order_score(X, torch.arange(4)), ValueError,
         r"orders must be a permutation"),
    Case(M + "order_score", lambda: order_score(X, torch.zeros(1, 1, 3).long()),
         ValueError, r"orders must be"),
    Case(M + "topological_swaps", lambda: topological_swaps(X, O, pairs="some"),
         ValueError, r"pairs must be"),
    Case(M + "topological_swaps", lambda: topological_swaps(X, O, max_swaps=-1),
         ValueError, r"max_swaps must be"),
    Case(M + "topological_swaps", lambda: topological_swaps(X, O.float()), ValueError,
         r"init_order must be a permutation"),
    Case(M + "notears_linear", lambda: notears_linear(X, lam=-0.1), ValueError,
         r"lam must be"),
    Case(M + "notears_linear", lambda: notears_linear(X, max_outer=0), ValueError,
         r"max_outer must be"),
    Case(M + "notears_linear", lambda: notears_linear(X, h_tol=0.0), ValueError,
         r"h_tol must be"),
    Case(M + "notears_linear", lambda: notears_linear(X[:1]), ValueError,
         r"X must be a finite"),
    Case(M + "dag_order", lambda: dag_order(W[:2]), ValueError, r"W must have shape"),
    Case(M + "dag_order", lambda: dag_order(W.long()), TypeError, r"W must be"),
]


@parametrize(CASES)
def test_bad_input(case):
    check(case)
