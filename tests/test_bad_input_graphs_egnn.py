"""Bad-input sweep of the EGNN chapter (`papers_lib.graphs.egnn`): each public function
and class refuses an invalid argument with a message naming it."""
import torch

from papers_lib.graphs.egnn import (EGCL, EGNN, charged_nbody, fully_connected,
                                    random_orthogonal)
from tests.bad_input import Case, check, parametrize

T = "papers_lib.graphs.egnn."
EI = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
H, X = torch.ones(3, 4), torch.randn(3, 2)
A = torch.ones(4, 1)
LAYER = EGCL(4, dim_edge=1, hidden=8)
VLAYER = EGCL(4, hidden=8, velocity=True)
NET = EGNN(4, hidden=8, layers=1)

CASES = [
    Case(T + "EGCL", lambda: EGCL(0), ValueError, r"dim_h must be an int >= 1, got 0"),
    Case(T + "EGCL", lambda: EGCL(4, dim_edge=-1), ValueError,
         r"dim_edge must be an int >= 0, got -1"),
    Case(T + "EGCL", lambda: EGCL(4, hidden=2.5), TypeError, r"hidden must be an int"),
    Case(T + "EGCL", lambda: EGCL(4, coord_aggr="max"), ValueError,
         r"coord_aggr must be one of 'mean', 'sum', got 'max'"),
    Case(T + "EGCL", lambda: EGCL(4, velocity=1), TypeError,
         r"velocity must be a bool, got 1"),
    Case(T + "EGCL", lambda: LAYER(H[:, :3], X, EI, A), ValueError,
         r"h must have 4 features per node, got shape \(3, 3\)"),
    Case(T + "EGCL", lambda: LAYER(H, X[:2], EI, A), ValueError,
         r"x must be a torch.float32 tensor with one row per node \(3\), .*\(2, 2\)"),
    Case(T + "EGCL", lambda: LAYER(H, X.double(), EI, A), ValueError,
         r"x must be a torch.float32 tensor .*got torch.float64"),
    Case(T + "EGCL", lambda: LAYER(H, X, EI + 1, A), ValueError,
         r"edge_index must hold node numbers in \[0, 3\)"),
    Case(T + "EGCL", lambda: LAYER(H, X, EI), TypeError,
         r"edge_attr must be a torch.Tensor, got NoneType"),
    Case(T + "EGCL", lambda: LAYER(H, X, EI, A[:3]), ValueError,
         r"edge_attr must have shape \(4, 1\), got \(3, 1\)"),
    Case(T + "EGCL", lambda: EGCL(4, hidden=8)(H, X, EI, A), ValueError,
         r"edge_attr must be None for a layer built with dim_edge=0"),
    Case(T + "EGCL", lambda: VLAYER(H, X, EI), ValueError,
         r"v must be given exactly when the layer has velocity=True"),
    Case(T + "EGCL", lambda: VLAYER(H, X, EI, v=X[:, :1]), ValueError,
         r"v must be a torch.float32 tensor of shape \(3, 2\), got .*\(3, 1\)"),
    Case(T + "EGCL", lambda: VLAYER(H, X.tolist(), EI, v=X), TypeError,
         r"x must be a torch.Tensor, got list"),
    Case(T + "EGNN", lambda: EGNN(0), ValueError,
         r"in_dim must be an int >= 1, got 0"),
    Case(T + "EGNN", lambda: EGNN(2, layers=0), ValueError,
         r"layers must be an int >= 1, got 0"),
    Case(T + "EGNN", lambda: EGNN(2, coord_aggr="mul"), ValueError,
         r"coord_aggr must be one of 'mean', 'sum', got 'mul'"),
    Case(T + "EGNN", lambda: NET(H[:, :2], X, EI), ValueError,
         r"h must have 4 features per node, got shape \(3, 2\)"),
    Case(T + "EGNN", lambda: NET(H, X, EI.float()), TypeError,
         r"edge_index must be a torch.long tensor, got torch.float32"),
    Case(T + "EGNN", lambda: NET(H.long(), X, EI), TypeError,
         r"h must be a floating-point tensor, got torch.int64"),
    Case(T + "fully_connected", lambda: fully_connected(0), ValueError,
         r"num_nodes must be an int >= 1, got 0"),
    Case(T + "fully_connected", lambda: fully_connected(3, 1.5), TypeError,
         r"num_graphs must be an int, got 1.5"),
    Case(T + "random_orthogonal", lambda: random_orthogonal(0), ValueError,
         r"dim must be an int >= 1, got 0"),
    Case(T + "random_orthogonal", lambda: random_orthogonal(3, generator=1), TypeError,
         r"generator must be a torch.Generator, got int"),
    Case(T + "random_orthogonal", lambda: random_orthogonal(3, dtype=torch.long),
         TypeError, r"dtype must be a floating-point torch.dtype, got torch.int64"),
    Case(T + "charged_nbody", lambda: charged_nbody(0), ValueError,
         r"n_systems must be an int >= 1, got 0"),
    Case(T + "charged_nbody", lambda: charged_nbody(2, n_particles=1), ValueError,
         r"n_particles must be an int >= 2, got 1"),
    Case(T + "charged_nbody", lambda: charged_nbody(2, dt=-0.1), ValueError,
         r"dt must be .*, got -0.1"),
    Case(T + "charged_nbody", lambda: charged_nbody(2, dt=float("inf")), ValueError,
         r"dt must be .*, got inf"),
    Case(T + "charged_nbody", lambda: charged_nbody(2, max_force=0.0), ValueError,
         r"max_force must be .*, got 0.0"),
    Case(T + "charged_nbody", lambda: charged_nbody(2, steps=-1), ValueError,
         r"steps must be an int >= 0, got -1"),
    Case(T + "charged_nbody", lambda: charged_nbody(2, generator="g"), TypeError,
         r"generator must be a torch.Generator, got str"),
]
EXEMPT: dict[str, str] = {}


@parametrize(CASES)
def test_bad_input(case):
    check(case)
