"""Brute-force marginals, the Ising energy, the MaM's losses and the ARM chain rule of
the chapter *Generative marginalization models*
(`papers_lib.mixtures.marginalization`)."""
import itertools

import numpy as np
import torch
from scipy.special import logsumexp

from papers_lib.mixtures.marginalization import (
    MarginalizationModel, arm_log_marginal, energy_loss, exact_conditionals,
    exact_log_marginals, fit_energy_mam, ising_energy, random_partial,
    self_consistency_loss)
from papers_lib.mixtures.toolkit import all_binary_states


def _table(n=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.log_softmax(torch.randn(2 ** n, generator=g, dtype=torch.float64), 0)


def test_exact_marginals_match_numpy_sums():
    lp = _table(4)
    p = lp.exp().numpy().reshape(2, 2, 2, 2)
    rows = torch.tensor(list(itertools.product((-1, 0, 1), repeat=4)))
    got = exact_log_marginals(lp, rows)
    for r, v in zip(rows.tolist(), got.tolist()):
        idx = tuple(slice(None) if a < 0 else a for a in r)
        assert abs(np.log(p[idx].sum()) - v) < 1e-10


def test_conditionals_and_chain_rule():
    lp = _table(4, 1)
    x = torch.randint(2, (30, 4), generator=torch.Generator().manual_seed(2))
    part, idx = random_partial(x, torch.Generator().manual_seed(3))
    c = exact_conditionals(lp, part)
    assert torch.allclose(torch.logsumexp(c, -1), torch.zeros(30, 4, dtype=lp.dtype))
    val, calls = arm_log_marginal(lambda q: exact_conditionals(lp, q), part)
    assert torch.allclose(val, exact_log_marginals(lp, part), atol=1e-10)
    assert torch.equal(calls, (part >= 0).sum(-1))


def test_ising_energy_against_loop():
    x = all_binary_states(6)
    e = ising_energy(x, 3, 2, coupling=0.7, field=-0.2)
    for row, ev in zip(x.tolist(), e.tolist()):
        s = np.array(row).reshape(3, 2) * 2 - 1
        pair = (s[1:] * s[:-1]).sum() + (s[:, 1:] * s[:, :-1]).sum()
        assert abs(-0.7 * pair + 0.2 * s.sum() - ev) < 1e-12
    lz = torch.logsumexp(-e, 0).item()
    assert abs(lz - logsumexp(-e.numpy())) < 1e-12


def test_random_partial_properties():
    x = torch.randint(2, (500, 6), generator=torch.Generator().manual_seed(4))
    part, idx = random_partial(x, torch.Generator().manual_seed(5))
    assert (part[torch.arange(500), idx] == -1).all()
    assert ((part == x) | (part == -1)).all()
    assert set((part >= 0).sum(-1).tolist()) == set(range(6))


def test_losses_vanish_on_exact_marginals_and_not_otherwise():
    lp = _table(3, 6)

    class Table(MarginalizationModel):
        def forward(self, partial):
            return exact_log_marginals(lp, partial).float()

    m = Table(3, hidden=2)
    x = all_binary_states(3).repeat(4, 1)
    part, idx = random_partial(x, torch.Generator().manual_seed(7))
    assert self_consistency_loss(m, part, idx).item() < 1e-10
    assert energy_loss(m, x, lp[(x * torch.tensor([4, 2, 1])).sum(-1)] - 2.0) < 1e-10
    assert abs(m.log_z.item() + 2.0) < 1e-6
    r = MarginalizationModel(3, 8, generator=torch.Generator().manual_seed(0))
    assert self_consistency_loss(r, part, idx).item() > 1e-6
    assert abs(r(torch.full((2, 3), -1)).abs().max().item()) < 1e-6


def test_training_reduces_loss_and_fits_a_tiny_target():
    def target(x):
        return -ising_energy(x, 2, 2, 0.5, 0.2)
    g = torch.Generator().manual_seed(0)
    m, hist = fit_energy_mam(target, 4, steps=150, batch=32, hidden=32, generator=g)
    assert hist[-20:].sum(1).mean() < hist[:20].sum(1).mean()
    st = all_binary_states(4)
    lp = target(st) - torch.logsumexp(target(st), 0)
    with torch.no_grad():
        f = m(st).double()
    q = f - torch.logsumexp(f, 0)
    assert (lp.exp() * (lp - q)).sum().item() < 0.05


def test_gradients_flow():
    m = MarginalizationModel(3, 8, generator=torch.Generator().manual_seed(1))
    x = all_binary_states(3)
    part, idx = random_partial(x, torch.Generator().manual_seed(2))
    loss = self_consistency_loss(m, part, idx) + energy_loss(m, x, torch.randn(8))
    loss.backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all()
               for p in m.parameters())
