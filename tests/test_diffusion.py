"""papers_lib.diffusion: schedules, forward kernel, parameterisations, samplers and the
Gaussian-mixture reference, against closed forms."""
import math

import pytest
import torch

from papers_lib.diffusion import (
    KINDS, VE, DiscreteSchedule, GaussianMixture, VPCosine, VPLinear, convert,
    as_flow_field, ddim_sample, ddpm_sample, denoising_loss, eps_model, pf_ode_sample,
    probability_flow, q_log_prob, q_sample)
from papers_lib.flows import VPDiffusionPath, gmm_marginal_field

D = torch.float64
SCHEDULES = [VPLinear(), VPCosine(), VE(), DiscreteSchedule.linear(T=100)]


def _gm():
    means = torch.tensor([[-2.0, -1.0], [2.0, -1.5], [0.0, 2.0]], dtype=D)
    covs = torch.tensor([[[0.3, 0.2], [0.2, 0.4]], [[0.5, -0.3], [-0.3, 0.4]],
                         [[0.2, 0.0], [0.0, 0.05]]], dtype=D)
    return GaussianMixture(means, covs, weights=torch.tensor([0.5, 0.3, 0.2]))


@pytest.mark.parametrize("sch", SCHEDULES, ids=repr)
def test_schedule_derivatives_against_autograd(sch):
    t = torch.linspace(0.05, 0.95, 9, dtype=D, requires_grad=True)
    a, s = sch.alpha(t) + 0 * t, sch.sigma(t)
    da, = torch.autograd.grad(a.log().sum(), t)
    ds2, = torch.autograd.grad(s.pow(2).sum(), t, create_graph=True)
    torch.testing.assert_close(da, sch.drift(t))
    torch.testing.assert_close(ds2, sch.diffusion2(t) + 2 * sch.drift(t) * s ** 2)
    lam, = torch.autograd.grad(sch.log_snr(t).sum(), t)
    torch.testing.assert_close(lam, sch.dlog_snr(t))


def test_schedule_endpoints():
    vp = VPLinear()
    assert vp.alpha(0.0).item() == 1.0 and vp.sigma(0.0).item() == 0.0
    assert vp.alpha(1.0).item() == pytest.approx(math.exp(-0.5 * (0.1 + 9.95)))
    assert VPCosine().alpha(0.0).item() == pytest.approx(1.0)
    assert abs(VPCosine().alpha(1.0).item()) < 1e-15
    ve = VE(0.01, 50.0)
    assert ve.sigma(0.0).item() == pytest.approx(0.01)
    assert ve.sigma(1.0).item() == pytest.approx(50.0)
    for sch in SCHEDULES[:2]:  # variance preserving
        t = torch.linspace(0, 1, 11, dtype=D)
        torch.testing.assert_close(sch.alpha(t) ** 2 + sch.sigma(t) ** 2,
                                   torch.ones_like(t))


def test_vp_linear_against_quadrature():
    s = torch.linspace(0, 0.6, 20001, dtype=D)
    big_b = torch.trapezoid(0.1 + 19.9 * s, s)
    assert VPLinear().alpha(0.6).item() == pytest.approx(
        math.exp(-0.5 * big_b.item()), rel=1e-8)


def test_discrete_schedule_is_ddpm():
    betas = torch.linspace(1e-4, 0.02, 50, dtype=D)
    sch = DiscreteSchedule(betas)
    abar = torch.cumprod(1 - betas, 0)
    torch.testing.assert_close(sch.alphas_bar, abar)
    torch.testing.assert_close(sch.alpha(sch.t) ** 2, abar)
    # discretize returns the same chain for a discrete schedule
    torch.testing.assert_close(sch.discretize(50).betas, betas)
    cont = VPLinear().discretize(1000)
    assert (cont.betas - DiscreteSchedule.linear().betas).abs().max() < 2.5e-4
    assert VPCosine().discretize(100, max_beta=0.999).betas.max() <= 0.999


