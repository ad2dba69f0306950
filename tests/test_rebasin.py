"""Tests of papers_lib.analysis.rebasin (page nbs/theory/07_rebasin.ipynb): permutations
against explicit permutation matrices, weight and activation matching against brute-force
enumeration of all permutations of small layers, the loss barrier against closed forms."""
import itertools

import pytest
import torch
from torch import nn
from torch.func import functional_call

from papers_lib.analysis import params_of
from papers_lib.analysis.rebasin import (activation_matching, interpolation_path,
                                         loss_barrier, matching_objective, permute_mlp,
                                         weight_matching)

F64 = torch.float64


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def _mlp(sizes=(4, 6, 5, 3), seed=0, act=nn.Tanh, bias=True):
    torch.manual_seed(seed)
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b, bias=bias, dtype=F64), act()]
    return nn.Sequential(*layers[:-1])


def _perm_matrix(p):
    P = torch.zeros(len(p), len(p), dtype=F64)
    P[torch.arange(len(p)), p] = 1          # (P W)[i] = W[p[i]]
    return P


def _rand_perms(sizes, seed=0):
    g = _gen(seed)
    return [torch.randperm(n, generator=g) for n in sizes[1:-1]]


# permute_mlp ---------------------------------------------------------------------------

@pytest.mark.parametrize("act", [nn.Tanh, nn.ReLU, nn.GELU])
def test_permuted_network_computes_the_same_function(act):
    sizes = (4, 6, 5, 7, 3)
    m = _mlp(sizes, act=act)
    p = params_of(m)
    q = permute_mlp(p, _rand_perms(sizes))
    x = torch.randn(20, 4, generator=_gen(1), dtype=F64)
    torch.testing.assert_close(functional_call(m, q, (x,)), m(x), rtol=0, atol=1e-13)
    assert not torch.equal(q["0.weight"], p["0.weight"])
    assert list(q) == list(p)


def test_permute_mlp_equals_permutation_matrices():
    sizes = (4, 6, 5, 3)
    p = params_of(_mlp(sizes))
    perms = _rand_perms(sizes, seed=3)
    P = [torch.eye(4, dtype=F64)] + [_perm_matrix(s) for s in perms] + [
        torch.eye(3, dtype=F64)]
    q = permute_mlp(p, perms)
    for l, name in enumerate(["0", "2", "4"]):
        torch.testing.assert_close(q[f"{name}.weight"],
                                   P[l + 1] @ p[f"{name}.weight"] @ P[l].T)
        torch.testing.assert_close(q[f"{name}.bias"], P[l + 1] @ p[f"{name}.bias"])


def test_permute_mlp_without_biases_and_identity():
    sizes = (3, 4, 2)
    m = _mlp(sizes, bias=False)
    p = params_of(m)
    same = permute_mlp(p, [torch.arange(4)])
    assert all(torch.equal(same[k], p[k]) for k in p)
    q = permute_mlp(p, [torch.tensor([3, 1, 0, 2])])
    x = torch.randn(5, 3, generator=_gen(), dtype=F64)
    torch.testing.assert_close(functional_call(m, q, (x,)), m(x))


def test_permute_mlp_bad_input():
    p = params_of(_mlp((4, 6, 5, 3)))
    with pytest.raises(ValueError, match="one permutation per hidden layer"):
        permute_mlp(p, [torch.arange(6)])
    with pytest.raises(ValueError, match=r"perms\[1\] must be a permutation"):
        permute_mlp(p, [torch.arange(6), torch.tensor([0, 0, 1, 2, 3])])
    with pytest.raises(ValueError, match=r"perms\[0\] must be a permutation"):
        permute_mlp(p, [torch.arange(5), torch.arange(5)])
    with pytest.raises(ValueError, match="do not chain"):
        permute_mlp({"0.weight": torch.ones(3, 2), "1.weight": torch.ones(2, 4)},
                    [torch.arange(3)])
    with pytest.raises(ValueError, match="'.weight' and '.bias'"):
        permute_mlp({**p, "0.scale": torch.ones(6)}, [torch.arange(6), torch.arange(5)])
    with pytest.raises(ValueError, match="2-D"):
        permute_mlp({"0.weight": torch.ones(3, 2, 2), "1.weight": torch.ones(2, 3)},
                    [torch.arange(3)])
    with pytest.raises(TypeError, match="non-empty dict"):
        permute_mlp({}, [])


# weight matching -----------------------------------------------------------------------

