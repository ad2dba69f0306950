"""Bad-input sweep of `papers_lib.mixtures.sparse_pc` (chapter *Sparse probabilistic
circuits by pruning and growing*): each public name refuses an invalid argument with a
message naming it."""
import torch

from papers_lib.mixtures.sparse_pc import (
    SparseEinsumCircuit, edge_flows, fit_em, grow_circuit, prune_edges, pruning_bound,
    randomize_, sparse_teacher)
from papers_lib.mixtures.toolkit import EinsumCircuit, random_region_tree
from tests.bad_input import Case, check, parametrize

M = "papers_lib.mixtures.sparse_pc."
G = torch.Generator().manual_seed(0)
C = SparseEinsumCircuit(6, 2, generator=G)
PLAIN = EinsumCircuit(6, 2, generator=G)
X = torch.randint(0, 2, (5, 6), generator=G)
NONE = [torch.zeros_like(m) for m in C.edge_masks]
SC = M + "SparseEinsumCircuit"

CASES = [
    Case(SC, lambda: SparseEinsumCircuit(1), ValueError, r"n_vars must be"),
    Case(SC, lambda: SparseEinsumCircuit(6, 0), ValueError, r"num_units must be"),
    Case(SC, lambda: SparseEinsumCircuit(6, 2, tree=random_region_tree(5)), ValueError,
         r"tree must be"),
    Case(SC, lambda: C.set_edge_masks(NONE[:1]), ValueError, r"masks must hold"),
    Case(SC, lambda: C.set_edge_masks(NONE), ValueError, r"masks must keep"),
    Case(SC, lambda: C.set_edge_masks([m.float() for m in C.edge_masks]), ValueError,
         r"masks must be bool"),
    Case(M + "randomize_", lambda: randomize_(X), TypeError, r"circuit must be"),
    Case(M + "randomize_", lambda: randomize_(C, leaf_scale=-1.0), ValueError,
         r"leaf_scale must be"),
    Case(M + "randomize_", lambda: randomize_(C, sum_scale=float("nan")), ValueError,
         r"sum_scale must be"),
    Case(M + "sparse_teacher", lambda: sparse_teacher(6, 2, fan_in=5), ValueError,
         r"fan_in must be"),
    Case(M + "sparse_teacher", lambda: sparse_teacher(6, 0), ValueError,
         r"num_units must be"),
    Case(M + "sparse_teacher", lambda: sparse_teacher(1, 2), ValueError,
         r"n_vars must be"),
    Case(M + "edge_flows", lambda: edge_flows(PLAIN, X), TypeError, r"circuit must be"),
    Case(M + "edge_flows", lambda: edge_flows(C, X.float()), ValueError, r"x must be"),
    Case(M + "fit_em", lambda: fit_em(C, X, 0), ValueError, r"steps must be"),
    Case(M + "fit_em", lambda: fit_em(C, X, 1, pseudocount=-1.0), ValueError,
         r"pseudocount must be"),
    Case(M + "prune_edges", lambda: prune_edges(PLAIN, C.edge_masks, 10), TypeError,
         r"circuit must be"),
    Case(M + "prune_edges", lambda: prune_edges(C, C.edge_masks[:1], 10), ValueError,
         r"scores must hold"),
    Case(M + "prune_edges", lambda: prune_edges(C, [m.float() for m in C.edge_masks], 1),
         ValueError, r"keep must be"),
    Case(M + "prune_edges", lambda: prune_edges(C, [m.float() for m in C.edge_masks],
                                                10 ** 6), ValueError, r"keep must be"),
    Case(M + "pruning_bound", lambda: pruning_bound(PLAIN, X, NONE), TypeError,
         r"circuit must be"),
    Case(M + "pruning_bound", lambda: pruning_bound(C, X, NONE[:1]), ValueError,
         r"removed must hold"),
    Case(M + "pruning_bound", lambda: pruning_bound(C, X[:, :3], NONE), ValueError,
         r"x must be"),
    Case(M + "grow_circuit", lambda: grow_circuit(PLAIN), TypeError, r"circuit must be"),
    Case(M + "grow_circuit", lambda: grow_circuit(C, noise=-0.1), ValueError,
         r"noise must be"),
]


@parametrize(CASES)
def test_bad_input(case):
    check(case)


def test_the_checks_leave_good_input_alone():
    g = torch.Generator().manual_seed(1)
    c = randomize_(SparseEinsumCircuit(6, 2, generator=g), generator=g)
    t = sparse_teacher(6, 2, fan_in=4, generator=g)
    x = t.sample(20, g)
    hist = fit_em(c, x, 2, pseudocount=0.0)
    fl = edge_flows(c, x)
    units = sum(m.shape[0] * m.shape[1] for m in c.edge_masks)
    p = prune_edges(c, fl, units)
    rem = [m & ~k for m, k in zip(c.edge_masks, p.edge_masks)]
    b, F = pruning_bound(c, x, rem)
    gr = grow_circuit(p, 0.0, g)
    same = SparseEinsumCircuit(6, 2, generator=g, tree=c.tree)
    assert hist.shape == (2,) and b.shape == F.shape == (20,)
    assert gr.num_units == 4 and same.tree is c.tree
