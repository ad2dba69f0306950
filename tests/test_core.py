"""papers_lib.core: seeding, device, training loop, figures."""
import os

import matplotlib
import pytest
import torch

matplotlib.use("Agg")

from papers_lib.core import default_device, figure, progress, quiet, scatter2d, set_seed, train


def test_set_seed_reproduces_all_generators():
    import random

    import numpy as np
    g = set_seed(3)
    first = (random.random(), np.random.rand(), torch.rand(2), torch.rand(2, generator=g))
    g = set_seed(3)
    second = (random.random(), np.random.rand(), torch.rand(2), torch.rand(2, generator=g))
    assert first[0] == second[0] and first[1] == second[1]
    assert torch.equal(first[2], second[2]) and torch.equal(first[3], second[3])
    set_seed(4)
    assert not torch.equal(torch.rand(2), first[2])


@pytest.mark.parametrize("bad, err", [(-1, ValueError), (1.5, TypeError),
                                      ("0", TypeError), (True, TypeError)])
def test_set_seed_rejects_bad_seeds(bad, err):
    with pytest.raises(err, match="seed must be an int"):
        set_seed(bad)


def test_default_device_matches_cuda():
    assert default_device().type == ("cuda" if torch.cuda.is_available() else "cpu")


def test_quiet_follows_environment(monkeypatch):
    monkeypatch.setenv("PAPERS_QUIET", "1")
    assert quiet() and progress(range(3)).disable
    monkeypatch.setenv("PAPERS_QUIET", "0")
    assert not quiet()
    assert not progress(range(3), disable=False).disable


def test_train_solves_least_squares_like_closed_form():
    g = set_seed(0)
    X, w_true = torch.randn(128, 4, generator=g, dtype=torch.float64), torch.arange(4.0).double()
    y = X @ w_true + 0.01 * torch.randn(128, generator=g, dtype=torch.float64)
    w_star = torch.linalg.lstsq(X, y).solution  # the reference: the normal equations
    w = torch.zeros(4, dtype=torch.float64, requires_grad=True)
    losses = train(lambda: ((X @ w - y) ** 2).mean(), torch.optim.SGD([w], lr=0.2), 300,
                   disable=True)
    assert losses.shape == (300,) and losses[-1] < losses[0]
    torch.testing.assert_close(w.detach(), w_star, atol=1e-6, rtol=0)


def test_train_clips_gradients_and_steps_scheduler():
    w = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([w], lr=1.0)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    train(lambda: (1000.0 * w).sum(), opt, 2, scheduler=sched, clip_norm=1.0, disable=True)
    # two clipped steps of norm 1, with lr 1 then 0.5
    torch.testing.assert_close(w.detach(), torch.tensor([-1.5]))
    assert opt.param_groups[0]["lr"] == 0.25


def test_train_bad_input():
    w = torch.zeros(2, requires_grad=True)
    opt = torch.optim.SGD([w], lr=0.1)
    with pytest.raises(TypeError, match="Optimizer"):
        train(lambda: w.sum(), [w], 1)
    with pytest.raises(TypeError, match="callable"):
        train(w.sum(), opt, 1)
    with pytest.raises(ValueError, match="steps must be an int >= 0"):
        train(lambda: w.sum(), opt, -1)
    with pytest.raises(ValueError, match="scalar"):
        train(lambda: w * 2, opt, 1, disable=True)


def test_figure_and_scatter2d():
    fig, axes = figure(3)
    assert len(axes) == 3
    scatter2d(axes[0], torch.zeros(5, 2), "zeros")
    assert axes[0].get_title() == "zeros"
    with pytest.raises(ValueError, match=r"\(n, 2\)"):
        scatter2d(axes[1], torch.zeros(5, 3))
    fig, ax = figure()
    assert not hasattr(ax, "__len__")


def test_mlp_layers_widths_and_bad_input():
    from torch import nn
    from papers_lib.core import mlp
    net = mlp(3, 2, hidden=5, depth=2, act=nn.Tanh)
    kinds = [type(m).__name__ for m in net]
    assert kinds == ["Linear", "Tanh", "Linear", "Tanh", "Linear"]
    assert [(m.in_features, m.out_features) for m in net if isinstance(m, nn.Linear)] == [
        (3, 5), (5, 5), (5, 2)]
    lin = mlp(4, 1, depth=0)
    assert len(lin) == 1 and lin[0].in_features == 4
    with pytest.raises(ValueError, match="hidden must be an int >= 1, got 0"):
        mlp(3, 2, hidden=0)
    with pytest.raises(ValueError, match="depth must be an int >= 0"):
        mlp(3, 2, depth=-1)
    with pytest.raises(TypeError, match="d_out must be an int, got 2.5"):
        mlp(3, 2.5)


def test_importing_a_part_pays_only_for_what_is_used():
    """The part packages are lazy faces (`lazy_exports`): importing one imports none of
    its chapters' modules, and scipy.optimize (0.3 s) waits until an assignment is solved."""
    import subprocess
    import sys
    code = (
        "import sys\n"
        "import papers_lib.optim, papers_lib.flows, papers_lib.diffusion\n"
        "import papers_lib.flows.multisample, papers_lib.analysis.rebasin\n"
        "eager = sorted(m for m in sys.modules if m.startswith(('papers_lib.optim.',\n"
        "    'papers_lib.diffusion.')) or m == 'scipy.optimize')\n"
        "print(eager)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"
