"""The reliability score, the sampling rule, the GLNN and KRD losses and the trainers
of the chapter *Reliable distillation of GNNs into MLPs* (`papers_lib.graphs.krd`)."""
import math

import pytest
import torch
from scipy.optimize import minimize_scalar
from torch.nn import functional as F

from papers_lib.graphs.homophily import GCN
from papers_lib.graphs.krd import (
    entropy, fit_power, fit_student, fit_teacher, glnn_loss, knowledge_reliability,
    krd_loss, sample_edges, sampling_probability, soft_kl)
from papers_lib.graphs.toolkit import contextual_sbm, normalized_adjacency

f64 = torch.float64


def gen(k):
    return torch.Generator().manual_seed(k)


def test_entropy_and_kl_against_torch():
    z = torch.randn(7, 5, generator=gen(0), dtype=f64) * 4
    ref = torch.distributions.Categorical(logits=z).entropy()
    assert torch.allclose(entropy(z), ref, atol=1e-12)
    zs = torch.randn(7, 5, generator=gen(1), dtype=f64)
    for tau in (0.3, 1.0, 2.5):
        ref = F.kl_div(F.log_softmax(zs / tau, -1), F.log_softmax(z / tau, -1),
                       reduction="none", log_target=True).sum(-1)
        assert torch.allclose(soft_kl(z, zs, tau), ref, atol=1e-12)
        p = torch.distributions.Categorical(logits=z / tau)
        q = torch.distributions.Categorical(logits=zs / tau)
        assert torch.allclose(soft_kl(z, zs, tau),
                              torch.distributions.kl_divergence(p, q), atol=1e-12)
    # a class of probability 0 adds nothing (no NaN from 0 log 0)
    zinf = torch.tensor([[0.0, -math.inf, 1.0]], dtype=f64)
    assert torch.isfinite(entropy(zinf)).all()
    assert torch.isfinite(soft_kl(zinf, torch.zeros(1, 3, dtype=f64))).all()


def test_reliability_is_the_squared_entropy_gradient_for_a_linear_teacher():
    # f(X)_i = (0, w . x_i): H_i = h(m_i), h'(m) = -m s(m) s(-m), grad = h'(m) w
    w = torch.tensor([0.7, -1.3, 0.4], dtype=f64)
    x = torch.randn(5, 3, generator=gen(2), dtype=f64)

    def teacher(x):
        m = x @ w
        return torch.stack([torch.zeros_like(m), m], -1)

    m = x @ w
    exact = (m * torch.sigmoid(m) * torch.sigmoid(-m)) ** 2 * w.square().sum()
    K = 3000
    rho = knowledge_reliability(teacher, x, 1e-5, K, gen(3))
    # (g . eps)^2 = |g|^2 chi^2_1: relative standard error sqrt(2 / K); 4 of them
    assert ((rho / exact - 1).abs() < 4 * math.sqrt(2 / K)).all()


def test_constant_teacher_is_perfectly_reliable():
    x = torch.randn(2, 6, 4, generator=gen(4))
    const = lambda z: torch.ones(*z.shape[:-1], 3)  # noqa: E731
    rho = knowledge_reliability(const, x, 2.0, 3, gen(5))
    assert rho.shape == (2, 6) and (rho == 0).all()
    assert (sampling_probability(rho, 1.7) == 1).all()


def test_sampling_probability_properties():
    rho = torch.rand(4, 30, generator=gen(6), dtype=f64)
    rho[0, 3] = 0.0
    for a in (0.2, 1.0, 6.0):
        p = sampling_probability(rho, a)
        assert ((p >= 0) & (p <= 1)).all()
        assert torch.allclose(p, 1 - (rho / rho.amax(1, keepdim=True)) ** a)
        assert p[0, 3] == 1
        assert torch.allclose(p.gather(1, rho.argmax(1, keepdim=True)),
                              torch.zeros(4, 1, dtype=f64))
        assert torch.allclose(p, sampling_probability(0.01 * rho, a))
    lo, hi = sampling_probability(rho, 0.5), sampling_probability(rho, 3.0)
    assert (hi >= lo).all()
    per = sampling_probability(rho, torch.tensor([0.5, 1.0, 2.0, 3.0], dtype=f64))
    assert torch.allclose(per[3], hi[3]) and torch.allclose(per[0], lo[0])


def test_fit_power_matches_a_scalar_minimiser():
    rho = torch.rand(2, 3000, generator=gen(7), dtype=f64)
    agree = torch.rand(2, 3000, generator=gen(8), dtype=f64) < sampling_probability(
        rho, torch.tensor([2.0, 0.7], dtype=f64))
    a = fit_power(rho, agree, bins=10)
    for k in range(2):
        r = rho[k] / rho[k].max()
        b = (r * 10).long().clamp(max=9)
        q = torch.stack([agree[k][b == j].double().mean() for j in range(10)])
        q = (q - q.min()) / (q.max() - q.min())
        c = (torch.arange(10, dtype=f64) + 0.5) / 10
        best = minimize_scalar(lambda t: float(((1 - c ** math.exp(t) - q) ** 2).sum()),
                               bounds=(math.log(0.01), math.log(100)), method="bounded")
        assert abs(math.log(a[k].item()) - best.x) < 0.024        # one grid step
    # all nodes agree: nothing to fit, the start value stays
    assert (fit_power(rho, torch.ones_like(agree), power=3.0) == 3.0).all()


