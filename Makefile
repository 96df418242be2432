# Story extractor: `make help` lists the targets.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
RAW       ?= raw
EXTRACTED ?= extracted
GOLD      ?= tests/fixtures/gold
SITE      ?= https://jaif.asean.org/beneficiaries_voice/
EVALSET   ?= ../shared/bench/trafilatura-eval.tar.gz
DELAY     ?= 1
# Real development pages: gold in $(REALDEV)/gold, their third-party text rebuilt locally (never committed)
# into $(REALDEV_TEXT) as $(REALDEV)/README.md says. The default fits the main checkout.
REALDEV      ?= ../shared/realdev
REALDEV_TEXT ?= build/realdev/text
REALDEV_RAW  := build/realdev/raw
PAGES_FROM_TEXT ?= $(REALDEV)/../bin/pages-from-text
export REALDEV REALDEV_TEXT
FUZZ_PAGES ?= 5000
FUZZ_SEED  ?= 0
FUZZ_ARGS  ?=
KILLS      ?= 50

.DEFAULT_GOAL := help
.PHONY: help setup run extract test eval eval-dev eval-holdout eval-holdout2 eval-persons eval-real train-scorer bench bench-scale bench-parse fuzz killtest fetch update report dictionary lock clean

help: ## List the targets and what they do
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'
	@echo "  variables: RAW=$(RAW) EXTRACTED=$(EXTRACTED) GOLD=$(GOLD) SITE=$(SITE) DELAY=$(DELAY) REALDEV=$(REALDEV) REALDEV_TEXT=$(REALDEV_TEXT)"

MIN_PYTHON := 3.11

$(VENV)/.installed: requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < tuple(map(int, "$(MIN_PYTHON)".split("."))))' 2>/dev/null || \
	  { echo "error: story-extractor needs Python >= $(MIN_PYTHON); '$(PYTHON)' is $$($(PYTHON) --version 2>&1 || echo missing). Try: make PYTHON=python$(MIN_PYTHON) ..." >&2; exit 2; }
	$(PYTHON) -m venv "$(VENV)"
	"$(PY)" -m pip install --quiet --upgrade pip
	"$(PY)" -m pip install --quiet --require-hashes -r requirements.lock
	PYTHONWARNINGS=ignore "$(PY)" -m pip install --quiet --no-deps --no-build-isolation --editable .
	touch "$@"

setup: $(VENV)/.installed ## Create .venv with the pinned dependencies, the spaCy model and the story-extractor command

run: setup ## Set up, then extract the bundled raw/ pages into extracted/
	"$(PY)" -m pipeline extract --raw "$(RAW)" --out "$(EXTRACTED)"

extract: setup ## Extract any folder of pages: make extract RAW=dir EXTRACTED=dir
	"$(PY)" -m pipeline extract --raw "$(RAW)" --out "$(EXTRACTED)"

test: setup ## Set up, then run the test suite (includes the accuracy gate)
	"$(PY)" -m pytest

eval: setup ## Score extracted/ against the gold annotations: make eval [GOLD=dir]
	"$(PY)" -m pipeline eval --gold "$(GOLD)" --extracted "$(EXTRACTED)"

eval-dev: setup ## Extract and score the second development set (tests/devset)
	"$(PY)" -m pipeline extract --raw tests/devset/raw --out build/devset --quiet
	"$(PY)" -m pipeline eval --gold tests/devset/gold --extracted build/devset

eval-holdout: setup ## Extract and score the held-out set (tests/holdout)
	"$(PY)" -m pipeline extract --raw tests/holdout/raw --out build/holdout --quiet
	"$(PY)" -m pipeline eval --gold tests/holdout/gold --extracted build/holdout

eval-holdout2: setup ## Extract and score the second held-out set (tests/holdout2)
	"$(PY)" -m pipeline extract --raw tests/holdout2/raw --out build/holdout2 --quiet
	"$(PY)" -m pipeline eval --gold tests/holdout2/gold --extracted build/holdout2

eval-persons: setup ## Extract the cross-article set (tests/persons) and score person resolution against its gold links
	"$(PY)" -m pipeline extract --raw tests/persons/raw --out build/persons --quiet
	"$(PY)" -m pipeline.evaluate_links --gold tests/persons/gold/links.json --extracted build/persons

