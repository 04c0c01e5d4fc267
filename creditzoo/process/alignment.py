"""Per-token process labels from a step check, through the offsets of the sampled tokens.

The offsets come from decoding the sampled ids themselves (the text of tokens ``[:k]`` for every
k), never from tokenising the text again: a sampled sequence need not be the tokenizer's own
segmentation of its text (a BPE model can sample "1" "2" where the tokenizer writes "12").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from creditzoo.process.steps import LABEL_ERROR, LABEL_OTHER, LABEL_PREFIX, StepCheck


def token_offsets(tokenizer: Any, ids: Sequence[int]) -> list[tuple[int, int]] | None:
    """``(start, end)`` characters of each token in the decoded text (special tokens are empty
    spans), or None when decoding is not prefix-stable (a later token rewrites earlier text,
    e.g. a tokenizer that cleans up spaces) and no honest alignment exists."""
    prefixes = tokenizer.batch_decode(
        [list(ids[: k + 1]) for k in range(len(ids))], skip_special_tokens=True
    )
    offsets, previous = [], ""
    for text in prefixes:
        if not text.startswith(previous):
            return None
        offsets.append((len(previous), len(text)))
        previous = text
    return offsets


def labels_for_row(check: StepCheck, offsets: Sequence[tuple[int, int]]) -> list[int]:
    """``process_labels`` of one response (length = its tokens).

    Correct responses: all ``LABEL_PREFIX``. A located error: ``LABEL_PREFIX`` on tokens that end
    before step k* starts, ``LABEL_ERROR`` on tokens that overlap it, ``LABEL_OTHER`` after it.
    A missing step at the end (an empty span) is the first token at or after its position (the
    EOS that stopped too early). Unparseable: all ``LABEL_OTHER``."""
    if check.category == "correct":
        return [LABEL_PREFIX] * len(offsets)
    if check.span is None:
        return [LABEL_OTHER] * len(offsets)
    start, end = check.span
    labels = []
    for a, b in offsets:
        if b <= start and not (a == b == start):
            labels.append(LABEL_PREFIX)
        elif a < end and b > start:
            labels.append(LABEL_ERROR)
        else:
            labels.append(LABEL_OTHER)
    if start == end and LABEL_ERROR not in labels:
        # The error is an absence: blame the first token that comes at or after it.
        first = next((i for i, (a, b) in enumerate(offsets) if b > start or a >= start), None)
        if first is not None:
            labels[first] = LABEL_ERROR
    return labels
