# Story extractor: `make help` lists the targets.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
RAW       ?= raw
EXTRACTED ?= extracted
GOLD      ?= tests/fixtures/gold
SITE      ?= https://jaif.asean.org/beneficiaries_voice/
DELAY     ?= 1
FUZZ_PAGES ?= 5000
FUZZ_SEED  ?= 0
KILLS      ?= 50

.DEFAULT_GOAL := help
.PHONY: help setup run extract test eval eval-dev eval-holdout eval-holdout2 bench fuzz killtest fetch update dictionary lock clean

help: ## List the targets and what they do
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'
	@echo "  variables: RAW=$(RAW) EXTRACTED=$(EXTRACTED) GOLD=$(GOLD) SITE=$(SITE) DELAY=$(DELAY)"

$(VENV)/.installed: requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements.lock
	touch $@

setup: $(VENV)/.installed ## Create .venv with the pinned dependencies and the spaCy model

run: setup ## Set up, then extract the bundled raw/ pages into extracted/
	$(PY) -m pipeline extract --raw $(RAW) --out $(EXTRACTED)

extract: setup ## Extract any folder of pages: make extract RAW=dir EXTRACTED=dir
	$(PY) -m pipeline extract --raw $(RAW) --out $(EXTRACTED)

test: setup ## Set up, then run the test suite (includes the accuracy gate)
	$(PY) -m pytest

eval: setup ## Score extracted/ against the gold annotations: make eval [GOLD=dir]
	$(PY) -m pipeline eval --gold $(GOLD) --extracted $(EXTRACTED)

eval-dev: setup ## Extract and score the second development set (tests/devset)
	$(PY) -m pipeline extract --raw tests/devset/raw --out build/devset --quiet
	$(PY) -m pipeline eval --gold tests/devset/gold --extracted build/devset

eval-holdout: setup ## Extract and score the held-out set (tests/holdout)
	$(PY) -m pipeline extract --raw tests/holdout/raw --out build/holdout --quiet
	$(PY) -m pipeline eval --gold tests/holdout/gold --extracted build/holdout

eval-holdout2: setup ## Extract and score the second held-out set (tests/holdout2)
	$(PY) -m pipeline extract --raw tests/holdout2/raw --out build/holdout2 --quiet
	$(PY) -m pipeline eval --gold tests/holdout2/gold --extracted build/holdout2

bench: setup ## Throughput and peak memory: whole pipeline vs bare spaCy
	$(PY) -m pipeline.bench

fuzz: setup ## Bad pages, good ones mixed in: crashes, hangs, lost pages (FUZZ_PAGES=5000 FUZZ_SEED=0)
	$(PY) -m pipeline.fuzz --pages $(FUZZ_PAGES) --seed $(FUZZ_SEED)

killtest: setup ## Kill an extraction KILLS times (default 50); tables must stay readable and consistent
	CRASH_SAFETY_KILLS=$(KILLS) $(PY) -m pytest -q tests/test_crash_safety.py

fetch: setup ## Download new or changed stories politely: make fetch SITE=url
	$(PY) -m pipeline fetch --start-url $(SITE) --raw $(RAW) --delay $(DELAY)

update: setup ## Fetch, then re-extract only what is new or changed (for cron)
	$(PY) -m pipeline update --start-url $(SITE) --raw $(RAW) --out $(EXTRACTED) --delay $(DELAY)

dictionary: setup ## Regenerate docs/data-dictionary.md from pipeline/schema.py
	$(PY) -m pipeline dictionary > docs/data-dictionary.md

lock: ## Re-pin requirements.lock (hashes) from requirements.in
	$(PY) -m pip install --quiet pip-tools
	$(VENV)/bin/pip-compile --generate-hashes --strip-extras --allow-unsafe -q -o requirements.lock requirements.in

clean: ## Remove the virtual environment and build outputs (never raw/)
	rm -rf $(VENV) build .pytest_cache
