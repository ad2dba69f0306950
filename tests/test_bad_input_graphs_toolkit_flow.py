"""Bad-input sweep of the toolkit's flow diffusion section (`flow_diffusion`,
`precision_recall_f1` of `papers_lib.graphs.toolkit`): each refuses an invalid argument
with a message naming it."""
import torch

from papers_lib.graphs.toolkit import (
    flow_diffusion, precision_recall_f1, seed_flow_diffusion)
from tests.bad_input import Case, check, parametrize

M = "papers_lib.graphs.toolkit."
FD = M + "flow_diffusion"
E = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
T = torch.ones(3, dtype=torch.float64)
D = torch.tensor([2.0, 0.0, 0.0], dtype=torch.float64)
W = torch.ones(4, dtype=torch.float64)
B = torch.tensor([True, False, True])

CASES = [
    Case(FD, lambda: flow_diffusion(E, 2, D[:2], T[:2]), ValueError, r"edge_index must"),
    Case(FD, lambda: flow_diffusion(E.float(), 3, D, T), TypeError, r"edge_index must"),
    Case(FD, lambda: flow_diffusion(E, 3, D[:2], T), ValueError, r"source_mass must"),
    Case(FD, lambda: flow_diffusion(E, 3, -D, T), ValueError, r"source_mass must"),
    Case(FD, lambda: flow_diffusion(E, 3, D.long(), T), TypeError, r"source_mass must"),
    Case(FD, lambda: flow_diffusion(E, 3, D, T * float("nan")), ValueError,
         r"sink_capacity must"),
    Case(FD, lambda: flow_diffusion(E, 3, D * 5, T), ValueError,
         r"sink_capacity must exceed source_mass"),
    Case(FD, lambda: flow_diffusion(E, 3, D, T, edge_weight=-W), ValueError,
         r"edge_weight must"),
    Case(FD, lambda: flow_diffusion(E, 3, D, T, edge_weight=W[:3]), ValueError,
         r"edge_weight must"),
    Case(FD, lambda: flow_diffusion(E[:, :3], 3, D, T), ValueError,
         r"edge_index must be undirected"),
    Case(FD, lambda: flow_diffusion(E, 3, D, T, edge_weight=torch.tensor(
        [1.0, 2.0, 1.0, 1.0], dtype=torch.float64)), ValueError,
         r"edge_index must be undirected"),
    Case(FD, lambda: flow_diffusion(E, 3, D, T, max_iter=0), ValueError,
         r"max_iter must be"),
    Case(FD, lambda: flow_diffusion(E, 3, D, T, tol=0.0), ValueError, r"tol must be"),
    Case(FD, lambda: flow_diffusion(E, 3, D * 1.4, T, max_iter=1, tol=1e-12),
         RuntimeError, r"max_iter"),
    Case(M + "precision_recall_f1", lambda: precision_recall_f1(B.long(), B), TypeError,
         r"pred and target must"),
    Case(M + "precision_recall_f1", lambda: precision_recall_f1(B, B[:2]), ValueError,
         r"target must"),
    Case(M + "precision_recall_f1", lambda: precision_recall_f1(B, ~B & B), ValueError,
         r"target must"),
    Case(M + "seed_flow_diffusion", lambda: seed_flow_diffusion(E, 3, 3, 2.0), ValueError,
         r"seed must be"),
    Case(M + "seed_flow_diffusion", lambda: seed_flow_diffusion(E, 3, 0, 0.0), ValueError,
         r"source_mass must be"),
    Case(M + "seed_flow_diffusion", lambda: seed_flow_diffusion(E, 2, 0, 2.0), ValueError,
         r"edge_index must"),
]


@parametrize(CASES)
def test_bad_input(case):
    check(case)


def test_the_checks_leave_good_input_alone():
    x = flow_diffusion(E, 3, D, T, edge_weight=W)
    assert x.shape == (3,) and (x >= 0).all() and x[0] > 0
    assert precision_recall_f1(x > 0, B) == (1.0, 0.5, 2 / 3)   # support {0}
    assert torch.equal(seed_flow_diffusion(E, 3, 0, 2.0), x)
