"""Bad-input sweep of `papers_lib.mixtures.pgc` (chapter *Probabilistic generating
circuits*): each public name refuses an invalid argument with a message naming it."""
import torch

from papers_lib.mixtures.pgc import (
    LEnsemble, SimplePGC, dpp_generating_function, dpp_log_prob, dpp_marginal,
    fit_nll, pgc_marginal, repulsive_pairs_pgc, table_generating_function)
from papers_lib.mixtures.toolkit import all_binary_states
from tests.bad_input import Case, check, parametrize

M = "papers_lib.mixtures.pgc."
L3 = torch.eye(3, dtype=torch.float64) * 2
X3 = all_binary_states(3)
P3 = torch.full((8,), 1 / 8, dtype=torch.float64)
Z3 = torch.ones(2, 3, dtype=torch.float64)
G = lambda z: dpp_generating_function(L3, z)
PG = SimplePGC([[0, 1], [2]])
DL, DM, TG, DG = (M + "dpp_log_prob", M + "dpp_marginal", M + "table_generating_function",
                  M + "dpp_generating_function")
PM, LE, SP, FN, RP = (M + "pgc_marginal", M + "LEnsemble", M + "SimplePGC", M + "fit_nll",
                      M + "repulsive_pairs_pgc")

CASES = [
    Case(DL, lambda: dpp_log_prob(L3[:2], X3), ValueError, r"L must be a square"),
    Case(DL, lambda: dpp_log_prob(L3.long(), X3), TypeError, r"L must be a floating"),
    Case(DL, lambda: dpp_log_prob(L3, X3.double()), ValueError, r"x must be an integer"),
    Case(DL, lambda: dpp_log_prob(L3, X3 * 2), ValueError, r"x must hold only 0 and 1"),
    Case(DL, lambda: dpp_log_prob(L3, X3[:, :2]), ValueError, r"x must be an integer"),
    Case(DM, lambda: dpp_marginal(L3, X3, torch.ones(3)), ValueError,
         r"mask must be a torch.bool"),
    Case(DM, lambda: dpp_marginal(L3, X3, torch.ones(2, dtype=torch.bool)), ValueError,
         r"mask must be"),
    Case(TG, lambda: table_generating_function(P3[:7], Z3), ValueError,
         r"p must have 2\^n entries"),
    Case(TG, lambda: table_generating_function(P3, Z3[0]), ValueError,
         r"z must have 2 dimensions"),
    Case(DG, lambda: dpp_generating_function(L3, Z3[:, :2]), ValueError,
         r"z must have shape"),
    Case(PM, lambda: pgc_marginal("g", X3), TypeError, r"g must be callable"),
    Case(PM, lambda: pgc_marginal(G, X3[0]), ValueError, r"x must have 2 dimensions"),
    Case(PM, lambda: pgc_marginal(lambda z: z, X3), ValueError,
         r"g must return a tensor of shape"),
    Case(LE, lambda: LEnsemble(0), ValueError, r"n must be"),
    Case(LE, lambda: LEnsemble(3, rank=0), ValueError, r"rank must be"),
    Case(LE, lambda: LEnsemble(3, eps=0.0), ValueError, r"eps must be"),
    Case(SP, lambda: SimplePGC([]), TypeError, r"partition must be"),
    Case(SP, lambda: SimplePGC([[0, 2]]), ValueError, r"partition must split"),
    Case(SP, lambda: SimplePGC([[0], []]), ValueError, r"partition must split"),
    Case(SP, lambda: SimplePGC([[0]], eps=-1.0), ValueError, r"eps must be"),
    Case(SP, lambda: PG.sample(-1), ValueError, r"num must be"),
    Case(SP, lambda: PG(X3[:, :2]), ValueError, r"x must be an integer"),
    Case(SP, lambda: PG.generating_function(Z3[:, :2]), ValueError, r"z must have shape"),
    Case(FN, lambda: fit_nll("model", X3), TypeError, r"model must be an nn.Module"),
    Case(FN, lambda: fit_nll(PG, X3, steps=0), ValueError, r"steps must be"),
    Case(FN, lambda: fit_nll(PG, X3, lr=float("nan")), ValueError, r"lr must be"),
    Case(RP, lambda: repulsive_pairs_pgc(0), ValueError, r"k must be"),
    Case(RP, lambda: repulsive_pairs_pgc(3, length_scale=0.0), ValueError,
         r"length_scale must be"),
]


@parametrize(CASES)
def test_bad_input(case):
    check(case)


def test_the_checks_leave_good_input_alone():
    assert abs(dpp_log_prob(L3, X3).exp().sum().item() - 1) < 1e-12
    m = torch.tensor([True, False, True])
    assert dpp_marginal(L3, X3, m).shape == (8,)
    assert torch.allclose(table_generating_function(P3, Z3), torch.ones(2,
                                                                      dtype=torch.float64))
    assert torch.allclose(dpp_generating_function(L3, Z3), torch.ones(2,
                                                                    dtype=torch.float64))
    assert torch.allclose(pgc_marginal(G, X3, m), dpp_marginal(L3, X3, m), atol=1e-12)
    assert LEnsemble(3, rank=2)(X3).shape == (8,)
    pg = SimplePGC([[0, 1], [2]], torch.Generator().manual_seed(0))
    assert pg.sample(4, torch.Generator().manual_seed(0)).shape == (4, 3)
    assert fit_nll(pg, X3, steps=2).shape == (2,)
    assert repulsive_pairs_pgc(2, generator=torch.Generator().manual_seed(0)).n == 4
