"""Bad-input sweep of `papers_lib.mixtures.squared_mixtures` (chapter *Subtractive
mixture models via squaring*): each public name refuses an invalid argument with a
message naming it."""
import math

import torch

from papers_lib.mixtures.squared_mixtures import (
    MixtureDensity, additive_log_prob, fit_mixture, gaussian_overlaps, sample_ring,
    signed_logsumexp, squared_log_normalizer, squared_log_prob)
from tests.bad_input import Case, check, parametrize

M = "papers_lib.mixtures.squared_mixtures."
D64 = torch.float64
W = torch.tensor([1.0, -0.5], dtype=D64)
MU = torch.tensor([[0.0, 0.0], [1.0, 0.0]], dtype=D64)
COV = torch.eye(2, dtype=D64).expand(2, 2, 2).clone()
X = torch.zeros(3, 2, dtype=D64)
LW = torch.full((2,), -math.log(2), dtype=D64)
XB = torch.stack([sample_ring(10, generator=torch.Generator().manual_seed(0))])
MOD = MixtureDensity(W.abs()[None], MU[None], COV[None], "squared")

CASES = [
    Case(M + "signed_logsumexp", lambda: signed_logsumexp(torch.zeros(3), torch.ones(2)),
         ValueError, r"b must have the shape of a"),
    Case(M + "signed_logsumexp",
         lambda: signed_logsumexp(torch.tensor([math.nan, 0.0]), torch.ones(2)),
         ValueError, r"a must hold numbers"),
    Case(M + "signed_logsumexp", lambda: signed_logsumexp(torch.zeros(2, dtype=torch.long),
                                                          torch.ones(2)),
         TypeError, r"a must be a floating"),
    Case(M + "gaussian_overlaps", lambda: gaussian_overlaps(MU, COV[:, :1]), ValueError,
         r"covariances must have shape"),
    Case(M + "gaussian_overlaps", lambda: gaussian_overlaps(MU, -COV), ValueError,
         r"covariances must have positive variances"),
    Case(M + "gaussian_overlaps",
         lambda: gaussian_overlaps(MU, torch.ones(2, 2, 2, dtype=D64) * 2 -
                                   torch.eye(2, dtype=D64) * 0 + torch.tensor(
                                       [[0.0, 1.0], [1.0, 0.0]], dtype=D64)),
         ValueError, r"covariances must be positive definite"),
    Case(M + "squared_log_normalizer",
         lambda: squared_log_normalizer(torch.zeros(2, dtype=D64), MU, COV), ValueError,
         r"weights must not be all zero"),
    Case(M + "squared_log_normalizer", lambda: squared_log_normalizer(W[:1], MU, COV),
         ValueError, r"weights must have shape"),
    Case(M + "squared_log_prob", lambda: squared_log_prob(X[:, :1], W, MU, COV),
         ValueError, r"x must have shape"),
    Case(M + "squared_log_prob",
         lambda: squared_log_prob(X, torch.tensor([math.inf, 1.0], dtype=D64), MU, COV),
         ValueError, r"weights must be finite|weights must"),
    Case(M + "additive_log_prob", lambda: additive_log_prob(X, LW + 1, MU, COV),
         ValueError, r"log_weights must be normalised"),
    Case(M + "additive_log_prob", lambda: additive_log_prob(X[None], LW, MU, COV),
         ValueError, r"x must have 2 dimensions"),
    Case(M + "MixtureDensity", lambda: MixtureDensity(W[None], MU[None], COV[None],
                                                      "additive"),
         ValueError, r"weights must be positive"),
    Case(M + "MixtureDensity", lambda: MixtureDensity(W[None], MU[None], COV[None],
                                                      "mixed"),
         ValueError, r"kind must be one of"),
    Case(M + "MixtureDensity", lambda: MixtureDensity(W, MU, COV), ValueError,
         r"means must have 3 dimensions"),
    Case(M + "MixtureDensity", lambda: MixtureDensity.from_data(XB, 11), ValueError,
         r"n_components must be", label="from_data"),
    Case(M + "MixtureDensity", lambda: MixtureDensity.from_data(XB[0], 2), ValueError,
         r"x must have 3 dimensions", label="from_data x"),
    Case(M + "fit_mixture", lambda: fit_mixture(MOD, XB, steps=0), ValueError,
         r"steps must be"),
    Case(M + "fit_mixture", lambda: fit_mixture(MOD, XB, lr=-1.0), ValueError,
         r"lr must be"),
    Case(M + "fit_mixture", lambda: fit_mixture(MOD, XB[:, :, :1]), ValueError,
         r"x must have shape"),
    Case(M + "fit_mixture", lambda: fit_mixture(object(), XB), TypeError,
         r"model must be a MixtureDensity"),
    Case(M + "sample_ring", lambda: sample_ring(0), ValueError, r"n must be"),
    Case(M + "sample_ring", lambda: sample_ring(5, radius=-1.0), ValueError,
         r"radius must be"),
    Case(M + "sample_ring", lambda: sample_ring(5, width=math.nan), ValueError,
         r"width must be"),
]
EXEMPT = {}


@parametrize(CASES)
def test_bad_input(case):
    check(case)


def test_the_checks_leave_good_input_alone():
    lse, sg = signed_logsumexp(torch.zeros(2, dtype=D64), torch.tensor([1.0, 1.0],
                                                                       dtype=D64))
    assert abs(lse.item() - math.log(2)) < 1e-12 and sg.item() == 1
    assert gaussian_overlaps(MU, COV).shape == (2, 2)
    assert torch.isfinite(squared_log_normalizer(W, MU, COV))
    assert squared_log_prob(X, W, MU, COV).shape == (3,)
    assert additive_log_prob(X, LW, MU, COV).shape == (3,)
    m = MixtureDensity.from_data(XB, 2, "additive")
    assert fit_mixture(m, XB, steps=2).shape == (2, 1)
    assert sample_ring(4).shape == (4, 2)
