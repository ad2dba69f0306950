"""Bad-input sweep of `papers_lib.graphs.wfd` (chapter *Weighted flow diffusion: local
clustering with node attributes*): each public name refuses an invalid argument with a
message naming it."""
import torch

from papers_lib.graphs.wfd import (
    attribute_weights, contextual_planted_cluster, weighted_flow_diffusion)
from tests.bad_input import Case, check, parametrize

M = "papers_lib.graphs.wfd."
E = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
X = torch.zeros(3, 2, dtype=torch.float64)
AW, WFD, CPC = M + "attribute_weights", M + "weighted_flow_diffusion", \
    M + "contextual_planted_cluster"

CASES = [
    Case(AW, lambda: attribute_weights(E, X[:2], 1.0), ValueError, r"edge_index must"),
    Case(AW, lambda: attribute_weights(E, X.long(), 1.0), TypeError, r"x must"),
    Case(AW, lambda: attribute_weights(E, X * float("nan"), 1.0), ValueError, r"x must"),
    Case(AW, lambda: attribute_weights(E, X, -1.0), ValueError, r"gamma must be"),
    Case(WFD, lambda: weighted_flow_diffusion(E, 2, 0, 2.0), ValueError,
         r"edge_index must"),
    Case(WFD, lambda: weighted_flow_diffusion(E, 3, 3, 2.0), ValueError, r"seed must"),
    Case(WFD, lambda: weighted_flow_diffusion(E, 3, -1, 2.0), ValueError, r"seed must"),
    Case(WFD, lambda: weighted_flow_diffusion(E, 3, 0, 0.0), ValueError,
         r"source_mass must"),
    Case(WFD, lambda: weighted_flow_diffusion(E, 3, 0, 50.0), ValueError,
         r"sink_capacity must exceed source_mass"),
    Case(WFD, lambda: weighted_flow_diffusion(E, 3, 0, 2.0, X, gamma=float("nan")),
         ValueError, r"gamma must"),
    Case(WFD, lambda: weighted_flow_diffusion(E, 3, 0, 2.0, tol=0.0), ValueError,
         r"tol must"),
    Case(CPC, lambda: contextual_planted_cluster(1, 5, 0.5, 0.1, 2, 1.0), ValueError,
         r"num_blocks must"),
    Case(CPC, lambda: contextual_planted_cluster(2, 1, 0.5, 0.1, 2, 1.0), ValueError,
         r"block_size must"),
    Case(CPC, lambda: contextual_planted_cluster(2, 5, 1.5, 0.1, 2, 1.0), ValueError,
         r"p must"),
    Case(CPC, lambda: contextual_planted_cluster(2, 5, 0.5, -0.1, 2, 1.0), ValueError,
         r"q must"),
    Case(CPC, lambda: contextual_planted_cluster(3, 5, 0.5, 0.1, 2, 1.0), ValueError,
         r"dim must"),
    Case(CPC, lambda: contextual_planted_cluster(2, 5, 0.5, 0.1, 2, -1.0), ValueError,
         r"mu must"),
    Case(CPC, lambda: contextual_planted_cluster(2, 5, 0.5, 0.1, 2, 1.0, 0.0), ValueError,
         r"sigma must"),
]


@parametrize(CASES)
def test_bad_input(case):
    check(case)


def test_the_checks_leave_good_input_alone():
    assert (attribute_weights(E, X, 0.0) == 1).all()
    x = weighted_flow_diffusion(E, 3, 0, 2.5, X, gamma=1.0)
    assert x.shape == (3,) and x[0] > 0
    g = contextual_planted_cluster(2, 5, 0.5, 0.1, 2, 1.0,
                                   generator=torch.Generator().manual_seed(0))
    assert g.num_nodes == 10 and g.x.shape == (10, 2)
