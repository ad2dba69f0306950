"""Bad-input sweep of `papers_lib.mixtures.igmn` (chapter *A fast incremental Gaussian
mixture model*): each public name refuses an invalid argument with a message naming
it."""
import torch

from papers_lib.mixtures.igmn import (
    IGMN, chi2_threshold, cluster_stream, count_flops, covariance_step,
    precision_log_prob, precision_step)
from tests.bad_input import Case, check, parametrize

M = "papers_lib.mixtures.igmn."
F64 = torch.float64
MU = torch.zeros(2, 3, dtype=F64)
C = torch.eye(3, dtype=F64).expand(2, 3, 3).clone()
LD = torch.zeros(2, dtype=F64)
SP = torch.ones(2, dtype=F64)
X = torch.zeros(3, dtype=F64)
P = torch.tensor([0.5, 0.5], dtype=F64)
CH, CS, PS, PL = (M + n for n in ("chi2_threshold", "covariance_step", "precision_step",
                                  "precision_log_prob"))
IG, CF, ST = (M + n for n in ("IGMN", "count_flops", "cluster_stream"))

CASES = [
    Case(CH, lambda: chi2_threshold(0, 0.1), ValueError, r"dim must be"),
    Case(CH, lambda: chi2_threshold(3, 1.0), ValueError, r"beta must be"),
    Case(CS, lambda: covariance_step(MU, C[:, :2], SP, X, P), ValueError,
         r"covariances must have shape"),
    Case(CS, lambda: covariance_step(MU, C, -SP, X, P), ValueError, r"sp must be"),
    Case(CS, lambda: covariance_step(MU, C, SP, X[:2], P), ValueError, r"x must have"),
    Case(CS, lambda: covariance_step(MU, C, SP, X, P * 3), ValueError, r"post must be"),
    Case(CS, lambda: covariance_step(MU.long(), C, SP, X, P), TypeError, r"means must be"),
    Case(PS, lambda: precision_step(MU, C, LD[:1], SP, X, P), ValueError,
         r"logdets must have"),
    Case(PS, lambda: precision_step(MU, C, LD, SP, X * float("nan"), P), ValueError,
         r"x must be finite"),
    Case(PS, lambda: precision_step(MU, C[:1], LD, SP, X, P), ValueError,
         r"precisions must have shape"),
    Case(PL, lambda: precision_log_prob(X, MU, C, LD), ValueError, r"x must have 2"),
    Case(PL, lambda: precision_log_prob(X[None, :2], MU, C, LD), ValueError,
         r"x must have 3 columns"),
    Case(PL, lambda: precision_log_prob(X[None], MU, C, LD[:1]), ValueError,
         r"logdets must have"),
    Case(IG, lambda: IGMN(0, 1.0), ValueError, r"dim must be"),
    Case(IG, lambda: IGMN(3, 0.0), ValueError, r"sigma_ini must be"),
    Case(IG, lambda: IGMN(3, torch.ones(2, dtype=F64)), ValueError, r"sigma_ini must be"),
    Case(IG, lambda: IGMN(3, 1.0, beta=0.0), ValueError, r"beta must be"),
    Case(IG, lambda: IGMN(3, 1.0, form="cholesky"), ValueError, r"form must be"),
    Case(IG, lambda: IGMN(3, 1.0).learn(X[:2]), ValueError, r"x must have 3"),
    Case(IG, lambda: IGMN(3, 1.0).fit(X), ValueError, r"stream must have 2"),
    Case(CF, lambda: count_flops(3), TypeError, r"fn must be callable"),
    Case(ST, lambda: cluster_stream(0, 3), ValueError, r"n must be"),
    Case(ST, lambda: cluster_stream(5, 3, 0), ValueError, r"n_clusters must be"),
    Case(ST, lambda: cluster_stream(5, 3, 2, -1.0), ValueError, r"separation must be"),
]


@parametrize(CASES)
def test_bad_input(case):
    check(case)


def test_the_checks_leave_good_input_alone():
    assert chi2_threshold(1, 0.5) > 0
    assert covariance_step(MU, C, SP, X, torch.zeros(2, dtype=F64))[1].shape == (2, 3, 3)
    assert precision_step(MU, C, LD, SP, X, P)[2].shape == (2,)
    assert precision_log_prob(X[None], MU, C, LD)[1].shape == (1, 2)
    md = IGMN(3, torch.ones(3, dtype=F64)).fit(torch.zeros(4, 3, dtype=F64))
    assert md.n_components == 1
    assert count_flops(lambda: 1)[1] == 0
    assert cluster_stream(5, 3, 1)[0].shape == (5, 3)
