"""tools/nbcache.py and tests/nbval_record.py: the notebook tests' content keys and record.

Each test builds a small book in a scratch folder (a package, two notebooks, the harness and
the pins), records it as verified, changes one thing and checks which notebooks must re-run.
"""
import json
import sys
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import nbcache  # noqa: E402

from tests.nbval_record import _Record  # noqa: E402

PINS = "nbval==0.11.0\nnumpy==2.4.6  # runtime\n"
INSTALLED = {"nbval": "0.11.0", "numpy": "2.4.6", "torch": "2.13.0+cpu"}


def _write(root: Path, rel: str, text: str):
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _notebook(root: Path, rel: str, code: list, output: str = "1\n"):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# A chapter")]
    for src in code:
        cell = nbformat.v4.new_code_cell(src)
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=output)]
        nb.cells.append(cell)
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


@pytest.fixture
def book(tmp_path):
    """A book: `a.ipynb` imports papers_lib.a (which imports .c), `b.ipynb` imports
    papers_lib.b, `p.ipynb` takes X from the lazy package papers_lib.part."""
    r = tmp_path
    _write(r, "papers_lib/__init__.py", '__version__ = "0"\n')
    _write(r, "papers_lib/a.py", "from .c import C\nA = C\n")
    _write(r, "papers_lib/b.py", "B = 2\n")
    _write(r, "papers_lib/c.py", "C = 1\n")
    _write(r, "papers_lib/part/__init__.py",
           "from papers_lib.core import lazy_exports\n"
           "__getattr__, __dir__, __all__ = lazy_exports(__name__, {'x': ['X'], 'y': ['Y']})\n")
    _write(r, "papers_lib/core.py", "def lazy_exports(*a): ...\n")
    _write(r, "papers_lib/part/x.py", "X = 1\n")
    _write(r, "papers_lib/part/y.py", "Y = 2\n")
    _write(r, "tests/nbval_gpu.py", "from papers_lib.b import B\n")
    _write(r, "tests/sanitize.cfg", "[a]\nregex: x\nreplace: y\n")
    _write(r, "requirements-dev.txt", PINS)
    _write(r, "Makefile", "venv:\n\tpip install torch==2.13.0\n")
    _notebook(r, "nbs/a.ipynb", ["%matplotlib inline\nfrom papers_lib.a import A", "print(A)"])
    _notebook(r, "nbs/b.ipynb", ["import papers_lib.b as b\nprint(b.B)"])
    _notebook(r, "nbs/p.ipynb", ["from papers_lib.part import X\nprint(X)"])
    return r


def _env(root, installed=INSTALLED):
    return nbcache.environment(root, installed=installed.get)


def _record_all(root, env=None):
    """Record every notebook of the book as verified, as a passing nbval run would."""
    env = env or _env(root)
    nbs = nbcache.find_notebooks(["nbs"], root)
    verified = {nb: nbcache.key_parts(root / nb, root, env) for nb in nbs}
    return nbcache.write_record(root / "record.json", verified, root)


def _select(root, env=None, share=0.0):
    record = nbcache.read_record(root / "record.json")
    nbs = nbcache.find_notebooks(["nbs"], root)
    return nbcache.select(nbs, record, "c0ffee", share, root, env or _env(root))


def test_unchanged_book_runs_nothing(book):
    _record_all(book)
    out = _select(book)
    assert out["run"] == {} and out["verified"] == ["nbs/a.ipynb", "nbs/b.ipynb", "nbs/p.ipynb"]


def test_new_notebook_runs(book):
    out = _select(book)
    assert set(out["run"]) == {"nbs/a.ipynb", "nbs/b.ipynb", "nbs/p.ipynb"}
    assert all(r == "new: not in the record" for r in out["run"].values())


def test_a_notebook_without_code_cells_is_not_run(book):
    _notebook(book, "nbs/index.ipynb", [])
    out = _select(book)
    assert out["empty"] == ["nbs/index.ipynb"] and "nbs/index.ipynb" not in out["run"]


def test_a_changed_module_reruns_exactly_its_importers(book):
    _record_all(book)
    _write(book, "papers_lib/c.py", "C = 3\n")  # imported by papers_lib.a only
    assert _select(book)["run"] == {"nbs/a.ipynb": "module changed: papers_lib.c"}
    _record_all(book)
    _write(book, "papers_lib/b.py", "B = 4\n")  # imported by b.ipynb, and by the nbval plugin
    assert set(_select(book)["run"]) == {"nbs/a.ipynb", "nbs/b.ipynb", "nbs/p.ipynb"}


def test_a_lazy_package_ties_a_name_to_its_one_module(book):
    _record_all(book)
    _write(book, "papers_lib/part/y.py", "Y = 5\n")  # p.ipynb takes X, from part.x
    assert _select(book)["run"] == {}
    _write(book, "papers_lib/part/x.py", "X = 5\n")
    assert _select(book)["run"] == {"nbs/p.ipynb": "module changed: papers_lib.part.x"}


def test_a_changed_output_reruns_the_notebook_and_prose_does_not(book):
    _record_all(book)
    nb = nbformat.read(book / "nbs/b.ipynb", as_version=4)
    nb.cells[0].source += "\n\nMore prose."
    nbformat.write(nb, book / "nbs/b.ipynb")
    assert _select(book)["run"] == {}
    nb.cells[1].outputs[0].text = "3\n"
    nbformat.write(nb, book / "nbs/b.ipynb")
    assert _select(book)["run"] == {"nbs/b.ipynb": "cells changed"}


