"""Deterministic supervised warm start of the tiny model on arithmetic chain-of-thought.

RL from a random init gets no reward, so the tiny model first imitates reference solutions.
60% of the prompts carry the reference answer (``ANSWER_HINT_TEMPLATE``): measured, at 30% the
model ignores the hint (teacher accuracy = student accuracy, so privileged-teacher signals are
~0), at 60% it learns to use it (0.855 vs 0.28 greedy) without hurting the plain prompt.

    python -m creditzoo.models.warmstart --out creditzoo/assets/tiny [--steps N]
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import re
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from transformers import LlamaForCausalLM, PreTrainedTokenizerFast

from creditzoo.data.arith import ANSWER_HINT_TEMPLATE, test_split, train_problems
from creditzoo.data.problem import Problem
from creditzoo.models.tiny_arch import build_tiny_model
from creditzoo.models.tiny_tokenizer import build_tiny_tokenizer

log = logging.getLogger(__name__)

# Warm-start data never overlaps the RL training stream's batches (namespace "train").
DATA_NAMESPACE = "warmstart"
_BOXED = re.compile(r"\\boxed\{(-?\d+)\}")


@dataclass(frozen=True)
class WarmStartConfig:
    """Everything that determines the warm-started weights (hashed into the cache dir name)."""

    seed: int = 0
    steps: int = 800
    batch_size: int = 64
    lr: float = 2e-3
    betas: tuple[float, float] = (0.9, 0.98)
    weight_decay: float = 0.01
    warmup_steps: int = 100
    grad_clip: float = 1.0
    p_hint: float = 0.6
    eval_n: int = 200
    max_new_tokens: int = 64


def render_prompt(tok: PreTrainedTokenizerFast, content: str) -> str:
    return tok.apply_chat_template(
        [{"role": "user", "content": content}], add_generation_prompt=True, tokenize=False
    )


def hint_prompt(p: Problem) -> str:
    return ANSWER_HINT_TEMPLATE.format(problem=p.problem, answer=p.answer)


def make_batch(
    tok: PreTrainedTokenizerFast, problems: list[Problem], use_hint: list[bool]
) -> dict[str, torch.Tensor]:
    """Right-padded prompt+solution+<eos>; labels are -100 except on solution and <eos>."""
    prompts = [
        render_prompt(tok, hint_prompt(p) if h else p.problem)
        for p, h in zip(problems, use_hint, strict=True)
    ]
    p_ids = tok(prompts, add_special_tokens=False)["input_ids"]
    targets = [p.solution + tok.eos_token for p in problems]
    t_ids = tok(targets, add_special_tokens=False)["input_ids"]
    length = max(len(a) + len(b) for a, b in zip(p_ids, t_ids, strict=True))
    ids = torch.full((len(problems), length), tok.pad_token_id)
    labels = torch.full((len(problems), length), -100)
    mask = torch.zeros((len(problems), length), dtype=torch.long)
    for i, (a, b) in enumerate(zip(p_ids, t_ids, strict=True)):
        n = len(a) + len(b)
        ids[i, :n] = torch.tensor(a + b)
        labels[i, len(a) : n] = torch.tensor(b)
        mask[i, :n] = 1
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


@torch.no_grad()
def greedy_accuracy(
    model: LlamaForCausalLM,
    tok: PreTrainedTokenizerFast,
    problems: list[Problem],
    hint: bool,
    max_new_tokens: int = 64,
) -> float:
    """Share of problems whose last ``\\boxed{int}`` matches the answer (a report, not the
    library's verifier)."""
    model.eval()
    prompts = [render_prompt(tok, hint_prompt(p) if hint else p.problem) for p in problems]
    enc = tok(
        prompts, add_special_tokens=False, padding=True, padding_side="left", return_tensors="pt"
    )
    out = model.generate(**enc, do_sample=False, max_new_tokens=max_new_tokens)
    texts = tok.batch_decode(out[:, enc["input_ids"].shape[1] :], skip_special_tokens=True)
    correct = 0
    for p, text in zip(problems, texts, strict=True):
        found = _BOXED.findall(text)
        correct += bool(found) and found[-1] == p.answer
    return correct / len(problems)


def warm_start(cfg: WarmStartConfig, out: str | Path) -> dict:
    """Train, evaluate, and save model + tokenizer + ``warmstart.json`` to ``out``."""
    was_deterministic = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True)  # free on CPU; reruns reproduce the weights
    try:
        return _warm_start(cfg, Path(out))
    finally:
        torch.use_deterministic_algorithms(was_deterministic)


def _warm_start(cfg: WarmStartConfig, out: Path) -> dict:
    torch.manual_seed(cfg.seed)
    tok = build_tiny_tokenizer()
    model = build_tiny_model(len(tok), cfg.seed)
    opt = torch.optim.AdamW(
        model.parameters(), lr=cfg.lr, betas=cfg.betas, weight_decay=cfg.weight_decay
    )
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / cfg.warmup_steps))
    model.train()
    start, losses = time.time(), []
    for step in range(cfg.steps):
        problems = train_problems(step, cfg.batch_size, cfg.seed, namespace=DATA_NAMESPACE)
        coin = random.Random(f"{DATA_NAMESPACE}-hint-{cfg.seed}-{step}")
        batch = make_batch(tok, problems, [coin.random() < cfg.p_hint for _ in problems])
        loss = model(**batch).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
        sched.step()
        losses.append(loss.item())
        if (step + 1) % 50 == 0:
            recent = sum(losses[-50:]) / 50
            log.info("step %d  loss %.4f  %.0fs", step + 1, recent, time.time() - start)
    train_s = time.time() - start

    test = test_split("id", cfg.eval_n)
    report = {
        "settings": asdict(cfg),
        "data_namespace": DATA_NAMESPACE,
        "steps": cfg.steps,
        "train_wall_s": round(train_s, 1),
        "final_loss": round(sum(losses[-20:]) / len(losses[-20:]), 4),
        "id_greedy_acc": greedy_accuracy(model, tok, test, False, cfg.max_new_tokens),
        "id_greedy_acc_hint": greedy_accuracy(model, tok, test, True, cfg.max_new_tokens),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
    }
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tok.save_pretrained(out)
    (out / "warmstart.json").write_text(json.dumps(report, indent=2) + "\n")  # written last
    return report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--steps", type=int, default=WarmStartConfig.steps)
    parser.add_argument("--seed", type=int, default=WarmStartConfig.seed)
    parser.add_argument("--threads", type=int, default=2, help="results depend on thread count")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    torch.set_num_threads(args.threads)
    report = warm_start(WarmStartConfig(seed=args.seed, steps=args.steps), args.out)
    print(json.dumps({k: v for k, v in report.items() if k != "settings"}, indent=2))


if __name__ == "__main__":
    main()
