"""Bad-input sweep of `papers_lib.graphs.gradco` (chapter *Graphlet orbit adjacencies: the
topology random walks miss*): each public name refuses an invalid argument with a message
naming it."""
import torch

from papers_lib.graphs.gradco import (
    connected_sets, orbit_adjacency, pmi_embedding, walk_coefficients, walk_cooccurrence)
from tests.bad_input import Case, check, parametrize

M = "papers_lib.graphs.gradco."
E = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])

CASES = [
    Case(M + "connected_sets", lambda: connected_sets(E, 2, 3), ValueError,
         r"edge_index must hold"),
    Case(M + "connected_sets", lambda: connected_sets(E, 3, 5), ValueError, r"k must be"),
    Case(M + "connected_sets", lambda: connected_sets(E, 3, 1), ValueError, r"k must be"),
    Case(M + "connected_sets", lambda: connected_sets(E.float(), 3, 3), TypeError,
         r"edge_index must"),
    Case(M + "orbit_adjacency", lambda: orbit_adjacency(E, 2), ValueError,
         r"edge_index must hold"),
    Case(M + "orbit_adjacency", lambda: orbit_adjacency(E, 3.5), (TypeError, ValueError),
         r"num_nodes must|edge_index must"),
    Case(M + "walk_cooccurrence", lambda: walk_cooccurrence(E, 3, 0), ValueError,
         r"window must be"),
    Case(M + "walk_cooccurrence", lambda: walk_cooccurrence(E, 2, 1), ValueError,
         r"edge_index must hold"),
    Case(M + "pmi_embedding", lambda: pmi_embedding(torch.ones(3, 3), 4), ValueError,
         r"dim must be"),
    Case(M + "pmi_embedding", lambda: pmi_embedding(-torch.ones(3, 3), 2), ValueError,
         r"M must be"),
    Case(M + "pmi_embedding", lambda: pmi_embedding(torch.ones(3), 1), ValueError,
         r"M must"),
    Case(M + "pmi_embedding", lambda: pmi_embedding(torch.ones(3, 3, dtype=torch.long), 1),
         (TypeError, ValueError), r"M must"),
]
EXEMPT = {M + "walk_coefficients": "takes no arguments: a table of the 28 classes"}


@parametrize(CASES)
def test_bad_input(case):
    check(case)


def test_the_checks_leave_good_input_alone():
    assert connected_sets(E, 3, 3).tolist() == [[0, 1, 2]]
    assert orbit_adjacency(E, 3).shape == (28, 3, 3)
    assert walk_coefficients().shape == (28,)
    assert walk_cooccurrence(E, 3, 2).shape == (3, 3)
    assert pmi_embedding(torch.ones(3, 3), 2).shape == (3, 2)
