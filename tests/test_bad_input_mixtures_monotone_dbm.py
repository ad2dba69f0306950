"""Bad-input sweep of `papers_lib.mixtures.monotone_dbm` (chapter *Monotone deep
Boltzmann machines: mean field with a unique fixed point*): each public name refuses an
invalid argument with a message naming it."""
import torch

from papers_lib.mixtures.monotone_dbm import (
    MonotoneDBM, bar_patterns, exact_marginals, fb_mean_field, hollow_monotone_weights,
    mean_field_free_energy, pr_mean_field, prox_softmax, train_monotone_dbm)
from tests.bad_input import Case, check, parametrize

M = "papers_lib.mixtures.monotone_dbm."
S = [(2, 2)]
W = torch.zeros(4, 4)
B = torch.zeros(4)
Y = torch.zeros(3, 2)
X = torch.zeros(4, 6)
L = torch.zeros(4, dtype=torch.long)

CASES = [
    Case(M + "prox_softmax", lambda: prox_softmax(Y, 0.0), ValueError, r"alpha must be"),
    Case(M + "prox_softmax", lambda: prox_softmax(Y, 1.5), ValueError, r"alpha must be"),
    Case(M + "prox_softmax", lambda: prox_softmax(torch.zeros(3, 2, dtype=torch.long)),
         TypeError, r"y must be"),
    Case(M + "hollow_monotone_weights", lambda: hollow_monotone_weights(W, S, 0.0),
         ValueError, r"m must be"),
    Case(M + "hollow_monotone_weights", lambda: hollow_monotone_weights(W[:, :3], S),
         ValueError, r"A must have 4 columns"),
    Case(M + "hollow_monotone_weights", lambda: hollow_monotone_weights(W, [(2, 1)]),
         ValueError, r"sizes k must be"),
    Case(M + "hollow_monotone_weights", lambda: hollow_monotone_weights(W, []),
         ValueError, r"sizes must be"),
    Case(M + "mean_field_free_energy", lambda: mean_field_free_energy(B, W[:3], B),
         ValueError, r"W must be"),
    Case(M + "mean_field_free_energy", lambda: mean_field_free_energy(B.long(), W, B),
         TypeError, r"q must be"),
    Case(M + "exact_marginals", lambda: exact_marginals(W, B[:3], S), ValueError,
         r"W must be \(4, 4\) and b"),
    Case(M + "exact_marginals", lambda: exact_marginals(torch.zeros(34, 34),
                                                        torch.zeros(34), [(17, 2)]),
         ValueError, r"sizes must give at most"),
    Case(M + "fb_mean_field", lambda: fb_mean_field(W, B, S, alpha=2.0), ValueError,
         r"alpha must be"),
    Case(M + "fb_mean_field", lambda: fb_mean_field(W, B, S, iters=0), ValueError,
         r"iters must be"),
    Case(M + "fb_mean_field", lambda: fb_mean_field(W, B, S, tol=-1.0), ValueError,
         r"tol must be"),
    Case(M + "fb_mean_field", lambda: fb_mean_field(W, B, S, observed=B, values=B),
         ValueError, r"observed must be a bool"),
    Case(M + "pr_mean_field", lambda: pr_mean_field(W, B[:3], S), ValueError,
         r"W must be \(4, 4\) and b"),
    Case(M + "pr_mean_field", lambda: pr_mean_field(W, B, S, observed=B.bool(),
                                                    values=B[:3]),
         ValueError, r"values must end in 4"),
    Case(M + "bar_patterns", lambda: bar_patterns(0), ValueError, r"n must be"),
    Case(M + "bar_patterns", lambda: bar_patterns(3, side=1), ValueError, r"side must be"),
    Case(M + "bar_patterns", lambda: bar_patterns(3, flip=0.7), ValueError,
         r"flip must be"),
    Case(M + "MonotoneDBM", lambda: MonotoneDBM(0, 2, 2), ValueError, r"pixels must be"),
    Case(M + "MonotoneDBM", lambda: MonotoneDBM(4, 2, 1), ValueError, r"classes must be"),
    Case(M + "MonotoneDBM", lambda: MonotoneDBM(4, 2, 2, m=1.0), ValueError,
         r"m must be"),
    Case(M + "MonotoneDBM", lambda: MonotoneDBM(4, 2, 2, init_scale=0.0), ValueError,
         r"init_scale must be"),
    Case(M + "train_monotone_dbm",
         lambda: train_monotone_dbm(MonotoneDBM(6, 2, 2), X, L, steps=0), ValueError,
         r"steps must be"),
    Case(M + "train_monotone_dbm",
         lambda: train_monotone_dbm(MonotoneDBM(6, 2, 2), X, L, observe=1.0), ValueError,
         r"observe must be"),
    Case(M + "train_monotone_dbm",
         lambda: train_monotone_dbm(MonotoneDBM(5, 2, 2), X, L), ValueError,
         r"X must be \(n, 5\)"),
]


@parametrize(CASES)
def test_bad_input(case):
    check(case)


def test_the_checks_leave_good_input_alone():
    assert prox_softmax(Y, 0.5).shape == (3, 2)
    Wm = hollow_monotone_weights(torch.randn(4, 4), S, 0.1)
    assert Wm.shape == (4, 4)
    q, r = fb_mean_field(Wm, B, S, 0.5, 3)
    assert q.shape == (4,) and len(r) == 3
    q, r = pr_mean_field(Wm, B, S, 1.0, 3, observed=torch.tensor([1, 1, 0, 0]).bool(),
                         values=torch.tensor([0.0, 1.0, 0.0, 0.0]))
    assert q.shape == (4,) and q[1] == 1.0
    assert mean_field_free_energy(q, Wm, B).shape == ()
    p, _ = exact_marginals(Wm, B, S)
    assert p.shape == (4,)
    x, y = bar_patterns(4, side=3, flip=0.0)
    assert x.shape == (4, 9) and y.shape == (4,)
    model = MonotoneDBM(6, 2, 2)
    assert len(train_monotone_dbm(model, X, L, steps=2, batch=2)) == 2
