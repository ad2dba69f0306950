"""Bad-input sweep of `papers_lib.graphs.rqgnn` (chapter *Rayleigh quotient GNNs for
graph-level anomaly detection*): each public name refuses an invalid argument with a
message naming it."""
import torch

from papers_lib.graphs.rqgnn import (
    ChebConv, GCNPool, RQGNN, anomaly_graphs, fit_graphs, macro_f1, rayleigh_quotient,
    roc_auc, rq_pool, spectral_energy)
from tests.bad_input import Case, check, parametrize

M = "papers_lib.graphs.rqgnn."
E = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
X = torch.randn(3, 2)
B = torch.zeros(3, dtype=torch.long)
DATA = anomaly_graphs(8, 0.5, generator=torch.Generator().manual_seed(0))
DATA.y[:2] = torch.tensor([0, 1])
TR = torch.zeros(8, dtype=torch.bool)
TR[:4] = True
VA = ~TR

CASES = [
    Case(M + "rayleigh_quotient", lambda: rayleigh_quotient(X.long(), E), TypeError,
         r"x must be"),
    Case(M + "rayleigh_quotient", lambda: rayleigh_quotient(X, E + 3), ValueError,
         r"edge_index"),
    Case(M + "rayleigh_quotient", lambda: rayleigh_quotient(X, E, B[:2]), ValueError,
         r"batch must be a torch.long tensor of shape \(3,\)"),
    Case(M + "rayleigh_quotient", lambda: rayleigh_quotient(X, E, B + 1, 1), ValueError,
         r"num_graphs must be an int >= 2, got 1"),
    Case(M + "spectral_energy", lambda: spectral_energy(X, E, 3), ValueError,
         r"x must"),
    Case(M + "spectral_energy", lambda: spectral_energy(X[:, 0], E, 4), ValueError,
         r"x must have num_nodes = 4"),
    Case(M + "anomaly_graphs", lambda: anomaly_graphs(0), ValueError,
         r"num_graphs must be"),
    Case(M + "anomaly_graphs", lambda: anomaly_graphs(4, 1.5), ValueError,
         r"anomaly_rate must be"),
    Case(M + "anomaly_graphs", lambda: anomaly_graphs(4, shuffle_frac=-0.1), ValueError,
         r"shuffle_frac must be"),
    Case(M + "anomaly_graphs", lambda: anomaly_graphs(4, noise=float("inf")),
         ValueError, r"noise must be"),
    Case(M + "anomaly_graphs", lambda: anomaly_graphs(4, sizes=(9, 5)), ValueError,
         r"sizes must be \(low, high\)"),
    Case(M + "anomaly_graphs", lambda: anomaly_graphs(4, sizes=(1, 5)), ValueError,
         r"sizes\[i\] must be"),
    Case(M + "anomaly_graphs", lambda: anomaly_graphs(4, p_in=2.0), ValueError,
         r"p_in must be"),
    Case(M + "ChebConv", lambda: ChebConv(2, 3, 0), ValueError, r"K must be"),
    Case(M + "ChebConv", lambda: ChebConv(0, 3, 2), ValueError, r"in_dim must be"),
    Case(M + "ChebConv", lambda: ChebConv(2, 3, 2)(X[0], E), ValueError, r"x must"),
    Case(M + "rq_pool", lambda: rq_pool(X, torch.randn(1, 3), B), ValueError,
         r"target"),
    Case(M + "rq_pool", lambda: rq_pool(X[0], torch.randn(1, 2), B), ValueError,
         r"h must"),
    Case(M + "rq_pool", lambda: rq_pool(X, torch.randn(1, 2), B + 2), ValueError,
         r"target must have a row for each of the 3 graphs of batch"),
    Case(M + "RQGNN", lambda: RQGNN(2, width=0), ValueError, r"width must be"),
    Case(M + "RQGNN", lambda: RQGNN(2, classes=1), ValueError, r"classes must be"),
    Case(M + "RQGNN", lambda: RQGNN(2, K=0), ValueError, r"K must be"),
    Case(M + "GCNPool", lambda: GCNPool(2, hidden=0), ValueError, r"hidden must be"),
    Case(M + "GCNPool", lambda: GCNPool(2)(X, E, B[:1]), ValueError,
         r"batch must be a torch.long tensor"),
    Case(M + "roc_auc",
         lambda: roc_auc(torch.rand(3), torch.zeros(3, dtype=torch.long)),
         ValueError, r"labels must hold both classes"),
    Case(M + "roc_auc", lambda: roc_auc(torch.rand(3), torch.tensor([0, 1, 2])),
         ValueError, r"labels must hold the classes 0 and 1"),
    Case(M + "roc_auc", lambda: roc_auc(torch.rand(2), torch.tensor([0, 1, 1])),
         ValueError, r"labels must have 2 entries"),
    Case(M + "macro_f1",
         lambda: macro_f1(torch.tensor([0.5, 1.0]), torch.tensor([0, 1])),
         ValueError, r"pred must hold the classes 0 and 1"),
    Case(M + "fit_graphs", lambda: fit_graphs(GCNPool(8), DATA, TR.long(), VA),
         ValueError, r"train must be a boolean mask"),
    Case(M + "fit_graphs", lambda: fit_graphs(GCNPool(8), DATA, TR, VA, epochs=0),
         ValueError, r"epochs must be"),
    Case(M + "fit_graphs", lambda: fit_graphs(GCNPool(8), DATA, TR, VA, lr=-1.0),
         ValueError, r"lr must be"),
    Case(M + "fit_graphs", lambda: fit_graphs(GCNPool(8), DATA, TR & False, VA),
         ValueError, r"train must contain graphs of both classes"),
]


@parametrize(CASES)
def test_bad_input(case):
    check(case)
