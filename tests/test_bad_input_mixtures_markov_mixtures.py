"""Bad-input sweep of `papers_lib.mixtures.markov_mixtures` (chapter *Learning mixtures
of Markov chains and MDPs from short trajectories*): each public name refuses an invalid
argument with a message naming it."""
import math

import torch

from papers_lib.mixtures.markov_mixtures import (
    MarkovMixture, gridworld_mdps, learn_markov_mixture, pairwise_distances,
    permutation_accuracy, sample_trajectories, spectral_clusters, subspace_estimate,
    transition_counts, two_means_threshold)
from tests.bad_input import Case, check, parametrize

M = "papers_lib.mixtures.markov_mixtures."
P = gridworld_mdps(2, 2, 1, torch.Generator().manual_seed(0))          # (2, 4, 4, 4)
ST, AC, Y = sample_trajectories(P, 6, 8, generator=torch.Generator().manual_seed(0))
C2 = transition_counts(ST, AC, 4, 4, segments=2)
V = subspace_estimate(C2, 2)
D = pairwise_distances(C2, V)
MIX = MarkovMixture.random(2, 16, 4)
LW = torch.full((2,), -math.log(2), dtype=torch.float64)
LT = torch.full((2, 16, 4), -math.log(4), dtype=torch.float64)

