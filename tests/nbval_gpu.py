"""pytest plugin for the notebook tests (`pytest -p tests.nbval_gpu --nbval ...`).

- Kernels start with the environment that `papers-run` gives them when it stores CPU outputs,
  `papers_lib.run.kernel_env()`: progress bars off, the inline matplotlib backend, seed offset 0
  (whatever the caller's environment says), one thread, torch's AVX2 kernels on x86-64.
- nbdev_clean stores notebooks without execution counts, and nbval takes a cell without one for
  "unrun" and would not compare it. Every stored notebook here is a complete run (papers-run
  writes it), so each CPU cell is marked as run: its stored outputs, empty or not, are the reference.
- GPU cells (first line `#| gpu`) are skipped with the reason "needs a GPU" when CUDA is absent.
  With CUDA they run, but their outputs are not compared: they are timings and results of
  paper-scale runs that differ from one GPU (and one run) to the next.
"""
import os

import pytest

from papers_lib.run import is_gpu_cell, kernel_env

KERNEL_ENV = kernel_env()


def pytest_configure(config):
    os.environ.update(KERNEL_ENV)  # nbval's kernels inherit this process's environment


def _cuda() -> bool:
    import torch
    return torch.cuda.is_available()


def pytest_collection_modifyitems(config, items):
    cuda = None
    for item in items:
        cell = getattr(item, "cell", None)
        if cell is None:
            continue
        cell.execution_count = cell.execution_count or 1  # compare even empty outputs
        if not is_gpu_cell(cell):
            continue
        cuda = _cuda() if cuda is None else cuda
        if cuda:
            item.options["check"] = False
        else:
            item.add_marker(pytest.mark.skip(reason="needs a GPU"))
