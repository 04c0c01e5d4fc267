#!/usr/bin/env bash
# One-shot GPU check (issue 20): `trainer=gpu` fits of the tiny model (grpo, rlsd), static-engine
# vs `model.generate` tokens/s on a random Qwen2-0.5B-shaped model in bf16 and fp32, peak GPU
# memory; writes ONE JSON file. Meant for a machine with one NVIDIA GPU where PyTorch, Lightning
# and transformers are installed and nothing can be downloaded: whatever else creditzoo imports
# at run time (hydra-core, omegaconf, antlr4 runtime, math-verify, latex2sympy2_extended) and
# the machine lacks is installed from the wheels in benchmarks/gpu_wheels/ (pure Python, 0.6 MB)
# into a private folder, never into the machine's site-packages.
#
#   bash benchmarks/gpu_check.sh --out $OUT/gpu_check.json            # on the GPU, < 8 min
#   bash benchmarks/gpu_check.sh --out /tmp/gpu_check.json --dry-run  # anywhere, tiny sizes
#
# PYTHON (default python3) picks the interpreter; GPU_CHECK_SITE the private folder. Exit status
# 0 when every part ran, every loss was finite and every fit learned; the JSON is written either way.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
SITE="${GPU_CHECK_SITE:-${TMPDIR:-/tmp}/creditzoo-gpu-check-site}"

# The vendored wheels whose distribution is not installed (an installed one, any version, stays).
missing=$("$PY" - <<'PYEOF'
import glob
import importlib.metadata as md

for wheel in sorted(glob.glob("benchmarks/gpu_wheels/*.whl")):
    name = wheel.rsplit("/", 1)[-1].split("-")[0]
    try:
        md.version(name)
    except md.PackageNotFoundError:
        print(wheel)
PYEOF
)
if [ -n "$missing" ]; then
    echo "gpu_check: installing into $SITE:" $missing
    # shellcheck disable=SC2086  # one argument per wheel
    "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target "$SITE" $missing
    export PYTHONPATH="$SITE${PYTHONPATH:+:$PYTHONPATH}"
fi
# creditzoo from this checkout (no install needed), offline.
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false PYTHONUNBUFFERED=1
exec "$PY" benchmarks/gpu_check.py "$@"