def test_matching_objective_is_the_inner_product():
    sizes = (4, 6, 5, 3)
    pa, pb = params_of(_mlp(sizes, seed=0)), params_of(_mlp(sizes, seed=1))
    perms = _rand_perms(sizes, seed=2)
    q = permute_mlp(pb, perms)
    ref = sum((pa[k] * q[k]).sum() for k in pa).item()
    assert matching_objective(pa, pb, perms) == pytest.approx(ref, rel=1e-12)


def test_weight_matching_one_hidden_layer_is_the_global_optimum():
    # One hidden layer: a single linear assignment, which must beat all 6! permutations.
    sizes = (3, 6, 2)
    pa, pb = params_of(_mlp(sizes, seed=0)), params_of(_mlp(sizes, seed=1))
    best = max(matching_objective(pa, pb, [torch.tensor(s)])
               for s in itertools.permutations(range(6)))
    found = weight_matching(pa, pb, generator=_gen())
    assert matching_objective(pa, pb, found) == pytest.approx(best, rel=1e-12)


def test_weight_matching_two_layers_against_enumeration():
    # Two hidden layers of widths 4 and 3: 4! * 3! = 144 pairs; coordinate ascent finds
    # a local maximum, which must be at most the brute-force maximum and at least the
    # best value over P_2 for its own P_1 (a block-wise optimum).
    sizes = (3, 4, 3, 2)
    pa, pb = params_of(_mlp(sizes, seed=4)), params_of(_mlp(sizes, seed=5))
    vals = {(s1, s2): matching_objective(pa, pb, [torch.tensor(s1), torch.tensor(s2)])
            for s1 in itertools.permutations(range(4))
            for s2 in itertools.permutations(range(3))}
    p1, p2 = weight_matching(pa, pb, generator=_gen())
    got = matching_objective(pa, pb, [p1, p2])
    assert got <= max(vals.values()) + 1e-12
    t1, t2 = tuple(p1.tolist()), tuple(p2.tolist())
    assert got >= max(v for (s1, _), v in vals.items() if s1 == t1) - 1e-12
    assert got >= max(v for (_, s2), v in vals.items() if s2 == t2) - 1e-12


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_weight_matching_recovers_a_known_permutation(seed):
    sizes = (8, 16, 12, 10, 4)
    pa = params_of(_mlp(sizes, seed=seed))
    pb = permute_mlp(pa, _rand_perms(sizes, seed=seed + 10))
    hist = []
    found = weight_matching(pa, pb, generator=_gen(seed), history=hist)
    back = permute_mlp(pb, found)
    assert all(torch.equal(back[k], pa[k]) for k in pa)
    top = sum((v ** 2).sum() for v in pa.values()).item()
    assert hist[-1] == pytest.approx(top, rel=1e-12)
    assert all(b >= a - 1e-12 for a, b in zip(hist, hist[1:]))
    assert hist[0] < hist[-1]


def test_weight_matching_objective_never_decreases_on_unrelated_networks():
    sizes = (6, 20, 20, 20, 3)
    pa, pb = params_of(_mlp(sizes, seed=0)), params_of(_mlp(sizes, seed=1))
    hist = []
    found = weight_matching(pa, pb, max_iter=50, generator=_gen(), history=hist)
    assert all(b >= a - 1e-12 for a, b in zip(hist, hist[1:]))
    assert hist[-1] == pytest.approx(matching_objective(pa, pb, found), rel=1e-12)
    assert hist[-1] > hist[0]


def test_weight_matching_max_iter_and_bad_input():
    sizes = (6, 20, 20, 3)
    pa, pb = params_of(_mlp(sizes, seed=0)), params_of(_mlp(sizes, seed=1))
    hist = []
    weight_matching(pa, pb, max_iter=1, generator=_gen(), history=hist)
    assert len(hist) == 1 + 2                       # start + one sweep of 2 layers
    with pytest.raises(ValueError, match="max_iter"):
        weight_matching(pa, pb, max_iter=0)
    with pytest.raises(ValueError, match="same names and shapes"):
        weight_matching(pa, params_of(_mlp((6, 20, 21, 3))))


# activation matching -------------------------------------------------------------------

def test_activation_matching_against_enumeration():
    sizes = (3, 5, 2)
    ma, mb = _mlp(sizes, seed=0), _mlp(sizes, seed=1)
    x = torch.randn(40, 3, generator=_gen(), dtype=F64)
    with torch.no_grad():
        za, zb = torch.tanh(ma[0](x)), torch.tanh(mb[0](x))
    C = torch.corrcoef(torch.cat([za, zb], 1).T)[:5, 5:]     # corr(A_i, B_j)
    best = max(sum(C[i, s[i]] for i in range(5)).item()
               for s in itertools.permutations(range(5)))
    (found,) = activation_matching(ma, mb, x)
    got = C[torch.arange(5), found].sum().item()
    assert got == pytest.approx(best, rel=1e-9)


