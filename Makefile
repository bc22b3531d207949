# colisten: the two commands are `make demo` and `make test`; both bootstrap with `make setup`.
SHELL := /bin/bash
PY_SYS ?= $(shell command -v python3.11 || ls -d $(HOME)/.pyenv/versions/3.11*/bin/python3.11 2>/dev/null | tail -1 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
TORCH_VERSION := 2.13.0
WHEEL_CACHE ?= $(HOME)/.cache/colisten/wheels/torch-$(TORCH_VERSION)
KAFKA_LIB := infra/kafka/lib
STAMP := $(VENV)/.colisten-installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export PYTHONHASHSEED := 0

.PHONY: setup browser-installed redis-server-installed demo test test-unit lint services-up services-down clean-state bench

setup: $(STAMP) $(KAFKA_LIB)/.resolved redis-server-installed browser-installed

$(VENV)/bin/python:
	@$(PY_SYS) -c 'import sys; assert sys.version_info[:2] == (3, 11), sys.version' || \
	  { echo "colisten needs Python 3.11 (found: $(PY_SYS))"; exit 1; }
	$(PY_SYS) -m venv $(VENV)
	$(PIP) install -q --upgrade pip wheel setuptools

# Python deps, then torch-scatter/torch-sparse compiled against the venv's exact torch.
# Built wheels are cached per torch version outside the repo, so a warm setup or a fresh
# clone on the same machine does not recompile.
$(STAMP): pyproject.toml $(VENV)/bin/python
	$(PIP) install -q -e ".[dev]"
	@mkdir -p $(WHEEL_CACHE)
	@if ! ls $(WHEEL_CACHE)/torch_scatter-*.whl >/dev/null 2>&1 || \
	    ! ls $(WHEEL_CACHE)/torch_sparse-*.whl >/dev/null 2>&1; then \
	  echo "compiling torch-scatter and torch-sparse against torch $(TORCH_VERSION) (once; ~10-20 min on 2 cores)"; \
	  time MAX_JOBS=2 $(PIP) wheel --no-build-isolation --no-deps -w $(WHEEL_CACHE) \
	    torch-scatter==2.1.2 torch-sparse==0.6.18; \
	fi
	$(PIP) install -q --no-deps --no-index --find-links $(WHEEL_CACHE) torch-scatter==2.1.2 torch-sparse==0.6.18
	$(PY) -c "import torch_sparse, torch_scatter, torch; assert torch.__version__.startswith('$(TORCH_VERSION)'), torch.__version__"
	@touch $@

$(KAFKA_LIB)/.resolved: infra/kafka/pom.xml
	cd infra/kafka && mvn -q -B dependency:copy-dependencies -DoutputDirectory=lib -DincludeScope=runtime
	@touch $@

redis-server-installed:
	@command -v redis-server >/dev/null || { \
	  echo "installing redis-server from Debian's packages"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server) >/dev/null; }
	@command -v redis-server >/dev/null

# Headless Chromium and its driver (Debian's packages) for the web page's browser test.
browser-installed:
	@command -v chromedriver >/dev/null || { \
	  echo "installing chromium and chromium-driver from Debian's packages"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver) >/dev/null; }
	@command -v chromedriver >/dev/null

services-up: setup
	$(VENV)/bin/colisten services up

services-down:
	@if [ -x $(VENV)/bin/colisten ]; then $(VENV)/bin/colisten services down; fi

demo: setup
	$(VENV)/bin/colisten demo

# The whole suite against real services; stops what it started, keeps pytest's status.
test: setup
	@started=0; \
	if ! $(VENV)/bin/colisten services status | grep -q "kafka.*running"; then started=1; fi; \
	$(VENV)/bin/colisten services up || exit 1; \
	$(PY) -m pytest -q --timeout=900 $(PYTEST_ARGS); status=$$?; \
	if [ $$started = 1 ]; then $(VENV)/bin/colisten services down; fi; \
	if [ $$status = 5 ]; then echo "pytest collected no tests: failing"; status=1; fi; \
	exit $$status

test-unit: setup
	$(PY) -m pytest -q -m "not integration" $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check .

bench: setup
	@echo "see bench/README.md"

clean-state: services-down
	rm -rf var
