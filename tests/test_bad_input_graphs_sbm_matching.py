"""Bad-input sweep of `papers_lib.graphs.sbm_matching` (chapter *Exact graph matching on
correlated stochastic block models*): each public name refuses an invalid argument with
a message naming it."""
import torch

from papers_lib.graphs.sbm_matching import (
    correlated_sbm, degree_profile_matching, match_correlated_sbm, match_rate,
    partition_tree_signatures, seeded_refinement, signature_similarity,
    spectral_communities)
from tests.bad_input import Case, check, parametrize

M = "papers_lib.graphs.sbm_matching."
E = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
Y = torch.tensor([0, 1, 1])
F = torch.randn(3, 4)
P = torch.arange(3)

CASES = [
    Case(M + "correlated_sbm", lambda: correlated_sbm([3, 4], 0.5, 0.2, 1.5),
         ValueError, r"s must be"),
    Case(M + "correlated_sbm", lambda: correlated_sbm([3, 4], 0.5, -0.2, 0.5),
         ValueError, r"p_out must be"),
    Case(M + "correlated_sbm", lambda: correlated_sbm([3, 0], 0.5, 0.2, 0.5),
         ValueError, r"sizes\[i\] must be"),
    Case(M + "spectral_communities", lambda: spectral_communities(E, 1),
         ValueError, r"num_nodes must be"),
    Case(M + "spectral_communities", lambda: spectral_communities(E + 5, 3),
         ValueError, r"edge_index must hold"),
    Case(M + "partition_tree_signatures",
         lambda: partition_tree_signatures(E, 3, Y, depth=9), ValueError,
         r"depth must be"),
    Case(M + "partition_tree_signatures",
         lambda: partition_tree_signatures(E, 3, Y[:2]), ValueError,
         r"labels must be"),
    Case(M + "partition_tree_signatures",
         lambda: partition_tree_signatures(E.float(), 3, Y), TypeError,
         r"edge_index must be"),
    Case(M + "signature_similarity", lambda: signature_similarity(F, F[:, :3]),
         ValueError, r"sig_b must have"),
    Case(M + "signature_similarity", lambda: signature_similarity(F.long(), F),
         TypeError, r"sig_a must be"),
    Case(M + "seeded_refinement", lambda: seeded_refinement(E, E, 3, P * 0),
         ValueError, r"perm must be a permutation"),
    Case(M + "seeded_refinement", lambda: seeded_refinement(E, E, 3, P, rounds=-1),
         ValueError, r"rounds must be"),
    Case(M + "match_correlated_sbm", lambda: match_correlated_sbm(E, E, 3, depth=-1),
         ValueError, r"depth must be"),
    Case(M + "match_correlated_sbm", lambda: match_correlated_sbm(E, E, 0),
         ValueError, r"num_nodes must be"),
    Case(M + "degree_profile_matching", lambda: degree_profile_matching(E, E[:1], 3),
         ValueError, r"edge_index must have shape"),
    Case(M + "match_rate", lambda: match_rate(P, P[:2]), ValueError,
         r"perm must be a permutation"),
    Case(M + "match_rate", lambda: match_rate(P, torch.zeros(2, 2)), ValueError,
         r"pi must have 1 dim"),
]


@parametrize(CASES)
def test_bad_input(case):
    check(case)
