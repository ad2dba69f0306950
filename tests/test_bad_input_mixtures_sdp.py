"""Bad-input sweep of `papers_lib.mixtures.sdp` (chapter *Uncertainty quantification via
stable distribution propagation*): each public name refuses an invalid argument with a
message naming it."""
import torch
from torch import nn

from papers_lib.mixtures.sdp import (ks_to_stable, mc_forward, moment_matching_forward,
                                     relu_gaussian_tv, relu_linearization_tv,
                                     relu_moments, sdp_forward, sdp_marginal_forward,
                                     stable_sample, stable_scale, w1_to_gaussian)
from tests.bad_input import Case, check, parametrize

M = "papers_lib.mixtures.sdp."
torch.manual_seed(0)
NET = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
X = torch.zeros(4, 2)
L = torch.eye(2)
S = torch.ones(4, 2)
ONE = torch.ones(3)
NAN = torch.tensor([float("nan")])

CASES = [
    Case(M + "relu_moments", lambda: relu_moments([0.0], ONE), TypeError, r"mean must"),
    Case(M + "relu_moments", lambda: relu_moments(ONE, -ONE), ValueError, r"var must"),
    Case(M + "relu_moments", lambda: relu_moments(NAN, ONE[:1]), ValueError,
         r"mean must be finite"),
    Case(M + "relu_linearization_tv", lambda: relu_linearization_tv(ONE, 0 * ONE),
         ValueError, r"sigma must be > 0"),
    Case(M + "relu_linearization_tv", lambda: relu_linearization_tv(NAN, ONE[:1]),
         ValueError, r"mu must be finite"),
    Case(M + "relu_gaussian_tv", lambda: relu_gaussian_tv(0.0, 0.0, 0.0, 1.0),
         ValueError, r"sigma must be"),
    Case(M + "relu_gaussian_tv", lambda: relu_gaussian_tv(0.0, 1.0, float("nan"), 1.0),
         ValueError, r"m must be"),
    Case(M + "relu_gaussian_tv", lambda: relu_gaussian_tv(0.0, 1.0, 0.0, -1.0),
         ValueError, r"s must be"),
    Case(M + "relu_gaussian_tv", lambda: relu_gaussian_tv(0.0, 1.0, 0.0, 1.0, grid=2),
         ValueError, r"grid must be"),
    Case(M + "sdp_forward", lambda: sdp_forward(nn.Tanh(), X, L), TypeError,
         r"net must be an nn.Sequential"),
    Case(M + "sdp_forward", lambda: sdp_forward(nn.Sequential(nn.Linear(2, 2),
                                                              nn.Tanh()), X, L),
         TypeError, r"net must be"),
    Case(M + "sdp_forward", lambda: sdp_forward(NET, X[0], L), ValueError,
         r"loc must have 2 dimensions"),
    Case(M + "sdp_forward", lambda: sdp_forward(NET, X, torch.eye(3)), ValueError,
         r"mix must have shape"),
    Case(M + "sdp_forward", lambda: sdp_forward(NET, X, L * float("inf")), ValueError,
         r"mix must be finite"),
    Case(M + "stable_scale", lambda: stable_scale(L, 1.5), ValueError, r"alpha must be"),
    Case(M + "stable_scale", lambda: stable_scale(L.long(), 2), TypeError,
         r"mix must be a floating"),
    Case(M + "sdp_marginal_forward", lambda: sdp_marginal_forward(NET, X, -S, 2),
         ValueError, r"scale must be"),
    Case(M + "sdp_marginal_forward", lambda: sdp_marginal_forward(NET, X, S, 3),
         ValueError, r"alpha must be"),
    Case(M + "sdp_marginal_forward", lambda: sdp_marginal_forward(NET, X, S[:2], 1),
         ValueError, r"scale must be"),
    Case(M + "moment_matching_forward",
         lambda: moment_matching_forward(NET, X, S[:, :1]), ValueError, r"var must be"),
    Case(M + "moment_matching_forward",
         lambda: moment_matching_forward(NET, X * float("nan"), S), ValueError,
         r"mean must be finite"),
    Case(M + "moment_matching_forward", lambda: moment_matching_forward(None, X, S),
         TypeError, r"net must be"),
    Case(M + "stable_sample", lambda: stable_sample((2,), 0.5), ValueError,
         r"alpha must be"),
    Case(M + "stable_sample", lambda: stable_sample([2, 3], 2), ValueError,
         r"shape must be"),
    Case(M + "stable_sample", lambda: stable_sample((-1,), 1), ValueError,
         r"shape must be"),
    Case(M + "mc_forward", lambda: mc_forward(NET, X, L, 0, 2), ValueError,
         r"n must be"),
    Case(M + "mc_forward", lambda: mc_forward(NET, X, L, 5, 1.2), ValueError,
         r"alpha must be"),
    Case(M + "mc_forward", lambda: mc_forward(NET, X, torch.ones(3, 2, 2), 5, 2),
         ValueError, r"mix must have shape"),
    Case(M + "w1_to_gaussian", lambda: w1_to_gaussian(ONE, ONE[0], -ONE[0]), ValueError,
         r"std must be"),
    Case(M + "w1_to_gaussian", lambda: w1_to_gaussian(NAN, ONE[0], ONE[0]), ValueError,
         r"samples must be finite"),
    Case(M + "ks_to_stable", lambda: ks_to_stable(ONE, ONE[0], 0 * ONE[0], 1),
         ValueError, r"scale must be > 0"),
    Case(M + "ks_to_stable", lambda: ks_to_stable(ONE, ONE[0], ONE[0], 0.7), ValueError,
         r"alpha must be"),
]


@parametrize(CASES)
def test_bad_input(case):
    check(case)


def test_the_checks_leave_good_input_alone():
    g = torch.Generator().manual_seed(0)
    m, v = relu_moments(ONE, ONE)
    assert m.shape == v.shape == (3,)
    assert relu_linearization_tv(ONE, ONE).shape == (3,)
    assert 0 < relu_gaussian_tv(0.5, 1.0, 0.5, 1.0) < 1
    loc, mix = sdp_forward(NET, X, L)
    assert loc.shape == (4, 1) and mix.shape == (4, 1, 2)
    assert stable_scale(mix, 1).shape == stable_scale(mix, 2).shape == (4, 1)
    assert sdp_marginal_forward(NET, X, S, 1)[1].shape == (4, 1)
    assert moment_matching_forward(NET, X, S)[1].shape == (4, 1)
    assert stable_sample((2, 3), 1, g).shape == (2, 3)
    y = mc_forward(NET, X, L, 7, 2, g)
    assert y.shape == (4, 7, 1)
    assert w1_to_gaussian(y[..., 0], loc[:, 0], stable_scale(mix, 2)[:, 0]).shape == (4,)
    assert ks_to_stable(y[..., 0], loc[:, 0], ONE[0].expand(4), 2).shape == (4,)
