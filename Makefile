# Two commands: `make lab` (set up, open the course) and `make test` (set up, run every test).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# The stamp is named after pyproject.toml's hash: edit the dependencies and the next
# `make` reinstalls; otherwise the environment is reused in seconds.
STAMP  := $(VENV)/.installed-$(shell (sha256sum pyproject.toml 2>/dev/null || shasum -a 256 pyproject.toml) | cut -c1-12)
# TORCH=cpu installs torch's CPU-only build first (about 4 GB less than the default, which on
# Linux brings the CUDA libraries): for a laptop without an NVIDIA GPU. Any build named on
# the selector at pytorch.org works (TORCH=cu126 ...). Its own stamp, .torch-cpu, is made once;
# the package's install then finds torch there and keeps it, and so does a later plain `make`.
# Empty (the default, what CI runs): torch comes with the package, as any other dependency.
TORCH  ?=
TORCH_STAMP := $(if $(TORCH),$(VENV)/.torch-$(TORCH))
LAB_ARGS ?=
# Torch uses one CPU thread in the course's notebooks (make lab, course, doctor) unless you
# set OMP_NUM_THREADS or THREADS=n: the small nets of the course gain 1.3-1.7x from a second
# thread on an idle CPU and lose 3-9x when something else uses a core (OpenMP threads wait on
# each other; bench/threads.py), and the chapters' time estimates were measured on one thread.
THREADS ?= $(or $(OMP_NUM_THREADS),1)
WITH_THREADS := OMP_NUM_THREADS=$(THREADS)
# The course's JupyterLab settings, defaults only: the Jupyter news prompt is off. Changes you
# make in JupyterLab's settings editor still win; ~/.jupyter is not touched.
LAB_SETTINGS := lab-settings
# `make lab` opens your own copy of the chapters, which git ignores: your runs never touch
# notebooks/, so `make test` and `git pull` keep working. REFRESH=03 takes a chapter's new version.
MINE    ?= my-notebooks
REFRESH ?=
# Jupyter refuses to run as root unless told; containers and CI machines often are root.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: lab test bench course doctor clean-venv

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "Python >= 3.10 is needed; found " + sys.version.split()[0] + ". Run: make PYTHON=python3.11 ...")'
	@$(PYTHON) -m venv $(VENV)

# pip keeps a torch that is already installed, so a venv holding another build is said so, not silently kept.
$(VENV)/.torch-%: | $(BIN)/python
	@echo "Installing torch's $* build into $(VENV) from its own index (download.pytorch.org/whl/$*)"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --index-url https://download.pytorch.org/whl/$* torch torchvision
	@$(BIN)/python -c 'import sys, torch; cuda = torch.version.cuda; ok = cuda is None if "$*" == "cpu" else (cuda or "").replace(".", "") == "$*".removeprefix("cu"); sys.exit(0 if ok else f"$(VENV) already holds torch {torch.__version__} (CUDA {cuda}), not the $* build, and pip keeps it. Start afresh: make clean-venv && make lab TORCH=$*")'
	@touch $@

$(STAMP): pyproject.toml $(TORCH_STAMP) | $(BIN)/python
	@echo "Installing nbhelpers and its dependencies into $(VENV) (the first time takes minutes: torch is large)"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

lab: $(STAMP)
	@$(WITH_THREADS) $(BIN)/python -m nbhelpers doctor
	@$(BIN)/python -m nbhelpers workspace $(MINE) $(if $(REFRESH),--refresh $(REFRESH))
	$(WITH_THREADS) $(BIN)/jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.root_dir=$(MINE) \
		--LabApp.app_settings_dir=$(LAB_SETTINGS) $(ROOT_FLAG) $(LAB_ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	@for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

# The reference run: every chapter in full mode into build/<mode>-<threads>-thread/ with RUN.md and
# verdicts.tsv. THREADS=2 runs it on two torch threads; `python -m nbhelpers verdicts A B` compares two runs.
course: $(STAMP)
	$(WITH_THREADS) $(BIN)/python -m nbhelpers course --threads $(THREADS)

doctor: $(STAMP)
	@$(WITH_THREADS) $(BIN)/python -m nbhelpers doctor

clean-venv:
	rm -rf $(VENV)
