"""`make bench`: creditzoo against TRL's GRPOTrainer and against raw `model.generate`, side by side.

Settings are research/perf-anchor.md's: a 6.2M-parameter Qwen2 (model M, random weights, BPE vocab
1024; benchmarks/bench_setup.py), 8 prompts × 8 samples, exactly 64 new tokens per response
(EOS forbidden before 64, as TRL's ``generation_kwargs={"min_new_tokens": 64}``), temperature 1,
fp32, 2 threads, one update per rollout batch, lr 1e-5, DAPO/token-mean loss, no KL.

Every measurement runs in its own process; the processes are interleaved in rounds (creditzoo,
TRL, TRL without gradient checkpointing, the engine-vs-generate pair, every algorithm, creditzoo
GRPO again: it is every ratio's denominator), so machine drift hits all alike. Step time is the
period between consecutive steps (everything the trainer does per step), medians after warm-up.
Every ratio is one list of per-round paired ratios (median of the numerator's samples in round r
over the denominator's in the same round; ``bench_ratios.py``), reported as that list's median
(min–max), so the headline lies inside its range. Writes
``benchmarks/results/latest.json`` and the table in
``benchmarks/README.md`` between the ``bench:`` markers.

    python benchmarks/bench.py [--rounds 2] [--steps 5] [--warmup 2] [--algorithms grpo,rlsd]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import bench_setup  # noqa: E402
from bench_ratios import DEFINITION, paired_ratio  # noqa: E402
from bench_ratios import summary as stats  # noqa: E402

THREADS = 2
PROMPTS, GROUP, NEW_TOKENS = 8, 8, 64
LR = 1e-5
PHASES = ("generate", "score", "teacher", "verify_wait", "credit", "update")


def _threads() -> None:
    import torch

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", THREADS)))


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ------------------------------------------------------------------------------------ jobs
def job_creditzoo(model_dir: str, algorithm: str, warmup: int, steps: int, **_) -> dict:
    """Short `creditzoo fit` on the benchmark model; per-step phases from TensorBoard."""
    _threads()
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from creditzoo.fit import run_fit
    from creditzoo.tasks import register_task
    from creditzoo.testing import fit_config

    register_task(_bench_task())
    total = warmup + steps
    cfg = fit_config(
        [
            f"algorithm={algorithm}",
            "model=hf",
            f"model.path={model_dir}",
            "data=bench",
            "rollout=static",
            f"rollout.min_new_tokens={NEW_TOKENS}",
            f"max_steps={total}",
            f"prompts_per_step={PROMPTS}",
            f"group_size={GROUP}",
            f"max_new_tokens={NEW_TOKENS}",
            f"lr={LR}",
            "loss.agg=token_mean",
            "eval.n=1",
            "eval.k=1",
            "eval.splits=[id]",
            "eval_every=0",
            f"checkpoint_every={total + 1}",
            "log_samples_every=0",
        ]
    )
    with tempfile.TemporaryDirectory() as out:
        run_fit(cfg, out)
        acc = EventAccumulator(str(Path(out) / "tb"), size_guidance={"scalars": 0})
        acc.Reload()
        tags = set(acc.Tags()["scalars"])
        events = acc.Scalars("time/step")
        walls = [e.wall_time for e in events]
        phases = {
            p: [e.value for e in acc.Scalars(f"time/{p}")][warmup:]
            for p in (*PHASES, "step")
            if f"time/{p}" in tags
        }
        lengths = [e.value for e in acc.Scalars("response/length_mean")]
    periods = [b - a for a, b in itertools.pairwise(walls)][warmup - 1 :]
    return {
        "step_s": periods,
        "in_step_s": phases.pop("step"),
        "phases_s": phases,
        "response_length_mean": lengths,
        "peak_rss_mib": _peak_mib(),
    }


class BenchStream:
    """The benchmark's training prompts: a fresh batch per step."""

    def train_batch(self, step: int, n: int):
        return bench_setup.problems(n, seed=1000 + step)


def _bench_task():
    """The benchmark's prompts as a creditzoo task (``data=bench``; one held-out split, id)."""
    from creditzoo.providers.contexts import DEFAULT_TEMPLATES
    from creditzoo.tasks import Task

    return Task(
        "bench",
        "performance benchmark prompts (benchmarks/bench_setup.py)",
        ("id",),
        lambda task, split, limit: bench_setup.problems(limit or 1, seed=999),
        train_splits=("train",),
        prompt_template="{problem}",
        privileged_templates=DEFAULT_TEMPLATES,  # arith's, as before tasks existed
        privileged_templates_version="arith-v1",
        stream=lambda task, seed: BenchStream(),
    )


