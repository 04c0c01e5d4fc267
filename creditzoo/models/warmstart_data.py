"""Prompt forms and supervised batches shared by the warm start and its context report."""

from __future__ import annotations

import torch
from transformers import PreTrainedTokenizerFast

from creditzoo.data.problem import Problem
from creditzoo.providers.contexts import DEFAULT_TEMPLATES, fill


def render_prompt(tok: PreTrainedTokenizerFast, content: str) -> str:
    return tok.apply_chat_template(
        [{"role": "user", "content": content}], add_generation_prompt=True, tokenize=False
    )


def prompt_content(p: Problem, form: str) -> str:
    """The user turn of ``p`` in prompt form ``form`` (``plain`` or a template name)."""
    return p.problem if form == "plain" else fill(DEFAULT_TEMPLATES[form], p)


def make_batch(
    tok: PreTrainedTokenizerFast, contents: list[str], targets: list[str]
) -> dict[str, torch.Tensor]:
    """Right-padded prompt+target+<eos>; labels are -100 except on the target and <eos>."""
    p_ids = tok([render_prompt(tok, c) for c in contents], add_special_tokens=False)["input_ids"]
    t_ids = tok([t + tok.eos_token for t in targets], add_special_tokens=False)["input_ids"]
    length = max(len(a) + len(b) for a, b in zip(p_ids, t_ids, strict=True))
    ids = torch.full((len(contents), length), tok.pad_token_id)
    labels = torch.full((len(contents), length), -100)
    mask = torch.zeros((len(contents), length), dtype=torch.long)
    for i, (a, b) in enumerate(zip(p_ids, t_ids, strict=True)):
        n = len(a) + len(b)
        ids[i, :n] = torch.tensor(a + b)
        labels[i, len(a) : n] = torch.tensor(b)
        mask[i, :n] = 1
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}
