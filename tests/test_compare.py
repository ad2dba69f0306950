"""papers_lib.optim.compare: the learning-rate grid, scores, batched runs and the protocol."""
import math

import pytest
import torch

from papers_lib.optim.compare import (Contender, Problem, Trace, compare, lr_grid,
                                      run_batch, tune)
from papers_lib.optim.dog import DoG
from papers_lib.optim.problems import Quadratic


def test_lr_grid_is_log_spaced_and_centred():
    g = lr_grid(1e-2, points=7, decades=3.0)
    assert len(g) == 7
    assert math.isclose(g[3], 1e-2) and math.isclose(g[0], 10**-3.5) and math.isclose(g[-1], 10**-0.5)
    ratios = [b / a for a, b in zip(g, g[1:])]
    assert all(math.isclose(r, 10**0.5) for r in ratios)
    assert lr_grid(None) == [None] and lr_grid(0.1, points=1) == [0.1]
    for bad in (0.0, -1.0, float("inf")):
        with pytest.raises(ValueError, match="lr must be a (finite )?real number > 0"):
            lr_grid(bad)
    with pytest.raises(TypeError, match="lr must be a real number, got '0.1'"):
        lr_grid("0.1")
    with pytest.raises(ValueError, match="points must be an int >= 1"):
        lr_grid(0.1, points=0)


def test_trace_score_is_the_tail_mean_and_inf_on_divergence():
    t = Trace(torch.arange(10.0), 0.0)
    assert t.score == pytest.approx(8.5)               # mean of the last fifth: 8, 9
    assert Trace(torch.tensor([1.0, float("nan"), 0.5]), 0.0).score == math.inf
    assert Trace(torch.tensor([1.0, float("inf")]), 0.0).score == math.inf


def _quadratic(seed):
    q = Quadratic(dim=5, condition=10.0, noise=0.5, seed=seed, dtype=torch.float64)
    x = torch.zeros(5, dtype=torch.float64, requires_grad=True)
    return [x], lambda: q(x)


QUAD = Problem("quad", _quadratic, 25)
ADAM = Contender("Adam", lambda p, lr, n: torch.optim.Adam(p, lr=lr), 1e-2)
DOG = Contender("DoG", lambda p, lr, n: DoG(p), None)


@pytest.mark.parametrize("contender, settings", [
    (ADAM, [(1e-3, 0), (1e-2, 0), (1e-1, 1)]),
    (DOG, [(None, 0), (None, 1), (None, 2)])])
def test_batched_runs_equal_runs_made_one_at_a_time(contender, settings):
    together = run_batch(QUAD, contender, settings)
    for trace, setting in zip(together, settings):
        alone, = run_batch(QUAD, contender, [setting])
        torch.testing.assert_close(trace.losses, alone.losses, rtol=0, atol=1e-12)
        assert (trace.lr, trace.seed) == setting


def test_run_batch_passes_the_run_length_and_refuses_no_settings():
    seen = []

    def make(p, lr, n):
        seen.append(n)
        return torch.optim.SGD(p, lr=lr)

    run_batch(QUAD, Contender("SGD", make, 1e-2), [(1e-2, 0)])
    assert seen == [25]
    with pytest.raises(ValueError, match="settings"):
        run_batch(QUAD, ADAM, [])


def test_tune_picks_the_lowest_score_and_flags_the_edge():
    lr, edge, scores = tune(QUAD, ADAM, points=5, decades=4.0)
    assert scores[lr] == min(scores.values()) and len(scores) == 5
    assert edge == (lr in (min(scores), max(scores)))
    lr, edge, scores = tune(QUAD, DOG)
    assert lr is None and edge is False and list(scores) == [None]


def test_compare_protocol_and_bad_seeds():
    results = compare([QUAD], [ADAM, DOG], eval_seeds=(1, 2), points=3)
    assert [r.contender for r in results] == ["Adam", "DoG"]
    for r in results:
        assert [t.seed for t in r.traces] == [1, 2]
        assert r.score == pytest.approx(sum(t.score for t in r.traces) / 2)
        assert all(t.lr == r.lr for t in r.traces)
    with pytest.raises(ValueError, match="tuning_seed must not be one of eval_seeds"):
        compare([QUAD], [ADAM], eval_seeds=(0, 1), tuning_seed=0)
    with pytest.raises(ValueError, match="eval_seeds must hold at least one seed"):
        compare([QUAD], [ADAM], eval_seeds=())
