# Two commands set everything up: `make demo` and `make test`. Both create .venv when missing and
# install the pinned dependencies once (the stamp file skips the install on later runs).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: demo test test-slow lint setup clean browser

setup: $(STAMP)

$(STAMP): pyproject.toml requirements/lock.txt requirements/dev-lock.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# torch first and alone, pinned to the CPU build, so nothing else can pull a CUDA build.
	$(BIN)/pip install --quiet "torch==2.13.0"
	$(BIN)/pip install --quiet -r requirements/lock.txt -r requirements/dev-lock.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/rlwb demo

# The `rlwb quiz serve` test drives Debian's headless Chromium: installed here when missing and
# possible (root with apt-get); without it that test is skipped, except in CI where it fails.
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "Installing chromium and chromium-driver (Debian packages) for the browser test"; \
	  apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1 || \
	  { apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null; } || \
	  echo "warning: chromium could not be installed; the browser test will be skipped"; \
	else echo "note: no chromium (apt-get install chromium chromium-driver); the browser test will be skipped"; fi

test: $(STAMP) browser
	$(BIN)/python -m pytest -q

test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

clean:
	rm -rf $(VENV) demo-report .pytest_cache
