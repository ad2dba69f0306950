"""Bad-input sweep of `papers_lib.graphs.digrac` (chapter *DIGRAC: digraph clustering by
flow imbalance*): each public name refuses an invalid argument with a message naming
it."""
import torch

from papers_lib.graphs.digrac import (
    DIGRAC, DIMPA, cyclic_meta_graph, disim_clustering, disim_embedding, dsbm,
    fit_digrac, flow_matrix, hermitian_clustering, hermitian_embedding, imbalance_loss,
    imbalance_matrix)
from tests.bad_input import Case, check, parametrize

M = "papers_lib.graphs.digrac."
F3 = cyclic_meta_graph(3, 0.1)
A = (torch.rand(6, 6, generator=torch.Generator().manual_seed(0)) < 0.5).double()
A.fill_diagonal_(0)
P = torch.full((6, 3), 1 / 3, dtype=torch.float64)
X = torch.randn(6, 2)

CASES = [
    Case(M + "cyclic_meta_graph", lambda: cyclic_meta_graph(2, 0.1), ValueError,
         r"K must be"),
    Case(M + "cyclic_meta_graph", lambda: cyclic_meta_graph(3, 0.7), ValueError,
         r"eta must be"),
    Case(M + "dsbm", lambda: dsbm([2, 2, 0], 0.1, F3), ValueError, r"sizes must be"),
    Case(M + "dsbm", lambda: dsbm([2, 2, 2], 1.5, F3), ValueError, r"p must be"),
    Case(M + "dsbm", lambda: dsbm([2, 2], 0.1, F3), ValueError, r"F must have shape"),
    Case(M + "dsbm", lambda: dsbm([2, 2, 2], 0.1, F3 * 2), ValueError, r"F must have"),
    Case(M + "flow_matrix", lambda: flow_matrix(P, -A), ValueError, r"A must have"),
    Case(M + "flow_matrix", lambda: flow_matrix(P[:5], A), ValueError, r"P must have"),
    Case(M + "flow_matrix", lambda: flow_matrix(P * 2, A), ValueError, r"P must hold"),
    Case(M + "imbalance_matrix", lambda: imbalance_matrix(P, A, "max"), ValueError,
         r"normalization must be"),
    Case(M + "imbalance_matrix", lambda: imbalance_matrix(P, A[:, :5]), ValueError,
         r"A must be a non-empty square"),
    Case(M + "imbalance_loss", lambda: imbalance_loss(P, A, beta=4), ValueError,
         r"beta must be"),
    Case(M + "DIMPA", lambda: DIMPA(hops=0), ValueError, r"hops must be"),
    Case(M + "DIMPA", lambda: DIMPA(self_loop=-1.0), ValueError, r"self_loop must be"),
    Case(M + "DIMPA", lambda: DIMPA(copies=2).propagators(torch.stack([A] * 3)), ValueError,
         r"A must have shape \(2, n, n\)"),
    Case(M + "DIGRAC", lambda: DIGRAC(2, 8, 1), ValueError, r"K must be"),
    Case(M + "DIGRAC", lambda: DIGRAC(2, 8, 3, dropout=1.0), ValueError,
         r"dropout must be"),
    Case(M + "DIGRAC", lambda: DIGRAC(0, 8, 3), ValueError, r"in_dim must be"),
    Case(M + "fit_digrac", lambda: fit_digrac(A, X, 3, epochs=0), ValueError,
         r"epochs must be"),
    Case(M + "fit_digrac", lambda: fit_digrac(A, X, 3, lr=0.0), ValueError,
         r"lr must be"),
    Case(M + "fit_digrac", lambda: fit_digrac(A, X, 3, beta=9), ValueError,
         r"beta must be"),
    Case(M + "fit_digrac", lambda: fit_digrac(torch.stack([A, A]), X, 3), ValueError,
         r"A must have shape \(1, n, n\)"),
    Case(M + "hermitian_embedding", lambda: hermitian_embedding(A, 1), ValueError,
         r"K must be"),
    Case(M + "hermitian_embedding", lambda: hermitian_embedding(A.long(), 3), TypeError,
         r"A must be"),
    Case(M + "hermitian_clustering", lambda: hermitian_clustering(torch.stack([A, A]), 3),
         ValueError, r"A must be one"),
    Case(M + "disim_embedding", lambda: disim_embedding(A, 3, tau=-1.0), ValueError,
         r"tau must be"),
    Case(M + "disim_clustering", lambda: disim_clustering(A, 0), ValueError,
         r"K must be"),
]


@parametrize(CASES)
def test_bad_input(case):
    check(case)


def test_the_checks_leave_good_input_alone():
    assert cyclic_meta_graph(3, 0.0).shape == (3, 3)
    A2, y = dsbm([3, 3, 3], 0.5, F3, torch.Generator().manual_seed(1))
    assert A2.shape == (9, 9) and y.shape == (9,)
    assert flow_matrix(P, A).shape == (3, 3)
    assert imbalance_matrix(P, A, "plain").shape == (3, 3)
    assert imbalance_loss(P, A, beta=3).shape == ()
    m = DIMPA(hops=1)
    assert m(X[None], X[None], m.propagators(A)).shape == (1, 6, 4)
    assert DIGRAC(2, 4, 3)(X, DIMPA().propagators(A)).shape == (1, 6, 3)
    lab, hist = fit_digrac(A, X, 3, epochs=2, generator=torch.Generator().manual_seed(0))
    assert lab.shape == (1, 6) and hist.shape == (2, 1)
    assert hermitian_embedding(A, 3).shape == (6, 2)
    assert hermitian_clustering(A, 3).shape == (6,)
    assert disim_embedding(A, 2).shape == (6, 4)
    assert disim_clustering(A, 2).shape == (6,)
