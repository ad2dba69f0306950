"""`make bench` (benchmarks/): every section runs end to end at tiny sizes and its checks can
fail (its timings are not tested); the peers take the same steps as ours."""
import importlib
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
bench = importlib.import_module("optim_step")
ode_bench = importlib.import_module("ode_solvers")
ot_bench = importlib.import_module("ot_coupling")
imports_bench = importlib.import_module("import_time")
driver = importlib.import_module("bench")
CPU = torch.device("cpu")


def test_make_params_size_and_grads():
    params = bench.make_params(10_000, CPU)
    n = sum(p.numel() for p in params)
    assert 0.8 * 10_000 <= n <= 10_000 and len(params) == 20
    assert all(p.grad is not None and p.grad.shape == p.shape for p in params)
    with pytest.raises(ValueError, match="n_params"):
        bench.make_params(5, CPU)


def test_every_registered_optimizer_steps(capsys):
    rows = bench.run(2_000, CPU, warmup=1, repeats=1)
    assert [r["name"] for r in rows] == list(bench.OPTIMIZERS)
    for r in rows:
        if r["name"].startswith("torch") or r["name"] in ("AMSGrad", "Lion", "DiffGrad"):
            assert r["seconds"] is not None and r["seconds"] > 0, r["name"]
        if r["seconds"] is not None:
            assert r["ratio"] > 0 and r["x_floor"] > 0 and r["copy_seconds"] > 0
            assert ("peer_ratio" in r) == (r["name"] in bench.PEERS), r["name"]
    bench.report(rows, CPU)
    out = capsys.readouterr().out
    assert "x AdamW" in out and "x peer" in out and "pytorch_optimizer.Lion" in out


def test_registries_agree():
    assert set(bench.MOVED) == set(bench.OPTIMIZERS)
    assert set(bench.PEERS) <= set(bench.OPTIMIZERS)
    assert all(k >= 4 for k in bench.MOVED.values())  # at least read p, g; write p


def test_compiled_column_and_a_failed_compile_is_reported(capsys):
    rows = bench.run(2_000, CPU, warmup=1, repeats=1, names=["AMSGrad"], compile=True,
                     backend="eager")
    assert rows[0]["compiled_seconds"] > 0 and rows[0]["x_floor_compiled"] > 0

    def broken(gm, inputs):
        raise RuntimeError("this backend always fails")
    rows = bench.run(2_000, CPU, warmup=1, repeats=1, names=["Lion"], compile=True,
                     backend=broken)
    assert "always fails" in rows[0]["compile_error"] and rows[0]["seconds"] > 0
    bench.report(rows, CPU)
    assert "compile failed" in capsys.readouterr().out


@pytest.mark.parametrize("name", sorted(bench.PEERS))
def test_peer_takes_the_same_steps(name):
    """The peer is given the same hyper-parameters: equal iterates over three steps."""
    module, cls, kwargs, _ = bench.OPTIMIZERS[name]
    ours_cls = bench.load(module, cls)
    peer_cls = bench.load(*bench.PEERS[name][:2])
    if ours_cls is None or peer_cls is None:
        pytest.skip(f"{name} or its peer is not importable")
    a, b = bench.make_params(200, CPU), bench.make_params(200, CPU)
    ours, peer = ours_cls(a, **kwargs), peer_cls(b, **bench.PEERS[name][2])
    g = torch.Generator().manual_seed(1)
    for _ in range(3):
        for p, q in zip(a, b):
            p.grad = torch.randn(p.shape, generator=g)
            q.grad = p.grad.clone()
        ours.step()
        peer.step()
    for p, q in zip(a, b):
        torch.testing.assert_close(p.detach(), q.detach(), rtol=1e-5, atol=1e-6)


def test_optimizers_move_the_parameters():
    """A registered optimizer that silently did nothing would time as fast as it likes."""
    for name, (module, cls, kwargs, _) in bench.OPTIMIZERS.items():
        opt_cls = bench.load(module, cls)
        if opt_cls is None:
            continue
        params = bench.make_params(200, CPU)
        before = [p.detach().clone() for p in params]
        opt_cls(params, **kwargs).step()
        assert any(not torch.equal(a, p.detach()) for a, p in zip(before, params)), name


def test_ode_section(capsys):
    pytest.importorskip("torchdiffeq")
    rows = ode_bench.run(repeats=1, fields=["MLP field, batch 256 x 8"])
    assert [(r["field"], r["method"]) for r in rows] == [
        ("MLP field, batch 256 x 8", m) for m in ode_bench.METHODS]
    for r in rows:  # both solve the same problem to their tolerance
        assert r["ours_error"] < 1e-4 and r["torchdiffeq_error"] < 1e-4
        assert r["ours_nfe"] > 0 and r["ratio"] > 0
    ode_bench.report(rows)
    assert "torchdiffeq" in capsys.readouterr().out


def test_ode_reference_is_accurate():
    f, y0, t = ode_bench.FIELDS["stiff-ish linear, 32 x 16"]()
    a = f(0, torch.eye(16, dtype=torch.float64))   # the matrix A^T of y' = y A^T
    exact = torch.stack([y0 @ torch.linalg.matrix_exp(a * s) for s in t])
    # DOP853's rtol = atol = 1e-12 bounds the error per step; the global error it
    # accumulates depends on the CPU's floating-point kernels (1.5e-10 on one of ours).
    # The benchmark needs a reference far below the solvers' 1e-8 .. 1e-4 errors.
    torch.testing.assert_close(ode_bench.reference(f, y0, t), exact, rtol=0, atol=1e-9)


def test_ot_section(capsys):
    pytest.importorskip("ot")
    rows = ot_bench.run(sizes=(16,), repeats=1)
    assert [r["op"] for r in rows] == ["exact assignment", "Sinkhorn plan, eps=1"]
    assert all(r["agree"] and r["ratio"] > 0 for r in rows)
    ot_bench.report(rows)
    assert "ot.emd" in capsys.readouterr().out


def test_import_section(capsys):
    rows = imports_bench.run(runs=1, parts=["papers_lib.ode", "papers_lib.checks"])
    assert [r["part"] for r in rows] == ["papers_lib.ode", "papers_lib.checks"]
    assert rows[0]["seconds"] > 0 and "papers_lib.checks" in rows[0]["parts"]
    imports_bench.report(rows)
    assert "papers_lib.ode" in capsys.readouterr().out


def test_driver_runs_sections_and_fails_on_a_missed_goal(capsys, monkeypatch):
    assert driver.main(["--sections", "imports", "--import-runs", "1"]) == 0
    assert "== imports ==" in capsys.readouterr().out
    monkeypatch.setattr(ot_bench, "run", lambda *a, **k: [dict(
        op="exact assignment", n=8, peer="ot.emd", ours_seconds=2.0, peer_seconds=1.0,
        ratio=2.0, agree=True, detail="")])
    assert driver.main(["--sections", "ot"]) == 1
