"""The optimizer step-time benchmark runs end to end on a tiny model (its timings are not tested)."""
import importlib.util
from pathlib import Path

import pytest
import torch

_path = Path(__file__).resolve().parents[1] / "benchmarks" / "optim_step.py"
_spec = importlib.util.spec_from_file_location("optim_step", _path)
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


def test_make_params_size_and_grads():
    params = bench.make_params(10_000, torch.device("cpu"))
    n = sum(p.numel() for p in params)
    assert 0.8 * 10_000 <= n <= 10_000 and len(params) == 20
    assert all(p.grad is not None and p.grad.shape == p.shape for p in params)
    with pytest.raises(ValueError, match="n_params"):
        bench.make_params(5, torch.device("cpu"))


def test_every_registered_optimizer_steps(capsys):
    rows = bench.run(2_000, torch.device("cpu"), warmup=1, repeats=1)
    assert [r["name"] for r in rows] == list(bench.OPTIMIZERS)
    for r in rows:
        if r["name"].startswith("torch") or r["name"] in ("AMSGrad", "Lion", "DiffGrad"):
            assert r["seconds"] is not None and r["seconds"] > 0, r["name"]
    bench.report(rows, torch.device("cpu"))
    out = capsys.readouterr().out
    assert "x AdamW" in out and "AMSGrad" in out


def test_optimizers_move_the_parameters():
    """A registered optimizer that silently did nothing would time as fast as it likes."""
    for name, (module, cls, kwargs, _) in bench.OPTIMIZERS.items():
        try:
            opt_cls = getattr(importlib.import_module(module), cls)
        except (ImportError, AttributeError):
            continue
        params = bench.make_params(200, torch.device("cpu"))
        before = [p.detach().clone() for p in params]
        opt_cls(params, **kwargs).step()
        assert any(not torch.equal(a, p.detach()) for a, p in zip(before, params)), name
