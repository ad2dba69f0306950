"""pytest plugin: record the notebooks that an nbval run verified (`-p tests.nbval_record`).

With `--nbval-record PATH`, at the end of the run it writes, into the committed record at PATH,
the key (`tools/nbcache.py`) of every notebook that nbval ran in full without a failure: each of
its code cells passed, or was skipped (a GPU cell on a CPU). It is the record's only writer;
`make nbval` then skips the notebooks whose key is in it. It writes nothing when the run was
not the book's strict one (nbval with the plugin `tests.nbval_gpu` and `tests/sanitize.cfg`),
when tests were deselected by keyword or mark, or when the run was interrupted. The key is
taken when the notebook's first cell reports, so an edit made during the run is not recorded
as verified.
"""
import sys
from collections import defaultdict
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import nbcache  # noqa: E402


class _Record:
    def __init__(self, path: Path, root: Path = ROOT):
        self.path, self.root = path, root
        self.env = None
        self.parts: dict = {}   # notebook -> key parts, taken at its first report
        self.done = defaultdict(set)  # notebook -> cells that passed or were skipped
        self.failed: set = set()

    def report(self, report):
        nb = report.nodeid.split("::", 1)[0]
        if not nb.endswith(".ipynb"):
            return
        if nb not in self.parts:
            self.env = self.env or nbcache.environment(self.root)
            self.parts[nb] = nbcache.key_parts(self.root / nb, self.root, self.env)
        if report.failed:
            self.failed.add(nb)
        elif report.when == "call" or (report.when == "setup" and report.skipped):
            self.done[nb].add(report.nodeid)

    def verified(self) -> dict:
        out = {}
        for nb, parts in self.parts.items():
            if nb in self.failed or not (self.root / nb).is_file():
                continue
            cells = nbformat.read(self.root / nb, as_version=4).cells
            if len(self.done[nb]) == sum(c.cell_type == "code" for c in cells):
                out[nb] = parts
        return out


def pytest_addoption(parser):
    parser.addoption("--nbval-record", default=None, metavar="PATH",
                     help="write the keys of the notebooks this run verified to PATH")


def _why_not(config) -> str:
    """Why this run may not write the record ('' if it may)."""
    opt = config.option
    if not getattr(opt, "nbval", False) or not getattr(opt, "nbval_current_env", False):
        return "not a strict nbval run (--nbval --nbval-current-env)"
    sanitize = getattr(opt, "nbval_sanitize_with", None)
    if not sanitize or Path(sanitize).resolve() != ROOT / "tests" / "sanitize.cfg":
        return "not sanitized with tests/sanitize.cfg"
    if not config.pluginmanager.has_plugin("tests.nbval_gpu"):
        return "without the plugin tests.nbval_gpu"
    if opt.keyword or opt.markexpr or getattr(opt, "deselect", None):
        return "tests were deselected (-k, -m or --deselect)"
    return ""


_RECORD = None  # this process's record, in the xdist controller (or without xdist)


def pytest_configure(config):
    global _RECORD
    path = config.getoption("--nbval-record")
    if path and not hasattr(config, "workerinput"):
        _RECORD = _Record(Path(path))


def pytest_runtest_logreport(report):
    # with pytest-xdist the controller receives every worker's reports here
    if _RECORD is not None:
        _RECORD.report(report)


def pytest_sessionfinish(session, exitstatus):
    rec = _RECORD
    if rec is None:
        return
    why = _why_not(session.config)
    if not why and exitstatus not in (0, 1):  # 1: some tests failed; 2+: interrupted, errors
        why = f"the run ended with exit status {int(exitstatus)}"
    if why:
        session.config._nbval_record_note = f"nbval record: not written: {why}"
        return
    verified = rec.verified()
    nbcache.write_record(ROOT / rec.path, verified, ROOT)
    session.config._nbval_record_note = (
        f"nbval record: {len(verified)} of {len(rec.parts)} notebooks verified, "
        f"their keys written to {rec.path}")


def pytest_terminal_summary(terminalreporter, config):
    note = getattr(config, "_nbval_record_note", None)
    if note:
        terminalreporter.write_line(note)
