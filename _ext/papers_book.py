"""Sphinx/MyST-NB glue for the papers book (Jupyter Book 1).

`read_notebook` is registered as MyST-NB's reader for `.ipynb` (`nb_custom_formats` in
_config.yml). Before a chapter is rendered it

- removes the nbdev/book directive lines (`#| export`, `#| default_exp ...`, `#| gpu`) from code
  cells, and drops cells that held nothing else;
- tags exported cells (`papers-export`) so the page marks them as part of `papers_lib`;
- puts a "GPU cell" box above every GPU cell, with the device, torch version, date and wall time
  of its stored run (the `gpu_run` metadata that `papers-run --gpu` writes), or "not yet run on a
  GPU" where it has no output;
- fills in the kernel and language metadata that Pygments needs to highlight the code.
"""
from __future__ import annotations

import re
from pathlib import Path

import nbformat

from papers_lib.run import is_gpu_cell  # the one rule: `#| gpu` on the first line

DIRECTIVE = re.compile(r"^\s*#\|\s*(\S+)(.*)$")
EXPORTS = {"export", "exports", "exporti"}


def _directives(src: str) -> tuple[list[str], str]:
    """Split a code cell's source into its directive names and the code without them."""
    names, keep = [], []
    for line in src.split("\n"):
        m = DIRECTIVE.match(line)
        if m:
            names.append(m.group(1).rstrip(":"))
        else:
            keep.append(line)
    return names, "\n".join(keep).strip("\n")


def _gpu_box(cell) -> nbformat.NotebookNode:
    run = cell.get("metadata", {}).get("gpu_run")
    if cell.get("outputs") and run:
        cuda = f", CUDA {run['cuda']}" if run.get("cuda") else ""
        text = (f"Needs a GPU or paper scale; skipped on a CPU. The output below is from a real run on "
                f"**{run.get('device', '?')}** (torch {run.get('torch', '?')}{cuda}) on "
                f"{run.get('date', '?')}, which took {run.get('wall_s', '?')} s.")
    else:
        text = ("Needs a GPU or paper scale; skipped on a CPU. **Not yet run on a GPU**: "
                "`papers-run CHAPTER.ipynb --gpu` on a GPU host runs it and stores its output.")
    return nbformat.v4.new_markdown_cell(f":::{{admonition}} GPU cell\n:class: gpu-cell\n{text}\n:::")


def transform(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Return the notebook as the book shows it (see the module docstring)."""
    cells = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            cells.append(cell)
            continue
        gpu = is_gpu_cell(cell)
        names, code = _directives(cell.source)
        if not code and not cell.get("outputs"):
            continue  # only directives, e.g. `#| default_exp core`
        cell.source = code
        tags = list(cell.metadata.get("tags", []))
        if EXPORTS & set(names):
            tags.append("papers-export")
        if gpu:
            tags.append("papers-gpu")
            cells.append(_gpu_box(cell))
        if tags:
            cell.metadata["tags"] = tags
        cells.append(cell)
    nb.cells = cells
    nb.metadata.setdefault("kernelspec", {"name": "python3", "display_name": "Python 3",
                                          "language": "python"})
    nb.metadata.setdefault("language_info", {})
    nb.metadata.language_info.setdefault("name", "python")
    nb.metadata.language_info.setdefault("pygments_lexer", "ipython3")
    return nb


def read_notebook(text: str) -> nbformat.NotebookNode:
    """MyST-NB custom reader: parse a stored notebook and `transform` it."""
    return transform(nbformat.reads(text, as_version=4))


def setup(app):
    static = Path(__file__).parent / "static"
    app.connect("builder-inited",
                lambda app: app.config.html_static_path.append(str(static)))
    app.add_css_file("papers_book.css")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
