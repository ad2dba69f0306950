"""papers_lib.run: GPU-cell detection and papers-run."""
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import torch

from papers_lib.run import is_gpu_cell, main, run_notebook


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
    assert set(record) == {"device", "torch", "cuda", "date", "wall_s"}


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
