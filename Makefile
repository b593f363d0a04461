# Two entry points for a fresh machine: `make train` and `make test` (each installs first).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# This machine takes the local CPU wheel; elsewhere see README "Other machines".
TORCH ?= torch==2.13.0
TORCH_INDEX ?=
STAMP := $(VENV)/.installed

.PHONY: install train test validate

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch first, pinned, so that no dependency below can pull a CUDA build
	$(PY) -m pip install --quiet "$(TORCH)" $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

train: install
	$(VENV)/bin/stance validate labels/*.jsonl labels/dev/dev.jsonl
	$(PY) scripts/train.py

validate: install
	$(VENV)/bin/stance validate labels/*.jsonl labels/dev/dev.jsonl

test: install
	$(PY) -m pytest -m "not slow"