def test_forward_kernel():
    g = torch.Generator().manual_seed(0)
    x0 = torch.randn(5, 3, generator=g, dtype=D)
    t = torch.rand(5, generator=g, dtype=D) * 0.9 + 0.05
    sch = VPCosine()
    xt, eps = q_sample(sch, x0, t, generator=g)
    a, s = sch.alpha(t)[:, None], sch.sigma(t)[:, None]
    torch.testing.assert_close(xt, a * x0 + s * eps)
    ref = torch.distributions.Normal(a * x0, s).log_prob(xt).sum(1)
    torch.testing.assert_close(q_log_prob(sch, xt, x0, t), ref)
    # empirical moments at one time
    x0 = torch.full((20000, 1), 2.0, dtype=D)
    xt, _ = q_sample(sch, x0, 0.5, generator=g)
    assert xt.mean().item() == pytest.approx(2 * sch.alpha(0.5).item(), abs=0.02)
    assert xt.std().item() == pytest.approx(sch.sigma(0.5).item(), abs=0.02)


@pytest.mark.parametrize("sch", SCHEDULES[:3], ids=repr)
def test_parameterisation_round_trips(sch):
    g = torch.Generator().manual_seed(1)
    x0, eps = torch.randn(6, 2, generator=g, dtype=D), torch.randn(6, 2, generator=g,
                                                                    dtype=D)
    t = torch.rand(6, generator=g, dtype=D) * 0.9 + 0.05
    x, _ = q_sample(sch, x0, t, eps=eps)
    a, s = sch.alpha(t)[:, None], sch.sigma(t)[:, None]
    truth = {"eps": eps, "x0": x0, "score": -eps / s, "v": a * eps - s * x0}
    for src in KINDS:
        for dst in KINDS:
            torch.testing.assert_close(convert(truth[src], x, t, sch, src, dst),
                                       truth[dst])


def test_gmm_score_log_prob_and_moments():
    gm = _gm()
    x = gm.sample(50, torch.Generator().manual_seed(2)).requires_grad_()
    auto, = torch.autograd.grad(gm.log_prob(x).sum(), x)
    torch.testing.assert_close(auto, gm.score(x))
    ref = torch.distributions.MixtureSameFamily(
        torch.distributions.Categorical(gm.weights),
        torch.distributions.MultivariateNormal(gm.means, gm.covs))
    torch.testing.assert_close(gm.log_prob(x.detach()), ref.log_prob(x.detach()))
    big = gm.sample(40000, torch.Generator().manual_seed(3))
    torch.testing.assert_close(big.mean(0), gm.mean(), atol=0.03, rtol=0)
    torch.testing.assert_close(torch.cov(big.T), gm.covariance(), atol=0.06, rtol=0)


def test_noised_mixture_against_convolution_1d():
    gm = GaussianMixture(torch.tensor([[-1.5], [1.0]], dtype=D), stds=[0.3, 0.6],
                         weights=torch.tensor([0.3, 0.7]))
    grid = torch.linspace(-8, 8, 4001, dtype=D)
    p0 = gm.log_prob(grid[:, None]).exp()
    sch = VPLinear()
    for t in (0.1, 0.4):
        a, s = sch.alpha(t).item(), sch.sigma(t).item()
        xs = torch.linspace(-3, 3, 31, dtype=D)
        kern = torch.exp(-(xs[:, None] - a * grid) ** 2 / (2 * s * s)) \
            / math.sqrt(2 * math.pi * s * s)
        conv = torch.trapezoid(kern * p0, grid, dim=1)
        torch.testing.assert_close(gm.noised(sch, t).log_prob(xs[:, None]).exp(), conv)
        # noised_score (per-row t) equals the score of the noised mixture
        tt = torch.full((31,), t, dtype=D)
        torch.testing.assert_close(gm.noised_score(xs[:, None], tt, sch),
                                   gm.noised(sch, t).score(xs[:, None]))


def test_pf_field_matches_flow_matching_marginal_field():
    means = torch.tensor([[1.0, 0.0], [-1.0, 1.0]], dtype=D)
    gm = GaussianMixture(means, stds=0.4)
    field = probability_flow(gm.model(VPLinear(), "score"), VPLinear(), kind="score")
    fm = gmm_marginal_field(VPDiffusionPath(), means, 0.4)
    x = torch.randn(7, 2, dtype=D, generator=torch.Generator().manual_seed(4))
    for t in (0.1, 0.5, 0.9):  # flow time runs the other way
        torch.testing.assert_close(field(torch.tensor(t, dtype=D), x),
                                   -fm(1 - t, x))


