"""Label-weighted flow diffusion of the chapter *Local graph clustering with noisy labels*
(`papers_lib.graphs.noisy_lgc`): label statistics, closed-form weights, the weighted QP
against scipy, and the comparison on a leaky planted cluster."""
import numpy as np
import torch
from scipy.optimize import minimize

from papers_lib.graphs.noisy_lgc import label_flow_diffusion, label_weights, noisy_labels
from papers_lib.graphs.toolkit import degree, laplacian, precision_recall_f1, sbm, to_dense


def test_noisy_labels_rates_and_extremes():
    tg = torch.arange(40000) < 10000
    y = noisy_labels(tg, 0.7, 0.95, torch.Generator().manual_seed(0))
    assert abs(y[tg].double().mean().item() - 0.7) < 0.015
    assert abs((~y[~tg]).double().mean().item() - 0.95) < 0.01
    assert torch.equal(noisy_labels(tg, 1.0, 1.0), tg)
    assert torch.equal(noisy_labels(tg, 0.0, 0.0), ~tg)


def test_label_weights_closed_form():
    ei = torch.tensor([[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]])
    lab = torch.tensor([True, True, False, True])
    w = label_weights(ei, lab, 0.2)
    assert w.tolist() == [1.0, 1.0, 0.2, 0.2, 0.2, 0.2]
    assert (label_weights(ei, lab, 1.0) == 1).all()


def test_weighted_diffusion_solves_the_qp():
    g = sbm([10, 10], 0.6, 0.1, torch.Generator().manual_seed(1))
    n, ei, K = g.num_nodes, g.edge_index, g.y == 0
    lab = noisy_labels(K, 0.8, 0.8, torch.Generator().manual_seed(2))
    lab[0] = True
    d = degree(ei[0], n, torch.ones(ei.shape[1], dtype=torch.float64))
    mass = 1.5 * d[K].sum().item()
    x = label_flow_diffusion(ei, n, 0, mass, lab, 0.1)
    eil, wl = laplacian(ei, n, label_weights(ei, lab, 0.1), kind="comb")
    L = to_dense(eil, n, wl).numpy()
    D = np.zeros(n)
    D[0] = mass
    T = d.numpy()
    ref = minimize(lambda v: 0.5 * v @ L @ v + v @ (T - D), np.zeros(n),
                   jac=lambda v: L @ v + (T - D), bounds=[(0, None)] * n,
                   method="L-BFGS-B",
                   options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 20000}).x
    assert np.abs(ref - x.numpy()).max() < 1e-4 * max(1.0, np.abs(ref).max())


def test_clean_labels_beat_the_leaky_graph():
    g = sbm([40] * 6, 0.3, 0.05, torch.Generator().manual_seed(3))
    n, ei, K = g.num_nodes, g.edge_index, g.y == 0
    d = degree(ei[0], n)
    mass = 1.5 * d[K].sum().item()
    lab = noisy_labels(K, 0.95, 0.95, torch.Generator().manual_seed(4))
    seed = int((K & lab).nonzero()[0])
    f_plain = precision_recall_f1(label_flow_diffusion(ei, n, seed, mass) > 0, K)[2]
    f_w = precision_recall_f1(label_flow_diffusion(ei, n, seed, mass, lab, 0.05) > 0, K)[2]
    assert f_w > f_plain + 0.2
