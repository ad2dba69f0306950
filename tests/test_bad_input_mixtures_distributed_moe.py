"""Bad-input sweep of `papers_lib.mixtures.distributed_moe` (chapter *Distributed
learning of mixtures of experts*): each public name refuses an invalid argument with a
message naming it."""
import torch

from papers_lib.mixtures.distributed_moe import (
    GaussianMoE, fit_distributed_moe, fit_gating, gaussian_kl, moe_em, param_error,
    reduce_moe, transport_divergence)
from tests.bad_input import Case, check, parametrize

M = "papers_lib.mixtures.distributed_moe."
DT = torch.float64
A = torch.zeros(3, 3, dtype=DT)
B = torch.randn(3, 3, generator=torch.Generator().manual_seed(0), dtype=DT)
S2 = torch.ones(3, dtype=DT)
MOE = GaussianMoE(A, B, S2)
LOC = GaussianMoE(A.expand(2, 3, 3), B.expand(2, 3, 3), S2.expand(2, 3))
LAM = torch.full((2,), 0.5, dtype=DT)
X = torch.randn(40, 2, generator=torch.Generator().manual_seed(1), dtype=DT)
Y = torch.randn(40, generator=torch.Generator().manual_seed(2), dtype=DT)
W = torch.full((40, 3), 1 / 3, dtype=DT)
GM, FG, EM, KL = M + "GaussianMoE", M + "fit_gating", M + "moe_em", M + "gaussian_kl"
TD, RM, PE, DM = (M + "transport_divergence", M + "reduce_moe", M + "param_error",
                  M + "fit_distributed_moe")
one = torch.ones(2, dtype=DT)

CASES = [
    Case(GM, lambda: GaussianMoE(A[:2], B, S2), ValueError, r"alpha must have"),
    Case(GM, lambda: GaussianMoE(A, B, S2[:2]), ValueError, r"sigma2 must have shape"),
    Case(GM, lambda: GaussianMoE(A, B, -S2), ValueError, r"sigma2 must be > 0"),
    Case(GM, lambda: GaussianMoE(A, B * float("nan"), S2), ValueError,
         r"beta must be finite"),
    Case(GM, lambda: GaussianMoE(A[:1], B[:1], S2[:1]), ValueError,
         r"beta must hold at least 2"),
    Case(GM, lambda: GaussianMoE(A.long(), B, S2), TypeError, r"alpha must be"),
    Case(GM, lambda: MOE.gate_log_probs(X[:, :1]), ValueError, r"x must have 2 features"),
    Case(GM, lambda: MOE.log_prob(X, Y[:3]), ValueError, r"y must have shape"),
    Case(FG, lambda: fit_gating(X, W[:5]), ValueError, r"weights must have shape"),
    Case(FG, lambda: fit_gating(X, -W), ValueError, r"weights must be >= 0"),
    Case(FG, lambda: fit_gating(X, W, steps=-1), ValueError, r"steps must be"),
    Case(FG, lambda: fit_gating(X, W, ridge=0.0), ValueError, r"ridge must be"),
    Case(FG, lambda: fit_gating(X, W, alpha=A[:2]), ValueError, r"alpha must have shape"),
    Case(FG, lambda: fit_gating(X * float("inf"), W), ValueError, r"x must be finite"),
    Case(EM, lambda: moe_em(X, Y, 1), ValueError, r"num_experts must be"),
    Case(EM, lambda: moe_em(X, Y[:5], 3), ValueError, r"y must have shape"),
    Case(EM, lambda: moe_em(X, Y, 3, max_iter=0), ValueError, r"max_iter must be"),
    Case(EM, lambda: moe_em(X, Y, 3, tol=-1.0), ValueError, r"tol must be"),
    Case(EM, lambda: moe_em(X, Y, 3, restarts=0), ValueError, r"restarts must be"),
    Case(EM, lambda: moe_em(X[:4], Y[:4], 3), ValueError, r"x must hold at least 6"),
    Case(EM, lambda: moe_em(X, Y * float("nan"), 3), ValueError, r"y must be finite"),
    Case(KL, lambda: gaussian_kl(one, -one, one, one), ValueError, r"var1 must be > 0"),
    Case(KL, lambda: gaussian_kl(one, one, one, 0 * one), ValueError,
         r"var2 must be > 0"),
    Case(KL, lambda: gaussian_kl([1.0], one, one, one), TypeError, r"mean1 must be"),
    Case(TD, lambda: transport_divergence(MOE, LAM, MOE, X), TypeError,
         r"local must be"),
    Case(TD, lambda: transport_divergence(LOC, LAM, LOC, X), TypeError,
         r"reduced must be"),
    Case(TD, lambda: transport_divergence(LOC, LAM[:1], MOE, X), ValueError,
         r"weights must have 2 entries"),
    Case(TD, lambda: transport_divergence(LOC, 2 * LAM, MOE, X), ValueError,
         r"weights must be positive and sum to 1"),
    Case(TD, lambda: transport_divergence(LOC, LAM, MOE, X[:, :1]), ValueError,
         r"x_support must have 2 features"),
    Case(RM, lambda: reduce_moe(LOC, LAM, X, max_iter=0, tries=1), ValueError,
         r"max_iter must be"),
    Case(RM, lambda: reduce_moe(LOC, LAM, X, tries=3), ValueError, r"tries must be"),
    Case(RM, lambda: reduce_moe(LOC, LAM, X, tries=1, gating_steps=0), ValueError,
         r"gating_steps must be"),
    Case(PE, lambda: param_error(LOC, MOE), TypeError, r"estimate must be"),
    Case(PE, lambda: param_error(MOE, "truth"), TypeError, r"truth must be"),
    Case(PE, lambda: param_error(GaussianMoE(A[:2], B[:2], S2[:2]), MOE), ValueError,
         r"estimate must have the shape"),
    Case(DM, lambda: fit_distributed_moe(X, Y, 3, 3, X), ValueError,
         r"num_machines must divide"),
    Case(DM, lambda: fit_distributed_moe(X, Y, 0, 3, X), ValueError,
         r"num_machines must be"),
    Case(DM, lambda: fit_distributed_moe(X[None], Y[None], 2, 3, X), ValueError,
         r"x must have 2 dimensions"),
]


@parametrize(CASES)
def test_bad_input(case):
    check(case)


def test_the_checks_leave_good_input_alone():
    assert MOE.log_prob(X, Y).shape == (40,)
    assert fit_gating(X, W, steps=2).shape == (3, 3)
    m, ll, it = moe_em(X, Y, 2, max_iter=5, generator=torch.Generator().manual_seed(3))
    assert m.beta.shape == (2, 3) and torch.isfinite(ll)
    assert gaussian_kl(one, one, one, one).abs().max() == 0
    assert transport_divergence(LOC, LAM, MOE, X).abs() < 1e-12
    red, obj, mm = reduce_moe(LOC, LAM, X, tries=2)
    assert obj < 1e-12 and param_error(red, MOE)[0] < 1e-3
    r, loc, its, _ = fit_distributed_moe(X, Y, 2, 2, X, max_iter=5,
                                     generator=torch.Generator().manual_seed(4))
    assert loc.beta.shape == (2, 2, 3) and its.shape == (2,)