def test_ddim_eta1_is_ancestral_and_guidance_hook():
    gm, sch = _gm(), VPLinear()
    x = torch.randn(100, 2, dtype=D, generator=torch.Generator().manual_seed(5))
    a = ddim_sample(gm.model(sch), sch, x, 20, eta=1.0,
                    generator=torch.Generator().manual_seed(6))
    b = ddpm_sample(gm.model(sch), sch, x, 20,
                    generator=torch.Generator().manual_seed(6))
    torch.testing.assert_close(a, b)
    # a guidance term equal to the score turns eps into the eps of p_t^2
    h = lambda x, t: gm.noised_score(x, t, sch)
    e = eps_model(gm.model(sch), sch, guidance=h)
    t = torch.full((100,), 0.3, dtype=D)
    torch.testing.assert_close(e(x, t), 2 * gm.model(sch)(x, t))


def test_samplers_recover_the_target():
    gm, sch = _gm(), VPLinear()
    g = torch.Generator().manual_seed(7)
    x = torch.randn(300, 2, dtype=D, generator=g)
    ref, nfe = pf_ode_sample(gm.model(sch), sch, x, rtol=1e-7, atol=1e-7,
                             return_nfe=True)
    assert nfe > 20
    e50 = (ddim_sample(gm.model(sch), sch, x, 50, t_end=sch.t_min) - ref).norm(dim=1)
    e100 = (ddim_sample(gm.model(sch), sch, x, 100, t_end=sch.t_min) - ref).norm(dim=1)
    assert 1.6 < e50.mean() / e100.mean() < 2.4   # first order
    # the x0- and v-parameterised exact models give the same ODE solution
    for kind in ("x0", "v"):
        torch.testing.assert_close(
            pf_ode_sample(gm.model(sch, kind), sch, x, 20, method="rk4", kind=kind),
            pf_ode_sample(gm.model(sch), sch, x, 20, method="rk4"))
    xa = ddpm_sample(gm.model(sch), sch, torch.randn(3000, 2, dtype=D, generator=g),
                     100, generator=g)
    se = (gm.covariance().diagonal() / 3000).sqrt()
    assert bool(((xa.mean(0) - gm.mean()).abs() < 4 * se).all())
    torch.testing.assert_close(torch.cov(xa.T), gm.covariance(), atol=0.3, rtol=0)


def test_denoising_loss_is_zero_for_the_target_and_positive_otherwise():
    gm = GaussianMixture(torch.tensor([[1.0, -2.0]], dtype=D), stds=1e-3)  # ~ a point
    sch = VPLinear()
    x0 = gm.sample(64, torch.Generator().manual_seed(8))
    g = torch.Generator().manual_seed(9)
    for kind in KINDS:
        loss = denoising_loss(gm.model(sch, kind), sch, x0, kind, generator=g)
        zero = denoising_loss(lambda x, t: torch.zeros_like(x), sch, x0, kind,
                              generator=g)
        assert loss.item() < 1e-2 * zero.item()


def test_bad_input():
    with pytest.raises(ValueError, match="beta_max must be a real number > 1, got 0.5"):
        VPLinear(1.0, 0.5)
    with pytest.raises(ValueError, match="beta_min must be a real number > 0"):
        VPLinear(0.0, 0.5)
    with pytest.raises(ValueError, match="sigma_max must be a real number > 1"):
        VE(1.0, 0.1)
    with pytest.raises(ValueError, match="s must be a real number > 0"):
        VPCosine(-0.1)
    with pytest.raises(ValueError, match=r"max_beta must be a real number > 0, < 1"):
        VPLinear().discretize(10, max_beta=1.0)
    with pytest.raises(ValueError, match="steps must be an int >= 1"):
        VPLinear().discretize(0)
    with pytest.raises(TypeError, match="T must be an int"):
        DiscreteSchedule.linear(T=2.5)
    with pytest.raises(ValueError, match="betas"):
        DiscreteSchedule(torch.tensor([0.5, 1.5]))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        VPLinear().alpha(1.5)
    with pytest.raises(ValueError, match="dst must be one of 'eps', 'score'"):
        convert(torch.zeros(2, 2), torch.zeros(2, 2), 0.5, VPLinear(), "eps", "flow")
    with pytest.raises(TypeError, match="schedule must be a NoiseSchedule, got str"):
        q_sample("vp", torch.zeros(2, 2), 0.5)
    gm = _gm()
    with pytest.raises(ValueError, match="eta must be a real number >= 0, <= 1"):
        ddim_sample(gm.model(VPLinear()), VPLinear(), torch.zeros(3, 2), eta=2.0)
    with pytest.raises(ValueError, match="variance must be one of 'posterior', 'large'"):
        ddpm_sample(gm.model(VPLinear()), VPLinear(), torch.zeros(3, 2), variance="small")
    with pytest.raises(ValueError, match="n must be an int >= 1"):
        gm.sample(0)
    with pytest.raises(TypeError, match="field must be callable"):
        as_flow_field(3)
    with pytest.raises(ValueError, match=r"t_end must be a real number >= 0, < "):
        ddpm_sample(gm.model(VPLinear()), VPLinear(), torch.zeros(3, 2), t_end=1.0)
    with pytest.raises(ValueError, match="needs a number of steps"):
        pf_ode_sample(gm.model(VPLinear()), VPLinear(), torch.zeros(3, 2),
                      method="rk4")
    with pytest.raises(ValueError, match="exactly one of covs and stds"):
        GaussianMixture(torch.zeros(2, 2))
    with pytest.raises(ValueError, match="positive definite"):
        GaussianMixture(torch.zeros(1, 2), torch.tensor([[[1.0, 2.0], [2.0, 1.0]]]))
    with pytest.raises(ValueError, match="shape"):
        gm.log_prob(torch.zeros(3, 5))


