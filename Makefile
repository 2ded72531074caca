# Two commands set everything up (see README.md):
#   make book   build the HTML site into _build/html (creates .venv on first use)
#   make test   run the unit tests and re-execute every chapter with nbval
# The first of python3.11, python3.12, python3.13 that runs (pyenv shims exist even for
# versions that are not selected, so each is run, not just looked up); PYTHON=... overrides.
ifndef PYTHON
PYTHON := $(firstword $(foreach p,python3.11 python3.12 python3.13,\
            $(shell $(p) -c "import sys" >/dev/null 2>&1 && echo $(p))))
endif
# VENV=... puts the environment elsewhere (.ci/run makes one per Python under _build).
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

# Quiet TensorFlow's start-up lines.
export TF_CPP_MIN_LOG_LEVEL := 3
export TF_ENABLE_ONEDNN_OPTS := 0
export PYTHONHASHSEED := 0
# The chapters' kernels must draw inline figures: a matplotlib backend inherited from the
# shell (MPLBACKEND=Agg, say) would silently drop every figure from the site.
unexport MPLBACKEND

.PHONY: install book test unit notebooks bench experiments clean

install: $(STAMP)

# The environment is made from environment.yml's pip section and nothing else, as Binder
# makes it (tests/test_binder.py checks that the venv holds exactly what that section
# requires, so every test and chapter run here is a run in Binder's environment).
# Byte-compiling: pip compiles the installed modules one at a time (TensorFlow's many
# thousands, over a minute here); compileall -j 0 does the same files on every core.
# (Skipping it is no option: with PYTHONDONTWRITEBYTECODE set, as on these machines,
# every kernel would recompile TensorFlow at import.) Like pip, a file that does not
# compile is left as it is.
$(STAMP): environment.yml pyproject.toml
	@test -x $(BIN)/python || test -n "$(PYTHON)" || { echo "make: no python3.11, \
	python3.12 or python3.13 runs here; install one or pass PYTHON=/path/to/python"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip==26.0
	sed -n '/^  - pip:/,$${/^      - /s/^      - //p}' environment.yml > $(VENV)/requirements.txt
	$(BIN)/python -m pip install --quiet --no-compile -r $(VENV)/requirements.txt
	$(BIN)/python -m compileall -q -j 0 $(VENV)/lib || echo "make: some modules were left uncompiled"
	touch $@

# --all re-reads every page, so a chapter that failed before fails again even when
# nothing changed; executions that succeeded are reused from the jupyter-cache.
# Jupyter Book executes the chapters one after another; first, jupyter-cache's own
# executor (jcache, installed with Jupyter Book) runs them two at a time on the two
# cores, into the cache the build then reads (the same executor, the same working
# directory: each notebook's own folder). A chapter that fails there is not cached, so
# the build executes it again and fails on it. The order keeps chapters that need a
# cached model after the one that trains it (chapter 4 trains the default MDN that
# chapters 5-8 and 10 load; chapter 9 trains the regressor chapter 1 loads) and starts
# the long ones first; chapters not named here follow.
BOOK_DIR ?= .
EXECUTE_FIRST := 04_training 05_temperature 09_robot_arm 11_alternatives 12_small_data 13_real_data \
                 07_report 08_components 10_training_failures 01_problem
CHAPTERS = $(wildcard $(patsubst %,$(BOOK_DIR)/book/%.ipynb,$(EXECUTE_FIRST))) \
           $(filter-out $(patsubst %,$(BOOK_DIR)/book/%.ipynb,$(EXECUTE_FIRST)), \
                        $(wildcard $(BOOK_DIR)/book/[0-9][0-9]_*.ipynb))
JCACHE = JUPYTERCACHE=$(BOOK_DIR)/_build/.jupyter_cache $(BIN)/jcache
# The figure style (book/matplotlibrc) changes every chapter's figures but no chapter's
# code, which is all the jupyter-cache compares: when the style changes, the cache is
# emptied so that every chapter runs again.
STYLE_STAMP = $(BOOK_DIR)/_build/.jupyter_cache/matplotlibrc.sha256
book: $(STAMP)
	@style=$$(cat $(BOOK_DIR)/book/matplotlibrc 2>/dev/null | sha256sum | cut -d' ' -f1); \
	if [ -d $(BOOK_DIR)/_build/.jupyter_cache ] && [ "$$(cat $(STYLE_STAMP) 2>/dev/null)" != "$$style" ]; then \
	  echo "book/matplotlibrc changed: emptying the jupyter-cache"; rm -rf $(BOOK_DIR)/_build/.jupyter_cache; fi; \
	mkdir -p $(BOOK_DIR)/_build/.jupyter_cache && echo "$$style" > $(STYLE_STAMP)
	@if [ -n "$(strip $(CHAPTERS))" ]; then \
	  mkdir -p $(BOOK_DIR)/_build/.jupyter_cache && \
	  $(JCACHE) notebook add $(CHAPTERS) >/dev/null && \
	  $(JCACHE) project execute --executor local-parallel --timeout 300 2>&1 \
	    | grep --line-buffered -v "Kernel is running over TCP\|absl::InitializeLog\|cudart_stub" || true; fi
	$(BIN)/jupyter-book build $(BOOK_DIR) -W --keep-going --all

# Builds the site first: the browser check (tests/test_site.py) reads _build/html.
# Then, as if TensorFlow saw a GPU (tests/conftest.py fakes the device list; ops still
# run on the CPU), every test whose code asks for a device (train_mdn, trained_mdn, remedy_run,
# choose_device): no test may assume the CPU. Faking the list changes nothing else, so
# rerunning the other tests would only repeat them.
DEVICE_TESTS = $(shell grep -l "train_mdn\|trained_mdn\|choose_device\|remedy_run" tests/test_*.py)
test: book
	$(BIN)/python -m pytest tests book --nbval-lax --nbval-current-env -p no:cacheprovider -v --durations=20
	MDN_FAKE_GPUS=1 $(BIN)/python -m pytest $(DEVICE_TESTS) -p no:cacheprovider -q

# The quick unit tests: no site, no build-failure builds, and none marked slow (those that
# train a network or run for seconds; `make test` runs them).
unit: $(STAMP)
	$(BIN)/python -m pytest tests --ignore=tests/test_site.py \
		--ignore=tests/test_build_fails.py -m "not slow" -p no:cacheprovider -q

notebooks: $(STAMP)
	$(BIN)/python -m pytest book --nbval-lax --nbval-current-env -p no:cacheprovider

bench: $(STAMP)
	$(BIN)/python -m mdn_utils.book.bench book/bench_results.json

# Stored experiments (mdn_utils.book.results): runs at full strength the experiments named
# in NAME (default: every one whose stored result is missing or stale) and writes
# book/results/NAME.json, to commit. Hours for all of them on two cores.
experiments: $(STAMP)
	$(BIN)/python -m mdn_utils.book.results run $(NAME)

clean:
	rm -rf _build