def trl_config(output_dir: str, **settings):
    """TRL's ``GRPOConfig`` with what every job shares: the group, the forced length, no KL, fp32
    on the CPU, no reporting."""
    from trl import GRPOConfig

    return GRPOConfig(
        output_dir=output_dir,
        num_generations=GROUP,
        max_completion_length=NEW_TOKENS,
        beta=0.0,
        bf16=False,
        use_cpu=True,
        report_to="none",
        **settings,
    )


def job_trl(model_dir: str, gc: bool, warmup: int, steps: int, **_) -> dict:
    """TRL GRPOTrainer with its defaults except what the CPU needs (perf-anchor.md)."""
    _threads()
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
    from trl import GRPOTrainer

    total = warmup + steps
    problems = [p for s in range(total) for p in bench_setup.problems(PROMPTS, seed=1000 + s)]
    data = Dataset.from_list(
        [{"prompt": [{"role": "user", "content": p.problem}]} for p in problems]
    )
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir)

    def parity(completions, **_):  # non-zero advantages on a random model (perf-anchor.md)
        texts = [c[0]["content"] if isinstance(c, list) else c for c in completions]
        return [1.0 if t.count("1") % 2 == 0 else 0.0 for t in texts]

    ends: list[float] = []
    lengths: list[float] = []

    class Clock(TrainerCallback):
        def on_step_end(self, args, state, control, **kw):
            ends.append(time.perf_counter())

    with tempfile.TemporaryDirectory() as out:
        args = trl_config(
            out,
            per_device_train_batch_size=PROMPTS * GROUP,
            generation_kwargs={"min_new_tokens": NEW_TOKENS},
            gradient_accumulation_steps=1,
            steps_per_generation=1,
            num_iterations=1,
            loss_type="dapo",
            learning_rate=LR,
            fp16=False,
            save_strategy="no",
            eval_strategy="no",
            logging_steps=1e6,
            log_completions=False,
            disable_tqdm=True,
            seed=0,
            max_steps=total,
            # GRPOConfig turns gradient checkpointing on by default; only "off" is set here.
            **({} if gc else {"gradient_checkpointing": False}),
        )
        trainer = GRPOTrainer(
            model=model,
            reward_funcs=parity,
            args=args,
            train_dataset=data,
            processing_class=tokenizer,
            callbacks=[Clock()],
        )
        generate = trainer._generate_and_score_completions
        gen_s: list[float] = []

        def timed_generate(*a, **kw):
            t = time.perf_counter()
            out_ = generate(*a, **kw)
            gen_s.append(time.perf_counter() - t)
            lengths.append(float(out_["completion_mask"].sum(1).float().mean()))
            return out_

        trainer._generate_and_score_completions = timed_generate
        trainer.train()
    periods = [b - a for a, b in itertools.pairwise(ends)][warmup - 1 :]
    return {
        "step_s": periods,
        "phases_s": {"generate_and_score": gen_s[warmup:]},
        "response_length_mean": lengths,
        "peak_rss_mib": _peak_mib(),
    }


def job_generate(model_dir: str, repeats: int, **_) -> dict:
    """creditzoo's rollout (rollout=static) against raw ``model.generate``, same 64×64 batch."""
    _threads()

    from creditzoo.data.prompts import PromptRenderer
    from creditzoo.models.factory import build_model
    from creditzoo.rollout.sampler import build_sampler

    model, tokenizer = build_model("hf", path=model_dir)
    model.eval()
    render = PromptRenderer(tokenizer)
    prompts = [render(p) for p in bench_setup.problems(PROMPTS, seed=1000) for _ in range(GROUP)]
    ids, mask = render.encode(prompts)
    sampler = build_sampler("static", model, tokenizer, min_new_tokens=NEW_TOKENS)
    tokens = {}

    def raw() -> int:
        return bench_setup.raw_generate(model, tokenizer, ids, mask, NEW_TOKENS)

    def engine() -> int:
        seqs = sampler.generate(prompts, max_new_tokens=NEW_TOKENS, temperature=1.0)
        return int(seqs.response_mask.sum())

    fns = {"generate": raw, "creditzoo": engine}
    times: dict[str, list[float]] = {k: [] for k in fns}
    for f in fns.values():  # warm-up
        f()
    for _ in range(repeats):
        for k, f in fns.items():
            t = time.perf_counter()
            tokens[k] = f()
            times[k].append(time.perf_counter() - t)
    return {
        "seconds": times,
        "tokens": tokens,
        "prompt_shape": list(ids.shape),
        "peak_rss_mib": _peak_mib(),
    }


