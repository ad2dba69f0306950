"""Bad-input sweep of the mixture toolkit (`papers_lib.mixtures.toolkit`): each public
name refuses an invalid argument with a message naming it."""
import math

import torch

from papers_lib.mixtures.toolkit import (
    COVARIANCE_TYPES, EinsumCircuit, GaussianMixture, RegionTree, all_binary_states,
    check_circuit, check_gmm, circuit_em_step, circuit_flows, fit_gmm, gaussian_log_prob,
    gmm_em_step, gmm_log_likelihood, gmm_m_step, init_gmm, log_einsum_exp,
    random_region_tree, responsibilities, sample_gmm)
from tests.bad_input import Case, check, parametrize

T = "papers_lib.mixtures.toolkit."
D64 = torch.float64
X = torch.tensor([[0.0, 0.0], [1.0, 0.5], [2.0, 1.0], [0.5, 2.0]], dtype=D64)
LW = torch.full((2,), -math.log(2), dtype=D64)
MU = torch.tensor([[0.0, 0.0], [1.0, 1.0]], dtype=D64)
COV = torch.eye(2, dtype=D64).repeat(2, 1, 1)
R = torch.full((4, 2), 0.5, dtype=D64)
PC = EinsumCircuit(3, num_units=2, generator=torch.Generator().manual_seed(0))
XB = torch.tensor([[0, 1, 1], [1, 0, 0]])
L3 = torch.zeros(1, 2, 3, dtype=D64)
LWE = torch.zeros(1, 1, 3, 3, dtype=D64)

CASES = [
    Case(T + "check_gmm", lambda: check_gmm(LW, MU, COV, "tied"), ValueError,
         r"covariance_type must be one of 'full', 'diag', 'spherical', got 'tied'"),
    Case(T + "check_gmm", lambda: check_gmm(LW, MU, COV[:, 0], "full"), ValueError,
         r"covariances must have shape \(2, 2, 2\) for covariance_type='full', got \(2, 2\)"),
    Case(T + "check_gmm", lambda: check_gmm(LW, MU, -COV, "full"), ValueError,
         r"covariances must have positive variances"),
    Case(T + "check_gmm", lambda: check_gmm(LW + 1, MU, COV), ValueError,
         r"log_weights must be normalised \(logsumexp 0\), got logsumexp 1"),
    Case(T + "check_gmm", lambda: check_gmm(LW[:1], MU, COV), ValueError,
         r"log_weights must be 2 numbers"),
    Case(T + "check_gmm", lambda: check_gmm(LW, MU * math.nan, COV), ValueError,
         r"means must be finite"),
    Case(T + "gaussian_log_prob", lambda: gaussian_log_prob(X[:, :1], MU, COV), ValueError,
         r"x must have 2 columns \(the dimension of means\), got 1"),
    Case(T + "gaussian_log_prob", lambda: gaussian_log_prob(X.long(), MU, COV), TypeError,
         r"x must be a floating-point tensor"),
    Case(T + "gaussian_log_prob", lambda: gaussian_log_prob(X, MU, COV[:, :, 0], "diag"),
         ValueError, r"covariances must"),
    Case(T + "gmm_log_likelihood", lambda: gmm_log_likelihood(X, LW * 3, MU, COV),
         ValueError, r"log_weights must be normalised"),
    Case(T + "responsibilities", lambda: responsibilities(X, LW, MU, COV, "sphere"),
         ValueError, r"covariance_type must be one of"),
    Case(T + "gmm_m_step", lambda: gmm_m_step(X, -R), ValueError,
         r"resp must be non-negative with one row per point \(4\)"),
    Case(T + "gmm_m_step", lambda: gmm_m_step(X, R[:3]), ValueError,
         r"resp must be non-negative with one row per point"),
    Case(T + "gmm_m_step", lambda: gmm_m_step(X, R, reg_covar=-1.0), ValueError,
         r"reg_covar must be"),
    Case(T + "gmm_em_step", lambda: gmm_em_step(X, LW, MU, COV, reg_covar=math.nan),
         ValueError, r"reg_covar must be"),
    Case(T + "init_gmm", lambda: init_gmm(X, 5), ValueError,
         r"n_components must be an int >= 1, <= 4, got 5"),
    Case(T + "init_gmm", lambda: init_gmm(X[0], 1), ValueError,
         r"x must have 2 dimensions"),
    Case(T + "sample_gmm", lambda: sample_gmm(-1, LW, MU, COV), ValueError,
         r"n must be an int >= 0, got -1"),
    Case(T + "GaussianMixture", lambda: GaussianMixture(LW, MU, COV, "tied"), ValueError,
         r"covariance_type must be one of"),
    Case(T + "fit_gmm", lambda: fit_gmm(X, 2, max_iter=0), ValueError,
         r"max_iter must be an int >= 1, got 0"),
    Case(T + "fit_gmm", lambda: fit_gmm(X, 2, tol=-1.0), ValueError, r"tol must be"),
    Case(T + "fit_gmm", lambda: fit_gmm(X, 3, init=(LW, MU, COV)), ValueError,
         r"init must be \(log_weights, means, covariances\) with n_components=3"),
    Case(T + "log_einsum_exp", lambda: log_einsum_exp(L3, L3[:, :1], LWE), ValueError,
         r"right must have left's shape"),
    Case(T + "log_einsum_exp", lambda: log_einsum_exp(L3, L3, LWE[0]), ValueError,
         r"log_weights must have 4 dimensions"),
    Case(T + "RegionTree", lambda: RegionTree(1, [], [(0,)]), ValueError,
         r"n_vars must be an int >= 2, got 1"),
    Case(T + "RegionTree", lambda: RegionTree(3, [], [(0,), (1,), (2,)]), ValueError,
         r"scopes must list 2 n_vars - 1 = 5 regions"),
    Case(T + "random_region_tree", lambda: random_region_tree(1), ValueError,
         r"n_vars must be an int >= 2, got 1"),
    Case(T + "EinsumCircuit", lambda: EinsumCircuit(3, num_units=0), ValueError,
         r"num_units must be an int >= 1, got 0"),
    Case(T + "EinsumCircuit", lambda: EinsumCircuit(3, num_states=1), ValueError,
         r"num_states must be an int >= 2, got 1"),
    Case(T + "EinsumCircuit", lambda: PC(XB[:, :2]), ValueError,
         r"x must be an integer tensor of shape \(B, 3\)"),
    Case(T + "EinsumCircuit", lambda: PC(XB + 1), ValueError,
         r"x must hold states in \[0, 2\) where observed, got values in \[1, 2\]"),
    Case(T + "EinsumCircuit", lambda: PC(XB, XB), TypeError,
         r"mask must be a torch.bool tensor, got torch.int64"),
    Case(T + "EinsumCircuit", lambda: PC.sample(-2), ValueError, r"n must be"),
    Case(T + "all_binary_states", lambda: all_binary_states(0), ValueError,
         r"n must be an int >= 1, <= 20, got 0"),
    Case(T + "all_binary_states", lambda: all_binary_states(21), ValueError,
         r"n must be an int >= 1, <= 20, got 21"),
    Case(T + "check_circuit", lambda: check_circuit(torch.nn.Linear(2, 2), XB[0] > 0),
         TypeError, r"circuit must be an EinsumCircuit, got Linear"),
    Case(T + "check_circuit", lambda: check_circuit(PC, XB[0]), ValueError,
         r"mask must be a torch.bool tensor of shape \(3,\)"),
    Case(T + "check_circuit",
         lambda: check_circuit(EinsumCircuit(2, num_states=3), torch.ones(2).bool()),
         ValueError, r"circuit must have binary variables"),
    Case(T + "circuit_flows", lambda: circuit_flows(PC, XB.double()), ValueError,
         r"x must be an integer tensor"),
    Case(T + "circuit_flows", lambda: circuit_flows("pc", XB), TypeError,
         r"circuit must be an EinsumCircuit, got str"),
    Case(T + "circuit_em_step", lambda: circuit_em_step(PC, XB, pseudocount=-1.0),
         ValueError, r"pseudocount must be"),
]


