"""papers_lib.flows.multisample: minibatch couplings and gradient variance, checked against
brute force over permutations, the monotone coupling in 1-D, OT maps of affine
push-forwards, closed-form Sinkhorn limits and the gradient variance of a constant field."""
import functools
import itertools
import math

import pytest
import torch

from papers_lib.flows.base import ConstantField
from papers_lib.flows.matching import VectorFieldMLP
from papers_lib.flows.multisample import (gradient_variance, minibatch_ot_coupling,
                                          ot_assignment, sinkhorn_coupling, sinkhorn_plan)
from papers_lib.flows.rectified import fit_coupling, independent_coupling
from papers_lib.metrics import transport_cost


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def _cost(x0, x1, perm):
    return (x0 - x1[list(perm)]).pow(2).sum().item()


@pytest.mark.parametrize("n", [1, 2, 3, 5, 6])
def test_assignment_equals_brute_force(n):
    g = _gen(n)
    x0, x1 = torch.randn(n, 3, generator=g), torch.randn(n, 3, generator=g)
    sigma = ot_assignment(x0, x1)
    best = min(_cost(x0, x1, p) for p in itertools.permutations(range(n)))
    assert sorted(sigma.tolist()) == list(range(n))                  # a permutation
    assert _cost(x0, x1, sigma.tolist()) == pytest.approx(best, rel=1e-6, abs=1e-9)


def test_assignment_beats_random_permutations():
    g = _gen(1)
    x0, x1 = torch.randn(40, 2, generator=g), torch.randn(40, 2, generator=g) * 2 + 1
    a, b = minibatch_ot_coupling(x0, x1)
    assert torch.equal(a, x0)
    assert {tuple(r.tolist()) for r in b} == {tuple(r.tolist()) for r in x1}
    c_ot = transport_cost(a, b)
    for _ in range(500):
        perm = torch.randperm(40, generator=g)
        assert c_ot <= transport_cost(x0, x1[perm]) + 1e-6


def test_one_dimensional_coupling_is_monotone():
    g = _gen(2)
    x0, x1 = torch.randn(300, 1, generator=g), torch.rand(300, 1, generator=g) ** 2
    a, b = minibatch_ot_coupling(x0, x1)
    torch.testing.assert_close(b[a[:, 0].argsort()], x1.sort(0).values)


def test_recovers_affine_ot_map():
    """x -> 2 x + c is the gradient of a convex function, hence the OT map: shuffling the
    image and pairing by OT undoes the shuffle."""
    g = _gen(3)
    x0 = torch.randn(100, 2, generator=g, dtype=torch.float64)
    c = torch.tensor([3.0, -1.0], dtype=torch.float64)
    x1 = (2 * x0 + c)[torch.randperm(100, generator=g)]
    _, b = minibatch_ot_coupling(x0, x1)
    torch.testing.assert_close(b, 2 * x0 + c)


def test_flattens_image_batches():
    g = _gen(4)
    x0, x1 = torch.randn(6, 1, 2, 2, generator=g), torch.randn(6, 1, 2, 2, generator=g)
    sig = ot_assignment(x0, x1)
    torch.testing.assert_close(sig, ot_assignment(x0.flatten(1), x1.flatten(1)))


def test_sinkhorn_marginals_and_large_eps():
    g = _gen(5)
    x0, x1 = torch.randn(20, 2, generator=g), torch.randn(20, 2, generator=g) + 1
    plan = sinkhorn_plan(x0, x1, eps=0.5, iters=500)
    assert plan.dtype == torch.float64 and bool((plan >= 0).all())
    torch.testing.assert_close(plan.sum(0), torch.full((20,), 1 / 20, dtype=plan.dtype))
    torch.testing.assert_close(plan.sum(1), torch.full((20,), 1 / 20, dtype=plan.dtype))
    flat = sinkhorn_plan(x0, x1, eps=1e6, iters=5)          # -> independent plan
    torch.testing.assert_close(flat, torch.full((20, 20), 1 / 400, dtype=plan.dtype),
                               rtol=1e-4, atol=0)