def job_loss(model_dir: str, **_) -> dict:
    """creditzoo's loss against TRL's ``_compute_loss`` on one fixed rollout batch."""
    _threads()
    import torch
    from datasets import Dataset
    from trl import GRPOTrainer

    from creditzoo import RolloutBatch, build_algorithm
    from creditzoo.data.prompts import PromptRenderer
    from creditzoo.losses import LossNormalizer, policy_loss
    from creditzoo.models.factory import build_model
    from creditzoo.rollout.sampler import build_sampler
    from creditzoo.rollout.scoring import score_tokens

    torch.manual_seed(0)
    model, tokenizer = build_model("hf", path=model_dir)
    render = PromptRenderer(tokenizer)
    problems = bench_setup.problems(PROMPTS, seed=1000)
    prompts = [render(p) for p in problems for _ in range(GROUP)]
    sampler = build_sampler("static", model, tokenizer)
    seqs = sampler.generate(prompts, max_new_tokens=NEW_TOKENS, temperature=1.0)  # EOS allowed
    n = seqs.num_rows
    rewards = torch.tensor([float(t.count("1") % 2 == 0) for t in seqs.texts])
    mask = seqs.response_mask
    # A behaviour policy a little off the current one, so that ratios differ from 1 and clip.
    with torch.no_grad():
        logp0 = score_tokens(model, seqs.prompt_ids, seqs.prompt_mask, seqs.response_ids, mask)
    old = (logp0.logprobs + 0.3 * torch.randn_like(logp0.logprobs)).masked_fill(~mask, 0.0)
    batch = RolloutBatch(
        rewards=rewards,
        group_ids=torch.arange(PROMPTS).repeat_interleave(GROUP),
        response_mask=mask,
        logprobs=old,
    )
    data = Dataset.from_list([{"prompt": [{"role": "user", "content": "x"}]}] * n)
    out = {}
    for trl_type, agg, scale in (
        ("grpo", "seq_mean", "group"),
        ("dr_grpo", "const_norm", "none"),
        ("dapo", "token_mean", "group"),
    ):
        advantages = build_algorithm("grpo", scale_rewards=scale).compute(batch).advantages
        logp = score_tokens(
            model, seqs.prompt_ids, seqs.prompt_mask, seqs.response_ids, mask
        ).logprobs
        normalizer = LossNormalizer(
            agg=agg, total_tokens=float(mask.sum()), total_rows=float(n), max_len=NEW_TOKENS
        )
        ours, _ = policy_loss(
            logp,
            old,
            advantages,
            mask,
            normalizer.token_weights(mask),
            clip_low=0.2,
            clip_high=0.28,
        )
        with tempfile.TemporaryDirectory() as tmp:
            args = trl_config(
                tmp,
                per_device_train_batch_size=n,
                loss_type=trl_type,
                epsilon=0.2,
                epsilon_high=0.28,
                gradient_checkpointing=False,
            )
            trainer = GRPOTrainer(
                model=model,
                reward_funcs=lambda completions, **_: [0.0] * len(completions),
                args=args,
                train_dataset=data,
                processing_class=tokenizer,
            )
            trainer.current_gradient_accumulation_steps = 1
            row_adv = advantages.sum(1) / mask.sum(1).clamp(min=1)  # per-row scalar, as TRL's
            inputs = {
                "prompt_ids": seqs.prompt_ids,
                "prompt_mask": seqs.prompt_mask.long(),
                "completion_ids": seqs.response_ids,
                "completion_mask": mask.long(),
                "advantages": row_adv,
                "old_per_token_logps": old,
                "num_items_in_batch": mask.sum(),
            }
            trainer.model.train()
            theirs = trainer.compute_loss(trainer.model, inputs)
        out[trl_type] = {
            "creditzoo_agg": agg,
            "creditzoo": float(ours.detach()),
            "trl": float(theirs),
            "abs_diff": abs(float(ours) - float(theirs)),
        }
    out["pass"] = all(v["abs_diff"] <= 1e-5 for v in out.values())
    return out


