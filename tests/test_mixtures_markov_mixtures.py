"""The gridworld MDPs, trajectory counts, subspace and distance estimators, spectral
clustering and EM of the chapter *Learning mixtures of Markov chains and MDPs from short
trajectories* (`papers_lib.mixtures.markov_mixtures`)."""
import itertools

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment
from scipy.special import logsumexp
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score

from papers_lib.mixtures.markov_mixtures import (
    MarkovMixture, gridworld_mdps, learn_markov_mixture, pairwise_distances,
    permutation_accuracy, sample_trajectories, spectral_clusters, subspace_estimate,
    transition_counts, two_means_threshold)


def _data(n=60, T=40, side=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    P = gridworld_mdps(2, side, 3, g)
    st, ac, y = sample_trajectories(P, n, T, generator=g)
    return P, st, ac, y


def test_gridworld_rows_and_determinism():
    a = gridworld_mdps(3, 4, 2, torch.Generator().manual_seed(1))
    b = gridworld_mdps(3, 4, 2, torch.Generator().manual_seed(1))
    c = gridworld_mdps(3, 4, 2, torch.Generator().manual_seed(2))
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert torch.allclose(a.sum(-1), torch.ones(3, 16, 4, dtype=a.dtype))
    # a corner cell reaches only itself and its two neighbours
    assert set(torch.nonzero(a[:, 0].sum((0, 1))).flatten().tolist()) == {0, 1, 4}


def test_counts_against_a_loop():
    _, st, ac, _ = _data(n=7, T=13)
    N = transition_counts(st, ac, 9, 4, segments=3)
    want = np.zeros((7, 3, 36, 9))
    for i, t in itertools.product(range(7), range(13)):
        want[i, t * 3 // 13, int(st[i, t]) * 4 + int(ac[i, t]), int(st[i, t + 1])] += 1
    np.testing.assert_array_equal(N.numpy(), want)


def test_sampler_follows_the_kernel():
    P, st, ac, y = _data(n=300, T=200)
    N = transition_counts(st, ac, 9, 4)[:, 0]
    for k in range(2):
        emp = N[y == k].sum(0)
        emp = emp / emp.sum(-1, keepdim=True)
        assert (emp - P[k].reshape(36, 9)).abs().max() < 0.05


def test_subspace_is_exact_without_noise():
    P = gridworld_mdps(2, 3, 3, torch.Generator().manual_seed(3)).reshape(2, 36, 9)
    counts = torch.stack([P[0] * 7, P[1] * 5, P[0] * 2])[:, None].expand(3, 2, 36, 9)
    V = subspace_estimate(counts.contiguous(), 2)
    rows = P.transpose(0, 1)
    assert torch.allclose(rows, rows @ V @ V.transpose(1, 2), atol=1e-10)
    assert torch.allclose(V.transpose(1, 2) @ V, torch.eye(2, dtype=V.dtype).expand(36, 2, 2),
                          atol=1e-10)


def test_distances_against_brute_force():
    _, st, ac, _ = _data(n=10, T=30, seed=4)
    c = transition_counts(st, ac, 9, 4, segments=2)
    V = subspace_estimate(c, 2)
    p = (c / c.sum(-1, keepdim=True).clamp_min(1)).numpy()
    Vn, seen = V.numpy(), (c.sum(-1) > 0).all(1).numpy()
    for reduce in ("mean", "max"):
        D = pairwise_distances(c, V, reduce).numpy()
        for m, n in itertools.product(range(10), repeat=2):
            xs = [(Vn[k].T @ (p[m, 0, k] - p[n, 0, k])) @ (Vn[k].T @ (p[m, 1, k]
                  - p[n, 1, k])) for k in range(36) if seen[m, k] and seen[n, k]]
            want = np.nan if not xs else (np.mean(xs) if reduce == "mean" else max(xs))
            np.testing.assert_allclose(D[m, n], want, atol=1e-12)


def test_distances_separate_components_for_long_trajectories():
    P, st, ac, y = _data(n=80, T=300, seed=5)
    c = transition_counts(st, ac, 9, 4, segments=2)
    D = pairwise_distances(c, subspace_estimate(c, 2))
    same = (y[:, None] == y[None, :]) & ~torch.eye(80, dtype=torch.bool)
    truth = ((P[0] - P[1]) ** 2).sum(-1).mean().item()
    assert abs(D[same].mean().item()) < 0.02
    assert abs(D[y[:, None] != y[None, :]].mean().item() - truth) < 0.2 * truth


def test_two_means_threshold_matches_sklearn():
    g = torch.Generator().manual_seed(6)
    x = torch.cat([torch.randn(150, generator=g), torch.randn(50, generator=g) + 6])
    km = KMeans(2, n_init=10, random_state=0).fit(x.double().numpy()[:, None])
    assert abs(two_means_threshold(x.double()) - km.cluster_centers_.mean()) < 1e-6


def test_spectral_clusters_recover_blocks():
    lab = torch.arange(40) % 4
    D = (lab[:, None] != lab[None, :]).double() * 2.0
    D = D + 0.1 * torch.rand(40, 40, generator=torch.Generator().manual_seed(7)).double()
    pred = spectral_clusters(D, 4, generator=torch.Generator().manual_seed(0))
    assert adjusted_rand_score(lab.numpy(), pred.numpy()) == 1.0
    # an explicit tau far above every distance joins everything: no structure
    pred = spectral_clusters(D, 2, tau=10.0, generator=torch.Generator().manual_seed(0))
    assert pred.shape == (40,)


def test_em_likelihood_and_monotonicity():
    _, st, ac, _ = _data(n=50, T=60, seed=8)
    N = transition_counts(st, ac, 9, 4)
    mix = MarkovMixture.random(3, 36, 9, torch.Generator().manual_seed(1))
    ll = mix.log_likelihoods(N)
    want = np.zeros((50, 3))
    lt = mix.log_trans.numpy()
    for i, t in itertools.product(range(50), range(60)):
        want[i] += lt[:, int(st[i, t]) * 4 + int(ac[i, t]), int(st[i, t + 1])]
    np.testing.assert_allclose(ll.numpy(), want, rtol=1e-10)
    joint = mix.log_weights.numpy() + want
    assert abs(mix.log_evidence(N) - logsumexp(joint, 1).sum()) < 1e-8
    np.testing.assert_allclose(mix.posterior(N).numpy(),
                               np.exp(joint - logsumexp(joint, 1, keepdims=True)))
    _, hist = mix.fit_em(N, iters=40, tol=0.0)
    assert all(b >= a - 1e-8 * abs(a) for a, b in zip(hist, hist[1:]))


def test_m_step_from_labels_is_the_pooled_frequency():
    _, st, ac, y = _data(n=40, T=50, seed=9)
    N = transition_counts(st, ac, 9, 4)[:, 0]
    m = MarkovMixture.from_labels(N, y, 2, alpha=1e-12)
    for k in range(2):
        tot = N[y == k].sum(0)
        busy = tot.sum(-1) > 0
        est = m.log_trans[k].exp()[busy]
        assert torch.allclose(est, (tot / tot.sum(-1, keepdim=True))[busy], atol=1e-8)
    assert torch.allclose(m.log_weights.exp(), torch.bincount(y, minlength=2).double() / 40)


def test_pipeline_recovers_the_labels_and_is_deterministic():
    _, st, ac, y = _data(n=60, T=150, seed=10)
    runs = [learn_markov_mixture(st, ac, 9, 4, 2, generator=torch.Generator().manual_seed(0))
            for _ in range(2)]
    assert torch.equal(runs[0][1], runs[1][1])
    assert permutation_accuracy(y, runs[0][1], 2) >= 0.95


def test_permutation_accuracy_matches_the_hungarian_assignment():
    g = torch.Generator().manual_seed(11)
    for _ in range(10):
        a, b = torch.randint(3, (30,), generator=g), torch.randint(3, (30,), generator=g)
        cont = np.zeros((3, 3))
        np.add.at(cont, (b.numpy(), a.numpy()), 1)
        r, c = linear_sum_assignment(cont, maximize=True)
        assert abs(permutation_accuracy(a, b, 3) - cont[r, c].sum() / 30) < 1e-12
    assert permutation_accuracy(torch.tensor([0, 1, 1]), torch.tensor([1, 0, 0]), 2) == 1.0
