"""Bad-input sweep of `papers_lib.mixtures.pic` (chapter *Probabilistic integral
circuits*): each public name refuses an invalid argument with a message naming it."""
import torch

from papers_lib.mixtures.pic import (
    FourierMLP, QuadraturePC, bernoulli_mixture_em, fit_qpc, gauss_legendre,
    mixture_log_prob, prior_quadrature)
from tests.bad_input import Case, check, parametrize

M = "papers_lib.mixtures.pic."
X = torch.zeros(1, 4, 2, dtype=torch.float64)
XB = torch.ones(1, 4, 3, dtype=torch.float64)
P = torch.zeros(1, 3, 4, dtype=torch.float64)
LW = torch.full((3,), -1.0986, dtype=torch.float64)
MLP = M + "mixture_log_prob"
Q = M + "QuadraturePC"


def _qpc():
    return QuadraturePC(1, 2, 3, generator=torch.Generator().manual_seed(0))


CASES = [
    Case(M + "gauss_legendre", lambda: gauss_legendre(0), ValueError, r"k must be"),
    Case(M + "gauss_legendre", lambda: gauss_legendre(3, 1.0, 1.0), ValueError,
         r"high must be"),
    Case(M + "gauss_legendre", lambda: gauss_legendre(3, float("nan")), ValueError,
         r"low must be"),
    Case(M + "prior_quadrature", lambda: prior_quadrature(3, 0.0), ValueError,
         r"bound must be"),
    Case(M + "prior_quadrature", lambda: prior_quadrature(-1), ValueError, r"k must be"),
    Case(MLP, lambda: mixture_log_prob(X, LW, P, "poisson"), ValueError,
         r"likelihood must be"),
    Case(MLP, lambda: mixture_log_prob(X[0], LW, P), ValueError, r"x must"),
    Case(MLP, lambda: mixture_log_prob(X * float("nan"), LW, P), ValueError, r"x must"),
    Case(MLP, lambda: mixture_log_prob(X, LW, P[..., :3]), ValueError, r"params must"),
    Case(MLP, lambda: mixture_log_prob(X, LW[:2], P), ValueError, r"log_weights must"),
    Case(MLP, lambda: mixture_log_prob(X, LW * float("nan"), P), ValueError,
         r"log_weights must"),
    Case(MLP, lambda: mixture_log_prob(XB * 2, LW, P[..., :3], "bernoulli"),
         ValueError, r"x must hold 0s and 1s"),
    Case(M + "FourierMLP", lambda: FourierMLP(0, 2), ValueError, r"batch must be"),
    Case(M + "FourierMLP", lambda: FourierMLP(1, 2, hidden=0), ValueError,
         r"hidden must be"),
    Case(M + "FourierMLP", lambda: FourierMLP(1, 2, freq_scale=-1.0), ValueError,
         r"freq_scale must be"),
    Case(Q, lambda: QuadraturePC(1, 2, 3, "poisson"), ValueError, r"likelihood must"),
    Case(Q, lambda: QuadraturePC(1, 0), ValueError, r"data_dim must be"),
    Case(Q, lambda: QuadraturePC(1, 2, 0), ValueError, r"num_nodes must be"),
    Case(Q, lambda: QuadraturePC(1, 2, 3, bound=float("inf")), ValueError,
         r"bound must be"),
    Case(Q, lambda: _qpc().init_from_data(torch.zeros(1, 4, 3, dtype=torch.float64)),
         ValueError, r"x must have shape"),
    Case(Q, lambda: _qpc()(X, num_nodes=0), ValueError, r"num_nodes must be"),
    Case(M + "fit_qpc", lambda: fit_qpc("model", X), TypeError, r"model must be"),
    Case(M + "fit_qpc", lambda: fit_qpc(_qpc(), X, steps=0), ValueError,
         r"steps must be"),
    Case(M + "fit_qpc", lambda: fit_qpc(_qpc(), X, lr=0.0), ValueError, r"lr must be"),
    Case(M + "bernoulli_mixture_em", lambda: bernoulli_mixture_em(XB * 0.5, 2),
         ValueError, r"x must hold 0s and 1s"),
    Case(M + "bernoulli_mixture_em", lambda: bernoulli_mixture_em(XB, 0), ValueError,
         r"k must be"),
    Case(M + "bernoulli_mixture_em", lambda: bernoulli_mixture_em(XB, 2, iters=0),
         ValueError, r"iters must be"),
    Case(M + "bernoulli_mixture_em",
         lambda: bernoulli_mixture_em(XB, 2, pseudocount=0.0), ValueError,
         r"pseudocount must be"),
]


@parametrize(CASES)
def test_bad_input(case):
    check(case)


def test_the_checks_leave_good_input_alone():
    g = torch.Generator().manual_seed(0)
    gauss_legendre(3, -2.0, 2.0)
    z, lw = prior_quadrature(3)
    assert mixture_log_prob(X, lw, P).shape == (1, 4)
    assert mixture_log_prob(XB, lw[None], P[..., :3], "bernoulli").shape == (1, 4)
    assert FourierMLP(2, 3, generator=g)(z).shape == (2, 3, 3)
    m = _qpc().init_from_data(X + torch.randn(1, 4, 2, generator=g, dtype=torch.float64))
    assert fit_qpc(m, X, 2).shape == (2, 1)
    assert bernoulli_mixture_em(XB, 2, 2, generator=g)[1].shape == (1, 2, 3)
