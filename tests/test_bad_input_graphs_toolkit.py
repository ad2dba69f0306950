"""Bad-input sweep of the graph toolkit (`papers_lib.graphs.toolkit`): each public function
refuses an invalid argument with a message naming it."""
import torch

from papers_lib.graphs.toolkit import (
    AGGREGATIONS, Graph, MessagePassing, add_self_loops, aggregate, appnp, batch_graphs,
    check_batch, check_edge_index, coalesce, connected_components, contextual_sbm, degree,
    dirichlet_energy, edge_homophily, erdos_renyi, fit_copies, hop_distances, laplacian,
    node_split,
    normalized_adjacency, point_cloud, propagate, random_geometric, sbm, to_dense,
    to_undirected)
from papers_lib.graphs.toolkit import (
    SkipGram, ari, conductance, is_dag, linear_sem, negative_samples, nmi, notears_h,
    random_dag, random_walks, shd, skipgram_pairs)
from papers_lib.graphs.toolkit import balanced_accuracy, kmeans, linear_probe, set_partitions
from tests.bad_input import Case, check, parametrize

T = "papers_lib.graphs.toolkit."
EI = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
X = torch.ones(3, 2)
Z = torch.randn(6, 2)
Y = torch.tensor([0, 1, 0, 1, 0, 1])
TR = torch.tensor([True, True, True, False, False, False])
OUT = torch.tensor([[0, 5], [1, 0]])  # node 5 of a 3-node graph
NET = torch.nn.Linear(2, 2)            # two copies of a 3-node classifier, stacked
XS, YS = torch.ones(2, 3, 2), torch.zeros(2, 3, dtype=torch.long)
MS = torch.ones(2, 3, dtype=torch.bool)
ST = torch.tensor([0, 2])                # walk starts
SG = SkipGram(3, 2)
P3 = torch.tensor([0, 1, 2])
CYC = torch.tensor([[0.0, 1.0], [1.0, 0.0]])   # the 2-cycle 0 -> 1 -> 0

