#!/usr/bin/env bash
# SmolLM2-135M-Instruct baseline figures (issue 9), offline: arith id/ood and CHAMP.
# Needs `make setup-smollm2`. CPU cost: SmolLM2 samples ~150 tokens/s on 2 idle cores, hence the
# limits; drop `limit=` on a faster machine. Writes benchmarks/baselines/smollm2-135m_<bench>.json.
set -euo pipefail
cd "$(dirname "$0")/.."
CZ=${CZ:-.venv/bin/creditzoo}
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1
# The instruct model is asked to box its answer on arith too (arith's own template is the bare
# problem, which the tiny model was trained on).
$CZ eval model=smollm2-135m benchmark=arith limit=50 k=1 max_new_tokens=192 \
  benchmark.prompt_template=instruction \
  out=benchmarks/baselines/smollm2-135m_arith.json
$CZ eval model=smollm2-135m benchmark=champ limit=20 k=1 max_new_tokens=384 \
  out=benchmarks/baselines/smollm2-135m_champ.json
