"""Deterministic supervised warm start of the tiny model on arithmetic chain-of-thought.

RL from a random init gets no reward, so the tiny model first imitates reference solutions.
A self-distillation teacher is the same model shown a privileged context, so the warm start must
also teach it to *read* every context form the zoo uses (``providers.contexts.DEFAULT_TEMPLATES``):
each training prompt is plain (the student's view) or carries the reference answer or the
reference solution, drawn by ``context_mix``. The sibling forms (RLCSD's correct and wrong
siblings) use the solution template with a sampled response, and the wrong-answer form (CEPO) the
answer template with a wrong answer, so training on the correct forms is enough for the model to
follow them; ``evaluate`` measures that it does. Measured on the old recipe (answer hint only):
at 30% hinted prompts the model ignored the hint, at 60% it used it; a model that never saw the
solution form scored 0.02 greedy under it (validity audit §2.4).

    python -m creditzoo.models.warmstart --out creditzoo/assets/tiny [--steps N]
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from creditzoo.data.arith import ArithSpec, train_problems
from creditzoo.models.tiny_arch import build_tiny_model
from creditzoo.models.tiny_tokenizer import build_tiny_tokenizer
from creditzoo.models.warmstart_data import make_batch, prompt_content
from creditzoo.models.warmstart_eval import context_report
from creditzoo.providers.contexts import DEFAULT_TEMPLATES

log = logging.getLogger(__name__)

# Warm-start data never overlaps the RL training stream's batches (namespace "train").
DATA_NAMESPACE = "warmstart"


@dataclass(frozen=True)
class WarmStartConfig:
    """Everything that determines the warm-started weights (hashed into the cache dir name).

    ``context_mix`` gives each prompt form's share of the training prompts: ``plain`` (the
    problem alone) or a ``DEFAULT_TEMPLATES`` key filled from the problem."""

    seed: int = 0
    steps: int = 800
    batch_size: int = 64
    lr: float = 2e-3
    betas: tuple[float, float] = (0.9, 0.98)
    weight_decay: float = 0.01
    warmup_steps: int = 100
    grad_clip: float = 1.0
    context_mix: tuple[tuple[str, float], ...] = (
        ("plain", 0.4),
        ("answer", 0.3),
        ("solution", 0.3),
    )
    eval_n: int = 200
    max_new_tokens: int = 64
    order: str = "canonical"  # the solutions' evaluation order (ArithSpec.order): canonical | free


def draw_forms(cfg: WarmStartConfig, step: int, n: int) -> list[str]:
    """Each row's prompt form at ``step``: a pure function of (seed, step)."""
    forms, weights = zip(*cfg.context_mix, strict=True)
    coin = random.Random(f"{DATA_NAMESPACE}-forms-{cfg.seed}-{step}")
    return coin.choices(forms, weights=weights, k=n)


def warm_start(cfg: WarmStartConfig, out: str | Path) -> dict:
    """Train, evaluate, and save model + tokenizer + ``warmstart.json`` to ``out``."""
    was_deterministic = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True)  # free on CPU; reruns reproduce the weights
    try:
        return _warm_start(cfg, Path(out))
    finally:
        torch.use_deterministic_algorithms(was_deterministic)


def _warm_start(cfg: WarmStartConfig, out: Path) -> dict:
    unknown = {f for f, _ in cfg.context_mix} - {"plain", *DEFAULT_TEMPLATES}
    if unknown:
        raise ValueError(f"context_mix names unknown forms {sorted(unknown)}")
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
        problems = train_problems(
            step,
            cfg.batch_size,
            cfg.seed,
            spec=ArithSpec(order=cfg.order),
            namespace=DATA_NAMESPACE,
        )
        forms = draw_forms(cfg, step, len(problems))
        contents = [prompt_content(p, f) for p, f in zip(problems, forms, strict=True)]
        batch = make_batch(tok, contents, [p.solution for p in problems])
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

    report = {
        "settings": asdict(cfg),
        "data_namespace": DATA_NAMESPACE,
        "steps": cfg.steps,
        "train_wall_s": round(train_s, 1),
        "final_loss": round(sum(losses[-20:]) / len(losses[-20:]), 4),
        **context_report(model, tok, cfg.eval_n, cfg.seed, cfg.max_new_tokens),
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
    parser.add_argument("--order", default="canonical", choices=("canonical", "free"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    torch.set_num_threads(args.threads)
    cfg = WarmStartConfig(seed=args.seed, steps=args.steps, order=args.order)
    report = warm_start(cfg, args.out)
    print(json.dumps({k: v for k, v in report.items() if k != "settings"}, indent=2))


if __name__ == "__main__":
    main()
