#!/usr/bin/env python3
"""Start a chapter notebook from a percent-format script (an authoring aid, not a source of truth).

    .venv/bin/python tools/py2nb.py DRAFT.py nbs/<part>/<NN_name>.ipynb

`# %%` starts a code cell and `# %% [markdown]` a markdown cell (plain text, not commented).
Cell ids are `c000`, `c001`, ... After this, the notebook is the source: edit it, not the draft,
then `make export` and `make run NB=...`. Refuses to overwrite an existing notebook unless
`--force` is given.
"""
import re
import sys
from pathlib import Path

import nbformat


def build(src: str) -> nbformat.NotebookNode:
    parts = re.split(r"^# %%(.*)$", src, flags=re.M)
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": {"display_name": "python3", "language": "python",
                                  "name": "python3"},
                   "language_info": {"name": "python"}}
    for head, body in zip(parts[1::2], parts[2::2]):
        body = body.strip("\n")
        new = nbformat.v4.new_markdown_cell if "[markdown]" in head else nbformat.v4.new_code_cell
        nb.cells.append(new(body))
    for i, cell in enumerate(nb.cells):
        cell.id = f"c{i:03d}"
    return nb


def main(argv: list[str]) -> int:
    args = [a for a in argv if a != "--force"]
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    src, out = Path(args[0]), Path(args[1])
    if out.exists() and "--force" not in argv:
        print(f"py2nb: {out} exists; pass --force to overwrite it", file=sys.stderr)
        return 1
    nb = build(src.read_text())
    nbformat.write(nb, out)
    print(f"py2nb: wrote {out} ({len(nb.cells)} cells)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