JOBS = {"creditzoo": job_creditzoo, "trl": job_trl, "generate": job_generate, "loss": job_loss}


# ------------------------------------------------------------------------------------ driver
def run_job(name: str, **kw) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        path = f.name
    cmd = [sys.executable, str(Path(__file__)), "--job", name, "--job-args", json.dumps(kw)]
    cmd += ["--job-out", path]
    env = dict(os.environ, OMP_NUM_THREADS=str(THREADS), TOKENIZERS_PARALLELISM="false")
    env.setdefault("HF_HUB_OFFLINE", "1")
    env.setdefault("HF_DATASETS_OFFLINE", "1")
    t = time.time()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-8000:])
        raise SystemExit(f"bench job {name} {kw} failed")
    result = json.loads(Path(path).read_text())
    Path(path).unlink()
    print(f"  {name} {kw.get('algorithm', kw.get('gc', ''))}: {time.time() - t:.0f} s", flush=True)
    return result


def merge_runs(a: dict, b: dict) -> dict:
    """Two measurements of one configuration as one: lists concatenated, peak memory the max."""
    return {
        "step_s": a["step_s"] + b["step_s"],
        "in_step_s": a["in_step_s"] + b["in_step_s"],
        "phases_s": {p: a["phases_s"][p] + b["phases_s"][p] for p in a["phases_s"]},
        "response_length_mean": a["response_length_mean"] + b["response_length_mean"],
        "peak_rss_mib": max(a["peak_rss_mib"], b["peak_rss_mib"]),
    }


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def main() -> None:
    global THREADS
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--threads",
        type=int,
        default=THREADS,
        help="torch threads per process (2 = perf-anchor.md; 1 on a shared, loaded machine)",
    )
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5, help="engine/generate pairs per round")
    parser.add_argument("--algorithms", default=None, help="default: every registered one")
    parser.add_argument("--model-dir", default=str(HERE / ".cache" / "model-M"))
    parser.add_argument("--out", default=str(HERE / "results" / "latest.json"))
    parser.add_argument("--readme", default=str(HERE / "README.md"))
    parser.add_argument("--job", choices=sorted(JOBS))
    parser.add_argument("--job-args", default="{}")
    parser.add_argument("--job-out")
    args = parser.parse_args()
    if args.job:
        result = JOBS[args.job](**json.loads(args.job_args))
        Path(args.job_out).write_text(json.dumps(result))
        return

    from creditzoo import list_algorithms

    THREADS = args.threads
    started = time.time()
    algorithms = args.algorithms.split(",") if args.algorithms else list_algorithms()
    algorithms = ["grpo", *[a for a in algorithms if a != "grpo"]]
    model_dir = str(bench_setup.build(args.model_dir))
    load_before = load()
    common = {"model_dir": model_dir, "warmup": args.warmup, "steps": args.steps}
    print(f"load average {load_before}; model {model_dir}", flush=True)
    loss_check = run_job("loss", model_dir=model_dir)
    print(f"  loss check: {json.dumps(loss_check)}", flush=True)
    runs: dict[str, list[dict]] = {}
    loads = [load_before]
    for r in range(args.rounds):
        print(f"round {r + 1}/{args.rounds} (load {load()})", flush=True)
        grpo_first = run_job("creditzoo", algorithm="grpo", **common)
        runs.setdefault("trl", []).append(run_job("trl", gc=True, **common))
        runs.setdefault("trl_nogc", []).append(run_job("trl", gc=False, **common))
        runs.setdefault("generate", []).append(
            run_job("generate", model_dir=model_dir, repeats=args.repeats)
        )
        for a in algorithms[1:]:
            runs.setdefault(a, []).append(run_job("creditzoo", algorithm=a, **common))
        # GRPO, the denominator of every ratio, runs first and last: drift within a round hits
        # it as it hits the others.
        grpo_last = run_job("creditzoo", algorithm="grpo", **common)
        runs.setdefault("creditzoo", []).append(merge_runs(grpo_first, grpo_last))
        loads.append(load())
    report = summarize(runs, algorithms, args, loads, loss_check, time.time() - started)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    write_readme(Path(args.readme), report)
    print(render_table(report))


