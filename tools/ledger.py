#!/usr/bin/env python3
"""Write nbs/reproductions.md: every claim of the book, read from the chapters' stored outputs.

Each chapter ends in claim lines (`papers_lib.claims.claim` and `not_tested`); this script reads
them back with `papers_lib.claims.parse_line` from the stored outputs of the CPU cells, and from
the GPU cells for the GPU column (a GPU cell's claim line with the same id as a CPU one fills that
row's GPU column; one with a new id gets its own row). Parts and their order come from _toc.yml;
the foundations pages (whose claims are demonstrations of the protocol) are left out. Run by
`make export`; the test command checks that the committed page is what this script writes.
"""
import json
import re
import sys
from collections import Counter
from pathlib import Path

from api_page import chapter_title, write_if_changed  # tools/, beside this script

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "nbs" / "reproductions.md"
SKIP_PARTS = {"At a glance", "Foundations", "Back matter"}
VERDICTS = ("reproduced", "partly", "not reproduced", "not tested")


def parts() -> list[tuple[str, list[str]]]:
    """(caption, [chapter file, ...]) for each part of _toc.yml, in order."""
    out = []
    for line in (ROOT / "_toc.yml").read_text().splitlines():
        m = re.match(r"\s*- caption:\s*(.+)$", line)
        if m:
            out.append((m.group(1).strip(), []))
            continue
        m = re.match(r"\s*- file:\s*(\S+)$", line)
        if m and out:
            out[-1][1].append(m.group(1))
    return out


def cell_text(cell) -> str:
    lines = []
    for o in cell.get("outputs", []):
        if o.get("output_type") == "stream" and o.get("name") == "stdout":
            t = o.get("text", "")
            lines.append("".join(t) if isinstance(t, list) else t)
    return "".join(lines)


PAPER = re.compile(r"^\**Paper\**\s*:", re.M | re.I)


def chapter(nb_path: Path, parse_line, is_gpu_cell):
    """Title, CPU claims, GPU claims (dicts of fields, in order) and whether the notebook is a
    paper's chapter (a `Paper:` line in its first cells)."""
    nb = json.loads(nb_path.read_text())
    title = chapter_title(nb_path)
    paper = any(PAPER.search("".join(c["source"])) for c in nb["cells"][:3]
                if c["cell_type"] == "markdown")
    cpu, gpu = [], []
    for c in nb["cells"]:
        if c["cell_type"] != "code":
            continue
        target = gpu if is_gpu_cell({**c, "source": "".join(c["source"])}) else cpu
        for line in cell_text(c).splitlines():
            fields = parse_line(line)
            if fields:
                target.append(fields)
    return title, cpu, gpu, paper


def esc(text: str) -> str:
    return text.replace("|", "\\|").strip()


def result(f: dict) -> str:
    if f["verdict"] == "not tested":
        return ""
    return esc(f"{f['measured'].removeprefix('measured ')}; {f['test']}")


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from papers_lib.claims import parse_line
    from papers_lib.run import is_gpu_cell
    body, totals, per_part, pending = [], Counter(), [], []
    for caption, files in parts():
        if caption in SKIP_PARTS:
            continue
        rows, counts = [], Counter()
        for f in files:
            path = ROOT / f"{f}.ipynb"
            if path.stem == "index" or path.stem.startswith("00_") or not path.exists():
                continue
            title, cpu, gpu, paper = chapter(path, parse_line, is_gpu_cell)
            link = f"[{esc(title)}]({Path(f).relative_to('nbs')}.ipynb)"
            if not cpu and not gpu:
                if paper:  # toolkit and synthesis pages state no paper's claims
                    pending.append(link)
                continue
            gpu_by_id = {g["id"]: g for g in gpu}
            seen = set()
            for c in cpu + [g for g in gpu if g["id"] not in {c["id"] for c in cpu}]:
                if c["id"] in seen:
                    continue
                seen.add(c["id"])
                on_gpu = gpu_by_id.get(c["id"])
                cpu_res = "" if c in gpu else result(c)
                gpu_res = result(on_gpu) if on_gpu else ""
                verdict = c["verdict"]
                source = esc(c.get("source") or c.get("reason", ""))
                rows.append(f"| {link} | `{c['id']}`: {esc(c['statement'])} | {source} | "
                            f"{cpu_res} | {gpu_res} | {verdict} |")
                counts[verdict] += 1
                link = "〃"  # the chapter's name once per chapter
        if rows:
            totals.update(counts)
            per_part.append((caption, counts))
            body += [f"## {caption}", "",
                     "| chapter | claim | threshold's source (or why untested) | CPU result "
                     "over seeds | GPU result | verdict |", "|---|---|---|---|---|---|", *rows, ""]
    head = ["# Reproductions", "",
            "Every claim that the book's chapters check, with the verdict that each chapter's "
            "stored run reached. Each row is read from a chapter's stored claim line (see "
            "[Claims](foundations/04_claims.ipynb) for the protocol): the paper's statement, where "
            "the threshold comes from, the values measured on each seed on a CPU, and the same "
            "claim at a larger scale where a GPU cell has recorded a run. `reproduced` means the "
            "threshold held on every seed (or the stated majority or mean); `partly` that a stated, "
            "weaker part held; `not reproduced` records the numbers and asserts nothing; "
            "`not tested` gives the reason a claim is out of this book's reach. This page is "
            "generated by `tools/ledger.py`; do not edit it by hand.", "",
            "| part | " + " | ".join(VERDICTS) + " | claims |", "|---|" + "---|" * (len(VERDICTS) + 1)]
    for caption, counts in per_part + [("**whole book**", totals)]:
        head.append(f"| {caption} | " + " | ".join(str(counts[v]) for v in VERDICTS)
                    + f" | {sum(counts.values())} |")
    head.append("")
    if pending:
        head += ["Chapters whose claims are not yet stated in the protocol's lines: "
                 + ", ".join(pending) + ".", ""]
    write_if_changed(OUT, "\n".join(head + body))
    return 0


if __name__ == "__main__":
    sys.exit(main())
