"""Bad-input sweep of `papers_lib.graphs.musae` (chapter *MUSAE and AE: node embeddings
from the attributes seen along random walks*): each public name refuses an invalid
argument with a message naming it."""
import torch

from papers_lib.graphs.musae import (
    attribute_skipgram, attributed_sbm, cooccurrence_limit, feature_pairs,
    musae_embeddings, pointwise_mutual_information)
from tests.bad_input import Case, check, parametrize

M = "papers_lib.graphs.musae."
E = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
X = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
W = torch.tensor([[0, 1, 2, 1]])
A, B = torch.tensor([0, 1, 2]), torch.tensor([0, 1, 1])
FP, CL, PMI = M + "feature_pairs", M + "cooccurrence_limit", M + "pointwise_mutual_information"
SG, ME, AS = M + "attribute_skipgram", M + "musae_embeddings", M + "attributed_sbm"

CASES = [
    Case(FP, lambda: feature_pairs(W[0], X, 1), ValueError, r"walks must have 2"),
    Case(FP, lambda: feature_pairs(W, X[0], 1), ValueError, r"features must have 2"),
    Case(FP, lambda: feature_pairs(W, X, 0), ValueError, r"scale must be"),
    Case(FP, lambda: feature_pairs(W + 1, X, 1), ValueError, r"walks must be a torch.long"),
    Case(FP, lambda: feature_pairs(W.float(), X, 1), ValueError, r"walks must be"),
    Case(CL, lambda: cooccurrence_limit(E, 2, X, 1), ValueError, r"edge_index must hold"),
    Case(CL, lambda: cooccurrence_limit(E, 3, X[:2], 1), ValueError,
         r"features must have one row per node"),
    Case(CL, lambda: cooccurrence_limit(E, 3, X, -1), ValueError, r"scale must be"),
    Case(CL, lambda: cooccurrence_limit(E, 4, torch.ones(4, 2), 1), ValueError,
         r"edge_index must give every node an edge"),
    Case(CL, lambda: cooccurrence_limit(E, 3, torch.zeros(3, 2), 1), ValueError,
         r"features must have at least one non-zero"),
    Case(PMI, lambda: pointwise_mutual_information(torch.ones(3)), ValueError,
         r"joint must have 2"),
    Case(PMI, lambda: pointwise_mutual_information(torch.ones(2, 2).long()), TypeError,
         r"joint must be a floating"),
    Case(PMI, lambda: pointwise_mutual_information(-torch.ones(2, 2)), ValueError,
         r"joint must be finite and non-negative"),
    Case(PMI, lambda: pointwise_mutual_information(torch.zeros(2, 2)), ValueError,
         r"joint must be finite"),
    Case(SG, lambda: attribute_skipgram(A.float(), B, 3, 2, 2), ValueError,
         r"nodes must be a torch.long"),
    Case(SG, lambda: attribute_skipgram(A, B + 5, 3, 2, 2), ValueError,
         r"feats must be a torch.long"),
    Case(SG, lambda: attribute_skipgram(A, B[:2], 3, 2, 2), ValueError,
         r"feats must pair with nodes"),
    Case(SG, lambda: attribute_skipgram(A, B, 0, 2, 2), ValueError, r"num_nodes must be"),
    Case(SG, lambda: attribute_skipgram(A, B, 3, 0, 2), ValueError,
         r"num_features must be"),
    Case(SG, lambda: attribute_skipgram(A, B, 3, 2, 0), ValueError, r"dim must be"),
    Case(SG, lambda: attribute_skipgram(A, B, 3, 2, 2, negatives=0), ValueError,
         r"negatives must be"),
    Case(SG, lambda: attribute_skipgram(A, B, 3, 2, 2, epochs=0), ValueError,
         r"epochs must be"),
    Case(SG, lambda: attribute_skipgram(A, B, 3, 2, 2, lr=0.0), ValueError, r"lr must be"),
    Case(SG, lambda: attribute_skipgram(A, B, 3, 2, 2, noise_power=-1.0), ValueError,
         r"noise_power must be"),
    Case(SG, lambda: attribute_skipgram(A, B, 3, 2, 2, batch_size=0), ValueError,
         r"batch_size must be"),
    Case(ME, lambda: musae_embeddings(E, 2, X), ValueError, r"edge_index must hold"),
    Case(ME, lambda: musae_embeddings(E, 3, X[:2]), ValueError,
         r"features must have one row per node"),
    Case(ME, lambda: musae_embeddings(E, 3, X, dim=0), ValueError, r"dim must be"),
    Case(ME, lambda: musae_embeddings(E, 3, X, scales=0), ValueError, r"scales must be"),
    Case(ME, lambda: musae_embeddings(E, 3, X, pooled="yes"), ValueError,
         r"pooled must be one of"),
    Case(ME, lambda: musae_embeddings(E, 3, X, walks_per_node=0), ValueError,
         r"walks_per_node must be"),
    Case(ME, lambda: musae_embeddings(E, 3, X, walk_length=0), ValueError,
         r"walk_length must be"),
    Case(ME, lambda: musae_embeddings(E, 3, X, scales=5, walk_length=4), ValueError,
         r"scales must be at most walk_length"),
    Case(ME, lambda: musae_embeddings(E, 3, X, lr=float("nan")), ValueError,
         r"lr must be"),
    Case(AS, lambda: attributed_sbm([5, 5], 0.5, 0.1, 0, 0.5, 0.1), ValueError,
         r"num_features must be"),
    Case(AS, lambda: attributed_sbm([5, 5], 0.5, 0.1, 4, 1.5, 0.1), ValueError,
         r"p_topic must be"),
    Case(AS, lambda: attributed_sbm([5, 5], 0.5, 0.1, 4, 0.5, -0.1), ValueError,
         r"p_noise must be"),
    Case(AS, lambda: attributed_sbm([5, 0], 0.5, 0.1, 4, 0.5, 0.1), ValueError,
         r"sizes\[i\] must be"),
    Case(AS, lambda: attributed_sbm([5, 5], 2.0, 0.1, 4, 0.5, 0.1), ValueError,
         r"p_in must be"),
]


@parametrize(CASES)
def test_bad_input(case):
    check(case)


def test_the_checks_leave_good_input_alone():
    g = torch.Generator().manual_seed(0)
    a, f = feature_pairs(W, X, 1)
    assert a.numel() == f.numel() > 0
    assert cooccurrence_limit(E, 3, X, 2).shape == (3, 2)
    assert pointwise_mutual_information(torch.ones(2, 3)).abs().max() < 1e-12
    U, V = attribute_skipgram(A, B, 3, 2, 2, generator=g)
    assert U.shape == (3, 2) and V.shape == (2, 2)
    assert musae_embeddings(E, 3, X, 2, 2, walk_length=3, generator=g).shape == (3, 4)
    assert musae_embeddings(E, 3, X, 2, 2, True, walk_length=3, generator=g).shape == (3, 2)
    gr = attributed_sbm([5, 5], 0.5, 0.1, 4, 0.5, 0.1, g)
    assert gr.x.shape == (10, 4) and gr.y.shape == (10,)
