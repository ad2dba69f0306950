"""Library tests of `papers_lib.mixtures.pic` (chapter *Probabilistic integral
circuits*): quadrature against NumPy/SciPy, the materialised circuit against
torch.distributions and the linear-Gaussian closed form, normalisation, EM, training."""
import math

import numpy as np
import scipy.integrate
import torch
from torch.distributions import (
    Bernoulli, Categorical, Independent, MixtureSameFamily, MultivariateNormal, Normal)

from papers_lib.mixtures.pic import (
    FourierMLP, QuadraturePC, bernoulli_mixture_em, fit_qpc, gauss_legendre,
    mixture_log_prob, prior_quadrature)
from papers_lib.mixtures.toolkit import all_binary_states

torch.set_num_threads(1)


def test_gauss_legendre_exact_for_degree_2k_minus_1():
    z, w = gauss_legendre(4, -1.0, 3.0)
    for p in range(8):
        assert abs((w * z ** p).sum().item() - (3.0 ** (p + 1) - (-1.0) ** (p + 1))
                   / (p + 1)) < 1e-9
    assert abs((w * z.exp()).sum().item()
               - scipy.integrate.quad(np.exp, -1, 3)[0]) < 1e-3


def test_prior_quadrature_normalised_and_moments():
    z, lw = prior_quadrature(40, 6.0)
    assert abs(torch.logsumexp(lw, 0).item()) < 1e-12
    assert abs((lw.exp() * z).sum().item()) < 1e-12
    assert abs((lw.exp() * z ** 4).sum().item() - 3.0) < 1e-5


def test_mixture_log_prob_matches_torch_distributions():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(3, 5, 2, generator=g, dtype=torch.float64)
    p = torch.randn(3, 4, 4, generator=g, dtype=torch.float64)
    lw = torch.log_softmax(torch.randn(4, generator=g, dtype=torch.float64), 0)
    ref = MixtureSameFamily(Categorical(logits=lw), Independent(
        Normal(p[:, None, :, :2], p[:, None, :, 2:].exp()), 1))
    assert torch.allclose(mixture_log_prob(x, lw, p), ref.log_prob(x[..., None, :]
                                                                   .squeeze(-2)))
    xb = (x > 0).double()
    refb = MixtureSameFamily(Categorical(logits=lw), Independent(
        Bernoulli(logits=p[:, None, :, :2]), 1))
    assert torch.allclose(mixture_log_prob(xb, lw, p[..., :2], "bernoulli"),
                          refb.log_prob(xb))


def test_linear_gaussian_pic_converges_to_closed_form():
    a = torch.tensor([1.0, 0.5], dtype=torch.float64)
    b = torch.tensor([-0.2, 0.4], dtype=torch.float64)
    s = torch.tensor([0.5, 0.3], dtype=torch.float64)
    mvn = MultivariateNormal(b, torch.outer(a, a) + torch.diag(s ** 2))
    x = mvn.sample((200,))
    z, lw = prior_quadrature(64, 6.0)
    par = torch.cat([b + z[:, None] * a, s.log().expand(64, 2)], -1)[None]
    assert torch.allclose(mixture_log_prob(x[None], lw, par)[0], mvn.log_prob(x),
                          atol=1e-6)


def test_qpc_normalised_for_every_k():
    m = QuadraturePC(1, 8, 5, "bernoulli", generator=torch.Generator().manual_seed(1))
    states = all_binary_states(8).double()[None]
    with torch.no_grad():
        for K in (3, 5, 11):
            assert abs(m(states, K).exp().sum().item() - 1) < 1e-12


def test_fit_qpc_lowers_loss_and_gradcheck():
    g = torch.Generator().manual_seed(2)
    x = torch.randn(2, 100, 2, generator=g, dtype=torch.float64) * 2
    m = QuadraturePC(2, 2, 6, generator=g).init_from_data(x)
    h = fit_qpc(m, x, 25, 0.02)
    assert bool((h[-1] < h[0] - 0.05).all())
    p = torch.randn(1, 3, 4, generator=g, dtype=torch.float64, requires_grad=True)
    lw = torch.log_softmax(torch.randn(3, generator=g, dtype=torch.float64), 0)
    assert torch.autograd.gradcheck(lambda q: mixture_log_prob(x[:1, :5], lw, q), (p,))


def test_fourier_mlp_batches_are_independent():
    net = FourierMLP(2, 3, hidden=8, generator=torch.Generator().manual_seed(3))
    z = torch.linspace(-2, 2, 7, dtype=torch.float64)
    out = net(z)
    out[0].sum().backward()
    assert net.w1.grad[1].abs().sum().item() == 0 and out.shape == (2, 7, 3)


def test_bernoulli_em_recovers_two_clusters():
    g = torch.Generator().manual_seed(4)
    lab = torch.rand(600, generator=g) < 0.3
    mu = torch.where(lab[:, None], torch.tensor(0.9), torch.tensor(0.1)).expand(600, 8)
    x = (torch.rand(600, 8, generator=g) < mu).double()[None]
    lw, lg, h = bernoulli_mixture_em(x, 2, 50, generator=g)
    w = lw.exp()[0].sort().values
    assert abs(w[0].item() - lab.double().mean().item()) < 0.03
    assert h[-1, 0] > h[0, 0]
    assert abs(mixture_log_prob(x, lw, lg, "bernoulli").mean().item()
               - h[-1, 0].item()) < 1e-3
