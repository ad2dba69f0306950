"""The Gaussian mixture of experts, its EM, the transportation divergence and the MM
reduction of the chapter *Distributed learning of mixtures of experts*
(`papers_lib.mixtures.distributed_moe`)."""
import itertools

import torch
from sklearn.linear_model import LogisticRegression

from papers_lib.mixtures.distributed_moe import (
    GaussianMoE, fit_distributed_moe, fit_gating, gaussian_kl, moe_em, param_error,
    reduce_moe, transport_divergence)

DT = torch.float64
D = torch.distributions
TRUTH = GaussianMoE(
    torch.tensor([[1.0, 2.5, 0.0], [0.5, -1.5, 2.5], [0.0, 0.0, 0.0]], dtype=DT),
    torch.tensor([[2.0, -1.0, 0.5], [-1.0, 1.5, -1.0], [0.0, 0.5, 2.0]], dtype=DT),
    torch.tensor([0.3, 0.2, 0.4], dtype=DT))


def _data(n, seed, batch=()):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch + (n, 2), generator=g, dtype=DT)
    return x, TRUTH.sample(x, g)


def test_log_prob_matches_torch_mixture():
    x, y = _data(20, 0)
    for i in range(3):
        ref = D.MixtureSameFamily(D.Categorical(logits=TRUTH.gate_log_probs(x)[i]),
                                  D.Normal(TRUTH.expert_means(x)[i], TRUTH.sigma2.sqrt()))
        assert torch.allclose(TRUTH.log_prob(x[i:i + 1], y[i:i + 1]), ref.log_prob(y[i]))
    gates = TRUTH.gate_log_probs(x).exp()
    assert torch.allclose(gates.sum(-1), torch.ones(20, dtype=DT))
    assert torch.allclose(TRUTH.mean(x), (gates * TRUTH.expert_means(x)).sum(-1))


def test_gaussian_kl_matches_torch():
    g = torch.Generator().manual_seed(1)
    m1, m2 = torch.randn(2, 10, generator=g, dtype=DT)
    v1, v2 = torch.rand(2, 10, generator=g, dtype=DT) + 0.1
    ref = D.kl_divergence(D.Normal(m1, v1.sqrt()), D.Normal(m2, v2.sqrt()))
    assert torch.allclose(gaussian_kl(m1, v1, m2, v2), ref)


def test_fit_gating_matches_sklearn():
    g = torch.Generator().manual_seed(2)
    x = torch.randn(250, 2, generator=g, dtype=DT)
    lab = TRUTH.gate_log_probs(x).exp().multinomial(1, generator=g).squeeze(1)
    al = fit_gating(x, torch.nn.functional.one_hot(lab, 3).to(DT), steps=30, ridge=1e-9)
    sk = LogisticRegression(C=1e9, tol=1e-12, max_iter=5000).fit(x.numpy(), lab.numpy())
    ref = torch.cat([torch.tensor(sk.intercept_)[:, None], torch.tensor(sk.coef_)], 1)
    assert (al - (ref - ref[-1])).abs().max() < 1e-4
    assert (al[-1] == 0).all()


def test_em_is_monotone_and_batches_agree():
    x, y = _data(300, 3)
    lls = [moe_em(x, y, 3, max_iter=t, tol=0.0, restarts=1,
                  generator=torch.Generator().manual_seed(4))[1].item()
           for t in (1, 3, 9)]
    assert all(b >= a - 1e-12 for a, b in zip(lls, lls[1:])), lls
    xb, yb = _data(300, 5, (2,))
    mb, llb, itb = moe_em(xb, yb, 3, max_iter=40,
                          generator=torch.Generator().manual_seed(6))
    assert mb.beta.shape == (2, 3, 3) and itb.shape == (2,)
    for i in range(2):
        m = GaussianMoE(mb.alpha[i], mb.beta[i], mb.sigma2[i])
        assert abs(m.log_prob(xb[i], yb[i]).mean() - llb[i]) < 1e-10


