"""rollout=static samples exactly as transformers.generate does, with less overhead per token."""

import pytest
import torch

from creditzoo.data.arith import test_split as arith_split
from creditzoo.data.prompts import PromptRenderer
from creditzoo.models.factory import build_model
from creditzoo.rollout.hf import HFSampler
from creditzoo.rollout.sampler import build_sampler
from creditzoo.rollout.scoring import score_tokens
from creditzoo.rollout.static import StaticCacheSampler


@pytest.fixture(scope="module")
def tiny():
    model, tokenizer = build_model("tiny")
    render = PromptRenderer(tokenizer)
    # 1-4 operators: prompts of different lengths, so rows are left-padded differently.
    prompts = [render(p) for p in arith_split("id", 12)]
    return model, tokenizer, prompts


@pytest.mark.parametrize("cache", ["static", "dynamic"])
def test_greedy_equals_generate(tiny, cache: str) -> None:
    model, tokenizer, prompts = tiny
    expected = HFSampler(model, tokenizer).generate(prompts, max_new_tokens=40, temperature=0.0)
    got = StaticCacheSampler(model, tokenizer, cache=cache).generate(
        prompts, max_new_tokens=40, temperature=0.0
    )
    assert torch.equal(got.prompt_ids, expected.prompt_ids)
    assert torch.equal(got.response_ids, expected.response_ids)
    assert torch.equal(got.response_mask, expected.response_mask)
    assert got.texts == expected.texts
    assert len(set(expected.texts)) > 1 and any(t.strip() for t in expected.texts)


def test_sampling_draws_generates_tokens_and_reports_their_logprobs(tiny) -> None:
    """Same seed, same tokens as generate (same softmax, same multinomial calls); the engine's
    log-probs are the policy's at the sampling temperature."""
    model, tokenizer, prompts = tiny
    torch.manual_seed(7)
    expected = HFSampler(model, tokenizer).generate(prompts, max_new_tokens=32, temperature=1.3)
    torch.manual_seed(7)
    got = build_sampler("static", model, tokenizer).generate(
        prompts, max_new_tokens=32, temperature=1.3
    )
    assert torch.equal(got.response_ids, expected.response_ids)
    # Decoded under inference mode, handed back as ordinary tensors the training pass can use.
    assert not any(t.is_inference() for t in (got.response_ids, got.logprobs, got.prompt_ids))
    with torch.no_grad():
        scores = score_tokens(
            model,
            got.prompt_ids,
            got.prompt_mask,
            got.response_ids,
            got.response_mask,
            temperature=1.3,
        )
    assert got.logprobs is not None and got.logprobs.shape == got.response_ids.shape
    torch.testing.assert_close(got.logprobs, scores.logprobs, atol=1e-4, rtol=0)
    assert float(got.logprobs.masked_fill(got.response_mask, 0.0).abs().sum()) == 0.0


def test_first_token_frequencies_match_the_policy(tiny) -> None:
    model, tokenizer, prompts = tiny
    n, temperature = 8192, 3.0
    sampler = StaticCacheSampler(model, tokenizer)
    torch.manual_seed(0)
    seqs = sampler.generate([prompts[0]] * n, max_new_tokens=1, temperature=temperature)
    ids, mask = sampler.encode_prompts(prompts[:1])
    with torch.no_grad():
        logits = model(input_ids=ids, attention_mask=mask.long()).logits[0, -1]
    probs = torch.softmax(logits / temperature, dim=-1)
    freq = torch.bincount(seqs.response_ids[:, 0], minlength=probs.numel()).float() / n
    assert probs.max() < 0.8  # the check has something to check
    # Total variation to the policy, against that of a sample drawn from it directly.
    reference = torch.bincount(
        torch.multinomial(probs, n, replacement=True), minlength=freq.numel()
    )
    tv = float((freq - probs).abs().sum() / 2)
    tv_reference = float((reference.float() / n - probs).abs().sum() / 2)
    assert tv < max(2 * tv_reference, 0.02), (tv, tv_reference)
    # A wrong temperature is far off.
    assert float((freq - torch.softmax(logits, -1)).abs().sum() / 2) > 5 * tv


def test_min_new_tokens_and_early_stop(tiny) -> None:
    model, tokenizer, prompts = tiny
    eos = tokenizer.eos_token_id
    free = StaticCacheSampler(model, tokenizer).generate(
        prompts, max_new_tokens=120, temperature=0.0
    )
    # Every row ended: the loop stopped there, not at the budget.
    assert free.response_ids.shape[1] < 120
    rows = zip(free.response_ids, free.response_mask, strict=True)
    assert all(int(r[m][-1]) == eos for r, m in rows)
    forced = StaticCacheSampler(model, tokenizer, min_new_tokens=24).generate(
        prompts, max_new_tokens=24, temperature=1.0
    )
    assert forced.response_mask.all() and forced.response_ids.shape[1] == 24
    assert not (forced.response_ids == eos).any()


def test_unknown_cache_is_rejected(tiny) -> None:
    model, tokenizer, _ = tiny
    with pytest.raises(ValueError, match=r"rollout\.cache"):
        StaticCacheSampler(model, tokenizer, cache="paged")
