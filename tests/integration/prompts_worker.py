"""A short `fit` on a 10-problem JSONL file that records the problems each rank trains on, for
the multi-rank data test.

    python prompts_worker.py OUT_DIR [overrides…]                        # one process
    torchrun --nproc-per-node=2 prompts_worker.py OUT_DIR trainer=ddp …  # two ranks

Each rank writes ``OUT_DIR/prompts_rank<r>.json``: ``{step: [problem uid, …]}``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import lightning as L

from creditzoo.fit import run_fit
from creditzoo.testing import fit_config


class RecordPrompts(L.Callback):
    def __init__(self, out: Path) -> None:
        self.out, self.steps = out, {}

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        step, problems = batch
        self.steps[step] = [p.uid for p in problems]

    def on_train_end(self, trainer, pl_module) -> None:
        path = self.out / f"prompts_rank{trainer.global_rank}.json"
        path.write_text(json.dumps(self.steps))


def main() -> None:
    out, overrides = Path(sys.argv[1]), sys.argv[2:]
    out.mkdir(parents=True, exist_ok=True)
    data = out / "train.jsonl"
    if not data.exists():  # every rank writes the same bytes; the first one wins
        rows = [{"q": f"Compute {i}+{i}.", "a": str(2 * i)} for i in range(1, 11)]
        data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    cfg = fit_config(
        [
            "data=hf",
            f"data.path={data}",
            "data.question=q",
            "data.answer=a",
            "data.answer_format=plain",
            "data.prompt_template=bare",
            "max_steps=3",
            "prompts_per_step=4",  # step 2 straddles the first epoch boundary
            "group_size=2",
            "max_new_tokens=8",
            "eval.n=2",
            "eval.k=1",
            "eval_every=0",
            "log_samples_every=0",
            *overrides,
        ]
    )
    run_fit(cfg, out / "run", callbacks=[RecordPrompts(out)])


if __name__ == "__main__":
    main()
