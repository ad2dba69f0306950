"""Bad-input sweep of `papers_lib.mixtures.fsgld` (chapter *Federated stochastic gradient
Langevin dynamics*): each public name refuses an invalid argument with a message naming
it."""
import torch

from papers_lib.mixtures.fsgld import (
    conducive_gradient, federated_sgld, gaussian_posterior, gaussian_w2, laplace_fit,
    linear_regression_grad, linear_regression_log_lik, non_iid_regression)
from tests.bad_input import Case, check, parametrize

M = "papers_lib.mixtures.fsgld."
F64 = torch.float64
X, Y, SIZES, _ = non_iid_regression(2, 5, 2, generator=torch.Generator().manual_seed(0))
TH = torch.zeros(3, 2, dtype=F64)
MEANS = torch.zeros(2, 2, dtype=F64)
PRECS = torch.eye(2, dtype=F64).expand(2, 2, 2).clone()
FR = torch.tensor([0.5, 0.5], dtype=F64)
CL = torch.tensor([0, 1, 0])
LL = lambda t: -(t * t).sum()
G = linear_regression_grad
NID, LLK, GR, GP = (M + n for n in ("non_iid_regression", "linear_regression_log_lik",
                                    "linear_regression_grad", "gaussian_posterior"))
LF, CG, FS, W2 = (M + n for n in ("laplace_fit", "conducive_gradient", "federated_sgld",
                                  "gaussian_w2"))


def fs(**kw):
    args = dict(theta0=TH, X=X, y=Y, shard_sizes=SIZES, grad_log_lik=G, prior_var=1.0,
                step_size=1e-4, steps=2)
    args.update(kw)
    return federated_sgld(**args)


CASES = [
    Case(NID, lambda: non_iid_regression(0, 5), ValueError, r"num_clients must be"),
    Case(NID, lambda: non_iid_regression(2, 0), ValueError, r"per_client must be"),
    Case(NID, lambda: non_iid_regression(2, 5, dim=1.5), TypeError, r"dim must be"),
    Case(NID, lambda: non_iid_regression(2, 5, noise_var=0.0), ValueError,
         r"noise_var must be"),
    Case(NID, lambda: non_iid_regression(2, 5, radius=-1.0), ValueError,
         r"radius must be"),
    Case(NID, lambda: non_iid_regression(2, 5, spread=float("nan")), ValueError,
         r"spread must be"),
    Case(LLK, lambda: linear_regression_log_lik([0.0, 0.0], X, Y), TypeError,
         r"theta must be"),
    Case(LLK, lambda: linear_regression_log_lik(TH, X[:, :1], Y), ValueError,
         r"X must have shape"),
    Case(LLK, lambda: linear_regression_log_lik(TH, X, Y, noise_var=-1.0), ValueError,
         r"noise_var must be"),
    Case(GR, lambda: linear_regression_grad(TH, X.long(), Y), TypeError, r"X must be"),
    Case(GR, lambda: linear_regression_grad(TH, X, Y[:3]), ValueError,
         r"X must have shape"),
    Case(GP, lambda: gaussian_posterior(X, Y[:3]), ValueError, r"X and y must have"),
    Case(GP, lambda: gaussian_posterior(X, Y, prior_var=0.0), ValueError,
         r"prior_var must be"),
    Case(GP, lambda: gaussian_posterior(X[0], Y), ValueError, r"X must have 2"),
    Case(LF, lambda: laplace_fit(3.0, torch.zeros(2)), TypeError, r"log_lik must be"),
    Case(LF, lambda: laplace_fit(LL, torch.tensor([float("nan"), 0.0])), ValueError,
         r"theta0 must be finite"),
    Case(LF, lambda: laplace_fit(LL, torch.zeros(2), steps=0), ValueError,
         r"steps must be"),
    Case(LF, lambda: laplace_fit(LL, torch.zeros(2), tol=-1.0), ValueError,
         r"tol must be"),
    Case(CG, lambda: conducive_gradient(TH, torch.tensor([0, 2, 0]), MEANS, PRECS, FR),
         ValueError, r"client must hold"),
    Case(CG, lambda: conducive_gradient(TH, CL[:2], MEANS, PRECS, FR), ValueError,
         r"client must have one entry"),
    Case(CG, lambda: conducive_gradient(TH, CL, MEANS, PRECS[:, :1], FR), ValueError,
         r"means, precisions and fractions must"),
    Case(CG, lambda: conducive_gradient(TH, CL, MEANS, PRECS, FR * 0.5), ValueError,
         r"fractions must be positive and sum to one"),
    Case(FS, lambda: fs(theta0=TH[:, :1]), ValueError, r"X must have shape"),
    Case(FS, lambda: fs(shard_sizes=torch.tensor([5, 4])), ValueError,
         r"shard_sizes must be"),
    Case(FS, lambda: fs(grad_log_lik=None), TypeError, r"grad_log_lik must be"),
    Case(FS, lambda: fs(prior_var=0.0), ValueError, r"prior_var must be"),
    Case(FS, lambda: fs(step_size=float("inf")), ValueError, r"step_size must be"),
    Case(FS, lambda: fs(steps=0), ValueError, r"steps must be"),
    Case(FS, lambda: fs(local_steps=0), ValueError, r"local_steps must be"),
    Case(FS, lambda: fs(local_steps=torch.tensor([1, 2])), ValueError,
         r"local_steps must be"),
    Case(FS, lambda: fs(batch_size=0), ValueError, r"batch_size must be"),
    Case(FS, lambda: fs(correct=torch.ones(3)), ValueError, r"correct must be None"),
    Case(FS, lambda: fs(approx=[MEANS, PRECS]), TypeError, r"approx must be a tuple"),
    Case(FS, lambda: fs(approx=(MEANS[:1], PRECS)), ValueError, r"approx must hold"),
    Case(FS, lambda: fs(approx=(MEANS, PRECS), correct=torch.ones(2)), ValueError,
         r"correct must have shape"),
    Case(FS, lambda: fs(theta0=torch.full((3, 2), float("nan"), dtype=F64)), ValueError,
         r"theta0 must be finite"),
    Case(W2, lambda: gaussian_w2(MEANS[0], PRECS[0, :1], MEANS[0], PRECS[0]), ValueError,
         r"cov1 must have shape"),
    Case(W2, lambda: gaussian_w2(MEANS[0], PRECS[0], torch.zeros(3, dtype=F64),
                                 torch.eye(3, dtype=F64)), ValueError,
         r"mean1 and mean2 must have the same dimension"),
    Case(W2, lambda: gaussian_w2([0.0], PRECS[0], MEANS[0], PRECS[0]), TypeError,
         r"mean1 must be"),
]


@parametrize(CASES)
def test_bad_input(case):
    check(case)


def test_the_checks_leave_good_input_alone():
    assert non_iid_regression(2, 5, 2, radius=0.0)[0].shape == (10, 2)
    assert linear_regression_log_lik(TH, X, Y).shape == (3,)
    assert linear_regression_grad(TH, X, Y).shape == (3, 2)
    assert gaussian_posterior(X, Y)[1].shape == (2, 2)
    assert laplace_fit(LL, torch.ones(2), tol=0.0)[0].abs().max() < 1e-12
    assert conducive_gradient(TH, CL, MEANS, PRECS, FR).shape == (3, 2)
    assert fs(local_steps=torch.tensor([1, 2, 3]), approx=(MEANS, PRECS)).shape == (3, 2, 2)
    assert gaussian_w2(MEANS[0], PRECS[0], MEANS[0], PRECS[0]).item() < 1e-6