def summarize(runs, algorithms, args, loads, loss_check, seconds) -> dict:
    import torch
    import transformers
    import trl

    cz = [r["step_s"] for r in runs["creditzoo"]]
    steps = {a: [r["step_s"] for r in runs["creditzoo" if a == "grpo" else a]] for a in algorithms}
    gen = runs["generate"]
    tok_per_s = {
        k: [[g["tokens"][k] / s for s in g["seconds"][k]] for g in gen]
        for k in ("creditzoo", "generate")
    }
    phases: dict[str, dict[str, dict[str, float]]] = {}
    for a in algorithms:
        rs = runs["creditzoo" if a == "grpo" else a]
        phases[a] = {
            p: stats([x for r in rs for x in r["phases_s"].get(p, [])])
            for p in PHASES
            if any(r["phases_s"].get(p) for r in rs)
        }
        phases[a]["step"] = stats([x for r in rs for x in r["step_s"]])
    flat = lambda key: [x for r in runs[key] for x in r["step_s"]]  # noqa: E731
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "wall_time_s": round(seconds),
        "machine": {
            "platform": platform.platform(terse=True),
            "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(),
            "threads": THREADS,
            "load_average_1_5_15": loads,
        },
        "versions": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "trl": trl.__version__,
        },
        "settings": {
            "model": "Qwen2 hidden 256, 6 layers, 8 heads, 4 kv, ffn 1024, tied, vocab 1024, "
            "6,166,784 params, random weights (benchmarks/bench_setup.py)",
            "prompts_per_step": PROMPTS,
            "group_size": GROUP,
            "new_tokens": f"{NEW_TOKENS} forced (EOS masked before {NEW_TOKENS})",
            "prompt_tokens": gen[0]["prompt_shape"][1],
            "dtype": "float32",
            "lr": LR,
            "loss": "creditzoo token_mean / TRL dapo, 1 update per rollout batch, no KL",
            "creditzoo": "rollout=static, single-pass behaviour log-probs, math verifier",
            "trl": "GRPOTrainer defaults except use_cpu, bf16=False, min_new_tokens via "
            "generation_kwargs; reward = parity of the count of '1'",
            "rounds": args.rounds,
            "warmup_steps": args.warmup,
            "measured_steps_per_round": args.steps,
            "step_time": "period between consecutive steps, after warm-up",
            "ratios": DEFINITION,
        },
        "trl_ratio": paired_ratio(cz, [r["step_s"] for r in runs["trl"]]),
        "trl_ratio_vs_no_grad_ckpt": paired_ratio(cz, [r["step_s"] for r in runs["trl_nogc"]]),
        "rollout_vs_generate": paired_ratio(tok_per_s["creditzoo"], tok_per_s["generate"]),
        "overhead": {a: paired_ratio(steps[a], steps["grpo"]) for a in algorithms},
        "step_s": {
            "creditzoo_grpo": stats(flat("creditzoo")),
            "trl": stats(flat("trl")),
            "trl_no_grad_ckpt": stats(flat("trl_nogc")),
        },
        "trl_generate_and_score_s": stats(
            [x for r in runs["trl"] for x in r["phases_s"]["generate_and_score"]]
        ),
        "rollout_s": {
            k: stats([x for g in gen for x in g["seconds"][k]]) for k in ("creditzoo", "generate")
        },
        "phases_s": phases,
        "peak_rss_mib": {
            "creditzoo_grpo": max(r["peak_rss_mib"] for r in runs["creditzoo"]),
            "trl": max(r["peak_rss_mib"] for r in runs["trl"]),
            "trl_no_grad_ckpt": max(r["peak_rss_mib"] for r in runs["trl_nogc"]),
            **{a: max(r["peak_rss_mib"] for r in runs[a]) for a in algorithms[1:]},
        },
        "response_length_mean": {
            "creditzoo": statistics.mean(
                x for r in runs["creditzoo"] for x in r["response_length_mean"]
            ),
            "trl": statistics.mean(x for r in runs["trl"] for x in r["response_length_mean"]),
        },
        "loss_check": loss_check,
    }


def _r(x: dict[str, float], digits: int = 2) -> str:
    return f"{x['median']:.{digits}f} ({x['min']:.{digits}f}–{x['max']:.{digits}f})"


