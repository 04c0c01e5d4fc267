"""vLLM against HF generate on one batch of the embedded default, plus engine start and weight push.

Run in .venv-vllm (``make setup-vllm``):

    .venv-vllm/bin/python benchmarks/vllm_rollout.py [--rows 64] [--max-new-tokens 64] [--compile]

Reports the engine's start-up time, generated tokens per second of each engine on the same
prompts (a training step's batch: 8 prompts x 8 samples by default, temperature 1.0), the best of
``--repeats`` after one warm-up call each (HF with 1 thread and with torch's default), and the
median time of a full weight push (``sync_weights``: serialise + load in the engine + prefix-cache
reset). Prints one JSON object as the last lines of stdout (vLLM logs to stdout too).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

import torch


def _tokens_per_s(sampler, prompts, max_new_tokens: int, repeats: int) -> float:
    sampler.generate(prompts, max_new_tokens=max_new_tokens, temperature=1.0)  # warm-up
    best = 0.0
    for i in range(repeats):
        torch.manual_seed(i)
        t0 = time.perf_counter()
        seqs = sampler.generate(prompts, max_new_tokens=max_new_tokens, temperature=1.0)
        rate = float(seqs.response_mask.sum()) / (time.perf_counter() - t0)
        best = max(best, rate)
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=64)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pushes", type=int, default=10)
    parser.add_argument("--compile", action="store_true", help="torch.compile (CPU default: eager)")
    args = parser.parse_args()

    from creditzoo.data.arith import test_split
    from creditzoo.data.prompts import PromptRenderer
    from creditzoo.models.factory import build_model
    from creditzoo.rollout.hf import HFSampler
    from creditzoo.rollout.vllm import VLLMSampler

    model, tokenizer = build_model("tiny")
    render = PromptRenderer(tokenizer)
    problems = test_split("id", max(1, args.rows // 8))
    prompts = [render(p) for p in problems for _ in range(8)][: args.rows]

    t0 = time.perf_counter()
    vllm = VLLMSampler(model, tokenizer, enforce_eager=False if args.compile else None)
    init_s = time.perf_counter() - t0
    result = {
        "rows": len(prompts),
        "max_new_tokens": args.max_new_tokens,
        "torch_threads": torch.get_num_threads(),  # the trainer process, after the engine start
        "cpus": os.cpu_count(),
        "compiled": args.compile,
        "vllm_init_s": round(init_s, 1),
        "vllm_tokens_per_s": round(_tokens_per_s(vllm, prompts, args.max_new_tokens, args.repeats)),
    }
    pushes = []
    for _ in range(args.pushes):
        vllm.sync_weights(model)
        pushes.append(vllm.metrics()["sync_seconds"])
    result["push_median_s"] = round(statistics.median(pushes), 4)
    result["params"] = sum(p.numel() for p in model.parameters())
    vllm.close()
    hf = HFSampler(model, tokenizer)
    default_threads = torch.get_num_threads()
    for threads in sorted({1, default_threads}):
        # vLLM's CPU worker runs one thread pinned to one core; on a busy machine HF generate
        # with 2 OpenMP threads can be far slower than with 1, so both are reported.
        torch.set_num_threads(threads)
        rate = _tokens_per_s(hf, prompts, args.max_new_tokens, args.repeats)
        result[f"hf_tokens_per_s_{threads}_threads"] = round(rate)
    torch.set_num_threads(default_threads)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":  # vLLM's engine core is a spawned process: the guard is required
    main()