def test_activation_matching_recovers_a_permuted_copy():
    sizes = (6, 10, 8, 3)
    ma = _mlp(sizes, act=nn.ReLU)
    mb = _mlp(sizes, act=nn.ReLU)
    pa = params_of(ma)
    pb = permute_mlp(pa, _rand_perms(sizes, seed=7))
    mb.load_state_dict(pb)
    found = activation_matching(ma, mb, torch.randn(100, 6, generator=_gen(), dtype=F64))
    back = permute_mlp(pb, found)
    assert all(torch.equal(back[k], pa[k]) for k in pa)


def test_activation_matching_bad_input():
    ma = _mlp((3, 5, 2))
    x = torch.randn(10, 3, dtype=F64)
    with pytest.raises(TypeError, match="nn.Sequential"):
        activation_matching(nn.Linear(3, 2), ma, x)
    with pytest.raises(ValueError, match="at least 2 inputs"):
        activation_matching(ma, ma, x[0])
    with pytest.raises(ValueError, match="same hidden widths"):
        activation_matching(ma, _mlp((3, 4, 2)), x)
    with_norm = nn.Sequential(nn.Linear(3, 5, dtype=F64), nn.LayerNorm(5, dtype=F64),
                              nn.Linear(5, 2, dtype=F64))
    with pytest.raises(ValueError, match="only nn.Linear"):
        activation_matching(with_norm, with_norm, x)


# the loss barrier ----------------------------------------------------------------------

def _sq(p):
    return 0.5 * sum((v ** 2).sum() for v in p.values())


def test_interpolation_path_matches_manual_evaluation():
    pa, pb = params_of(_mlp(seed=0)), params_of(_mlp(seed=1))
    al = [0.0, 0.3, 1.0]
    path = interpolation_path(_sq, pa, pb, al)
    ref = [_sq({k: (1 - a) * pa[k] + a * pb[k] for k in pa}).item() for a in al]
    torch.testing.assert_close(path, torch.tensor(ref, dtype=F64))


def test_loss_barrier_closed_forms():
    pa, pb = params_of(_mlp(seed=0)), params_of(_mlp(seed=1))
    d2 = sum(((pa[k] - pb[k]) ** 2).sum() for k in pa).item()
    # concave -|theta|^2/2: gap alpha (1 - alpha) |a - b|^2 / 2, largest at 1/2
    assert loss_barrier(lambda p: -_sq(p), pa, pb) == pytest.approx(d2 / 8, rel=1e-12)
    al = torch.tensor([0.1, 0.3], dtype=F64)       # on a grid without 1/2
    assert loss_barrier(lambda p: -_sq(p), pa, pb, al) == pytest.approx(
        0.3 * 0.7 * d2 / 2, rel=1e-12)
    assert loss_barrier(_sq, pa, pb) == 0.0        # convex: never above the chord
    assert loss_barrier(_sq, pa, pa) == 0.0        # a network with itself
    lin = lambda p: sum(v.sum() for v in p.values())
    assert loss_barrier(lin, pa, pb) == pytest.approx(0.0, abs=1e-12)


def test_loss_barrier_is_invariant_to_the_endpoints_function_values():
    # the barrier of a permuted copy of a network is a property of the path, not of f:
    # a network and its permuted copy compute the same loss at both ends
    sizes = (4, 6, 5, 3)
    m = _mlp(sizes)
    x, y = torch.randn(30, 4, generator=_gen(), dtype=F64), torch.randint(0, 3, (30,))
    L = lambda p: nn.functional.cross_entropy(functional_call(m, p, (x,)), y)
    pa = params_of(m)
    pb = permute_mlp(pa, _rand_perms(sizes, seed=1))
    ends = interpolation_path(L, pa, pb, [0.0, 1.0])
    assert ends[0].item() == pytest.approx(ends[1].item(), rel=1e-12)
    back = permute_mlp(pb, weight_matching(pa, pb, generator=_gen()))
    assert loss_barrier(L, pa, back) == 0.0


def test_loss_barrier_bad_input():
    pa = params_of(_mlp())
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        loss_barrier(_sq, pa, pa, [0.5, 1.5])
    with pytest.raises(TypeError, match="callable"):
        loss_barrier(None, pa, pa)
    with pytest.raises(ValueError, match="must not be empty"):
        interpolation_path(_sq, pa, pa, [])
    with pytest.raises(ValueError, match="same names and shapes"):
        loss_barrier(_sq, pa, params_of(_mlp((4, 7, 5, 3))))