def test_em_recovers_the_truth():
    x, y = _data(2000, 7)
    m, _, _ = moe_em(x, y, 3, max_iter=100, tol=1e-5,
                     generator=torch.Generator().manual_seed(8))
    assert param_error(m, TRUTH)[0] < 0.3


def test_param_error_finds_the_permutation():
    for perm in itertools.permutations(range(3)):
        p = list(perm)
        sh = GaussianMoE(TRUTH.alpha[p] - 1.3, TRUTH.beta[p], TRUTH.sigma2[p])
        e, best = param_error(sh, TRUTH)
        assert e < 1e-24 and [p[k] for k in best] == [0, 1, 2]
    off = GaussianMoE(TRUTH.alpha, TRUTH.beta + 0.1, TRUTH.sigma2)
    assert abs(param_error(off, TRUTH)[0] - 9 * 0.01) < 1e-12


def test_transport_divergence_brute_force_and_zero():
    g = torch.Generator().manual_seed(9)
    loc = GaussianMoE(torch.randn(2, 2, 3, generator=g, dtype=DT),
                      torch.randn(2, 2, 3, generator=g, dtype=DT),
                      torch.rand(2, 2, generator=g, dtype=DT) + 0.2)
    red = GaussianMoE(torch.zeros(2, 3, dtype=DT), torch.randn(2, 3, generator=g,
                                                               dtype=DT),
                      torch.tensor([0.5, 1.0], dtype=DT))
    lam = torch.tensor([0.4, 0.6], dtype=DT)
    xs = torch.randn(3, 2, generator=g, dtype=DT)
    total = 0.0
    for s in range(3):
        xi = xs[s:s + 1]
        w = (lam[:, None] * loc.gate_log_probs(xi).exp()[:, 0]).reshape(-1)
        a = loc.expert_means(xi)[:, 0].reshape(-1)
        v = loc.sigma2.reshape(-1)
        b = red.expert_means(xi)[0]
        total += min(sum(float(w[l] * gaussian_kl(a[l], v[l], b[k], red.sigma2[k]))
                         for l, k in enumerate(ks))
                     for ks in itertools.product(range(2), repeat=4))
    assert abs(total / 3 - float(transport_divergence(loc, lam, red, xs))) < 1e-12
    copies = GaussianMoE(*(t.expand((3,) + t.shape) for t in
                           (TRUTH.alpha, TRUTH.beta, TRUTH.sigma2)))
    lam3 = torch.full((3,), 1 / 3, dtype=DT)
    assert transport_divergence(copies, lam3, TRUTH, xs).abs() < 1e-12
    back, obj, _ = reduce_moe(copies, lam3, torch.randn(200, 2, generator=g, dtype=DT))
    assert obj < 1e-12 and param_error(back, TRUTH)[0] < 1e-3


def test_mm_is_monotone_and_beats_single_machines():
    x, y = _data(200, 10, (6,))
    loc, _, _ = moe_em(x, y, 3, max_iter=40, generator=torch.Generator().manual_seed(11))
    lam = torch.full((6,), 1 / 6, dtype=DT)
    xs = _data(200, 12)[0]
    objs = [reduce_moe(loc, lam, xs, max_iter=i, tries=1)[1] for i in (1, 2, 4, 50)]
    assert all(b <= a + 1e-12 for a, b in zip(objs, objs[1:])), objs
    red, obj, _ = reduce_moe(loc, lam, xs, tries=6)
    assert abs(float(transport_divergence(loc, lam, red, xs)) - obj) < 1e-10
    single = min(float(transport_divergence(loc, lam, GaussianMoE(
        loc.alpha[m], loc.beta[m], loc.sigma2[m]), xs)) for m in range(6))
    assert obj <= single + 1e-12


def test_fit_distributed_moe_end_to_end():
    x, y = _data(2000, 13)
    red, loc, it, mm = fit_distributed_moe(x, y, 2, 3, x[:200], max_iter=100, tol=1e-5,
                                       generator=torch.Generator().manual_seed(14))
    assert loc.beta.shape == (2, 3, 3) and it.shape == (2,) and mm >= 1
    assert param_error(red, TRUTH)[0] < 0.3
