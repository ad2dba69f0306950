"""Bad-input sweep of `papers_lib.graphs.agnostic` (chapter *Graph-agnostic clustering:
homophilic and heterophilic graphs, a mixed filter*): each public name refuses an
invalid argument with a message naming it."""
import torch

from papers_lib.graphs.agnostic import (
    clustering_accuracy, contextual_sbm_multi, graph_agnostic_clustering,
    heterophilic_graph, high_pass_filter, homophilic_graph, low_pass_filter,
    mixed_filter, self_expression, spectral_clustering, subspace_clustering)
from tests.bad_input import Case, check, parametrize

M = "papers_lib.graphs.agnostic."
X = torch.randn(6, 3, generator=torch.Generator().manual_seed(0))
E = torch.tensor([[0, 1, 1, 2, 3, 4], [1, 0, 2, 1, 4, 3]])
W = torch.ones(6, 6) - torch.eye(6)
NAN = X.clone()
NAN[0, 0] = float("nan")
Y = torch.tensor([0, 0, 1, 1, 2, 2])

CASES = [
    Case(M + "contextual_sbm_multi", lambda: contextual_sbm_multi(0, 3, 2, 1.0, 0.5, 1.0),
         ValueError, r"n must be"),
    Case(M + "contextual_sbm_multi", lambda: contextual_sbm_multi(9, 3, 2, 1.0, 0.5, 1.0),
         ValueError, r"n must be a multiple"),
    Case(M + "contextual_sbm_multi", lambda: contextual_sbm_multi(8, 3, 1, 1.0, 0.5, 1.0),
         ValueError, r"classes must be"),
    Case(M + "contextual_sbm_multi", lambda: contextual_sbm_multi(8, 3, 2, 1.0, 1.5, 1.0),
         ValueError, r"homophily must be"),
    Case(M + "contextual_sbm_multi", lambda: contextual_sbm_multi(8, 3, 2, 1.0, 0.5, -1.),
         ValueError, r"mu must be"),
    Case(M + "contextual_sbm_multi", lambda: contextual_sbm_multi(8, 3, 2, 0.0, 0.5, 1.0),
         ValueError, r"avg_degree must be"),
    Case(M + "contextual_sbm_multi", lambda: contextual_sbm_multi(8, 3, 2, 50., 0.5, 1.0),
         ValueError, r"avg_degree must keep"),
    Case(M + "homophilic_graph", lambda: homophilic_graph(X, 6), ValueError, r"k must be"),
    Case(M + "homophilic_graph", lambda: homophilic_graph(X[0], 1), ValueError,
         r"x must have 2"),
    Case(M + "homophilic_graph", lambda: homophilic_graph(NAN, 1), ValueError,
         r"x must be finite"),
    Case(M + "homophilic_graph", lambda: homophilic_graph(X.long(), 1), TypeError,
         r"x must be a floating"),
    Case(M + "heterophilic_graph", lambda: heterophilic_graph(X, E, 0), ValueError,
         r"k must be"),
    Case(M + "heterophilic_graph", lambda: heterophilic_graph(X, E, 1, hops=-1),
         ValueError, r"hops must be"),
    Case(M + "heterophilic_graph", lambda: heterophilic_graph(X, E + 10, 1), ValueError,
         r"edge_index"),
    Case(M + "low_pass_filter", lambda: low_pass_filter(X, E, -1), ValueError,
         r"k must be"),
    Case(M + "low_pass_filter", lambda: low_pass_filter(X, E, 1, p=0.0), ValueError,
         r"p must be"),
    Case(M + "high_pass_filter", lambda: high_pass_filter(X, E, 1, p=1.5), ValueError,
         r"p must be"),
    Case(M + "high_pass_filter", lambda: high_pass_filter(NAN, E, 1), ValueError,
         r"x must be finite"),
    Case(M + "mixed_filter", lambda: mixed_filter(X, E, E, mu=1.5), ValueError,
         r"mu must be"),
    Case(M + "mixed_filter", lambda: mixed_filter(X, E, E, k_low=-1), ValueError,
         r"k must be"),
    Case(M + "self_expression", lambda: self_expression([], 1.0), TypeError,
         r"views must be"),
    Case(M + "self_expression", lambda: self_expression([X], 0.0), ValueError,
         r"alpha must be"),
    Case(M + "self_expression", lambda: self_expression([X, X[:4]], 1.0), ValueError,
         r"views\[1\] must have 6 rows"),
    Case(M + "self_expression", lambda: self_expression([X], 1.0, [1.0, 2.0]),
         ValueError, r"weights must have one entry"),
    Case(M + "self_expression", lambda: self_expression([X], 1.0, [-1.0]), ValueError,
         r"weights\[0\] must be"),
    Case(M + "self_expression", lambda: self_expression([NAN], 1.0), ValueError,
         r"views\[0\] must be finite"),
    Case(M + "spectral_clustering", lambda: spectral_clustering(W[:3], 2), ValueError,
         r"W must be a non-empty square"),
    Case(M + "spectral_clustering", lambda: spectral_clustering(-W, 2), ValueError,
         r"W must be symmetric and non-negative"),
    Case(M + "spectral_clustering", lambda: spectral_clustering(W, 0), ValueError,
         r"k must be"),
    Case(M + "clustering_accuracy", lambda: clustering_accuracy(Y, Y[:4]), ValueError,
         r"labels_true and labels_pred must have the same shape"),
    Case(M + "clustering_accuracy", lambda: clustering_accuracy(Y.float(), Y),
         ValueError, r"labels_true must be a non-empty integer"),
    Case(M + "subspace_clustering", lambda: subspace_clustering(X, 2), TypeError,
         r"views must be"),
    Case(M + "subspace_clustering", lambda: subspace_clustering([X], 2, alpha=-1.0),
         ValueError, r"alpha must be"),
    Case(M + "graph_agnostic_clustering",
         lambda: graph_agnostic_clustering(X, E, 2, structure_weight=-1.0), ValueError,
         r"structure_weight must be"),
    Case(M + "graph_agnostic_clustering",
         lambda: graph_agnostic_clustering(X, E, 2, k_hom=0), ValueError, r"k must be"),
]


@parametrize(CASES)
def test_bad_input(case):
    check(case)


def test_the_checks_leave_good_input_alone():
    g = torch.Generator().manual_seed(1)
    gr = contextual_sbm_multi(8, 4, 2, 2.0, 0.5, 1.0, g)
    assert gr.x.shape == (8, 4)
    assert homophilic_graph(X, 2).shape[0] == 2
    Sb, w = heterophilic_graph(X, E, 2)
    assert Sb.shape[1] == w.shape[0]
    assert low_pass_filter(X, E, 2).shape == X.shape
    assert high_pass_filter(X, E, 2).shape == X.shape
    assert mixed_filter(X, E, Sb, het_weight=w).shape == X.shape
    assert self_expression([X], 1.0).shape == (6, 6)
    assert spectral_clustering(W, 2, g).shape == (6,)
    assert clustering_accuracy(Y, Y) == 1.0
    assert subspace_clustering([X], 2, generator=g).shape == (6,)
    assert graph_agnostic_clustering(X, E, 2, k_hom=2, k_het=2, generator=g).shape == (6,)
