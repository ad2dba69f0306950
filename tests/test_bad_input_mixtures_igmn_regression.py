"""Bad-input sweep of `papers_lib.mixtures.igmn_regression` (chapter *Incremental
Gaussian-mixture regression*): each public name refuses an invalid argument with a
message naming it."""
import torch

from papers_lib.mixtures.igmn_regression import (
    IGMNRegressor, conditional_mean, covariance_conditional_mean, function_stream)
from tests.bad_input import Case, check, parametrize

M = "papers_lib.mixtures.igmn_regression."
F64 = torch.float64
MU = torch.zeros(2, 3, dtype=F64)
C = torch.eye(3, dtype=F64).expand(2, 3, 3).clone()
LD = torch.zeros(2, dtype=F64)
LW = torch.log(torch.tensor([0.5, 0.5], dtype=F64))
A = torch.zeros(4, 2, dtype=F64)
CM, CC, RG, FS = (M + n for n in ("conditional_mean", "covariance_conditional_mean",
                                  "IGMNRegressor", "function_stream"))

CASES = [
    Case(CM, lambda: conditional_mean(A[:, :0], MU, C, LD, LW), ValueError,
         r"x must have between 1 and 2 columns"),
    Case(CM, lambda: conditional_mean(torch.zeros(4, 3, dtype=F64), MU, C, LD, LW),
         ValueError, r"x must have between"),
    Case(CM, lambda: conditional_mean(A, MU, C[:, :2], LD, LW), ValueError,
         r"precisions must have shape"),
    Case(CM, lambda: conditional_mean(A, MU, C, LD[:1], LW), ValueError,
         r"logdets must have"),
    Case(CM, lambda: conditional_mean(A, MU, C, LD, LW[:1]), ValueError,
         r"log_weights must have"),
    Case(CM, lambda: conditional_mean(A.long(), MU, C, LD, LW), TypeError, r"x must be"),
    Case(CC, lambda: covariance_conditional_mean(A, MU[:, :2], C, LW), ValueError,
         r"covariances must have shape"),
    Case(CC, lambda: covariance_conditional_mean(A * float("nan"), MU, C, LW),
         ValueError, r"x must be finite"),
    Case(RG, lambda: IGMNRegressor(0, 1, 1.0), ValueError, r"in_dim must be"),
    Case(RG, lambda: IGMNRegressor(1, 0, 1.0), ValueError, r"out_dim must be"),
    Case(RG, lambda: IGMNRegressor(1, 1, -1.0), ValueError, r"sigma_ini must be"),
    Case(RG, lambda: IGMNRegressor(1, 1, 1.0).fit(A, A[:, :1]), ValueError,
         r"x and y must be"),
    Case(RG, lambda: IGMNRegressor(2, 1, 1.0).predict(A), ValueError,
         r"predict needs a fitted model"),
    Case(FS, lambda: function_stream(0), ValueError, r"n must be"),
    Case(FS, lambda: function_stream(5, -0.1), ValueError, r"noise must be"),
]


@parametrize(CASES)
def test_bad_input(case):
    check(case)


def test_the_checks_leave_good_input_alone():
    assert conditional_mean(A, MU, C, LD, LW)[0].shape == (4, 1)
    assert covariance_conditional_mean(A[:, :1], MU, C, LW)[0].shape == (4, 2)
    rg = IGMNRegressor(2, 1, 1.0).fit(A, A[:, :1])
    assert rg.predict(A).shape == (4, 1)
    assert function_stream(3, 0.0)[1].shape == (3, 1)
