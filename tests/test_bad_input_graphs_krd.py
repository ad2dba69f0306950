"""Bad-input sweep of `papers_lib.graphs.krd` (chapter *Reliable distillation of GNNs
into MLPs*): each public name refuses an invalid argument with a message naming it."""
import math

import torch

from papers_lib.graphs.homophily import GCN
from papers_lib.graphs.krd import (
    entropy, fit_power, fit_student, fit_teacher, glnn_loss, knowledge_reliability,
    krd_loss, sample_edges, sampling_probability, soft_kl)
from tests.bad_input import Case, check, parametrize

M = "papers_lib.graphs.krd."
Z = torch.randn(2, 5, 3)
Y = torch.zeros(2, 5, dtype=torch.long)
MK = torch.ones(2, 5, dtype=torch.bool)
RHO = torch.rand(2, 5)
E = torch.tensor([[0, 6], [1, 7]])
X = torch.randn(2, 5, 4)
NET = GCN(4, 3, 3, copies=2)
TEACH = lambda x: x[..., :3]  # noqa: E731

CASES = [
    Case(M + "entropy", lambda: entropy(torch.zeros(3, dtype=torch.long)), TypeError,
         r"logits must be a floating-point tensor"),
    Case(M + "entropy", lambda: entropy(torch.tensor(1.0)), ValueError,
         r"logits must have at least 1 dimensions"),
    Case(M + "soft_kl", lambda: soft_kl(Z, Z, tau=0.0), ValueError, r"tau must be"),
    Case(M + "soft_kl", lambda: soft_kl(Z, Z[..., :2]), ValueError,
         r"student_logits must have the teacher's 3 classes"),
    Case(M + "soft_kl", lambda: soft_kl([1.0], Z), TypeError,
         r"teacher_logits must be a torch.Tensor"),
    Case(M + "knowledge_reliability", lambda: knowledge_reliability(3, X, 1.0),
         TypeError, r"teacher must be callable"),
    Case(M + "knowledge_reliability", lambda: knowledge_reliability(TEACH, X, 0.0),
         ValueError, r"noise must be"),
    Case(M + "knowledge_reliability", lambda: knowledge_reliability(TEACH, X, math.inf),
         ValueError, r"noise must be a finite"),
    Case(M + "knowledge_reliability",
         lambda: knowledge_reliability(TEACH, X, 1.0, draws=0), ValueError,
         r"draws must be"),
    Case(M + "knowledge_reliability",
         lambda: knowledge_reliability(TEACH, torch.ones(3), 1.0), ValueError,
         r"x must have at least 2 dimensions"),
    Case(M + "sampling_probability", lambda: sampling_probability(-RHO, 1.0),
         ValueError, r"rho must hold finite scores >= 0"),
    Case(M + "sampling_probability",
         lambda: sampling_probability(torch.tensor([1.0, math.nan]), 1.0), ValueError,
         r"rho must hold finite"),
    Case(M + "sampling_probability", lambda: sampling_probability(RHO, 0.0),
         ValueError, r"power must be"),
    Case(M + "sampling_probability",
         lambda: sampling_probability(RHO, torch.ones(3)), ValueError,
         r"power must be a number or have shape \(2,\)"),
    Case(M + "sampling_probability",
         lambda: sampling_probability(RHO, torch.tensor([1.0, -1.0])), ValueError,
         r"power must be > 0"),
    Case(M + "fit_power", lambda: fit_power(RHO, MK.float()), ValueError,
         r"agree must be a bool tensor"),
    Case(M + "fit_power", lambda: fit_power(RHO, MK, bins=1), ValueError,
         r"bins must be"),
    Case(M + "fit_power", lambda: fit_power(RHO, MK, power=-2.0), ValueError,
         r"power must be"),
    Case(M + "sample_edges", lambda: sample_edges(E, torch.full((10,), 1.5)),
         ValueError, r"prob must hold probabilities in \[0, 1\]"),
    Case(M + "sample_edges", lambda: sample_edges(E, torch.ones(4)), ValueError,
         r"edge_index must hold node numbers"),
    Case(M + "glnn_loss", lambda: glnn_loss(Z, Z, Y, MK, lam=1.5), ValueError,
         r"lam must be"),
    Case(M + "glnn_loss", lambda: glnn_loss(Z, Z[:1], Y, MK), ValueError,
         r"teacher_logits must have the student's shape"),
    Case(M + "glnn_loss", lambda: glnn_loss(Z, Z, Y.float(), MK), ValueError,
         r"y must be a torch.long tensor"),
    Case(M + "glnn_loss", lambda: glnn_loss(Z, Z, Y + 3, MK), ValueError,
         r"y must hold labels in \[0, 3\)"),
    Case(M + "glnn_loss", lambda: glnn_loss(Z, Z, Y, MK.long()), ValueError,
         r"train_mask must be a bool tensor"),
    Case(M + "krd_loss", lambda: krd_loss(Z, Z, Y, MK, torch.tensor([[0], [6]])),
         ValueError, r"edge_index must join nodes of one copy"),
    Case(M + "krd_loss", lambda: krd_loss(Z, Z, Y, MK, E + 20), ValueError,
         r"edge_index must hold node numbers"),
    Case(M + "krd_loss", lambda: krd_loss(Z, Z, Y, MK, E, tau=-1.0), ValueError,
         r"tau must be"),
    Case(M + "fit_teacher",
         lambda: fit_teacher(torch.nn.Linear(4, 3), X, Y, MK, MK, MK),
         TypeError, r"model must be a GCN"),
    Case(M + "fit_teacher", lambda: fit_teacher(NET, X, Y[:1], MK, MK, MK), ValueError,
         r"y must have shape"),
    Case(M + "fit_teacher", lambda: fit_teacher(NET, X, Y, MK, MK, MK, epochs=0),
         ValueError, r"epochs must be"),
    Case(M + "fit_teacher", lambda: fit_teacher(NET, X, Y, MK, MK, MK, lr=0.0),
         ValueError, r"lr must be"),
    Case(M + "fit_student",
         lambda: fit_student(torch.nn.Linear(4, 3), X, Y, MK, MK, MK, Z), TypeError,
         r"student must be a GCN"),
    Case(M + "fit_student", lambda: fit_student(NET, X, Y, MK, MK, MK, Z[:, :3]),
         ValueError, r"teacher_logits must have shape \(2, 5\)"),
    Case(M + "fit_student", lambda: fit_student(NET, X, Y, MK, MK, MK, Z, E),
         ValueError, r"rho must be given with edge_index"),
    Case(M + "fit_student", lambda: fit_student(NET, X, Y, MK, MK, MK, Z, rho=RHO),
         ValueError, r"edge_index must be given with rho"),
    Case(M + "fit_student",
         lambda: fit_student(NET, X, Y, MK, MK, MK, Z, E, RHO[:, :3]), ValueError,
         r"rho must have shape \(2, 5\)"),
    Case(M + "fit_student",
         lambda: fit_student(NET, X, Y, MK, MK, MK, Z, E, RHO, momentum=1.5),
         ValueError, r"momentum must be"),
    Case(M + "fit_student", lambda: fit_student(NET, X, Y, MK, MK, MK, Z, warmup=-1),
         ValueError, r"warmup must be"),
    Case(M + "fit_student", lambda: fit_student(NET, X, Y, MK, MK[:1], MK, Z),
         ValueError, r"val_mask must have shape"),
]
EXEMPT = {M + "StudentFit": "a result record (a NamedTuple): no arguments to check"}


@parametrize(CASES)
def test_bad_input(case):
    check(case)
