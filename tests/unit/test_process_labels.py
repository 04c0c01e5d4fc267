"""process_labels: step-check spans mapped onto the sampled tokens (tiny and BPE tokenizers)."""

import pytest
import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

from creditzoo.data.arith import train_problems
from creditzoo.data.arith_steps import check_arith_steps
from creditzoo.data.problem import Problem
from creditzoo.models.tiny_tokenizer import build_tiny_tokenizer
from creditzoo.process import labels_for_row, token_offsets
from creditzoo.process.steps import StepCheck
from creditzoo.providers.base import StepInputs
from creditzoo.providers.process import ProcessLabelProvider
from creditzoo.rollout.sequences import Sequences, pad_right

P = Problem("t", "Compute 1+14*2.", "29", "14*2=28. 1+28=29. \\boxed{29}")


@pytest.fixture(scope="module")
def tiny():
    return build_tiny_tokenizer()


@pytest.fixture(scope="module")
def bpe():
    """A byte-level BPE trained here on arithmetic solutions, so merges cross step boundaries
    (e.g. ". 1" or "=2")."""
    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=["<eos>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    backend.train_from_iterator([p.solution for p in train_problems(0, 2000, seed=7)], trainer)
    return PreTrainedTokenizerFast(tokenizer_object=backend, eos_token="<eos>", pad_token="<eos>")


def _ids(tok, text):
    return tok(text, add_special_tokens=False)["input_ids"] + [tok.eos_token_id]


def test_tiny_offsets_cover_the_text_and_eos_is_empty(tiny):
    text = "14*2=28. \\boxed{28}"
    offsets = token_offsets(tiny, _ids(tiny, text))
    assert "".join(text[a:b] for a, b in offsets) == text
    assert offsets[-1] == (len(text), len(text))  # EOS decodes to nothing
    assert text[slice(*offsets[-2])] == "}"


def test_tiny_labels_by_hand(tiny):
    # First step right (9 chars incl. the space after it), second step "1+28=30." wrong (result).
    text = "14*2=28. 1+28=30. \\boxed{30}"
    check = check_arith_steps(P, text)
    assert (check.first_error, check.kind, check.span) == (1, "result", (9, 17))
    labels = labels_for_row(check, token_offsets(tiny, _ids(tiny, text)))
    # tokens: "1","4","*","2","=","2","8","."," " (9 prefix) | "1","+","2","8","=","3","0","."
    # (8 error) | " ", "\\boxed{", "3", "0", "}", EOS (6 after)
    assert labels == [1] * 9 + [0] * 8 + [-1] * 6


def test_correct_is_all_prefix_and_unparseable_all_other(tiny):
    good = "14*2=28. 1+28=29. \\boxed{29}"
    ids = _ids(tiny, good)
    assert labels_for_row(check_arith_steps(P, good), token_offsets(tiny, ids)) == [1] * len(ids)
    junk = "???"
    ids = _ids(tiny, junk)
    assert labels_for_row(check_arith_steps(P, junk), token_offsets(tiny, ids)) == [-1] * len(ids)


def test_a_missing_last_step_blames_the_early_stop(tiny):
    text = "14*2=28."  # stopped: the EOS is the error
    labels = labels_for_row(check_arith_steps(P, text), token_offsets(tiny, _ids(tiny, text)))
    assert labels == [1] * 8 + [0]


def test_bpe_labels_follow_the_sampled_tokens_not_a_retokenisation(bpe):
    text = "14*2=28. 1+28=30. \\boxed{30}"
    check = check_arith_steps(P, text)
    start, end = check.span
    own = _ids(bpe, text)
    # A sampled sequence may split what the tokenizer would merge: spell the text byte by byte.
    spelled = [bpe(c, add_special_tokens=False)["input_ids"][0] for c in text]
    spelled.append(bpe.eos_token_id)
    assert len(spelled) > len(own)  # the trained merges really do join characters
    for ids in (own, spelled):
        offsets = token_offsets(bpe, ids)
        assert "".join(text[a:b] for a, b in offsets) == text
        labels = labels_for_row(check, offsets)
        for (a, b), label in zip(offsets, labels, strict=True):
            expected = 0 if (a < end and b > start) else 1 if b <= start and a != b else -1
            assert label == expected, (text[a:b], label)
        assert 0 in labels and labels[0] == 1
    # Per character, exactly the 8 characters of "1+28=30." are the error.
    assert labels_for_row(check, token_offsets(bpe, spelled)).count(0) == 8


def test_a_token_across_the_step_boundary_counts_as_the_wrong_step(bpe):
    text = "14*2=28. 1+28=30. \\boxed{30}"
    offsets = [(0, 10), (10, 17), (17, len(text))]  # "14*2=28. 1" straddles into step 1
    labels = labels_for_row(check_arith_steps(P, text), offsets)
    assert labels == [0, 0, -1]


class _Rewriting:
    """A decoder that changes earlier text when a later token arrives (no honest offsets)."""

    def batch_decode(self, seqs, skip_special_tokens=True):
        return ["ab"[: len(s)] if len(s) < 2 else "xyz" for s in seqs]


def test_no_offsets_when_decoding_is_not_prefix_stable():
    assert token_offsets(_Rewriting(), [1, 2]) is None


def test_provider_fills_labels_with_padding(tiny):
    texts = ["14*2=28. 1+28=29. \\boxed{29}", "14*2=28. 1+28=30. \\boxed{30}", "14*2=28."]
    ids = [torch.tensor(_ids(tiny, t)) for t in texts]
    response_ids, response_mask = pad_right(ids, tiny.pad_token_id)
    prompt_ids = torch.ones(3, 2, dtype=torch.long)
    seqs = Sequences(prompt_ids, prompt_ids.bool(), response_ids, response_mask, texts)
    provider = ProcessLabelProvider(check_arith_steps, tiny)
    out = provider.score(StepInputs(seqs, [P], group_size=3), frozenset({"process_labels"}))
    labels = out["process_labels"]
    assert labels.shape == response_ids.shape and labels.dtype == torch.long
    assert (labels[0][response_mask[0]] == 1).all()
    assert (labels[~response_mask] == -1).all()
    assert labels[1].tolist().count(0) == 8 and labels[2].tolist().count(0) == 1
    shares = provider.metrics(None, None)
    assert shares["process/correct"] == pytest.approx(1 / 3)
    assert shares["process/wrong"] == pytest.approx(2 / 3)


def test_step_check_rejects_inconsistent_verdicts():
    with pytest.raises(ValueError, match="needs a span"):
        StepCheck("wrong")
    with pytest.raises(ValueError, match="has a span"):
        StepCheck("correct", 0, (0, 1), "result")
