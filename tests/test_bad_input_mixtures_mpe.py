"""Bad-input sweep of `papers_lib.mixtures.mpe` (chapter *Mixture proportion estimation
beyond irreducibility*): each public name refuses an invalid argument with a message
naming it."""
import torch
from torch.distributions import Independent, Normal

from papers_lib.mixtures.mpe import (
    MixtureProblem, base_mpe, gaussian_log_ratio, lsp_acceptance, rejection_subsample,
    sumpe, tail_ratio_mpe)
from tests.bad_input import Case, check, parametrize

M = "papers_lib.mixtures.mpe."
S = torch.linspace(0, 1, 10)
X = torch.randn(10, 1, generator=torch.Generator().manual_seed(0))
A = torch.ones(10)
N01 = Independent(Normal(torch.zeros(1), torch.ones(1)), 1)
NAN = X.clone()
NAN[0, 0] = float("nan")
TR, GL, BM, RS = (M + "tail_ratio_mpe", M + "gaussian_log_ratio", M + "base_mpe",
                  M + "rejection_subsample")
LA, SU, MP = M + "lsp_acceptance", M + "sumpe", M + "MixtureProblem"

CASES = [
    Case(TR, lambda: tail_ratio_mpe(S[:, None], S), ValueError, r"s_f must have 1"),
    Case(TR, lambda: tail_ratio_mpe(S, S.long()), TypeError,
         r"s_h must be a floating"),
    Case(TR, lambda: tail_ratio_mpe(S, S[:0]), ValueError,
         r"s_f and s_h must be non-empty"),
    Case(TR, lambda: tail_ratio_mpe(S, S, delta=1.0), ValueError, r"delta must be"),
    Case(TR, lambda: tail_ratio_mpe(S, S, gamma=-0.1), ValueError, r"gamma must be"),
    Case(TR, lambda: tail_ratio_mpe(S * float("inf"), S), ValueError,
         r"s_f must be finite"),
    Case(GL, lambda: gaussian_log_ratio(X[:, 0], X, X), ValueError, r"x must have 2"),
    Case(GL, lambda: gaussian_log_ratio(X, X[:1], X), ValueError,
         r"x_f must have at least"),
    Case(GL, lambda: gaussian_log_ratio(X, X, torch.randn(5, 2)), ValueError,
         r"x_h must have at least 2 rows and 1 columns"),
    Case(GL, lambda: gaussian_log_ratio(X, X, X, ridge=-1.0), ValueError,
         r"ridge must be"),
    Case(BM, lambda: base_mpe(NAN, X), ValueError, r"x_f must be finite"),
    Case(BM, lambda: base_mpe(X, X[:3]), ValueError,
         r"x_f and x_h must have at least 4"),
    Case(BM, lambda: base_mpe(X, X, delta=0.0), ValueError, r"delta must be"),
    Case(RS, lambda: rejection_subsample(X, A[:5]), ValueError,
         r"x_f and alpha must have the same leading size"),
    Case(RS, lambda: rejection_subsample(X, A * 2), ValueError, r"alpha must lie in"),
    Case(RS, lambda: rejection_subsample(X, A.long()), TypeError,
         r"alpha must be a float"),
    Case(LA, lambda: lsp_acceptance(torch.ones(3), 0.5), TypeError,
         r"in_a must be a bool"),
    Case(LA, lambda: lsp_acceptance(torch.ones(3, dtype=torch.bool), 0.0), ValueError,
         r"rho must be"),
    Case(SU, lambda: sumpe(X, X, torch.zeros(10)), ValueError,
         r"alpha must keep at least 4 rows"),
    Case(SU, lambda: sumpe(X, NAN, A), ValueError, r"x_h must be finite"),
    Case(MP, lambda: MixtureProblem("N", [N01], [1.0], 0.5), TypeError, r"h must be"),
    Case(MP, lambda: MixtureProblem(N01, [], [], 0.5), TypeError, r"g_parts must be"),
    Case(MP, lambda: MixtureProblem(N01, [N01], [0.5], 0.5), ValueError,
         r"g_weights must be"),
    Case(MP, lambda: MixtureProblem(N01, [N01], [1.0], 1.5), ValueError,
         r"kappa must be"),
    Case(MP, lambda: MixtureProblem(N01, [N01], [1.0], 0.5).sample(0, 3), ValueError,
         r"n must be"),
    Case(MP, lambda: MixtureProblem(N01, [N01], [1.0], 0.5).max_proportion(S),
         ValueError, r"points must have 2"),
]


@parametrize(CASES)
def test_bad_input(case):
    check(case)


def test_the_checks_leave_good_input_alone():
    g = torch.Generator().manual_seed(0)
    assert 0 <= tail_ratio_mpe(S, S + 0.5).item() <= 1
    assert gaussian_log_ratio(X, X, X + 1).shape == (10,)
    x = torch.randn(40, 1, generator=g)
    assert 0 <= base_mpe(x, x + 1, g).item() <= 1
    kept, c = rejection_subsample(X, A * 0.5, g)
    assert kept.shape[0] == round(c.item() * 10)
    assert lsp_acceptance(torch.tensor([True]), 1.0).tolist() == [1.0]
    assert 0 <= sumpe(x, x, torch.ones(40), g).item() <= 1
    pr = MixtureProblem(N01, [N01], [1.0], 0.5)
    x_f, x_h = pr.sample(5, 3, g)
    assert x_f.shape == (5, 1) and x_h.shape == (3, 1)
    assert abs(pr.max_proportion(X) - 1.0) < 1e-6
