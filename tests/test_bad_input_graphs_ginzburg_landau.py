"""Bad-input sweep of the Ginzburg-Landau minimization
(`papers_lib.graphs.ginzburg_landau`): each public name refuses an invalid argument with
a message naming it."""
import torch

from papers_lib.graphs.ginzburg_landau import (
    ccs_step, double_well, gl_energy, gl_gradient, knn_graph, minimize_gl,
    splitting_matrix)
from tests.bad_input import Case, check, parametrize

U = torch.zeros(3)
L = torch.eye(3)
M = torch.tensor([True, False, False])
MOD = "papers_lib.graphs.ginzburg_landau."

CASES = [
    Case(MOD + "knn_graph", lambda: knn_graph(torch.zeros(5), 2), ValueError,
         r"x must have 2 dimensions"),
    Case(MOD + "knn_graph", lambda: knn_graph(torch.rand(5, 2), 0), ValueError,
         r"k must be an int >= 1"),
    Case(MOD + "knn_graph", lambda: knn_graph(torch.rand(5, 2), 2, -1.0), ValueError,
         r"sigma must be a real number > 0"),
    Case(MOD + "double_well", lambda: double_well([1.0]), TypeError,
         r"u must be a torch.Tensor"),
    Case(MOD + "gl_energy", lambda: gl_energy(U, torch.eye(4), U, M), ValueError,
         r"L must have shape \(\.\.\., 3, 3\)"),
    Case(MOD + "gl_energy", lambda: gl_energy(U, L, U, M, eps=0.0), ValueError,
         r"eps must be a real number > 0"),
    Case(MOD + "gl_gradient", lambda: gl_gradient(U, L, torch.zeros(2), M), ValueError,
         r"f and mask must have last dimension 3"),
    Case(MOD + "gl_gradient", lambda: gl_gradient(U, L, U, M, mu=-1.0), ValueError,
         r"mu must be a real number >= 0"),
    Case(MOD + "splitting_matrix", lambda: splitting_matrix(L, M, 1.0, 1.0, 1.0, 0.0),
         ValueError, r"dt must be a real number > 0"),
    Case(MOD + "splitting_matrix",
         lambda: splitting_matrix(L, torch.zeros(2), 1.0, 1.0, 1.0, 1.0), ValueError,
         r"L must have shape \(\.\.\., n, n\) and mask"),
    Case(MOD + "ccs_step", lambda: ccs_step(U, L, U, M, c=-1.0), ValueError,
         r"c must be a real number >= 0"),
    Case(MOD + "minimize_gl", lambda: minimize_gl(U, L, U, M, momentum=1.0),
         ValueError, r"momentum must be a real number >= 0, < 1"),
    Case(MOD + "minimize_gl", lambda: minimize_gl(U, L, U, M, max_iter=0), ValueError,
         r"max_iter must be an int >= 1"),
    Case(MOD + "minimize_gl", lambda: minimize_gl(U, L, U, M, tol=0.0), ValueError,
         r"tol must be a real number > 0"),
]


@parametrize(CASES)
def test_bad_input(case):
    check(case)