CASES = [
    Case(T + "Graph", lambda: Graph(EI, 2), ValueError,
         r"edge_index must hold node numbers in \[0, 2\), got values in \[0, 2\]"),
    Case(T + "Graph", lambda: Graph(EI, 3, x=torch.ones(4, 2)), ValueError,
         r"x must have one row per node \(3\), got 4"),
    Case(T + "Graph", lambda: Graph(EI, 3, edge_weight=torch.ones(3)), ValueError,
         r"edge_weight must have one entry per edge \(4\), got 3"),
    Case(T + "check_edge_index", lambda: check_edge_index(EI.float(), 3), TypeError,
         r"edge_index must be a torch.long tensor, got torch.float32"),
    Case(T + "check_edge_index", lambda: check_edge_index(EI[:1], 3), ValueError,
         r"edge_index must have shape \(2, m\), got \(1, 4\)"),
    Case(T + "check_edge_index", lambda: check_edge_index([[0], [1]], 3), TypeError,
         r"edge_index must be a torch.Tensor, got list"),
    Case(T + "coalesce", lambda: coalesce(OUT, 3), ValueError,
         r"edge_index must hold node numbers in \[0, 3\)"),
    Case(T + "to_undirected", lambda: to_undirected(OUT, 3), ValueError,
         r"edge_index must hold node numbers"),
    Case(T + "add_self_loops", lambda: add_self_loops(EI, 3, fill=float("inf")), ValueError,
         r"fill must be a finite real number, got inf"),
    Case(T + "degree", lambda: degree(EI, 3), ValueError,
         r"index must have 1 dimensions, got shape \(2, 4\)"),
    Case(T + "propagate", lambda: propagate(X, OUT), ValueError,
         r"edge_index must hold node numbers in \[0, 3\)"),
    Case(T + "propagate", lambda: propagate(X, EI, num_nodes=-1), ValueError,
         r"num_nodes must be an int >= 0, got -1"),
    Case(T + "to_dense", lambda: to_dense(EI, 2), ValueError,
         r"edge_index must hold node numbers in \[0, 2\)"),
    Case(T + "normalized_adjacency", lambda: normalized_adjacency(EI, 3, kind="left"),
         ValueError, r"kind must be one of 'sym', 'rw', got 'left'"),
    Case(T + "laplacian", lambda: laplacian(EI, 3, kind="normalized"), ValueError,
         r"kind must be one of 'sym', 'rw', 'comb', got 'normalized'"),
    Case(T + "appnp", lambda: appnp(X, EI, 3, alpha=1.0), ValueError,
         r"alpha must be a real number > 0, < 1, got 1.0"),
    Case(T + "appnp", lambda: appnp(X, EI, 3, K=-1), ValueError,
         r"K must be an int >= 0, got -1"),
    Case(T + "aggregate", lambda: aggregate(X, EI[1], 3, "min"), ValueError,
         r"aggr must be one of 'sum', 'mean', 'max', got 'min'"),
    Case(T + "MessagePassing", lambda: MessagePassing("prod"), ValueError,
         r"aggr must be one of 'sum', 'mean', 'max', got 'prod'"),
    Case(T + "dirichlet_energy", lambda: dirichlet_energy([1.0], EI), TypeError,
         r"x must be a torch.Tensor, got list"),
    Case(T + "erdos_renyi", lambda: erdos_renyi(10, 1.5), ValueError,
         r"p must be a real number >= 0, <= 1, got 1.5"),
    Case(T + "sbm", lambda: sbm([5, 0], 0.5, 0.1), ValueError,
         r"sizes\[i\] must be an int >= 1, got 0"),
    Case(T + "contextual_sbm", lambda: contextual_sbm(100, 4, 5.0, 1.2, 1.0), ValueError,
         r"homophily must be a real number >= 0, <= 1, got 1.2"),
    Case(T + "contextual_sbm", lambda: contextual_sbm(10, 4, 9.0, 0.9, 1.0), ValueError,
         r"avg_degree must be at most n / \(2 max\(h, 1 - h\)\) = 5.55556, got 9.0"),
    Case(T + "edge_homophily", lambda: edge_homophily(EI[:, :0], torch.zeros(3)),
         ValueError, r"edge_index must hold at least one edge, got none"),
    Case(T + "random_geometric", lambda: random_geometric(10, 0.0), ValueError,
         r"radius must be a real number > 0, got 0.0"),
    Case(T + "point_cloud", lambda: point_cloud(10, dim=0), ValueError,
         r"dim must be an int >= 1, got 0"),
    Case(T + "node_split", lambda: node_split(10, 0.8, 0.3), ValueError,
         r"train \+ val must be at most 1, got 1.1"),
    Case(T + "batch_graphs", lambda: batch_graphs([]), TypeError,
         r"graphs must be a non-empty sequence of Graph"),
    Case(T + "connected_components", lambda: connected_components(OUT, 3), ValueError,
         r"edge_index must hold node numbers"),
    Case(T + "hop_distances", lambda: hop_distances(EI, 3, 3), ValueError,
         r"source must be an int >= 0, <= 2, got 3"),
    Case(T + "check_batch", lambda: check_batch(torch.tensor([0, 1]), 3), ValueError,
         r"batch must be a torch.long tensor of shape \(3,\)"),
    Case(T + "check_batch", lambda: check_batch(torch.tensor([0.0, 1.0, 1.0]), 3),
         ValueError, r"batch must be a torch.long tensor"),
    Case(T + "check_batch", lambda: check_batch(torch.tensor([0, -1, 1]), 3),
         ValueError, r"batch must be >= 0, got values in \[-1, 1\]"),
    Case(T + "check_batch", lambda: check_batch(torch.tensor([1, 0, 1]), 3, sorted=True),
         ValueError, r"batch must be sorted and >= 0"),
    Case(T + "check_batch", lambda: check_batch(torch.tensor([0, 2, 1]), 3, 2),
         ValueError, r"num_graphs must be an int >= 3, got 2"),
    Case(T + "check_batch", lambda: check_batch(None, -1), ValueError,
         r"num_nodes must be"),
    Case(T + "fit_copies", lambda: fit_copies("net", XS, YS, MS, MS, MS), TypeError,
         r"model must be a torch.nn.Module"),
    Case(T + "fit_copies", lambda: fit_copies(NET, XS[0], YS, MS, MS, MS), ValueError,
         r"x must"),
    Case(T + "fit_copies", lambda: fit_copies(NET, XS, YS[:1], MS, MS, MS), ValueError,
         r"y must have shape \(2, 3\)"),
    Case(T + "fit_copies", lambda: fit_copies(NET, XS, YS, MS, MS[:, :2], MS),
         ValueError, r"val_mask must have shape"),
    Case(T + "fit_copies", lambda: fit_copies(NET, XS, YS, MS, MS, MS, lr=0.0),
         ValueError, r"lr must be"),
    Case(T + "fit_copies", lambda: fit_copies(NET, XS, YS, MS, MS, MS, epochs=0),
         ValueError, r"epochs must be"),
    Case(T + "fit_copies", lambda: fit_copies(NET, XS, YS, MS, MS, MS, keep="best"),
         ValueError, r"keep must be"),
    Case(T + "random_walks", lambda: random_walks(OUT, 3, ST, 2), ValueError,
         r"edge_index must hold node numbers"),
    Case(T + "random_walks", lambda: random_walks(EI, 3, torch.tensor([0, 3]), 2),
         ValueError, r"starts must be a torch.long tensor of node numbers in \[0, 3\)"),
    Case(T + "random_walks", lambda: random_walks(EI, 3, ST.float(), 2), ValueError,
         r"starts must be a torch.long tensor"),
    Case(T + "random_walks", lambda: random_walks(EI, 3, ST, -1), ValueError,
         r"length must be an int >= 0, got -1"),
    Case(T + "random_walks", lambda: random_walks(EI, 3, ST, 2, p=0.0), ValueError,
         r"p must be a real number > 0, got 0.0"),
    Case(T + "random_walks", lambda: random_walks(EI, 3, ST, 2, q=float("inf")),
         ValueError, r"q must be a finite real number > 0, got inf"),
    Case(T + "skipgram_pairs", lambda: skipgram_pairs(ST, 2), ValueError,
         r"walks must have 2 dimensions, got shape \(2,\)"),
    Case(T + "skipgram_pairs", lambda: skipgram_pairs(ST[None], 0), ValueError,
         r"window must be an int >= 1, got 0"),
    Case(T + "negative_samples", lambda: negative_samples(torch.tensor([1.0, -1.0]), 2, 3),
         ValueError, r"counts must be non-negative with a positive sum"),
    Case(T + "negative_samples", lambda: negative_samples(torch.zeros(3), 2, 3),
         ValueError, r"counts must be non-negative with a positive sum"),
    Case(T + "negative_samples", lambda: negative_samples(torch.ones(3), 0, 3),
         ValueError, r"k must be an int >= 1, got 0"),
    Case(T + "negative_samples", lambda: negative_samples(torch.ones(3), 2, 1.5),
         TypeError, r"num must be an int, got 1.5"),
    Case(T + "SkipGram", lambda: SkipGram(0, 2), ValueError,
         r"num_nodes must be an int >= 1, got 0"),
    Case(T + "SkipGram", lambda: SkipGram(3, 2.5), TypeError, r"dim must be an int, got 2.5"),
    Case(T + "SkipGram", lambda: SG.loss(P3, P3[:2], P3[:, None]), ValueError,
         r"centre and context and negatives must have the same leading size"),
    Case(T + "SkipGram", lambda: SG.loss(P3, P3, P3), ValueError,
         r"negatives must have 2 dimensions, got shape \(3,\)"),
    Case(T + "SkipGram", lambda: SG(P3[:0], P3[:0], P3[:0, None]), ValueError,
         r"centre must hold at least one pair, got none"),
    Case(T + "nmi", lambda: nmi(P3, P3[:2]), ValueError,
         r"labels_true and labels_pred must have the same leading size"),
    Case(T + "nmi", lambda: nmi(P3.float(), P3), ValueError,
         r"labels_true must be a non-empty integer tensor, got torch.float32"),
    Case(T + "nmi", lambda: nmi([0, 1], P3), TypeError,
         r"labels_true must be a torch.Tensor, got list"),
    Case(T + "ari", lambda: ari(P3, P3[None]), ValueError,
         r"labels_true and labels_pred must have the same leading size"),
    Case(T + "ari", lambda: ari(P3[:0], P3[:0]), ValueError,
         r"labels_true must be a non-empty integer tensor"),
    Case(T + "conductance", lambda: conductance(EI, 3, P3[:2] > 0), ValueError,
         r"mask must be a torch.bool tensor of shape \(3,\), got torch.bool of shape"),
    Case(T + "conductance", lambda: conductance(EI, 3, P3), ValueError,
         r"mask must be a torch.bool tensor of shape \(3,\), got torch.int64"),
    Case(T + "conductance", lambda: conductance(EI, 3, torch.ones(3, dtype=torch.bool)),
         ValueError, r"mask must leave edges on both sides"),
    Case(T + "conductance", lambda: conductance(OUT, 3, P3 > 0), ValueError,
         r"edge_index must hold node numbers"),
    Case(T + "is_dag", lambda: is_dag(torch.ones(2, 3)), ValueError,
         r"W must be a square matrix, got shape \(2, 3\)"),
    Case(T + "is_dag", lambda: is_dag(torch.ones(2, 2, dtype=torch.long)), TypeError,
         r"W must be a floating-point tensor, got torch.int64"),
    Case(T + "random_dag", lambda: random_dag(0, 0.5), ValueError,
         r"num_nodes must be an int >= 1, got 0"),
    Case(T + "random_dag", lambda: random_dag(4, 1.5), ValueError,
         r"edge_prob must be a real number >= 0, <= 1, got 1.5"),
    Case(T + "linear_sem", lambda: linear_sem(CYC, 10), ValueError,
         r"W must be acyclic \(is_dag\(W\)\), got a graph with a cycle"),
    Case(T + "linear_sem", lambda: linear_sem(torch.zeros(2, 2), 0), ValueError,
         r"n must be an int >= 1, got 0"),
    Case(T + "linear_sem", lambda: linear_sem(torch.zeros(2, 2), 5, noise_scale=-1.0),
         ValueError, r"noise_scale must be a finite real number > 0|noise_scale must be"),
    Case(T + "linear_sem", lambda: linear_sem(torch.zeros(3), 5), ValueError,
         r"W must have 2 dimensions, got shape \(3,\)"),
    Case(T + "shd", lambda: shd(CYC, torch.zeros(3, 3)), ValueError,
         r"W_est must have W_true's shape \(2, 2\), got \(3, 3\)"),
    Case(T + "shd", lambda: shd(torch.zeros(2, 3), CYC), ValueError,
         r"W_true must be a square matrix"),
    Case(T + "notears_h", lambda: notears_h(torch.ones(3)), ValueError,
         r"W must have 2 dimensions, got shape \(3,\)"),
    Case(T + "notears_h", lambda: notears_h(torch.ones(2, 2, dtype=torch.long)), TypeError,
         r"W must be a floating-point tensor, got torch.int64"),
    Case(T + "linear_probe", lambda: linear_probe(Z.long(), Y, TR), TypeError,
         r"z must be a floating-point tensor"),
    Case(T + "linear_probe", lambda: linear_probe(Z, Y[:4], TR), ValueError,
         r"y must be non-negative integer labels of shape \(6,\)"),
    Case(T + "linear_probe", lambda: linear_probe(Z, Y.float(), TR), ValueError,
         r"y must be non-negative integer labels"),
    Case(T + "linear_probe", lambda: linear_probe(Z, Y, TR.long()), ValueError,
         r"train must be a non-empty torch.bool mask"),
    Case(T + "linear_probe", lambda: linear_probe(Z, Y, TR & False), ValueError,
         r"train must be a non-empty torch.bool mask"),
    Case(T + "linear_probe", lambda: linear_probe(Z, Y, TR, weight_decay=-1.0),
         ValueError, r"weight_decay must be"),
    Case(T + "linear_probe", lambda: linear_probe(Z, Y, TR, steps=0), ValueError,
         r"steps must be"),
    Case(T + "balanced_accuracy", lambda: balanced_accuracy(Y, Y, TR.long()), ValueError,
         r"mask must be a non-empty torch.bool mask"),
    Case(T + "balanced_accuracy", lambda: balanced_accuracy(Y, Y[:4], TR), ValueError,
         r"pred"),
    Case(T + "kmeans", lambda: kmeans(Z, 7), ValueError, r"k must be"),
    Case(T + "kmeans", lambda: kmeans(Z.long(), 2), TypeError, r"x must be"),
    Case(T + "kmeans", lambda: kmeans(Z, 2, n_init=0), ValueError, r"n_init must be"),
    Case(T + "kmeans", lambda: kmeans(Z, 2, iters=0), ValueError, r"iters must be"),
    Case(T + "kmeans", lambda: kmeans(Z * float("nan"), 2), ValueError,
         r"x must be finite"),
    Case(T + "set_partitions", lambda: set_partitions(12), ValueError, r"n must be"),
    Case(T + "set_partitions", lambda: set_partitions(0), ValueError, r"n must be"),
]


