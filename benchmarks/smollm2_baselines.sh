#!/usr/bin/env bash
# SmolLM2-135M-Instruct figures (issue 9), offline. Needs `make setup-smollm2`.
# SmolLM2 samples ~150 tokens/s on 2 idle CPU cores, hence the small limits; drop them on a GPU.
#  1. a short RLSD fit on arith: its initial evaluation is the arith baseline (id and ood), its
#     final one the same problems after the steps -> benchmarks/baselines/smollm2-135m_rlsd/
#  2. `creditzoo eval` on CHAMP -> benchmarks/baselines/smollm2-135m_champ.json
#  3. `creditzoo eval` on arith, 4 samples per problem -> benchmarks/baselines/smollm2-135m_arith.json
set -euo pipefail
cd "$(dirname "$0")/.."
CZ=${CZ:-.venv/bin/creditzoo}
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1
# The instruct model is asked to box its answer (data.prompt_template=instruction); arith's own
# template is the bare problem, which the tiny model was trained on.
$CZ fit model=smollm2-135m algorithm=rlsd max_steps=3 prompts_per_step=4 group_size=4 \
  max_new_tokens=128 data.prompt_template=instruction lr=1e-6 \
  loss.micro_batch_size=8 eval.n=50 eval.k=1 log_samples_every=0 \
  output_dir=benchmarks/baselines/smollm2-135m_rlsd
$CZ eval model=smollm2-135m benchmark=champ limit=20 k=1 max_new_tokens=384 \
  out=benchmarks/baselines/smollm2-135m_champ.json
$CZ eval model=smollm2-135m benchmark=arith benchmark.prompt_template=instruction limit=50 k=4 \
  max_new_tokens=128 out=benchmarks/baselines/smollm2-135m_arith.json
