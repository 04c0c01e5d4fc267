"""Fills a ``RolloutBatch`` with the log-prob passes an algorithm asks for, and no others."""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import Tensor

from creditzoo.rollout.scoring import eval_mode, no_autograd, prompt_arguments, score_tokens
from creditzoo.rollout.sequences import Sequences


class BatchScorer:
    """Runs the no-grad scoring passes, micro-batched.

    The behaviour pass always runs (``logprobs``; ``entropies`` come from the same pass when
    required). ``ref_logprobs`` needs a reference model. Teacher fields are provided by the
    teacher module when one is configured.
    """

    def __init__(
        self,
        policy: torch.nn.Module,
        *,
        temperature: float = 1.0,
        micro_batch_size: int = 64,
        ref_model: torch.nn.Module | None = None,
    ) -> None:
        self.policy = policy
        self.temperature = temperature
        self.micro_batch_size = micro_batch_size
        self.ref_model = ref_model

    def providable(self) -> set[str]:
        fields = {"entropies"}
        if self.ref_model is not None:
            fields.add("ref_logprobs")
        return fields

    def check_requires(self, requires: Iterable[str], algorithm: str) -> None:
        missing = sorted(set(requires) - self.providable())
        if missing:
            raise ValueError(
                f"algorithm {algorithm!r} requires {missing}, which this run cannot provide "
                f"(it provides {sorted(self.providable())}). Fields like teacher_logprobs need a "
                f"teacher (the `teacher` config); ref_logprobs needs loss.kl_coef > 0 or "
                f"model.reference=true."
            )

    @torch.no_grad()
    def score(
        self,
        seqs: Sequences,
        requires: Iterable[str],
        behaviour: tuple[Tensor, Tensor | None] | None = None,
    ) -> dict[str, Tensor]:
        """The fields ``requires`` asks for, plus ``logprobs``.

        ``behaviour``: (log-probs, entropies) the caller already has from a pass of the policy
        over these very tokens (the loop's single-pass path); the behaviour pass is then skipped.
        """
        requires = set(requires)
        out: dict[str, Tensor] = {}
        if behaviour is None:
            logp, ent = self._pass(self.policy, seqs, with_entropy="entropies" in requires)
        else:
            logp, ent = behaviour
        out["logprobs"] = logp
        if ent is not None:
            out["entropies"] = ent
        if "ref_logprobs" in requires:
            out["ref_logprobs"], _ = self._pass(self.ref_model, seqs, with_entropy=False)
        return out

    def _pass(
        self, model: torch.nn.Module, seqs: Sequences, *, with_entropy: bool
    ) -> tuple[Tensor, Tensor | None]:
        logps, ents = [], []
        with eval_mode(model), no_autograd(model):  # concatenated outside: ordinary tensors
            for start in range(0, seqs.num_rows, self.micro_batch_size):
                part = seqs.rows(slice(start, start + self.micro_batch_size))
                s = score_tokens(
                    model,
                    response_ids=part.response_ids,
                    response_mask=part.response_mask,
                    **prompt_arguments(model, part.prompt_ids, part.prompt_mask),
                    temperature=self.temperature,
                    with_entropy=with_entropy,
                )
                logps.append(s.logprobs.cpu())
                if s.entropy is not None:
                    ents.append(s.entropy.cpu())
        return torch.cat(logps), (torch.cat(ents) if ents else None)
