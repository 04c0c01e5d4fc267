"""Rendering problems into prompt strings, the same way for every model.

A template is a ``str.format`` string over the problem's fields (``{problem}``, ``{answer}``,
``{solution}``). The rendered text becomes the user turn of the tokenizer's chat template when it
has one (instruct models, and the tiny model, whose template is ``<bos>{content}<sep>``), or is used
as is for base models.
"""

from __future__ import annotations

from dataclasses import asdict

from torch import Tensor
from transformers import PreTrainedTokenizerBase

from creditzoo.data.problem import Problem


class PromptRenderer:
    """Turns a ``Problem`` into the exact prompt string the model is conditioned on."""

    def __init__(self, tokenizer: PreTrainedTokenizerBase, template: str = "{problem}") -> None:
        self.tokenizer = tokenizer
        self.template = template
        self.uses_chat_template = bool(getattr(tokenizer, "chat_template", None))

    def content(self, problem: Problem, template: str | None = None) -> str:
        try:
            return (template or self.template).format(**asdict(problem))
        except KeyError as err:
            raise ValueError(
                f"prompt template {template or self.template!r} uses {{{err.args[0]}}}, which a "
                f"problem does not have; use {{problem}}, {{answer}} or {{solution}}"
            ) from None

    def __call__(self, problem: Problem, template: str | None = None) -> str:
        return self.wrap(self.content(problem, template))

    def wrap(self, text: str) -> str:
        """The user turn ``text`` as the model sees it, ready for the assistant's response."""
        if not self.uses_chat_template:
            return text
        return self.tokenizer.apply_chat_template(
            [{"role": "user", "content": text}], add_generation_prompt=True, tokenize=False
        )

    def encode(self, prompts: list[str]) -> tuple[Tensor, Tensor]:
        """Rendered prompts → left-padded ``[n, P]`` ids and bool mask."""
        return encode_left_padded(self.tokenizer, prompts)


def encode_left_padded(
    tokenizer: PreTrainedTokenizerBase, prompts: list[str]
) -> tuple[Tensor, Tensor]:
    """Left padding, so every prompt ends where its response starts."""
    tokenizer.padding_side = "left"
    enc = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
    return enc["input_ids"], enc["attention_mask"].bool()