def test_training_times_range_given_times_and_shape_check():
    from papers_lib.diffusion import training_times
    sch, x0 = VPLinear(), torch.zeros(500, 2, dtype=torch.float64)
    t = training_times(sch, x0, generator=torch.Generator().manual_seed(0))
    assert t.shape == (500,) and t.dtype == torch.float64
    assert sch.t_min <= t.min() and t.max() <= sch.t_max and t.std() > 0.2
    given = torch.full((500,), 0.3)
    assert torch.equal(training_times(sch, x0, given), given.double())
    with pytest.raises(ValueError, match="t must have shape"):
        training_times(sch, x0, torch.ones(3))


def test_as_flow_field_runs_the_pf_ode_in_flow_time():
    """The one boundary between the clocks: u(s, x) = -v(1 - s, x), and the PF-ODE
    solved in flow time s = 1 - t lands where `pf_ode_sample` (diffusion time) does."""
    sch, gm = VPLinear(), _gm()
    eps = gm.model(sch, "eps")
    v = probability_flow(eps, sch)
    u = as_flow_field(v)
    x = torch.randn(5, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    s = torch.tensor(0.3, dtype=torch.float64)
    assert torch.equal(u(s, x), -v(1 - s, x))
    grid = 1 - torch.linspace(sch.t_max, sch.t_min, 21, dtype=torch.float64)
    from papers_lib.ode import odeint
    x_flow = odeint(u, x, grid, method="rk4")[-1]
    x_diff = pf_ode_sample(eps, sch, x, 20, method="rk4")
    assert torch.allclose(x_flow, x_diff, atol=1e-10)


def test_package_face_reexports_every_module_exactly():
    """papers_lib.diffusion lists each submodule's public names, and each resolves to
    the object its module defines."""
    import importlib
    import pkgutil

    import papers_lib.diffusion as diffusion
    for info in pkgutil.iter_modules(diffusion.__path__):
        mod = importlib.import_module(f"papers_lib.diffusion.{info.name}")
        mine = [n for n in diffusion.__all__ if n in mod.__all__]
        assert sorted(mine) == sorted(mod.__all__), info.name
        assert all(getattr(diffusion, n) is getattr(mod, n) for n in mine)


def test_q_sample_refuses_a_nan_time():
    from papers_lib.diffusion import VPLinear, q_sample
    with pytest.raises(ValueError, match=r"t must lie in \[0, 1\]"):
        q_sample(VPLinear(), torch.zeros(2, 3), torch.tensor([0.5, float("nan")]))


def test_samplers_start_no_later_than_the_schedules_t_max():
    """VPCosine has alpha(1) = 0: DDIM from t_start = 1 returned values near 2e16."""
    from papers_lib.diffusion import VPCosine, ddim_sample
    model = lambda x, t: torch.zeros_like(x)  # noqa: E731
    with pytest.raises(ValueError, match=r"t_start must be a real number >= 0, <= 0\.999"):
        ddim_sample(model, VPCosine(), torch.zeros(2, 2), 10, t_start=1.0)
    with pytest.raises(ValueError, match=r"t_end must be a real number >= 0, < 0\.5"):
        ddim_sample(model, VPCosine(), torch.zeros(2, 2), 10, t_start=0.5, t_end=0.5)
    x = ddim_sample(model, VPCosine(), torch.ones(2, 2), 10)
    assert bool(torch.isfinite(x).all()) and float(x.abs().max()) < 1e3
