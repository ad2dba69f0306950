# papers: the two commands are `make book` (build the book, HTML) and `make test` (every test).
# Both set up the virtual environment first. Run `make help` for the rest.
PY      ?= python3.11
VENV    ?= .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed-stamp
JOBS    ?= auto
PYTEST  := $(BIN)/python -m pytest

.PHONY: help venv export check-sync pytest nbval nbval-all book book-check chromium wheel-check serve test test-full budget run \
        fresh-seeds bench clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-11s %s\n", $$1, $$2}'

$(STAMP): requirements-dev.txt requirements-peers.txt setup.py settings.ini
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	$(BIN)/python -m pip install -q --no-deps -r requirements-peers.txt
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $@

venv: $(STAMP)  ## create .venv with torch (CPU), the pinned tools and papers_lib (editable)

export: $(STAMP)  ## notebooks -> papers_lib, the API page and the Reproductions page
	$(BIN)/nbdev_export
	$(BIN)/python tools/api_page.py
	$(BIN)/python tools/ledger.py

check-sync: $(STAMP)  ## fail unless papers_lib, nbs/api/, nbs/reproductions.md and the notebooks are in sync and clean
	BIN=$(BIN) tools/check_sync.sh

# one torch thread per xdist worker: two workers of two threads each on two cores wait on
# each other at every parallel op (a 100x100 eigh: 0.6 ms alone, up to 400 ms contended)
pytest: $(STAMP) chromium  ## library tests (tests/)
	OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(PYTEST) tests -q -n $(JOBS) --durations=5 -p tests.cost_report --cost-json _build/cost-tests.json

NBVAL   := $(PYTEST) -p tests.nbval_gpu --nbval --nbval-current-env \
           --nbval-sanitize-with tests/sanitize.cfg -n $(JOBS) --dist loadfile --durations=15 -q -rs \
           -p tests.cost_report -p tests.nbval_record --nbval-record tests/nbval-record.json
SAMPLE  ?= 0.125

nbval: $(STAMP)  ## run the notebooks not verified in tests/nbval-record.json, and a rotating sample (NB="..." to choose among)
	@mkdir -p _build
	$(BIN)/python tools/nbcache.py select --sample $(SAMPLE) $(or $(NB),nbs) > _build/nbval-selected.txt
	@if grep -q . _build/nbval-selected.txt; then \
	  $(NBVAL) --cost-json _build/cost-nbval.json $$(cat _build/nbval-selected.txt); \
	else echo "nbval: every notebook is verified, none sampled"; fi

nbval-all: $(STAMP)  ## run every chapter's CPU cells and compare with the stored outputs (NB="..." for some)
	$(NBVAL) --cost-json _build/cost-nbval-all.json $(or $(NB),nbs)

book: $(STAMP) chromium  ## build the book (HTML) from the stored outputs into _build/html
	$(BIN)/jupyter-book build . --path-output . -W -n --keep-going
	$(BIN)/python tools/check_offline.py _build/html
	$(BIN)/python tools/check_browser.py _build/html
	@echo "The book is at file://$(CURDIR)/_build/html/index.html  (or: make serve)"

book-check: $(STAMP) chromium  ## build the book into a scratch folder, warnings as errors; check it in Chromium
	rm -rf _build/check
	$(BIN)/jupyter-book build . --path-output _build/check -W -n --keep-going -q
	$(BIN)/python tools/check_offline.py _build/check/_build/html
	$(BIN)/python tools/check_browser.py _build/check/_build/html

chromium:  ## Debian's chromium for the browser check (installed with apt-get where missing, as root)
	@[ -n "$$CHROMIUM" ] || command -v chromium >/dev/null || command -v chromium-browser >/dev/null || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	    { apt-get install -y -qq chromium >/dev/null || \
	      { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }; }; } || \
	  { echo "The browser check needs Chromium: apt-get install chromium (or set CHROMIUM)"; exit 1; }

serve: book  ## build the book and serve it on http://localhost:8000
	$(BIN)/python -m http.server 8000 -d _build/html

wheel-check: $(STAMP)  ## build the wheel, install it in a fresh venv (runtime dependencies only), import every part
	$(BIN)/python tools/check_wheel.py

test: check-sync pytest nbval book-check wheel-check  ## every test: sync, library tests, the notebooks that changed (and a sample), book, wheel
	@echo "make test: all checks passed"

test-full: check-sync pytest nbval-all book-check wheel-check  ## every test, every notebook
	@echo "make test-full: all checks passed"

budget: $(STAMP)  ## extrapolate make test and make test-full to 500 notebooks (a benchmark, not a test)
	$(BIN)/python benchmarks/budget.py $(ARGS)

run: $(STAMP)  ## execute chapters in place and clean them: make run NB="nbs/x/y.ipynb ..."
	$(BIN)/papers-run $(NB)
	for f in $(NB); do $(BIN)/nbdev_clean --fname $$f; done

fresh-seeds: $(STAMP)  ## re-run chapters on seeds they never saw, write nothing: make fresh-seeds NB="..." OFFSET=4242
	$(BIN)/papers-run $(NB) --seed-offset $(or $(OFFSET),4242)

bench: $(STAMP)  ## ours vs peers: optimizers (vs AdamW, peer, bandwidth floor), ODE, OT, imports: make bench ARGS="--sections ot"
	$(BIN)/python benchmarks/bench.py $(ARGS)

clean:  ## remove the built book and caches (keeps .venv)
	rm -rf _build .pytest_cache
