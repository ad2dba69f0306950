"""The sampler, successive projection, estimator and membership error of the chapter
*BiMMDF: mixed memberships in bipartite weighted networks* (`papers_lib.graphs.bimmdf`)."""
import itertools

import numpy as np
import pytest
import torch

from papers_lib.graphs.bimmdf import (
    bimmdf_fit, bimmdf_sample, membership_error, mixed_memberships,
    simplex_memberships, successive_projection)

P = torch.tensor([[1.0, 0.2, 0.1], [0.1, 0.9, 0.2], [0.2, 0.1, 0.8]],
                 dtype=torch.float64)


def test_memberships_are_on_the_simplex_with_pure_nodes():
    Pi = mixed_memberships(40, 4, 3, torch.Generator().manual_seed(0))
    assert Pi.shape == (40, 4) and (Pi >= 0).all()
    assert torch.allclose(Pi.sum(1), torch.ones(40, dtype=torch.float64))
    assert torch.equal(Pi[:12], torch.eye(4, dtype=torch.float64).repeat_interleave(3, 0))
    assert (Pi[12:].max(1).values < 1).all()


def test_sampler_means_and_supports():
    g = torch.Generator().manual_seed(1)
    Pr, Pc = mixed_memberships(3, 3, 1, g), mixed_memberships(3, 3, 1, g)
    Om = 0.6 * Pr @ P @ Pc.T
    reps = 3000
    for dist in ("bernoulli", "poisson", "normal", "signed"):
        A = bimmdf_sample(Pr.repeat_interleave(reps, 0), Pc, P, 0.6, dist, 0.5,
                          generator=g)
        S = A.reshape(3, reps, 3)
        assert (S.mean(1) - Om).abs().max() < 0.06, dist
        if dist == "bernoulli":
            assert set(A.unique().tolist()) <= {0.0, 1.0}
        if dist == "signed":
            assert set(A.unique().tolist()) == {-1.0, 1.0}
        if dist == "poisson":
            assert torch.equal(A, A.round()) and (A >= 0).all()
    A = bimmdf_sample(Pr.repeat_interleave(reps, 0), Pc, P, 0.6, "normal", 0.5, 0.7, g)
    assert abs((A == 0).double().mean().item() - 0.7) < 0.02
    assert (A.reshape(3, reps, 3).mean(1) - 0.3 * Om).abs().max() < 0.04


def test_sampler_is_deterministic_given_a_generator():
    g = lambda s: torch.Generator().manual_seed(s)
    Pr = mixed_memberships(20, 3, 2, g(0))
    a = bimmdf_sample(Pr, Pr, P, 0.5, "poisson", generator=g(1))
    assert torch.equal(a, bimmdf_sample(Pr, Pr, P, 0.5, "poisson", generator=g(1)))
    assert not torch.equal(a, bimmdf_sample(Pr, Pr, P, 0.5, "poisson", generator=g(2)))


def test_spa_finds_the_vertices_by_brute_force():
    for s in range(5):
        g = torch.Generator().manual_seed(s)
        Pi = mixed_memberships(10, 3, 1, g)
        Pi = Pi[torch.randperm(10, generator=g)]
        X = Pi @ torch.randn(3, 3, generator=g, dtype=torch.float64)
        idx = successive_projection(X, 3)
        encl = [S for S in itertools.combinations(range(10), 3)
                if torch.linalg.matrix_rank(X[list(S)]) == 3
                and (torch.linalg.solve(X[list(S)].T, X.T) >= -1e-12).all()]
        assert encl == [tuple(sorted(idx.tolist()))]


def test_simplex_memberships_inverts_the_corners():
    g = torch.Generator().manual_seed(3)
    Pi = mixed_memberships(30, 4, 2, g)
    X = Pi @ torch.randn(4, 4, generator=g, dtype=torch.float64)
    corners = torch.tensor([0, 2, 4, 6])        # the pure nodes, in community order
    assert torch.allclose(simplex_memberships(X, corners), Pi, atol=1e-10)
    # a row with all barycentric coordinates -1 is clipped to 0: uniform membership
    Y = torch.cat([X, -X[corners].sum(0, keepdim=True)])
    assert torch.allclose(simplex_memberships(Y, corners)[-1],
                          torch.full((4,), 0.25, dtype=torch.float64))
    # and one with coordinates (2, -1, 0, 0) is clipped to e_1
    Y = torch.cat([X, 2 * X[0:1] - X[2:3]])
    assert torch.allclose(simplex_memberships(Y, corners)[-1],
                          torch.tensor([1.0, 0, 0, 0], dtype=torch.float64))


def test_fit_is_exact_on_the_expectation_and_matches_numpy_svd():
    g = torch.Generator().manual_seed(4)
    Pr, Pc = mixed_memberships(50, 3, 4, g), mixed_memberships(30, 3, 3, g)
    for PP in (P, torch.tensor([[0.9, -0.4, 0.1], [0.2, 0.7, -0.5], [-0.3, 0.1, 0.8]],
                               dtype=torch.float64)):
        Hr, Hc = bimmdf_fit(0.8 * Pr @ PP @ Pc.T, 3)
        assert membership_error(Hr, Pr) < 1e-10 and membership_error(Hc, Pc) < 1e-10
    A = bimmdf_sample(Pr, Pc, P, 0.5, "bernoulli", generator=g)
    # the same estimator built on numpy's SVD gives the same memberships
    U, _, Vt = np.linalg.svd(A.numpy(), full_matrices=False)
    Un = torch.from_numpy(U[:, :3].copy())
    ref = simplex_memberships(Un, successive_projection(Un, 3))
    Hr, _ = bimmdf_fit(A, 3)
    assert membership_error(Hr, ref) < 1e-8


def test_membership_error_equals_brute_force():
    g = torch.Generator().manual_seed(5)
    for K in (2, 3, 4):
        a, b = mixed_memberships(25, K, 2, g), mixed_memberships(25, K, 2, g)
        brute = min((a[:, list(s)] - b).abs().sum().item() / 25
                    for s in itertools.permutations(range(K)))
        assert membership_error(a, b) == pytest.approx(brute, abs=1e-12)
        assert membership_error(b[:, list(reversed(range(K)))], b) == 0
        assert 0 <= membership_error(a, b) <= 2


def test_error_falls_with_n():
    errs = []
    for n in (100, 400):
        e = []
        for s in range(2):
            g = torch.Generator().manual_seed(s)
            Pr = mixed_memberships(n, 3, n // 10, g)
            Pc = mixed_memberships(n // 2, 3, n // 20, g)
            Hr, Hc = bimmdf_fit(bimmdf_sample(Pr, Pc, P, 0.5, "poisson", generator=g), 3)
            e.append(max(membership_error(Hr, Pr), membership_error(Hc, Pc)))
        errs.append(sum(e) / 2)
    assert errs[1] < 0.75 * errs[0]   # the bound predicts a ratio of about 0.57
