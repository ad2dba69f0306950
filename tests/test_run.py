"""papers_lib.run: GPU-cell detection and papers-run."""
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import torch

import papers_lib.run as run_module
from papers_lib.run import (gpu_output_status, is_gpu_cell, library_hashes, main,
                            run_notebook, source_sha256)


@pytest.mark.parametrize("src, expected", [
    ("#| gpu\nx = 1", True), ("#|gpu", True), ("  #|  gpu  \n", True),
    (["#| gpu\n", "x"], True), ("x = 1\n#| gpu", False), ("#| gpus", False),
    ("# | gpu", False), ("#| export\n#| gpu", False),
])
def test_is_gpu_cell(src, expected):
    assert is_gpu_cell({"cell_type": "code", "source": src}) is expected


def test_markdown_is_never_a_gpu_cell():
    assert not is_gpu_cell({"cell_type": "markdown", "source": "#| gpu"})


def _notebook(tmp_path, *sources):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    return path


def test_run_notebook_runs_cpu_cells_and_leaves_gpu_cells(tmp_path):
    path = _notebook(tmp_path, "import os; print(os.environ['PAPERS_QUIET'], 2 + 2)",
                     "#| gpu\nprint('never on a CPU')")
    counts = run_notebook(path)
    assert counts == {"cpu_run": 1, "gpu_run": 0, "gpu_skipped": 1}
    nb = nbformat.read(path, as_version=4)
    assert nb.cells[0].outputs[0]["text"] == "1 4\n"
    assert nb.cells[1].outputs == [] and "gpu_run" not in nb.cells[1].metadata


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal without CUDA")
def test_gpu_flag_needs_cuda_and_writes_nothing(tmp_path):
    path = _notebook(tmp_path, "print(1)")
    before = path.read_text()
    with pytest.raises(RuntimeError, match="needs a CUDA device"):
        run_notebook(path, gpu=True)
    assert path.read_text() == before


def test_failing_cell_writes_nothing(tmp_path, capsys):
    path = _notebook(tmp_path, "print('ok')", "1 / 0")
    before = path.read_text()
    assert main([str(path)]) == 1
    assert "ZeroDivisionError" in capsys.readouterr().err
    assert path.read_text() == before


def test_console_script_is_installed(tmp_path):
    exe = [sys.executable, "-c", "from papers_lib.run import main; raise SystemExit(main())"]
    out = subprocess.run(exe + ["--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "--gpu" in out.stdout
    out = subprocess.run(exe + [str(tmp_path / "missing.ipynb")], capture_output=True, text=True)
    assert out.returncode == 1 and "no notebook at" in out.stderr


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_gpu_run_records_device(tmp_path):
    path = _notebook(tmp_path, "x = 3", "#| gpu\nimport torch\nprint(torch.ones(x, device='cuda').sum().item())")
    assert run_notebook(path, gpu=True, keep_cpu_outputs=True)["gpu_run"] == 1
    cell = nbformat.read(path, as_version=4).cells[1]
    assert cell.outputs[0]["text"] == "3.0\n"
    record = cell.metadata["gpu_run"]
    assert record["device"] == torch.cuda.get_device_name() and record["wall_s"] >= 0
    assert set(record) == {"device", "torch", "cuda", "date", "wall_s", "source_sha256",
                           "library"}


def _stored(path, *outputs):
    """Store `outputs` (text printed, or None for no output) in the cells of `path`."""
    nb = nbformat.read(path, as_version=4)
    for cell, text in zip(nb.cells, outputs):
        cell.outputs = [] if text is None else [
            nbformat.v4.new_output("stream", name="stdout", text=text)]
    nbformat.write(nb, path)
    return path


def _nbval(*args):
    """Run the book's strict nbval (with the GPU-cell plugin) in a fresh pytest."""
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "tests.nbval_gpu",
                           "--nbval", "--nbval-current-env", "-p", "no:cacheprovider",
                           "-v", "-rs", *map(str, args)], capture_output=True, text=True,
                          cwd=Path(__file__).parents[1])


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the skip without CUDA")
def test_nbval_plugin_skips_gpu_cells_with_reason(tmp_path):
    """One nbval run of three notebooks: one that passes (its GPU cell skipped with the
    reason), and two that must fail because nbval is strict: a stored output that the run
    does not reproduce, and a cell that prints although its stored output is empty."""
    gpu = "#| gpu\nraise SystemExit('must not run')"
    paths = {}
    for name, stored in [("same", "1\n"), ("other", "2\n"), ("empty", None)]:
        (tmp_path / name).mkdir()
        paths[name] = _stored(_notebook(tmp_path / name, "print(1)", gpu), stored)
    out = _nbval(*paths.values())
    assert out.returncode == 1, out.stdout[-2000:]
    outcome = {name: re.search(rf"{name}/nb\S*::Cell 0 (\w+)", out.stdout)
               for name in paths}
    assert {k: m and m.group(1) for k, m in outcome.items()} == {
        "same": "PASSED", "other": "FAILED", "empty": "FAILED"}, out.stdout[-2000:]
    assert "3 skipped" in out.stdout and "needs a GPU" in out.stdout


