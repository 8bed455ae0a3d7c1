# Two commands: `make lab` (set up, open the course) and `make test` (set up, run every test).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# The stamp is named after pyproject.toml's hash: edit the dependencies and the next
# `make` reinstalls; otherwise the environment is reused in seconds.
STAMP  := $(VENV)/.installed-$(shell (sha256sum pyproject.toml 2>/dev/null || shasum -a 256 pyproject.toml) | cut -c1-12)
LAB_ARGS ?=
# `make lab` opens your own copy of the chapters, which git ignores: your runs never touch
# notebooks/, so `make test` and `git pull` keep working. REFRESH=03 takes a chapter's new version.
MINE    ?= my-notebooks
REFRESH ?=
# Jupyter refuses to run as root unless told; containers and CI machines often are root.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: lab test bench course doctor clean-venv

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "Python >= 3.10 is needed; found " + sys.version.split()[0] + ". Run: make PYTHON=python3.11 ...")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing nbhelpers and its dependencies into $(VENV) (the first time takes minutes: torch is large)"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

lab: $(STAMP)
	@$(BIN)/python -m nbhelpers doctor
	@$(BIN)/python -m nbhelpers workspace $(MINE) $(if $(REFRESH),--refresh $(REFRESH))
	$(BIN)/jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.root_dir=$(MINE) $(ROOT_FLAG) $(LAB_ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	@for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

# The reference run: every chapter in full mode into build/<mode>-<threads>-thread/ with RUN.md and
# verdicts.tsv. THREADS=2 runs it on two torch threads; `python -m nbhelpers verdicts A B` compares two runs.
THREADS ?=
course: $(STAMP)
	$(BIN)/python -m nbhelpers course $(if $(THREADS),--threads $(THREADS))

doctor: $(STAMP)
	@$(BIN)/python -m nbhelpers doctor

clean-venv:
	rm -rf $(VENV)
