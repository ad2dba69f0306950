"""Bad-input sweep of `papers_lib.graphs.homophily` (chapter *Is homophily a necessity
for GNNs?*): each public name refuses an invalid argument with a message naming it."""
import torch

from papers_lib.graphs.homophily import (GCN, add_heterophilous_edges,
                                         concentration_bound, cross_class_similarity,
                                         fit_nodes, neighbour_distributions,
                                         neighbour_label_histogram, neighbourhood_graph)
from tests.bad_input import Case, check, parametrize

M = "papers_lib.graphs.homophily."
Y = torch.arange(3).repeat_interleave(4)
D = neighbour_distributions(3)
E = torch.tensor([[0, 1], [1, 0]])
NET = GCN(2, 3, 3, copies=2)
X = torch.randn(2, 12, 2)
YY = Y.expand(2, -1)
MK = torch.ones(2, 12, dtype=torch.bool)

CASES = [
    Case(M + "neighbour_distributions", lambda: neighbour_distributions(3, 1.5),
         ValueError, r"gamma must be"),
    Case(M + "neighbour_distributions", lambda: neighbour_distributions(1),
         ValueError, r"num_classes must be"),
    Case(M + "neighbour_distributions", lambda: neighbour_distributions(3, 0.0, 3),
         ValueError, r"shift must be"),
    Case(M + "add_heterophilous_edges",
         lambda: add_heterophilous_edges(E, Y, D * 2, 3), ValueError,
         r"dist must have rows that are probability"),
    Case(M + "add_heterophilous_edges",
         lambda: add_heterophilous_edges(E, Y, D, -1), ValueError, r"num_edges must"),
    Case(M + "add_heterophilous_edges",
         lambda: add_heterophilous_edges(E, Y + 3, D, 3), ValueError, r"y must hold"),
    Case(M + "add_heterophilous_edges",
         lambda: add_heterophilous_edges(E, Y.float(), D, 3), TypeError, r"y must be"),
    Case(M + "add_heterophilous_edges",
         lambda: add_heterophilous_edges(E, torch.zeros(4, dtype=torch.long),
                                         D, 3), ValueError, r"dist must put no mass"),
    Case(M + "neighbourhood_graph", lambda: neighbourhood_graph(Y, D, 5),
         ValueError, r"degree must be at most 4"),
    Case(M + "neighbourhood_graph", lambda: neighbourhood_graph(Y, D[:2], 2),
         ValueError, r"dist must have shape"),
    Case(M + "neighbour_label_histogram",
         lambda: neighbour_label_histogram(E + 20, Y, 3), ValueError, r"edge_index"),
    Case(M + "cross_class_similarity", lambda: cross_class_similarity(E, Y, 2),
         ValueError, r"y must hold labels in \[0, 2\)"),
    Case(M + "concentration_bound", lambda: concentration_bound(-1.0, 5, 2, 1.0, 1.0),
         ValueError, r"t must be"),
    Case(M + "concentration_bound",
         lambda: concentration_bound(torch.tensor([-1.0]), 5, 2, 1.0, 1.0),
         ValueError, r"t must be >= 0"),
    Case(M + "concentration_bound", lambda: concentration_bound(1.0, 5, 2, 0.0, 1.0),
         ValueError, r"bound must be"),
    Case(M + "GCN", lambda: GCN(2, 3, 3, dropout=1.0), ValueError, r"dropout must be"),
    Case(M + "GCN", lambda: NET(torch.randn(3, 12, 2)), ValueError,
         r"x must have shape \(copies, n, in_features\)"),
    Case(M + "fit_nodes", lambda: fit_nodes(torch.nn.Linear(2, 2), X, YY, MK, MK, MK),
         TypeError, r"model must be a GCN"),
    Case(M + "fit_nodes", lambda: fit_nodes(NET, X, YY[:1], MK, MK, MK),
         ValueError, r"y must have shape"),
    Case(M + "fit_nodes", lambda: fit_nodes(NET, X, YY, MK, MK, MK, lr=0.0),
         ValueError, r"lr must be"),
]


@parametrize(CASES)
def test_bad_input(case):
    check(case)
