"""Tests of papers_lib.analysis.landscape (chapter nbs/theory/06_loss_landscape.ipynb):
the rescaled ReLU network against the original's outputs, the invariance of
filter-normalised slices, and the sharpness summary against its closed form on a
quadratic."""
import pytest
import torch
from torch import nn
from torch.func import functional_call

from papers_lib.analysis import (functional_loss, loss_surface, params_of,
                                 random_direction)
from papers_lib.analysis.landscape import rescale_equivalent, sharpness_along

F64 = torch.float64


def _net(act=nn.ReLU, seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(5, 7), act(), nn.Linear(7, 6), act(),
                         nn.Linear(6, 3)).to(F64)


def _x(n=20, seed=1):
    return torch.randn(n, 5, generator=torch.Generator().manual_seed(seed), dtype=F64)


# rescale_equivalent ----------------------------------------------------------------

@pytest.mark.parametrize("layer,nxt,c", [("0", "2", 3.7), ("2", "4", 0.05)])
def test_rescaled_relu_network_is_the_same_function(layer, nxt, c):
    net, x = _net(), _x()
    p = params_of(net)
    q = rescale_equivalent(p, layer, nxt, c)
    torch.testing.assert_close(functional_call(net, q, (x,)), net(x), rtol=1e-12,
                               atol=1e-12)
    torch.testing.assert_close(q[f"{layer}.weight"], c * p[f"{layer}.weight"])
    torch.testing.assert_close(q[f"{layer}.bias"], c * p[f"{layer}.bias"])
    torch.testing.assert_close(q[f"{nxt}.weight"], p[f"{nxt}.weight"] / c)
    torch.testing.assert_close(q[f"{nxt}.bias"], p[f"{nxt}.bias"])   # untouched
    assert torch.equal(p["0.weight"], net[0].weight)   # the input is not modified


def test_rescaling_changes_a_tanh_network():
    net, x = _net(nn.Tanh), _x()
    q = rescale_equivalent(params_of(net), "0", "2", 3.0)
    assert (functional_call(net, q, (x,)) - net(x)).abs().max() > 1e-2


def test_rescaled_convolutions_are_the_same_function():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(2, 4, 3), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(4, 3, 2, bias=False)).to(F64)
    x = torch.randn(3, 2, 9, 9, dtype=F64, generator=torch.Generator().manual_seed(2))
    q = rescale_equivalent(params_of(net), "0", "3", 0.3)
    torch.testing.assert_close(functional_call(net, q, (x,)), net(x), rtol=1e-12,
                               atol=1e-12)


def test_filter_normalised_slice_is_invariant_and_raw_slice_is_not():
    net, x = _net(), _x()
    y = torch.randint(0, 3, (20,), generator=torch.Generator().manual_seed(3))
    L = functional_loss(net, nn.functional.cross_entropy, x, y)
    p = params_of(net)
    q = rescale_equivalent(p, "0", "2", 5.0)
    al = torch.linspace(-1, 1, 9, dtype=F64)

    def curve(w, norm):
        d = random_direction(w, normalization=norm,
                             generator=torch.Generator().manual_seed(4))
        return loss_surface(L, w, d, alphas=al)
    for norm in ("filter", "layer"):
        torch.testing.assert_close(curve(q, norm), curve(p, norm), rtol=1e-10,
                                   atol=1e-12)
    assert (curve(q, None) - curve(p, None)).abs().max() > 0.1


def test_rescale_equivalent_rejects_bad_input():
    p = params_of(_net())
    with pytest.raises(ValueError, match="c must be a (finite )?real number > 0"):
        rescale_equivalent(p, "0", "2", 0.0)
    with pytest.raises(ValueError, match="c must be a (finite )?real number > 0"):
        rescale_equivalent(p, "0", "2", float("inf"))
    with pytest.raises(ValueError, match="no tensor '9.weight'"):
        rescale_equivalent(p, "9", "2", 2.0)
    with pytest.raises(ValueError, match="does not take"):
        rescale_equivalent(p, "0", "4", 2.0)          # 4.weight takes 6 inputs, not 7
    with pytest.raises(ValueError, match="does not take"):
        rescale_equivalent(p, "0", "0", 2.0)


# sharpness_along ---------------------------------------------------------------------

def _quadratic(n=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    A = torch.randn(n, n, generator=g, dtype=F64)
    A = A @ A.T
    b = torch.randn(n, generator=g, dtype=F64)

    def L(p):
        return 0.5 * p["w"] @ A @ p["w"] + b @ p["w"] + p["v"].sum() ** 2
    return L, A, g


def test_sharpness_along_matches_closed_form_on_a_quadratic():
    L, A, g = _quadratic()
    p = {"w": torch.randn(6, generator=g, dtype=F64), "v": torch.zeros(2, dtype=F64)}
    dirs = [{"w": torch.randn(6, generator=g, dtype=F64),
             "v": torch.randn(2, generator=g, dtype=F64)} for _ in range(4)]
    r = 0.7
    exact = sum(0.5 * r**2 * (d["w"] @ A @ d["w"]) + r**2 * d["v"].sum() ** 2
                for d in dirs) / len(dirs)
    assert sharpness_along(L, p, dirs, r) == pytest.approx(exact.item(), rel=1e-12)
    # quadratic in the radius: doubling it quadruples the summary
    assert sharpness_along(L, p, dirs, 2 * r) == pytest.approx(4 * exact.item(),
                                                               rel=1e-12)


def test_sharpness_along_rejects_bad_input():
    L, _, g = _quadratic()
    p = {"w": torch.zeros(6, dtype=F64), "v": torch.zeros(2, dtype=F64)}
    with pytest.raises(ValueError, match="at least one"):
        sharpness_along(L, p, [], 1.0)
    with pytest.raises(ValueError, match="radius must be a real number > 0"):
        sharpness_along(L, p, [p], -1.0)
    with pytest.raises(ValueError, match="same names"):
        sharpness_along(L, p, [{"w": p["w"]}], 1.0)
