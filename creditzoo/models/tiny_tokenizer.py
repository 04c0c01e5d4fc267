"""A character-level HF tokenizer for the tiny arithmetic model, built locally (no download).

It is a real ``PreTrainedTokenizerFast`` with a chat template, so the library drives the tiny
model exactly like an instruct model. Every digit is its own token (the model must compute digit
by digit); a few frequent multi-character strings get one token each to shorten sequences; every
other printable ASCII character is a token of its own, so any text round-trips.
"""

from __future__ import annotations

import re
import string

from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast

SPECIAL_TOKENS = ("<pad>", "<bos>", "<eos>", "<unk>", "<sep>")
MULTI_CHAR_TOKENS = ("Compute ", " (Reference answer: ", "\\boxed{")
# Printable ASCII plus tab and newline: what ``string.printable`` has, minus \r \x0b \x0c.
CHARS = tuple(c for c in string.printable if c not in "\r\x0b\x0c")

# <bos> prompt <sep> solution <eos>: the model sees <sep> as "now answer".
CHAT_TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}{{ m['content'] }}{% endfor %}"
    "{% if add_generation_prompt %}<sep>{% endif %}"
)


def build_tiny_tokenizer() -> PreTrainedTokenizerFast:
    """Build the tokenizer; the vocabulary order is fixed so ids never change between builds."""
    vocab = {tok: i for i, tok in enumerate((*SPECIAL_TOKENS, *MULTI_CHAR_TOKENS, *CHARS))}
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    # Longest pieces first; [\s\S] (not ".") so newlines also become single-character pieces.
    pattern = "|".join(re.escape(t) for t in MULTI_CHAR_TOKENS) + r"|[\s\S]"
    backend.pre_tokenizer = pre_tokenizers.Split(Regex(pattern), behavior="isolated")
    backend.decoder = decoders.Fuse()  # join pieces without inserting spaces
    backend.add_special_tokens(list(SPECIAL_TOKENS))
    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        bos_token="<bos>",
        eos_token="<eos>",
        pad_token="<pad>",
        unk_token="<unk>",
        additional_special_tokens=["<sep>"],
        padding_side="left",  # generation-time default; training may pad right explicitly
        clean_up_tokenization_spaces=False,
        chat_template=CHAT_TEMPLATE,
        model_max_length=256,
    )