CASES = [
    Case(M + "gridworld_mdps", lambda: gridworld_mdps(0, 3), ValueError,
         r"components must be"),
    Case(M + "gridworld_mdps", lambda: gridworld_mdps(2, 1), ValueError, r"side must be"),
    Case(M + "gridworld_mdps", lambda: gridworld_mdps(2, 3, bias=-1), ValueError,
         r"bias must be"),
    Case(M + "gridworld_mdps", lambda: gridworld_mdps(2, 3, bias=1.5), TypeError,
         r"bias must be an int"),
    Case(M + "sample_trajectories", lambda: sample_trajectories(P * 2, 3, 4), ValueError,
         r"P must be"),
    Case(M + "sample_trajectories", lambda: sample_trajectories(P[0], 3, 4), ValueError,
         r"P must have 4 dimensions"),
    Case(M + "sample_trajectories", lambda: sample_trajectories(P, 0, 4), ValueError,
         r"n must be"),
    Case(M + "sample_trajectories", lambda: sample_trajectories(P, 3, 0), ValueError,
         r"length must be"),
    Case(M + "sample_trajectories",
         lambda: sample_trajectories(P, 3, 4, torch.tensor([1.0, -1.0]).double()),
         ValueError, r"weights must be"),
    Case(M + "sample_trajectories",
         lambda: sample_trajectories(P, 3, 4, torch.tensor([0.5, 0.3, 0.2]).double()),
         ValueError, r"weights must be 2"),
    Case(M + "transition_counts", lambda: transition_counts(ST.float(), AC, 4, 4),
         TypeError, r"states and actions must be torch.long"),
    Case(M + "transition_counts", lambda: transition_counts(ST, AC[:, :-1], 4, 4),
         ValueError, r"actions must have shape"),
    Case(M + "transition_counts", lambda: transition_counts(ST, AC, 3, 4), ValueError,
         r"states must lie in"),
    Case(M + "transition_counts", lambda: transition_counts(ST, AC, 4, 2), ValueError,
         r"actions must lie in"),
    Case(M + "transition_counts", lambda: transition_counts(ST, AC, 4, 4, segments=9),
         ValueError, r"segments must be"),
    Case(M + "transition_counts", lambda: transition_counts(ST, AC, 0, 4), ValueError,
         r"num_states must be"),
    Case(M + "subspace_estimate", lambda: subspace_estimate(C2[:, :1], 2), ValueError,
         r"counts must hold two halves"),
    Case(M + "subspace_estimate", lambda: subspace_estimate(-C2, 2), ValueError,
         r"counts must be finite and nonnegative"),
    Case(M + "subspace_estimate", lambda: subspace_estimate(C2, 5), ValueError,
         r"rank must be"),
    Case(M + "pairwise_distances", lambda: pairwise_distances(C2, V[:, :3]), ValueError,
         r"V must have shape"),
    Case(M + "pairwise_distances", lambda: pairwise_distances(C2, V, "median"),
         ValueError, r"reduce must be one of"),
    Case(M + "pairwise_distances", lambda: pairwise_distances(C2.long(), V), TypeError,
         r"counts must be a floating"),
    Case(M + "two_means_threshold", lambda: two_means_threshold(torch.ones(1).double()),
         ValueError, r"values must hold at least two"),
    Case(M + "two_means_threshold",
         lambda: two_means_threshold(torch.tensor([0.0, math.nan])), ValueError,
         r"values must hold at least two finite"),
    Case(M + "two_means_threshold",
         lambda: two_means_threshold(torch.tensor([0.0, 1.0]), iters=0), ValueError,
         r"iters must be"),
    Case(M + "spectral_clusters", lambda: spectral_clusters(D[:, :3], 2), ValueError,
         r"dist must be a square"),
    Case(M + "spectral_clusters", lambda: spectral_clusters(D, 0), ValueError,
         r"k must be"),
    Case(M + "spectral_clusters", lambda: spectral_clusters(D, 2, tau=math.nan),
         ValueError, r"tau must be"),
    Case(M + "spectral_clusters",
         lambda: spectral_clusters(torch.full((4, 4), math.nan).double(), 2), ValueError,
         r"dist must hold at least two finite"),
    Case(M + "MarkovMixture", lambda: MarkovMixture(LW, LT[:1]), ValueError,
         r"log_trans must have 2 components"),
    Case(M + "MarkovMixture", lambda: MarkovMixture(LW + 1, LT), ValueError,
         r"log_weights must hold log-probabilities"),
    Case(M + "MarkovMixture", lambda: MarkovMixture(LW, LT - 1), ValueError,
         r"log_trans must hold log-probabilities"),
    Case(M + "MarkovMixture", lambda: MarkovMixture(LW, LT[0]), ValueError,
         r"log_trans must have 3 dimensions"),
    Case(M + "MarkovMixture", lambda: MIX.log_likelihoods(C2[:, :, :8]), ValueError,
         r"counts must have \(C, S\)", label="log_likelihoods"),
    Case(M + "MarkovMixture", lambda: MIX.fit_em(C2, iters=0), ValueError,
         r"iters must be", label="fit_em iters"),
    Case(M + "MarkovMixture", lambda: MIX.fit_em(C2, alpha=0.0), ValueError,
         r"alpha must be", label="fit_em alpha"),
    Case(M + "MarkovMixture", lambda: MIX.fit_em(C2, tol=-1.0), ValueError,
         r"tol must be", label="fit_em tol"),
    Case(M + "MarkovMixture", lambda: MarkovMixture.from_labels(C2, Y + 5, 2),
         ValueError, r"labels must be torch.long", label="from_labels"),
    Case(M + "MarkovMixture",
         lambda: MarkovMixture.from_responsibilities(C2, -torch.ones(6, 2).double()),
         ValueError, r"resp must be nonnegative", label="from_responsibilities"),
    Case(M + "MarkovMixture", lambda: MarkovMixture.random(0, 16, 4), ValueError,
         r"k must be", label="random"),
    Case(M + "MarkovMixture", lambda: MIX.posterior(C2[0, 0]), ValueError,
         r"counts must have", label="posterior"),
    Case(M + "learn_markov_mixture", lambda: learn_markov_mixture(ST, AC, 4, 4, 5),
         ValueError, r"k must be"),
    Case(M + "learn_markov_mixture",
         lambda: learn_markov_mixture(ST, AC, 4, 4, 2, reduce="min"), ValueError,
         r"reduce must be one of"),
    Case(M + "learn_markov_mixture",
         lambda: learn_markov_mixture(ST, AC, 4, 4, 2, em_iters=0), ValueError,
         r"iters must be"),
    Case(M + "permutation_accuracy",
         lambda: permutation_accuracy(Y, Y[:3], 2), ValueError,
         r"labels and pred must be non-empty with one shape"),
    Case(M + "permutation_accuracy", lambda: permutation_accuracy(Y, Y + 2, 2),
         ValueError, r"pred must be torch.long in"),
    Case(M + "permutation_accuracy", lambda: permutation_accuracy(Y, Y, 9), ValueError,
         r"k must be"),
]


@parametrize(CASES)
def test_bad_input(case):
    check(case)


def test_the_checks_leave_good_input_alone():
    assert gridworld_mdps(2, 2, 0).shape == (2, 4, 4, 4)
    st, ac, y = sample_trajectories(P, 3, 4, torch.tensor([0.0, 1.0]).double())
    assert (y == 1).all()
    assert transition_counts(ST, AC, 4, 4, segments=8).shape == (6, 8, 16, 4)
    assert subspace_estimate(C2, 4).shape == (16, 4, 4)
    assert pairwise_distances(C2, V, "max").shape == (6, 6)
    assert two_means_threshold(torch.tensor([0.0, 1.0])) == 0.5
    assert spectral_clusters(D, 1).eq(0).all()
    assert MarkovMixture(LW, LT).log_evidence(C2) < 0
    model, lab, first = learn_markov_mixture(ST, AC, 4, 4, 2)
    assert lab.shape == first.shape == (6,)
    assert permutation_accuracy(Y, Y, 2) == 1.0
