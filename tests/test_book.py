"""_ext/papers_book.py: what the rendered book makes of a chapter's cells."""
import sys
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).parents[1] / "_ext"))
from papers_book import read_notebook, transform  # noqa: E402


def _nb(*cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = list(cells)
    return nb


def test_directives_are_hidden_and_exports_tagged():
    code = nbformat.v4.new_code_cell
    nb = transform(_nb(code("#| default_exp core"), code("#| export\ndef f(): pass"),
                       code("x = 1  # a comment stays")))
    assert [c.source for c in nb.cells] == ["def f(): pass", "x = 1  # a comment stays"]
    assert nb.cells[0].metadata["tags"] == ["papers-export"]
    assert "tags" not in nb.cells[1].metadata
    assert nb.metadata["language_info"]["name"] == "python"  # Pygments needs it


def test_gpu_cells_get_a_labelled_box_with_the_device_or_a_not_yet_run_note():
    ran = nbformat.v4.new_code_cell("#| gpu\nbig()")
    ran.outputs = [nbformat.v4.new_output("stream", name="stdout", text="done\n")]
    ran.metadata["gpu_run"] = {"device": "NVIDIA H100 80GB HBM3", "torch": "2.11.0",
                               "cuda": "13.0", "date": "2026-11-22", "wall_s": 61.0}
    nb = transform(_nb(ran, nbformat.v4.new_code_cell("#| gpu\nbigger()")))
    box, cell, box2, cell2 = nb.cells
    assert box.cell_type == "markdown" and "{admonition} GPU cell" in box.source
    assert "NVIDIA H100 80GB HBM3" in box.source and "61.0 s" in box.source
    assert "Not yet run on a GPU" in box2.source
    assert cell.source == "big()" and "papers-gpu" in cell.metadata["tags"]
    assert cell2.source == "bigger()"


def test_gpu_marker_only_counts_on_the_first_line():
    nb = transform(_nb(nbformat.v4.new_code_cell("x = 1\n#| gpu")))
    assert len(nb.cells) == 1 and nb.cells[0].source == "x = 1"


def test_read_notebook_reads_a_stored_chapter():
    path = Path(__file__).parents[1] / "nbs" / "optimizers" / "01_amsgrad.ipynb"
    nb = read_notebook(path.read_text())
    boxes = [c for c in nb.cells if c.cell_type == "markdown" and "{admonition} GPU cell" in c.source]
    assert len(boxes) == 2 and all("real run on" in b.source for b in boxes)
    assert not any(c.source.lstrip().startswith("#|") for c in nb.cells if c.cell_type == "code")


def test_api_page_links_every_object_to_its_chapter():
    """Every object row of the generated API page names the chapter that defines it
    (for top-level modules and for subpackages alike)."""
    from pathlib import Path
    text = (Path(__file__).resolve().parents[1] / "nbs" / "api.md").read_text()
    rows = [r for r in text.splitlines()
            if r.startswith("| `") and not r.startswith("| `name")]
    assert len(rows) > 50
    missing = [r.split("|")[1].strip() for r in rows if r.rstrip("| ").endswith("|")
               or not r.split("|")[-2].strip().startswith("[")]
    assert not missing, f"API rows without a chapter: {missing[:5]}"


def _commented_out_markdown(nb) -> list[int]:
    """Markdown cells written as Python comments (every line starts with '#' and one is
    a bare '#', or a line starts with '# #'): a percent-format draft pasted without
    removing the comment marks, which renders as a stack of headings."""
    bad = []
    for i, cell in enumerate(nb.cells):
        lines = cell.source.split("\n")
        commented = len(lines) > 1 and all(ln.startswith("#") for ln in lines) \
            and "#" in lines
        if cell.cell_type == "markdown" and (
                commented or any(ln.startswith("# #") for ln in lines)):
            bad.append(i)
    return bad


def test_detector_of_commented_out_markdown():
    good = nbformat.v4.new_markdown_cell("# Title\n\nText.")
    heads = nbformat.v4.new_markdown_cell("## Summary")
    bad = nbformat.v4.new_markdown_cell("# # Title\n#\n# Text.")
    title = nbformat.v4.new_markdown_cell("# # Title\n\nPlain text.")
    assert _commented_out_markdown(_nb(good, heads, bad, title)) == [2, 3]


def test_no_chapter_has_commented_out_markdown():
    root = Path(__file__).resolve().parents[1] / "nbs"
    found = {str(p.relative_to(root)): _commented_out_markdown(nbformat.read(p, 4))
             for p in sorted(root.rglob("*.ipynb"))
             if ".ipynb_checkpoints" not in p.parts}
    assert not {k: v for k, v in found.items() if v}


def test_no_chapter_writes_a_directive_with_a_space():
    """`# | export` (as a code formatter writes it) is not a directive for the book's reader
    nor for the chapter checks: directives are written `#| ...`."""
    import re
    bad = []
    for path in sorted((Path(__file__).resolve().parents[1] / "nbs").rglob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code" and re.search(r"^#\s+\|", cell.source, re.M):
                bad.append(path.name)
    assert not bad, f"'# |' directives in {sorted(set(bad))}"


def test_offline_check_refuses_network_resources_and_untypeset_math(tmp_path):
    """tools/check_offline.py: the built book must load only its own files, and pages with
    equations must load the bundled MathJax."""
    import subprocess
    import sys
    from pathlib import Path
    tool = Path(__file__).resolve().parents[1] / "tools" / "check_offline.py"
    (tmp_path / "_static" / "mathjax").mkdir(parents=True)
    (tmp_path / "_static" / "mathjax" / "tex-chtml.js").write_text("")
    page = tmp_path / "a.html"
    page.write_text('<span class="math notranslate">x</span>'
                    '<script defer="defer" src="_static/mathjax/tex-chtml.js"></script>')
    ok = subprocess.run([sys.executable, str(tool), str(tmp_path)], capture_output=True,
                        text=True)
    assert ok.returncode == 0, ok.stderr
    page.write_text('<span class="math notranslate">x</span><script '
                    'src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"></script>')
    bad = subprocess.run([sys.executable, str(tool), str(tmp_path)], capture_output=True,
                         text=True)
    assert bad.returncode == 1
    assert "from the network" in bad.stderr and "bundled MathJax" in bad.stderr


def test_citation_file_agrees_with_settings_and_the_preface():
    """CITATION.cff (what GitHub's "Cite this repository" reads) has the version and author of
    settings.ini and the title of the preface's BibTeX entry."""
    import configparser
    import json
    from pathlib import Path
    import yaml
    root = Path(__file__).resolve().parents[1]
    cff = yaml.safe_load((root / "CITATION.cff").read_text(encoding="utf-8"))
    cfg = configparser.ConfigParser(delimiters=["="])
    cfg.read(root / "settings.ini", encoding="utf-8")
    assert cff["cff-version"] == "1.2.0"
    assert str(cff["version"]) == cfg["DEFAULT"]["version"]
    assert cff["authors"] == [{"name": cfg["DEFAULT"]["author"]}]
    cells = json.loads((root / "nbs" / "index.ipynb").read_text(encoding="utf-8"))["cells"]
    preface = "".join("".join(c["source"]) for c in cells)
    assert f"title  = {{{cff['title']}}}" in preface
    assert "CITATION.cff" in preface
