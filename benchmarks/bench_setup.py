"""The benchmark's model, tokenizer and prompts (research/perf-anchor.md, model M).

A byte-level BPE (vocab 1024) trained on 10k synthetic strings, wrapped in a fast tokenizer with
the chat template ``<|user|>{content}<|eos|><|assistant|>`` (left padding), and a random-weight
``Qwen2ForCausalLM`` (hidden 256, 6 layers, 8 heads, 4 kv heads, ffn 1024, tied; 6,166,784
parameters, seed 0). Built once into a directory and reused; every engine loads the same files.
``raw_generate`` is the baseline every rollout race runs (bench.py, gpu_check.py).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from creditzoo.data.problem import Problem

SPECIALS = ["<|pad|>", "<|bos|>", "<|eos|>", "<|user|>", "<|assistant|>"]
CHAT_TEMPLATE = (
    "{% for m in messages %}<|user|>{{ m['content'] }}<|eos|>{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)
QUESTION = "What is {a} {o1} {b} {o2} {c}? Put the answer in \\boxed{{}}."
MODELS = {
    "M": dict(
        hidden_size=256,
        num_hidden_layers=6,
        num_attention_heads=8,
        num_key_value_heads=4,
        intermediate_size=1024,
    ),
}


def problem(rng: random.Random, i: int) -> Problem:
    a, b, c = (rng.randint(1, 99) for _ in range(3))
    o1, o2 = rng.choice("+-*"), rng.choice("+-*")
    answer = str(eval(f"{a}{o1}{b}{o2}{c}"))
    return Problem(
        uid=f"bench-{i}",
        problem=QUESTION.format(a=a, o1=o1, b=b, o2=o2, c=c),
        answer=answer,
        solution=f"The answer is \\boxed{{{answer}}}.",
    )


def problems(n: int, seed: int = 1) -> list[Problem]:
    rng = random.Random(seed)
    return [problem(rng, i) for i in range(n)]


def build(out: str | Path, size: str = "M") -> Path:
    """Tokenizer + random model into ``out`` (idempotent)."""
    out = Path(out)
    if (out / "config.json").exists() and (out / "tokenizer.json").exists():
        return out
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    rng = random.Random(0)
    texts = [problem(rng, i).problem for i in range(5000)]
    texts += [problem(rng, i).solution for i in range(5000)]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=1024,
        special_tokens=SPECIALS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        pad_token="<|pad|>",
        bos_token="<|bos|>",
        eos_token="<|eos|>",
        padding_side="left",
    )
    fast.chat_template = CHAT_TEMPLATE
    fast.save_pretrained(out)
    torch.manual_seed(0)
    config = Qwen2Config(
        vocab_size=1024,
        tie_word_embeddings=True,
        max_position_embeddings=512,
        pad_token_id=fast.pad_token_id,
        bos_token_id=fast.bos_token_id,
        eos_token_id=fast.eos_token_id,
        **MODELS[size],
    )
    model = Qwen2ForCausalLM(config)
    model.generation_config.eos_token_id = fast.eos_token_id
    model.generation_config.pad_token_id = fast.pad_token_id
    model.save_pretrained(out)
    (out / "bench_model.json").write_text(
        json.dumps({"size": size, "params": sum(p.numel() for p in model.parameters())})
    )
    return out


def raw_generate(model, tokenizer, ids, mask, new_tokens: int) -> int:
    """Plain ``model.generate`` sampling exactly ``new_tokens`` per row (EOS forbidden before);
    the tokens it made. ``top_k=0, top_p=1``: the static engine's distribution."""
    import torch

    with torch.no_grad():
        out = model.generate(
            input_ids=ids.to(model.device),
            attention_mask=mask.long().to(model.device),
            do_sample=True,
            temperature=1.0,
            top_k=0,
            top_p=1.0,
            max_new_tokens=new_tokens,
            min_new_tokens=new_tokens,
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=tokenizer.eos_token_id,
            disable_compile=True,
        )
    return int(out.shape[0] * (out.shape[1] - ids.shape[1]))
