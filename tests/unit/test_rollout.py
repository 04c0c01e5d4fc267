"""Sampling and scoring agree with each other and with transformers.generate."""

import pytest
import torch

from creditzoo.data.arith import test_split as arith_split
from creditzoo.data.prompts import PromptRenderer
from creditzoo.models.factory import build_model
from creditzoo.rollout.hf import HFSampler
from creditzoo.rollout.scoring import score_tokens
from creditzoo.rollout.sequences import pad_right, response_mask_from_eos, trim_right


def test_response_mask_stops_after_first_eos() -> None:
    # EOS = 2, pad = 0. Row 0 ends at index 1 (EOS kept); row 1 has no EOS (all 3 kept);
    # row 2 starts with EOS and generate padded after it.
    ids = torch.tensor([[5, 2, 0, 0], [5, 6, 7, 0], [2, 0, 0, 0]])
    mask = response_mask_from_eos(ids[:, :3], eos_ids=[2], pad_id=0)
    assert mask.tolist() == [[True, True, False], [True, True, True], [True, False, False]]
    trimmed_ids, trimmed_mask = trim_right(
        ids, torch.tensor([[1, 1, 0, 0], [1, 1, 1, 0], [1, 0, 0, 0]]).bool()
    )
    assert trimmed_ids.shape == (3, 3) and trimmed_mask.shape == (3, 3)


@pytest.fixture(scope="module")
def tiny():
    model, tokenizer = build_model("tiny")
    return model, tokenizer, PromptRenderer(tokenizer)


def test_pad_right_stacks_rows_of_different_lengths() -> None:
    ids, mask = pad_right([torch.tensor([4, 5, 6]), torch.tensor([], dtype=torch.long)], value=9)
    assert ids.tolist() == [[4, 5, 6], [9, 9, 9]]
    assert mask.tolist() == [[True, True, True], [False, False, False]]
    values, _ = pad_right([torch.tensor([], dtype=torch.float32)])  # width is at least 1
    assert values.dtype == torch.float32 and values.tolist() == [[0.0]]


def test_batched_greedy_equals_one_by_one(tiny) -> None:
    """Left padding does not change what the model generates."""
    model, tokenizer, render = tiny
    sampler = HFSampler(model, tokenizer)
    problems = arith_split("id", 6)
    prompts = [render(p) for p in problems]
    batched = sampler.generate(prompts, max_new_tokens=40, temperature=0.0)
    for i, prompt in enumerate(prompts):
        single = sampler.generate([prompt], max_new_tokens=40, temperature=0.0)
        assert single.texts[0] == batched.texts[i]
    assert all(t.strip() for t in batched.texts)
    # Every finished row's mask ends on the EOS token.
    for ids, mask in zip(batched.response_ids, batched.response_mask, strict=True):
        last = int(mask.nonzero().max())
        assert int(ids[last]) == tokenizer.eos_token_id or last == 39


def test_scoring_matches_generate_logits(tiny) -> None:
    """The behaviour pass recovers the sampling distribution's log-probs of the sampled tokens."""
    model, tokenizer, render = tiny
    sampler = HFSampler(model, tokenizer)
    prompts = [render(p) for p in arith_split("id", 4)]
    ids, mask = sampler.encode_prompts(prompts)
    torch.manual_seed(0)
    temperature = 0.7
    with torch.no_grad():
        out = model.generate(
            input_ids=ids,
            attention_mask=mask.long(),
            max_new_tokens=12,
            do_sample=True,
            temperature=temperature,
            top_k=0,
            top_p=1.0,
            output_logits=True,
            return_dict_in_generate=True,
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=tokenizer.eos_token_id,
        )
    response = out.sequences[:, ids.shape[1] :]
    response_mask = response_mask_from_eos(
        response, [tokenizer.eos_token_id], tokenizer.pad_token_id
    )
    logits = torch.stack(out.logits, dim=1) / temperature
    expected = torch.log_softmax(logits, -1).gather(-1, response[..., None]).squeeze(-1)
    with torch.no_grad():
        scores = score_tokens(
            model, ids, mask, response, response_mask, temperature=temperature, with_entropy=True
        )
    got, entropy = scores.logprobs, scores.entropy
    torch.testing.assert_close(got[response_mask], expected[response_mask], atol=1e-4, rtol=1e-4)
    assert torch.all(got[~response_mask] == 0) and torch.all(entropy >= 0)
