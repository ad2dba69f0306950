"""pytest plugin: what each test file costs (`pytest -p tests.cost_report ...`).

For every file that the run collected (a notebook under nbval, a module under `tests/`) it adds
the durations of its items (setup, call and teardown) and, at the end of the run, prints one line
per file, the most expensive first, and the total. Durations are wall seconds of the worker
that ran the file; the notebooks' kernels run single-threaded, so on a quiet machine a
notebook's figure is its CPU time. `--cost-json PATH` also writes the figures as JSON
(`{"files": {path: seconds}, "total": seconds}`), for budgets and trends.
"""
import json
from collections import defaultdict
from pathlib import Path

_COSTS: dict = defaultdict(float)


def pytest_addoption(parser):
    parser.addoption("--cost-json", default=None, metavar="PATH",
                     help="write the seconds spent per test file to PATH (JSON)")


def pytest_runtest_logreport(report):
    # with pytest-xdist the controller receives every worker's reports here
    _COSTS[report.nodeid.split("::", 1)[0]] += report.duration


def pytest_terminal_summary(terminalreporter, config):
    if not _COSTS:
        return
    total = sum(_COSTS.values())
    tr = terminalreporter
    tr.write_sep("-", f"seconds per file ({len(_COSTS)} files, {total:.0f} s in all)")
    for path, seconds in sorted(_COSTS.items(), key=lambda kv: -kv[1]):
        tr.write_line(f"{seconds:8.1f} s  {path}")
    out = config.getoption("--cost-json")
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(json.dumps(
            {"files": {k: round(v, 2) for k, v in sorted(_COSTS.items())},
             "total": round(total, 1)}, indent=1))
