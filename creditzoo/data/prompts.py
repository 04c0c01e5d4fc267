"""Rendering problems into prompt strings, the same way for every model.

A template is a ``str.format`` string over the problem's fields (``{problem}``, ``{answer}``,
``{solution}``). The rendered text becomes the user turn of the tokenizer's chat template when it
has one (instruct models, and the tiny model, whose template is ``<bos>{content}<sep>``), or is used
as is for base models.
"""

from __future__ import annotations

from dataclasses import asdict

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
        text = self.content(problem, template)
        if not self.uses_chat_template:
            return text
        return self.tokenizer.apply_chat_template(
            [{"role": "user", "content": text}], add_generation_prompt=True, tokenize=False
        )
