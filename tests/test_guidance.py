"""papers_lib.diffusion.guidance: noisy classifier, its loss, classifier guidance and
the exact labelled Gaussian mixture."""
import math

import pytest
import torch
import torch.nn.functional as F

from papers_lib.diffusion import GaussianMixture, VPCosine, VPLinear, ddim_sample
from papers_lib.diffusion.guidance import (LabelledMixture, NoisyClassifier,
                                           classifier_guidance, classifier_loss)

D = torch.float64


def _mixture():
    means = torch.tensor([[2.0, 0.0], [-1.0, 1.0], [0.0, -2.0]], dtype=D)
    comps = [GaussianMixture(means[:2], stds=torch.tensor([0.5, 0.8], dtype=D)),
             GaussianMixture(means[2:], covs=torch.tensor([[[1.0, 0.3], [0.3, 0.5]]],
                                                          dtype=D))]
    return LabelledMixture(comps, priors=torch.tensor([0.3, 0.7], dtype=D))


def test_posterior_against_bayes_rule():
    lm = _mixture()
    x = torch.randn(6, 2, dtype=D)
    sched = VPLinear()
    for t in (0.0, 0.4):
        # Bayes' rule by hand with torch's MultivariateNormal on the noised laws
        logs = []
        for p, comp in zip(lm.priors, lm.components):
            a, s = float(sched.alpha(t)), float(sched.sigma(t))
            dens = sum(w * torch.distributions.MultivariateNormal(
                a * m, a ** 2 * c + s ** 2 * torch.eye(2, dtype=D)).log_prob(x).exp()
                for w, m, c in zip(comp.weights, comp.means, comp.covs))
            logs.append(torch.log(p * dens))
        ref = torch.log_softmax(torch.stack(logs, 1), 1)
        torch.testing.assert_close(lm.log_posterior(x, t, sched), ref)
    # per-row times agree with one time at a time
    t = torch.tensor([0.1, 0.1, 0.5, 0.9, 0.5, 0.2], dtype=D)
    rows = torch.stack([lm.log_posterior(x[i:i + 1], float(t[i]), sched)[0]
                        for i in range(6)])
    torch.testing.assert_close(lm.log_posterior(x, t, sched), rows)


def test_marginal_and_sample():
    lm = _mixture()
    m = lm.marginal()
    torch.testing.assert_close(m.weights, torch.tensor([0.15, 0.15, 0.7], dtype=D))
    x, y = lm.sample(20000, torch.Generator().manual_seed(0))
    assert x.shape == (20000, 2) and y.shape == (20000,)
    assert abs(y.double().mean().item() - 0.7) < 0.02
    torch.testing.assert_close(x[y == 1].mean(0), torch.tensor([0.0, -2.0], dtype=D),
                               atol=0.04, rtol=0)
    # the marginal density is the prior-weighted sum of the class densities
    z = torch.randn(5, 2, dtype=D)
    ref = torch.logsumexp(torch.stack([torch.log(p) + c.log_prob(z) for p, c in
                                       zip(lm.priors, lm.components)]), 0)
    torch.testing.assert_close(m.log_prob(z), ref)


@pytest.mark.parametrize("sched", [VPLinear(), VPCosine()], ids=repr)
def test_exact_guidance_gives_the_conditional_score(sched):
    lm = _mixture()
    x = 2 * torch.randn(50, 2, dtype=D)
    for t in (0.05, 0.5, 0.95):
        for c in range(2):
            g = classifier_guidance(lm.classifier(sched), c, 1.0)
            tt = torch.full((50,), t, dtype=D)
            lhs = lm.marginal().noised_score(x, t, sched) + g(x, tt)
            rhs = lm.components[c].noised_score(x, t, sched)
            torch.testing.assert_close(lhs, rhs, atol=1e-10, rtol=1e-10)


def test_guidance_against_finite_differences_and_scale():
    torch.manual_seed(0)
    clf = NoisyClassifier(3, 4, hidden=16).double()
    x, t = torch.randn(5, 3, dtype=D), torch.rand(5, dtype=D)
    y = torch.tensor([0, 1, 2, 3, 1])
    g = classifier_guidance(clf, y, 2.5)(x, t)
    h = 1e-6
    for j in range(3):
        e = torch.zeros(3, dtype=D)
        e[j] = h
        lp = [torch.log_softmax(clf(z, t), 1)[torch.arange(5), y]
              for z in (x + e, x - e)]
        fd = (lp[0] - lp[1]) / (2 * h)
        torch.testing.assert_close(g[:, j], 2.5 * fd, atol=1e-7, rtol=1e-6)
    torch.testing.assert_close(classifier_guidance(clf, y, 0.0)(x, t),
                               torch.zeros_like(x))
    # works under no_grad (as in the samplers) and leaves x without a graph
    with torch.no_grad():
        g2 = classifier_guidance(clf, y, 2.5)(x, t)
    torch.testing.assert_close(g2, g)
    assert not g2.requires_grad


