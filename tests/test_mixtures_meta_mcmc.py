"""The motif conditional, the proposal network and the samplers of the chapter
*Meta-learning MCMC proposals* (`papers_lib.mixtures.meta_mcmc`)."""
import itertools
import math

import torch
from scipy import stats

from papers_lib.mixtures.meta_mcmc import (BlockProposal, PriorProposal, block_kl_on_grid,
                                           block_mh_step, gibbs_sweep, gmm_log_joint,
                                           make_gmm, motif_log_marginal, run_sampler,
                                           sample_motifs, train_proposal)


def test_motif_marginal_is_the_sum_over_assignments():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(1, 6, generator=g, dtype=torch.float64) * 4
    mask = torch.tensor([[True, True, False, True, True, True]])
    mu = torch.tensor([[0.5, -2.0]], dtype=torch.float64)
    xs = x[0][mask[0]].numpy()
    total = []
    for zs in itertools.product((0, 1), repeat=len(xs)):
        lp = stats.norm(0, 5).logpdf(mu[0].numpy()).sum()
        lp += sum(stats.norm(mu[0, k].item(), 0.7).logpdf(v) - math.log(2)
                  for k, v in zip(zs, xs))
        total.append(lp)
    brute = torch.logsumexp(torch.tensor(total, dtype=torch.float64), 0)
    assert abs(brute - motif_log_marginal(mu, x, mask, 0.7)[0]) < 1e-9


def test_gmm_log_joint_against_scipy():
    x, mu, z = make_gmm(2, 3, 10, 0.8, generator=torch.Generator().manual_seed(0))
    b = 1
    ref = stats.norm(0, 5).logpdf(mu[b].numpy()).sum() + sum(
        stats.norm(mu[b, z[b, i]].item(), 0.8).logpdf(x[b, i].item()) - math.log(3)
        for i in range(10))
    assert abs(gmm_log_joint(x, mu, z, 0.8)[b].item() - ref) < 1e-9


def test_gibbs_assignment_frequencies():
    x = torch.tensor([[0.3]], dtype=torch.float64).expand(20000, 1)
    mu = torch.tensor([[0.0, 1.0, -1.5]], dtype=torch.float64).expand(20000, 3)
    z = torch.zeros(20000, 1, dtype=torch.long)
    _, z2 = gibbs_sweep(x, mu, z, 1.0, generator=torch.Generator().manual_seed(0))
    p = torch.softmax(-0.5 * (0.3 - mu[0]) ** 2, 0)
    freq = torch.bincount(z2[:, 0], minlength=3).double() / 20000
    assert torch.allclose(freq, p, atol=0.015)


def test_proposal_density_and_sampling():
    torch.manual_seed(0)
    net = BlockProposal(hidden=8, components=2)
    x, mask, _, s = sample_motifs(1, 5, generator=torch.Generator().manual_seed(0))
    grid = torch.linspace(-30, 30, 121, dtype=torch.float64)
    GA, GB = torch.meshgrid(grid, grid, indexing="ij")
    pts = torch.stack([GA.flatten(), GB.flatten()], -1)
    with torch.no_grad():
        lq = net.log_prob(pts, x.expand(len(pts), -1), mask.expand(len(pts), -1),
                          s.expand(len(pts)))
    assert abs((lq.exp() * (grid[1] - grid[0]) ** 2).sum().item() - 1) < 0.01
    d = net.sample(x.expand(4000, -1), mask.expand(4000, -1), s.expand(4000),
                   torch.Generator().manual_seed(0))
    # symmetrised: both coordinates have the same law
    assert abs(d[:, 0].mean() - d[:, 1].mean()) < 0.2


def test_training_lowers_the_kl():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)                     # tiny batches: threads only cost
    try:
        _train_and_compare()
    finally:
        torch.set_num_threads(threads)


def _train_and_compare():
    # held-out -E log q(mu | x_S) is E KL(p || q) plus a constant: it must fall
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    net = BlockProposal(hidden=16, components=2)
    xh, mh, muh, sh = sample_motifs(400, 10, generator=torch.Generator().manual_seed(9))
    with torch.no_grad():
        before = -net.log_prob(muh, xh, mh, sh).mean()
    losses = train_proposal(net, steps=150, batch=32, max_points=10, generator=g)
    with torch.no_grad():
        after = -net.log_prob(muh, xh, mh, sh).mean()
    assert losses[-20:].mean() < losses[:20].mean() and after < before - 0.3
    grid = torch.linspace(-20, 20, 81, dtype=torch.float64)
    x0, m0 = xh[:3] * 0, torch.zeros(3, 10, dtype=torch.bool)   # empty blocks: the prior
    assert block_kl_on_grid(net, x0, m0, sh[:3], grid).min() >= -1e-3


def test_block_mh_targets_the_motif_posterior():
    x = torch.tensor([[-3.0, -2.5, 2.0, 3.0]], dtype=torch.float64)
    B = 1500
    mu = torch.zeros(B, 2, dtype=torch.float64)
    z = torch.zeros(B, 4, dtype=torch.long)
    g = torch.Generator().manual_seed(0)
    for _ in range(40):
        mu, z, acc, m = block_mh_step(PriorProposal(), x.expand(B, -1), mu, z, 1.0,
                                      generator=g)
    assert bool((m == 4).all())
    grid = torch.linspace(-20, 20, 121, dtype=torch.float64)
    GA, GB = torch.meshgrid(grid, grid, indexing="ij")
    pts = torch.stack([GA.flatten(), GB.flatten()], -1)
    w = torch.softmax(motif_log_marginal(pts, x.expand(len(pts), -1),
                                         torch.ones(len(pts), 4, dtype=torch.bool), 1.0), 0)
    exact = (w * pts.max(-1).values).sum()
    assert abs(mu.max(-1).values.mean() - exact) < 0.15


def test_run_sampler_shapes_and_determinism():
    x, _, _ = make_gmm(3, 4, 30, 1.0, generator=torch.Generator().manual_seed(0))
    mu0 = torch.zeros(3, 4, dtype=torch.float64)
    run = lambda s: run_sampler(x, mu0, 1.0, 4, PriorProposal(), 2,
                                generator=torch.Generator().manual_seed(s))
    a, b, c = run(1), run(1), run(2)
    assert a[0].shape == (3, 5) and torch.equal(a[0], b[0]) and not torch.equal(a[0], c[0])
    assert torch.equal(a[1][:, 0], torch.full((3,), 30.0, dtype=torch.float64))
