"""The DSBM, the flow-imbalance objective, DIMPA/DIGRAC and the spectral baselines of the
chapter *DIGRAC: digraph clustering by flow imbalance* (`papers_lib.graphs.digrac`)."""
import networkx as nx
import numpy as np
import scipy.sparse as sp
import torch

from papers_lib.graphs.digrac import (
    DIGRAC, DIMPA, cyclic_meta_graph, disim_clustering, dsbm, fit_digrac, flow_matrix,
    hermitian_clustering, hermitian_embedding, imbalance_loss, imbalance_matrix)
from papers_lib.graphs.toolkit import ari

torch.set_num_threads(1)


def _graph(eta=0.1, p=0.1, seed=0, sizes=(60, 60, 60)):
    return dsbm(list(sizes), p, cyclic_meta_graph(len(sizes), eta),
                torch.Generator().manual_seed(seed))


def test_dsbm_directions_and_determinism():
    A, y = _graph(eta=0.0, p=0.3)
    assert torch.equal(A, _graph(eta=0.0, p=0.3)[0])
    assert not torch.equal(A, _graph(eta=0.0, p=0.3, seed=1)[0])
    G = nx.DiGraph(A.numpy())
    for u, v in G.edges:                 # eta = 0: every cross edge goes k -> k+1
        assert y[u] == y[v] or (y[v] - y[u]) % 3 == 1
    assert not (A * A.T).any()


def test_flow_and_imbalance_by_brute_force():
    A, y = _graph()
    P = torch.softmax(torch.randn(180, 3, generator=torch.Generator().manual_seed(1),
                                  dtype=torch.float64), 1)
    W = torch.zeros(3, 3, dtype=torch.float64)
    for i, j in torch.nonzero(A).tolist():
        W += P[i][:, None] * P[j][None, :]
    assert torch.allclose(flow_matrix(P, A), W)
    d = A.sum(0) + A.sum(1)
    vol = (P * d[:, None]).sum(0)
    CI = imbalance_matrix(P, A)
    for k in range(3):
        for l in range(3):
            want = 2 * abs(W[k, l] - W[l, k]) / (vol[k] + vol[l] + 1e-8)
            assert torch.isclose(CI[k, l], want)
    pairs = sorted([CI[0, 1], CI[0, 2], CI[1, 2]], reverse=True)
    assert torch.isclose(imbalance_loss(P, A, beta=2), 1 - (pairs[0] + pairs[1]) / 2)


def test_imbalance_loss_gradcheck():
    A, _ = _graph(sizes=(5, 5, 5), p=0.5)
    logits = torch.randn(15, 3, dtype=torch.float64, requires_grad=True,
                         generator=torch.Generator().manual_seed(2))
    for norm in ("vol_sum", "plain"):
        f = lambda z: imbalance_loss(torch.softmax(z, 1), A, 3, norm)
        assert torch.autograd.gradcheck(f, (logits,))


def test_dimpa_against_scipy():
    A, _ = _graph()
    x = torch.randn(2, 1, 180, 5, generator=torch.Generator().manual_seed(3))
    m = DIMPA(hops=3)
    z = m(x[0], x[1], m.propagators(A)).detach()
    for half, M in ((slice(0, 5), A.numpy()), (slice(5, 10), A.numpy().T)):
        S = sp.csr_matrix(M) + 0.5 * sp.eye(180)
        S = sp.diags(1 / np.asarray(S.sum(1)).ravel()) @ S
        xi = x[0 if half.start == 0 else 1, 0].double().numpy()
        want, cur = xi.copy(), xi.copy()
        for _ in range(3):
            cur = S @ cur
            want += cur
        assert np.allclose(z[0, :, half].numpy(), want, atol=1e-4)


def test_spectral_baselines_exact_on_expected_matrix():
    _, y = _graph()
    EA = (0.2 * cyclic_meta_graph(3, 0.1)[y][:, y]).fill_diagonal_(0)
    g = torch.Generator().manual_seed(5)
    assert ari(y, hermitian_clustering(EA, 3, generator=g)) == 1.0
    assert ari(y, disim_clustering(EA, 3, generator=g)) == 1.0
    # the undirected part alone is blind: symmetrising removes the Hermitian signal
    assert hermitian_embedding(EA + EA.T, 3).abs().max() > 0


def test_fit_digrac_recovers_an_easy_dsbm():
    As, xs, ys = [], [], []
    for s in range(2):
        A, y = _graph(eta=0.05, p=0.2, seed=10 + s, sizes=(40, 40, 40))
        x = hermitian_embedding(A, 3).float()
        As.append(A), xs.append((x - x.mean(0)) / x.std(0)), ys.append(y)
    lab, hist = fit_digrac(torch.stack(As), torch.stack(xs), 3, beta=3, copies=2,
                           epochs=40, generator=torch.Generator().manual_seed(6))
    assert hist.shape == (40, 2) and (hist[-1] < hist[0]).all()
    assert all(ari(y, l) >= 0.9 for y, l in zip(ys, lab))
    net = DIGRAC(2, 8, 3, copies=2)
    assert net(xs[0], net.dimpa.propagators(As[0])).shape == (2, 120, 3)