@parametrize(CASES)
def test_bad_input(case):
    check(case)


def test_the_checks_leave_good_input_alone():
    assert Graph(EI, 3, x=X).num_edges == 4 and AGGREGATIONS[0] == "sum"
    assert propagate(X, EI).shape == (3, 2) and appnp(X, EI, 3, K=0).equal(X)
    assert hop_distances(EI, 3, 2).tolist() == [2, 1, 0]
    assert random_walks(EI, 3, ST, 3, p=2.0, q=0.5).shape == (2, 4)
    assert random_walks(EI[:, :0], 3, ST, 2).tolist() == [[0, 0, 0], [2, 2, 2]]
    assert skipgram_pairs(ST[None], 1)[0].tolist() == [0, 2]
    assert negative_samples(torch.ones(3), 2, 0).shape == (0, 2)
    assert SG.loss(P3, P3, P3[:, None]).ndim == 0
    assert nmi(P3, P3) == 1.0 and ari(P3, P3) == 1.0
    assert conductance(EI, 3, P3 == 0) == 1.0
    W = random_dag(4, 1.0)
    assert is_dag(W) and not is_dag(CYC) and shd(W, W) == 0 and notears_h(CYC) > 0
    assert linear_sem(W, 5).shape == (5, 4)
    assert linear_probe(Z, Y, TR).shape == (6,) and balanced_accuracy(Y, Y, TR) == 1.0
    assert kmeans(Z, 2).shape == (6,) and set_partitions(1).tolist() == [[0]]
