"""One-shot GPU check (issue 20): fits on the GPU, rollout speed on a 0.5B-shaped model, memory.

Run through ``benchmarks/gpu_check.sh`` (which first installs the vendored wheels of whatever
creditzoo needs and the machine lacks). Writes ONE JSON file with three parts:

- ``fits``: ``creditzoo fit trainer=gpu algorithm={grpo,rlsd}`` on the embedded tiny model for a
  few steps (in-process ``run_fit`` on the same composed config the CLI builds): per-step loss
  (finite?), reward, advantage magnitude, how far the weights moved (learning signal), held-out
  accuracy before/after, step time, peak GPU memory;
- ``rollout``: tokens/s of the static engine (``rollout=static``) against raw
  ``model.generate`` on a randomly initialised Qwen2 with Qwen2-0.5B's shapes (no weights
  downloaded), in bf16 and fp32, forced-length responses, alternating repeats; the ratio is
  ``bench_ratios.paired_ratio`` over repeats (one definition for every ratio);
- ``peak_mem_mib``: ``torch.cuda.max_memory_allocated`` per part and overall.

Every part runs in its own ``try``: a failure is recorded under ``errors`` with its traceback and
the next part still runs; the JSON is rewritten after every part, so a run cut short leaves what
it measured. ``--dry-run`` runs the same code with tiny sizes and 1–2 steps (on CPU in the test
suite, tests/integration/test_gpu_check.py), so the script cannot rot.

    bash benchmarks/gpu_check.sh --out /tmp/gpu_check.json [--dry-run]
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import resource
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_ratios import DEFINITION, paired_ratio, summary
from bench_setup import raw_generate

SCHEMA_VERSION = 1
# Parts not started by then are skipped (recorded under errors): the whole check must end
# inside a 10-minute remote command with time to copy the JSON back.
BUDGET_S = 7 * 60
ALGORITHMS = ("grpo", "rlsd")
DTYPES = ("bfloat16", "float32")

# Qwen2-0.5B's shapes (its config.json), random weights: the size a first GPU user would try.
QWEN2_0_5B = {
    "vocab_size": 151936,
    "hidden_size": 896,
    "intermediate_size": 4864,
    "num_hidden_layers": 24,
    "num_attention_heads": 14,
    "num_key_value_heads": 2,
    "max_position_embeddings": 32768,
    "rope_theta": 1_000_000.0,
    "rms_norm_eps": 1e-6,
    "tie_word_embeddings": True,
}
# Dry run: same family, tiny; the vocabulary is still larger than the tokenizer's, as on GPU.
QWEN2_TINY = {
    **QWEN2_0_5B,
    "vocab_size": 2048,
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "max_position_embeddings": 512,
}


@dataclass(frozen=True)
class Sizes:
    """Everything the dry run shrinks."""

    fit_steps: int
    fit_overrides: tuple[str, ...]
    rollout_model: dict[str, Any]
    rollout_rows: tuple[int, ...]
    group_size: int
    new_tokens: int
    repeats: int


FULL = Sizes(
    fit_steps=8,
    # The CLI defaults (8 prompts × 8 samples, 64 new tokens); small held-out evaluations.
    fit_overrides=("eval.n=64", "eval.k=1", "eval.splits=[id]", "eval_every=0"),
    rollout_model=QWEN2_0_5B,
    rollout_rows=(64, 256),
    group_size=8,
    new_tokens=128,
    repeats=3,
)
DRY = Sizes(
    fit_steps=2,
    fit_overrides=(
        "prompts_per_step=4",
        "group_size=4",
        "max_new_tokens=48",
        "eval.n=4",
        "eval.k=1",
        "eval.splits=[id]",
        "eval_every=0",
    ),
    rollout_model=QWEN2_TINY,
    rollout_rows=(8,),
    group_size=4,
    new_tokens=8,
    repeats=2,
)


# ------------------------------------------------------------------------------ memory, time
def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def _sync() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()


def _reset_peak() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def _peak_mib() -> float:
    """GPU: the caching allocator's peak since the last reset; CPU: the process's peak RSS."""
    import torch

    if torch.cuda.is_available():
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ------------------------------------------------------------------------------------ fits
def fit_overrides(algorithm: str, sizes: Sizes, gpu: bool) -> list[str]:
    """The `creditzoo fit` command line of one check fit (without output_dir)."""
    steps = sizes.fit_steps
    return [
        f"algorithm={algorithm}",
        f"trainer={'gpu' if gpu else 'cpu'}",
        f"max_steps={steps}",
        f"checkpoint_every={steps}",
        "log_samples_every=0",
        *sizes.fit_overrides,
    ]


def _weight_motion():
    """A Lightning callback measuring how far training moved the policy (‖θ_end − θ_start‖)."""
    import lightning as L
    import torch

    class WeightMotion(L.Callback):
        def __init__(self) -> None:
            self.start: list[torch.Tensor] = []
            self.norm = float("nan")

        def on_train_start(self, trainer, pl_module) -> None:
            self.start = [p.detach().clone() for p in pl_module.policy.parameters()]

        def on_train_end(self, trainer, pl_module) -> None:
            sq = sum(
                float((p.detach().float() - s.float()).pow(2).sum())
                for p, s in zip(pl_module.policy.parameters(), self.start, strict=True)
            )
            self.norm = math.sqrt(sq)

    return WeightMotion()


def check_fit(algorithm: str, sizes: Sizes, gpu: bool) -> dict[str, Any]:
    """One short fit; what it logged, reduced to what says 'it ran on the GPU and learned'."""
    from creditzoo.fit import run_fit
    from creditzoo.testing import fit_config, read_scalars

    overrides = fit_overrides(algorithm, sizes, gpu)
    motion = _weight_motion()
    _reset_peak()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        results = run_fit(fit_config(overrides), out, callbacks=[motion])
        scalars = read_scalars(out)
    wall = time.perf_counter() - started
    loss = scalars.get("loss/total", [])
    adv = scalars.get("algo/adv_abs_mean", [])
    return {
        "command": "creditzoo fit " + " ".join(overrides),
        "steps": results["steps"],
        "wall_s": wall,
        "step_s": summary(scalars["time/step"]) if scalars.get("time/step") else None,
        "loss": loss,
        "loss_finite": bool(loss) and all(math.isfinite(x) for x in loss),
        "reward_mean": scalars.get("reward/mean", []),
        "adv_abs_mean": adv,
        "weight_motion_l2": motion.norm,
        # Learning signal: some step had non-zero advantages and the weights moved.
        "learning_signal": any(a > 0 for a in adv) and motion.norm > 0,
        "acc_before": (results["initial"] or {}).get("id", {}).get("acc"),
        "acc_after": results["final"]["id"]["acc"],
        "peak_mem_mib": _peak_mib(),
    }


# --------------------------------------------------------------------------------- rollout
def _random_qwen2(shapes: dict[str, Any], dtype: str, device: str):
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(0)
    config = Qwen2Config(**shapes, attn_implementation="sdpa")
    with torch.device(device):
        model = Qwen2ForCausalLM(config).to(getattr(torch, dtype))
    return model.eval()


def _prompts(tokenizer, rows: int, group: int) -> list[str]:
    """``rows`` prompts, each distinct one repeated ``group`` times (an RL rollout batch)."""
    from creditzoo.data.arith import train_problems
    from creditzoo.data.prompts import PromptRenderer

    render = PromptRenderer(tokenizer)
    distinct = [render(p) for p in train_problems(0, max(rows // group, 1), seed=0)]
    return [p for p in distinct for _ in range(group)][:rows]


def check_rollout(dtype: str, sizes: Sizes, device: str) -> dict[str, Any]:
    """Static engine vs raw ``generate``: same prompts, exactly ``new_tokens`` each."""
    from creditzoo.models.factory import build_model

    _reset_peak()
    _, tokenizer = build_model("tiny")  # any tokenizer: its ids all lie inside the vocabulary
    model = _random_qwen2(sizes.rollout_model, dtype, device)
    n = sizes.new_tokens
    result: dict[str, Any] = {
        "params": sum(p.numel() for p in model.parameters()),
        "by_rows": {},
    }
    for rows in sizes.rollout_rows:
        prompts = _prompts(tokenizer, rows, sizes.group_size)
        result["by_rows"][str(rows)] = _rollout_race(model, tokenizer, prompts, n, sizes.repeats)
    result["peak_mem_mib"] = _peak_mib()
    return result


def _rollout_race(model, tokenizer, prompts: list[str], n: int, repeats: int) -> dict[str, Any]:
    """The static engine and raw ``generate`` on one batch, ``n`` forced new tokens per row."""

    from creditzoo.rollout.sampler import build_sampler

    sampler = build_sampler("static", model, tokenizer, min_new_tokens=n)
    ids, mask = sampler.encode_prompts(prompts)

    def engine() -> int:
        seqs = sampler.generate(prompts, max_new_tokens=n, temperature=1.0)
        return int(seqs.response_mask.sum())

    def raw() -> int:
        return raw_generate(model, tokenizer, ids, mask, n)

    race = _race({"static": engine, "generate": raw}, repeats)
    return {**race, "rows": len(prompts), "prompt_tokens": int(ids.shape[1]), "new_tokens": n}


def _race(fns: dict[str, Callable[[], int]], repeats: int) -> dict[str, Any]:
    """Alternating timed repeats after one warm-up each; tokens/s and their paired ratio."""
    tps: dict[str, list[float]] = {k: [] for k in fns}
    for f in fns.values():
        f()
    for _ in range(repeats):
        for k, f in fns.items():
            _sync()
            t = time.perf_counter()
            tokens = f()
            _sync()
            tps[k].append(tokens / (time.perf_counter() - t))
    # Each repeat is a round of one sample per side: the ratio's definition is make bench's.
    ratio = paired_ratio([[x] for x in tps["static"]], [[x] for x in tps["generate"]])
    return {
        "tokens_per_s": {k: summary(v) for k, v in tps.items()},
        "static_vs_generate": ratio,
    }


# ------------------------------------------------------------------------------------ driver
def environment() -> dict[str, Any]:
    import lightning
    import torch
    import transformers

    cuda = torch.cuda.is_available()
    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "lightning": lightning.__version__,
        "cuda": torch.version.cuda,
        "device": torch.cuda.get_device_name(0) if cuda else platform.processor() or "cpu",
        "gpu_mem_total_mib": torch.cuda.get_device_properties(0).total_memory / 2**20
        if cuda
        else None,
    }


def run(out: Path, dry_run: bool) -> dict[str, Any]:
    """Every part in turn, the report rewritten after each; returns the report."""
    gpu = _cuda()
    if not gpu and not dry_run:
        raise SystemExit("gpu_check: no CUDA device visible; on CPU use --dry-run")
    sizes = DRY if dry_run else FULL
    device = "cuda" if gpu else "cpu"
    started = time.time()
    report: dict[str, Any] = {
        "schema": SCHEMA_VERSION,
        "dry_run": dry_run,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "environment": environment(),
        "sizes": asdict(sizes),
        "ratio_definition": DEFINITION + " (rounds = alternating repeats)",
        "peak_mem_source": "torch.cuda.max_memory_allocated" if gpu else "ru_maxrss (no GPU)",
        "fits": {},
        "rollout": {},
        "part_s": {},
        "errors": {},
    }
    parts: list[tuple[str, str, Callable[[], dict[str, Any]]]] = [
        *(("fits", a, lambda a=a: check_fit(a, sizes, gpu)) for a in ALGORITHMS),
        *(("rollout", d, lambda d=d: check_rollout(d, sizes, device)) for d in DTYPES),
    ]
    for section, key, part in parts:
        name = f"{section}.{key}"
        if time.time() - started > BUDGET_S:
            report["errors"][name] = f"skipped: past the {BUDGET_S} s budget"
            continue
        print(f"gpu_check: {name} ...", flush=True)
        t = time.perf_counter()
        try:
            report[section][key] = part()
        except Exception:  # record and go on: one broken part must not hide the others
            report["errors"][name] = traceback.format_exc()[-4000:]
            print(report["errors"][name], file=sys.stderr, flush=True)
        report["part_s"][name] = time.perf_counter() - t
        print(f"gpu_check: {name} {report['part_s'][name]:.0f} s", flush=True)
        _finish(report, started, out)
    return report


def _finish(report: dict[str, Any], started: float, out: Path) -> None:
    peaks = [v["peak_mem_mib"] for s in ("fits", "rollout") for v in report[s].values()]
    report["peak_mem_mib"] = max(peaks) if peaks else None
    report["wall_time_s"] = time.time() - started
    report["ok"] = not report["errors"] and all(
        f["loss_finite"] and f["learning_signal"] for f in report["fits"].values()
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    tmp.write_text(json.dumps(report, indent=2) + "\n")
    tmp.replace(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, help="the JSON file to write")
    parser.add_argument(
        "--dry-run", action="store_true", help="tiny sizes, 1–2 steps: the same code on CPU"
    )
    args = parser.parse_args(argv)
    report = run(Path(args.out), args.dry_run)
    print(f"gpu_check: wrote {args.out} (ok={report['ok']}, {report['wall_time_s']:.0f} s)")
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
