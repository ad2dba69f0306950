"""Bad-input sweep of `papers_lib.graphs.node2vec` (chapter *node2vec: biased random
walks for node embeddings*): each public name refuses an invalid argument with a message
naming it."""
import torch

from papers_lib.graphs.node2vec import community_role_graph, node2vec_embeddings
from tests.bad_input import Case, check, parametrize

M = "papers_lib.graphs.node2vec."
E = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
N2V = M + "node2vec_embeddings"

CASES = [
    Case(N2V, lambda: node2vec_embeddings(E, 2), ValueError, r"edge_index must hold"),
    Case(N2V, lambda: node2vec_embeddings(E.float(), 3), TypeError, r"edge_index must"),
    Case(N2V, lambda: node2vec_embeddings(E, 3, dim=0), ValueError, r"dim must be"),
    Case(N2V, lambda: node2vec_embeddings(E, 3, walks_per_node=0), ValueError,
         r"walks_per_node must be"),
    Case(N2V, lambda: node2vec_embeddings(E, 3, walk_length=0), ValueError,
         r"walk_length must be"),
    Case(N2V, lambda: node2vec_embeddings(E, 3, window=0), ValueError,
         r"window must be"),
    Case(N2V, lambda: node2vec_embeddings(E, 3, p=0.0), ValueError, r"p must be"),
    Case(N2V, lambda: node2vec_embeddings(E, 3, q=float("nan")), ValueError,
         r"q must be"),
    Case(N2V, lambda: node2vec_embeddings(E, 3, negatives=0), ValueError,
         r"negatives must be"),
    Case(N2V, lambda: node2vec_embeddings(E, 3, epochs=0), ValueError,
         r"epochs must be"),
    Case(N2V, lambda: node2vec_embeddings(E, 3, lr=-1.0), ValueError, r"lr must be"),
    Case(N2V, lambda: node2vec_embeddings(E, 3, batch_size=0), ValueError,
         r"batch_size must be"),
    Case(M + "community_role_graph", lambda: community_role_graph(0, 3, 2), ValueError,
         r"communities must be"),
    Case(M + "community_role_graph", lambda: community_role_graph(2, 1, 2), ValueError,
         r"hubs must be"),
    Case(M + "community_role_graph", lambda: community_role_graph(2, 3, -1), ValueError,
         r"leaves must be"),
]


@parametrize(CASES)
def test_bad_input(case):
    check(case)
