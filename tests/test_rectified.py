"""papers_lib.flows.rectified: couplings, rectified-flow loss, training and reflow,
checked against closed forms (Gaussian to Gaussian, translations, linear ODEs)."""
import math

import pytest
import torch

from papers_lib.flows.base import ConstantField
from papers_lib.flows.matching import CondOTPath, gmm_marginal_field, sample
from papers_lib.flows.rectified import (fit_coupling, independent_coupling, rectified_loss,
                                        reflow, reflow_coupling)
from papers_lib.metrics import straightness, transport_cost


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_independent_coupling_is_a_permutation():
    x0, x1 = torch.randn(50, 3, generator=_gen(0)), torch.randn(50, 3, generator=_gen(1))
    a, b = independent_coupling(x0, x1, generator=_gen(2))
    assert torch.equal(a, x0)
    assert not torch.equal(b, x1)                       # shuffled ...
    rows = {tuple(r.tolist()) for r in x1}
    assert {tuple(r.tolist()) for r in b} == rows and len(b) == len(x1)   # ... not changed
    _, b2 = independent_coupling(x0, x1, generator=_gen(2))
    assert torch.equal(b, b2)                           # reproducible with a generator


def test_independent_coupling_decorrelates():
    """A perfectly correlated pair becomes uncorrelated (correlation ~ N(0, 1/n))."""
    x = torch.randn(4000, 1, generator=_gen(3))
    a, b = independent_coupling(x, x.clone(), generator=_gen(4))
    corr = torch.corrcoef(torch.cat([a, b], 1).T)[0, 1]
    assert abs(corr) < 4 / math.sqrt(4000)


def test_coupling_bad_input():
    with pytest.raises(ValueError, match="same shape"):
        independent_coupling(torch.zeros(4, 2), torch.zeros(5, 2))
    with pytest.raises(TypeError, match="x0 must be a torch.Tensor"):
        independent_coupling([[0.0]], torch.zeros(1, 1))
    with pytest.raises(ValueError, match="shape"):
        reflow_coupling(lambda t, x: x, torch.zeros(3))


def test_reflow_coupling_of_a_linear_ode():
    """dz/dt = a z has z_1 = e^a z_0."""
    x0 = torch.randn(10, 2, dtype=torch.float64, generator=_gen(5))
    z0, z1 = reflow_coupling(lambda t, x: -0.7 * x, x0, None, "dopri5",
                             rtol=1e-9, atol=1e-9)
    assert z0 is x0
    torch.testing.assert_close(z1, math.exp(-0.7) * x0, rtol=1e-7, atol=1e-9)
    shift = torch.tensor([1.0, -2.0], dtype=torch.float64)
    _, z1 = reflow_coupling(lambda t, x: shift.expand_as(x), x0, ode_steps=1)
    torch.testing.assert_close(z1, x0 + shift)


def test_rectified_loss_matches_definition():
    x0, x1 = torch.randn(8, 3, generator=_gen(6)), torch.randn(8, 3, generator=_gen(7))
    t = torch.rand(8, generator=_gen(8))
    v = lambda s, x: torch.sin(x) * s[:, None]         # any field
    xt = (1 - t[:, None]) * x0 + t[:, None] * x1
    ref = (v(t, xt) - (x1 - x0)).pow(2).sum(1).mean()
    torch.testing.assert_close(rectified_loss(v, x0, x1, t=t), ref)
    # zero for the exact field of a translation coupling
    shift = torch.tensor([0.5, 1.0, -1.0])
    assert rectified_loss(lambda s, x: shift.expand_as(x), x0, x0 + shift).item() < 1e-12
    with pytest.raises(ValueError, match="same shape"):
        rectified_loss(v, x0, x1[:4])


def test_gaussian_rectified_flow_is_the_ot_map():
    """N(0, I) -> N(m, s^2 I), independent coupling: the 1-rectified flow is
    z_t = t m + sigma_t z_0, sigma_t = sqrt((1-t)^2 + t^2 s^2): it ends at m + s z_0,
    with cost |m|^2 + d (s-1)^2 and straightness d E|z0|^2/d int (s-1-sigma_t')^2 dt."""
    d, s = 3, 0.4
    m = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    v1 = gmm_marginal_field(CondOTPath(sigma_min=0.0), m[None], s)
    z0 = torch.randn(400, d, dtype=torch.float64, generator=_gen(9))
    _, z1 = reflow_coupling(v1, z0, None, "dopri5", rtol=1e-8, atol=1e-8)
    torch.testing.assert_close(z1, m + s * z0, rtol=0, atol=1e-6)
    # the field itself: E[x1 - x0 | x_t = x] along the known path
    t = torch.full((400,), 0.3, dtype=torch.float64)
    sig = math.sqrt(0.7 ** 2 + 0.09 * s ** 2)
    dsig = (-0.7 + 0.3 * s ** 2) / sig
    torch.testing.assert_close(v1(t, 0.3 * m + sig * z0), m + dsig * z0)
    tq = torch.linspace(0, 1, 20001, dtype=torch.float64)
    sq = ((1 - tq) ** 2 + tq ** 2 * s ** 2).sqrt()
    dsq = (-(1 - tq) + tq * s ** 2) / sq
    s_ref = torch.trapezoid((s - 1 - dsq) ** 2, tq).item() * z0.pow(2).sum(1).mean()
    _, path = sample(v1, z0, 200, "rk4", trajectory=True)
    assert straightness(path) == pytest.approx(float(s_ref), rel=1e-3)
    cost = transport_cost(z0, z1)
    assert cost == pytest.approx(transport_cost(z0, m + s * z0), rel=1e-6)


