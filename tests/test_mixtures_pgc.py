"""Generating-function marginals, the L-ensemble DPP and SimplePGC of the chapter
*Probabilistic generating circuits* (`papers_lib.mixtures.pgc`)."""
import itertools

import numpy as np
import torch

from papers_lib.mixtures.pgc import (
    LEnsemble, SimplePGC, dpp_generating_function, dpp_log_prob, dpp_marginal,
    fit_nll, pgc_marginal, repulsive_pairs_pgc, table_generating_function)
from papers_lib.mixtures.toolkit import all_binary_states

D = torch.float64


def _kernel(n, seed):
    W = torch.randn(n, n, generator=torch.Generator().manual_seed(seed), dtype=D)
    return W.T @ W


def _brute_marginal(p, X, mask):
    n = X.shape[1]
    key = (X * mask * 2 ** torch.arange(n - 1, -1, -1)).sum(1)
    return torch.zeros(2 ** n, dtype=D).index_add_(0, key, p)[key]


def test_dpp_log_prob_against_numpy_minors():
    L = _kernel(5, 0)
    X = all_binary_states(5)
    p = dpp_log_prob(L, X).exp()
    Ln = L.numpy()
    Z = np.linalg.det(np.eye(5) + Ln)
    for row, val in zip(X.tolist(), p.tolist()):
        S = [i for i, b in enumerate(row) if b]
        want = (np.linalg.det(Ln[np.ix_(S, S)]) if S else 1.0) / Z
        assert abs(val - want) < 1e-12
    assert abs(p.sum().item() - 1) < 1e-12


def test_marginals_three_ways_agree_with_enumeration():
    L = _kernel(5, 1)
    X = all_binary_states(5)
    p = dpp_log_prob(L, X).exp()
    for bits in itertools.product([False, True], repeat=5):
        m = torch.tensor(bits)
        bf = _brute_marginal(p, X, m)
        assert (dpp_marginal(L, X, m) - bf).abs().max() < 1e-12
        for g in (lambda z: dpp_generating_function(L, z),
                  lambda z: table_generating_function(p, z)):
            assert (pgc_marginal(g, X, m) - bf).abs().max() < 1e-12


def test_pgc_marginal_of_independent_bernoullis():
    q = torch.tensor([0.2, 0.7, 0.5, 0.9], dtype=D)
    g = lambda z: (1 - q + q * z).prod(1)          # product generating polynomial
    x = torch.tensor([[1, 0, 1, 1], [0, 0, 0, 1]])
    m = torch.tensor([[True, True, False, True], [True, False, True, True]])
    want = torch.where(m, torch.where(x.bool(), q, 1 - q), torch.ones(4, dtype=D))
    assert torch.allclose(pgc_marginal(g, x, m), want.prod(1), atol=1e-14)


def test_simple_pgc_normalised_marginals_and_singletons():
    pg = SimplePGC([[0, 3], [1], [2, 4, 5]], torch.Generator().manual_seed(0))
    X = all_binary_states(6)
    with torch.no_grad():
        p = pg(X).exp()
        assert abs(p.sum().item() - 1) < 1e-12
        for m in (torch.tensor([1, 1, 0, 1, 0, 1]).bool(), torch.ones(6).bool()):
            assert (pg.log_marginal(X, m).exp() - _brute_marginal(p, X, m)).abs().max() \
                < 1e-12
        z = torch.rand(3, 6, generator=torch.Generator().manual_seed(1), dtype=D)
        assert torch.allclose(pg.generating_function(z),
                              table_generating_function(p, z), atol=1e-13)
    single = SimplePGC([[i] for i in range(4)], torch.Generator().manual_seed(2))
    X4 = all_binary_states(4)
    with torch.no_grad():
        assert torch.allclose(single(X4), dpp_log_prob(single.kernel(), X4), atol=1e-12)


def test_lensemble_gradcheck_and_marginal():
    dpp = LEnsemble(3, generator=torch.Generator().manual_seed(0))
    X = all_binary_states(3)
    B = dpp.B.detach().clone().requires_grad_()
    f = lambda B: dpp_log_prob(B.T @ B + 1e-3 * torch.eye(3, dtype=D), X)
    assert torch.autograd.gradcheck(f, (B,))
    with torch.no_grad():
        m = torch.tensor([True, False, True])
        assert torch.allclose(dpp.log_marginal(X, m).exp(),
                              pgc_marginal(dpp.generating_function, X, m), atol=1e-12)


def test_sampling_matches_probabilities_and_fit_recovers_truth():
    truth = repulsive_pairs_pgc(3, generator=torch.Generator().manual_seed(0))
    X = all_binary_states(6)
    with torch.no_grad():
        p = truth(X).exp()
    assert abs(p.sum().item() - 1) < 1e-10
    draws = truth.sample(20000, torch.Generator().manual_seed(1))
    freq = torch.bincount((draws * 2 ** torch.arange(5, -1, -1)).sum(1), minlength=64)
    assert 0.5 * (freq / 20000 - p).abs().sum() < 0.035
    model = SimplePGC([[0, 1], [2, 3], [4, 5]], torch.Generator().manual_seed(2))
    hist = fit_nll(model, draws[:1500], steps=80, lr=0.08)
    H = -(p * p.log()).sum().item()
    assert hist[-1] < hist[0] and hist[-1] - H < 0.06
    # a DPP cannot reach it: within-pair attraction
    dpp = LEnsemble(6, generator=torch.Generator().manual_seed(3))
    hd = fit_nll(dpp, draws[:1500], steps=40, lr=0.05)
    assert hd[-1] - H > 0.1


def test_generators_make_runs_reproducible():
    a = repulsive_pairs_pgc(3, generator=torch.Generator().manual_seed(5))
    b = repulsive_pairs_pgc(3, generator=torch.Generator().manual_seed(5))
    c = repulsive_pairs_pgc(3, generator=torch.Generator().manual_seed(6))
    assert torch.equal(a.B, b.B) and not torch.equal(a.B, c.B)
    assert torch.equal(a.sample(50, torch.Generator().manual_seed(0)),
                       b.sample(50, torch.Generator().manual_seed(0)))
