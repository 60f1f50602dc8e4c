# The two quick-start commands. Each creates .venv and installs the project on first use.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

# Real data: ../shared/data when the project sits beside it (CI, the project's machines);
# otherwise the data root is ~/.cache/xnor-mram, where `make demo` downloads (and verifies) MNIST on first use;
# offline it stops before training with three lines: which files to put where.
XNOR_MRAM_DATA ?= $(if $(wildcard ../shared/data),$(abspath ../shared/data),)
export XNOR_MRAM_DATA

.PHONY: demo test clean

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m bnn demo

test: $(STAMP)
	$(PY) -m pytest

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
