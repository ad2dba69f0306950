"""Bad-input sweep of `papers_lib.graphs.clusterfug` (chapter *Clustering fully
connected graphs by multicut*): each public name refuses an invalid argument with a
message naming it."""
import torch

from papers_lib.graphs.clusterfug import (cluster_costs, dense_costs, dense_gaec,
                                          exact_multicut, knn_edges, multicut_objective,
                                          pair_costs, sparse_gaec, sphere_clusters)
from tests.bad_input import Case, check, parametrize

M = "papers_lib.graphs.clusterfug."
F = torch.randn(6, 3)
Y = torch.tensor([0, 0, 1, 1, 2, 2])
E = torch.tensor([[0, 1, 2], [1, 2, 3]])
W = torch.ones(3)
NAN = F.clone()
NAN[0, 0] = float("nan")

CASES = [
    Case(M + "dense_costs", lambda: dense_costs(F[0]), ValueError,
         r"features must have 2 dimensions"),
    Case(M + "dense_costs", lambda: dense_costs(F, float("inf")), ValueError,
         r"offset must be"),
    Case(M + "dense_costs", lambda: dense_costs(NAN), ValueError,
         r"features must be finite"),
    Case(M + "cluster_costs", lambda: cluster_costs(F, Y.float()), TypeError,
         r"labels must be a torch.long"),
    Case(M + "cluster_costs", lambda: cluster_costs(F, Y[:4]), ValueError,
         r"labels must hold 6"),
    Case(M + "multicut_objective", lambda: multicut_objective(F, Y - 1), ValueError,
         r"labels must hold 6 non-negative"),
    Case(M + "multicut_objective", lambda: multicut_objective(F.long(), Y), TypeError,
         r"features must be a floating"),
    Case(M + "dense_gaec", lambda: dense_gaec(NAN), ValueError, r"features must be"),
    Case(M + "dense_gaec", lambda: dense_gaec(F, "a"), TypeError, r"offset must be"),
    Case(M + "dense_gaec", lambda: dense_gaec(torch.zeros(0, 3)), ValueError,
         r"features must have at least one row"),
    Case(M + "exact_multicut", lambda: exact_multicut(torch.zeros(10, 10)), ValueError,
         r"costs must be a square matrix with 1 to 9 rows"),
    Case(M + "exact_multicut", lambda: exact_multicut(torch.triu(torch.ones(3, 3))),
         ValueError, r"costs must be symmetric"),
    Case(M + "exact_multicut", lambda: exact_multicut(torch.zeros(3, 4)), ValueError,
         r"costs must be a square"),
    Case(M + "knn_edges", lambda: knn_edges(F, 6), ValueError, r"k must be"),
    Case(M + "knn_edges", lambda: knn_edges(F, 0), ValueError, r"k must be"),
    Case(M + "pair_costs", lambda: pair_costs(F, E + 5), ValueError, r"edge_index"),
    Case(M + "pair_costs", lambda: pair_costs(F, E, float("nan")), ValueError,
         r"offset must be"),
    Case(M + "sparse_gaec", lambda: sparse_gaec(E, W[:2], 6), ValueError,
         r"edge_cost must have one entry per edge"),
    Case(M + "sparse_gaec", lambda: sparse_gaec(E, W, 3), ValueError, r"edge_index"),
    Case(M + "sparse_gaec", lambda: sparse_gaec(torch.tensor([[1], [1]]), W[:1], 6),
         ValueError, r"edge_index must have no self-loops"),
    Case(M + "sparse_gaec", lambda: sparse_gaec(E, W * float("inf"), 6), ValueError,
         r"edge_cost must be finite"),
    Case(M + "sparse_gaec", lambda: sparse_gaec(E, W.long(), 6), TypeError,
         r"edge_cost must be a floating"),
    Case(M + "sphere_clusters", lambda: sphere_clusters(10, 0, 3, 0.1), ValueError,
         r"k must be"),
    Case(M + "sphere_clusters", lambda: sphere_clusters(10, 2, 3, -0.1), ValueError,
         r"noise must be"),
]


@parametrize(CASES)
def test_bad_input(case):
    check(case)
