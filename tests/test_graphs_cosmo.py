"""The orientations, the temperature schedule, the model and the trainer of the chapter
*COSMO: constraint-free structure learning with smooth acyclic orientations*
(`papers_lib.graphs.cosmo`)."""
import itertools
import math

import networkx as nx
import torch
from scipy.special import expit

from papers_lib.graphs.cosmo import (
    CosmoSEM, cosine_temperature, cosmo_linear, hard_orientation, smooth_orientation)
from papers_lib.graphs.toolkit import is_dag, linear_sem, shd


def test_smooth_orientation_against_scipy_and_its_limit():
    g = torch.Generator().manual_seed(0)
    p = torch.randn(3, 7, generator=g, dtype=torch.float64)
    S = smooth_orientation(p, 0.2, 0.05)
    diff = (p[:, None, :] - p[:, :, None]).numpy()
    ref = expit((diff - 0.05) / 0.2) * (1 - torch.eye(7).numpy())
    assert torch.allclose(S, torch.from_numpy(ref), atol=1e-14)
    q = 0.3 * torch.randperm(7, generator=g).double()      # gaps far from the shift
    lim = smooth_orientation(q, 1e-4, 0.05)
    assert torch.equal(lim, hard_orientation(q, 0.05))


def test_hard_orientation_is_a_dag_for_every_adjacency_networkx():
    g = torch.Generator().manual_seed(1)
    for _ in range(50):
        p = torch.randn(6, generator=g, dtype=torch.float64)
        H = torch.randn(6, 6, generator=g, dtype=torch.float64)
        W = H * hard_orientation(p, 0.02)
        G = nx.DiGraph([tuple(e) for e in W.nonzero().tolist()])
        assert nx.is_directed_acyclic_graph(G) and is_dag(W)
    tie = torch.zeros(3, dtype=torch.float64)
    assert not is_dag(smooth_orientation(tie, 1e-6, 0.0))


def test_backward_arcs_are_bounded_by_the_shifted_sigmoid():
    m = CosmoSEM(6, batch=2, shift=0.05, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        m.priority.copy_(torch.randn(2, 6, generator=torch.Generator().manual_seed(3),
                                     dtype=torch.float64))
    W = m.weights(0.01).detach()
    back = (m.priority[:, None, :] <= m.priority[:, :, None]).detach()
    bound = m.adjacency.detach().abs() / (1 + math.exp(0.05 / 0.01))
    assert (W.abs()[back] <= bound[back] + 1e-15).all()
    assert all(is_dag(w) for w in m.hard_weights().detach())


def test_gradcheck_through_the_orientation():
    g = torch.Generator().manual_seed(4)
    H = torch.randn(4, 4, generator=g, dtype=torch.float64, requires_grad=True)
    p = torch.randn(4, generator=g, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda H, p: H * smooth_orientation(p, 0.5, 0.1),
                                    (H, p))


def test_cosine_temperature_closed_form():
    T = 40
    for t in range(T + 1):
        want = 1e-3 + 0.5 * (0.45 - 1e-3) * (1 + math.cos(math.pi * t / T))
        assert abs(cosine_temperature(t, T) - want) < 1e-15
    assert cosine_temperature(0, T, 0.9, 0.1) == 0.9
    assert abs(cosine_temperature(T, T, 0.9, 0.1) - 0.1) < 1e-15


def test_model_batch_agrees_with_single_problems():
    gens = [torch.Generator().manual_seed(s) for s in (5, 6)]
    m = CosmoSEM(4, batch=2, generator=gens)
    m0 = CosmoSEM(4, batch=1, generator=torch.Generator().manual_seed(6))
    assert torch.equal(m.adjacency[1], m0.adjacency[0])
    X = torch.randn(2, 9, 4, dtype=torch.float64)
    assert torch.allclose(m(X, 0.3)[1], X[1] @ m.weights(0.3)[1])


def test_cosmo_recovers_a_chain_and_is_deterministic():
    W = torch.zeros(4, 4, dtype=torch.float64)
    W[0, 1], W[1, 2], W[2, 3] = 1.5, -1.2, 1.0
    X = linear_sem(W, 1000, 1.0, torch.Generator().manual_seed(7))
    run = lambda: cosmo_linear(X, steps=800, generator=torch.Generator().manual_seed(8))
    W1, m, _ = run()
    W2, _, _ = run()
    assert torch.equal(W1, W2)
    assert is_dag(W1) and shd(W, W1) == 0
    assert (W1 - W).abs().max() < 0.15