def test_a_changed_import_is_named(book):
    _record_all(book)
    nb = nbformat.read(book / "nbs/b.ipynb", as_version=4)
    nb.cells[1].source = "import papers_lib.b as b\nfrom papers_lib.a import A\nprint(b.B)"
    nbformat.write(nb, book / "nbs/b.ipynb")
    reason = _select(book)["run"]["nbs/b.ipynb"]
    assert reason == "cells changed; imports changed: +papers_lib.a, +papers_lib.c"


@pytest.mark.parametrize("change", ["pin", "torch pin", "installed", "harness"])
def test_a_changed_pin_or_harness_reruns_everything(book, change):
    _record_all(book)
    installed = dict(INSTALLED)
    if change == "pin":
        _write(book, "requirements-dev.txt", PINS.replace("2.4.6", "2.4.7"))
    elif change == "torch pin":
        _write(book, "Makefile", "venv:\n\tpip install torch==2.14.0\n")
    elif change == "installed":
        installed["numpy"] = "2.4.7"
    else:
        _write(book, "tests/sanitize.cfg", "[a]\nregex: z\nreplace: y\n")
    out = _select(book, env=_env(book, installed))
    assert set(out["run"]) == {"nbs/a.ipynb", "nbs/b.ipynb", "nbs/p.ipynb"}
    expect = ("nbval plugin or sanitizer changed" if change == "harness"
              else "pinned versions, Python or platform changed")
    assert all(r == expect for r in out["run"].values())


def test_a_comment_in_the_pins_changes_nothing(book):
    _record_all(book)
    _write(book, "requirements-dev.txt", "# the pins\n" + PINS)
    assert _select(book)["run"] == {}


def test_a_record_entry_for_a_missing_notebook_is_stale_and_dropped(book):
    _record_all(book)
    (book / "nbs/b.ipynb").unlink()
    out = _select(book)
    assert out["stale"] == ["nbs/b.ipynb"] and out["run"] == {}
    kept = nbcache.write_record(book / "record.json", {}, book)
    assert set(kept) == {"nbs/a.ipynb", "nbs/p.ipynb"}


def test_the_sample_is_reproducible_sized_and_rotates():
    paths = [f"nbs/{i:03d}.ipynb" for i in range(100)]
    one = nbcache.sample(paths, "aaaa", 0.125)
    assert len(one) == 13 and one == nbcache.sample(paths, "aaaa", 0.125)
    assert one != nbcache.sample(paths, "bbbb", 0.125)
    assert nbcache.sample(paths, "aaaa", 0.0) == [] and nbcache.sample([], "a", 1.0) == []


def test_the_sample_is_drawn_from_the_verified(book):
    _record_all(book)
    _write(book, "papers_lib/c.py", "C = 3\n")
    out = _select(book, share=1.0)
    assert out["run"]["nbs/a.ipynb"] == "module changed: papers_lib.c"
    assert out["run"]["nbs/b.ipynb"].startswith("rotating sample (commit c0ffee")
    assert out["verified"] == []


def _report(nodeid, when="call", outcome="passed"):
    return SimpleNamespace(nodeid=nodeid, when=when, failed=outcome == "failed",
                           skipped=outcome == "skipped")


def test_the_plugin_records_only_notebooks_run_in_full_without_failure(book):
    rec = _Record(Path("record.json"), root=book)
    for nodeid in ("nbs/a.ipynb::Cell 0", "nbs/a.ipynb::Cell 1"):  # all of a: passes
        rec.report(_report(nodeid))
    rec.report(_report("nbs/b.ipynb::Cell 0", "setup", "skipped"))  # b: a GPU cell, skipped
    rec.report(_report("nbs/p.ipynb::Cell 0", "call", "failed"))  # p: fails
    assert set(rec.verified()) == {"nbs/a.ipynb", "nbs/b.ipynb"}
    part = _Record(Path("record.json"), root=book)
    part.report(_report("nbs/a.ipynb::Cell 0"))  # a run cut short: one cell of two
    assert part.verified() == {}


def test_the_cli_rejects_a_bad_sample_share(capsys):
    with pytest.raises(SystemExit):
        nbcache.main(["select", "--sample", "2"])
    assert "--sample must be in [0, 1]" in capsys.readouterr().err


def test_the_books_record_keys_match_this_checkout():
    """The committed record: every entry carries every part, and its key is their hash."""
    record = nbcache.read_record(ROOT / nbcache.RECORD)
    for nb, entry in record.items():
        assert set(entry) == {"key", "cells", "modules", "harness", "versions"}, nb
        assert entry["key"] == nbcache.key({k: v for k, v in entry.items() if k != "key"}), nb


def test_the_cli_prints_nothing_when_nothing_is_to_run(tmp_path, capsys):
    # `make nbval` runs nbval only when the selection has a line: an empty line here
    # once made it run pytest on the whole repository instead of on no notebook
    (tmp_path / "empty").mkdir()
    assert nbcache.main(["select", "--sample", "0", "--commit", "c0ffee",
                         str(tmp_path / "empty")]) == 0
    assert capsys.readouterr().out == ""
