"""Bad-input sweep of `papers_lib.graphs.noisy_lgc` (chapter *Local graph clustering with
noisy labels*): each public name refuses an invalid argument with a message naming it."""
import torch

from papers_lib.graphs.noisy_lgc import label_flow_diffusion, label_weights, noisy_labels
from tests.bad_input import Case, check, parametrize

M = "papers_lib.graphs.noisy_lgc."
E = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
LAB = torch.tensor([True, True, False])
NL, LW, LFD = M + "noisy_labels", M + "label_weights", M + "label_flow_diffusion"

CASES = [
    Case(NL, lambda: noisy_labels(LAB.long(), 0.9, 0.9), TypeError, r"target must"),
    Case(NL, lambda: noisy_labels(LAB, 1.5, 0.9), ValueError, r"a1 must"),
    Case(NL, lambda: noisy_labels(LAB, 0.9, float("nan")), ValueError, r"a0 must"),
    Case(LW, lambda: label_weights(E, LAB.long(), 0.1), TypeError, r"labels must"),
    Case(LW, lambda: label_weights(E, LAB[:2], 0.1), ValueError, r"edge_index must"),
    Case(LW, lambda: label_weights(E, LAB, 0.0), ValueError, r"eps must"),
    Case(LW, lambda: label_weights(E, LAB, 1.5), ValueError, r"eps must"),
    Case(LFD, lambda: label_flow_diffusion(E, 2, 0, 2.0), ValueError, r"edge_index must"),
    Case(LFD, lambda: label_flow_diffusion(E, 3, 5, 2.0), ValueError, r"seed must"),
    Case(LFD, lambda: label_flow_diffusion(E, 3, 0, -2.0), ValueError,
         r"source_mass must"),
    Case(LFD, lambda: label_flow_diffusion(E, 3, 0, 2.0, LAB[:2]), ValueError,
         r"labels must"),
    Case(LFD, lambda: label_flow_diffusion(E, 3, 0, 2.0, LAB, eps=2.0), ValueError,
         r"eps must"),
    Case(LFD, lambda: label_flow_diffusion(E, 3, 0, 40.0), ValueError,
         r"sink_capacity must exceed source_mass"),
]


@parametrize(CASES)
def test_bad_input(case):
    check(case)


def test_the_checks_leave_good_input_alone():
    assert noisy_labels(LAB, 1.0, 1.0).tolist() == LAB.tolist()
    assert label_weights(E, LAB, 0.5).tolist() == [1.0, 1.0, 0.5, 0.5]
    x = label_flow_diffusion(E, 3, 0, 2.5, LAB, 0.5)
    assert x.shape == (3,) and x[0] > 0