def render_table(rep: dict) -> str:
    s, ph = rep["step_s"], rep["phases_s"]
    lines = [
        f"Measured {rep['date']} on {rep['machine']['cpus']} CPU cores "
        f"({rep['machine']['processor']}), {rep['machine']['threads']} torch threads, load "
        f"average (1/5/15 min) {rep['machine']['load_average_1_5_15'][0]} before → "
        f"{rep['machine']['load_average_1_5_15'][-1]} after; torch {rep['versions']['torch']}, "
        f"transformers {rep['versions']['transformers']}, trl {rep['versions']['trl']}, Python "
        f"{rep['versions']['python']}. {rep['settings']['rounds']} interleaved rounds × "
        f"{rep['settings']['measured_steps_per_round']} steps after "
        f"{rep['settings']['warmup_steps']} warm-up. Ratios: median (min–max) of the per-round "
        f"paired ratios; times: median (min–max) over all measured steps. `make bench` took "
        f"{rep['wall_time_s'] / 60:.0f} min.",
        "",
        "| figure | value | target |",
        "|---|---|---|",
        f"| `trl_ratio` (creditzoo GRPO step / TRL GRPOTrainer step) | {_r(rep['trl_ratio'])} "
        f"| ≤ 0.75 |",
        f"| … vs TRL without gradient checkpointing | {_r(rep['trl_ratio_vs_no_grad_ckpt'])} | |",
        f"| `rollout_vs_generate` (tokens/s, creditzoo rollout / raw `model.generate`) | "
        f"{_r(rep['rollout_vs_generate'])} | ≥ 1.3 |",
    ]
    targets = {"rlsd": "≤ 1.25", "cepo": "≤ 1.45"}
    for a, v in rep["overhead"].items():
        if a != "grpo":
            lines.append(f"| `overhead.{a}` (step / GRPO step) | {_r(v)} | {targets.get(a, '')} |")
    lines += [
        "",
        "| step (s) | median (min–max) | peak RSS (MiB) |",
        "|---|---|---|",
        f"| creditzoo GRPO | {_r(s['creditzoo_grpo'], 3)} | "
        f"{rep['peak_rss_mib']['creditzoo_grpo']:.0f} |",
        f"| TRL GRPOTrainer (gradient checkpointing on, its default) | {_r(s['trl'], 3)} | "
        f"{rep['peak_rss_mib']['trl']:.0f} |",
        f"| TRL GRPOTrainer, gradient checkpointing off | {_r(s['trl_no_grad_ckpt'], 3)} | "
        f"{rep['peak_rss_mib']['trl_no_grad_ckpt']:.0f} |",
        "",
        f"Rollout of 64 × 64 tokens: creditzoo {_r(rep['rollout_s']['creditzoo'], 3)} s, raw "
        f"`model.generate` {_r(rep['rollout_s']['generate'], 3)} s; TRL's generate-and-score "
        f"phase {_r(rep['trl_generate_and_score_s'], 3)} s.",
        "",
        "Phase split of a creditzoo step, medians in seconds (score = the training forward, "
        "whose detached log-probs are the behaviour log-probs; update = backward + clip + "
        "AdamW):",
        "",
        "| algorithm | step | " + " | ".join(PHASES) + " |",
        "|---|---|" + "---|" * len(PHASES),
    ]
    for a, p in ph.items():
        cells = " | ".join(f"{p[k]['median']:.3f}" if k in p else "–" for k in PHASES)
        lines.append(f"| {a} | {p['step']['median']:.3f} | {cells} |")
    lc = rep["loss_check"]
    lines += [
        "",
        "Loss equality with TRL on one fixed rollout batch (ratios ≠ 1, clipping active): "
        + ", ".join(
            f"{k} ↔ `{v['creditzoo_agg']}` |Δ| = {v['abs_diff']:.1e}"
            for k, v in lc.items()
            if k != "pass"
        )
        + (" — pass (≤ 1e-5)." if lc["pass"] else " — FAIL (> 1e-5)."),
    ]
    return "\n".join(lines)


def write_readme(path: Path, report: dict) -> None:
    start, end = "<!-- bench:start -->", "<!-- bench:end -->"
    text = path.read_text()
    table = f"{start}\n{render_table(report)}\n{end}"
    if start in text and end in text:
        head, rest = text.split(start, 1)
        text = head + table + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + table + "\n"
    path.write_text(text)


if __name__ == "__main__":
    main()