@parametrize(CASES)
def test_bad_input(case):
    check(case)


def test_the_checks_leave_good_input_alone():
    assert COVARIANCE_TYPES == ("full", "diag", "spherical")
    assert check_gmm(LW, MU, COV) == (2, 2)
    assert check_gmm(LW, MU, torch.ones(2, dtype=D64), "spherical") == (2, 2)
    assert gaussian_log_prob(X, MU, COV).shape == (4, 2)
    assert gmm_log_likelihood(X, LW, MU, COV).shape == (4,)
    assert torch.allclose(responsibilities(X, LW, MU, COV).sum(-1),
                          torch.ones(4, dtype=D64))
    assert gmm_m_step(X, R, "diag", reg_covar=0.0)[2].shape == (2, 2)
    assert len(gmm_em_step(X, LW, MU, COV)) == 4
    assert init_gmm(X, 4, "spherical")[2].shape == (4,)
    assert sample_gmm(0, LW, MU, COV)[0].shape == (0, 2)
    gm = fit_gmm(X, 2, "diag", max_iter=2, generator=torch.Generator().manual_seed(0))
    assert isinstance(gm, GaussianMixture) and gm.n_iter <= 2
    assert log_einsum_exp(L3, L3, LWE).shape == (1, 2, 1)
    assert isinstance(random_region_tree(2), RegionTree)
    assert PC(XB).shape == (2,) and PC.sample(0).shape == (0, 3)
    assert all_binary_states(1).tolist() == [[0], [1]]
    total, err = check_circuit(PC, torch.tensor([True, False, True]))
    assert abs(total - 1) < 1e-12 and err < 1e-12
    assert circuit_flows(PC, XB)[2].shape == (2,)
    assert torch.isfinite(circuit_em_step(EinsumCircuit(3), XB, pseudocount=0.0))
