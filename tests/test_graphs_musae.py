"""The corpus, the limit co-occurrence and PMI matrices, the skip-gram trainer and the
attributed SBM of the chapter *MUSAE and AE: node embeddings from the attributes seen
along random walks* (`papers_lib.graphs.musae`)."""
import networkx as nx
import numpy as np
import torch

from papers_lib.graphs.musae import (
    attribute_skipgram, attributed_sbm, cooccurrence_limit, feature_pairs,
    musae_embeddings, pointwise_mutual_information)
from papers_lib.graphs.toolkit import ari, random_walks

E = torch.tensor([(a, b) for a in range(6) for b in range(a + 1, 6)
                  if (a, b) not in ((0, 1), (2, 3), (0, 4))]).T
EI = torch.cat([E, E.flip(0)], 1)
F6 = torch.tensor([[1, 0, 0, 1], [1, 1, 0, 0], [0, 1, 0, 0],
                   [1, 0, 1, 0], [0, 1, 1, 0], [0, 0, 0, 1]]).double()


def test_feature_pairs_brute_force():
    g = torch.Generator().manual_seed(0)
    walks = torch.randint(0, 5, (4, 7), generator=g)
    F = (torch.rand(5, 3, generator=g) < 0.5).long()
    for r in range(1, 8):
        got = sorted(zip(*[t.tolist() for t in feature_pairs(walks, F, r)]))
        want = sorted((int(w[x]), f) for w in walks for j in range(7 - r)
                      for x, y in ((j, j + r), (j + r, j)) for f in range(3)
                      if F[w[y], f])
        assert got == want, r


def test_cooccurrence_limit_against_networkx_transition_powers():
    G = nx.Graph(E.T.tolist())
    A = nx.to_numpy_array(G, nodelist=range(6))
    d = A.sum(1)
    P = A / d[:, None]
    for r in range(4):
        J = d[:, None] * (np.linalg.matrix_power(P, r) @ F6.numpy())
        J = J / J.sum()
        assert np.allclose(cooccurrence_limit(EI, 6, F6, r).numpy(), J, atol=1e-12)
    # r = 0 pairs a node with its own features, weighted by degree
    J0 = cooccurrence_limit(EI, 6, F6, 0)
    assert torch.allclose(J0, torch.tensor(d)[:, None] * F6 / (torch.tensor(d) @ F6).sum())


def test_cooccurrence_limit_matches_sampled_stationary_walks():
    g = torch.Generator().manual_seed(1)
    deg = torch.bincount(EI[0], minlength=6).double()
    for r in (1, 2):
        J = cooccurrence_limit(EI, 6, F6, r)
        st = torch.multinomial(deg, 20000, replacement=True, generator=g)
        a, f = feature_pairs(random_walks(EI, 6, st, r, generator=g), F6, r)
        emp = torch.zeros(6, 4, dtype=torch.float64).index_put_(
            (a, f), torch.ones(a.numel(), dtype=torch.float64), accumulate=True)
        emp = emp / emp.sum()
        assert ((emp - J).abs() <= 4.5 * (J * (1 - J) / a.numel()).sqrt()).all(), r


def test_pmi_closed_form_and_independence():
    p = torch.tensor([[0.1, 0.2], [0.3, 0.4]], dtype=torch.float64)
    want = torch.log(p / (p.sum(1, keepdim=True) * p.sum(0, keepdim=True)))
    assert torch.allclose(pointwise_mutual_information(p * 7), want)
    outer = torch.outer(torch.tensor([0.2, 0.8]), torch.tensor([0.5, 0.3, 0.2]))
    assert pointwise_mutual_information(outer.double()).abs().max() < 1e-12


def test_trained_inner_products_factorise_the_shifted_pmi():
    g = torch.Generator().manual_seed(1)
    w = random_walks(EI, 6, torch.arange(6).repeat(100), 20, generator=g)
    a, f = feature_pairs(w, F6, 1)
    U, V = attribute_skipgram(a, f, 6, 4, 8, 5, epochs=2, lr=0.02, noise_power=1.0,
                              generator=g, batch_size=256)
    target = pointwise_mutual_information(cooccurrence_limit(EI, 6, F6, 1)) - np.log(5)
    assert ((U @ V.T).double() - target).abs().max() < 0.3


def test_musae_and_ae_split_two_attributed_cliques():
    src, dst = torch.triu_indices(8, 8, 1)
    e = torch.cat([torch.stack([src, dst]), torch.stack([src, dst]) + 8,
                   torch.tensor([[0], [8]])], 1)
    ei = torch.cat([e, e.flip(0)], 1)
    y = torch.arange(16) // 8
    F = torch.zeros(16, 8)
    F[torch.arange(16), 4 * y + torch.arange(16) % 4] = 1
    F[torch.arange(16), 4 * y + (torch.arange(16) + 1) % 4] = 1
    for pooled, d in ((False, 3), (True, 6)):
        z = musae_embeddings(ei, 16, F, d, 2, pooled, 10, 10, lr=0.05, batch_size=128,
                             generator=torch.Generator().manual_seed(2))
        assert z.shape == (16, 6)
        zc = z - z.mean(0)
        v = torch.linalg.svd(zc, full_matrices=False).Vh[0]
        assert ari(y, (zc @ v > 0).long()) >= 0.9, pooled


def test_deterministic_given_a_generator():
    run = lambda s: musae_embeddings(EI, 6, F6, 2, 2, walks_per_node=2, walk_length=5,
                                     generator=torch.Generator().manual_seed(s))
    assert torch.equal(run(3), run(3)) and not torch.equal(run(3), run(4))


def test_attributed_sbm_rates():
    g = attributed_sbm([300, 300], 0.05, 0.01, 10, 0.4, 0.1,
                       torch.Generator().manual_seed(0))
    assert g.x.shape == (600, 10) and set(g.x.unique().tolist()) <= {0.0, 1.0}
    topic = torch.arange(10) % 2
    for k in (0, 1):
        rate = g.x[g.y == k].mean(0)
        assert abs(rate[topic == k].mean() - 0.4) < 0.03
        assert abs(rate[topic != k].mean() - 0.1) < 0.03
