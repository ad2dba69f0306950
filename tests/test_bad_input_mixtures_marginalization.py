"""Bad-input sweep of `papers_lib.mixtures.marginalization` (chapter *Generative
marginalization models*): each public name refuses an invalid argument with a message
naming it."""
import torch

from papers_lib.mixtures.marginalization import (
    MarginalizationModel, arm_log_marginal, energy_loss, exact_conditionals,
    exact_log_marginals, fit_energy_mam, ising_energy, random_partial,
    self_consistency_loss)
from papers_lib.mixtures.toolkit import all_binary_states
from tests.bad_input import Case, check, parametrize

M = "papers_lib.mixtures.marginalization."
LP = torch.log_softmax(torch.zeros(8, dtype=torch.float64), 0)
X = all_binary_states(3)
PART = torch.tensor([[-1, 0, 1], [1, -1, -1]])
IDX = torch.tensor([0, 1])
MAM = MarginalizationModel(3, 8)


def _target(x):
    return -ising_energy(x, 1, 3)


CASES = [
    Case(M + "exact_log_marginals", lambda: exact_log_marginals(LP[:6], PART),
         ValueError, r"log_p must hold 2\^n"),
    Case(M + "exact_log_marginals", lambda: exact_log_marginals(LP.long(), PART),
         TypeError, r"log_p must be a floating"),
    Case(M + "exact_log_marginals", lambda: exact_log_marginals(LP, PART + 1),
         ValueError, r"partial must hold -1"),
    Case(M + "exact_log_marginals", lambda: exact_log_marginals(LP, PART[:, :2]),
         ValueError, r"partial must have 3 columns"),
    Case(M + "exact_log_marginals", lambda: exact_log_marginals(LP, PART.float()),
         TypeError, r"partial must be torch.long"),
    Case(M + "exact_conditionals", lambda: exact_conditionals(LP[None], PART),
         ValueError, r"log_p must have 1 dimensions"),
    Case(M + "ising_energy", lambda: ising_energy(X, 2, 2), ValueError,
         r"x must be torch.long with rows \* cols"),
    Case(M + "ising_energy", lambda: ising_energy(X * 2, 1, 3), ValueError,
         r"x must hold 0 or 1"),
    Case(M + "ising_energy", lambda: ising_energy(X, 0, 3), ValueError,
         r"rows must be"),
    Case(M + "ising_energy", lambda: ising_energy(X, 1, 3, coupling=float("nan")),
         ValueError, r"coupling must be"),
    Case(M + "ising_energy", lambda: ising_energy(X, 1, 3, field="a"), TypeError,
         r"field must be a real"),
    Case(M + "MarginalizationModel", lambda: MarginalizationModel(0), ValueError,
         r"n must be"),
    Case(M + "MarginalizationModel", lambda: MarginalizationModel(3, hidden=0),
         ValueError, r"hidden must be"),
    Case(M + "MarginalizationModel", lambda: MarginalizationModel(3, depth=1.5),
         TypeError, r"depth must be an int"),
    Case(M + "MarginalizationModel", lambda: MAM(PART[:, :2]), ValueError,
         r"partial must have 3 columns", label="forward"),
    Case(M + "random_partial", lambda: random_partial(PART), ValueError,
         r"x must be full assignments"),
    Case(M + "random_partial", lambda: random_partial(X[0]), ValueError,
         r"x must have 2 dimensions"),
    Case(M + "self_consistency_loss", lambda: self_consistency_loss(None, PART, IDX),
         TypeError, r"model must be a MarginalizationModel"),
    Case(M + "self_consistency_loss",
         lambda: self_consistency_loss(MAM, PART, torch.tensor([1, 1])), ValueError,
         r"index must name an unknown variable"),
    Case(M + "self_consistency_loss",
         lambda: self_consistency_loss(MAM, PART, IDX[:1]), ValueError,
         r"index must be torch.long of shape"),
    Case(M + "energy_loss", lambda: energy_loss(MAM, PART, torch.zeros(2)), ValueError,
         r"x must be full assignments"),
    Case(M + "energy_loss", lambda: energy_loss(MAM, X, torch.zeros(3)), ValueError,
         r"log_unnorm must have 8 entries"),
    Case(M + "energy_loss", lambda: energy_loss("m", X, torch.zeros(8)), TypeError,
         r"model must be a MarginalizationModel"),
    Case(M + "fit_energy_mam", lambda: fit_energy_mam(3, 3), TypeError,
         r"log_unnorm must be callable"),
    Case(M + "fit_energy_mam", lambda: fit_energy_mam(_target, 3, steps=0), ValueError,
         r"steps must be"),
    Case(M + "fit_energy_mam", lambda: fit_energy_mam(_target, 3, lr=-1.0), ValueError,
         r"lr must be"),
    Case(M + "fit_energy_mam", lambda: fit_energy_mam(_target, 3, weight=-1.0),
         ValueError, r"weight must be"),
    Case(M + "arm_log_marginal", lambda: arm_log_marginal(None, PART), TypeError,
         r"conditional must be callable"),
    Case(M + "arm_log_marginal", lambda: arm_log_marginal(lambda c: c, PART - 1),
         ValueError, r"partial must hold -1"),
]


@parametrize(CASES)
def test_bad_input(case):
    check(case)


def test_the_checks_leave_good_input_alone():
    assert exact_log_marginals(LP, PART).shape == (2,)
    assert exact_conditionals(LP, PART).shape == (2, 3, 2)
    assert ising_energy(X, 1, 3, coupling=0.0, field=0.0).abs().max() == 0
    assert MAM(PART).shape == (2,)
    p, i = random_partial(X)
    assert p.shape == X.shape and i.shape == (8,)
    assert self_consistency_loss(MAM, PART, torch.tensor([0, 2])).item() >= 0
    assert energy_loss(MAM, X, torch.zeros(8)).item() >= 0
    m, h = fit_energy_mam(_target, 3, steps=2, batch=4, hidden=4, weight=0.0)
    assert h.shape == (2, 2)
    v, c = arm_log_marginal(lambda q: exact_conditionals(LP, q), PART)
    assert c.tolist() == [2, 1]
