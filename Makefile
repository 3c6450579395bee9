# CTO Advisor: every target CI runs lives here. `make run` and `make test` work on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8501
export ADVISOR_DATA_DIR ?= data/.advisor
export HF_HUB_OFFLINE := 1
export DO_NOT_TRACK := 1
export UNSTRUCTURED_DISABLE_NOTICE := 1
export ANONYMIZED_TELEMETRY := False

.PHONY: install run app index status test test-fast lint format eval eval-baselines eval-llm-replay eval-mutants eval-naive bench browser clean

install: $(STAMP)

# torch first (the CPU build on local disk; a bare `torch` would pull a multi-GB CUDA build), then
# the pinned set, then unstructured-inference without its dependencies (they drag in torchvision);
# last, MiniLM is exported to ONNX inside the venv, so run time never imports torch.
$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps unstructured-inference==1.6.14
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m advisor.core.onnx_export
	@! $(BIN)/pip list 2>/dev/null | grep -iE '^(nvidia|torchvision)' || (echo "a CUDA package slipped in" && exit 1)
	touch $(STAMP)

## The main job: install, index the sample data, open the chat.
run: install index app

app: install
	$(BIN)/streamlit run app.py --server.port $(PORT)

## Index data/: playbooks as shared knowledge, each data/clients/<name> under its own scope.
index: install
	$(BIN)/cto-advisor ingest data/playbooks
	@for dir in data/clients/*/; do \
		$(BIN)/cto-advisor ingest "$$dir" --client "$$(basename $$dir)" || exit 1; \
	done
	$(BIN)/python scripts/build_sample_repo.py --out build/sample-repos/haulwise-dispatch
	$(BIN)/cto-advisor ingest-repo "file://$(CURDIR)/build/sample-repos/haulwise-dispatch" --client haulwise
	$(BIN)/cto-advisor status

status: install
	$(BIN)/cto-advisor status

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/deptry .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

browser:
	bash scripts/install_browser.sh

## Everything CI checks: lint, the test suite (browser included), short benchmarks, eval gates.
test: install browser lint
	$(BIN)/pytest
	$(MAKE) bench BENCH_FLAGS=--short
	$(MAKE) eval
	$(MAKE) eval-mutants

test-fast: install
	$(BIN)/pytest -m "not browser and not slow"

EVAL_OUT ?= reports
SHARED ?= ../shared/corpora
EVAL_FLAGS ?=
EVAL := $(BIN)/cto-advisor eval $(EVAL_FLAGS)
SAVE_BASELINES ?=
saved = $(if $(SAVE_BASELINES),--save-baseline evals/baselines/$(1).json)

## Evals with the checked-in gates (evals/thresholds.toml, evals/baselines/, evals/splits.toml):
## exit 1 when a metric of the tuning or the frozen test part drops beyond noise or beyond its
## margin, or breaks a hard bound; exit 2 when a frozen test part was edited. Offline on sample
## and dev, the assessment and memos, then LLM mode on recorded replies.
eval: install
	$(EVAL) --corpus data --dataset evals/datasets/sample.jsonl --out $(EVAL_OUT)/sample $(call saved,sample)
	$(EVAL) --corpus data --dataset evals/datasets/near-topic.jsonl --out $(EVAL_OUT)/near-topic $(call saved,near-topic)
	$(EVAL) --task assessment --corpus data --dataset evals/datasets/assessment.yaml --out $(EVAL_OUT)/assessment $(call saved,assessment)
	$(EVAL) --task assessment --corpus evals/corpora/conflicts --dataset evals/datasets/assessment-conflicts.yaml --out $(EVAL_OUT)/assessment-conflicts $(call saved,assessment-conflicts)
	$(EVAL) --task memo --corpus data --dataset evals/datasets/memos.jsonl --out $(EVAL_OUT)/memos $(call saved,memos)
	@if [ -d $(SHARED)/dev ]; then \
		$(EVAL) --corpus $(SHARED)/dev --dataset $(SHARED)/dev-questions.jsonl --out $(EVAL_OUT)/dev $(call saved,dev-questions) && \
		$(EVAL) --corpus $(SHARED)/dev --dataset evals/datasets/dev-extra.jsonl --out $(EVAL_OUT)/dev-extra $(call saved,dev-extra) && \
		$(EVAL) --corpus $(SHARED)/dev --dataset evals/datasets/near-topic-dev.jsonl --out $(EVAL_OUT)/near-topic-dev $(call saved,near-topic-dev) && \
		$(EVAL) --task memo --corpus $(SHARED)/dev --dataset evals/datasets/memos-dev.jsonl --out $(EVAL_OUT)/memos-dev $(call saved,memos-dev); \
	else echo "skipping the dev eval: $(SHARED)/dev not found"; fi
	$(MAKE) eval-llm-replay

## Re-save every checked-in baseline from this code (then review and commit evals/baselines/).
eval-baselines: install
	$(MAKE) -i eval SAVE_BASELINES=1

REPLAY ?= evals/replays/llm-replay.jsonl
# Starts the loopback server replaying recorded model replies; $$port is set for the command.
define WITH_REPLAY
	@mkdir -p $(EVAL_OUT)/llm-replay
	@$(BIN)/python -m tests.fakes.openai_server --replay $(REPLAY) --port 0 > $(EVAL_OUT)/llm-replay/server.port & pid=$$!; \
	trap "kill $$pid" EXIT; \
	for i in $$(seq 100); do grep -q '^PORT=' $(EVAL_OUT)/llm-replay/server.port && break; sleep 0.1; done; \
	port=$$(sed -n 's/^PORT=//p' $(EVAL_OUT)/llm-replay/server.port); \
	test -n "$$port" || { echo "the replay server did not start"; exit 1; }; \
	$(1)
endef

## LLM mode against the loopback OpenAI-protocol server replaying recorded model replies.
eval-llm-replay: install
	$(call WITH_REPLAY,OPENAI_BASE_URL=http://127.0.0.1:$$port/v1 OPENAI_API_KEY=replay ADVISOR_MODE=auto \
		$(EVAL) --corpus data --dataset evals/datasets/llm-replay.jsonl --out $(EVAL_OUT)/llm-replay $(call saved,llm-replay))

## Mutation testing of the gates (evals/mutants.py): each deliberately broken variant must fail
## at least one gate, and each gated metric must catch at least one variant. Reuses the cached
## eval indexes that `make eval` builds; writes the mutant x gate table to $(EVAL_OUT)/mutants.md.
eval-mutants: install
	$(call WITH_REPLAY,$(BIN)/python -m evals.mutants --shared $(SHARED) \
		--replay-url http://127.0.0.1:$$port/v1 --md $(EVAL_OUT)/mutants.md --json $(EVAL_OUT)/mutants.json)

## The naive LangChain recipe on the same corpora and questions, for comparison.
eval-naive: install
	$(BIN)/cto-advisor eval --system naive --corpus data --dataset evals/datasets/sample.jsonl --out $(EVAL_OUT)/sample-naive
	$(BIN)/cto-advisor eval --system naive --corpus $(SHARED)/dev --dataset $(SHARED)/dev-questions.jsonl --out $(EVAL_OUT)/dev-naive
	$(BIN)/cto-advisor eval --system naive --corpus $(SHARED)/dev --dataset evals/datasets/dev-extra.jsonl --out $(EVAL_OUT)/dev-extra-naive

BENCH_FLAGS ?=
bench: install
	$(BIN)/python benchmarks/ingest_bench.py $(BENCH_FLAGS)
	$(BIN)/python benchmarks/answer_bench.py $(BENCH_FLAGS)
	$(BIN)/python benchmarks/api_load.py $(BENCH_FLAGS)
	$(BIN)/python benchmarks/embedding_bench.py $(BENCH_FLAGS)
	$(BIN)/python benchmarks/startup_bench.py $(BENCH_FLAGS)
	$(BIN)/python benchmarks/retrieval_bench.py $(BENCH_FLAGS)
	$(BIN)/python benchmarks/repo_bench.py $(BENCH_FLAGS)
	$(BIN)/python benchmarks/concurrency_bench.py $(BENCH_FLAGS)
	$(BIN)/python benchmarks/kill_bench.py $(BENCH_FLAGS)

clean:
	rm -rf $(VENV) data/.advisor reports artifacts .pytest_cache .ruff_cache
