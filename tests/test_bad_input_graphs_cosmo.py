"""Bad-input sweep of `papers_lib.graphs.cosmo` (chapter *COSMO: constraint-free
structure learning with smooth acyclic orientations*): each public name refuses an
invalid argument with a message naming it."""
import torch

from papers_lib.graphs.cosmo import (
    CosmoSEM, cosine_temperature, cosmo_linear, hard_orientation, smooth_orientation)
from tests.bad_input import Case, check, parametrize

M = "papers_lib.graphs.cosmo."
P = torch.tensor([0.0, 0.5, 1.0], dtype=torch.float64)
X = torch.randn(20, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)

CASES = [
    Case(M + "smooth_orientation", lambda: smooth_orientation(P, 0.0), ValueError,
         r"tau must be"),
    Case(M + "smooth_orientation", lambda: smooth_orientation(P, 0.1, shift=-1.0),
         ValueError, r"shift must be"),
    Case(M + "smooth_orientation", lambda: smooth_orientation(P.long(), 0.1), TypeError,
         r"p must be"),
    Case(M + "smooth_orientation", lambda: smooth_orientation(P * float("nan"), 0.1),
         ValueError, r"p must be finite"),
    Case(M + "hard_orientation", lambda: hard_orientation([0.0, 1.0]), TypeError,
         r"p must be"),
    Case(M + "hard_orientation", lambda: hard_orientation(P, float("inf")), ValueError,
         r"shift must be"),
    Case(M + "CosmoSEM", lambda: CosmoSEM(1), ValueError, r"num_nodes must be"),
    Case(M + "CosmoSEM", lambda: CosmoSEM(3, batch=0), ValueError, r"batch must be"),
    Case(M + "CosmoSEM", lambda: CosmoSEM(3, shift=0.0), ValueError, r"shift must be"),
    Case(M + "CosmoSEM", lambda: CosmoSEM(3, batch=2, generator=[torch.Generator()]),
         ValueError, r"generator must be"),
    Case(M + "cosine_temperature", lambda: cosine_temperature(5, 4), ValueError,
         r"step must be"),
    Case(M + "cosine_temperature", lambda: cosine_temperature(0, 0), ValueError,
         r"steps must be"),
    Case(M + "cosine_temperature", lambda: cosine_temperature(0, 4, 0.1, 0.2), ValueError,
         r"tau_final must be"),
    Case(M + "cosine_temperature", lambda: cosine_temperature(0, 4, -0.1), ValueError,
         r"tau_init must be"),
    Case(M + "cosmo_linear", lambda: cosmo_linear(X[:, :1]), ValueError, r"X must be"),
    Case(M + "cosmo_linear", lambda: cosmo_linear(X.long()), TypeError, r"X must be"),
    Case(M + "cosmo_linear", lambda: cosmo_linear(X * float("nan")), ValueError,
         r"X must be finite"),
    Case(M + "cosmo_linear", lambda: cosmo_linear(X, steps=0), ValueError,
         r"steps must be"),
    Case(M + "cosmo_linear", lambda: cosmo_linear(X, lr=0.0), ValueError, r"lr must be"),
    Case(M + "cosmo_linear", lambda: cosmo_linear(X, lam1=-1.0), ValueError,
         r"lam1 must be"),
    Case(M + "cosmo_linear", lambda: cosmo_linear(X, lam_p=float("nan")), ValueError,
         r"lam_p must be"),
    Case(M + "cosmo_linear", lambda: cosmo_linear(X, threshold=-0.1), ValueError,
         r"threshold must be"),
    Case(M + "cosmo_linear", lambda: cosmo_linear(X, log_every=-1), ValueError,
         r"log_every must be"),
    Case(M + "cosmo_linear", lambda: cosmo_linear(X, tau_final=0.0), ValueError,
         r"tau_final must be"),
    Case(M + "cosmo_linear", lambda: cosmo_linear(X, shift=0.0), ValueError,
         r"shift must be"),
]


@parametrize(CASES)
def test_bad_input(case):
    check(case)


def test_the_checks_leave_good_input_alone():
    assert smooth_orientation(P, 0.1).shape == (3, 3)
    assert hard_orientation(P, 0.1).sum() == 3
    assert CosmoSEM(3, batch=2).adjacency.shape == (2, 3, 3)
    assert cosine_temperature(2, 4) > 1e-3
    W, _, hist = cosmo_linear(X, steps=5, log_every=2)
    assert W.shape == (3, 3) and hist["h"].shape == (4, 1)
