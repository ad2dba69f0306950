#!/usr/bin/env python3
"""Fail unless the built book reads with no network: every script and stylesheet a page loads
is a file of the site, and every page with an equation loads the bundled MathJax.

    python tools/check_offline.py _build/check/_build/html

Run by `make book-check` (and so by `make test`) after the build. Thebe's URL is a constant
used only when a reader launches a live kernel, not a resource loaded at read time.
"""
import re
import sys
from pathlib import Path

LOADED = re.compile(r'<(?:script[^>]*\ssrc|link[^>]*rel="stylesheet"[^>]*\shref)="([^"]+)"')
MATH = re.compile(r'class="math[ "]')
MATHJAX = "_static/mathjax/tex-chtml.js"


def problems(site: Path) -> list[str]:
    out = []
    pages = sorted(p for p in site.rglob("*.html") if "_static" not in p.parts)  # not templates
    if not (site / MATHJAX).is_file():
        out.append(f"{MATHJAX} is missing from the site")
    for page in pages:
        html = page.read_text(encoding="utf-8")
        rel = page.relative_to(site)
        for url in LOADED.findall(html):
            if re.match(r"^(https?:)?//", url):
                out.append(f"{rel}: loads {url} from the network")
            elif not (page.parent / url.split("?")[0].split("#")[0]).resolve().is_file():
                out.append(f"{rel}: loads {url}, which is not in the site")
        if MATH.search(html) and MATHJAX not in html:
            out.append(f"{rel}: has equations but does not load the bundled MathJax")
    return out + ([] if pages else [f"no HTML pages under {site}"])


if __name__ == "__main__":
    site = Path(sys.argv[1])
    bad = problems(site)
    n = len([p for p in site.rglob("*.html") if "_static" not in p.parts])
    if bad:
        print(f"check-offline: FAILED ({len(bad)} problems in {n} pages):", *bad[:20],
              sep="\n  ", file=sys.stderr)
        sys.exit(1)
    print(f"check-offline: {n} pages load only files of the site; equations use its MathJax")