def test_nbdev_test_skips_gpu_cells_unless_flagged(tmp_path):
    """settings.ini's `tst_flags = gpu`: nbdev_test skips `#| gpu` cells unless `--flags gpu`."""
    path = _notebook(tmp_path, "x = 1", "#| gpu\nraise RuntimeError('ran a GPU cell')")
    exe = Path(sys.executable).parent / "nbdev_test"
    root = Path(__file__).parents[1]
    ok = subprocess.run([exe, "--path", path], capture_output=True, text=True, cwd=root)
    assert ok.returncode == 0, ok.stderr[-2000:]
    flagged = subprocess.run([exe, "--path", path, "--flags", "gpu"], capture_output=True,
                             text=True, cwd=root)
    assert flagged.returncode != 0 and "ran a GPU cell" in flagged.stderr


def test_nbval_plugin_runs_gpu_cells_without_comparing_them_on_a_gpu_host(tmp_path):
    """With CUDA (faked in the pytest process), GPU cells run but their output is not compared."""
    path = _stored(_notebook(tmp_path, "print(1)", "#| gpu\nprint('a new run')"),
                   "1\n", "stored run\n")
    out = subprocess.run([sys.executable, "-m", "pytest", "-p", "tests.fake_cuda", "-p",
                          "tests.nbval_gpu", "--nbval", "--nbval-current-env", "-p",
                          "no:cacheprovider", str(path)], capture_output=True, text=True,
                         cwd=Path(__file__).parents[1])
    assert out.returncode == 0 and "2 passed" in out.stdout, out.stdout[-2000:]


def test_seed_offset_reaches_the_kernel_writes_nothing_and_fails_a_failing_claim(
        tmp_path, capsys):
    path = _notebook(tmp_path, "from papers_lib.claims import claim, seed\n"
                     "print(f'Claim s [reproduced]: seed {seed(3)} | m | t | theorem: x')\n"
                     "print('not a claim')\n"
                     "claim('c', 's', [seed(0)] * 3, op='<', threshold=1000, "
                     "source='theorem: x')")
    before = path.read_text()
    assert main([str(path), "--seed-offset", "500"]) == 0  # seed(0) = 500 < 1000
    out = capsys.readouterr().out
    assert "  Claim s [reproduced]: seed 503 | m | t | theorem: x" in out
    assert "not a claim" not in out and path.read_text() == before
    assert main([str(path), "--seed-offset", "1000"]) == 1  # 1000 < 1000 fails
    assert "ClaimFailed" in capsys.readouterr().err and path.read_text() == before
    with pytest.raises(ValueError, match="seed_offset"):
        run_notebook(path, seed_offset=-1)


@pytest.mark.skipif(__import__("platform").machine().lower() not in ("x86_64", "amd64"),
                    reason="the kernel pin is for x86-64")
def test_cpu_kernels_run_on_avx2_kernels_on_x86(tmp_path):
    """Stored CPU outputs are computed with AVX2 kernels, also on an AVX-512 machine."""
    path = _notebook(tmp_path, "import torch; print(torch.backends.cpu.get_cpu_capability())")
    run_notebook(path)
    assert nbformat.read(path, as_version=4).cells[0].outputs[0]["text"] == "AVX2\n"


def test_a_gpu_run_records_the_fingerprints_of_its_cell_and_library(tmp_path, monkeypatch):
    """With a stand-in device (the cell needs no CUDA), papers-run --gpu records the cell's
    SHA-256 and the papers_lib modules the kernel loaded, imports of imports included."""
    monkeypatch.setattr(run_module, "device_info", lambda: {
        "device": "Stand-in GPU", "torch": torch.__version__, "cuda": None})
    path = _notebook(tmp_path, "from papers_lib.checks import check_int",
                     "#| gpu\nfrom papers_lib.optim import AMSGrad\nprint(check_int(3, 'n'))")
    assert run_notebook(path, gpu=True)["gpu_run"] == 1
    nb = nbformat.read(path, as_version=4)
    assert len(nb.cells) == 2  # the probe cell is not kept
    cell = nb.cells[1]
    record = cell.metadata["gpu_run"]
    assert record["device"] == "Stand-in GPU" and cell.outputs[0]["text"] == "3\n"
    assert record["source_sha256"] == source_sha256(cell)
    assert {"papers_lib.checks", "papers_lib.optim.amsgrad",
            "papers_lib.optim.base"} <= set(record["library"])
    assert record["library"] == library_hashes(record["library"])
    assert gpu_output_status(cell) == ("current", [])


