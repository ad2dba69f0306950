"""Sphinx/MyST-NB glue for the papers book (Jupyter Book 1).

`read_notebook` is registered as MyST-NB's reader for `.ipynb` (`nb_custom_formats` in
_config.yml). Before a chapter is rendered it

- removes the nbdev/book directive lines (`#| export`, `#| default_exp ...`, `#| gpu`) from code
  cells, and drops cells that held nothing else;
- tags exported cells (`papers-export`) so the page marks them as part of `papers_lib`;
- puts a "GPU cell" box above every GPU cell, with the device, torch version, date and wall time
  of its stored run (the `gpu_run` metadata that `papers-run --gpu` writes), or "not yet run on a
  GPU" where it has no output, and says when the library modules the run loaded have changed
  since (`papers_lib.run.gpu_output_status`);
- puts a "Run this chapter" box under a chapter's title: the `papers-run` command for a CPU
  and for a GPU host, and a download link for the notebook;
- fills in the kernel and language metadata that Pygments needs to highlight the code.

`unique_scripts` drops the script tags that a page would load twice. `resolve_reference`
settles the cross-references that the API reference's signatures make (sphinx-autodoc2 turns
every annotation into one): a type alias of `papers_lib` is documented
as data, so a class reference to it is pointed there; a library name that is not public (a
private alias such as `_Time`) and a name of torch, NumPy or the standard library render as
code with no link (the book carries no inventory of other projects' documentation, so that it
builds with no network). Any other unresolved reference stays a warning, hence an error.
"""
from __future__ import annotations

import importlib
import json
import re
from pathlib import Path

import nbformat
from sphinx.util.nodes import make_refnode

from papers_lib.run import gpu_output_status, is_gpu_cell  # `#| gpu` on the first line

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
        status, changed = gpu_output_status(cell)
        if status == "library changed":
            names = ", ".join(f"`{m}`" for m in changed)
            text += (f" It was made with an earlier version of `papers_lib`: {names} "
                     "changed since. `papers-run --gpu` on a GPU host refreshes it.")
    else:
        text = ("Needs a GPU or paper scale; skipped on a CPU. **Not yet run on a GPU**: "
                "`papers-run CHAPTER.ipynb --gpu` on a GPU host runs it and stores its output.")
    return nbformat.v4.new_markdown_cell(f":::{{admonition}} GPU cell\n:class: gpu-cell\n{text}\n:::")


def _run_box(path: str, has_gpu: bool) -> nbformat.NotebookNode:
    """The "Run this chapter" box: the commands for a CPU and a GPU host, and the notebook."""
    lines = [":::{admonition} Run this chapter", ":class: run-chapter",
             f"On a CPU (GPU cells skipped): `papers-run {path}`"]
    if has_gpu:
        lines += ["", "On a GPU host, the GPU cells too, the CPU outputs kept: "
                  f"`papers-run --gpu --keep-cpu-outputs {path}`"]
    lines += ["", f"{{download}}`Download the notebook <{Path(path).name}>` "
              "(`pip install 'papers_lib[run]'` provides `papers-run`)", ":::"]
    return nbformat.v4.new_markdown_cell("\n".join(lines))


def transform(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Return the notebook as the book shows it (see the module docstring)."""
    path = nb.metadata.pop("papers_path", None)
    cells = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            cells.append(cell)
            continue
        gpu = is_gpu_cell(cell)
        box = _gpu_box(cell) if gpu else None  # before the directive is removed: its hash
        names, code = _directives(cell.source)
        if not code and not cell.get("outputs"):
            continue  # only directives, e.g. `#| default_exp core`
        cell.source = code
        tags = list(cell.metadata.get("tags", []))
        if EXPORTS & set(names):
            tags.append("papers-export")
        if gpu:
            tags.append("papers-gpu")
            cells.append(box)
        if tags:
            cell.metadata["tags"] = tags
        cells.append(cell)
    code = [c for c in cells if c.cell_type == "code"]
    if path and code:  # a chapter (not a part's introduction): how to run it, after its title
        first = next(i for i, c in enumerate(cells) if c.cell_type == "markdown")
        cells.insert(first + 1, _run_box(path, any("papers-gpu" in c.metadata.get("tags", [])
                                                   for c in code)))
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


EXTERNAL = ("torch.", "numpy.", "os.", "typing.", "collections.", "pathlib.")


def _defined_in_library(target: str) -> bool:
    """True when `target` (`papers_lib.x.Name`) names something its module defines."""
    module, _, name = target.rpartition(".")
    try:
        return hasattr(importlib.import_module(module), name)
    except ImportError:
        return False


def resolve_reference(app, env, node, contnode):
    """Sphinx `missing-reference` handler for the Python domain (see the module docstring)."""
    if node.get("refdomain") != "py":
        return None
    target = node.get("reftarget", "")
    found = env.get_domain("py").objects.get(target)
    if found is not None:  # documented, under another object type (a type alias is data)
        return make_refnode(app.builder, node["refdoc"], found.docname, found.node_id,
                            contnode, target)
    if target.startswith(EXTERNAL) or (
            target.startswith("papers_lib.") and _defined_in_library(target)):
        return contnode
    return None


def unique_scripts(app, pagename, templatename, context, doctree):
    """Drop repeated script tags from a page. Extensions that add their scripts when the
    documents are read (sphinx-thebe, sphinx-togglebutton) add them twice in a Jupyter
    Book 1 build, and sphinx-thebe's second `const THEBE_JS_URL` is a JavaScript error on
    every page (tools/check_browser.py caught it)."""
    seen, kept = set(), []
    for js in context.get("script_files", []):
        key = (str(getattr(js, "filename", js) or ""),  # inline scripts: None or ""
               tuple(sorted((k, str(v)) for k, v in getattr(js, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            kept.append(js)
    context["script_files"][:] = kept  # in place: later handlers (MathJax) append to it


def note_path(app, docname, source):
    """`source-read`: tell `read_notebook` which notebook it reads (MyST-NB's custom reader
    gets only the text), so that the "Run this chapter" box can name it."""
    if str(app.env.doc2path(docname)).endswith(".ipynb"):
        nb = json.loads(source[0])
        nb.setdefault("metadata", {})["papers_path"] = f"{docname}.ipynb"
        source[0] = json.dumps(nb)


def setup(app):
    app.connect("source-read", note_path)
    app.connect("missing-reference", resolve_reference)
    app.connect("html-page-context", unique_scripts, priority=999)  # after the others add theirs
    static = Path(__file__).parent / "static"
    app.connect("builder-inited",
                lambda app: app.config.html_static_path.append(str(static)))
    app.add_css_file("papers_book.css")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
