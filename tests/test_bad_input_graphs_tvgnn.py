"""Bad-input sweep of `papers_lib.graphs.tvgnn` (chapter *Total variation graph neural
networks*): each public name refuses an invalid argument with a message naming it."""
import torch

from papers_lib.graphs.tvgnn import (ClusterGNN, GTVConv, balance_loss, fit_clusters,
                                     gtv_weights, mincut_loss, tv_loss)
from tests.bad_input import Case, check, parametrize

M = "papers_lib.graphs.tvgnn."
E = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
X = torch.randn(3, 2)
S = torch.softmax(torch.randn(3, 2), 1)
NET = ClusterGNN(2, 4, 2)
XB = torch.randn(1, 3, 2)

CASES = [
    Case(M + "gtv_weights", lambda: gtv_weights(X, E, eps=0.0), ValueError,
         r"eps must be"),
    Case(M + "gtv_weights", lambda: gtv_weights(X.long(), E), TypeError, r"x must be"),
    Case(M + "gtv_weights", lambda: gtv_weights(X, E + 5), ValueError, r"edge_index"),
    Case(M + "gtv_weights", lambda: gtv_weights(X, E, torch.ones(3)), ValueError,
         r"edge_weight must have one entry per edge"),
    Case(M + "GTVConv", lambda: GTVConv(0, 2), ValueError, r"in_features must be"),
    Case(M + "GTVConv", lambda: GTVConv(2, 2, delta=-0.1), ValueError,
         r"delta must be"),
    Case(M + "GTVConv", lambda: GTVConv(2, 2, eps=0.0), ValueError, r"eps must be"),
    Case(M + "GTVConv", lambda: GTVConv(2, 2)(torch.randn(3, 2), E), ValueError,
         r"x must have 3 dimensions"),
    Case(M + "GTVConv", lambda: GTVConv(2, 2, copies=2)(XB, E), ValueError,
         r"x must have shape \(copies, n, in_features\)"),
    Case(M + "tv_loss", lambda: tv_loss(S[:, :1], E), ValueError,
         r"s must have at least 2 clusters"),
    Case(M + "tv_loss", lambda: tv_loss(S.long(), E), TypeError, r"s must be"),
    Case(M + "tv_loss", lambda: tv_loss(S[None, None], E), ValueError,
         r"s must have shape \(n, K\) or \(copies, n, K\)"),
    Case(M + "tv_loss", lambda: tv_loss(S, E + 3), ValueError, r"edge_index"),
    Case(M + "balance_loss", lambda: balance_loss(S[0]), ValueError,
         r"s must have at least 2 dimensions"),
    Case(M + "balance_loss", lambda: balance_loss([[0.5, 0.5]]), TypeError,
         r"s must be a torch.Tensor"),
    Case(M + "mincut_loss", lambda: mincut_loss(S, E, torch.ones(4, dtype=torch.long)),
         TypeError, r"edge_weight must be"),
    Case(M + "mincut_loss", lambda: mincut_loss(S[:, :1], E), ValueError,
         r"s must have at least 2 clusters"),
    Case(M + "ClusterGNN", lambda: ClusterGNN(2, 4, 1), ValueError,
         r"num_clusters must be"),
    Case(M + "ClusterGNN", lambda: ClusterGNN(2, 4, 2, conv="gat"), ValueError,
         r"conv must be one of"),
    Case(M + "ClusterGNN", lambda: ClusterGNN(2, 4, 2, layers=0), ValueError,
         r"layers must be"),
    Case(M + "ClusterGNN", lambda: ClusterGNN(2, 4, 2, conv="gcn", delta=-1.0),
         ValueError, r"delta must be"),
    Case(M + "ClusterGNN", lambda: NET(torch.randn(1, 3, 5), E), ValueError,
         r"x must have shape \(copies, n, in_features\)"),
    Case(M + "fit_clusters", lambda: fit_clusters(torch.nn.Linear(2, 2), XB, E),
         TypeError, r"model must be a ClusterGNN"),
    Case(M + "fit_clusters", lambda: fit_clusters(NET, XB, E, loss="ncut"), ValueError,
         r"loss must be one of"),
    Case(M + "fit_clusters", lambda: fit_clusters(NET, XB, E, lr=0.0), ValueError,
         r"lr must be"),
    Case(M + "fit_clusters", lambda: fit_clusters(NET, XB, E, epochs=-1), ValueError,
         r"epochs must be"),
    Case(M + "fit_clusters", lambda: fit_clusters(NET, XB, E, tv_coeff=float("nan")),
         ValueError, r"tv_coeff must be"),
]


@parametrize(CASES)
def test_bad_input(case):
    check(case)