def test_gpu_output_status_tells_an_edited_cell_from_a_changed_library(tmp_path):
    pkg = tmp_path / "papers_lib"
    (pkg / "optim").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "optim" / "__init__.py").write_text("")
    (pkg / "optim" / "lion.py").write_text("x = 1\n")
    mods = ["papers_lib", "papers_lib.optim", "papers_lib.optim.lion"]
    src = "#| gpu\nrun()"
    cell = nbformat.v4.new_code_cell(src)
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="done\n")]
    cell.metadata["gpu_run"] = {"source_sha256": source_sha256(cell),
                                "library": library_hashes(mods, pkg)}
    assert gpu_output_status(cell, pkg) == ("current", [])
    (pkg / "optim" / "lion.py").write_text("x = 2\n")
    assert gpu_output_status(cell, pkg) == ("library changed", ["papers_lib.optim.lion"])
    cell.source = src + "  # edited"
    assert gpu_output_status(cell, pkg) == ("source changed", [])
    del cell.metadata["gpu_run"]["source_sha256"]
    assert gpu_output_status(cell, pkg) == ("unrecorded", [])
    cell.outputs = []
    assert gpu_output_status(cell, pkg) == ("not run", [])
    with pytest.raises(ValueError, match="must be a GPU cell"):
        gpu_output_status(nbformat.v4.new_code_cell("x = 1"))


def _book_notebooks():
    return sorted((Path(__file__).parents[1] / "nbs").rglob("*.ipynb"))


def test_no_stored_gpu_output_belongs_to_an_edited_cell():
    """A GPU cell edited after its stored output was made must be re-run on a GPU, restored,
    or cleared; an output with no fingerprints cannot be checked and is refused too."""
    bad, checked = [], 0
    for path in _book_notebooks():
        for cell in nbformat.read(path, as_version=4).cells:
            if is_gpu_cell(cell) and cell.get("outputs"):
                checked += 1
                status, _ = gpu_output_status(cell)
                if status in ("source changed", "unrecorded"):
                    bad.append(f"{path.name} {cell.get('id')}: {status}")
    assert checked >= 1 and not bad, bad


def _two_chapters(tmp_path):
    paths = []
    for k in (1, 2):
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(f"print({k} * 21)"),
                    nbformat.v4.new_code_cell("#| gpu\nprint('not on a CPU')")]
        paths.append(tmp_path / f"chapter{k}.ipynb")
        nbformat.write(nb, paths[-1])
    return paths


def _outputs(path):
    return [c.outputs for c in nbformat.read(path, as_version=4).cells]


def test_slurm_dispatch_through_submitits_local_executor_writes_outputs_back(
        tmp_path, capsys):
    """`papers-run --cluster local`: the --slurm code path (one submitit job per chapter,
    wait, outputs written back) on submitit's local executor."""
    pytest.importorskip("submitit")
    paths = _two_chapters(tmp_path)
    logs = tmp_path / "logs"
    assert main([*map(str, paths), "--cluster", "local", "--logs", str(logs)]) == 0
    for k, path in enumerate(paths, 1):
        cpu, gpu = _outputs(path)
        assert cpu[0]["text"] == f"{k * 21}\n" and gpu == []
    out = capsys.readouterr().out
    assert out.count("1 CPU cells, 0 GPU cells run, 1 GPU cells skipped (local job)") == 2
    assert any(logs.iterdir())  # submitit kept the jobs' logs


def test_slurm_dispatch_reports_a_failing_chapter(tmp_path, capsys):
    pytest.importorskip("submitit")
    path = _notebook(tmp_path, "1 / 0")
    assert main([str(path), "--cluster", "local", "--logs", str(tmp_path / "logs")]) == 1
    assert "ZeroDivisionError" in capsys.readouterr().err


def test_jobs_runs_chapters_side_by_side_and_writes_outputs_back(tmp_path, capfd):
    paths = _two_chapters(tmp_path)
    assert main([*map(str, paths), "--jobs", "2"]) == 0
    for k, path in enumerate(paths, 1):
        assert _outputs(path)[0][0]["text"] == f"{k * 21}\n"
    assert capfd.readouterr().out.count("papers-run: ") == 2
    with pytest.raises(SystemExit):
        main([*map(str, paths), "--jobs", "0"])
