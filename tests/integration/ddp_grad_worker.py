"""One training step whose gradients are saved, for the DDP / FSDP equivalence test.

    python ddp_grad_worker.py OUT.pt [overrides…]                        # one process
    torchrun --nproc-per-node=2 ddp_grad_worker.py OUT.pt trainer=ddp …  # two ranks

Responses come from a replay engine: each prompt's group is sampled with a seed derived from the
prompt text alone, so a rank that holds half of the prompts draws exactly the rows that one
process drawing the whole batch does. Gradients are read just before the optimizer step (after
the all-reduce or reduce-scatter) with clipping off, and rank 0 saves them.
"""

from __future__ import annotations

import sys
import zlib
from pathlib import Path

import lightning as L
import torch
from hydra import compose, initialize_config_module

from creditzoo.distributed import full_tensor
from creditzoo.fit import run_fit
from creditzoo.hydra_app import register_configs
from creditzoo.registry import lazy
from creditzoo.rollout.hf import HFSampler
from creditzoo.rollout.sampler import ENGINES
from creditzoo.rollout.sequences import Sequences, pad_right, response_mask_from_eos


class ReplaySampler:
    """HF generate, group by group, seeded by the prompt text (rank-independent draws)."""

    def __init__(self, policy, tokenizer, **_: object) -> None:
        self.hf = HFSampler(policy, tokenizer)

    def generate(self, prompts, *, max_new_tokens, temperature=1.0) -> Sequences:
        groups: list[list[str]] = []
        for p in prompts:  # consecutive repeats of one prompt form a group
            if groups and groups[-1][0] == p:
                groups[-1].append(p)
            else:
                groups.append([p])
        responses = []
        for group in groups:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(zlib.crc32(group[0].encode()))
                seqs = self.hf.generate(
                    group, max_new_tokens=max_new_tokens, temperature=temperature
                )
            responses += [r[m] for r, m in zip(seqs.response_ids, seqs.response_mask, strict=True)]
        pad = self.hf.pad_id
        ids, mask = pad_right(responses, pad)
        mask &= response_mask_from_eos(ids, self.hf.eos_ids, pad)
        prompt_ids, prompt_mask = self.hf.encode_prompts(prompts)
        texts = self.hf.tokenizer.batch_decode(
            ids.masked_fill(~mask, pad), skip_special_tokens=True
        )
        return Sequences(prompt_ids, prompt_mask, ids, mask, texts)

    def sync_weights(self, policy) -> None:
        pass


class SaveGradients(L.Callback):
    def __init__(self, path: Path) -> None:
        self.path = path

    def on_before_optimizer_step(self, trainer, pl_module, optimizer) -> None:
        # FSDP gradients are shards: gather them whole (a collective, so on every rank).
        grads = {n: full_tensor(p.grad.detach()) for n, p in pl_module.policy.named_parameters()}
        if trainer.is_global_zero:
            torch.save({"grads": grads, "world_size": trainer.world_size}, self.path)


def main() -> None:
    out, overrides = Path(sys.argv[1]), sys.argv[2:]
    # Three-row micro-batches exercise DDP's no_sync path; a test may ask for one micro-batch
    # (the single-pass path: the training forward happens before the teacher passes).
    micro = [o for o in overrides if o.startswith("loss.micro_batch_size=")] or [
        "loss.micro_batch_size=3"
    ]
    overrides = [o for o in overrides if o not in micro]
    ENGINES.register("replay", lazy("__main__:ReplaySampler"))
    register_configs()
    with initialize_config_module("creditzoo.configs", version_base="1.3"):
        cfg = compose(
            "fit",
            overrides=[
                "rollout.engine=replay",
                "max_steps=1",
                "prompts_per_step=4",
                "group_size=8",
                "data.spec.max_ops=1",  # easy: rewards vary within groups
                *micro,
                "optim.max_grad_norm=0",
                "eval.n=2",
                "eval.k=1",
                "eval.splits=[id]",
                "log_samples_every=0",
                *overrides,
            ],
        )
    run_fit(cfg, out.parent / f"run_{out.stem}", callbacks=[SaveGradients(out)])


if __name__ == "__main__":
    main()
