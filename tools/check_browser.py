#!/usr/bin/env python3
"""Load the built book in headless Chromium and fail on what a reader would see broken.

    python tools/check_browser.py _build/html [--shots _build/browser-check] [--pages N]

One browser, one tab, every page that _toc.yml lists (the preface, every chapter, the
Reproductions page and the API reference), served from a local HTTP server. A page fails when

- an equation is left untypeset: after MathJax has finished, the page's text (code blocks
  left out) still shows `\\(`, `\\[` or `$$`;
- an image does not load (its decode fails or it has no width);
- it logs a JavaScript error or an uncaught exception, or a request fails (the book is read
  offline: requests outside the local server are refused and count as failures);
- a GPU cell (a cell tagged `papers-gpu`, one per `#| gpu` cell of the notebook) has no
  "GPU cell" box above it.

Screenshots of a few pages are saved under `--shots` for people to look at. Chromium is
Debian's `chromium` (`CHROMIUM` overrides the path); Playwright drives it (no browser download).
Exit status 1 when a page fails, 2 when Chromium is missing.
"""
from __future__ import annotations

import argparse
import functools
import http.server
import json
import os
import re
import shutil
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ("index.html", "nbs/optimizers/01_amsgrad.html", "nbs/reproductions.html",
         "nbs/api/optimizers.html")

# Runs in the page once MathJax is done: what the reader sees that is wrong.
INSPECT = r"""async () => {
  const main = document.querySelector('main') || document.body;
  const copy = main.cloneNode(true);
  copy.querySelectorAll('pre, code, script, style, mjx-container, .MathJax, textarea')
      .forEach(e => e.remove());
  const text = copy.textContent;
  const raw = [];
  for (const pat of ['\\(', '\\[', '$$']) {
    const i = text.indexOf(pat);
    if (i >= 0) raw.push(JSON.stringify(text.slice(Math.max(0, i - 30), i + 40)));
  }
  const broken = [];
  for (const img of document.querySelectorAll('img')) {
    img.loading = 'eager';
    try { await img.decode(); } catch (e) { broken.push(img.getAttribute('src')); continue; }
    if (!img.naturalWidth) broken.push(img.getAttribute('src'));
  }
  const gpu = [...document.querySelectorAll('.cell.tag_papers-gpu')];
  const unlabelled = gpu.filter(c => {
    const box = c.previousElementSibling;
    return !(box && box.matches('.admonition.gpu-cell') && box.offsetHeight > 0 &&
             box.textContent.includes('GPU cell'));
  }).length;
  const math = document.querySelectorAll('mjx-container').length;
  return {raw, broken, gpu: gpu.length, unlabelled, math};
}"""


def toc_pages(html: Path) -> list[str]:
    """The built page of every file _toc.yml lists, the root first."""
    files = re.findall(r"^\s*(?:root|- file):\s*(\S+)\s*$",
                       (ROOT / "_toc.yml").read_text(), re.M)
    pages = ["index.html" if f == "nbs/index" else f"{f}.html" for f in files]
    missing = [p for p in pages if not (html / p).exists()]
    if missing:
        raise SystemExit(f"check_browser: pages missing from {html}: {missing[:5]}")
    return pages


def gpu_cells(page: str) -> int:
    """How many GPU cells the chapter's notebook has (0 for a page that is no notebook)."""
    nb = ROOT / Path(page).with_suffix(".ipynb")
    if page == "index.html" or not nb.exists():
        return 0
    from papers_lib.run import is_gpu_cell
    cells = json.loads(nb.read_text())["cells"]
    return sum(1 for c in cells if c["cell_type"] == "code" and is_gpu_cell(c))


def serve(html: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass
    handler = functools.partial(Quiet, directory=str(html))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def chromium() -> str | None:
    path = os.environ.get("CHROMIUM") or shutil.which("chromium") \
        or shutil.which("chromium-browser")
    return path


def check(html: Path, shots: Path, pages: list[str]) -> int:
    from playwright.sync_api import Error as PlaywrightError, sync_playwright

    exe = chromium()
    if exe is None:
        print("check_browser: no Chromium (apt-get install chromium, or set CHROMIUM)",
              file=sys.stderr)
        return 2
    shots.mkdir(parents=True, exist_ok=True)
    server, base = serve(html)
    failures: dict[str, list[str]] = {}
    start, n_math, n_gpu = time.perf_counter(), 0, 0
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=["--no-sandbox"])
        tab = browser.new_page(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        tab.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
        tab.on("console", lambda m: errors.append(f"console: {m.text}")
               if m.type == "error" else None)
        tab.on("requestfailed", lambda r: errors.append(f"request failed: {r.url}"))
        tab.route(re.compile(r"^(?!" + re.escape(base) + ")(https?|wss?)://"),
                  lambda route: route.abort())
        def visit(page: str) -> dict:
            errors.clear()
            tab.goto(base + page, wait_until="load")
            tab.wait_for_function("() => !!document.body && (!window.MathJax || "
                                  "!!(MathJax.startup && MathJax.startup.promise))",
                                  timeout=20000)
            tab.evaluate("() => window.MathJax ? MathJax.startup.promise : null")
            return tab.evaluate(INSPECT)

        for page in pages:
            try:
                seen = visit(page)
            except PlaywrightError as e:  # a page caught mid-load: look once more
                print(f"check_browser: {page}: {str(e).splitlines()[0]}; loading it again")
                try:
                    seen = visit(page)
                except PlaywrightError as e:
                    failures[page] = [f"could not be inspected: {str(e).splitlines()[0]}"]
                    continue
            problems = list(errors)
            problems += [f"untypeset math: {r}" for r in seen["raw"]]
            problems += [f"image does not load: {src}" for src in seen["broken"]]
            want = gpu_cells(page)
            if seen["gpu"] != want:
                problems.append(f"{want} GPU cells in the notebook, {seen['gpu']} on the page")
            if seen["unlabelled"]:
                problems.append(f"{seen['unlabelled']} GPU cells without a 'GPU cell' box")
            if problems:
                failures[page] = problems
            n_math += seen["math"]
            n_gpu += seen["gpu"]
            if page in SHOTS:
                name = page.replace("/", "_").replace(".html", ".png")
                tab.screenshot(path=str(shots / name), full_page=False)
        browser.close()
    server.shutdown()
    wall = time.perf_counter() - start
    for page, problems in failures.items():
        print(f"FAIL {page}")
        for line in problems[:10]:
            print(f"  {line}")
    print(f"check_browser: {len(pages)} pages in Chromium, {n_math} equations typeset, "
          f"{n_gpu} GPU cells labelled, {len(failures)} pages failed ({wall:.0f} s); "
          f"screenshots in {shots}")
    return 1 if failures else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("html", type=Path, help="the built site, e.g. _build/html")
    ap.add_argument("--shots", type=Path, default=ROOT / "_build" / "browser-check")
    ap.add_argument("--pages", type=int, default=None, help="check only the first N pages")
    args = ap.parse_args()
    html = args.html.resolve()
    return check(html, args.shots, toc_pages(html)[:args.pages])


if __name__ == "__main__":
    sys.exit(main())
