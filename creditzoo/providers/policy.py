"""The policy's own passes: behaviour log-probs (and entropies), and the frozen reference."""

from __future__ import annotations

import torch
from torch import Tensor

from creditzoo.providers.base import NoStateHooks, StepInputs
from creditzoo.rollout.scoring import eval_mode, no_autograd, prompt_arguments, score_tokens
from creditzoo.rollout.sequences import Sequences


class BehaviourProvider(NoStateHooks):
    """``logprobs`` (always) and ``entropies`` of the sampled tokens under the current policy.

    When the loop hands over the training forward's values (``StepInputs.behaviour``), no pass
    runs: with one PPO epoch the behaviour policy is the policy being updated."""

    name = "policy"
    provides = frozenset({"logprobs", "entropies"})

    def __init__(self, policy: torch.nn.Module, *, temperature: float, micro_batch_size: int):
        self.policy = policy
        self.temperature = temperature
        self.micro_batch_size = micro_batch_size

    def score(self, inputs: StepInputs, fields: frozenset[str]) -> dict[str, Tensor]:
        if inputs.behaviour is not None:
            logp, ent = inputs.behaviour
        else:
            logp, ent = score_passes(
                self.policy,
                inputs.seqs,
                temperature=self.temperature,
                micro_batch_size=self.micro_batch_size,
                with_entropy="entropies" in fields,
            )
        out = {"logprobs": logp}
        if "entropies" in fields and ent is not None:
            out["entropies"] = ent
        return out


class ReferenceProvider(NoStateHooks):
    """``ref_logprobs``: the tokens under a frozen reference model (the loss's KL penalty)."""

    name = "reference"
    provides = frozenset({"ref_logprobs"})

    def __init__(self, model: torch.nn.Module, *, temperature: float, micro_batch_size: int):
        self.model = model
        self.temperature = temperature
        self.micro_batch_size = micro_batch_size

    def score(self, inputs: StepInputs, fields: frozenset[str]) -> dict[str, Tensor]:
        logp, _ = score_passes(
            self.model,
            inputs.seqs,
            temperature=self.temperature,
            micro_batch_size=self.micro_batch_size,
            with_entropy=False,
        )
        return {"ref_logprobs": logp}


@torch.no_grad()
def score_passes(
    model: torch.nn.Module,
    seqs: Sequences,
    *,
    temperature: float,
    micro_batch_size: int,
    with_entropy: bool,
) -> tuple[Tensor, Tensor | None]:
    """No-grad log-probs (and entropies) of every row, micro-batched, on the CPU."""
    logps, ents = [], []
    with eval_mode(model), no_autograd(model):  # concatenated outside: ordinary tensors
        for start in range(0, seqs.num_rows, micro_batch_size):
            part = seqs.rows(slice(start, start + micro_batch_size))
            s = score_tokens(
                model,
                response_ids=part.response_ids,
                response_mask=part.response_mask,
                **prompt_arguments(model, part.prompt_ids, part.prompt_mask),
                temperature=temperature,
                with_entropy=with_entropy,
            )
            logps.append(s.logprobs.cpu())
            if s.entropy is not None:
                ents.append(s.entropy.cpu())
    return torch.cat(logps), (torch.cat(ents) if ents else None)