def test_rectification_lowers_convex_costs():
    """Gaussian to a two-component mixture in 1-D: every convex cost of the rectified
    coupling is below that of the independent coupling; the endpoints keep the data's
    mean and variance."""
    means, std = torch.tensor([[-2.0], [2.0]], dtype=torch.float64), 0.3
    v = gmm_marginal_field(CondOTPath(sigma_min=0.0), means, std)
    g = _gen(10)
    x0 = torch.randn(4000, 1, dtype=torch.float64, generator=g)
    sign = torch.where(torch.rand(4000, 1, generator=g) < 0.5, -1.0, 1.0).double()
    x1 = 2.0 * sign + std * torch.randn(4000, 1, dtype=torch.float64, generator=g)
    _, z1 = reflow_coupling(v, x0, None, "dopri5", rtol=1e-6, atol=1e-6)
    assert z1.mean().item() == pytest.approx(0.0, abs=0.15)
    assert z1.var().item() == pytest.approx(4 + std ** 2, rel=0.05)
    for c in (lambda d: d.abs(), lambda d: d ** 2, lambda d: d ** 4,
              lambda d: torch.relu(d - 1)):
        assert c(z1 - x0).mean() < c(x1 - x0).mean()
    # in 1-D the rectified coupling is monotone: the OT map
    order = x0[:, 0].argsort()
    assert bool((z1[order, 0].diff() >= -1e-6).all())


def test_fit_coupling_paired_and_independent():
    m = torch.tensor([2.0, -1.0])
    x0 = torch.randn(4000, 2, generator=_gen(11))
    x1 = x0 + m                                          # a deterministic coupling
    net = ConstantField(2)
    losses = fit_coupling(net, x0, x1, 300, lr=0.05, generator=_gen(12))
    torch.testing.assert_close(net.b.detach(), m, atol=1e-2, rtol=0)
    assert losses[-20:].mean() < 1e-3                    # exact fit: paired rows kept
    calls = []

    def counting(a, b):
        calls.append(len(a))
        return independent_coupling(a, b)

    net = ConstantField(2)
    torch.manual_seed(0)
    losses = fit_coupling(net, x0, x1, 200, coupling=counting, batch_size=64, lr=0.05,
                          generator=_gen(13))
    assert calls == [64] * 200
    assert (net.b.detach() - m).norm() < 0.2             # E[x1 - x0] = m still ...
    assert losses[-50:].mean() > 3.0                     # ... but floor 2 d = 4


def test_fit_coupling_bad_input():
    x = torch.zeros(10, 2)
    with pytest.raises(TypeError, match="nn.Module"):
        fit_coupling(lambda t, y: y, x, x, 5)
    with pytest.raises(ValueError, match="train_steps must be an int >= 1"):
        fit_coupling(ConstantField(2), x, x, 0)
    with pytest.raises(TypeError, match="batch_size must be an int"):
        fit_coupling(ConstantField(2), x, x, 5, batch_size=True)
    with pytest.raises(TypeError, match="coupling"):
        fit_coupling(ConstantField(2), x, x, 5, coupling="ot")
    with pytest.raises(ValueError, match="same shape"):
        fit_coupling(ConstantField(2), x, torch.zeros(10, 3), 5)


def test_reflow_copies_and_keeps_a_straight_flow():
    """A constant field is already straight: its reflow coupling is the translation,
    on which it is optimal; reflow returns a trained copy and leaves v unchanged."""
    v = ConstantField(2)
    with torch.no_grad():
        v.b.copy_(torch.tensor([1.0, 3.0]))
    x0 = torch.randn(500, 2, generator=_gen(14))
    net, losses = reflow(v, x0, 20, ode_steps=5, lr=1e-3, generator=_gen(15))
    assert net is not v and torch.equal(v.b.detach(), torch.tensor([1.0, 3.0]))
    assert losses[0] < 1e-10 and losses.max() < 1e-5   # Adam's first step moves b by lr
    torch.testing.assert_close(net.b.detach(), v.b.detach(), atol=1e-3, rtol=0)
    # a plain function needs an explicit net
    with pytest.raises(TypeError, match="nn.Module"):
        reflow(lambda t, x: x, x0, 5)
    net2, _ = reflow(lambda t, x: torch.ones_like(x), x0, 200, net=ConstantField(2),
                     lr=0.05, generator=_gen(16))
    torch.testing.assert_close(net2.b.detach(), torch.ones(2), atol=1e-2, rtol=0)
