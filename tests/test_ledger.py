"""tools/ledger.py: the Reproductions page, read from the chapters' claim lines."""
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import ledger  # noqa: E402

from papers_lib.claims import parse_line  # noqa: E402
from papers_lib.run import is_gpu_cell  # noqa: E402


def _out(text):
    return nbformat.v4.new_output("stream", name="stdout", text=text)


def test_chapter_reads_cpu_and_gpu_claims(tmp_path):
    nb = nbformat.v4.new_notebook()
    cpu = nbformat.v4.new_code_cell("claims")
    cpu.outputs = [_out("Claim a [reproduced]: s | measured 1, 2, 3 (3 seeds) | < 5 on 3/3 "
                        "seeds | paper: Fig. 1\nother text\n"
                        "Not tested b: huge | needs ImageNet\n")]
    gpu = nbformat.v4.new_code_cell("#| gpu\nclaims")
    gpu.outputs = [_out("Claim a [reproduced]: s | measured 4, 4, 4 (3 seeds) | < 5 on 3/3 "
                        "seeds | paper: Fig. 1\n")]
    nb.cells = [nbformat.v4.new_markdown_cell("# A chapter\n\nPaper: A title (X, 2020)"),
                cpu, gpu]
    path = tmp_path / "01_x.ipynb"
    nbformat.write(nb, path)
    title, c, g, paper = ledger.chapter(path, parse_line, is_gpu_cell)
    assert title == "A chapter" and paper
    assert [x["id"] for x in c] == ["a", "b"] and [x["verdict"] for x in c] == [
        "reproduced", "not tested"]
    assert [x["measured"] for x in g] == ["measured 4, 4, 4 (3 seeds)"]
    assert ledger.result(c[0]) == "1, 2, 3 (3 seeds); < 5 on 3/3 seeds"


def test_page_counts_every_claim_line_of_the_book():
    """The committed page's whole-book count is the number of distinct claim ids that the
    chapters' stored outputs print (foundations pages, indexes and toolkit pages aside)."""
    text = (ROOT / "nbs" / "reproductions.md").read_text()
    total = next(r for r in text.splitlines() if r.startswith("| **whole book**"))
    n_page = int(total.strip("| ").split("|")[-1])
    ids = set()
    for path in (ROOT / "nbs").rglob("*.ipynb"):
        if path.parent.name == "foundations" or path.stem == "index" \
                or path.stem.startswith("00_"):
            continue
        for cell in nbformat.read(path, as_version=4).cells:
            for out in cell.get("outputs", []):
                for line in out.get("text", "").splitlines():
                    if line.startswith(("Claim ", "Not tested ")) and parse_line(line):
                        ids.add((path.name, parse_line(line)["id"]))
    assert n_page == len(ids)
