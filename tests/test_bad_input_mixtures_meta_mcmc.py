"""Bad-input sweep of `papers_lib.mixtures.meta_mcmc` (chapter *Meta-learning MCMC
proposals*): each public name refuses an invalid argument with a message naming it."""
import torch

from papers_lib.mixtures.meta_mcmc import (BlockProposal, PriorProposal, block_kl_on_grid,
                                           block_mh_step, gibbs_sweep, gmm_log_joint,
                                           make_gmm, motif_log_marginal, run_sampler,
                                           sample_motifs, train_proposal)
from tests.bad_input import Case, check, parametrize

M = "papers_lib.mixtures.meta_mcmc."
X = torch.zeros(2, 5, dtype=torch.float64)
MASK = torch.ones(2, 5, dtype=torch.bool)
MU2 = torch.zeros(2, 2, dtype=torch.float64)
MU3 = torch.zeros(2, 3, dtype=torch.float64)
Z = torch.zeros(2, 5, dtype=torch.long)
GRID = torch.linspace(-5, 5, 11, dtype=torch.float64)

CASES = [
    Case(M + "motif_log_marginal", lambda: motif_log_marginal(MU3, X, MASK, 1.0),
         ValueError, r"mu must have shape"),
    Case(M + "motif_log_marginal", lambda: motif_log_marginal(MU2, X, MASK.long(), 1.0),
         ValueError, r"mask must be"),
    Case(M + "motif_log_marginal", lambda: motif_log_marginal(MU2, X, MASK, 0.0),
         ValueError, r"sigma must be"),
    Case(M + "motif_log_marginal", lambda: motif_log_marginal(MU2, X, MASK, 1.0, -1.0),
         ValueError, r"sigma0 must be"),
    Case(M + "sample_motifs", lambda: sample_motifs(0, 5), ValueError, r"batch must be"),
    Case(M + "sample_motifs", lambda: sample_motifs(2, -1), ValueError,
         r"max_points must be"),
    Case(M + "sample_motifs", lambda: sample_motifs(2, 5, 1.0, 0.5), ValueError,
         r"sigma_high must be"),
    Case(M + "BlockProposal", lambda: BlockProposal(hidden=0), ValueError,
         r"hidden must be"),
    Case(M + "BlockProposal", lambda: BlockProposal(components=0), ValueError,
         r"components must be"),
    Case(M + "BlockProposal", lambda: BlockProposal(sigma0=0.0), ValueError,
         r"sigma0 must be"),
    Case(M + "train_proposal", lambda: train_proposal(PriorProposal()), TypeError,
         r"model must be"),
    Case(M + "train_proposal", lambda: train_proposal(BlockProposal(), steps=0),
         ValueError, r"steps must be"),
    Case(M + "train_proposal", lambda: train_proposal(BlockProposal(), lr=-1.0),
         ValueError, r"lr must be"),
    Case(M + "block_kl_on_grid", lambda: block_kl_on_grid(PriorProposal(), X, MASK, 1.0,
                                                          GRID[:1]),
         ValueError, r"grid must hold"),
    Case(M + "gmm_log_joint", lambda: gmm_log_joint(X, MU3, Z + 3, 1.0), ValueError,
         r"z must be"),
    Case(M + "gmm_log_joint", lambda: gmm_log_joint(X, MU3[:, :1], Z, 1.0), ValueError,
         r"mu must hold"),
    Case(M + "make_gmm", lambda: make_gmm(2, 1, 5, 1.0), ValueError, r"K must be"),
    Case(M + "make_gmm", lambda: make_gmm(2, 3, 5, torch.ones(3, dtype=torch.float64)),
         ValueError, r"sigma must have"),
    Case(M + "gibbs_sweep", lambda: gibbs_sweep(X, MU3, Z[:1], 1.0), ValueError,
         r"must have the same leading size"),
    Case(M + "PriorProposal", lambda: PriorProposal(float("nan")), ValueError,
         r"sigma0 must be"),
    Case(M + "block_mh_step", lambda: block_mh_step(object(), X, MU3, Z, 1.0), TypeError,
         r"proposal must have"),
    Case(M + "run_sampler", lambda: run_sampler(X, MU3, 1.0, 0), ValueError,
         r"sweeps must be"),
    Case(M + "run_sampler", lambda: run_sampler(X, MU3, 1.0, 2, None, 1), ValueError,
         r"proposal must be given"),
]


@parametrize(CASES)
def test_bad_input(case):
    check(case)


def test_the_checks_leave_good_input_alone():
    g = torch.Generator().manual_seed(0)
    assert motif_log_marginal(MU2, X, MASK, 1.0).shape == (2,)
    x, mask, mu, s = sample_motifs(2, 5, generator=g)
    net = BlockProposal(hidden=4, components=1)
    assert net.log_prob(mu, x, mask, s).shape == (2,)
    assert train_proposal(net, steps=1, batch=2, max_points=3, generator=g).shape == (1,)
    assert block_kl_on_grid(net, x, mask, s, GRID).shape == (2,)
    xg, mug, zg = make_gmm(2, 3, 5, 1.0, generator=g)
    assert gmm_log_joint(xg, mug, zg, 1.0).shape == (2,)
    assert gibbs_sweep(xg, mug, zg, 1.0, generator=g)[1].shape == (2, 5)
    assert block_mh_step(PriorProposal(), xg, mug, zg, 1.0, generator=g)[2].shape == (2,)
    assert run_sampler(xg, mug, 1.0, 1, net, 1, generator=g)[0].shape == (2, 2)
