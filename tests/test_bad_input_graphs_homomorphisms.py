"""Bad-input sweep of `papers_lib.graphs.homomorphisms` (chapter *Sampling random graph
homomorphisms*): each public name refuses an invalid argument with a message naming
it."""
import torch

from papers_lib.graphs.homomorphisms import (
    brute_force_hom_density, conditional_density, glauber_chain, hom_weights, macc,
    path_motif, pivot_chain, star_motif, tree_hom_density, tree_sample, tree_weights,
    watts_strogatz)
from tests.bad_input import Case, check, parametrize

M = "papers_lib.graphs.homomorphisms."
A = torch.tensor([[0.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 0.0]])
P3 = torch.tensor([[0, 1], [1, 2]])
TR = torch.zeros(5, 2, 3, dtype=torch.long)

CASES = [
    Case(M + "path_motif", lambda: path_motif(0), ValueError, r"k must be"),
    Case(M + "star_motif", lambda: star_motif(1.5), TypeError, r"k must be"),
    Case(M + "hom_weights", lambda: hom_weights(A, P3, torch.zeros(3)), TypeError,
         r"x must be"),
    Case(M + "hom_weights", lambda: hom_weights(-A, P3, torch.zeros(1, 3).long()),
         ValueError, r"A must have"),
    Case(M + "brute_force_hom_density", lambda: brute_force_hom_density(A, P3, 2),
         ValueError, r"edges must hold"),
    Case(M + "brute_force_hom_density",
         lambda: brute_force_hom_density(torch.ones(20, 20), P3, 5), ValueError,
         r"k must keep"),
    Case(M + "tree_weights", lambda: tree_weights(A, torch.tensor([[1], [0]]), 2),
         ValueError, r"edges must form a tree"),
    Case(M + "tree_weights", lambda: tree_weights(A, P3.float(), 3), TypeError,
         r"edges must be"),
    Case(M + "tree_hom_density", lambda: tree_hom_density(A, P3, 3, torch.ones(3)),
         ValueError, r"alpha must be"),
    Case(M + "tree_hom_density", lambda: tree_hom_density(torch.ones(2, 3), P3, 3),
         ValueError, r"A must be"),
    Case(M + "tree_sample", lambda: tree_sample(A, P3, 3, torch.tensor([5])),
         ValueError, r"root must be"),
    Case(M + "glauber_chain", lambda: glauber_chain(A, P3, 3, 0), ValueError,
         r"steps must be"),
    Case(M + "glauber_chain", lambda: glauber_chain(A, P3, 3, 5, 1,
                                                    x0=torch.tensor([[0, 0, 0]])),
         ValueError, r"x0 must have positive weight"),
    Case(M + "glauber_chain", lambda: glauber_chain(A.long(), P3, 3, 5), TypeError,
         r"A must be"),
    Case(M + "pivot_chain", lambda: pivot_chain(torch.triu(A), P3, 3, 5), ValueError,
         r"A must be symmetric"),
    Case(M + "pivot_chain", lambda: pivot_chain(A, P3, 3, 5, chains=0), ValueError,
         r"chains must be"),
    Case(M + "pivot_chain", lambda: pivot_chain(A, P3, 3, 5, 2, root=torch.tensor([0])),
         ValueError, r"root must be"),
    Case(M + "conditional_density",
         lambda: conditional_density(A, TR, torch.tensor([[2], [0]]), burn_in=5),
         ValueError, r"burn_in must be"),
    Case(M + "conditional_density",
         lambda: conditional_density(A, TR.float(), torch.tensor([[2], [0]])),
         TypeError, r"traj must be"),
    Case(M + "macc", lambda: macc(A, TR[0]), ValueError, r"traj must have"),
    Case(M + "watts_strogatz", lambda: watts_strogatz(10, 3, 0.1), ValueError,
         r"k must be even"),
    Case(M + "watts_strogatz", lambda: watts_strogatz(10, 4, 1.5), ValueError,
         r"beta must be"),
    Case(M + "watts_strogatz", lambda: watts_strogatz(2, 2, 0.1), ValueError,
         r"n must be"),
]


@parametrize(CASES)
def test_bad_input(case):
    check(case)


def test_the_checks_leave_good_input_alone():
    g = torch.Generator().manual_seed(0)
    assert path_motif(3).shape == (2, 2) and star_motif(3).shape == (2, 2)
    x = torch.tensor([[0, 1, 2]])
    assert hom_weights(A, P3, x).item() == 1 / 27
    assert abs(brute_force_hom_density(A, P3, 3) - tree_hom_density(A, P3, 3)) < 1e-12
    assert tree_weights(A, P3, 3).shape == (3, 3)
    assert tree_sample(A, P3, 3, torch.tensor([0, 1]), generator=g).shape == (2, 3)
    tr = glauber_chain(A, P3, 3, 5, 2, generator=g)
    tp = pivot_chain(A, P3, 3, 5, 2, root=torch.tensor([0, 1]), generator=g)
    assert tr.shape == tp.shape == (5, 2, 3)
    assert conditional_density(A, tp, torch.tensor([[2], [0]]), burn_in=4).shape == (2,)
    assert macc(A, tr).shape == (2, 3, 3)
    assert watts_strogatz(10, 4, 0.2, g).num_nodes == 10