def test_guidance_in_a_sampler_matches_the_conditional_model():
    # DDIM with exact marginal eps + exact guidance (s=1) = DDIM with the class's eps
    lm, sched = _mixture(), VPLinear()
    x1 = torch.randn(64, 2, generator=torch.Generator().manual_seed(1), dtype=D)
    a = ddim_sample(lm.marginal().model(sched), sched, x1, 20, t_end=0.01,
                    guidance=classifier_guidance(lm.classifier(sched), 1, 1.0))
    b = ddim_sample(lm.components[1].model(sched), sched, x1, 20, t_end=0.01)
    torch.testing.assert_close(a, b, atol=1e-8, rtol=1e-8)


def test_classifier_loss_is_cross_entropy_on_q_sample():
    torch.manual_seed(0)
    clf, sched = NoisyClassifier(2, 3), VPLinear()
    x0 = torch.randn(8, 2)
    y = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    t = torch.linspace(0.1, 0.9, 8)
    loss = classifier_loss(clf, sched, x0, y, t=t,
                           generator=torch.Generator().manual_seed(3))
    eps = torch.randn(8, 2, generator=torch.Generator().manual_seed(3))
    xt = sched.alpha(t)[:, None] * x0 + sched.sigma(t)[:, None] * eps
    torch.testing.assert_close(loss, F.cross_entropy(clf(xt, t), y))


def test_classifier_time_features():
    torch.manual_seed(0)
    clf = NoisyClassifier(2, 5, n_freq=3)
    x = torch.randn(4, 2)
    out = clf(x, 0.3)
    assert out.shape == (4, 5)
    torch.testing.assert_close(out, clf(x, torch.full((4,), 0.3)))
    assert not torch.allclose(out, clf(x, 0.7))


def test_bad_input():
    lm, sched = _mixture(), VPLinear()
    clf = NoisyClassifier(2, 3)
    with pytest.raises(ValueError, match="n_classes must be an int >= 1, got 0"):
        NoisyClassifier(2, 0)
    with pytest.raises(TypeError, match="dim must be an int, got 2.5"):
        NoisyClassifier(2.5, 3)
    with pytest.raises(ValueError, match="shape"):
        clf(torch.randn(4, 3), 0.5)
    with pytest.raises(ValueError, match="t must"):
        clf(torch.randn(4, 2), torch.rand(3))
    with pytest.raises(ValueError, match="scale must be a finite real number, got inf"):
        classifier_guidance(clf, 0, math.inf)
    with pytest.raises(TypeError, match="callable"):
        classifier_guidance(3, 0)
    with pytest.raises(ValueError, match=r"y must hold class labels in \[0, 3\)"):
        classifier_guidance(clf, 3)(torch.randn(4, 2), torch.rand(4))
    with pytest.raises(ValueError, match="y must"):
        classifier_guidance(clf, torch.tensor([0, 1]))(torch.randn(4, 2),
                                                       torch.rand(4))
    with pytest.raises(TypeError, match="integer"):
        classifier_loss(clf, sched, torch.randn(4, 2), torch.rand(4))
    with pytest.raises(TypeError, match="schedule must be a NoiseSchedule, got str"):
        classifier_loss(clf, "vp", torch.randn(4, 2), torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match="t must have shape"):
        classifier_loss(clf, sched, torch.randn(4, 2),
                        torch.zeros(4, dtype=torch.long), t=torch.rand(3))
    with pytest.raises(ValueError, match="priors"):
        LabelledMixture(lm.components, priors=torch.tensor([1.0, -1.0]))
    with pytest.raises(TypeError, match="GaussianMixture"):
        LabelledMixture([])
    with pytest.raises(ValueError, match="same dimension"):
        LabelledMixture([lm.components[0],
                         GaussianMixture(torch.zeros(1, 3), stds=1.0)])
    with pytest.raises(ValueError, match="schedule"):
        lm.log_posterior(torch.randn(3, 2, dtype=D), 0.5)
    with pytest.raises(ValueError, match="x must"):
        lm.log_posterior(torch.randn(3, 3, dtype=D))
