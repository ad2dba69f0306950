"""Bad-input sweep of `papers_lib.graphs.pathnn` (chapter *Path neural networks: beyond
1-WL with paths*): each public name refuses an invalid argument with a message naming
it."""
import torch
from torch import nn

from papers_lib.graphs.pathnn import (PathNN, csl_graph, encode_paths, enumerate_paths,
                                      path_distances, shortest_paths, simple_paths,
                                      wl_colors, wl_equivalent)
from tests.bad_input import Case, check, parametrize

M = "papers_lib.graphs.pathnn."
G = csl_graph(7, 2)
E = G.edge_index
P = simple_paths(E, 7, 2)
H = torch.randn(7, 3)
LSTM = nn.LSTM(3, 4, batch_first=True)
NET = PathNN(1, 4, 2)
NETD = PathNN(1, 4, 2, distances=True)
X = torch.ones(7, 1)

CASES = [
    Case(M + "wl_colors", lambda: wl_colors(E, 7, iterations=-1), ValueError,
         r"iterations must be"),
    Case(M + "wl_colors", lambda: wl_colors(E, 5), ValueError, r"edge_index must hold"),
    Case(M + "wl_colors",
         lambda: wl_colors(E, 7, colors=torch.zeros(6, dtype=torch.long)), ValueError,
         r"colors must be a torch.long tensor of shape \(7,\)"),
    Case(M + "wl_equivalent", lambda: wl_equivalent(G, E), TypeError,
         r"first and second must be Graph"),
    Case(M + "csl_graph", lambda: csl_graph(41, 21), ValueError, r"skip must be"),
    Case(M + "csl_graph", lambda: csl_graph(3, 1), ValueError, r"num_nodes must be"),
    Case(M + "simple_paths", lambda: simple_paths(E, 7, 0), ValueError,
         r"max_length must be"),
    Case(M + "simple_paths", lambda: simple_paths(E.float(), 7, 2), TypeError,
         r"edge_index must be a torch.long"),
    Case(M + "shortest_paths", lambda: shortest_paths(E, 7, 2, single=1), TypeError,
         r"single must be a bool"),
    Case(M + "shortest_paths", lambda: shortest_paths(E, 0, 2), ValueError,
         r"num_nodes must be"),
    Case(M + "path_distances", lambda: path_distances(P[0], E, 7), TypeError,
         r"paths must be a sequence of tensors"),
    Case(M + "path_distances", lambda: path_distances([P[1]], E, 7), ValueError,
         r"paths\[0\] must have 2 columns"),
    Case(M + "path_distances", lambda: path_distances([P[0] + 7], E, 7), ValueError,
         r"paths\[0\] must hold node numbers in \[0, 7\)"),
    Case(M + "enumerate_paths", lambda: enumerate_paths(E, 7, 2, "walks"), ValueError,
         r"kind must be one of"),
    Case(M + "encode_paths", lambda: encode_paths(H, P[1], nn.Linear(3, 4)), TypeError,
         r"encoder must be an nn.LSTM"),
    Case(M + "encode_paths", lambda: encode_paths(H, P[1], nn.LSTM(3, 4)), ValueError,
         r"encoder must have batch_first=True"),
    Case(M + "encode_paths", lambda: encode_paths(H, P[1].float(), LSTM), TypeError,
         r"paths must be a torch.long tensor"),
    Case(M + "encode_paths", lambda: encode_paths(H, P[1], LSTM, torch.randn(3, 3, 2)),
         ValueError, r"annotations must have shape"),
    Case(M + "encode_paths", lambda: encode_paths(H[:, :2], P[1], LSTM), ValueError,
         r"encoder must take inputs of size 2"),
    Case(M + "encode_paths", lambda: encode_paths(H.long(), P[1], LSTM), TypeError,
         r"h must be a floating-point tensor"),
    Case(M + "PathNN", lambda: PathNN(1, 0, 2), ValueError, r"hidden must be"),
    Case(M + "PathNN", lambda: PathNN(1, 4, 2, distances="yes"), TypeError,
         r"distances must be a bool"),
    Case(M + "PathNN", lambda: NET(X, P[:1]), ValueError,
         r"paths must be a sequence of 2 tensors"),
    Case(M + "PathNN", lambda: NET(torch.ones(7, 2), P), ValueError,
         r"x must have 1 features per node"),
    Case(M + "PathNN", lambda: NETD(X, P), ValueError, r"distances must be given"),
    Case(M + "PathNN", lambda: NETD(X, P, [p * 0 + 5 for p in P]), ValueError,
         r"distances\[0\] must be in \[0, 2\]"),
    Case(M + "PathNN", lambda: NET(X, P, batch=torch.zeros(6, dtype=torch.long)),
         ValueError, r"batch must be a torch.long tensor of shape \(7,\)"),
    Case(M + "PathNN", lambda: NET(X, P, batch=torch.ones(7, dtype=torch.long),
                                  num_graphs=1), ValueError, r"num_graphs must be"),
]


@parametrize(CASES)
def test_bad_input(case):
    check(case)