def test_sample_edges_rates():
    prob = torch.tensor([0.1, 0.6, 0.9])
    ei = torch.tensor([[0, 1, 2] * 4000, [1, 2, 0] * 4000])
    kept = sample_edges(ei, prob, gen(9))
    rate = torch.bincount(kept[0], minlength=3) / 4000
    assert ((rate - prob).abs() <= 4 * (prob * (1 - prob) / 4000).sqrt()).all()
    assert sample_edges(ei, torch.zeros(3), gen(9)).shape == (2, 0)
    assert torch.equal(sample_edges(ei, torch.ones(3), gen(9)), ei)


def test_krd_loss_against_a_loop_and_glnn():
    S, n, C = 3, 4, 3
    zs = torch.randn(S, n, C, generator=gen(10), dtype=f64)
    zt = torch.randn(S, n, C, generator=gen(11), dtype=f64)
    y = torch.randint(C, (S, n), generator=gen(12))
    m = torch.rand(S, n, generator=gen(13)) < 0.5
    m[:, 0] = True
    e = torch.tensor([[1, 2, 4, 5, 6, 11], [0, 0, 7, 4, 5, 8]])
    lam, tau = 0.4, 1.5
    got = krd_loss(zs, zt, y, m, e, lam, tau)
    for s in range(S):
        pairs = [(i, i) for i in range(n)] + [(a % n, b % n) for a, b in e.T.tolist()
                                              if a // n == s]
        kl = sum(float(soft_kl(zt[s, j], zs[s, i], tau)) for j, i in pairs)
        ce = F.cross_entropy(zs[s][m[s]], y[s][m[s]])
        want = lam * ce.item() + (1 - lam) * kl / len(pairs)
        assert abs(got[s].item() - want) < 1e-12
    none = torch.zeros(2, 0, dtype=torch.long)
    assert torch.allclose(krd_loss(zs, zt, y, m, none, lam, tau),
                          glnn_loss(zs, zt, y, m, lam, tau), atol=1e-14)
    # lam = 1: the labels alone; lam = 0 and the teacher as student: zero
    assert torch.allclose(glnn_loss(zs, zt, y, m, 1.0), glnn_loss(zs, zs, y, m, 1.0))
    assert glnn_loss(zt, zt, y, m, 0.0).abs().max() < 1e-12


def _toy(copies=2):
    g = gen(14)
    G = contextual_sbm(120, 6, 4.0, 0.8, 0.6, g)
    x, y = G.x.expand(copies, -1, -1).contiguous(), G.y.expand(copies, -1)
    u = torch.rand(copies, 120, generator=g)
    masks = (u < 0.15, (u >= 0.15) & (u < 0.4), u >= 0.4)
    e = torch.cat([G.edge_index + k * 120 for k in range(copies)], 1)
    return x, y, masks, e, g


def test_fit_teacher_keeps_the_best_validation_weights():
    x, y, (tr, va, te), e, g = _toy()
    ea, wa = normalized_adjacency(e, 240)
    net = GCN(6, 8, 2, copies=2, generator=g)
    acc = fit_teacher(net, x, y, tr, va, te, ea, wa, epochs=40)
    with torch.no_grad():
        hit = net(x, ea, wa).argmax(2) == y
    assert torch.equal(acc, (hit & te).sum(1) / te.sum(1))
    assert not net.training


def test_fit_student_runs_glnn_and_krd():
    x, y, (tr, va, te), e, g = _toy()
    ea, wa = normalized_adjacency(e, 240)
    teacher = GCN(6, 8, 2, copies=2, generator=g)
    fit_teacher(teacher, x, y, tr, va, te, ea, wa, epochs=40)
    with torch.no_grad():
        zt = teacher(x, ea, wa)
    rho = knowledge_reliability(lambda z: teacher(z, ea, wa), x, 0.3, 3, g)
    torch.manual_seed(0)
    glnn = fit_student(GCN(6, 8, 2, copies=2, generator=g), x, y, tr, va, te, zt,
                       epochs=25)
    krd = fit_student(GCN(6, 8, 2, copies=2, generator=g), x, y, tr, va, te, zt, e,
                      rho, epochs=25, warmup=5, generator=g)
    for fit in (glnn, krd):
        assert fit.test_acc.shape == (2,) and fit.agree.shape == (25, 2, 120)
        assert ((fit.test_acc >= 0) & (fit.test_acc <= 1)).all()
    assert (glnn.power == 1).all() and (krd.power > 0).all()
    # the distilled student agrees with the teacher on most nodes by the end
    assert krd.agree[-1].float().mean() > 0.7 and glnn.agree[-1].float().mean() > 0.7


@pytest.mark.parametrize("lam", [0.0, 1.0])
def test_glnn_loss_gradients(lam):
    zs = torch.randn(2, 3, 4, generator=gen(15), dtype=f64, requires_grad=True)
    zt = torch.randn(2, 3, 4, generator=gen(16), dtype=f64)
    y = torch.randint(4, (2, 3), generator=gen(17))
    m = torch.tensor([[1, 0, 1], [0, 1, 1]], dtype=torch.bool)
    assert torch.autograd.gradcheck(lambda s: glnn_loss(s, zt, y, m, lam, 0.7), (zs,))