eval-real: setup ## Extract and score the real pages (realdev); exits 2 if their local text is missing
	@ls "$(REALDEV_TEXT)"/*.txt >/dev/null 2>&1 || { echo "eval-real: no page text in $(REALDEV_TEXT)/; rebuild it as $(REALDEV)/README.md says (REALDEV=$(REALDEV))"; exit 2; }
	@test -d "$(REALDEV)/gold" || { echo "eval-real: no gold folder $(REALDEV)/gold; set REALDEV=path/to/shared/realdev"; exit 2; }
	@$(MAKE) --no-print-directory $(REALDEV_RAW)/.built
	"$(PY)" -m pipeline extract --raw "$(REALDEV_RAW)" --out build/realdev/extracted --quiet
	"$(PY)" -m pipeline eval --gold "$(REALDEV)/gold" --extracted build/realdev/extracted

train-scorer: setup ## Fit the fact scorer (pipeline/models/scorer.json) on the fictional gold sets; realdev, when rebuilt, is scored blind
	@mkdir -p build/scorer
	@if ls "$(REALDEV_TEXT)"/*.txt >/dev/null 2>&1 && test -d "$(REALDEV)/gold"; then \
	  $(MAKE) --no-print-directory $(REALDEV_RAW)/.built && \
	  "$(PY)" -m pipeline.train_scorer --evaluate-on realdev="$(REALDEV_RAW):$(REALDEV)/gold" --report build/scorer/ablation.md; \
	else \
	  echo "train-scorer: no realdev text in $(REALDEV_TEXT)/ (or no $(REALDEV)/gold); the same model, without the real-page rows of the ablation"; \
	  "$(PY)" -m pipeline.train_scorer --report build/scorer/ablation.md; \
	fi

$(REALDEV_RAW)/.built: $(wildcard $(REALDEV_TEXT)/*.txt)
	rm -rf "$(REALDEV_RAW)"
	$(PYTHON) "$(PAGES_FROM_TEXT)" cache "$(REALDEV_TEXT)" "$(REALDEV_RAW)"
	touch "$@"

bench: setup ## Throughput and peak memory: whole pipeline vs bare spaCy, growth with page size, then the scaling run (bench-scale)
	"$(PY)" -m pipeline.bench
	"$(PY)" -m pipeline.bench_growth
	@mkdir -p build
	"$(PY)" -m pipeline.bench_scale --json build/bench-scale.json --plot build/bench-scale.png

bench-scale: setup ## Time and memory at 1x, 4x, 10x the corpus, no-op and one-page updates, local vs Dask
	@mkdir -p build
	"$(PY)" -m pipeline.bench_scale --json build/bench-scale.json --plot build/bench-scale.png

bench-parse: setup ## Main-content benchmark: parse stage vs trafilatura on its eval set (EVALSET=archive)
	"$(PY)" -m pipeline.bench_parse --archive "$(EVALSET)"

fuzz: setup ## Bad pages, good ones mixed in: crashes, hangs, lost pages (FUZZ_PAGES=5000 FUZZ_SEED=0 FUZZ_ARGS=--resume)
	"$(PY)" -m pipeline.fuzz --pages "$(FUZZ_PAGES)" --seed "$(FUZZ_SEED)" $(FUZZ_ARGS)

killtest: setup ## Kill an extraction KILLS times (default 50); tables must stay readable and consistent
	CRASH_SAFETY_KILLS="$(KILLS)" "$(PY)" -m pytest -q tests/test_crash_safety.py

fetch: setup ## Download new or changed stories politely: make fetch SITE=url
	"$(PY)" -m pipeline fetch --start-url "$(SITE)" --raw "$(RAW)" --delay "$(DELAY)"

update: setup ## Fetch, then re-extract only what is new or changed (for cron)
	"$(PY)" -m pipeline update --start-url "$(SITE)" --raw "$(RAW)" --out "$(EXTRACTED)" --delay "$(DELAY)"

report: run ## Extract (as make run), then write the review site to reports/: make report [RAW=dir EXTRACTED=dir]
	"$(PY)" -m pipeline report --extracted "$(EXTRACTED)" --out reports

dictionary: setup ## Regenerate docs/data-dictionary.md from pipeline/schema.py
	"$(PY)" -m pipeline dictionary > docs/data-dictionary.md

lock: ## Re-pin requirements.lock (hashes) from requirements.in
	"$(PY)" -m pip install --quiet pip-tools
	"$(VENV)/bin/pip-compile" --generate-hashes --strip-extras --allow-unsafe -q -o requirements.lock requirements.in

clean: ## Remove the virtual environment and build outputs (never raw/)
	rm -rf "$(VENV)" build .pytest_cache
