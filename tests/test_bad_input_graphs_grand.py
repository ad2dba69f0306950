"""Bad-input sweep of GRAND (`papers_lib.graphs.grand`): each public name refuses an
invalid argument with a message naming it."""
import torch

from papers_lib.graphs.grand import (GRAND, DiffusionAttention, GrandField,
                                     backward_euler, diffuse, edge_softmax)
from tests.bad_input import Case, check, parametrize

EI = torch.tensor([[0, 1, 1, 2, 0, 1, 2], [1, 0, 2, 1, 0, 1, 2]])   # a path, self-loops
X = torch.randn(3, 4)
ATT = DiffusionAttention(4)
T01 = torch.tensor([0.0, 1.0])


def field(**kw):
    return GrandField(**{"edge_index": EI, "num_nodes": 3, "attention": ATT, **kw})


CASES = [
    Case("papers_lib.graphs.grand.edge_softmax",
         lambda: edge_softmax(torch.zeros(3), torch.tensor([0, 1]), 2), ValueError,
         r"index must have one entry per score"),
    Case("papers_lib.graphs.grand.edge_softmax",
         lambda: edge_softmax(torch.zeros(2), torch.tensor([0, 5]), 2), ValueError,
         r"index must hold node numbers in \[0, 2\)"),
    Case("papers_lib.graphs.grand.edge_softmax",
         lambda: edge_softmax(torch.zeros(2, dtype=torch.long), torch.tensor([0, 1]), 2),
         TypeError, r"scores must be a floating-point tensor"),
    Case("papers_lib.graphs.grand.DiffusionAttention",
         lambda: DiffusionAttention(0), ValueError, r"dim must be an int >= 1, got 0"),
    Case("papers_lib.graphs.grand.DiffusionAttention",
         lambda: DiffusionAttention(4, heads=1.5), TypeError, r"heads must be an int"),
    Case("papers_lib.graphs.grand.DiffusionAttention",
         lambda: ATT(torch.randn(3, 5), EI), ValueError, r"x must have 4 features"),
    Case("papers_lib.graphs.grand.DiffusionAttention",
         lambda: ATT(X, EI.float()), TypeError, r"edge_index must be a torch.long"),
    Case("papers_lib.graphs.grand.GrandField", lambda: field(attention=3), TypeError,
         r"attention must be callable"),
    Case("papers_lib.graphs.grand.GrandField",
         lambda: field(attention=None, nonlinear=True), ValueError,
         r"nonlinear=True needs an attention"),
    Case("papers_lib.graphs.grand.GrandField",
         lambda: GrandField(torch.tensor([[0], [1]]), 3), ValueError,
         r"every node must receive an edge"),
    Case("papers_lib.graphs.grand.GrandField", lambda: field()(torch.tensor(0.0), X),
         RuntimeError, r"call fix\(x0\)"),
    Case("papers_lib.graphs.grand.GrandField",
         lambda: field(attention=lambda x, ei: torch.ones(ei.shape[1])).fix(X),
         ValueError, r"attention must sum to 1"),
    Case("papers_lib.graphs.grand.GrandField", lambda: field().fix(torch.randn(5, 4)),
         ValueError, r"x0 must have one row per node \(3\)"),
    Case("papers_lib.graphs.grand.backward_euler",
         lambda: backward_euler(lambda t, x: x, X, T01), TypeError,
         r"field must be a GrandField"),
    Case("papers_lib.graphs.grand.backward_euler",
         lambda: backward_euler(field(), X, torch.tensor([1.0, 0.0])), ValueError,
         r"t must be a non-empty strictly increasing"),
    Case("papers_lib.graphs.grand.backward_euler",
         lambda: backward_euler(field(), X, T01, step_size=0.0), ValueError,
         r"step_size must be a real number > 0"),
    Case("papers_lib.graphs.grand.backward_euler",
         lambda: backward_euler(field(), X, T01, solver="cg"), ValueError,
         r"solver must be one of 'dense', 'iterative', got 'cg'"),
    Case("papers_lib.graphs.grand.backward_euler",
         lambda: backward_euler(field(), X, T01, solver="iterative", max_iter=1,
                                tol=1e-12), RuntimeError, r"did not reach tol"),
    Case("papers_lib.graphs.grand.diffuse", lambda: diffuse(field(), X, float("nan")),
         ValueError, r"T must be a real number > 0, got nan"),
    Case("papers_lib.graphs.grand.diffuse", lambda: diffuse(field(), X, 1.0, "adams"),
         ValueError, r"method must be one of"),
    Case("papers_lib.graphs.grand.diffuse",
         lambda: diffuse(field(), X, 1.0, "euler", step_size=float("inf")), ValueError,
         r"step_size must be a finite real number > 0"),
    Case("papers_lib.graphs.grand.GRAND", lambda: GRAND(4, 8, 2, T=-1.0), ValueError,
         r"T must be a real number > 0, got -1.0"),
    Case("papers_lib.graphs.grand.GRAND",
         lambda: GRAND(4, 8, 2, nonlinear=True, attention=False), ValueError,
         r"nonlinear=True needs attention=True"),
    Case("papers_lib.graphs.grand.GRAND", lambda: GRAND(4, 8, 2, method="rk45"),
         ValueError, r"method must be one of"),
    Case("papers_lib.graphs.grand.GRAND", lambda: GRAND(4, 8, 2)(X[:, 0], EI),
         ValueError, r"x must have 2 dimensions"),
]

EXEMPT: dict = {}  # Attention (a type alias) and METHODS (a tuple) are not called


@parametrize(CASES)
def test_bad_input(case):
    check(case)


def test_the_checks_leave_good_input_alone():
    """The refusals above do not reject valid calls."""
    assert edge_softmax(torch.zeros(2), torch.tensor([0, 1]), 2).tolist() == [1.0, 1.0]
    assert ATT(X, EI).shape == (7,)
    assert backward_euler(field(), X, T01, step_size=0.5).shape == (2, 3, 4)
    assert diffuse(field(), X, 1.0, "euler", step_size=0.5).shape == (3, 4)
    assert GRAND(4, 8, 2, method="implicit")(X, EI[:, :4]).shape == (3, 2)
