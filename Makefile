# accountops.cloud - developer and CI entry points.
#
#   make test          sanity + units + integration (ansible-core 2.19) and the
#                      ansible-core 2.16 floor pass (units + integration);
#                      prints a summary, non-zero if any stage failed.
#                      This is what CI runs (.ci/run).
#   make sanity        ansible-test sanity --venv --python 3.11 (all default tests)
#   make units         ansible-test units  --venv --python 3.11
#   make integration   pytest tests/integration (playbooks against the emulator)
#   make units-2.16 / integration-2.16   the same on the ansible-core 2.16 floor
#   make demo          run docs/examples/demo.yml twice against the emulator
#   make bench         tests/benchmarks/run.py, if present
#   make release-checks  docs, changelog, lint, AWX/EE/runner/role, galaxy build+install (tests/release/run_checks.sh)
#   make venv          .venv with the pinned tests/requirements.txt (idempotent)
#   make collection    lay the tree out as build/ansible_collections/accountops/cloud
#   make lock          re-resolve the transitive-dependency lock files
#   make clean         remove build output (keeps the venvs; distclean drops them)
#
# Knobs: PYTHON=python3  ANSIBLE_TEST_PYTHON=3.11  PYTEST_WORKERS=2
#        PYTEST_ARGS=...  SANITY_ARGS=...  UNITS_ARGS=...  TEST_STAGES="..."

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
VENV_FLOOR ?= .cache/venv-2.16
BUILD ?= build
BUILD_FLOOR ?= $(BUILD)/floor-2.16
COLLECTION_DIR := $(BUILD)/ansible_collections/accountops/cloud
ANSIBLE_TEST_PYTHON ?= 3.11
PYTEST_WORKERS ?= 2
PYTEST_ARGS ?=
SANITY_ARGS ?=
UNITS_ARGS ?=
TEST_STAGES ?= sanity units integration release-checks units-2.16 integration-2.16

REQS := tests/requirements.txt
REQS_FLOOR := tests/requirements-2.16.txt
LOCK := tests/requirements-lock.txt
LOCK_FLOOR := tests/requirements-2.16-lock.txt

export PYTHON

RELEASE_VENV ?= .cache/venv-release

.PHONY: help venv venv-2.16 collection sanity units units-2.16 integration release-checks \
        integration-2.16 test demo bench lock clean distclean

help:
	@sed -n '3,20s/^# \{0,1\}//p' $(firstword $(MAKEFILE_LIST))

venv:
	@scripts/venv.sh $(VENV) $(REQS) $(LOCK)

venv-2.16:
	@scripts/venv.sh $(VENV_FLOOR) $(REQS_FLOOR) $(LOCK_FLOOR)

collection:
	@$(PYTHON) scripts/layout_collection.py --dest $(BUILD)

sanity: venv
	scripts/ansible_test.sh $(VENV) $(BUILD) sanity --venv --python $(ANSIBLE_TEST_PYTHON) $(SANITY_ARGS)

units: venv
	scripts/ansible_test.sh $(VENV) $(BUILD) units --venv --python $(ANSIBLE_TEST_PYTHON) $(UNITS_ARGS)

units-2.16: venv-2.16
	scripts/ansible_test.sh $(VENV_FLOOR) $(BUILD_FLOOR) units --venv --python $(ANSIBLE_TEST_PYTHON) $(UNITS_ARGS)

integration: venv collection
	scripts/integration.sh $(VENV) $(BUILD) $(PYTEST_WORKERS) $(PYTEST_ARGS)

integration-2.16: venv-2.16 collection
	scripts/integration.sh $(VENV_FLOOR) $(BUILD) $(PYTEST_WORKERS) $(PYTEST_ARGS)

release-checks:
	tests/release/run_checks.sh $(RELEASE_VENV)

test:
	@MAKE="$(MAKE)" scripts/run_stages.sh $(TEST_STAGES)

demo: venv collection
	scripts/demo.sh $(VENV) $(BUILD)

bench: venv collection
	@if [[ -f tests/benchmarks/run.py ]]; then \
	    ANSIBLE_COLLECTIONS_PATH=$(abspath $(BUILD)) $(VENV)/bin/python tests/benchmarks/run.py; \
	else \
	    echo "bench: tests/benchmarks/run.py does not exist yet - nothing to run"; \
	fi

lock:
	rm -f $(LOCK) $(LOCK_FLOOR)
	VENV_NO_LOCK=1 scripts/venv.sh $(VENV) $(REQS)
	VENV_NO_LOCK=1 scripts/venv.sh $(VENV_FLOOR) $(REQS_FLOOR)
	scripts/write_lock.sh $(VENV) $(REQS) > $(LOCK)
	scripts/write_lock.sh $(VENV_FLOOR) $(REQS_FLOOR) > $(LOCK_FLOOR)
	rm -f $(VENV)/.requirements.sha256 $(VENV_FLOOR)/.requirements.sha256
	@echo "lock: wrote $(LOCK) and $(LOCK_FLOOR); next make venv rebuilds against them"

clean:
	rm -rf $(BUILD) tests/output .pytest_cache .hypothesis
	find . -path ./.venv -prune -o -path ./.cache -prune -o -path ./.git -prune -o \
	    -name __pycache__ -type d -print0 | xargs -0 rm -rf

distclean: clean
	rm -rf $(VENV) .cache
