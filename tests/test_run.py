"""papers_lib.run: GPU-cell detection and papers-run."""
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


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the skip without CUDA")
def test_nbval_plugin_skips_gpu_cells_with_reason(tmp_path):
    path = _notebook(tmp_path, "print(1)", "#| gpu\nraise SystemExit('must not run')")
    nb = nbformat.read(path, as_version=4)
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n")]
    nbformat.write(nb, path)
    out = subprocess.run([sys.executable, "-m", "pytest", "-p", "tests.nbval_gpu", "--nbval",
                          "--nbval-current-env", "-rs", "-p", "no:cacheprovider", str(path)],
                         capture_output=True, text=True, cwd=Path(__file__).parents[1])
    assert out.returncode == 0, out.stdout[-2000:]
    assert "1 passed, 1 skipped" in out.stdout and "needs a GPU" in out.stdout
    # strict: a stored output that the run does not reproduce fails, and so does a cell
    # that prints although its stored output is empty
    for stored in ([nbformat.v4.new_output("stream", name="stdout", text="2\n")], []):
        nb.cells[0].outputs = stored
        nbformat.write(nb, path)
        out = subprocess.run([sys.executable, "-m", "pytest", "-p", "tests.nbval_gpu",
                              "--nbval", "--nbval-current-env", "-p", "no:cacheprovider",
                              str(path)], capture_output=True, text=True,
                             cwd=Path(__file__).parents[1])
        assert out.returncode == 1 and "1 failed" in out.stdout, out.stdout[-2000:]


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
    path = _notebook(tmp_path, "print(1)", "#| gpu\nprint('a new run')")
    nb = nbformat.read(path, as_version=4)
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n")]
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="stored run\n")]
    nbformat.write(nb, path)
    out = subprocess.run([sys.executable, "-m", "pytest", "-p", "tests.fake_cuda", "-p",
                          "tests.nbval_gpu", "--nbval", "--nbval-current-env", "-p",
                          "no:cacheprovider", str(path)], capture_output=True, text=True,
                         cwd=Path(__file__).parents[1])
    assert out.returncode == 0 and "2 passed" in out.stdout, out.stdout[-2000:]


def test_seed_offset_reaches_the_kernel_and_writes_nothing(tmp_path, capsys):
    path = _notebook(tmp_path, "from papers_lib.claims import seed\n"
                     "print(f'Claim s [reproduced]: seed {seed(3)} | m | t | theorem: x')\n"
                     "print('not a claim')")
    before = path.read_text()
    counts = run_notebook(path, seed_offset=1000)
    assert counts["claims"] == ["Claim s [reproduced]: seed 1003 | m | t | theorem: x"]
    assert path.read_text() == before
    assert main([str(path), "--seed-offset", "2000"]) == 0
    assert "  Claim s [reproduced]: seed 2003" in capsys.readouterr().out
    with pytest.raises(ValueError, match="seed_offset"):
        run_notebook(path, seed_offset=-1)


def test_seed_offset_run_fails_when_a_claim_fails(tmp_path, capsys):
    path = _notebook(tmp_path, "from papers_lib.claims import claim, seed\n"
                     "claim('c', 's', [seed(0)] * 3, op='<', threshold=10, "
                     "source='theorem: x')")
    assert main([str(path)]) == 0  # offset 0: seed(0) = 0 < 10
    assert main([str(path), "--seed-offset", "100"]) == 1  # 100 < 10 fails
    assert "ClaimFailed" in capsys.readouterr().err


@pytest.mark.skipif(__import__("platform").machine().lower() not in ("x86_64", "amd64"),
                    reason="the kernel pin is for x86-64")
def test_cpu_kernels_run_on_avx2_kernels_on_x86(tmp_path):
    """Stored CPU outputs are computed with AVX2 kernels, also on an AVX-512 machine."""
    path = _notebook(tmp_path, "import torch; print(torch.backends.cpu.get_cpu_capability())")
    run_notebook(path)
    assert nbformat.read(path, as_version=4).cells[0].outputs[0]["text"] == "AVX2\n"