def test_sinkhorn_tends_to_assignment():
    """With a unique optimum and a cost gap `gap`, eps << gap gives the permutation."""
    g = _gen(6)
    x0, x1 = torch.randn(6, 2, generator=g), torch.randn(6, 2, generator=g)
    costs = sorted(_cost(x0, x1, p) for p in itertools.permutations(range(6)))
    gap = costs[1] - costs[0]
    assert gap > 0.05
    sigma = ot_assignment(x0, x1)
    perm = torch.zeros(6, 6, dtype=torch.float64)
    perm[torch.arange(6), sigma] = 1 / 6
    plan = sinkhorn_plan(x0, x1, eps=gap / 30, iters=3000)
    assert (plan - perm).abs().sum() < 1e-2
    _, b = sinkhorn_coupling(x0, x1, gap / 30, 3000, generator=_gen(0))
    torch.testing.assert_close(b, x1[sigma])
    # the excess cost of the entropic plan is at most eps log n
    for eps in [1.0, 0.3]:
        p = sinkhorn_plan(x0, x1, eps=eps, iters=2000)
        excess = (p * torch.cdist(x0, x1).double().pow(2)).sum().item() - costs[0] / 6
        assert -1e-9 <= excess <= eps * math.log(6) + 1e-6


def test_sinkhorn_coupling_rows_and_reproducibility():
    g = _gen(7)
    x0, x1 = torch.randn(30, 2, generator=g), torch.randn(30, 2, generator=g)
    a, b = sinkhorn_coupling(x0, x1, 1.0, generator=_gen(1))
    _, b2 = sinkhorn_coupling(x0, x1, 1.0, generator=_gen(1))
    assert torch.equal(a, x0) and torch.equal(b, b2)
    rows = {tuple(r.tolist()) for r in x1}
    assert all(tuple(r.tolist()) in rows for r in b)


def test_gradient_variance_closed_form():
    """Constant field v = b: the gradient 2 (b - mean(x1 - x0)) has total variance
    4 d (1 + s^2) / k under the independent coupling of N(0, I) and N(m, s^2 I)."""
    g = _gen(8)
    x0 = torch.randn(100000, 2, generator=g)
    x1 = torch.tensor([1.0, 2.0]) + 0.5 * torch.randn(100000, 2, generator=g)
    gv = gradient_variance(ConstantField(2), x0, x1,
                           functools.partial(independent_coupling, generator=g),
                           batch_size=32, n_batches=800, generator=g)
    exact = 4 * 2 * 1.25 / 32
    assert abs(gv - exact) < 0.12 * exact                    # sd of the estimate ~ 5%
    # paired data x1 = x0 + m: the pairs as given have zero variance
    gv0 = gradient_variance(ConstantField(2), x0, x0 + 1.0, lambda a, b: (a, a + 1.0),
                            batch_size=16, n_batches=10, generator=g)
    assert gv0 < 1e-20


def test_plugs_into_fit_coupling():
    g = _gen(10)
    x0, x1 = torch.randn(2000, 2, generator=g), torch.randn(2000, 2, generator=g) + 2
    net = VectorFieldMLP(2, hidden=16, depth=2)
    losses = fit_coupling(net, x0, x1, 100, coupling=minibatch_ot_coupling,
                          batch_size=64, lr=1e-2, generator=g)
    assert losses.shape == (100,) and losses[-20:].mean() < 1.0   # independent: >= 4


def test_bad_input():
    with pytest.raises(ValueError, match="same shape"):
        minibatch_ot_coupling(torch.zeros(4, 2), torch.zeros(5, 2))
    with pytest.raises(ValueError, match="same shape"):
        ot_assignment(torch.zeros(4), torch.zeros(4))
    with pytest.raises(TypeError, match="x0 must be a torch.Tensor"):
        minibatch_ot_coupling([[0.0]], torch.zeros(1, 1))
    with pytest.raises(ValueError, match="eps"):
        sinkhorn_plan(torch.zeros(3, 2), torch.zeros(3, 2), eps=0.0)
    with pytest.raises(ValueError, match="eps"):
        sinkhorn_coupling(torch.zeros(3, 2), torch.zeros(3, 2), eps=float("nan"))
    with pytest.raises(ValueError, match="iters"):
        sinkhorn_plan(torch.zeros(3, 2), torch.zeros(3, 2), iters=0)
    with pytest.raises(TypeError, match="nn.Module"):
        gradient_variance(lambda t, x: x, torch.zeros(3, 2), torch.zeros(3, 2),
                          minibatch_ot_coupling)
    with pytest.raises(TypeError, match="callable"):
        gradient_variance(ConstantField(2), torch.zeros(3, 2), torch.zeros(3, 2), None)
    with pytest.raises(ValueError, match="n_batches"):
        gradient_variance(ConstantField(2), torch.zeros(3, 2), torch.zeros(3, 2),
                          minibatch_ot_coupling, n_batches=1)
